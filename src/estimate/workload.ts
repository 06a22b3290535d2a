/**
 * Traffic as data: request-length distributions and arrival processes, their means (what the
 * fixed-shape `estimate` uses) and seeded samplers (what the simulator draws from). Pure: a
 * trace arrives here as arrays, read by src/inputs/traffic.ts.
 */

/** Tokens per request: a fixed number, or a distribution over whole numbers >= 1. */
export type LengthDistribution =
  | { kind: 'fixed'; value: number }
  /** every whole number in [min, max] equally likely */
  | { kind: 'uniform'; min: number; max: number }
  /** log-normal with this mean and standard deviation (tokens), rounded, clamped to [min, max] */
  | { kind: 'lognormal'; mean: number; sd: number; min: number; max: number }
  /** P(k) proportional to k^-s for whole k in [min, max] (a bounded Zipf law) */
  | { kind: 'zipf'; s: number; min: number; max: number }
  /** the lengths of a trace, replayed in order */
  | { kind: 'trace'; values: readonly number[]; file: string; column: string };

/** How requests arrive at the offered rate. */
export type ArrivalProcess =
  | { kind: 'poisson' }
  /** gamma-distributed gaps with this coefficient of variation (1 = Poisson; > 1 bursty) */
  | { kind: 'gamma'; cv: number }
  | { kind: 'constant' }
  /** the arrival times of a trace (seconds from its first request), replayed in order */
  | { kind: 'trace'; times: readonly number[]; file: string };

/** Lengths above this are no request any model here serves; zipf tables stay bounded by it. */
export const MAX_TOKENS_PER_REQUEST = 10_000_000;
/** A zipf law over more than this many lengths would need too large a table to sample. */
export const MAX_ZIPF_SPAN = 1 << 21;

/** Standard normal CDF (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Log-space parameters of a log-normal with this mean and sd: sigma^2 = ln(1 + sd^2/mean^2), mu = ln(mean) - sigma^2/2. */
export function lognormalParams(mean: number, sd: number): { mu: number; sigma: number } {
  const sigma2 = Math.log(1 + (sd * sd) / (mean * mean));
  return { mu: Math.log(mean) - sigma2 / 2, sigma: Math.sqrt(sigma2) };
}

/**
 * Mean of a distribution as sampled, in tokens (not rounded). Log-normal: the mean of the
 * clamped variable, E[min(max(X, a), b)] = a P(X < a) + E[X; a <= X <= b] + b P(X > b), from the
 * normal CDF of ln X (partial expectation: e^(mu + sigma^2/2) [Phi(d_b - sigma) - Phi(d_a - sigma)]).
 *
 * @example meanTokens({ kind: 'uniform', min: 128, max: 2048 }) // 1088
 */
export function meanTokens(d: LengthDistribution): number {
  switch (d.kind) {
    case 'fixed':
      return d.value;
    case 'uniform':
      return (d.min + d.max) / 2;
    case 'lognormal': {
      const { mu, sigma } = lognormalParams(d.mean, d.sd);
      if (sigma === 0) return Math.min(Math.max(d.mean, d.min), d.max);
      const za = (Math.log(d.min) - mu) / sigma;
      const zb = (Math.log(d.max) - mu) / sigma;
      const partial = Math.exp(mu + (sigma * sigma) / 2) * (normalCdf(zb - sigma) - normalCdf(za - sigma));
      return d.min * normalCdf(za) + partial + d.max * (1 - normalCdf(zb));
    }
    case 'zipf': {
      let num = 0;
      let den = 0;
      for (let k = d.max; k >= d.min; k--) {
        const p = Math.pow(k, -d.s);
        num += k * p;
        den += p;
      }
      return num / den;
    }
    case 'trace': {
      let total = 0;
      for (const v of d.values) total += v;
      return total / d.values.length;
    }
  }
}

/** Largest length a distribution can produce. */
export function maxTokens(d: LengthDistribution): number {
  switch (d.kind) {
    case 'fixed':
      return d.value;
    case 'trace':
      return d.values.reduce((a, b) => Math.max(a, b), 0);
    default:
      return d.max;
  }
}

/** Upper-tail z of the standard normal at 0.999 (Phi(3.0902) = 0.999). */
const Z_999 = 3.0902;

/**
 * The longest request an engine should be launched to accept: the distribution's largest
 * length when it has one, and for a log-normal without a stated max (unbounded) its 99.9th
 * percentile, e^(mu + 3.09 sigma), rounded up (1 request in 1,000 is longer; a clamp at
 * `max=` makes it exact). What `plan` puts in --max-model-len, so the engine accepts the
 * traffic it was planned for rather than rejecting every request above the mean.
 *
 * @example servedTokens({ kind: 'lognormal', mean: 1200, sd: 1500, min: 1, max: 1e7 }) // 15022
 */
export function servedTokens(d: LengthDistribution): number {
  if (d.kind !== 'lognormal' || d.max < MAX_TOKENS_PER_REQUEST) return maxTokens(d);
  const { mu, sigma } = lognormalParams(d.mean, d.sd);
  return Math.min(d.max, Math.max(d.min, Math.ceil(Math.exp(mu + Z_999 * sigma))));
}

