import { once } from './once.js';
import type { ByDevice, EngineSpec, StatePool } from '../inputs/engine.js';
import type { HardwareSpec } from '../inputs/hardware.js';
import type { ModelSpec } from '../inputs/model.js';
import { term, type Figures } from './terms.js';

/**
 * What a serving engine leaves for the KV cache, per device, and what that holds: tokens,
 * concurrent sequences at a context, the longest context at a batch. Engine versions are data
 * (presets/engines/*.yaml, src/inputs/engine.ts); this file holds the one formula per budget
 * kind, fed by the profile's values for this device and parallel group and by the user's launch
 * options (--gpu-memory-utilization, --max-num-batched-tokens, --max-num-seqs, --enforce-eager,
 * --block-size).
 */

/** Launch options as the user sets them; absent = the engine version's default for the device. */
export interface EngineOptions {
  /** the engine's own memory fraction (vLLM gpu_memory_utilization, SGLang mem_fraction_static, TensorRT-LLM free_gpu_memory_fraction) */
  gpuMemoryUtilization?: number;
  /** tokens of one forward pass, and of the profiling pass (vLLM max_num_batched_tokens, SGLang chunked_prefill_size, TensorRT-LLM max_num_tokens) */
  maxNumBatchedTokens?: number;
  /** sequences the scheduler runs at once (vLLM max_num_seqs, SGLang max_running_requests, TensorRT-LLM max_batch_size, llama-server --parallel) */
  maxNumSeqs?: number;
  /** no CUDA graphs */
  enforceEager?: boolean;
  /** tokens per KV block */
  blockSize?: number;
  /** decode steps planned at once (vLLM V0 --num-scheduler-steps, multi-step scheduling); 1 = each step */
  numSchedulerSteps?: number;
  /** sequences of recurrent state the separate state pool holds (SGLang --max-mamba-cache-size) */
  maxMambaCacheSize?: number;
  /** state pool : KV pool memory ratio (SGLang --mamba-full-memory-ratio, default 0.9) */
  mambaFullMemoryRatio?: number;
}

/** The engine used when an input names none: every free byte holds KV (presets/engines/ideal.yaml). */
export const IDEAL_ENGINE: EngineSpec = {
  id: 'ideal',
  aliases: [],
  name: 'ideal (every free byte holds KV)',
  version: '1',
  from: '1',
  versions: 'no engine',
  follows: ['no engine: the memory balance of memory.perDevice'],
  supports: { devices: [], weights: [], kv: [] },
  defaultRank: 99,
  budget: { kind: 'all' },
  kvCache: { blockTokens: { value: 1, source: 'token-granular, no block rounding' }, paged: true },
  scheduler: {},
  multiDevice: { default: 'tensor', modes: ['tensor'], source: 'tensor parallelism' },
};

/** `vllm@0.19`: the name a user pins a version with. */
export const engineLabel = (e: EngineSpec): string => (e.budget.kind === 'all' ? e.name : `${e.name} ${e.version}`);

/**
 * A profile value for this device and group: the first rule whose conditions all hold (memory
 * bounds, tensor-parallel bounds, hardware ids), else the default.
 */
export function deviceValue(b: ByDevice, hw: HardwareSpec, tp: number): number {
  const memory = hw.memoryBytes.value ?? 0;
  for (const r of b.rules) {
    if (r.minMemoryBytes !== undefined && memory < r.minMemoryBytes) continue;
    if (r.belowMemoryBytes !== undefined && memory >= r.belowMemoryBytes) continue;
    if (r.minTp !== undefined && tp < r.minTp) continue;
    if (r.belowTp !== undefined && tp >= r.belowTp) continue;
    if (r.devices && !r.devices.includes(hw.id)) continue;
    if (r.except && r.except.includes(hw.id)) continue;
    return r.value;
  }
  return b.value;
}

/** What the engine's budget depends on, per device of one replica. */
export interface BudgetContext {
  engine: EngineSpec;
  options: EngineOptions;
  hardware: HardwareSpec;
  model: ModelSpec;
  tp: number;
  /** devices in the parallel group (tp x pp), for per-group reserves */
  groupDevices: number;
  weightBytesPerDevice: number;
  /** activation bytes of one forward pass of `tokens` tokens on one device (memory.ts activationBytesPerDevice) */
  forwardBytes: (tokens: number) => number;
  /** this workload's own activation peak per device (the ideal engine reserves it) */
  workloadActivationBytes: number;
  /** tokens one sequence may reach (the launch's max_model_len / --ctx-size per slot) */
  context: number;
  /** sequences served together (llama.cpp slots) */
  batch: number;
  /** KV bytes one token adds on the busiest device */
  kvBytesPerToken: number;
  /** of those, the sliding-window (and chunked) layers' bytes per token, by window: llama.cpp sizes their cache to the window */
  windowedKv?: { window: number; bytesPerToken: number }[];
}

