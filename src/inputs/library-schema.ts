import { z } from 'zod';
import { didYouMean, quote, UserError } from '../errors.js';
import { DOMAINS, modelProblem, type Quantity } from './domains.js';
import type { ModelSpec } from './model.js';

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
  id: z.string(), name: z.string(), memoryBytes: knownPositive, memoryBandwidth: knownPositive,
  compute: z.record(z.string(), sourced).refine((c) => Object.values(c).some((s) => (s.value ?? 0) > 0), 'needs at least one known compute peak'),
  intraNode: link.optional(), interNode: link.optional(), devicesPerNode: inDomain('devices'), domain: z.looseObject({ devices: inDomain('devices') }).optional(), tdpWatts: sourced, runtimeOverheadBytes: sourced,
  efficiency: z.looseObject({ mfu: knownPositive, mbu: knownPositive, stepOverheadSeconds: sourced }), prices: z.array(z.unknown()),
});

const price = z.looseObject({ usdPerHour: inDomain('usdPerHour'), source: z.string() }).optional();

/** What estimateFromInput takes: an EstimateInput (src/estimate/input.ts) with every number in its domain. */
export const estimateInputSchema = z.looseObject({
  model: modelSpec, weights: format, kv: format, activations: format,
  workload: z.looseObject({ batch: inDomain('batch'), inputTokens: inDomain('tokens'), outputTokens: inDomain('tokens'), context: inDomain('tokens') }),
  hardware, count: inDomain('devices'),
  parallel: z.looseObject({ tp: inDomain('devices'), pp: inDomain('devices'), ep: inDomain('devices'), replicas: inDomain('devices'), dpAttention: inDomain('devices').optional(), redundantExperts: inDomain('redundantExperts').optional() }).optional(),
  expertParallel: z.looseObject({ imbalance: inDomain('imbalance').optional() }).optional(),
  gpusPerNode: inDomain('devices').optional(),
  load: z.looseObject({ qps: inDomain('qps').optional(), concurrency: inDomain('concurrency').optional() }).optional(),
  price, mfu: inDomain('fraction').optional(), mbu: inDomain('fraction').optional(), powerWatts: inDomain('watts').optional(), usdPerKwh: inDomain('usdPerKwh').optional(),
});

/** What trainFromInput takes: a TrainInput (src/estimate/training.ts) with every number in its domain. */
export const trainInputSchema = z.looseObject({
  model: modelSpec, hardware, count: inDomain('devices'), precision: z.string(), method: z.string(), optimizer: z.string(), zero: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  recompute: z.string(), sequenceParallel: z.boolean(), tp: inDomain('devices'), pp: inDomain('devices'), cp: inDomain('devices'), seqLen: inDomain('tokens'),
  microBatch: inDomain('batch'), globalBatch: inDomain('globalBatch'), tokens: inDomain('trainingTokens').optional(),
  lora: z.looseObject({ rank: inDomain('loraRank'), targets: z.array(z.string()) }), mfu: inDomain('fraction').optional(), price, powerWatts: inDomain('watts').optional(),
});

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
