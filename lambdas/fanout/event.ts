/**
 * What the state machine sends the fan-out Lambda: which step to run and on what. Validated whole before anything
 * runs, so a malformed event (a hand-started execution, a state machine edited by hand) fails its step with a
 * message naming the field, never half-runs one. A step's result is its return value, passed on by the state
 * machine (Step Functions carries at most 256 KB per state: the steps return small JSON, the data is staged).
 */
import * as z from 'zod';
import { formatIssues } from '../../shared/core/settings';
import { InvalidEventError } from '../../shared/errors';

const epochMs = z.number().int().nonnegative();
const index = z.number().int().min(0).max(9_999);

/** A run as `plan` returned it; the plan's lists (`sourceGroups`, `shards`) may ride along and are dropped. */
const runRefSchema = z
  .object({
    runId: z.string().min(1).max(200),
    attemptId: z.string().min(1).max(200),
    stagingPrefix: z.string().min(1).max(400),
    windowStart: epochMs,
    windowEnd: epochMs,
    catchUp: z.boolean(),
    alertOnly: z.boolean(),
    shardCount: z.number().int().min(1).max(1000),
  })
  .refine((r) => r.windowEnd > r.windowStart, { error: 'windowEnd must be after windowStart', path: ['windowEnd'] });

/** One window of `windows`' list (shared/scheduled-windows.ts): what `plan` takes. */
const windowSchema = z
  .object({
    windowStart: epochMs,
    windowEnd: epochMs,
    alertOnly: z.boolean(),
    chunk: z.boolean(),
    runId: z.string().min(1).max(200),
  })
  .refine((w) => w.windowEnd > w.windowStart, { error: 'windowEnd must be after windowStart', path: ['windowEnd'] });

/**
 * How Step Functions hands a caught error on (`{ "Error": ..., "Cause": ... }`), or a plain message from a caller
 * that starts `abandon` itself.
 */
const failureSchema = z.union([
  z.string(),
  z.object({ Error: z.string().optional(), Cause: z.string().optional() }).loose(),
]);

export const stepEventSchema = z.discriminatedUnion(
  'step',
  [
    /** The execution's first state: the windows to run, from the schedule's time (`{ "time": ... }`). */
    z.object({ step: z.literal('windows'), time: z.union([z.string(), z.number()]) }),
    z.object({ step: z.literal('plan'), window: windowSchema }),
    z.object({ step: z.literal('fetch'), run: runRefSchema, group: index }),
    z.object({ step: z.literal('evaluate'), run: runRefSchema, shard: index }),
    z.object({ step: z.literal('deliver'), run: runRefSchema }),
    z.object({ step: z.literal('learn'), run: runRefSchema, shard: index }),
    z.object({ step: z.literal('commit'), run: runRefSchema }),
    z.object({ step: z.literal('write'), run: runRefSchema, shard: index }),
    /**
     * The window's plan and the execution's start (`$$.Execution.StartTime`) ride along for the run metrics: a
     * backlog chunk counts as one, and the run's duration is the execution's so far. Optional: a finish started by
     * hand without them still finishes.
     */
    z.object({
      step: z.literal('finish'),
      run: runRefSchema,
      window: windowSchema.optional(),
      executionStartedAt: z.iso.datetime({ offset: true }).optional(),
    }),
    z.object({ step: z.literal('abandon'), run: runRefSchema, error: failureSchema }),
    /** A catch-up chunk that could not be fetched whole: recorded as skipped, then abandoned (shared/scheduled-windows.ts). */
    z.object({ step: z.literal('skip'), run: runRefSchema, window: windowSchema }),
  ],
  {
    error: (i) =>
      i.code === 'invalid_union'
        ? `"step" must be one of windows, plan, fetch, evaluate, deliver, learn, commit, write, finish, abandon, skip; got ${JSON.stringify((i.input as { step?: unknown } | undefined)?.step) ?? 'none'}`
        : undefined,
  },
);

export type StepEvent = z.infer<typeof stepEventSchema>;
export type StepName = StepEvent['step'];

/** The event, checked; `InvalidEventError` listing every problem with its path otherwise. */
export function parseStepEvent(event: unknown): StepEvent {
  const r = stepEventSchema.safeParse(event);
  if (r.success) return r.data;
  throw new InvalidEventError(`Invalid fan-out step event: ${formatIssues(r.error.issues).join('; ')}`);
}

/** Most characters of a failure kept for `abandon` (its log line, the lease's release): a stack trace is enough. */
export const FAILURE_TEXT_MAX = 4000;

/** A caught failure as one line of text: `Error: Cause`, cut to `FAILURE_TEXT_MAX`. */
export function failureText(error: z.infer<typeof failureSchema>): string {
  const text =
    typeof error === 'string'
      ? error
      : [error.Error, error.Cause].filter((p): p is string => p !== undefined && p !== '').join(': ') ||
        'unknown error';
  return text.length > FAILURE_TEXT_MAX ? `${text.slice(0, FAILURE_TEXT_MAX - 1)}…` : text;
}