/** One named part of the budget: bytes, where the value came from. */
export interface BudgetPart {
  bytes: number;
  source: string;
}

/** The engine's budget per device, part by part. */
export interface Budget {
  kind: EngineSpec['budget']['kind'];
  /** device memory the engine sizes against (what CUDA reports, else the profile's capacity) */
  capacityBytes: number;
  /** the engine's memory fraction, and where it came from; absent for exact / all */
  fraction?: { value: number; source: string; max: number };
  /** what the fraction grants: f x capacity (vLLM), f x memory free at start (SGLang), f x memory free after the profile (TensorRT-LLM) */
  requested?: BudgetPart;
  /** peak of the profiling pass the engine reserves (vLLM, TensorRT-LLM), llama.cpp's compute buffer, or this workload's */
  activations: BudgetPart & { tokens?: number; sequences?: number };
  /** memory the engine counts outside torch (vLLM non-torch, TensorRT-LLM NCCL) */
  nonTorch: BudgetPart;
  /** memory gone before the engine measures (CUDA context, NCCL at init) */
  startup: BudgetPart;
  /** CUDA graph pool, and whether the engine takes it out of the KV budget */
  cudaGraphs: BudgetPart & { inBudget: boolean; graphs: number };
  /** KV bytes per device the engine could hold under its budget (exact: what device memory leaves), at least 0 */
  kvBudgetBytes: number;
  /** the same before clamping: negative when the weights and reserves overrun the budget */
  kvRawBytes: number;
  /** KV bytes per device it allocates: the budget, or exactly n_ctx cells (llama.cpp) */
  kvAllocatedBytes: number;
  /** exact (llama.cpp): the n_ctx cells it allocates, over every slot */
  kvCells?: number;
  /** tokens per block */
  blockTokens: number;
  formula: string;
}

/** CUDA graphs captured: each mode's sizes up to min(maxNumSeqs x factor, cap). */
/** The batch sizes an engine captures graphs for, listed once per profile (once.ts). */
const graphSizes = once((g: NonNullable<EngineSpec['cudaGraph']>): number[] => {
  const sizes = [...g.sizes.explicit];
  for (const [from, to, step] of g.sizes.ranges) for (let s = from; s <= to; s += step) sizes.push(s);
  // ascending, so a count up to a size is one binary search (every search probe asks)
  return sizes.sort((a, b) => a - b);
});

/** How many of the ascending `sizes` are at most `largest`. */
function countUpTo(sizes: number[], largest: number): number {
  let lo = 0;
  let hi = sizes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sizes[mid] <= largest) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function graphCount(e: EngineSpec, seqs: number): number {
  const g = e.cudaGraph;
  if (!g) return 0;
  const sizes = graphSizes(g);
  let count = 0;
  for (const mode of g.modes) count += countUpTo(sizes, Math.min(seqs * mode.seqsFactor, mode.cap));
  return count;
}

/** Rounds a token count down to whole KV blocks. */
export const wholeBlocks = (tokens: number, block: number): number => Math.floor(tokens / block) * block;
/** Rounds a sequence's tokens up to whole KV blocks (a paged engine allocates whole blocks). */
export const blocksFor = (tokens: number, block: number): number => Math.ceil(tokens / block) * block;

/** Scheduler defaults of this engine on this device, after the user's options. */
export function schedulerValues(e: EngineSpec, o: EngineOptions, hw: HardwareSpec, tp: number): { maxNumSeqs?: number; maxNumBatchedTokens?: number } {
  const s = e.scheduler;
  return {
    maxNumSeqs: o.maxNumSeqs ?? (s.maxNumSeqs ? deviceValue(s.maxNumSeqs, hw, tp) : undefined),
    maxNumBatchedTokens: o.maxNumBatchedTokens ?? (s.maxNumBatchedTokens ? deviceValue(s.maxNumBatchedTokens, hw, tp) : undefined),
  };
}

/**
 * With attention data parallelism, whether the engine's scheduler flags (--max-num-seqs,
 * --max-num-batched-tokens and their equivalents) count one data-parallel rank's requests and
 * tokens: vLLM (one engine core per DP rank, launch.dataParallelTp 'group') and TensorRT-LLM
 * ('--max_batch_size: Max batch size in each rank', launch.attentionDp.batchPerRank). Otherwise
 * they count the replica's, and the engine divides them over the ranks (SGLang
 * _handle_data_parallelism: chunked_prefill_size // dp_size; max_running_requests // dp_size).
 */
export const schedulerFlagsPerRank = (e: EngineSpec): boolean => e.launch?.dataParallelTp === 'group' || e.launch?.attentionDp?.batchPerRank === true;

/** Device memory an engine sizes its pool against: what CUDA reports when the profile knows it. */
export const engineCapacityBytes = (hw: HardwareSpec): number => hw.memoryUsableBytes?.value ?? hw.memoryBytes.value!;

