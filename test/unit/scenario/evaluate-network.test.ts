import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { evaluateScenario } from '../../../cli/scenario/evaluate';
import { generateScenario } from '../../../cli/scenario/generate';
import { INTERNAL_NET8 } from '../../../cli/scenario/network';
import { SCENARIO_NETWORK_SOURCE } from '../../../cli/scenario/network-data';

// Two days of the small office, one of them learning: enough to replay every address through enrichment.
const TINY = { seed: 3, shape: 'small-office', days: 2, settings: { ...DEFAULT_SETTINGS, learningDays: 1 } } as const;

describe('evaluateScenario with the scenario network data', () => {
  it('enriches every replayed address from the scenario data by default (networkData: false leaves it out)', async () => {
    const events = generateScenario({ seed: TINY.seed, shape: TINY.shape, days: TINY.days, learningDays: 1 }).events;
    const addresses = new Set(events.map((e) => e.sourceIp));
    const internal = [...addresses].filter((ip) => ip.startsWith(`${INTERNAL_NET8}.`)).length;

    const r = await evaluateScenario(TINY);

    expect(r.network).toEqual({
      source: SCENARIO_NETWORK_SOURCE,
      addresses: addresses.size,
      known: addresses.size - internal,
    });
    expect(internal).toBeGreaterThan(0);
  }, 120_000);
});
