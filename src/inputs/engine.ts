import { z } from 'zod';
import { parseQuantity } from '../units.js';
import type { Sourced } from './hardware.js';
import { presetFiles, readUserFile } from './files.js';
import { parseFile, type FileIssue } from './validate.js';
import { compareVersions } from './engine-choice.js';

/**
 * Engine profiles (presets/engines/<id>-<version>.yaml): how one version of a serving engine
 * carves device memory into weights, activations, runtime buffers and the KV cache, which
 * devices, weight formats and KV types it runs, its scheduler defaults and its launch flags, as
 * data with the engine source file each value follows. Loaded with zod only at build time
 * (scripts/build-presets.ts) and by `presets validate`; runs read the JSON.
 *
 * Budget kinds, each the formula its engine uses for the KV cache per device (src/estimate/engine.ts):
 *  - fraction-of-total (vLLM): f x capacity - weights - activation peak - non-torch memory [- CUDA graphs]
 *  - static-fraction (SGLang): f x (capacity - memory gone at start) - weights
 *  - fraction-of-free (TensorRT-LLM): f x (capacity - weights - activation peak - memory outside torch)
 *  - exact (llama.cpp): KV for exactly n_ctx tokens; fits when weights + KV + compute buffer fit
 *  - all (ideal): capacity - weights - activations - runtime
 */
export const ENGINE_BUDGET_KINDS = ['fraction-of-total', 'static-fraction', 'fraction-of-free', 'exact', 'all'] as const;
export type EngineBudgetKind = (typeof ENGINE_BUDGET_KINDS)[number];

export const SCHEDULER_POLICIES = ['decode-first', 'prefill-first'] as const;
export type SchedulerPolicy = (typeof SCHEDULER_POLICIES)[number];
/** How an engine hands requests to its data-parallel ranks (attention DP): in turn, or to the rank holding the fewest. */
export const DP_DISPATCH = ['round-robin', 'fewest'] as const;
export type DataParallelDispatch = (typeof DP_DISPATCH)[number];

/** Device classes an engine runs on, as `<vendor>-<kind>` of a hardware profile (nvidia-gpu, google-tpu, apple-soc). */
/** vendor-kind of the hardware presets; the CPU classes are the sockets of presets/hardware kind cpu (docs/levers.md) */
export const DEVICE_CLASSES = ['nvidia-gpu', 'nvidia-soc', 'amd-gpu', 'google-tpu', 'intel-hpu', 'apple-soc', 'qualcomm-soc', 'amd-cpu', 'intel-cpu', 'aws-cpu', 'ampere-cpu'] as const;

/**
 * A value that depends on the device and the parallel group: the first rule whose conditions
 * all hold wins, else `value`. Memory bounds are device memory in bytes, `tp` the
 * tensor-parallel size, `devices` / `except` hardware preset ids.
 */
export interface DeviceRule {
  minMemoryBytes?: number;
  belowMemoryBytes?: number;
  minTp?: number;
  belowTp?: number;
  devices?: string[];
  except?: string[];
  value: number;
}

export interface ByDevice extends Sourced {
  value: number;
  rules: DeviceRule[];
}

/** SGLang's mem_fraction_static heuristic: (memory - reserve) / memory, the reserve in bytes. */
export interface FractionReserve {
  baseBytes: number;
  /** per token of max(chunked_prefill_size, minChunkTokens) */
  perChunkTokenBytes: number;
  minChunkTokens: number;
  /** per sequence of cuda_graph_max_bs */
  perGraphBatchBytes: number;
  /** per device of tp x pp */
  perParallelDeviceBytes: number;
  /** above this much device memory the reserve is at least floorBytes */
  floor?: { aboveMemoryBytes: number; bytes: number };
  /** decimals the fraction is rounded to */
  roundTo: number;
  source: string;
}

/** CUDA graphs an engine captures: batch sizes per mode and the memory one graph takes. */
export interface CudaGraphSpec {
  /** memory one captured graph adds to the graph pool, bytes */
  perGraph: Sourced & { value: number };
  /** captured batch sizes: explicit sizes plus ranges [from, to, step] */
  sizes: { explicit: number[]; ranges: [number, number, number][] };
  /** graph modes; each captures the sizes up to min(maxNumSeqs x seqsFactor, cap) */
  modes: { name: string; seqsFactor: number; cap: number }[];
  /** true when the engine subtracts graph memory from the KV budget */
  inBudget: boolean;
  source: string;
}