/**
 * The engine's fraction: the user's, the profile's by device and group, or SGLang's reserve
 * heuristic ((memory - reserve) / memory, server_args.py _handle_gpu_memory_settings).
 */
function fractionOf(c: BudgetContext, capacity: number, chunk: number | undefined): { value: number; source: string } | undefined {
  const { engine: e, options: o, hardware: hw, tp } = c;
  if (o.gpuMemoryUtilization !== undefined) return { value: o.gpuMemoryUtilization, source: '--gpu-memory-utilization (the engine\'s own fraction knob)' };
  if (e.budget.fraction) return { value: deviceValue(e.budget.fraction, hw, tp), source: e.budget.fraction.source };
  const r = e.budget.reserve;
  if (!r) return undefined;
  const graphBatch = e.scheduler.graphMaxBatch ? deviceValue(e.scheduler.graphMaxBatch, hw, tp) : 0;
  let reserve = r.baseBytes + Math.max(chunk ?? r.minChunkTokens, r.minChunkTokens) * r.perChunkTokenBytes + graphBatch * r.perGraphBatchBytes + c.groupDevices * r.perParallelDeviceBytes;
  if (r.floor && capacity > r.floor.aboveMemoryBytes) reserve = Math.max(reserve, r.floor.bytes);
  const scale = 10 ** r.roundTo;
  return { value: Math.round(((capacity - reserve) / capacity) * scale) / scale, source: `${r.source}: reserve ${(reserve / 2 ** 20).toFixed(0)} MiB at chunked_prefill_size ${chunk}, cuda_graph_max_bs ${graphBatch}` };
}

/**
 * The KV budget per device under an engine version, part by part:
 *  fraction-of-total (vLLM):  f x capacity - weights x (1 + overhead) - activation peak - non-torch [- CUDA graphs]
 *    (vllm/v1/worker/gpu_worker.py determine_available_memory: requested_memory - non_kv_cache_memory;
 *     vllm/worker/worker.py determine_num_available_blocks for V0)
 *  static-fraction (SGLang):   f x (capacity - CUDA context - startup) - weights
 *    (model_runner.py profile_max_num_token: rest = free after load - free at start x (1 - f))
 *  fraction-of-free (TensorRT-LLM): f x (capacity - weights - activation peak - CUDA context - startup)
 *    (_torch/pyexecutor/_util.py cal_max_tokens: (total - peak) x free_gpu_memory_fraction)
 *  exact (llama.cpp):          KV for exactly n_ctx cells; the device must hold weights + KV + compute buffer + runtime
 *  all (ideal):                capacity - weights - this workload's activations - runtime
 */
