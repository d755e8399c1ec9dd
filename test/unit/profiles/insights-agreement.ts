/**
 * The query ↔ parser agreement over a profile's own fixture lines: the profile's Logs Insights query text, run by
 * the emulator in test/support over the very lines the line parser reads, must find the same logons, row by row
 * through `mapRow`: the same (user, address, outcome) with the same count and the same first and last times.
 */
import { expect, it } from 'vitest';
import { aggregateEvents, mergeObservations } from '../../../shared/core/aggregate';
import type { LogonObservation } from '../../../shared/core/model';
import type { Profile } from '../../../shared/core/profiles';
import { runInsightsQuery } from '../../support/insights-emulator';
import type { FixtureLine } from './support';

/** The time CloudWatch Logs gives a log event the parser does not read as a logon (only logons are aggregated). */
const INGESTED = Date.UTC(2026, 10, 2, 12);
const ALL_TIME = { start: Date.UTC(2000, 0, 1), end: Date.UTC(2100, 0, 1) };

function byKey(observations: readonly LogonObservation[]): Record<string, [number, number, number]> {
  const out: Record<string, [number, number, number]> = {};
  for (const o of observations) out[`${o.outcome} ${o.user} ${o.sourceIp}`] = [o.count, o.firstSeen, o.lastSeen];
  return out;
}

/**
 * `lines`: the fixture lines to run both ways. Leave out the lines the parser cannot place in time (a year-less
 * stamp, an implausible one): Insights reads those by the event's own `@timestamp`, so only it counts them.
 */
export function itAgreesWithItsQuery(profile: Profile, lines: readonly FixtureLine[]): void {
  it('its Logs Insights query finds the same logons as the line parser in the same lines, row by row', () => {
    const parsed = lines.map((l) => ({ line: l.line, result: profile.parseLine(l.line) }));
    const events = parsed.flatMap((p) => (p.result.kind === 'event' ? [p.result.event] : []));
    expect(events.length).toBeGreaterThan(0);
    const rows = runInsightsQuery(
      profile.query,
      parsed.map((p) => ({
        message: p.line,
        timestamp: p.result.kind === 'event' ? p.result.event.timestamp : INGESTED,
      })),
    );
    const mapped = rows.map((row) => profile.mapRow(row));
    const fromQuery = mergeObservations(mapped.flatMap((m) => (m.kind === 'observation' ? [m.observation] : [])));
    expect(byKey(fromQuery)).toEqual(byKey(aggregateEvents(events, ALL_TIME)));
    // A line the parser finds malformed (a bad address, no name) is a row the mapper finds malformed, never a logon.
    const malformedLines = parsed.filter((p) => p.result.kind === 'malformed').length;
    expect(mapped.filter((m) => m.kind === 'malformed').length).toBeLessThanOrEqual(malformedLines);
  });
}
