/**
 * What the steps of a run hand each other through the staging port (ports/staging.ts), and how: each record under
 * `<run's prefix>/<kind>/<index>`, serialised with V8's structured clone (Maps and `undefined` survive; the same on
 * Node 20 and on Lambda's runtime). The observations of a window are staged per source group and user shard
 * (`obs/<group>/<shard>`), every other record per shard or once per run.
 */
import { deserialize, serialize } from 'node:v8';
import { Interner } from '../core/intern';
import type { PopulationDelta } from '../core/population';
import type { PopulationLearnUser } from '../core/detectors/detector';
import type { Finding, LogonObservation, UserBaseline } from '../core/model';
import type { AlertedPlace } from '../core/suspect';
import { AuthwatchError } from '../errors';
import type { ItemNotStored } from '../ports';
import type { Staging } from '../ports/staging';
import type { SourceSummary } from '../run-detection';
import type { RunRef } from './contract';

/** What a fetch step stages besides the observations: its sources' counters. */
export interface FetchStage {
  readonly sources: SourceSummary[];
  readonly users: number;
  readonly observations: number;
  readonly logons: number;
  readonly malformed: number;
  readonly namesTruncated: number;
  readonly queries: number;
  readonly rows: number;
  readonly queryMs: number;
  readonly bytesScanned: number;
  readonly addressesLooked: number;
  readonly addressesWithOwner: number;
}

/** One evaluate step's result (`eval/<shard>`): its per-user findings and its users' window digests. */
export interface EvaluateStage {
  readonly findings: { readonly detectorId: string; readonly finding: Finding }[];
  /** Window digests of the shard's users with a baseline (who logged on, and who failures named). */
  readonly digests: [string, string[]][];
  readonly users: number;
  readonly usersLearning: number;
  readonly failureTargetsRead: number;
  readonly failureTargetsNotRead: number;
  readonly detectorErrors: number;
}

/** The deliver step's result (`deliver`): what learning needs of the alerts, and the run's alert counts. */
export interface DeliverStage {
  readonly suspects: AlertedPlace[];
  /** The window was already learned into the population (the retry of a run cut while saving): deliver nothing. */
  readonly learnedBefore: boolean;
  readonly windowFindings: Record<string, number>;
  readonly detectorErrors: number;
  readonly alertsPublished: Record<string, number>;
  readonly alertsDeduplicated: number;
  readonly alertsFolded: number;
  readonly alertsSuppressed: number;
  readonly alertsCutByCap: number;
  readonly alertIds: string[];
}

/** One shard's learning: its new baselines (`learn/<shard>`), apart from what the population needs of it. */
export interface LearnStage {
  readonly users: UserBaseline[];
  readonly newUsers: number;
}

/** One learn step's counts alone (`learned/<shard>`), for the summary: it need not read the baselines back. */
export interface LearnedStage {
  readonly newUsers: number;
}

/** What one shard's users add to the population (`shares/<shard>`): small next to their baselines. */
export interface SharesStage {
  readonly delta: PopulationDelta;
  readonly learners: [string, PopulationLearnUser<unknown>[]][];
}

/** The commit step's result (`commit`). */
export interface CommitStage {
  readonly populationSaved: boolean;
}

/** One write step's result (`write/<shard>`). */
export interface WriteStage {
  readonly written: number;
  readonly notStored: ItemNotStored[];
}

/** The records of one shard a run's summary reads. */
export interface ShardStages {
  readonly evaluated: EvaluateStage | undefined;
  readonly learned: LearnedStage | undefined;
  readonly written: WriteStage | undefined;
}

/** The staging port as the steps use it: records of a run by kind and index. */
export class StepStaging {
  constructor(private readonly staging: Staging) {}

  private key(run: RunRef, parts: readonly (string | number)[]): string {
    return [run.stagingPrefix, ...parts].join('/');
  }

  async put(run: RunRef, value: unknown, ...parts: (string | number)[]): Promise<void> {
    await this.staging.put(this.key(run, parts), serialize(value));
  }

  async get<T>(run: RunRef, ...parts: (string | number)[]): Promise<T | undefined> {
    const bytes = await this.staging.get(this.key(run, parts));
    return bytes === undefined ? undefined : (deserialize(bytes) as T);
  }

  /** A record an earlier step must have staged: its absence is a step run out of order. */
  async must<T>(run: RunRef, ...parts: (string | number)[]): Promise<T> {
    const v = await this.get<T>(run, ...parts);
    if (v === undefined)
      throw new AuthwatchError(`run ${run.runId}: ${parts.join('/')} was not staged (did its step run?)`);
    return v;
  }

  /**
   * The observations of one shard (every source group's share), or of the whole window, their repeated values
   * interned (core/intern.ts): pass the step's interner to share them with what else it reads (the digests).
   */
  async observations(run: RunRef, shard?: number, interner = new Interner()): Promise<LogonObservation[]> {
    const keys = (await this.staging.list(`${this.key(run, ['obs'])}/`)).sort();
    const out: LogonObservation[] = [];
    for (const k of keys) {
      if (shard !== undefined && !k.endsWith(`/${shard}`)) continue;
      const bytes = await this.staging.get(k);
      if (bytes) for (const o of deserialize(bytes) as LogonObservation[]) out.push(interner.observation(o));
    }
    return out;
  }
}