export function engineBudget(c: BudgetContext): Budget {
  const { engine: e, options: o, hardware: hw, model: m } = c;
  const capacity = engineCapacityBytes(hw);
  const runtime = hw.runtimeOverheadBytes.value ?? 0;
  const runtimeSource = hw.runtimeOverheadBytes.source;
  const { maxNumSeqs, maxNumBatchedTokens } = schedulerValues(e, o, hw, c.tp);
  const block = o.blockSize ?? e.kvCache.blockTokens.value;
  const zero = (source: string): BudgetPart => ({ bytes: 0, source });

  // The profiling pass: one forward pass of max_num_batched_tokens tokens (V0 without chunked
  // prefill: the whole max_model_len), then the sampler on max_num_seqs sequences' logits.
  let activations: Budget['activations'] = { ...zero('not reserved by this engine') };
  if (e.profile && (e.budget.kind === 'fraction-of-total' || e.budget.kind === 'fraction-of-free')) {
    const whole = e.profile.wholeContextUpTo;
    const wholePrompt = whole !== undefined && o.maxNumBatchedTokens === undefined && c.context <= whole.value;
    const tokens = wholePrompt ? Math.max(c.context, whole.minTokens) : (maxNumBatchedTokens ?? 0);
    const seqs = Math.min(maxNumSeqs ?? 1, Math.max(tokens, 1));
    const forward = tokens > 0 && e.profile.forwardPass ? c.forwardBytes(tokens) : 0;
    const sampler = e.profile.samplerCopies.value * seqs * m.vocab * 4;
    const counted = Math.max(forward, sampler);
    activations = {
      bytes: counted,
      tokens,
      sequences: seqs,
      source: !e.profile.forwardPass
        ? e.profile.samplerCopies.source
        : `max(forward pass of ${tokens} tokens ${wholePrompt ? `(${whole!.source})` : `(max_num_batched_tokens: ${o.maxNumBatchedTokens !== undefined ? '--max-num-batched-tokens' : e.scheduler.maxNumBatchedTokens?.source})`}, sampler: ${e.profile.samplerCopies.value} fp32 copies of [${seqs} sequences x ${m.vocab} vocab] (${e.profile.samplerCopies.source}))`,
    };
  } else if (e.computeBuffer) {
    const ubatch = e.computeBuffer.ubatch.value;
    activations = { bytes: ubatch * (m.vocab + m.hidden) * 4, tokens: ubatch, source: e.computeBuffer.ubatch.source };
  } else if (e.budget.kind === 'all') {
    activations = { bytes: c.workloadActivationBytes, source: 'memory.perDevice.activations (this workload)' };
  }

  const nonTorch = e.nonTorch && e.budget.kind === 'fraction-of-total' ? { bytes: deviceValue(e.nonTorch, hw, c.tp), source: e.nonTorch.source } : zero('not counted by this engine');
  const startupExtra = e.startup ? deviceValue(e.startup, hw, c.tp) : 0;
  const startup: BudgetPart = e.budget.kind === 'static-fraction' || e.budget.kind === 'fraction-of-free'
    ? { bytes: runtime + startupExtra, source: `CUDA context and workspaces (${runtimeSource})${e.startup ? ` + ${e.startup.source}` : ''}` }
    : zero('not measured by this engine');
  const graphs = o.enforceEager || !e.cudaGraph ? 0 : graphCount(e, maxNumSeqs ?? 1);
  const cudaGraphs = { bytes: graphs * (e.cudaGraph?.perGraph.value ?? 0), graphs, inBudget: e.cudaGraph?.inBudget ?? false, source: o.enforceEager ? '--enforce-eager: no CUDA graphs' : e.cudaGraph ? `${graphs} graphs x ${e.cudaGraph.perGraph.source}; ${e.cudaGraph.source}` : 'no CUDA graphs in this profile' };

  const weights = c.weightBytesPerDevice * (1 + (e.profile?.weightOverhead?.value ?? 0));
  const fraction = fractionOf(c, capacity, maxNumBatchedTokens);
  let requested: BudgetPart | undefined;
  let kv: number;
  let formula: string;
  let maxFraction = 1;
  switch (e.budget.kind) {
    case 'fraction-of-total': {
      const f = fraction!.value;
      requested = { bytes: f * capacity, source: fraction!.source };
      kv = requested.bytes - weights - activations.bytes - nonTorch.bytes - (cudaGraphs.inBudget ? cudaGraphs.bytes : 0);
      formula = `fraction x capacity - weights${e.profile?.weightOverhead ? ` x ${1 + e.profile.weightOverhead.value}` : ''} - activations - nonTorch${cudaGraphs.inBudget ? ' - cudaGraphs' : ''}`;
      // the rest of the device holds the CUDA context and, when outside the budget, the graphs
      maxFraction = (capacity - runtime - (cudaGraphs.inBudget ? 0 : cudaGraphs.bytes)) / capacity;
      break;
    }
    case 'static-fraction': {
      const f = fraction!.value;
      const free = capacity - startup.bytes;
      requested = { bytes: f * free, source: fraction!.source };
      kv = requested.bytes - weights;
      formula = 'fraction x (capacity - startup) - weights (activations and CUDA graphs live outside the static pool)';
      // the rest holds one chunk's activations and the CUDA graph buffers
      const chunk = maxNumBatchedTokens ?? 2048;
      const graphBatch = e.scheduler.graphMaxBatch ? deviceValue(e.scheduler.graphMaxBatch, hw, c.tp) : 0;
      const outside = c.forwardBytes(chunk) + (o.enforceEager ? 0 : graphBatch * (e.budget.reserve?.perGraphBatchBytes ?? 2 ** 21));
      maxFraction = (free - outside) / free;
      break;
    }
    case 'fraction-of-free': {
      const f = fraction!.value;
      const free = capacity - weights - activations.bytes - startup.bytes;
      requested = { bytes: f * free, source: fraction!.source };
      kv = requested.bytes;
      formula = 'fraction x (capacity - weights - activations - startup)';
      // the rest of the free memory holds the runtime's own buffers; at most the CUDA context's worth again
      maxFraction = (free - runtime) / free;
      break;
    }
    case 'exact':
      kv = capacity - weights - activations.bytes - runtime;
      formula = 'KV for exactly n_ctx cells; the device holds capacity - weights - computeBuffer - runtime of it';
      break;
    case 'all':
      kv = capacity - weights - activations.bytes - runtime;
      formula = 'capacity - weights - activations - runtime';
      break;
  }
  const kvBudgetBytes = Math.max(0, kv);
  const exact = e.budget.kind === 'exact' ? exactKv(c) : undefined;
  const kvAllocatedBytes = exact ? exact.bytes : kvBudgetBytes;
  // optional parts assigned, not spread: this runs once per configuration a search evaluates
  const budget: Budget = {
    kind: e.budget.kind,
    capacityBytes: capacity,
    activations,
    nonTorch,
    startup: e.budget.kind === 'exact' || e.budget.kind === 'all' ? { bytes: runtime, source: runtimeSource } : startup,
    cudaGraphs,
    kvBudgetBytes,
    kvRawBytes: kv,
    kvAllocatedBytes,
    blockTokens: block,
    formula,
  };
  if (exact) budget.kvCells = exact.cells;
  if (fraction) budget.fraction = { value: fraction.value, source: fraction.source, max: Math.max(0, Math.floor(maxFraction * 100) / 100) };
  if (requested) budget.requested = requested;
  return budget;
}

