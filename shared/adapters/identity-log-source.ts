/**
 * A log source whose observations are under the operator's identities (core/identity.ts): the wrapped source's
 * observations, each user replaced by its identity and those that now coincide merged, so every later stage (the
 * detectors, the baselines, the alerts) sees one person where the rules say so and nothing else changes. The
 * composition roots wrap their sources with it when `identities` are configured; without rules they do not wrap.
 */
import { applyIdentities, type IdentityRules } from '../core/identity';
import type { TimeWindow } from '../core/model';
import type { LogSource, LogSourceResult } from '../ports/log-source';

/** `source` with its observations under `identify`; its name and stats unchanged (rows read are rows read). */
export function withIdentities(source: LogSource, identify: IdentityRules): LogSource {
  return {
    name: source.name,
    async fetch(window: TimeWindow): Promise<LogSourceResult> {
      const r = await source.fetch(window);
      return { ...r, observations: applyIdentities(r.observations, identify) };
    },
  };
}
