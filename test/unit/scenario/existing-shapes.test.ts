/**
 * The existing shapes stay byte-identical when the generator grows: their eval figures (and the bundled demo)
 * must remain comparable before and after a change. The hashes were last computed when the scenario's addresses
 * moved into real networks (cli/scenario/network-extract.tsv): the same people, days, logons and attacks (the
 * same successes), at addresses in real ranges; only the internet noise's failures differ beyond their addresses,
 * since drawing a noise address takes another number of random draws than it did. A change that moves them
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
    '939078994471f874a440a0982ba511f25b0f2c7893d1349c7ecdf88a91b2419c',
  ],
  [
    'large-mobile',
    108_906,
    '08cdd7337e9888677b8f43b85270de28a86d1bdbd4c09df12d59feea7b8b597d',
    '4db052bd29f0cc76a7421a0dcb7fd5cf65ee64018c443c291d300ee8c2ac3cc2',
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
