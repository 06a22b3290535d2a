import { paramsFigures } from '../estimate/params.js';
import type { ModelSpec } from './model.js';

/**
 * The finite domain of every number a user can give, declared once: flags, spec-file keys,
 * `check` files, library options, architecture fields of presets and config.json files all
 * take their numbers through these domains (src/inputs/options.ts `quantity`, and `modelProblem`
 * below for architectures). Bounds are generous (well past any model, cluster or price in
 * use) but finite, so that no product of valid inputs can overflow to Infinity, no divisor can
 * reach zero, and no estimator loops or allocates in proportion to a user number.
 */

/** How the text of a value is read. */
export type Syntax =
  /** counts people type: "7b", "70e9", "8k" (k = 1000) */
  | 'count'
  /** token counts: "32k" = 32,768 (k = 1024 for whole multiples), else as count */
  | 'tokens'
  /** a plain decimal number: "2.49", "1e-3" */
  | 'number'
  /** a share: "0.6" or "60%" */
  | 'fraction'
  /** a duration: "500ms", "1s", "0.05" (seconds) */
  | 'duration';

export interface Domain {
  syntax: Syntax;
  /** whole numbers only */
  integer: boolean;
  min: number;
  max: number;
  /** what is accepted, for "expected ..." (shape, not bounds) */
  expected: string;
  /** why a value above max is refused: "larger than any model this tool sizes" */
  above: string;
  /** why a value below min is refused */
  below: string;
}

const count = (what: string, max: number, above: string, extra: Partial<Domain> = {}): Domain => ({
  syntax: 'count', integer: true, min: 1, max, expected: `a positive whole number (${what})`, above, below: 'not a positive whole number', ...extra,
});

/**
 * Every quantity a user can give. Keys name the quantity, not the flag: several flags share one
 * (--tp, --pp, --count ... are all device counts).
 */
