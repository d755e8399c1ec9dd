import { describe, expect, it } from 'vitest';
import {
  clockText,
  compileUserTimeZones,
  isTimeZone,
  isWeekend,
  localTime,
  weekdayName,
} from '../../../shared/core/local-time';
import { detectionSettingsSchema, formatIssues } from '../../../shared/core/settings';

describe('local time', () => {
  it('reads a UTC instant on the wall clock of an IANA zone, daylight saving included', () => {
    // New York: EST (UTC−5) until 2026-03-08 02:00 local, then EDT (UTC−4).
    expect(localTime(Date.parse('2026-03-06T14:30:00Z'), 'America/New_York')).toEqual({
      weekday: 5,
      hour: 9,
      minute: 30,
      offsetMinutes: -300,
    });
    expect(localTime(Date.parse('2026-03-09T13:30:00Z'), 'America/New_York')).toMatchObject({
      hour: 9,
      offsetMinutes: -240,
    });
    // The instant of the change itself: 06:59 UTC is 01:59 EST, 07:00 UTC is 03:00 EDT.
    expect(localTime(Date.parse('2026-03-08T06:59:00Z'), 'America/New_York')).toMatchObject({ hour: 1, minute: 59 });
    expect(localTime(Date.parse('2026-03-08T07:00:00Z'), 'America/New_York')).toMatchObject({ hour: 3, minute: 0 });
    // Berlin changes three weeks later; Kathmandu is +05:45 all year; the day can differ from UTC's.
    expect(localTime(Date.parse('2026-03-29T01:30:00Z'), 'Europe/Berlin')).toMatchObject({ hour: 3, minute: 30 });
    expect(localTime(Date.parse('2026-03-06T20:00:00Z'), 'Asia/Kathmandu')).toMatchObject({
      weekday: 6,
      hour: 1,
      minute: 45,
      offsetMinutes: 345,
    });
    expect(localTime(Date.parse('2026-03-06T20:00:00Z'), 'UTC')).toMatchObject({ weekday: 5, hour: 20 });
  });

  it('agrees with Intl for every quarter hour of a year in zones with odd offsets and transitions', () => {
    const zones = ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham'];
    for (const zone of zones) {
      const f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        hour: 'numeric',
        minute: 'numeric',
      });
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 7 * 3_600_000 + 15 * 60_000) {
        const parts = Object.fromEntries(f.formatToParts(t).map((p) => [p.type, p.value]));
        const local = localTime(t, zone);
        expect([local.hour, local.minute], `${zone} ${new Date(t).toISOString()}`).toEqual([
          Number(parts.hour),
          Number(parts.minute),
        ]);
      }
    }
  });

  it('knows IANA names and refuses anything else', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    expect(isTimeZone(' Europe/Berlin')).toBe(false);
  });

  it('gives each user the zone of the first matching pattern, else the deployment’s', () => {
    const zoneOf = compileUserTimeZones('Europe/Berlin', [
      { pattern: 'apac-*', timeZone: 'Asia/Singapore' },
      { pattern: 'APAC-ops', timeZone: 'Australia/Sydney' },
      { pattern: 'jo.smith', timeZone: 'America/New_York' },
    ]);
    expect(zoneOf('apac-ops')).toBe('Asia/Singapore');
    expect(zoneOf('JO.SMITH')).toBe('America/New_York');
    expect(zoneOf('jo.smithers')).toBe('Europe/Berlin');
    expect(zoneOf('anna')).toBe('Europe/Berlin');
  });

  it('names days and clocks for people', () => {
    expect([0, 6].every((d) => isWeekend(d as 0 | 6))).toBe(true);
    expect(isWeekend(3)).toBe(false);
    expect(weekdayName(2)).toBe('Tuesday');
    expect(clockText(3, 7)).toBe('03:07');
  });

  it('is validated in the settings: an unknown zone or a bad per-user entry is refused with a clear message', () => {
    expect(detectionSettingsSchema.parse({}).timeZone).toBe('UTC');
    const bad = detectionSettingsSchema.safeParse({
      timeZone: 'Europe/Berln',
      userTimeZones: [
        { pattern: '', timeZone: 'Asia/Singapore' },
        { pattern: 'x', timeZone: 'EST5' },
      ],
    });
    expect(bad.success).toBe(false);
    const lines = formatIssues(bad.error!.issues);
    expect(lines).toContain(
      'timeZone: "Europe/Berln" is not an IANA time zone name like Europe/Berlin, America/New_York or UTC',
    );
    expect(lines).toContain('userTimeZones.0.pattern: give a user name or a glob such as ops-*');
    expect(lines.some((l) => l.startsWith('userTimeZones.1.timeZone: "EST5"'))).toBe(true);
    expect(
      detectionSettingsSchema.safeParse({ userTimeZones: [{ pattern: 'a', timeZone: 'UTC', zone: 'x' }] }).success,
    ).toBe(false);
  });
});
