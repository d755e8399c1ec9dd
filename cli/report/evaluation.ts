/**
 * An evaluation's report: the JSON `npm run eval` writes (`--json <file>`, or its standard output) read back, and
 * turned into the comparison the page shows: recall and false alerts per scenario and per detector, beside the
 * naive rules. Pure. The file is checked against the fields read (a hand-edited or truncated file gets a clear
 * error naming the field, not a page of NaN); fields not read are ignored, so a newer eval's extra figures pass.
 */
import * as z from 'zod';
import { DETECTORS } from '../../shared/core/detectors';
import { formatIssues } from '../../shared/core/settings';
import { ConfigError } from '../../shared/errors';
import { type EvalRow, type EvalView, type ReportModel, reportDetectors, safe } from './model';

const count = z.number().int().min(0);
const recall = z.number().min(0).max(1).nullable();
const kindRecall = z.object({ total: count, detected: count, recall });

/** One rule's figures over all scenarios (cli/eval.ts `summary`). */
const summary = z.object({
  recall,
  incidents: count,
  detected: count,
  alerts: count,
  falseAlerts: count,
  expectedNovelty: count,
  noise: count,
  byDetector: z
    .record(
      z.string(),
      z.object({ alerts: count, onIncidents: count, expectedNovelty: count, noise: count, recall, detected: count }),
    )
    .optional(),
});

const scenario = z.object({
  seed: z.number(),
  shape: z.string(),
  users: count,
  authwatch: z.object({
    recall: kindRecall,
    alerts: count,
    falseAlerts: z.object({ total: count, expectedNovelty: count, noise: count }),
  }),
  naive: z.object({ recall: kindRecall, alerts: count, falseAlerts: count }),
  naiveFailures: z.record(z.string(), z.object({ recall: kindRecall, alerts: count, falseAlerts: count })).optional(),
});

/** The fields of `npm run eval`'s JSON the report reads. */
export const evalOutputSchema = z.object({
  format: z.string().optional(),
  seeds: z.array(z.number()).optional(),
  shapes: z.array(z.string()).optional(),
  networkData: z.string().nullable().optional(),
  authwatch: summary,
  naive: summary,
  naiveFailures: z.record(z.string(), summary).optional(),
  targets: z.record(z.string(), z.object({ target: z.string(), value: z.unknown(), met: z.boolean() })).optional(),
  scenarios: z.array(scenario),
});
export type EvalOutput = z.infer<typeof evalOutputSchema>;

/** Parse an evaluation's JSON; `where` names the file in the error. */
export function parseEvalOutput(json: unknown, where: string): EvalOutput {
  const r = evalOutputSchema.safeParse(json);
  if (!r.success)
    throw new ConfigError(
      formatIssues(r.error.issues).map((m) => `${where} is not the JSON npm run eval writes: ${m}`),
    );
  return r.data;
}

function row(
  name: string,
  r: { total: number; detected: number; recall: number | null },
  alerts: number,
  falseAlerts: number,
  expected: number | null,
  noise: number | null,
): EvalRow {
  return { name, attacks: r.total, detected: r.detected, recall: r.recall, alerts, falseAlerts, expected, noise };
}

/** `npm run eval`'s JSON as the page shows it. */
export function evalView(e: EvalOutput): EvalView {
  const failureRules = Object.keys(e.naiveFailures ?? {});
  const rules = ['authwatch', 'naive', ...failureRules];
  const scenarios = e.scenarios.map((s) => {
    const byRule: Record<string, EvalRow> = {
      authwatch: row(
        'authwatch',
        s.authwatch.recall,
        s.authwatch.alerts,
        s.authwatch.falseAlerts.total,
        s.authwatch.falseAlerts.expectedNovelty,
        s.authwatch.falseAlerts.noise,
      ),
      naive: row('naive', s.naive.recall, s.naive.alerts, s.naive.falseAlerts, null, null),
    };
    for (const [id, f] of Object.entries(s.naiveFailures ?? {}))
      byRule[id] = row(id, f.recall, f.alerts, f.falseAlerts, null, null);
    return { name: safe(`${s.shape} #${s.seed}`), users: s.users, byRule };
  });
  const total = (x: z.infer<typeof summary>) => ({ total: x.incidents, detected: x.detected, recall: x.recall });
  const a = e.authwatch;
  const detectors: (EvalRow & { kind: 'all' | 'detector' | 'naive' })[] = [
    { kind: 'all', ...row('authwatch (all detectors)', total(a), a.alerts, a.falseAlerts, a.expectedNovelty, a.noise) },
  ];
  for (const d of DETECTORS) {
    const f = a.byDetector?.[d.id];
    if (!f) continue;
    detectors.push({
      kind: 'detector',
      ...row(
        d.shortLabel,
        { total: a.incidents, detected: f.detected, recall: f.recall },
        f.alerts,
        f.expectedNovelty + f.noise,
        f.expectedNovelty,
        f.noise,
      ),
    });
  }
  const naiveRow = (name: string, n: z.infer<typeof summary>) => ({
    kind: 'naive' as const,
    ...row(name, total(n), n.alerts, n.falseAlerts, n.expectedNovelty, n.noise),
  });
  detectors.push(naiveRow('naive: every new (user, IP) pair', e.naive));
  for (const [id, n] of Object.entries(e.naiveFailures ?? {})) detectors.push(naiveRow(`naive: ${id}`, n));
  const targets = Object.entries(e.targets ?? {}).map(([name, t]) => ({
    name: safe(name),
    target: safe(t.target),
    value: safe(t.value === null || t.value === undefined ? '-' : String(t.value)),
    met: t.met,
  }));
  return { rules: rules.map((r) => safe(r)), scenarios, detectors, targets };
}

/** The report of an evaluation (`source`: where its JSON was read from). */
export function evalReport(e: EvalOutput, source: string): ReportModel {
  const view = evalView(e);
  const a = e.authwatch;
  const pct = (r: number | null) => (r === null ? '-' : `${Math.round(r * 100)}%`);
  return {
    title: 'authwatch evaluation',
    source: safe(source, 300),
    summary: [
      ['scenarios', String(e.scenarios.length)],
      ...(e.format ? [['log format', safe(e.format)] as const] : []),
      ['network data', safe(e.networkData ?? 'none')],
      ['attacks', `${a.incidents}, alerted ${a.detected} (recall ${pct(a.recall)})`],
      ['alerts', `${a.alerts}: ${a.falseAlerts} false (${a.expectedNovelty} expected novelty, ${a.noise} noise)`],
      [
        'naive rule (every new user-IP pair)',
        `${e.naive.alerts} alerts, ${e.naive.falseAlerts} false, recall ${pct(e.naive.recall)}`,
      ],
    ],
    detectors: reportDetectors({}),
    alerts: [],
    scores: [],
    users: [],
    usersNotShown: 0,
    evaluation: view,
    notes: [
      "An evaluation scores alerts against the scenarios' labels; it keeps no alert scores, so this page has no timeline or score distribution (a replay's report has).",
    ],
  };
}