export const DOMAINS = {
  // ---- the model ----
  params: { syntax: 'count', integer: true, min: 1e6, max: 1e15, expected: 'a parameter count such as 7b, 70e9 or 405000000000', above: 'larger than any model this tool sizes', below: 'smaller than any model this tool sizes' },
  layers: count('decoder layers', 10_000, 'more layers than any model this tool sizes'),
  hidden: count('hidden size', 1_048_576, 'wider than any model this tool sizes'),
  heads: count('attention heads', 65_536, 'more heads than any model this tool sizes'),
  headDim: count('head dimension', 65_536, 'larger than any head dimension this tool sizes'),
  ffn: count('MLP intermediate size', 16_777_216, 'wider than any MLP this tool sizes'),
  vocab: count('vocabulary size', 16_777_216, 'larger than any vocabulary this tool sizes'),
  experts: count('experts', 65_536, 'more experts than any model this tool sizes'),
  // ---- the workload ----
  tokens: { syntax: 'tokens', integer: true, min: 1, max: 100_000_000, expected: 'a positive whole number of tokens (e.g. 4096 or 32k)', above: 'longer than any context this tool sizes', below: 'not a positive whole number of tokens' },
  trainingTokens: { syntax: 'count', integer: false, min: 1, max: 1e15, expected: 'a token count such as 1t, 300b or 2e12', above: 'more tokens than any training run this tool sizes', below: 'fewer than one token' },
  batch: count('sequences', 1_000_000, 'a larger batch than this tool sizes'),
  schedulerSteps: count('decode steps planned at once', 1_024, 'more steps per schedule than any engine plans'),
  images: count('images per request', 10_000, 'more images per request than this tool sizes'),
  concurrency: count('requests in flight', 10_000_000, 'more requests in flight than this tool sizes'),
  globalBatch: count('sequences per step', 1e9, 'a larger global batch than this tool sizes'),
  qps: { syntax: 'number', integer: false, min: 1e-6, max: 1e6, expected: 'requests per second, e.g. 20', above: 'more requests per second than this tool sizes', below: 'less than one request in 11 days, too little load to size' },
  duration: { syntax: 'duration', integer: false, min: 1e-6, max: 1e6, expected: 'a duration such as 500ms, 1s or 0.05', above: 'longer than any latency target this tool sizes', below: 'shorter than a microsecond' },
  loraRank: count('LoRA rank', 65_536, 'a larger LoRA rank than this tool sizes'),
  // ---- serving levers (src/estimate/speculative.ts, prefix.ts, lora-serving.ts, offload.ts) ----
  /** tokens a drafter proposes per step: EAGLE trees reach about 60 (EAGLE-2 total_token 60) */
  draftTokens: count('draft tokens per step', 64, 'more draft tokens per step than any speculative decoder proposes'),
  /** per-token acceptance of speculative decoding: 0 accepts nothing, 1 everything */
  acceptance: { syntax: 'fraction', integer: false, min: 0, max: 1, expected: 'a per-token acceptance rate from 0 to 1, e.g. 0.8 or 80%', above: 'more than 100%', below: 'negative' },
  /** mean tokens a target step yields (accepted drafts + the target's own token) */
  acceptedLength: { syntax: 'number', integer: false, min: 1, max: 65, expected: 'a mean accepted length of at least 1, e.g. 2.6', above: 'longer than the 64 draft tokens + 1 any step verifies', below: 'below 1: every step yields at least the target\'s own token' },
  /** a share from 0 to 1 (hit rates, discounts) */
  share: { syntax: 'fraction', integer: false, min: 0, max: 1, expected: 'a share from 0 to 1, e.g. 0.75 or 75%', above: 'more than 100%', below: 'negative' },
  adapters: count('LoRA adapters', 100_000, 'more adapters than any server loads'),
  /** decoder layers on the GPU (llama.cpp -ngl): 0 allowed */
  gpuLayers: { syntax: 'number', integer: true, min: 0, max: 10_000, expected: 'a whole number of layers, 0 or more (llama.cpp -ngl)', above: 'more layers than any model this tool sizes', below: 'negative' },
  /** SGLang mamba_full_memory_ratio: state pool bytes over KV pool bytes */
  memoryRatio: { syntax: 'number', integer: false, min: 0.001, max: 1000, expected: 'a ratio of state-pool to KV-pool memory, e.g. 0.9', above: 'more than 1000 times the KV pool', below: 'too small to hold any state' },
  // ---- simulation (src/estimate/simulate.ts) ----
  /** requests one simulation serves: 100,000 take a few seconds (docs/simulate.md) */
  requests: count('requests', 100_000, 'more requests than one simulation serves (split the run, or raise --qps resolution instead)'),
  seed: { syntax: 'number', integer: true, min: 0, max: 4_294_967_295, expected: 'a whole number from 0 to 4294967295', above: 'larger than a 32-bit seed', below: 'negative' },
  /** coefficient of variation of gaps between arrivals: 1 is Poisson, above 1 bursty */
  arrivalCv: { syntax: 'number', integer: false, min: 0.05, max: 20, expected: 'a coefficient of variation such as 2 (1 is Poisson)', above: 'burstier than any traffic this tool simulates', below: 'more regular than any traffic this tool simulates (use --arrival constant)' },
  // ---- the hardware and its layout ----
  devices: count('devices', 1_048_576, 'more devices than this tool sizes'),
  /** redundant expert copies a load balancer adds (EPLB): 0 allowed */
  redundantExperts: { syntax: 'count', integer: true, min: 0, max: 65_536, expected: 'a whole number of redundant experts, 0 or more (e.g. 32)', above: 'more redundant experts than any deployment places', below: 'negative' },
  /** max / mean routed tokens per expert-parallel rank */
  imbalance: { syntax: 'number', integer: false, min: 1, max: 1_000, expected: 'a max / mean load ratio of at least 1, e.g. 1.15', above: 'a larger imbalance than this tool sizes', below: 'below 1: the busiest rank carries at least the mean' },
  rows: count('rows', 1_000, 'more rows than this tool shows'),
  fraction: { syntax: 'fraction', integer: false, min: 0.001, max: 1, expected: 'a fraction in (0, 1], e.g. 0.6 or 60%', above: 'more than 100%', below: 'below the smallest efficiency this tool models' },
  // ---- money and power ----
  usdPerHour: { syntax: 'number', integer: false, min: 1e-6, max: 1e6, expected: 'a price in USD per device-hour, e.g. 2.49', above: 'more than any device-hour costs', below: 'below a millionth of a dollar' },
  usdPerDevice: { syntax: 'number', integer: false, min: 1e-3, max: 1e8, expected: 'a purchase price in USD per device, e.g. 1599', above: 'more than any device costs', below: 'below a tenth of a cent' },
  years: { syntax: 'number', integer: false, min: 0.01, max: 100, expected: 'a number of years to amortize a purchase over, e.g. 3', above: 'longer than any hardware lasts', below: 'shorter than four days' },
  usdPerKwh: { syntax: 'number', integer: false, min: 1e-6, max: 1e3, expected: 'an electricity price in USD per kWh, e.g. 0.12', above: 'more than any electricity costs', below: 'below a millionth of a dollar' },
  /** colocation rent per kW of provisioned power per month: 0 for hardware in one's own premises */
  usdPerKwMonth: { syntax: 'number', integer: false, min: 0, max: 1e5, expected: 'a colocation price in USD per kW per month, e.g. 184 (0 for your own premises)', above: 'more than any data centre charges', below: 'negative' },
  watts: { syntax: 'number', integer: false, min: 0.01, max: 1e6, expected: 'average power per device in watts, e.g. 450', above: 'more power than any device draws', below: 'less power than any device draws' },
  // ---- carbon (src/estimate/carbon.ts) ----
  /** PUE is facility energy over IT energy: 1 at best; the worst surveyed sites reach about 3 */
  pue: { syntax: 'number', integer: false, min: 1, max: 5, expected: 'a power usage effectiveness from 1 to 5, e.g. 1.2', above: 'more than any data centre uses', below: 'below 1, the energy of the IT load itself' },
  gco2PerKwh: { syntax: 'number', integer: false, min: 0, max: 2000, expected: 'grams of CO2e per kWh from 0 to 2000, e.g. 390', above: 'more than any grid emits (about 1,200 gCO2e/kWh for lignite; check the unit)', below: 'negative' },
  // ---- retrieval (src/estimate/rag.ts, src/estimate/vector-index.ts) ----
  corpusTokens: { syntax: 'count', integer: true, min: 1, max: 1e15, expected: 'a token count such as 50e9 or 2t', above: 'a larger corpus than this tool sizes', below: 'fewer than one token' },
  documents: count('documents', 1e13, 'more documents than this tool sizes'),
  /** tokens shared by consecutive chunks: 0 allowed */
  overlapTokens: { syntax: 'tokens', integer: true, min: 0, max: 100_000_000, expected: 'a whole number of tokens, 0 or more', above: 'longer than any chunk this tool sizes', below: 'negative' },
  /** prompt tokens that may be absent (a system prompt): 0 allowed */
  optionalTokens: { syntax: 'tokens', integer: true, min: 0, max: 100_000_000, expected: 'a whole number of tokens, 0 or more', above: 'longer than any context this tool sizes', below: 'negative' },
  dimension: count('vector dimensions', 65_536, 'wider than any embedding this tool sizes'),
  graphDegree: count('links per vector', 4_096, 'more links per vector than any graph index uses'),
  searchList: count('candidates', 1_000_000, 'a longer candidate list than any index search uses'),
  lists: count('inverted lists', 1e8, 'more inverted lists than any IVF index uses'),
  subquantizers: count('sub-quantizers', 65_536, 'more sub-quantizers than any PQ index uses'),
  pqBits: { syntax: 'count', integer: true, min: 1, max: 16, expected: 'bits per sub-quantizer code from 1 to 16, e.g. 8', above: 'more than the 16 bits a PQ code takes', below: 'not a positive whole number' },
  topK: count('passages', 100_000, 'more passages per query than this tool sizes'),
  /** a generic positive amount, for numbers without a domain of their own */
  amount: { syntax: 'number', integer: false, min: 1e-9, max: 1e15, expected: 'a positive number', above: 'too large to size', below: 'too small to size' },
} as const satisfies Record<string, Domain>;