/** Launch-line template: the command and the engine's flag for each knob (absent = not set). */
export interface LaunchSpec {
  command: string;
  flags: Partial<Record<LaunchKnob, string>>;
  /** KV format id -> the engine's cache-type value */
  kvTypes: Record<string, string>;
  /** weight format id -> the engine's quantization value (absent: the checkpoint says) */
  quantization: Record<string, string>;
  /**
   * With attention data parallelism (flags.dpAttention): whether the tp flag counts every rank of
   * the replica (`replica`: SGLang --tp-size with --dp-size) or one attention group's
   * (`group`: vLLM --tensor-parallel-size with --data-parallel-size). Absent = replica.
   */
  dataParallelTp?: 'replica' | 'group';
  /**
   * Attention data parallelism set outside the command line (TensorRT-LLM: enable_attention_dp in
   * --extra_llm_api_options), and whether the batch flag then counts one rank's sequences.
   */
  attentionDp?: { option: string; batchPerRank: boolean; source: string };
  note?: string;
}
/**
 * Knobs a launch line sets (presets/engines launch.flags): the layout (tp, pp, ep; dpAttention
 * and redundantExperts for attention data parallelism and EPLB), the scheduler and memory.
 */
export const LAUNCH_KNOBS = ['tp', 'pp', 'ep', 'dpAttention', 'redundantExperts', 'maxNumSeqs', 'context', 'fraction', 'kvType', 'quantization', 'split', 'gpuLayers', 'parallel'] as const;
export type LaunchKnob = (typeof LAUNCH_KNOBS)[number];

/**
 * One rule of which kernel runs a weight format on which devices (presets/engines
 * supports.byArchitecture, src/estimate/kernels.ts): NVIDIA devices of at least `minCapability`
 * (major x 10 + minor, as vLLM's get_min_capability), devices whose architecture id is in `arch`
 * (gfx942), or with neither every device the engine runs. The first rule that matches decides.
 */
export interface KernelRule {
  minCapability?: number;
  arch?: string[];
  /** native: the format's own matrix units; weight-only: dequantized to the activation type (Marlin) */
  kernel: 'native' | 'weight-only';
  /** the kernel's name, for messages ("FP8 Marlin") */
  via?: string;
  source: string;
}

