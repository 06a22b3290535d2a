import { z } from 'zod';
import { didYouMean, quote, UserError } from '../errors.js';
import { DOMAINS, modelProblem, type Quantity } from './domains.js';
import type { ModelSpec } from './model.js';
import type { EngineOptions } from '../estimate/engine.js';
import type { EstimateInput } from '../estimate/input.js';
import { DISTILL_DATA, type DistillInput } from '../estimate/distill.js';
import type { TrainInput } from '../estimate/training.js';
import { SPARSITY_PATTERNS } from '../estimate/pruning.js';
import { SPECULATIVE_METHODS } from '../estimate/speculative.js';
import { LORA_SERVING_TARGETS } from '../estimate/lora-serving.js';
import { KV_TIERS } from '../estimate/kv-offload.js';
import { ALL_TO_ALL_MODES } from '../estimate/expert-parallel.js';
import type { Parallel } from '../estimate/parallel.js';
import type { OwnedCost } from '../estimate/owned.js';
import { PRICE_KINDS } from './hardware.js';

/**
 * zod schemas for what the library's exported functions take (src/index.ts), so that a caller's
 * mistake (a BigInt, null, a missing field, a number outside its domain) is a UserError with
 * the message the CLI prints for the same value, never a TypeError from inside an estimator.
 */

/** The first problem zod found, as one UserError naming `where` and the field path. */
export function check<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.map(String).join('.');
  throw new UserError(`${where}${path ? `.${path}` : ''}: ${issue.message}`);
}

/** A value an option may take: what a flag or a spec-file key can hold. */
const optionValue = z.union([z.string(), z.number(), z.boolean(), z.undefined()], {
  error: (issue) => `invalid value ${quote(issue.input)}; expected a string, a number or true/false, as on the command line`,
});

/**
 * The options object of estimate, train or plan: a plain object whose keys are the command's
 * options and whose values are single values.
 */
export function optionsSchema(keys: readonly string[]) {
  return z
    .record(z.string(), optionValue, { error: (issue) => `expected an object of options such as { model: 'llama-3.1-8b', gpu: 'h100-sxm' }, got ${quote(issue.input)}` })
    .superRefine((o, ctx) => {
      for (const key of Object.keys(o)) {
        if (!keys.includes(key)) ctx.addIssue({ code: 'custom', path: [], message: `unknown option ${quote(key)}${didYouMean(key, keys)} (accepted: ${keys.join(', ')})` });
      }
    });
}

// ---- resolved inputs (estimateFromInput, trainFromInput) ----

const inDomain = (q: Quantity) => z.number().refine((v) => Number.isFinite(v) && v >= DOMAINS[q].min && v <= DOMAINS[q].max && (!DOMAINS[q].integer || Number.isInteger(v)), { message: `expected ${DOMAINS[q].expected}, from ${DOMAINS[q].min} to ${DOMAINS[q].max}` });
const nonNegative = z.number().finite().min(0);
const sourced = z.looseObject({ value: z.number().finite().min(0).nullable(), source: z.string() });
const knownPositive = z.looseObject({ value: z.number().finite().positive().min(1e-12), source: z.string() });

const format = z.looseObject({ id: z.string(), label: z.string(), elementBits: z.number().finite().positive().max(64), groupSize: nonNegative.max(1e6), scaleBits: nonNegative.max(1024), compute: z.string() });

