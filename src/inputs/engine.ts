import { z } from 'zod';
import { parseQuantity } from '../units.js';
import type { Sourced } from './hardware.js';
import { presetFiles, readUserFile } from './files.js';
import { parseFile, type FileIssue } from './validate.js';

/**
 * Engine profiles (presets/engines/<id>.yaml): how a serving engine carves device memory into
 * weights, activations, runtime buffers and the KV cache, as data with sources. Loaded with zod
 * only at build time (scripts/build-presets.ts) and by `presets validate`; runs read the JSON.
 *
 * Budget kinds, each the formula its engine uses for the KV cache per device:
 *  - fraction-of-total (vLLM): f x capacity - weights - activations - runtime [- CUDA graphs in budget]
 *  - static-fraction-of-total (SGLang): f x capacity - weights (activations, graphs live outside)
 *  - fraction-of-free (TensorRT-LLM): f x (capacity - weights - activations - runtime)
 *  - all (llama.cpp, ideal): capacity - weights - activations - runtime
 */
export const ENGINE_BUDGET_KINDS = ['fraction-of-total', 'static-fraction-of-total', 'fraction-of-free', 'all'] as const;
export type EngineBudgetKind = (typeof ENGINE_BUDGET_KINDS)[number];

export const SCHEDULER_POLICIES = ['decode-first', 'prefill-first'] as const;
export type SchedulerPolicy = (typeof SCHEDULER_POLICIES)[number];

export interface EngineSpec {
  id: string;
  aliases: string[];
  name: string;
  version: string;
  budget: {
    kind: EngineBudgetKind;
    fraction: Sourced;
    /** fraction by tensor-parallel size: the entry with the largest minTp <= tp wins */
    byTensorParallel: { minTp: number; value: number }[];
    byTensorParallelSource?: string;
  };
  /** tokens of the activation-profiling forward pass; absent = computeBuffer or the workload's own */
  profileTokens?: Sourced;
  /** fixed compute buffer in bytes (llama.cpp), instead of profiled activations */
  computeBufferBytes?: Sourced;
  /** runtime memory counted by the engine, bytes; absent = the hardware profile's runtimeOverhead */
  runtimeBytes?: Sourced;
  cudaGraph?: Sourced & { inBudget: boolean };
  blockTokens: Sourced;
  paged: boolean;
  /**
   * Where recurrent state (linear attention, Mamba) lives for hybrid models: `shared` with the
   * KV cache (vLLM's hybrid allocator: one pool of pages), or a `separate` pool taking
   * `ratio / (1 + ratio)` of the budget (SGLang mamba_full_memory_ratio). Absent = shared.
   */
  statePool?: { kind: 'shared' | 'separate'; ratio?: number; source: string };
  /** the format the engine keeps SSM / delta-rule state in regardless of the model (SGLang: float32) */
  recurrentStateFormat?: 'fp32';
  /** sequences the scheduler runs at once by default (vLLM max_num_seqs); more wait in the queue */
  maxNumSeqs?: Sourced;
  /** the launch flag that raises that limit (vLLM --max-num-seqs), for warnings and plan's launch flags */
  maxNumSeqsFlag?: string;
  /**
   * Tokens one engine step may carry, decodes and prompt chunks together (vLLM
   * max_num_batched_tokens, SGLang chunked_prefill_size, llama.cpp n_batch); absent = the
   * profile's profileTokens (the same budget, which vLLM and TensorRT-LLM profile with), else none.
   */
  maxNumBatchedTokens?: Sourced;
  /**
   * Who goes first when prompts wait: decode-first (running decodes and chunked prompts share
   * every step: vLLM V1, TensorRT-LLM in-flight batching, llama.cpp) or prefill-first (a prompt
   * batch runs alone and the decodes wait: SGLang). The simulator follows it (simulate.ts).
   */
  schedulerPolicy?: { value: SchedulerPolicy; source: string };
  /** whether a prompt longer than the step's budget is split over steps */
  chunkedPrefill?: { value: boolean; source: string };
  notes?: string[];
}