export interface EngineSpec {
  id: string;
  aliases: string[];
  name: string;
  /** the engine version this profile follows (pin: --engine vllm@0.10) */
  version: string;
  /** the first release it covers: a pin @X picks the newest profile with from <= X */
  from: string;
  /** the releases it covers, in words */
  versions: string;
  /** engine source files this profile follows, file@version */
  follows: string[];
  /** device classes, weight and KV formats it runs; `byArchitecture`: per weight format (or `*`, every format) the architectures it runs them on */
  supports: { devices: string[]; weights: string[]; kv: string[]; byArchitecture?: Record<string, KernelRule[]> };
  /** among engines that run the device and format, the lowest rank is the default */
  defaultRank: number;
  budget: {
    kind: EngineBudgetKind;
    /** the engine's memory fraction (vLLM gpu_memory_utilization, SGLang mem_fraction_static, TensorRT-LLM free_gpu_memory_fraction) */
    fraction?: ByDevice;
    /** SGLang >= 0.5.3 derives mem_fraction_static from a reserve instead */
    reserve?: FractionReserve;
  };
  /** the activation-profiling pass: sampler buffers per max_num_seqs sequence, and V0's whole-prompt profile */
  profile?: {
    /** false when the engine measures memory in use rather than the pass's peak (vLLM TPU) */
    forwardPass: boolean;
    /** fp32 [max_num_seqs, vocab] tensors alive at the sampler's peak */
    samplerCopies: Sourced & { value: number };
    /** V0 without chunked prefill profiles max(max_model_len, max_num_batched_tokens) tokens up to this context */
    wholeContextUpTo?: Sourced & { value: number; minTokens: number };
    /** the weights count (1 + this) times (vLLM TPU: profiled = bytes in use x 1.02) */
    weightOverhead?: Sourced & { value: number };
  };
  /** llama.cpp: compute buffer of n_ubatch tokens x (vocab + hidden) fp32 */
  computeBuffer?: { ubatch: Sourced & { value: number } };
  /** memory the engine's profiler counts outside torch (cuBLAS workspaces, NCCL buffers), bytes per device */
  nonTorch?: ByDevice;
  /** memory already gone when the engine measures free memory at start (on top of the hardware's runtime overhead), bytes per device */
  startup?: ByDevice;
  cudaGraph?: CudaGraphSpec;
  kvCache: {
    blockTokens: Sourced & { value: number };
    paged: boolean;
    /** llama.cpp pads n_ctx up to a multiple of this */
    padTokens?: number;
    /** the cache pads each head to a multiple of this many elements (vLLM TPU: 128) */
    headDimAlignment?: number;
    /** the cache's own type when none is asked for (llama.cpp: f16 whatever the weights); absent = the activation type */
    defaultType?: { value: string; source: string };
    /**
     * exact engines: cells a sliding-window layer allocates per sequence, at most the context's.
     * `window` (MLX RotatingKVCache(max_size = sliding_window)), or `window+ubatch` (llama.cpp
     * llama_kv_cache_iswa: n_swa + n_ubatch, padded to padTokens). Absent = window.
     */
    windowCells?: { value: 'window' | 'window+ubatch'; source: string };
  };
  scheduler: {
    /** sequences run at once by default (vLLM max_num_seqs); more wait in the queue */
    maxNumSeqs?: ByDevice;
    /** tokens per forward pass: the profiling pass (vLLM max_num_batched_tokens, SGLang chunked_prefill_size) */
    maxNumBatchedTokens?: ByDevice;
    /** CUDA graph batch sizes up to this (SGLang cuda_graph_max_bs) */
    graphMaxBatch?: ByDevice;
    /** the engine plans several decode steps at once when launched so (vLLM V0 --num-scheduler-steps) */
    multiStep?: { source: string };
  };
  /** how several devices split the model: tensor (TP groups) or layer (llama.cpp --split-mode layer) */
  multiDevice: {
    default: 'tensor' | 'layer'; modes: ('tensor' | 'layer')[]; source: string;
    /** the most devices one replica runs on (llama.cpp: GGML_CUDA_MAX_DEVICES) */
    maxDevices?: { value: number; source: string };
    /** a replica stays within one node (llama.cpp without its RPC backend) */
    singleNode?: { source: string };
  };
  launch?: LaunchSpec;
  /**
   * Where recurrent state (linear attention, Mamba) lives for hybrid models: `shared` with the
   * KV cache (vLLM's hybrid allocator: one pool of pages), or a `separate` pool taking
   * `ratio / (1 + ratio)` of the budget (SGLang mamba_full_memory_ratio). Absent = shared.
   */
  statePool?: StatePool;
  /** the format the engine keeps SSM / delta-rule state in regardless of the model (SGLang: float32) */
  recurrentStateFormat?: 'fp32';
  /**
   * Who goes first when prompts wait: decode-first (running decodes and chunked prompts share
   * every step: vLLM V1, TensorRT-LLM in-flight batching, llama.cpp) or prefill-first (a prompt
   * batch runs alone and the decodes wait: SGLang). The simulator follows it (simulate.ts).
   */
  schedulerPolicy?: { value: SchedulerPolicy; source: string };
  /**
   * With attention data parallelism, how requests reach the ranks' schedulers: `round-robin`
   * (SGLang's DataParallelController, load_balance_method round_robin) or `fewest` (the rank with
   * the fewest requests: vLLM's DP load balancer). Absent = fewest. The simulator follows it.
   */
  dataParallelDispatch?: { value: DataParallelDispatch; source: string };
  /** whether a prompt longer than the step's budget is split over steps */
  chunkedPrefill?: { value: boolean; source: string };
  /**
   * How the engine's kernels do the work, where that changes a step's time (step.ts, peak.ts):
   * - decodeKvReads: per-kv-head (the query heads of a group share each K/V read: FlashAttention,
   *   FlashInfer, TensorRT-LLM XQA) or per-query-head (each query head reads its K/V);
   * - fp16Accumulate: 16-bit matrix products accumulate in fp16 (the device's fp16Accumulate16 peak);
   * - dequantizePrefill: quantized (GGUF) weights are expanded to a 16-bit copy before each prefill
   *   matrix product (a memory pass that adds to the step) instead of inside the kernel.
   */
  kernels?: {
    decodeKvReads?: { value: 'per-kv-head' | 'per-query-head'; source: string };
    fp16Accumulate?: { value: boolean; source: string };
    dequantizePrefill?: { value: boolean; source: string };
    /** attention through FlashAttention-style kernels (scores never leave the chip); false = materialized in memory */
    flashAttention?: { value: boolean; source: string };
    /**
     * query rows (prompt tokens x query heads sharing a K/V head) one FlashAttention thread block
     * holds while it streams a K/V head's cache from memory, on the listed device vendors: prefill
     * attention then reads each K/V head's cache once per tile of rows, a memory pass that binds
     * where it outlasts the attention's FLOPs (step.ts); absent = K/V read once (FlashAttention-2/3
     * with large tiles and L2 reuse, what vLLM and TensorRT-LLM run)
     */
    flashAttentionQueryTile?: { value: number; vendors: string[]; source: string };
    /**
     * at most this many tokens per step, the routed experts run as one matrix-vector kernel over the
     * experts each token selected (llama.cpp mul_mat_vec_q with ids), reading them as dense weights
     * are read; above it, as grouped GEMMs at the calibration's expert efficiency (step.ts); absent = always grouped
     */
    expertVectorTokens?: { value: number; source: string };
    /** tokens per forward micro-batch within a step (llama.cpp n_ubatch): the dequantization pass repeats per micro-batch */
    microBatchTokens?: { value: number; source: string };
    /**
     * kernels launched per layer beyond a dense layer's, by what launches them (src/estimate/launches.ts):
     * an absorbed-MLA attention block, a routed-expert block, its shared experts, and one
     * activation quantization per fp8 linear layer; each costs the calibration's kernelSeconds
     */
    launches?: { mla?: { value: number; source: string }; moe?: { value: number; source: string }; sharedExpert?: { value: number; source: string }; quantizedLinear?: { value: number; source: string } };
    /**
     * prior host seconds per step (scheduler, sampler, launch loop between two GPU steps), used where
     * the calibration has no fitted value for the engine family (efficiency.ts hostStepOf)
     */
    hostStepSeconds?: { value: number; source: string };
  };
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
const positiveInt = z.number().int().positive();
const sourcedCount = z.strictObject({ value: positiveInt, source, note: z.string().optional() });
const rule = <T extends z.ZodType>(value: T) => z.strictObject({
  minMemory: bytes.optional(), belowMemory: bytes.optional(), minTp: positiveInt.optional(), belowTp: positiveInt.optional(),
  devices: z.array(z.string()).optional(), except: z.array(z.string()).optional(), value,
});
/** A value with optional per-device rules: { value, byDevice: [{ minMemory: 70 GiB, except: [a100-80gb], value }], source } */
const byDevice = <T extends z.ZodType>(value: T) => z.strictObject({ value, byDevice: z.array(rule(value)).default([]), source, note: z.string().optional() });
const fractionValue = z.number().gt(0).max(1);

export const engineFileSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'ids are lower-case slugs like "vllm"'),
  aliases: z.array(z.string()).default([]),
  name: z.string().min(1),
  version: z.string().regex(/^[0-9a-z][0-9a-z.]*$/, 'a version such as "0.10" or "b6000"'),
  from: z.string().regex(/^[0-9a-z][0-9a-z.]*$/).optional(),
  versions: z.string().min(1),
  follows: z.array(z.string().min(1)).min(1, 'name the engine source files (file@version) this profile follows'),
  supports: z.strictObject({
    devices: z.array(z.enum(DEVICE_CLASSES)).min(1), weights: z.array(z.string()).min(1), kv: z.array(z.string()).min(1),
    byArchitecture: z.record(z.string(), z.array(z.strictObject({
      minCapability: z.number().int().positive().optional(),
      arch: z.array(z.string().min(1)).min(1).optional(),
      kernel: z.enum(['native', 'weight-only']).default('native'),
      via: z.string().min(1).optional(),
      source,
    }).refine((r) => r.minCapability === undefined || r.arch === undefined, 'a rule names a minimum compute capability or architecture ids, not both')).min(1)).optional(),
  }),
  defaultRank: positiveInt,
  memory: z.strictObject({
    budget: z.strictObject({
      kind: z.enum(ENGINE_BUDGET_KINDS),
      fraction: byDevice(fractionValue).optional(),
      reserve: z.strictObject({
        base: bytes, perChunkToken: bytes, minChunkTokens: positiveInt, perGraphBatch: bytes, perParallelDevice: bytes,
        floor: z.strictObject({ aboveMemory: bytes, value: bytes }).optional(), roundTo: z.number().int().min(0).max(6), source,
      }).optional(),
    }),
    profile: z.strictObject({
      forwardPass: z.boolean().default(true),
      samplerCopies: z.strictObject({ value: z.number().min(0), source }),
      wholeContextUpTo: z.strictObject({ value: positiveInt, minTokens: positiveInt, source }).optional(),
      weightOverhead: z.strictObject({ value: z.number().min(0).max(1), source }).optional(),
    }).optional(),
    computeBuffer: z.strictObject({ ubatch: sourcedCount }).optional(),
    nonTorch: byDevice(bytes).optional(),
    startup: byDevice(bytes).optional(),
    cudaGraph: z.strictObject({
      perGraph: z.strictObject({ value: bytes, source }),
      sizes: z.strictObject({ explicit: z.array(positiveInt), ranges: z.array(z.tuple([positiveInt, positiveInt, positiveInt])) }),
      modes: z.array(z.strictObject({ name: z.string(), seqsFactor: z.number().positive(), cap: positiveInt })).min(1),
      inBudget: z.boolean(),
      source,
    }).optional(),
  }),
  kvCache: z.strictObject({ blockTokens: sourcedCount, paged: z.boolean(), padTokens: positiveInt.optional(), headDimAlignment: positiveInt.optional(), defaultType: z.strictObject({ value: z.string(), source }).optional(), windowCells: z.strictObject({ value: z.enum(['window', 'window+ubatch']), source }).optional() }),
  stateCache: z.strictObject({
    pool: z.enum(['shared', 'separate']),
    ratio: z.number().positive().optional(),
    recurrentFormat: z.enum(['fp32', 'activation']).default('activation'),
    pagePadding: z.strictObject({ alignTokens: positiveInt, source }).optional(),
    source,
  }).optional(),
  scheduler: z.strictObject({
    maxNumSeqs: byDevice(positiveInt).optional(),
    maxNumBatchedTokens: byDevice(positiveInt).optional(),
    graphMaxBatch: byDevice(positiveInt).optional(),
    multiStep: z.strictObject({ source }).optional(),
    policy: z.strictObject({ value: z.enum(SCHEDULER_POLICIES), source }).optional(),
    dataParallelDispatch: z.strictObject({ value: z.enum(DP_DISPATCH), source }).optional(),
    chunkedPrefill: z.strictObject({ value: z.boolean(), source }).optional(),
  }).default({}),
  multiDevice: z.strictObject({ default: z.enum(['tensor', 'layer']), modes: z.array(z.enum(['tensor', 'layer'])).min(1), source, maxDevices: sourcedCount.optional(), singleNode: z.strictObject({ source }).optional() }).default({ default: 'tensor', modes: ['tensor'], source: 'tensor parallelism over the devices of a replica' }),
  launch: z.strictObject({
    command: z.string().regex(/\{(repo|gguf)\}/, 'the command names the model as {repo} or {gguf}'),
    flags: z.partialRecord(z.enum(LAUNCH_KNOBS), z.string().regex(/^-{1,2}[A-Za-z0-9_-]+( .*)?$/, 'a launch flag such as --max-num-seqs, or a template with {value}')),
    kvTypes: z.record(z.string(), z.string()).default({}),
    quantization: z.record(z.string(), z.string()).default({}),
    dataParallelTp: z.enum(['replica', 'group']).optional(),
    attentionDp: z.strictObject({ option: z.string(), batchPerRank: z.boolean(), source }).optional(),
    note: z.string().optional(),
  }).optional(),
  kernels: z.strictObject({
    decodeKvReads: z.strictObject({ value: z.enum(['per-kv-head', 'per-query-head']), source }).optional(),
    fp16Accumulate: z.strictObject({ value: z.boolean(), source }).optional(),
    dequantizePrefill: z.strictObject({ value: z.boolean(), source }).optional(),
    flashAttention: z.strictObject({ value: z.boolean(), source }).optional(),
    flashAttentionQueryTile: z.strictObject({ value: z.number().int().positive(), vendors: z.array(z.string()).min(1), source }).optional(),
    microBatchTokens: z.strictObject({ value: z.number().int().positive(), source }).optional(),
    expertVectorTokens: z.strictObject({ value: z.number().int().positive(), source }).optional(),
    launches: z.strictObject({
      mla: z.strictObject({ value: z.number().int().nonnegative(), source }).optional(),
      moe: z.strictObject({ value: z.number().int().nonnegative(), source }).optional(),
      sharedExpert: z.strictObject({ value: z.number().int().nonnegative(), source }).optional(),
      quantizedLinear: z.strictObject({ value: z.number().int().nonnegative(), source }).optional(),
    }).optional(),
    hostStepSeconds: z.strictObject({ value: z.number().nonnegative().max(1), source }).optional(),
  }).optional(),
  notes: z.array(z.string()).optional(),
}).superRefine((f, ctx) => {
  const kind = f.memory.budget.kind;
  const needsFraction = kind === 'fraction-of-total' || kind === 'fraction-of-free' || kind === 'static-fraction';
  if (needsFraction && !f.memory.budget.fraction && !f.memory.budget.reserve) ctx.addIssue({ code: 'custom', path: ['memory', 'budget'], message: `budget kind ${kind} needs a fraction or a reserve` });
  for (const key of Object.keys(f.supports.byArchitecture ?? {})) {
    if (key !== '*' && !f.supports.weights.includes(key)) ctx.addIssue({ code: 'custom', path: ['supports', 'byArchitecture', key], message: `rules for ${key}, which supports.weights does not list (${f.supports.weights.join(', ')}; or * for every format)` });
  }
  if (!f.multiDevice.modes.includes(f.multiDevice.default)) ctx.addIssue({ code: 'custom', path: ['multiDevice', 'default'], message: 'the default split must be one of the modes' });
});