const modelSpec = z
  .looseObject({
    id: z.string(), name: z.string(), family: z.string(), layers: z.number(), hidden: z.number(), vocab: z.number(), heads: z.number(), kvHeads: z.number(),
    headDim: z.number(), ffn: z.number(), tiedEmbeddings: z.boolean(), gatedMlp: z.boolean(), norm: z.enum(['rms', 'layer']), normsPerLayer: z.number(),
    qkNorm: z.boolean(), qkvBias: z.boolean(), outBias: z.boolean(), mlpBias: z.boolean(), learnedPositions: z.number(), maxContext: z.number(),
  })
  .superRefine((m, ctx) => {
    const problem = modelProblem(m as unknown as ModelSpec, (field) => field);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const link = z.looseObject({ name: z.string(), bandwidth: knownPositive, latency: sourced });

const hardware = z.looseObject({
  id: z.string(), name: z.string(), architecture: z.looseObject({ id: z.string(), name: z.string(), capability: z.number().int().positive().optional() }).optional(), memoryBytes: knownPositive, memoryBandwidth: knownPositive,
  compute: z.record(z.string(), sourced).refine((c) => Object.values(c).some((s) => (s.value ?? 0) > 0), 'needs at least one known compute peak'),
  intraNode: link.optional(), interNode: link.optional(), devicesPerNode: inDomain('devices'), domain: z.looseObject({ devices: inDomain('devices') }).optional(), tdpWatts: sourced, serverWatts: sourced.optional(), runtimeOverheadBytes: sourced,
  efficiency: z.looseObject({ mfu: knownPositive, mbu: knownPositive, stepOverheadSeconds: sourced }), prices: z.array(z.unknown()),
});

const text = z.string();
const usd = z.looseObject({ usdPerHour: inDomain('usdPerHour'), source: text });

/** owned hardware's hourly price in parts (src/estimate/owned.ts) */
const owned = z.strictObject({
  purchaseUsd: inDomain('usdPerDevice'), amortizeYears: inDomain('years'), amortizedUsdPerHour: z.number().nonnegative(),
  deviceWatts: z.number().nonnegative(), deviceWattsSource: text, serverFactor: z.number().positive(),
  pue: inDomain('pue'), pueSource: text, usdPerKwh: inDomain('usdPerKwh'), usdPerKwhSource: text, hostingUsdPerKwMonth: inDomain('usdPerKwMonth'), hostingSource: text,
  powerUsdPerHour: z.number().nonnegative(), hostingUsdPerHour: z.number().nonnegative(), usdPerHour: inDomain('usdPerHour'),
} satisfies Record<keyof OwnedCost, z.ZodType>);

/** --input-tokens / --output-tokens distributions (src/inputs/traffic.ts gives the same bounds to the flags). */
const tokens = inDomain('tokens');
const length = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fixed'), value: tokens }),
  z.strictObject({ kind: z.literal('uniform'), min: tokens, max: tokens }),
  z.strictObject({ kind: z.literal('lognormal'), mean: tokens, sd: z.number().finite().min(0), min: tokens, max: tokens }),
  z.strictObject({ kind: z.literal('zipf'), s: z.number().finite().positive().max(10), min: tokens, max: tokens }),
  z.strictObject({ kind: z.literal('trace'), values: z.array(tokens).min(1).max(10_000_000), file: text, column: text }),
]).refine((d) => !('min' in d) || d.max >= d.min, 'max is below min');
const arrival = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('poisson') }),
  z.strictObject({ kind: z.literal('gamma'), cv: inDomain('arrivalCv') }),
  z.strictObject({ kind: z.literal('constant') }),
  z.strictObject({ kind: z.literal('trace'), times: z.array(z.number().finite().min(0).max(1e9)).min(1).max(10_000_000), file: text }),
]);
const traffic = z.strictObject({ input: length, output: length, workload: text.optional(), arrival: arrival.optional() });

/** --region / --grid-gco2-per-kwh, --pue */
const carbon = z.strictObject({ gco2PerKwh: inDomain('gco2PerKwh'), source: text, pue: inDomain('pue'), pueSource: text });

/** --gpu-memory-utilization ... --mamba-full-memory-ratio (src/inputs/resolve.ts resolveEngineOptions) */
const engineOptionFields = {
  gpuMemoryUtilization: inDomain('fraction').optional(),
  maxNumBatchedTokens: tokens.optional(),
  maxNumSeqs: inDomain('batch').optional(),
  enforceEager: z.boolean().optional(),
  blockSize: tokens.optional(),
  maxMambaCacheSize: inDomain('batch').optional(),
  mambaFullMemoryRatio: inDomain('memoryRatio').optional(),
  numSchedulerSteps: inDomain('schedulerSteps').optional(),
} satisfies Record<keyof EngineOptions, z.ZodType>;

/** An engine profile as loadPresets returns it (src/inputs/engine.ts): the parts every estimate reads. */
const engine = z.looseObject({
  id: text, name: text, version: text,
  budget: z.looseObject({ kind: z.enum(['fraction-of-total', 'fraction-of-free', 'static-fraction', 'exact', 'all']) }),
  kvCache: z.looseObject({ blockTokens: z.looseObject({ value: tokens, source: text }), paged: z.boolean() }),
  statePool: z.looseObject({ kind: z.enum(['shared', 'separate']), ratio: inDomain('memoryRatio').optional(), slots: inDomain('batch').optional() }).optional(),
});