const source = z.string().min(1, 'every value needs a source');
const bytes = z.string().transform((text, ctx): number => {
  const parsed = parseQuantity(text, 'bytes');
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: `"${text}": ${parsed.reason}` });
    return z.NEVER;
  }
  return parsed.value;
});
const sourcedBytes = z.strictObject({ value: bytes, source, note: z.string().optional() });
const sourcedCount = z.strictObject({ value: z.number().int().positive(), source, note: z.string().optional() });
const sourcedFraction = z.strictObject({ value: z.number().gt(0).max(1), source, note: z.string().optional() });

export const engineFileSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'ids are lower-case slugs like "vllm"'),
  aliases: z.array(z.string()).default([]),
  name: z.string().min(1),
  version: z.string().min(1),
  memory: z.strictObject({
    budget: z.strictObject({
      kind: z.enum(ENGINE_BUDGET_KINDS),
      fraction: sourcedFraction,
      byTensorParallel: z.array(z.strictObject({ minTp: z.number().int().positive(), value: z.number().gt(0).max(1) })).default([]),
      byTensorParallelSource: z.string().optional(),
    }),
    profileTokens: sourcedCount.optional(),
    computeBuffer: sourcedBytes.optional(),
    runtime: z.union([z.literal('hardware'), sourcedBytes]).default('hardware'),
    cudaGraph: z.strictObject({ value: bytes, inBudget: z.boolean(), source }).optional(),
  }),
  kvCache: z.strictObject({ blockTokens: sourcedCount, paged: z.boolean() }),
  stateCache: z.strictObject({
    pool: z.enum(['shared', 'separate']),
    ratio: z.number().positive().optional(),
    recurrentFormat: z.enum(['fp32', 'activation']).default('activation'),
    source,
  }).optional(),
  scheduler: z.strictObject({
    maxNumSeqs: sourcedCount.optional(),
    maxNumSeqsFlag: z.string().regex(/^-{1,2}[A-Za-z0-9_-]+$/, 'a launch flag such as --max-num-seqs').optional(),
    maxNumBatchedTokens: sourcedCount.optional(),
    policy: z.strictObject({ value: z.enum(SCHEDULER_POLICIES), source }).optional(),
    chunkedPrefill: z.strictObject({ value: z.boolean(), source }).optional(),
  }).default({}),
  notes: z.array(z.string()).optional(),
});

export type EngineFile = z.infer<typeof engineFileSchema>;

/** Engine file (validated) -> EngineSpec in base units. */
export function toEngineSpec(f: EngineFile): EngineSpec {
  const m = f.memory;
  return {
    id: f.id,
    aliases: f.aliases,
    name: f.name,
    version: f.version,
    budget: { kind: m.budget.kind, fraction: m.budget.fraction, byTensorParallel: [...m.budget.byTensorParallel].sort((a, b) => a.minTp - b.minTp), byTensorParallelSource: m.budget.byTensorParallelSource },
    profileTokens: m.profileTokens,
    computeBufferBytes: m.computeBuffer,
    runtimeBytes: m.runtime === 'hardware' ? undefined : m.runtime,
    cudaGraph: m.cudaGraph,
    blockTokens: f.kvCache.blockTokens,
    paged: f.kvCache.paged,
    statePool: f.stateCache ? { kind: f.stateCache.pool, ratio: f.stateCache.ratio, source: f.stateCache.source } : undefined,
    recurrentStateFormat: f.stateCache?.recurrentFormat === 'fp32' ? 'fp32' : undefined,
    maxNumSeqs: f.scheduler.maxNumSeqs,
    maxNumSeqsFlag: f.scheduler.maxNumSeqsFlag,
    maxNumBatchedTokens: f.scheduler.maxNumBatchedTokens,
    schedulerPolicy: f.scheduler.policy,
    chunkedPrefill: f.scheduler.chunkedPrefill,
    notes: f.notes,
  };
}

/** Reads and validates engine profiles; problems come back with file, line and field. */
export function loadEngineFiles(paths: string[]): { engines: EngineSpec[]; issues: FileIssue[] } {
  const engines: EngineSpec[] = [];
  const issues: FileIssue[] = [];
  for (const file of paths.flatMap((p) => presetFiles(p, 'presets'))) {
    const parsed = parseFile(file, readUserFile(file, 'presets'), engineFileSchema);
    if (parsed.ok) engines.push(toEngineSpec(parsed.value));
    else issues.push(...parsed.issues);
  }
  return { engines, issues };
}