export type Quantity = keyof typeof DOMAINS;

/** A bound as people read it: 1e15, 100000000, 0.001. */
export const showBound = (n: number): string => ((n >= 1e9 || n < 1e-3) && Number.isInteger(Math.log10(n)) ? `1e${Math.log10(n)}` : String(n));

/**
 * Why a number is outside its domain: 'invalid' (not a number, not positive, not whole: the
 * message says what is expected), 'above' or 'below' (the message states the bound), or
 * undefined when it is inside.
 */
export function outsideDomain(value: number, d: Domain): 'invalid' | 'above' | 'below' | undefined {
  if (Number.isNaN(value) || value < 0 || (value === 0 && d.min > 0) || (d.integer && Number.isFinite(value) && !Number.isInteger(value))) return 'invalid';
  if (value > d.max) return 'above';
  if (value < d.min) return 'below';
  return undefined;
}

/** A model's architecture field, its domain, and how messages name it. */
type FieldCheck = [field: string, value: number | undefined, q: Quantity | 'zeroOr', min?: number];

/**
 * Why an architecture cannot exist or is outside what this tool sizes, or undefined when it is
 * fine. Applied to every model however it was given (preset, config.json, Hub, architecture
 * flags, --params), so an estimator never sees zero layers, a head count that does not divide,
 * or a parameter count smaller than its own embedding. `name` is how messages name fields
 * ("config.json field" or "--").
 */