/**
 * The KV llama.cpp allocates with --parallel `batch` slots of `context` tokens (--ctx-size =
 * batch x context, no unified cache): each slot a stream of n_ctx_seq = context padded to the
 * profile's padTokens cells in every full-attention layer (src/llama-context.cpp: n_ctx_seq =
 * GGML_PAD(n_ctx / n_seq_max, 256) @ b10470; src/llama-model.cpp create_memory @ b6000), and in
 * each sliding-window layer min(n_ctx_seq, window + n_ubatch padded) cells
 * (src/llama-kv-cache-iswa.cpp size_swa @ b10470, llama-kv-cache-unified-iswa.cpp @ b6000; the
 * profile's kvCache.windowCells). MLX: the sequence in padTokens steps, its window layers at the window.
 */
function exactKv(c: BudgetContext): { bytes: number; cells: number } {
  const e = c.engine;
  const pad = e.kvCache.padTokens ?? 1;
  const cellsPerSeq = blocksFor(c.context, pad);
  // llama.cpp: n_swa + n_ubatch, padded; MLX's rotating cache: the window itself
  const cellsOf = e.kvCache.windowCells?.value === 'window+ubatch' ? (w: number) => blocksFor(w + (e.computeBuffer?.ubatch.value ?? 0), pad) : (w: number) => w;
  const windowed = c.windowedKv ?? [];
  const windowedPerToken = windowed.reduce((a, w) => a + w.bytesPerToken, 0);
  const perSeq = cellsPerSeq * (c.kvBytesPerToken - windowedPerToken) + windowed.reduce((a, w) => a + w.bytesPerToken * Math.min(cellsPerSeq, cellsOf(w.window)), 0);
  return { bytes: c.batch * perSeq, cells: c.batch * cellsPerSeq };
}

/**
 * An engine's scheduler runs at most `maxNumSeqs` sequences per step by default (vLLM
 * max_num_seqs, TensorRT-LLM max_batch_size, llama-server --parallel; presets/engines); a larger
 * batch waits in the queue, so the figures computed for it hold only when the engine is launched
 * with its flag raised to the batch. Undefined when the batch is within the limit.
 */
export function schedulerLimit(e: EngineSpec | undefined, o: EngineOptions, hw: HardwareSpec, tp: number, batch: number): { limit: number; flag?: string; source: string } | undefined {
  if (!e) return undefined;
  const limit = o.maxNumSeqs ?? (e.scheduler.maxNumSeqs ? deviceValue(e.scheduler.maxNumSeqs, hw, tp) : undefined);
  if (limit === undefined || batch <= limit) return undefined;
  return { limit, flag: e.launch?.flags.maxNumSeqs ?? e.launch?.flags.parallel, source: o.maxNumSeqs !== undefined ? '--max-num-seqs' : e.scheduler.maxNumSeqs!.source };
}

/**
 * The KV pools one sequence draws on, per device of the busiest pipeline stage. The architecture
 * (src/estimate/memory.ts, and per layer kind) supplies them; capacity only divides.
 */
export interface KvPools {
  /** KV bytes one more token adds (all cached layers at full context) */
  kvBytesPerToken: number;
  /** KV bytes one sequence of n tokens holds (sliding windows and other capped layers included), monotone in n */
  kvBytesPerSequence: (tokens: number) => number;
  /** fixed bytes one sequence holds whatever its length (recurrent / SSM state); 0 for attention only */
  stateBytesPerSequence: number;
  /** the longest context whose KV takes at most this many bytes per sequence (the exact inverse of kvBytesPerSequence); absent = bisection */
  contextForKvBytes?: (bytes: number) => number;
  /** where the state lives: shared with KV pages (absent), or a separate pool taking ratio / (1 + ratio) of the budget or `slots` sequences (engine profiles' stateCache, SGLang launch options) */
  statePool?: StatePool;
}

export interface CapacityArgs {
  engine: EngineSpec;
  budget: Budget;
  pools: KvPools;
  /** tokens one sequence holds, and sequences served together */
  context: number;
  batch: number;
  /** the model's longest context (max_position_embeddings) */
  maxModelContext: number;
}

