/**
 * From "how surprising is this?" to a 0–100 score.
 *
 * Elastic's `rare` jobs compute a probability, ignore anything above 0.035, then place −log(p) among the
 * job's own history of raw scores and map that percentile to 0–100 through fixed knots; the rules alert at
 * 75. A percentile of the deployment's own history makes a score impossible to explain in one sentence
 * and unstable while history is short (exactly when a new deployment is being judged). We keep Elastic's
 * probability cut-off and its 0–100 scale, but map −log10(p) through fixed knots calibrated on the labelled
 * evaluation (`npm run eval`): the same probability always gives the same score, in every deployment.
 */

/** Knots (−log10 p → score), piecewise linear between them. p = 0.035 (the cut-off) is 40; p = 0.01 is 75. */
export const SCORE_KNOTS: readonly (readonly [number, number])[] = [
  [0, 0],
  [-Math.log10(0.035), 40],
  [2, 75],
  [2.5, 87],
  [3, 94],
  [4, 100],
];

/** Score 0–100 for a probability (0 < p ≤ 1); monotonically decreasing in p. */
export function scoreFromProbability(p: number): number {
  const x = -Math.log10(Math.min(1, Math.max(p, 1e-12)));
  let prev = SCORE_KNOTS[0]!;
  for (const knot of SCORE_KNOTS) {
    if (x <= knot[0]) {
      if (knot[0] === prev[0]) return knot[1];
      const f = (x - prev[0]) / (knot[0] - prev[0]);
      return round1(prev[1] + f * (knot[1] - prev[1]));
    }
    prev = knot;
  }
  return 100;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * Prior of the Beta–Bernoulli estimate of a novelty rate: `(PRIOR_NEW + k) / (PRIOR_NEW + PRIOR_OLD + n)`
 * for k novel buckets out of n. A weak prior (a fifth of one novel bucket against one ordinary one) lets a
 * user with three weeks of one stable address become confident, while a user who changes address every
 * few buckets never does.
 */
export const PRIOR_NEW = 0.2;
export const PRIOR_OLD = 1;

/** Predictive probability that the next active bucket brings something new, having seen `novel` of `buckets`. */
export function noveltyProbability(novel: number, buckets: number): number {
  const n = Math.max(0, buckets);
  const k = Math.min(Math.max(0, novel), n);
  return (PRIOR_NEW + k) / (PRIOR_NEW + PRIOR_OLD + n);
}

/**
 * Weight, in active buckets, of the population's rate as the prior of one user's own rate. A user with
 * little history is judged mostly by how often anyone in the organisation brings a new place; after a few
 * weeks of buckets their own record dominates.
 */
export const POOLED_PRIOR_BUCKETS = 20;

/**
 * Empirical-Bayes predictive probability of novelty for one user: a Beta prior centred on the population's
 * rate (`popNovel` of `popBuckets`), worth `POOLED_PRIOR_BUCKETS` buckets, updated with the user's own `novel`
 * of `buckets`. With no population data yet it falls back to `noveltyProbability`.
 */
export function pooledNoveltyProbability(novel: number, buckets: number, popNovel: number, popBuckets: number): number {
  if (popBuckets <= 0) return noveltyProbability(novel, buckets);
  const n = Math.max(0, buckets);
  const k = Math.min(Math.max(0, novel), n);
  const rate = noveltyProbability(popNovel, popBuckets);
  return (POOLED_PRIOR_BUCKETS * rate + k) / (POOLED_PRIOR_BUCKETS + n);
}

/** Either explanation suffices: p = 1 − (1 − a)(1 − b). */
export function eitherProbability(a: number, b: number): number {
  return 1 - (1 - a) * (1 - b);
}
