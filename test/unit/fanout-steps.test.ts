import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryStaging } from '../../shared/adapters/directory-staging';
import { BUCKET_MS, DAY_MS, type UserBaseline } from '../../shared/core/model';
import { runDetection, type DetectionDeps } from '../../shared/run-detection';
import type { RunRef } from '../../shared/steps/contract';
import { createRunSteps } from '../../shared/steps/run-steps';
import { HOUR, T0 } from '../support/history';
import { attackDays as events, deps } from '../support/pipeline';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * One window as the state machine runs it: every step in a process of its own (fresh steps, nothing kept between
 * them but the table and the staged data), the map steps in reverse order to show no step relies on another's order.
 */
async function fanout(d: DetectionDeps, windowEnd: number, shardCount: number): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), 'authwatch-fanout-test-'));
  dirs.push(root);
  const staging = new DirectoryStaging(root);
  const step = () => createRunSteps(d, staging, { shardCount });
  const plan = await step().plan({ windowEnd });
  // What Step Functions carries from step to step: JSON.
  const run = JSON.parse(JSON.stringify(plan)) as RunRef;
  const shards = [...plan.shards].reverse();
  for (const g of plan.sourceGroups) await step().fetch(run, g);
  for (const s of shards) await step().evaluate(run, s);
  await step().deliver(run);
  for (const s of shards) await step().learn(run, s);
  await step().commit(run);
  for (const s of shards) await step().write(run, s);
  return step().finish(run);
}

describe('the steps run as the fan-out runs them', () => {
  it('alert and learn as the single run does, each step in a fresh process, in 4 shards', async () => {
    const all = events(17);
    const single = deps(all);
    const fanned = deps(all);
    const end = T0 + 17 * DAY_MS;
    // The same history in both (the single run), then the last day and a half, with the attacks, fanned out.
    const from = end - 36 * HOUR;
    for (let t = T0 + BUCKET_MS; t <= end; t += BUCKET_MS) {
      await runDetection(single.d, { windowEnd: t });
      if (t < from) await runDetection(fanned.d, { windowEnd: t });
      else await fanout(fanned.d, t, 4);
    }
    const ids = (s: typeof single.sink) => s.delivered.map((a) => `${a.rule.id} ${a.user.name} ${a.source.ip}`).sort();
    expect(ids(fanned.sink)).toEqual(ids(single.sink));
    expect(ids(single.sink)).toEqual(
      expect.arrayContaining([
        'Auth.UnusualSourceIp user7 203.0.113.9',
        expect.stringMatching(/^Auth\.RareUser backdoor /),
      ]),
    );
    const users = [...Array.from({ length: 30 }, (_, u) => `user${u}`), 'backdoor'];
    const strip = (m: Map<string, UserBaseline>) =>
      [...m.values()].map(({ version: _v, ...b }) => b).sort((a, b) => a.user.localeCompare(b.user));
    expect(strip(await fanned.store.getUsers(users))).toEqual(strip(await single.store.getUsers(users)));
    expect((await fanned.store.getRunState())!.lastWindowEnd).toBe(end);
    // The lease was given up and nothing is left staged.
    expect((await fanned.store.acquireLease({ owner: 'next', expiresAtMs: end + 1 }, end)).acquired).toBe(true);
  }, 120_000);
});
