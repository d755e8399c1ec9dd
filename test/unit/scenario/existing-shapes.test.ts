/**
 * The existing shapes stay byte-identical when the generator grows: their eval figures (and the bundled demo)
 * must remain comparable before and after a change. The hashes were computed from the generator before the
 * `office-hours` shape, its incident kind and its look-alikes were added; a change that moves them changes what
 * every published figure was measured on, and must say so (and update README's figures).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateScenario, scenarioLabels, type ScenarioShape } from '../../../cli/scenario/generate';

const PINNED: readonly (readonly [ScenarioShape, number, string, string])[] = [
  [
    'small-office',
    12_241,
    '6ea8fd5d0d546f3f6cb87aa40a6ba529318a5a6d0aa9bca08f1aafb5a50a52df',
    'cc8101d34dc5c6fe1ac61a427dcf724caeb53755c12c89501720ffa23cdc22ed',
  ],
  [
    'large-mobile',
    108_704,
    '1257e1d200030c3a151704195172fb3a20d8c6ae4180734d9d045fc342aff36d',
    '0e2aaa27167ed0d1d93483ef07ba93b4f14167d807b3982d42085d6503750cc0',
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
