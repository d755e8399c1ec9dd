/**
 * One copy of each repeated value of a window's observations, for the steps that hold the whole window at once
 * (deliver and commit, shared/steps/run-steps.ts): every window detector and the population's window learning read
 * every observation, so their memory is what a large window costs.
 *
 * Observations come back from staging as fresh objects, each with its own copy of every string and list: the same
 * host list, method list, format, outcome and network owner repeated on every row, and each user's name again in
 * their digest. Interning them keeps one of each; a row is then its own object, its two times, and the user name
 * and address it shares with the rest of the window. Measured on 100,000 rows like the bench's: 43 MB as staged,
 * about a third of that interned.
 *
 * An interner lives for one step's reading and is let go: what it interned stays shared by the values holding it.
 * The lists and owners it hands out are frozen (observations are read-only; nothing may change a shared value).
 */
import type { LogonObservation, NetworkOwner, Outcome } from './model';

const EMPTY: readonly string[] = Object.freeze([]);

export class Interner {
  readonly #strings = new Map<string, string>();
  readonly #lists = new Map<string, readonly string[]>();
  readonly #owners = new Map<string, NetworkOwner>();

  /** The one copy of `s`. */
  string(s: string): string {
    const known = this.#strings.get(s);
    if (known !== undefined) return known;
    this.#strings.set(s, s);
    return s;
  }

  /** The one (frozen) copy of a list of strings with these items in this order. */
  list(items: readonly string[]): readonly string[] {
    if (items.length === 0) return EMPTY;
    // NUL never occurs in a bounded name, host or method; were it to, two lists would merely not share.
    const key = items.length === 1 ? items[0]! : items.join('\u0000');
    const known = this.#lists.get(key);
    if (known !== undefined && known.length === items.length && known.every((x, i) => x === items[i])) return known;
    const copy = Object.freeze(items.map((x) => this.string(x)));
    if (known === undefined) this.#lists.set(key, copy);
    return copy;
  }

  /** The one (frozen) copy of a network owner. */
  owner(o: NetworkOwner): NetworkOwner {
    const key = `${o.asn}\u0000${o.country ?? ''}\u0000${o.org}`;
    const known = this.#owners.get(key);
    if (known !== undefined && known.asn === o.asn && known.org === o.org && known.country === o.country) return known;
    const copy: NetworkOwner = Object.freeze(
      o.country === undefined
        ? { asn: o.asn, org: this.string(o.org) }
        : { asn: o.asn, org: this.string(o.org), country: this.string(o.country) },
    );
    if (known === undefined) this.#owners.set(key, copy);
    return copy;
  }

  /**
   * The observation with its values interned: equal to `o` field for field (the same fields present), a new
   * object built in one piece, so V8 keeps its fields in the object itself.
   */
  observation(o: LogonObservation): LogonObservation {
    const user = this.string(o.user);
    const sourceIp = this.string(o.sourceIp);
    const outcome = this.string(o.outcome) as Outcome;
    const hosts = this.list(o.hosts);
    const methods = this.list(o.methods);
    const logSource = this.string(o.logSource);
    const { count, firstSeen, lastSeen } = o;
    // The two shapes nearly every row has, as literals; anything rarer (identity rules, a provider's risk verdicts)
    // keeps its optional fields as given.
    if (o.loggedAs === undefined && o.signals === undefined) {
      return o.owner === undefined
        ? { user, sourceIp, outcome, count, firstSeen, lastSeen, hosts, methods, logSource }
        : {
            user,
            sourceIp,
            outcome,
            count,
            firstSeen,
            lastSeen,
            hosts,
            methods,
            logSource,
            owner: this.owner(o.owner),
          };
    }
    return {
      user,
      sourceIp,
      outcome,
      count,
      firstSeen,
      lastSeen,
      hosts,
      methods,
      logSource,
      ...(o.loggedAs !== undefined ? { loggedAs: this.string(o.loggedAs) } : {}),
      ...(o.owner !== undefined ? { owner: this.owner(o.owner) } : {}),
      ...(o.signals !== undefined ? { signals: o.signals } : {}),
    };
  }
}
