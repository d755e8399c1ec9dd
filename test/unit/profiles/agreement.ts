/**
 * The query ↔ line parser agreement of one profile, on its own fixture lines: the profile's Logs Insights query text,
 * run by the emulator in test/support over the lines as log events, must yield (through `mapRow` and the merge of
 * rows) exactly the observations the line parser's events aggregate to locally: same (user, address, outcome), same
 * count, times, hosts and identity-provider signals.
 */
import { expect, it } from 'vitest';
import { aggregateEvents, mergeObservations } from '../../../shared/core/aggregate';
import type { LogonObservation } from '../../../shared/core/model';
import type { Profile } from '../../../shared/core/profiles';
import { runInsightsQuery } from '../../support/insights-emulator';

const WINDOW = { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 10, 3) };
/** The time CloudWatch Logs gives a log event the parser does not read as a logon. */
const INGESTED = Date.UTC(2026, 10, 2, 12);

function comparable(observations: readonly LogonObservation[]) {
  return observations
    .map((o) => ({
      key: `${o.outcome} ${o.user} ${o.sourceIp}`,
      count: o.count,
      firstSeen: o.firstSeen,
      lastSeen: o.lastSeen,
      hosts: o.hosts,
      signals: o.signals,
    }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * `lines`: the fixture lines. A document whose own time cannot be read is left out: the query never reads a
 * document's time (it aggregates CloudWatch's `@timestamp`, set when the event was delivered), so such a line is
 * malformed locally and a logon at its delivery time in Insights, by design for every JSON profile.
 */
export function itAgreesWithItsQuery(profile: Profile, lines: readonly string[]): void {
  it('its Logs Insights query yields the same observations as the line parser (emulated Insights)', () => {
    const parsed = lines
      .map((line) => ({ line, result: profile.parseLine(line) }))
      .filter((p) => !(p.result.kind === 'malformed' && p.result.reason.endsWith('without a valid time')));
    const local = aggregateEvents(
      parsed.flatMap((p) => (p.result.kind === 'event' ? [p.result.event] : [])),
      WINDOW,
    );
    const rows = runInsightsQuery(
      profile.query,
      parsed.map((p) => ({
        message: p.line,
        timestamp: p.result.kind === 'event' ? p.result.event.timestamp : INGESTED,
      })),
    );
    const remote = mergeObservations(
      rows.flatMap((row) => {
        const r = profile.mapRow(row);
        return r.kind === 'observation' ? [r.observation] : [];
      }),
    );
    expect(local.length).toBeGreaterThan(0);
    expect(comparable(remote)).toEqual(comparable(local));
  });
}
