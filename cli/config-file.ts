/**
 * The deployment's own definitions the command line needs to read logs as the detector would: the formats it
 * defines (`customProfiles`) and which names are one person (`identities`), read from the same place synth reads
 * them (cdk.json's `context.authwatch`), or from `--config <file>`, so an operator can check a format against
 * their own lines before deploying it. Validated by the very checks synth and the Lambda use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { checkIdentities, type IdentityRulesConfig } from '../shared/core/identity';
import { checkCustomProfiles, customProfiles } from '../shared/core/profiles/custom';
import type { Profile } from '../shared/core/profiles/profile';
import { ConfigError } from '../shared/errors';
import type { Flags } from './args';

/** What a command line takes from the configuration. */
export interface CliDefinitions {
  /** The custom formats' profiles (empty when none is defined). */
  readonly customProfiles: readonly Profile[];
  /** The identity rules, when any are defined. */
  readonly identities?: IdentityRulesConfig;
}

const NONE: CliDefinitions = { customProfiles: [] };

/** The file read when no `--config` is given: the CDK app's, in the folder the command runs in. */
export const DEFAULT_CONFIG_FILE = 'cdk.json';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The `authwatch` object of a parsed file: a cdk.json's `context.authwatch` (an object, or the JSON text of one
 * as `-c authwatch='{...}'` leaves it), or the file itself when it is that object (it has `customProfiles` or
 * `identities`). Undefined when the file holds neither.
 */
export function authwatchObject(doc: unknown, file: string): Record<string, unknown> | undefined {
  if (!isObject(doc)) throw new ConfigError([`${file}: not a JSON object`]);
  const context = doc.context;
  if (isObject(context) && context.authwatch !== undefined) {
    let aw = context.authwatch;
    if (typeof aw === 'string') {
      try {
        aw = JSON.parse(aw);
      } catch (e) {
        throw new ConfigError([`${file}: context.authwatch is not valid JSON (${(e as Error).message})`]);
      }
    }
    if (!isObject(aw)) throw new ConfigError([`${file}: context.authwatch must be an object`]);
    return aw;
  }
  return 'customProfiles' in doc || 'identities' in doc ? doc : undefined;
}

/** Validate the two definitions of an `authwatch` object; every problem at once, named by file and key path. */
export function definitionsFrom(aw: Record<string, unknown> | undefined, file: string): CliDefinitions {
  if (aw === undefined) return NONE;
  const custom = checkCustomProfiles(aw.customProfiles, `${file}: authwatch.customProfiles`);
  const identities = checkIdentities(aw.identities, `${file}: authwatch.identities`);
  const issues = [...custom.issues, ...identities.issues];
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    customProfiles: customProfiles(custom.specs),
    ...(identities.rules ? { identities: identities.rules } : {}),
  };
}

/**
 * The definitions from `--config <file>`, else from ./cdk.json when there is one, else none. A named file that
 * cannot be read is a mistake; the default file is only read when present.
 */
export function loadDefinitions(flags: Flags): CliDefinitions {
  const given = typeof flags.config === 'string' ? flags.config : undefined;
  const file = given ?? DEFAULT_CONFIG_FILE;
  if (given === undefined && !existsSync(file)) return NONE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([
      `--config: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    ]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`${file}: not valid JSON (${(e as Error).message})`]);
  }
  return definitionsFrom(authwatchObject(doc, file), file);
}
