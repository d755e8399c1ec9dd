import { describe, expect, it } from 'vitest';
import { DETECTORS } from '../../../shared/core/detectors';
import { DEFAULT_SETTINGS, DETECTOR_IDS } from '../../../shared/core/settings';
import { displayWidth } from '../../../cli/text-width';

describe('the detector registry', () => {
  it('lists each detector once, with exactly the ids settings know', () => {
    const ids = DETECTORS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...DETECTOR_IDS].sort());
    // Elastic's rules alert at anomaly score >= 75; each detector declares its default (never below that; a rule
    // whose evaluation shows its 75–85 band to be noise may start higher), and settings take it.
    for (const d of DETECTORS) {
      expect(d.defaultThreshold).toBeGreaterThanOrEqual(75);
      expect(DEFAULT_SETTINGS.thresholds[d.id]).toBe(d.defaultThreshold);
    }
  });

  it('gives each detector labels that fit where they are shown', () => {
    for (const d of DETECTORS) {
      expect(d.shortLabel.length).toBeGreaterThan(0);
      // The CLI's alert table has an 11-column RULE column.
      expect(displayWidth(d.columnLabel)).toBeGreaterThan(0);
      expect(displayWidth(d.columnLabel)).toBeLessThanOrEqual(11);
    }
    expect(new Set(DETECTORS.map((d) => d.columnLabel)).size).toBe(DETECTORS.length);
  });

  it("carries the rules' metadata: the seed rules (ports of Elastic's jobs) low and 21, Initial Access / Valid Accounts (failures: Credential Access / Brute Force)", () => {
    for (const d of DETECTORS) {
      // Elastic's risk scores for its severities: low 21, medium 47.
      if (d.elasticJob) expect(d.severity).toBe('low');
      expect(d.riskScore).toBe(d.severity === 'low' ? 21 : 47);
      const subs = d.mitre.techniques.flatMap((t) => (t.subtechnique ?? []).map((s) => s.id));
      if (d.mitre.tactic.id === 'TA0006') {
        // Detectors of failed logons: Credential Access / Brute Force.
        expect(d.mitre.techniques.map((t) => t.id)).toEqual(expect.arrayContaining(['T1110']));
      } else {
        expect(d.mitre.tactic.id).toBe('TA0001');
        expect(d.mitre.techniques.map((t) => t.id)).toEqual(expect.arrayContaining(['T1078']));
        expect(subs).toEqual(expect.arrayContaining(['T1078.002', 'T1078.003']));
      }
      expect(d.investigation.length).toBeGreaterThan(2);
      expect(d.falsePositives.length).toBeGreaterThan(0);
      expect(d.description.length).toBeGreaterThan(40);
    }
  });
});