export interface CapacityResult {
  /** the engine's pool for KV (and, when shared, recurrent state) per device */
  kvCapacityBytes: number;
  kvCapacityTokens: number;
  /** sequences at this context the engine's memory holds */
  maxConcurrency: number;
  /** KV (and state) bytes one sequence of this context takes, in whole blocks */
  sequenceBytes: number;
}

/**
 * How many tokens and sequences a KV budget holds: tokens are whole blocks of the budget over
 * the bytes per token (vLLM kv_cache_utils.py: num_blocks = available // page_size; "GPU KV
 * cache size" = num_blocks x block_size; SGLang max_total_num_tokens = rest // cell_size);
 * sequences are the budget over one sequence's whole blocks plus its fixed state. Pure numbers;
 * capacityFigures names them.
 *
 * @example kvCapacity(1e9, { kvBytesPerToken: 131072, kvBytesPerSequence: (n) => n * 131072, stateBytesPerSequence: 0 }, 16, 1000)
 *   // { tokens: 7616, sequences: 7, sequenceBytes: 132120576 }
 */
export function kvCapacity(kvBytes: number, pools: KvPools, block: number, context: number): { tokens: number; sequences: number; sequenceBytes: number } & PoolSplit {
  const split = splitPools(kvBytes, pools);
  const tokens = pools.kvBytesPerToken > 0 ? wholeBlocks(split.kvPoolBytes / pools.kvBytesPerToken, block) : 0;
  const sequenceBytes = pools.kvBytesPerSequence(blocksFor(context, block)) + (split.separate ? 0 : pools.stateBytesPerSequence);
  const sequences = Math.min(sequenceBytes > 0 ? Math.floor(split.kvPoolBytes / sequenceBytes) : 0, split.stateSlots);
  return { tokens, sequences, sequenceBytes, ...split };
}

/** The budget split between KV pages and recurrent state (KvPools.statePool). */
export interface PoolSplit {
  separate: boolean;
  kvPoolBytes: number;
  statePoolBytes: number;
  /** sequences the state pool holds (Infinity when shared: the KV pool bounds them) */
  stateSlots: number;
}

/**
 * Hybrid models keep a fixed-size recurrent state per sequence beside the KV cache: in the same
 * pool (vLLM's hybrid allocator) or in a pool of its own carved from the budget (SGLang: mamba
 * budget = rest x ratio / (1 + ratio), model_runner _handle_max_mamba_cache), so the sequences
 * that fit are limited by whichever pool runs out first.
 */
export function splitPools(kvBytes: number, pools: KvPools): PoolSplit {
  const state = pools.stateBytesPerSequence;
  const separate = state > 0 && pools.statePool?.kind === 'separate';
  const ratio = pools.statePool?.ratio ?? 0.9;
  // --max-mamba-cache-size: the slots are given and the KV pool gets the rest (SGLang
  // handle_max_mamba_cache: mamba_state_memory = max_mamba_cache_size x mamba_cache_per_req)
  const slots = pools.statePool?.slots;
  if (separate && slots !== undefined) {
    const statePoolBytes = Math.min(kvBytes, slots * state);
    return { separate, kvPoolBytes: kvBytes - statePoolBytes, statePoolBytes, stateSlots: Math.floor(statePoolBytes / state) };
  }
  const statePoolBytes = separate ? (kvBytes * ratio) / (1 + ratio) : 0;
  return { separate, kvPoolBytes: kvBytes - statePoolBytes, statePoolBytes, stateSlots: separate ? Math.floor(statePoolBytes / state) : Infinity };
}

