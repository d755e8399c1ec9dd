/**
 * The negative binomial count distribution, parameterised by its mean μ and overdispersion α (variance μ + αμ²):
 * logon counts are burstier than a Poisson (a batch job, a class starting, a password change forcing everyone to
 * log on again), and α, learned per series, says by how much. Pure arithmetic.
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: ~15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln P(X = k) for X ~ NB(mean, alpha); alpha → 0 is the Poisson limit. */
export function logPmf(k: number, mean: number, alpha: number): number {
  if (mean <= 0) return k === 0 ? 0 : -Infinity;
  if (alpha < 1e-9) return k * Math.log(mean) - mean - logGamma(k + 1);
  const r = 1 / alpha;
  return (
    logGamma(k + r) - logGamma(r) - logGamma(k + 1) + r * Math.log(r / (r + mean)) + k * Math.log(mean / (r + mean))
  );
}

/** Longest sum the tail adds up before it bounds the rest by a geometric series. */
const MAX_TERMS = 20_000;

/**
 * P(X ≥ x): the chance of a count at least this large. Above the mean the terms fall monotonically, so the tail is
 * summed upwards from x (exact where it matters, for small probabilities); below it, 1 − P(X < x).
 */
export function upperTail(x: number, mean: number, alpha: number): number {
  const k0 = Math.max(0, Math.ceil(x));
  if (k0 === 0) return 1;
  if (k0 <= mean) {
    let below = 0;
    for (let k = 0; k < k0; k++) below += Math.exp(logPmf(k, mean, alpha));
    return Math.min(1, Math.max(0, 1 - below));
  }
  let sum = 0;
  let term = Math.exp(logPmf(k0, mean, alpha));
  if (term === 0) return 0;
  for (let k = k0; k < k0 + MAX_TERMS; k++) {
    sum += term;
    // The ratio of successive terms: (k + r)/(k + 1) · μ/(r + μ) (Poisson: μ/(k + 1)).
    const ratio = alpha < 1e-9 ? mean / (k + 1) : ((k + 1 / alpha) / (k + 1)) * (mean / (1 / alpha + mean));
    term *= ratio;
    if (term < sum * 1e-15) return Math.min(1, sum);
    if (k === k0 + MAX_TERMS - 1 && ratio < 1) sum += term / (1 - ratio);
  }
  return Math.min(1, sum);
}

/** The smallest k with P(X ≤ k) ≥ q: the bounds of a typical range. */
export function quantile(q: number, mean: number, alpha: number): number {
  let cdf = 0;
  for (let k = 0; k < 1_000_000; k++) {
    cdf += Math.exp(logPmf(k, mean, alpha));
    if (cdf >= q) return k;
  }
  return Number.POSITIVE_INFINITY;
}