/** --images / --image-size as resolved (src/estimate/images.ts ImageTokens) */
const pixels = z.number().int().min(1).max(65_536);
const images = z.strictObject({
  count: inDomain('images'), width: pixels, height: pixels,
  perImage: z.strictObject({ tokens, embeddings: z.number().int().min(0).max(DOMAINS.tokens.max), encoderTokens: z.number().int().min(0).max(DOMAINS.tokens.max), attention: z.array(z.tuple([z.number().finite().min(0), z.number().finite().min(0)])), note: text }),
});

/** --sparsity and --prune (src/estimate/pruning.ts) */
const share = z.number().finite().min(0).lt(1);
const pruning = z.strictObject({
  sparsity: z.enum(SPARSITY_PATTERNS).optional(),
  structured: z.strictObject({ layers: z.number().int().min(0).max(DOMAINS.layers.max), ffn: share, heads: share }).optional(),
  baseline: z.strictObject({ model: modelSpec, weights: format }),
});

/** --speculative, --draft-tokens, --acceptance / --accepted-length (src/estimate/speculative.ts) */
const speculative = z.strictObject({
  method: z.enum(SPECULATIVE_METHODS), draft: modelSpec.optional(), draftTokens: inDomain('draftTokens'),
  acceptance: inDomain('acceptance').optional(), acceptedLength: inDomain('acceptedLength').optional(), source: text,
}).refine((x) => (x.acceptance === undefined) !== (x.acceptedLength === undefined), 'give exactly one of acceptance and acceptedLength');

/** --prefix-tokens, --cache-hit-rate (src/estimate/prefix.ts) */
const prefixCache = z.strictObject({ prefixTokens: tokens.optional(), hitRate: inDomain('share'), source: text });

/** --lora-adapters, --lora-rank, --lora-targets (src/estimate/lora-serving.ts) */
const lora = z.strictObject({ adapters: inDomain('adapters'), rank: inDomain('loraRank'), targets: z.array(z.enum(LORA_SERVING_TARGETS)).min(1), source: text });

/** --kv-offload (src/estimate/kv-offload.ts): tiers per device, over the host link */
const kvOffload = z.strictObject({
  tiers: z.array(z.strictObject({ tier: z.enum(KV_TIERS), bytesPerDevice: z.number().finite().min(2 ** 20).max(2 ** 50) })).min(1),
  hostLink: link, hostMemoryBytes: z.number().finite().positive().optional(), source: text,
});

/** --gpu-layers, --cpu-moe / --n-cpu-moe, --host-cpu (src/estimate/offload.ts) */
const weightOffload = z.strictObject({ gpuLayers: inDomain('gpuLayers'), cpuMoeLayers: inDomain('gpuLayers'), host: hardware, hostLink: link, source: text });

/**
 * Every field of EstimateInput (src/estimate/input.ts) with the domain the CLI checks it in;
 * `satisfies` makes a field added to EstimateInput without a schema here a compile error, and
 * the object is strict, so an unknown field is refused instead of passing through unchecked.
 */
const estimateInputFields = {
  model: modelSpec, weights: format, kv: format, activations: format,
  workload: z.strictObject({ batch: inDomain('batch'), inputTokens: tokens, outputTokens: tokens, context: tokens, identicalSequences: z.boolean().optional() }),
  images: images.optional(),
  hardware, count: inDomain('devices'),
  parallel: z.strictObject({ tp: inDomain('devices'), pp: inDomain('devices'), ep: inDomain('devices'), replicas: inDomain('devices'), dpAttention: inDomain('devices').optional(), redundantExperts: inDomain('redundantExperts').optional() } satisfies Record<keyof Parallel, z.ZodType>).optional(),
  expertParallel: z.strictObject({ allToAll: z.enum(ALL_TO_ALL_MODES).optional(), imbalance: inDomain('imbalance').optional() }).optional(),
  gpusPerNode: inDomain('devices').optional(),
  engine: engine.optional(),
  engineOptions: z.strictObject(engineOptionFields).optional(),
  engineReason: text.optional(),
  load: z.strictObject({ qps: inDomain('qps').optional(), concurrency: inDomain('concurrency').optional(), replicasGiven: z.boolean().optional() }).optional(),
  price: usd.extend({ purchaseUsd: inDomain('usdPerDevice').optional(), amortizeYears: inDomain('years').optional(), kind: z.enum(PRICE_KINDS).optional(), owned: owned.optional() }).optional(),
  mfu: inDomain('fraction').optional(), mbu: inDomain('fraction').optional(), powerWatts: inDomain('watts').optional(), usdPerKwh: inDomain('usdPerKwh').optional(),
  carbon: carbon.optional(),
  traffic: traffic.optional(),
  pruning: pruning.optional(),
  speculative: speculative.optional(),
  prefixCache: prefixCache.optional(),
  lora: lora.optional(),
  kvOffload: kvOffload.optional(),
  weightOffload: weightOffload.optional(),
  hostCpu: hardware.optional(),
} satisfies Record<keyof EstimateInput, z.ZodType>;

