/**
 * The bundled demo sample behind `npm start`: one generated small office, written as sshd lines
 * (`examples/demo/auth.log`) with its ground truth beside it (`examples/demo/labels.json`) and the owners of its
 * addresses (`examples/demo/network-data.tsv`: the scenario's network data, real ranges of the networks its
 * addresses are drawn from, in IPtoASN's format, which has no room for a comment; NOTICE says what it is and
 * whose data it is).
 *
 * The files are committed so `npm start` needs nothing but the repository; `npm run demo:regen`
 * rewrites them from this seed, and a test checks that the committed files are exactly what the
 * generator gives, so the sample can never drift from the code that documents it.
 */
import { generateScenario, scenarioLabels, type ScenarioLabels, type ScenarioOptions } from './generate';
import { scenarioNetworkRows } from './network-data';
import { scenarioLines } from './writers';

export const DEMO_OPTIONS: ScenarioOptions = { seed: 7, shape: 'small-office', days: 42, learningDays: 14 };
export const DEMO_PROFILE = 'sshd';

export interface DemoSample {
  /** The log file's text: one sshd line per logon, newline-terminated. */
  readonly log: string;
  readonly labels: ScenarioLabels;
  /** network-data.tsv's text: IPtoASN rows, newline-terminated. */
  readonly networkData: string;
}

export function demoSample(): DemoSample {
  const s = generateScenario(DEMO_OPTIONS);
  return {
    log: scenarioLines(s, DEMO_PROFILE).join('\n') + '\n',
    labels: scenarioLabels(s),
    networkData: scenarioNetworkRows().join('\n') + '\n',
  };
}

/** labels.json exactly as committed (stable key order from the generator, two-space indent). */
export function labelsJson(labels: ScenarioLabels): string {
  return JSON.stringify(labels, null, 2) + '\n';
}
