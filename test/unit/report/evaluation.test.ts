import { describe, expect, it } from 'vitest';
import { evalReport, evalView, parseEvalOutput } from '../../../cli/report/evaluation';
import { renderReport } from '../../../cli/report/html';
import { ConfigError } from '../../../shared/errors';

const kr = (total: number, detected: number) => ({ total, detected, recall: total > 0 ? detected / total : null });
const summary = (o: { incidents: number; detected: number; alerts: number; expected: number; noise: number }) => ({
  recall: o.incidents > 0 ? o.detected / o.incidents : null,
  incidents: o.incidents,
  detected: o.detected,
  alerts: o.alerts,
  falseAlerts: o.expected + o.noise,
  expectedNovelty: o.expected,
  noise: o.noise,
  onIncidents: o.alerts - o.expected - o.noise,
});

/** The shape `npm run eval` writes (cli/eval.ts), cut to two scenarios. */
const EVAL = {
  format: 'ecs',
  seeds: [1],
  shapes: ['small-office', 'large-mobile'],
  networkData: 'scenario extract',
  authwatch: {
    ...summary({ incidents: 20, detected: 19, alerts: 40, expected: 10, noise: 5 }),
    byDetector: {
      'Auth.RareUser': { alerts: 12, onIncidents: 8, expectedNovelty: 3, noise: 1, recall: 0.4, detected: 8 },
      'Auth.NoLongerRegistered': { alerts: 1, onIncidents: 0, expectedNovelty: 0, noise: 1, recall: 0, detected: 0 },
    },
  },
  naive: summary({ incidents: 20, detected: 15, alerts: 900, expected: 100, noise: 780 }),
  naiveFailures: { 'naive-failures-10': summary({ incidents: 20, detected: 3, alerts: 50, expected: 0, noise: 45 }) },
  naiveFalseAlertsPerOurs: 58.7,
  targets: { recall: { target: '≥ 0.9', value: 0.95, met: true }, noise: { target: '≤ 5', value: null, met: false } },
  scenarios: [
    {
      seed: 1,
      shape: 'small-office',
      users: 40,
      authwatch: { recall: kr(9, 9), alerts: 15, falseAlerts: { total: 6, expectedNovelty: 4, noise: 2 } },
      naive: { recall: kr(9, 7), alerts: 650, falseAlerts: 641 },
      naiveFailures: { 'naive-failures-10': { recall: kr(9, 1), alerts: 20, falseAlerts: 19 } },
    },
    {
      seed: 1,
      shape: '<b>large-mobile</b>',
      users: 400,
      authwatch: { recall: kr(11, 10), alerts: 25, falseAlerts: { total: 9, expectedNovelty: 6, noise: 3 } },
      naive: { recall: kr(11, 8), alerts: 250, falseAlerts: 239 },
    },
  ],
};

describe('parseEvalOutput', () => {
  it('reads what npm run eval writes, extra fields and all', () => {
    expect(parseEvalOutput(EVAL, 'e.json').scenarios).toHaveLength(2);
  });

  it('names the file and the field when the JSON is not an evaluation', () => {
    const broken = { ...EVAL, scenarios: [{ ...EVAL.scenarios[0], users: 'forty' }] };
    expect(() => parseEvalOutput(broken, '--eval e.json')).toThrow(ConfigError);
    try {
      parseEvalOutput(broken, '--eval e.json');
    } catch (e) {
      expect((e as ConfigError).issues.join(' ')).toMatch(
        /--eval e\.json is not the JSON npm run eval writes: .*scenarios\.0\.users/,
      );
    }
    expect(() => parseEvalOutput([], 'x')).toThrow(ConfigError);
  });
});

describe('evalView', () => {
  const v = evalView(parseEvalOutput(EVAL, 'e.json'));

  it('puts authwatch beside the naive rules for every scenario; a rule a scenario lacks is absent, not zero', () => {
    expect(v.rules).toEqual(['authwatch', 'naive', 'naive-failures-10']);
    const [office, mobile] = v.scenarios;
    expect(office!.byRule.authwatch).toMatchObject({ recall: 1, alerts: 15, falseAlerts: 6, expected: 4, noise: 2 });
    expect(office!.byRule.naive).toMatchObject({ detected: 7, falseAlerts: 641, expected: null, noise: null });
    expect(office!.byRule['naive-failures-10']).toMatchObject({ alerts: 20, falseAlerts: 19 });
    expect(mobile!.byRule['naive-failures-10']).toBeUndefined();
  });

  it('lists authwatch, its registered detectors, then the naive rules, over all scenarios', () => {
    expect(v.detectors.map((d) => [d.kind, d.name])).toEqual([
      ['all', 'authwatch (all detectors)'],
      ['detector', 'Rare user'],
      ['naive', 'naive: every new (user, IP) pair'],
      ['naive', 'naive: naive-failures-10'],
    ]);
    expect(v.detectors[1]).toMatchObject({ attacks: 20, detected: 8, falseAlerts: 4, expected: 3, noise: 1 });
    expect(v.targets).toEqual([
      { name: 'recall', target: '≥ 0.9', value: '0.95', met: true },
      { name: 'noise', target: '≤ 5', value: '-', met: false },
    ]);
  });
});

describe('evalReport', () => {
  it('renders the comparison with its charts, scenario names as text', () => {
    const page = renderReport(evalReport(parseEvalOutput(EVAL, 'e.json'), 'evaluation e.json'), 'window.Chart=1;');
    for (const id of ['chart-eval-recall', 'chart-eval-false', 'chart-eval-det-recall', 'chart-eval-det-false'])
      expect(page).toContain(`<canvas id="${id}"`);
    expect(page).toContain('&lt;b&gt;large-mobile&lt;/b&gt; #1');
    expect(page).not.toContain('<b>large-mobile');
    expect(page).toContain('NOT MET');
    expect(page).not.toContain('<canvas id="chart-timeline"');
    expect(page).not.toContain('id="timeline"');
  });
});
