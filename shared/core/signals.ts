/**
 * Identity providers' own risk verdicts on a sign-in (Entra ID Protection's `riskLevelDuringSignIn` and
 * `riskState`, Google's `is_suspicious`), carried beside a logon so an alert can show what the provider thought of
 * it. They are context for a person, not an input to any detector's score: authwatch does not know how each
 * provider reaches its verdict, and a tenant without Entra ID P2 never has one.
 *
 * Bounded by construction: only the keys below, each with a closed vocabulary, ever reach an observation; any other
 * key or value (a provider's new level, garbage in a log) is dropped, so a hostile log line cannot put text of its
 * choosing into an alert through this field. Values that say "no verdict" (`none`, Entra's `hidden` for tenants
 * without ID Protection, `false`) are not signals and are dropped too, so an observation carries `signals` only
 * when there is something to say. Pure: no I/O.
 */

/**
 * Each known signal's values, least to most alarming: when one (user, address, outcome) aggregates several sign-ins,
 * it keeps the worst value seen (`mergeSignals`).
 */
export const SIGNAL_VALUES = {
  /** Entra: the risk ID Protection computed for this sign-in (`none` and `hidden` are no verdict). */
  riskLevelDuringSignIn: ['low', 'medium', 'high'],
  /** Entra: where the sign-in's risk stands (`none` is no verdict); confirmed safe or dismissed is still worth showing. */
  riskState: ['confirmedSafe', 'dismissed', 'remediated', 'atRisk', 'confirmedCompromised'],
  /** Google Workspace: the login was flagged as suspicious (`false` is no verdict). */
  is_suspicious: ['true'],
} as const satisfies Readonly<Record<string, readonly string[]>>;

export type SignalKey = keyof typeof SIGNAL_VALUES;

/** A logon's signals: known keys only, each with one of its known values. */
export type Signals = Readonly<Partial<Record<SignalKey, string>>>;

function isSignalKey(key: string): key is SignalKey {
  return Object.hasOwn(SIGNAL_VALUES, key);
}

/** The canonical spelling of `raw` as a value of `key` (matched case-insensitively), or undefined if it is none. */
export function signalValue(key: SignalKey, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const t = raw.trim().toLowerCase();
  return (SIGNAL_VALUES[key] as readonly string[]).find((v) => v.toLowerCase() === t);
}

function rank(key: SignalKey, value: string): number {
  return (SIGNAL_VALUES[key] as readonly string[]).indexOf(value);
}

/**
 * The signals among `raw` (signal key → value as the log wrote it), or undefined when none is a known key with a
 * known value. Input keys that are not signals are ignored.
 */
export function toSignals(raw: Readonly<Record<string, string | undefined>>): Signals | undefined {
  const out: Partial<Record<SignalKey, string>> = {};
  let any = false;
  for (const [k, v] of Object.entries(raw)) {
    if (!isSignalKey(k)) continue;
    const value = signalValue(k, v);
    if (value !== undefined) {
      out[k] = value;
      any = true;
    }
  }
  return any ? out : undefined;
}

/**
 * Both sides' signals, each key at its worst value. Either side may be undefined or hold anything (a document read
 * back from another version): unknown keys and values are dropped. Undefined when neither has a signal.
 */
export function mergeSignals(a: Signals | undefined, b: Signals | undefined): Signals | undefined {
  if (b === undefined) return a === undefined ? undefined : toSignals(a);
  if (a === undefined) return toSignals(b);
  const out: Partial<Record<SignalKey, string>> = {};
  for (const key of Object.keys(SIGNAL_VALUES) as SignalKey[]) {
    const x = signalValue(key, a[key]);
    const y = signalValue(key, b[key]);
    const worst = x === undefined ? y : y === undefined ? x : rank(key, y) > rank(key, x) ? y : x;
    if (worst !== undefined) out[key] = worst;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `riskLevelDuringSignIn high, riskState atRisk`: how an alert reads them, keys in a fixed order. */
export function signalsText(signals: Signals): string {
  return (Object.keys(SIGNAL_VALUES) as SignalKey[])
    .flatMap((k) => {
      const v = signalValue(k, signals[k]);
      return v === undefined ? [] : [`${k} ${v}`];
    })
    .join(', ');
}
