import { describe, expect, it } from 'vitest';
import { DETECTORS } from '../../../shared/core/detectors';
import { DEFAULT_SETTINGS, detectionSettingsSchema, settingsForEnvironment } from '../../../shared/core/settings';

describe("the settings in the detector function's environment", () => {
  it('carry only what differs from the defaults, and parse back to the same settings', () => {
    expect(settingsForEnvironment(DEFAULT_SETTINGS)).toEqual({});
    const [first, second] = DETECTORS;
    const s = detectionSettingsSchema.parse({
      thresholds: { [first.id]: 80, [second.id]: DEFAULT_SETTINGS.thresholds[second.id] },
      allowUsers: ['svc-*'],
      timeZone: 'Europe/Lisbon',
      suspectDays: 3,
    });
    const env = settingsForEnvironment(s);
    expect(env).toEqual({
      thresholds: { [first.id]: 80 },
      allowUsers: ['svc-*'],
      timeZone: 'Europe/Lisbon',
      suspectDays: 3,
    });
    expect(detectionSettingsSchema.parse(JSON.parse(JSON.stringify(env)))).toEqual(s);
    // Every default threshold left out: the bytes of eleven detectors' defaults stay free for the operator's entries.
    expect(JSON.stringify(env).length).toBeLessThan(JSON.stringify(s).length / 3);
  });
});