/** Longest context (whole blocks) `batch` sequences can each reach in `kvBytes`, by bisection on the monotone pool. */
export function longestContext(kvBytes: number, pools: KvPools, block: number, batch: number, cap: number): number {
  const split = splitPools(kvBytes, pools);
  if (batch > split.stateSlots) return 0;
  const state = split.separate ? 0 : pools.stateBytesPerSequence;
  // the exact inverse through the layers when the architecture gives one (windowed layers stop growing)
  if (pools.contextForKvBytes) {
    const perSequence = batch > 0 ? split.kvPoolBytes / batch - state : 0;
    const longest = perSequence > 0 ? pools.contextForKvBytes(perSequence) : 0;
    return Math.min(cap, wholeBlocks(Math.min(longest, Number.MAX_SAFE_INTEGER), block));
  }
  const fits = (n: number) => batch * (pools.kvBytesPerSequence(n) + state) <= split.kvPoolBytes;
  if (!fits(block)) return 0;
  let lo = block;
  let hi = blocksFor(Math.max(cap, block), block);
  if (fits(hi)) return Math.min(cap, hi);
  while (hi - lo > block) {
    const mid = wholeBlocks((lo + hi) / 2, block);
    if (mid <= lo) break;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return Math.min(cap, lo);
}

/**
 * memory.engine.* (the budget part by part), memory.kvCapacity, memory.kvCapacityTokens,
 * capacity.maxConcurrency, capacity.maxBatch and capacity.maxContext. Token capacity is what vLLM
 * logs as "GPU KV cache size: N tokens" (SGLang "#tokens", TensorRT-LLM "max tokens in paged KV
 * cache", llama.cpp n_ctx); concurrency is vLLM's "Maximum concurrency for C tokens per request".
 */
export function capacityFigures(fig: Figures, a: CapacityArgs, figures: 'all' | 'result' = 'all'): CapacityResult {
  const { engine: e, budget: b, pools } = a;
  // 'result' (memory.ts memoryFigures): the result's values without the figures that only describe them
  const all = figures === 'all';
  const label = engineLabel(e);
  const block = b.blockTokens;
  if (all && b.fraction) term(fig, { id: 'memory.engine.fraction', label: `${e.name} memory fraction`, unit: 'fraction', value: b.fraction.value, formula: e.budget.reserve && !b.fraction.source.startsWith('--') ? 'round((capacity - reserve) / capacity)' : 'profile default, or the launch option', inputs: { engine: label, maxFraction: b.fraction.max }, source: b.fraction.source });
  if (all && b.requested) term(fig, { id: 'memory.engine.requested', label: `Memory ${e.name} claims per device`, unit: 'B', value: b.requested.bytes, formula: b.kind === 'fraction-of-total' ? 'fraction x capacity' : b.kind === 'static-fraction' ? 'fraction x (capacity - startup)' : 'fraction x (capacity - weights - activations - startup)', inputs: { fraction: b.fraction!.value, capacity: b.capacityBytes }, source: b.requested.source });
  if (all) term(fig, { id: 'memory.engine.activations', label: b.kind === 'exact' ? `${e.name} compute buffer per device` : `Activation peak ${e.name} reserves per device`, unit: 'B', value: b.activations.bytes, formula: b.kind === 'exact' ? 'n_ubatch x (vocab + hidden) x 4 B' : 'max(forward pass of the profile tokens, samplerCopies x sequences x vocab x 4 B)', inputs: { tokens: b.activations.tokens ?? 0, sequences: b.activations.sequences ?? 0 }, source: b.activations.source, approximate: true });
  if (all && b.nonTorch.bytes) term(fig, { id: 'memory.engine.nonTorch', label: `Memory ${e.name} counts outside torch per device`, unit: 'B', value: b.nonTorch.bytes, formula: 'profile value for this device and tensor-parallel size', inputs: {}, source: b.nonTorch.source, approximate: true });
  if (all && b.startup.bytes && (b.kind === 'static-fraction' || b.kind === 'fraction-of-free')) term(fig, { id: 'memory.engine.startup', label: `Memory gone before ${e.name} measures, per device`, unit: 'B', value: b.startup.bytes, formula: 'CUDA context + collective buffers at init', inputs: {}, source: b.startup.source, approximate: true });
  if (all && b.cudaGraphs.graphs) term(fig, { id: 'memory.engine.cudaGraphs', label: `CUDA graphs per device (${b.cudaGraphs.inBudget ? 'inside' : 'outside'} the KV budget)`, unit: 'B', value: b.cudaGraphs.bytes, formula: 'graphs x memory per graph', inputs: { graphs: b.cudaGraphs.graphs, inBudget: b.cudaGraphs.inBudget }, source: b.cudaGraphs.source, approximate: true });

  const kvBytes = b.kvAllocatedBytes;
  if (all) term(fig, { id: 'memory.kvCapacity', label: `KV cache ${e.name} allocates per device`, unit: 'B', value: kvBytes, formula: b.kind === 'exact' ? 'batch x (fullLayers x n_ctx_seq + windowLayers x min(n_ctx_seq, window + n_ubatch, padded)) x bytes per cell, n_ctx_seq = context padded' : b.formula, inputs: {
    engine: label, capacity: b.capacityBytes, requested: b.requested?.bytes ?? 0, activations: b.activations.bytes, nonTorch: b.nonTorch.bytes, startup: b.startup.bytes, cudaGraphs: b.cudaGraphs.inBudget ? b.cudaGraphs.bytes : 0, kvBudget: b.kvBudgetBytes,
  }, source: `${e.follows[0]}`, approximate: b.kind !== 'exact' });
  // llama.cpp's capacity is the n_ctx cells it allocated (windowed layers hold fewer bytes per cell)
  const kvCap = kvCapacity(kvBytes, pools, block, a.context);
  const cap = b.kvCells !== undefined ? { ...kvCap, tokens: b.kvCells } : kvCap;
  const state = pools.stateBytesPerSequence;
  if (state > 0) {
    const source = pools.statePool?.source ?? 'KV and recurrent state share one pool (vLLM V1 hybrid KV cache manager: Mamba layers take pages of the same pool)';
    const slots = cap.separate ? pools.statePool?.slots : undefined;
    term(fig, { id: 'memory.stateCapacity', label: cap.separate ? `Recurrent-state pool per device (${e.name})` : 'Recurrent state shares the KV pool', unit: 'B', value: cap.statePoolBytes, formula: !cap.separate ? '0 (one pool for KV pages and state)' : slots !== undefined ? 'min(kvCapacity, maxMambaCacheSize x statePerSequencePerDevice)' : 'kvCapacity x ratio / (1 + ratio)', inputs: { kvCapacity: kvBytes, ratio: cap.separate ? (pools.statePool?.ratio ?? 0.9) : 0, ...(slots !== undefined ? { maxMambaCacheSize: slots } : {}), statePerSequencePerDevice: state }, source, approximate: true });
    if (cap.separate) term(fig, { id: 'capacity.stateSlots', label: 'Sequences the state pool holds', unit: 'count', value: cap.stateSlots, formula: 'floor(stateCapacity / statePerSequencePerDevice)', inputs: { stateCapacity: cap.statePoolBytes, statePerSequencePerDevice: state }, source, approximate: true });
    // In a shared pool each sequence's state takes whole KV blocks (vLLM: one page per state
    // layer, pages the size of an attention block): what the simulator admits against.
    else if (pools.kvBytesPerToken > 0) term(fig, { id: 'capacity.stateBlocks', label: 'KV blocks one sequence\'s state takes', unit: 'count', value: Math.ceil(state / (pools.kvBytesPerToken * block)), formula: 'ceil(statePerSequencePerDevice / (kvBytesPerToken x blockTokens))', inputs: { statePerSequencePerDevice: state, kvBytesPerToken: pools.kvBytesPerToken, blockTokens: block }, source, approximate: true });
  }
  if (all) term(fig, { id: 'memory.kvCapacityTokens', label: 'KV cache capacity in tokens (per replica)', unit: 'tokens', value: cap.tokens, formula: b.kvCells !== undefined ? 'n_ctx: batch x n_ctx_seq cells (context padded)' : cap.separate ? 'floor((kvCapacity - stateCapacity) / kvBytesPerToken / blockTokens) x blockTokens' : 'floor(kvCapacity / kvBytesPerToken / blockTokens) x blockTokens', inputs: { kvCapacity: cap.kvPoolBytes, kvBytesPerToken: pools.kvBytesPerToken, blockTokens: block }, source: `${e.kvCache.blockTokens.source}`, approximate: b.kind !== 'exact' });

  // For an engine that allocates exactly n_ctx (llama.cpp), how many sequences the device could
  // hold is the budget's, not the allocation's.
  const held = b.kind === 'exact' ? kvCapacity(b.kvBudgetBytes, pools, block, a.context) : cap;
  term(fig, { id: 'capacity.maxConcurrency', label: 'Most concurrent sequences at this context', unit: 'count', value: held.sequences, formula: held.separate ? 'min(floor((KV budget - stateCapacity) / kvPerSequence(context in whole blocks)), stateSlots)' : 'floor(KV budget / (kvPerSequence(context in whole blocks) + statePerSequence))', inputs: { kvBudget: held.kvPoolBytes, context: a.context, blockTokens: block, kvPerSequence: held.sequenceBytes - (held.separate ? 0 : state), statePerSequence: state, paged: e.kvCache.paged }, source: e.kvCache.paged ? 'paged KV (Kwon et al. 2023, PagedAttention): each sequence holds whole blocks of its own tokens' : 'no paging: every slot reserves its full context up front (llama.cpp n_ctx / n_parallel)', approximate: true });
  if (!all) return { kvCapacityBytes: kvBytes, kvCapacityTokens: cap.tokens, maxConcurrency: held.sequences, sequenceBytes: cap.sequenceBytes };
  term(fig, { id: 'capacity.maxBatch', label: 'Largest batch at this context', unit: 'count', value: held.sequences, formula: 'capacity.maxConcurrency', inputs: { maxConcurrency: held.sequences }, source: 'same as capacity.maxConcurrency', approximate: true });
  const maxContext = longestContext(b.kvBudgetBytes, pools, block, a.batch, a.maxModelContext);
  term(fig, { id: 'capacity.maxContext', label: 'Longest context at this batch', unit: 'tokens', value: maxContext, formula: 'largest whole-block n with batch x (kvPerSequence(n) + statePerSequence) <= KV budget, at most maxPositionEmbeddings', inputs: { batch: a.batch, kvBudget: b.kvBudgetBytes, maxPositionEmbeddings: a.maxModelContext, blockTokens: block }, source: 'memory balance under the engine budget', approximate: true });
  return { kvCapacityBytes: kvBytes, kvCapacityTokens: cap.tokens, maxConcurrency: held.sequences, sequenceBytes: cap.sequenceBytes };
}