export function modelProblem(m: ModelSpec, fieldName: (field: string) => string): string | undefined {
  const checks: FieldCheck[] = [
    ['layers', m.layers, 'layers'], ['hidden', m.hidden, 'hidden'], ['heads', m.heads, 'heads'], ['kvHeads', m.kvHeads, 'heads'],
    ['headDim', m.headDim, 'headDim'], ['ffn', m.ffn, 'ffn'], ['vocab', m.vocab, 'vocab'], ['maxContext', m.maxContext, 'tokens'],
    ['learnedPositions', m.learnedPositions, 'zeroOr', DOMAINS.tokens.max], ['normsPerLayer', m.normsPerLayer, 'zeroOr', 16],
  ];
  if (m.moe) {
    checks.push(['experts', m.moe.experts, 'experts'], ['topK', m.moe.topK, 'experts'], ['expertFfn', m.moe.expertFfn, 'ffn']);
    checks.push(['sharedExperts', m.moe.sharedExperts, 'zeroOr', DOMAINS.experts.max], ['sharedFfn', m.moe.sharedFfn, 'zeroOr', DOMAINS.ffn.max], ['denseLayers', m.moe.denseLayers, 'zeroOr', m.layers]);
  }
  if (m.mla) {
    const { qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim } = m.mla;
    checks.push(['qLoraRank', qLoraRank, 'zeroOr', DOMAINS.hidden.max], ['kvLoraRank', kvLoraRank, 'hidden'], ['qkNopeHeadDim', qkNopeHeadDim, 'zeroOr', DOMAINS.headDim.max], ['qkRopeHeadDim', qkRopeHeadDim, 'zeroOr', DOMAINS.headDim.max], ['vHeadDim', vHeadDim, 'headDim']);
  }
  if (m.slidingWindow) checks.push(['slidingWindow', m.slidingWindow.window, 'tokens'], ['localLayers', m.slidingWindow.localLayers, 'zeroOr', m.layers]);
  if (m.mtpLayers) checks.push(['mtpLayers', m.mtpLayers, 'zeroOr', DOMAINS.layers.max]);
  if (m.visionParams) checks.push(['visionParams', m.visionParams, 'zeroOr', DOMAINS.params.max]);
  if (m.audioParams) checks.push(['audioParams', m.audioParams, 'zeroOr', DOMAINS.params.max]);
  if (m.paramsOverride !== undefined) checks.push(['params', m.paramsOverride, 'params']);
  for (const [field, value, q, max] of checks) {
    if (value === undefined) continue;
    const name = fieldName(field);
    if (q === 'zeroOr') {
      if (!Number.isInteger(value) || value < 0) return `${name} must be a whole number of at least 0, got ${value}`;
      if (value > max!) return `${name} ${value} is more than ${max} (${field === 'denseLayers' || field === 'localLayers' ? 'the model\'s layers' : 'the most this tool sizes'})`;
      continue;
    }
    const d = DOMAINS[q];
    const problem = outsideDomain(value, d);
    if (problem === 'invalid') return `${name} must be ${d.expected}, got ${value}`;
    if (problem === 'above') return `${name} ${value} is ${d.above} (at most ${showBound(d.max)})`;
    if (problem === 'below') return `${name} ${value} is ${d.below} (at least ${showBound(d.min)})`;
  }
  if (!m.mla && m.heads % m.kvHeads !== 0) return `${fieldName('kvHeads')} ${m.kvHeads} must divide ${fieldName('heads')} ${m.heads} (grouped-query attention shares each KV head among an equal number of query heads)`;
  if (m.moe && m.moe.topK > m.moe.experts) return `${fieldName('topK')} ${m.moe.topK} is more than the ${m.moe.experts} experts`;
  if (m.paramsOverride === undefined) {
    const total = paramsFigures({}, m).total;
    if (total > DOMAINS.params.max) return `the architecture has ${total.toPrecision(3)} parameters, ${DOMAINS.params.above} (at most ${showBound(DOMAINS.params.max)})`;
  }
  return undefined;
}