/** The distribution as typed back: "1024", "uniform:128..2048", "lognormal:mean=1024,sd=600". */
export function describeDistribution(d: LengthDistribution): string {
  switch (d.kind) {
    case 'fixed':
      return String(d.value);
    case 'uniform':
      return `uniform:${d.min}..${d.max}`;
    case 'lognormal':
      return `lognormal:mean=${d.mean},sd=${d.sd}${d.min > 1 ? `,min=${d.min}` : ''}${d.max < MAX_TOKENS_PER_REQUEST ? `,max=${d.max}` : ''}`;
    case 'zipf':
      return `zipf:s=${d.s},min=${d.min},max=${d.max}`;
    case 'trace':
      return `trace:${d.file} (${d.column}, ${d.values.length} rows)`;
  }
}

export function describeArrival(a: ArrivalProcess): string {
  switch (a.kind) {
    case 'gamma':
      return `gamma:cv=${a.cv}`;
    case 'trace':
      return `trace:${a.file}`;
    default:
      return a.kind;
  }
}

/**
 * A seeded uniform generator on [0, 1): xoshiro128** (Blackman & Vigna 2018) seeded through
 * splitmix32, integer arithmetic only, so a seed gives the same draws on every platform.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return () => {
    const result = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = ((d << 11) | (d >>> 21)) >>> 0;
    return result / 4294967296;
  };
}

/** Standard normal draws by the Box-Muller transform. */
function normalSampler(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const z = spare;
      spare = undefined;
      return z;
    }
    const u = 1 - random(); // (0, 1]
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Draws of a length distribution: whole tokens >= 1. A trace replays its rows in order. */
export function lengthSampler(d: LengthDistribution, random: () => number): () => number {
  switch (d.kind) {
    case 'fixed':
      return () => d.value;
    case 'uniform': {
      const span = d.max - d.min + 1;
      return () => d.min + Math.floor(random() * span);
    }
    case 'lognormal': {
      const { mu, sigma } = lognormalParams(d.mean, d.sd);
      const normal = normalSampler(random);
      return () => Math.min(d.max, Math.max(d.min, Math.round(Math.exp(mu + sigma * normal()))));
    }
    case 'zipf': {
      // Inverse CDF over a cumulative table (at most MAX_ZIPF_SPAN entries), by binary search.
      const span = d.max - d.min + 1;
      const cumulative = new Float64Array(span);
      let total = 0;
      for (let i = 0; i < span; i++) cumulative[i] = total += Math.pow(d.min + i, -d.s);
      return () => {
        const target = random() * total;
        let lo = 0;
        let hi = span - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (cumulative[mid] <= target) lo = mid + 1;
          else hi = mid;
        }
        return d.min + lo;
      };
    }
    case 'trace': {
      let i = 0;
      return () => d.values[i++ % d.values.length];
    }
  }
}

/**
 * Arrival times (seconds, non-decreasing) of `count` requests at `qps` requests per second.
 * Gamma gaps: shape k = 1 / cv^2, mean 1 / qps (Marsaglia & Tsang 2000; k < 1 by the
 * u^(1/k) boost). A trace replays its times; with `qps` they are scaled so its mean rate is qps,
 * and `count` beyond its rows repeats it after its span.
 */
export function arrivalTimes(a: ArrivalProcess, qps: number | undefined, count: number, random: () => number): Float64Array {
  const times = new Float64Array(count);
  if (a.kind === 'trace') {
    const n = a.times.length;
    const span = n > 1 ? a.times[n - 1] - a.times[0] : 0;
    const period = n > 1 ? span + span / (n - 1) : 1;
    const scale = qps !== undefined && span > 0 ? (n - 1) / span / qps : 1;
    for (let i = 0; i < count; i++) times[i] = (a.times[i % n] - a.times[0] + Math.floor(i / n) * period) * scale;
    return times;
  }
  const mean = 1 / qps!;
  let t = 0;
  if (a.kind === 'constant') {
    for (let i = 0; i < count; i++) times[i] = i * mean;
    return times;
  }
  const normal = normalSampler(random);
  const k = a.kind === 'gamma' ? 1 / (a.cv * a.cv) : 1;
  const gamma = (shape: number): number => {
    if (shape < 1) return gamma(shape + 1) * Math.pow(1 - random(), 1 / shape);
    const dd = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * dd);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - random();
      if (Math.log(u) < 0.5 * x * x + dd - dd * v + dd * Math.log(v)) return dd * v;
    }
  };
  for (let i = 0; i < count; i++) {
    times[i] = t;
    const gap = a.kind === 'poisson' || k === 1 ? -Math.log(1 - random()) * mean : (gamma(k) / k) * mean;
    t += gap;
  }
  return times;
}

/**
 * The traffic of an input whose lengths are distributions (or a --workload preset): what
 * `estimate` reduces to its mean request and the simulator samples.
 */
export interface Traffic {
  input: LengthDistribution;
  output: LengthDistribution;
  /** the --workload preset the distributions came from, if any */
  workload?: string;
  /** how requests arrive (the simulator); absent = Poisson */
  arrival?: ArrivalProcess;
}
