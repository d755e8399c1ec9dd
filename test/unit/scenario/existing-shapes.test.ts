/**
 * The existing shapes stay byte-identical when the generator grows: their eval figures (and the bundled demo)
 * must remain comparable before and after a change. The hashes were last computed when the scenario's addresses
 * moved into real networks (cli/scenario/network-extract.tsv): the same people, days and attacks, drawn from
 * real ranges, which also changed how many draws the attackers' and the internet noise's addresses take, and so
 * the noise's events. A change that moves them changes what every published figure was measured on, and must
 * say so (and update README's figures).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateScenario, scenarioLabels, type ScenarioShape } from '../../../cli/scenario/generate';

const PINNED: readonly (readonly [ScenarioShape, number, string, string])[] = [
  [
    'small-office',
    12_572,
    '183754a15a007d7edf995583e5b743d06f081331010e37a06c30893581274a7b',
    '6cbc7107825d2cc1b0f3f77a9af168764da215f4cd6597b0e0322afcda2fb929',
  ],
  [
    'large-mobile',
    108_911,
    'e07b86b87eeadf05c77a5e381455e4cb4d769e3af1f7b95f4cd6fc23e6ebccf1',
    '2eb25c032435112b5a7894f2d52403f299995edc4d34c307dd4e5231e4dd0c00',
  ],
];

function sha256(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

describe('existing scenario shapes are unchanged (seed 1)', () => {
  it.each(PINNED)('%s: same events and labels as before', (shape, events, eventsHash, labelsHash) => {
    const s = generateScenario({ seed: 1, shape });
    expect(s.events.length).toBe(events);
    expect(sha256(s.events)).toBe(eventsHash);
    expect(sha256(scenarioLabels(s))).toBe(labelsHash);
  });
});