export type EngineFile = z.infer<typeof engineFileSchema>;

type RawRule<T> = { minMemory?: number; belowMemory?: number; minTp?: number; belowTp?: number; devices?: string[]; except?: string[]; value: T };
const toByDevice = (b: { value: number; byDevice: RawRule<number>[]; source: string; note?: string }): ByDevice => ({
  value: b.value,
  source: b.source,
  ...(b.note ? { note: b.note } : {}),
  rules: b.byDevice.map((r) => ({
    ...(r.minMemory !== undefined ? { minMemoryBytes: r.minMemory } : {}),
    ...(r.belowMemory !== undefined ? { belowMemoryBytes: r.belowMemory } : {}),
    ...(r.minTp !== undefined ? { minTp: r.minTp } : {}),
    ...(r.belowTp !== undefined ? { belowTp: r.belowTp } : {}),
    ...(r.devices ? { devices: r.devices } : {}),
    ...(r.except ? { except: r.except } : {}),
    value: r.value,
  })),
});

/** Engine file (validated) -> EngineSpec in base units. */
export function toEngineSpec(f: EngineFile): EngineSpec {
  const m = f.memory;
  const r = m.budget.reserve;
  return {
    id: f.id,
    aliases: f.aliases,
    name: f.name,
    version: f.version,
    from: f.from ?? f.version,
    versions: f.versions,
    follows: f.follows,
    supports: f.supports as EngineSpec['supports'],
    defaultRank: f.defaultRank,
    budget: {
      kind: m.budget.kind,
      ...(m.budget.fraction ? { fraction: toByDevice(m.budget.fraction) } : {}),
      ...(r ? { reserve: { baseBytes: r.base, perChunkTokenBytes: r.perChunkToken, minChunkTokens: r.minChunkTokens, perGraphBatchBytes: r.perGraphBatch, perParallelDeviceBytes: r.perParallelDevice, ...(r.floor ? { floor: { aboveMemoryBytes: r.floor.aboveMemory, bytes: r.floor.value } } : {}), roundTo: r.roundTo, source: r.source } } : {}),
    },
    ...(m.profile ? { profile: m.profile } : {}),
    ...(m.computeBuffer ? { computeBuffer: m.computeBuffer } : {}),
    ...(m.nonTorch ? { nonTorch: toByDevice(m.nonTorch) } : {}),
    ...(m.startup ? { startup: toByDevice(m.startup) } : {}),
    ...(m.cudaGraph ? { cudaGraph: { ...m.cudaGraph, perGraph: m.cudaGraph.perGraph } } : {}),
    kvCache: f.kvCache,
    scheduler: {
      ...(f.scheduler.maxNumSeqs ? { maxNumSeqs: toByDevice(f.scheduler.maxNumSeqs) } : {}),
      ...(f.scheduler.maxNumBatchedTokens ? { maxNumBatchedTokens: toByDevice(f.scheduler.maxNumBatchedTokens) } : {}),
      ...(f.scheduler.graphMaxBatch ? { graphMaxBatch: toByDevice(f.scheduler.graphMaxBatch) } : {}),
      ...(f.scheduler.multiStep ? { multiStep: f.scheduler.multiStep } : {}),
    },
    ...(f.scheduler.policy ? { schedulerPolicy: f.scheduler.policy } : {}),
    ...(f.scheduler.dataParallelDispatch ? { dataParallelDispatch: f.scheduler.dataParallelDispatch } : {}),
    ...(f.scheduler.chunkedPrefill ? { chunkedPrefill: f.scheduler.chunkedPrefill } : {}),
    multiDevice: f.multiDevice,
    ...(f.launch ? { launch: f.launch as LaunchSpec } : {}),
    ...(f.stateCache ? { statePool: { kind: f.stateCache.pool, ratio: f.stateCache.ratio, ...(f.stateCache.pagePadding ? { pagePadding: f.stateCache.pagePadding } : {}), source: f.stateCache.source } } : {}),
    ...(f.stateCache?.recurrentFormat === 'fp32' ? { recurrentStateFormat: 'fp32' as const } : {}),
    ...(f.kernels ? { kernels: f.kernels } : {}),
    ...(f.notes ? { notes: f.notes } : {}),
  };
}