/** What estimateFromInput takes: an EstimateInput with every number in its domain. */
export const estimateInputSchema = z.strictObject(estimateInputFields);
export const ESTIMATE_INPUT_FIELDS = Object.keys(estimateInputFields);

/** --method distill (src/estimate/distill.ts DistillInput) */
const distill = z.strictObject({
  teacher: modelSpec, data: z.enum(DISTILL_DATA), teacherTokens: inDomain('trainingTokens').optional(), colocated: z.boolean(),
  teacherHardware: hardware, teacherCount: inDomain('devices'), teacherPrice: usd.optional(),
  teacherUtilisation: z.looseObject({ value: inDomain('fraction'), source: text }),
  generation: estimateInputSchema, serveStudent: estimateInputSchema, serveTeacher: estimateInputSchema, carbon: carbon.optional(),
} satisfies Record<keyof DistillInput, z.ZodType>);

/** Every field of TrainInput (src/estimate/training.ts), checked as estimateInputFields are. */
const trainInputFields = {
  model: modelSpec, hardware, count: inDomain('devices'), precision: text, method: text, optimizer: text, zero: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  recompute: text, sequenceParallel: z.boolean(), tp: inDomain('devices'), pp: inDomain('devices'), cp: inDomain('devices'), seqLen: tokens,
  microBatch: inDomain('batch'), globalBatch: inDomain('globalBatch'), virtualStages: inDomain('layers').optional(), tokens: inDomain('trainingTokens').optional(),
  lora: z.strictObject({ rank: inDomain('loraRank'), targets: z.array(text) }), mfu: inDomain('fraction').optional(), goodput: inDomain('fraction').optional(), price: usd.optional(), powerWatts: inDomain('watts').optional(),
  carbon: carbon.optional(), distill: distill.optional(),
} satisfies Record<keyof TrainInput, z.ZodType>;

/** What trainFromInput takes: a TrainInput with every number in its domain. */
export const trainInputSchema = z.strictObject(trainInputFields);
export const TRAIN_INPUT_FIELDS = Object.keys(trainInputFields);

/** loadPresets' paths: a list of file or folder paths. */
export const pathsSchema = z.array(z.string().min(1), { error: (issue) => `expected a list of preset files or folders, got ${quote(issue.input)}` });

/** The second argument of estimate, train and plan. */
export const catalogOptionSchema = z.looseObject({
  catalog: z.looseObject({ hardware: z.array(z.looseObject({ id: z.string(), aliases: z.array(z.string()) })), models: z.array(z.looseObject({ id: z.string(), aliases: z.array(z.string()), model: z.looseObject({}) })) }).optional(),
  hub: z.looseObject({ repo: z.string(), revision: z.string(), config: z.record(z.string(), z.unknown()), warnings: z.array(z.string()) }).optional(),
}, { error: (issue) => `expected { catalog?, hub? }, got ${quote(issue.input)}` });

/** fetchHub's options (the same object estimate takes: only hf and offline are read) and settings. */
export const hubOptionsSchema = z.looseObject({ hf: z.union([z.string(), z.undefined()], { error: (issue) => `invalid value ${quote(issue.input)}; expected <org>/<name>[@revision]` }).optional(), offline: z.union([z.boolean(), z.string(), z.undefined()]).optional() }, { error: (issue) => `expected an object of options such as { hf: 'Qwen/Qwen3-8B' }, got ${quote(issue.input)}` });
export const hubSettingsSchema = z.looseObject({ env: z.record(z.string(), z.union([z.string(), z.undefined()])).optional() }, { error: (issue) => `expected { env? }, got ${quote(issue.input)}` });

/** renderOutput's arguments. */
export const renderSchema = z.object({
  format: z.enum(['table', 'json', 'yaml', 'csv', 'markdown'], { error: (issue) => `unknown format ${quote(issue.input)} (accepted: table, json, yaml, csv, markdown)` }),
  output: z.looseObject({ document: z.unknown() }, { error: (issue) => `expected an output such as { document, figures }, got ${quote(issue.input)}` }),
  color: z.boolean().default(false),
});
