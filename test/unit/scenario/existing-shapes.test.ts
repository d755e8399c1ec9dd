/**
 * The existing shapes stay byte-identical when the generator grows: their eval figures (and the bundled demo)
 * must remain comparable before and after a change. The hashes were last computed when the scenario's addresses
 * moved into real networks (cli/scenario/network-extract.tsv): the same people, days, logons and attacks (the
 * same successes), at addresses in real ranges; only the internet noise's failures differ beyond their addresses,
 * since drawing a noise address takes another number of random draws than it did. The labels' hashes moved once more
 * when the internet noise's guessing at the organisation's real names was labelled (`failed-spray`, expected), the
 * events unchanged. A change that moves them
 * changes what every published figure was measured on, and must say so (and update README's figures).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateScenario, scenarioLabels, type ScenarioShape } from '../../../cli/scenario/generate';

const PINNED: readonly (readonly [ScenarioShape, number, string, string])[] = [
  [
    'small-office',
    12_573,
    'ca7878e588525e23ff4cf6d84dbd4f4d5e58f378fe5d131a97f891bc254da01f',
    'bf42203a14012172c09ad6d097894d40e20da6295de8b551f255748e8bde8d55',
  ],
  [
    'large-mobile',
    108_906,
    '08cdd7337e9888677b8f43b85270de28a86d1bdbd4c09df12d59feea7b8b597d',
    'a7e8fa887d50900eb005ef898ce9c7767d9bc33ec200c3cbe320474b3861f055',
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
