/**
 * What the detectors of failed logons share of their rule metadata: MITRE ATT&CK's Credential Access tactic and
 * its Brute Force technique with the sub-techniques each detector names. No detector id is written here.
 */
import type { MitreTechnique } from '../model';
import type { Detector } from './detector';

export const CREDENTIAL_ACCESS: Detector['mitre']['tactic'] = {
  id: 'TA0006',
  name: 'Credential Access',
  reference: 'https://attack.mitre.org/tactics/TA0006/',
};

const BRUTE_FORCE_SUBS: Readonly<Record<string, string>> = {
  'T1110.001': 'Password Guessing',
  'T1110.003': 'Password Spraying',
  'T1110.004': 'Credential Stuffing',
};

/** Brute Force (T1110) with the given sub-techniques (`T1110.003`, …). */
export function bruteForce(subs: readonly (keyof typeof BRUTE_FORCE_SUBS)[]): MitreTechnique {
  return {
    id: 'T1110',
    name: 'Brute Force',
    reference: 'https://attack.mitre.org/techniques/T1110/',
    subtechnique: subs.map((id) => ({
      id,
      name: BRUTE_FORCE_SUBS[id]!,
      reference: `https://attack.mitre.org/techniques/T1110/${id.slice(-3)}/`,
    })),
  };
}