/**
 * Where an engine keeps recurrent state: `shared` pages of the KV pool, or a `separate` pool of
 * ratio / (1 + ratio) of the budget (or `slots` sequences, SGLang --max-mamba-cache-size).
 * `pagePadding`: the shared pool has one page size, so each layer's state is padded to an
 * attention page and the attention block raised to hold it (vLLM V1; src/estimate/state-pages.ts).
 */
export interface StatePool {
  kind: 'shared' | 'separate';
  ratio?: number;
  /** sequences the separate pool holds, when set directly (SGLang --max-mamba-cache-size) */
  slots?: number;
  pagePadding?: { alignTokens: number; source: string };
  source: string;
}

/** Reads and validates engine profiles, newest version of each engine first; problems come back with file, line and field. */
export function loadEngineFiles(paths: string[]): { engines: EngineSpec[]; issues: FileIssue[] } {
  const engines: EngineSpec[] = [];
  const issues: FileIssue[] = [];
  for (const file of paths.flatMap((p) => presetFiles(p, 'presets'))) {
    const parsed = parseFile(file, readUserFile(file, 'presets'), engineFileSchema);
    if (parsed.ok) engines.push(toEngineSpec(parsed.value));
    else issues.push(...parsed.issues);
  }
  engines.sort((a, b) => (a.id === b.id ? compareVersions(b.version, a.version) : a.id < b.id ? -1 : 1));
  return { engines, issues };
}
