import type { EngineSpec } from '../inputs/engine.js';
import type { ModelSpec } from '../inputs/model.js';
import type { EstimateInput } from './input.js';
import { term, type Figures } from './terms.js';

/**
 * What an engine leaves for the KV cache, per device, and what that holds: tokens, concurrent
 * sequences at a context, the longest context at a concurrency. Engine profiles are data
 * (presets/engines/*.yaml, src/inputs/engine.ts); this file holds the one formula per budget kind.
 */

/** The engine used when an input names none: every free byte holds KV (presets/engines/ideal.yaml). */
export const IDEAL_ENGINE: EngineSpec = {
  id: 'ideal',
  aliases: [],
  name: 'ideal (every free byte holds KV)',
  version: '-',
  budget: { kind: 'all', fraction: { value: 1, source: 'no engine reserve: the memory balance of memory.perDevice' }, byTensorParallel: [] },
  blockTokens: { value: 1, source: 'token-granular, no block rounding' },
  paged: true,
};

/**
 * An engine's scheduler runs at most `maxNumSeqs` sequences per step by default (vLLM
 * SchedulerConfig max_num_seqs 256, TensorRT-LLM max_batch_size 2048, llama-server --parallel;
 * presets/engines/*.yaml); a larger batch waits in the queue, so the figures computed for it
 * hold only when the engine is launched with the profile's flag raised to the batch.
 * Returns the warning, or undefined when the batch is within the limit (or the engine has none).
 */
export function schedulerLimitWarning(e: EngineSpec | undefined, batch: number): string | undefined {
  const max = e?.maxNumSeqs?.value;
  if (!e || max === undefined || max === null || batch <= max) return undefined;
  const raise = e.maxNumSeqsFlag ? `launch it with ${e.maxNumSeqsFlag} ${batch}` : 'raise its limit';
  return `a batch of ${batch} sequences is more than the ${max} ${e.name} runs at once by default (${e.maxNumSeqs!.source}); the rest wait in the queue unless you ${raise}`;
}

/** The engine's memory fraction at this tensor-parallel size (SGLang lowers it as tp grows). */
export function engineFraction(e: EngineSpec, tp: number): number {
  let f = e.budget.fraction.value!;
  for (const step of e.budget.byTensorParallel) if (tp >= step.minTp) f = step.value;
  return f;
}

export interface KvBudgetInputs {
  capacityBytes: number;
  weightBytesPerDevice: number;
  /** activation peak the engine reserves per device (profiled, compute buffer or the workload's) */
  activationBytesPerDevice: number;
  runtimeBytesPerDevice: number;
  tp: number;
}

/**
 * KV-cache bytes per device under an engine's budget (clamped at 0):
 *  fraction-of-total (vLLM):      f x capacity - weights - activations - runtime - graphs in budget
 *    (vllm/v1/worker/gpu_worker.py determine_available_memory: requested_memory =
 *     total_memory x gpu_memory_utilization; available = requested - non_kv_cache_memory)
 *  static-fraction-of-total (SGLang): f x capacity - weights - runtime
 *    (sglang model_runner.py profile_max_num_token: rest_memory = available - total x (1 - f),
 *     where `available` is the free memory measured after the weights load, so the CUDA
 *     context and NCCL buffers are already gone from it)
 *  fraction-of-free (TensorRT-LLM): f x (capacity - weights - activations - runtime - graphs)
 *    (KvCacheConfig.free_gpu_memory_fraction applies to free memory after the engine loads)
 *  all (llama.cpp, ideal):        capacity - weights - activations - runtime - graphs
 */
export function kvBudgetBytes(e: EngineSpec, b: KvBudgetInputs): number {
  const f = engineFraction(e, b.tp);
  const graphs = e.cudaGraph?.inBudget ? e.cudaGraph.value! : 0;
  const rest = b.weightBytesPerDevice + b.activationBytesPerDevice + b.runtimeBytesPerDevice + graphs;
  switch (e.budget.kind) {
    case 'fraction-of-total':
      return Math.max(0, f * b.capacityBytes - rest);
    case 'static-fraction-of-total':
      return Math.max(0, f * b.capacityBytes - b.weightBytesPerDevice - b.runtimeBytesPerDevice);
    case 'fraction-of-free':
      return Math.max(0, f * (b.capacityBytes - rest));
    case 'all':
      return Math.max(0, f * b.capacityBytes - rest);
  }
}

const FORMULA: Record<EngineSpec['budget']['kind'], string> = {
  'fraction-of-total': 'fraction x capacity - weightsPerDevice - activations - runtime - cudaGraphInBudget',
  'static-fraction-of-total': 'fraction x capacity - weightsPerDevice - runtime (activations and CUDA graphs live outside the static pool)',
  'fraction-of-free': 'fraction x (capacity - weightsPerDevice - activations - runtime - cudaGraphInBudget)',
  all: 'capacity - weightsPerDevice - activations - runtime',
};

/** Rounds a token count down to whole KV blocks. */
export const wholeBlocks = (tokens: number, block: number): number => Math.floor(tokens / block) * block;
/** Rounds a sequence's tokens up to whole KV blocks (a paged engine allocates whole blocks). */
export const blocksFor = (tokens: number, block: number): number => Math.ceil(tokens / block) * block;

export interface CapacityArgs {
  engine: EngineSpec;
  budget: KvBudgetInputs;
  activationSource: string;
  runtimeSource: string;
  /** KV bytes one token adds on the busiest device, over the layers of its stage */
  kvBytesPerTokenPerDevice: number;
  /** KV bytes one sequence of n tokens holds on the busiest device (sliding windows included) */
  kvBytesPerSequencePerDevice: (tokens: number) => number;
  /** the longest context whose KV takes at most this many bytes per sequence on the busiest device */
  contextForKvBytesPerDevice: (bytes: number) => number;
  /** recurrent state (linear attention, Mamba) one sequence holds on the busiest device, whatever its context; 0 without such layers */
  stateBytesPerSequencePerDevice: number;
}

export interface CapacityResult {
  /** the engine's pool for KV (and, when shared, recurrent state) per device */
  kvCapacityBytes: number;
  kvCapacityTokens: number;
  maxConcurrency: number;
}

/**
 * memory.kvCapacity, memory.kvCapacityTokens, capacity.maxConcurrency, capacity.maxBatch and
 * capacity.maxContext under the engine's budget. Token capacity is what vLLM logs as "GPU KV
 * cache size: N tokens" (= "# GPU blocks" x block_size); concurrency is its "Maximum
 * concurrency for C tokens per request" (tokens / C, whole blocks per sequence).
 */
export function capacityFigures(fig: Figures, input: EstimateInput, m: ModelSpec, a: CapacityArgs): CapacityResult {
  const { engine: e, budget: b } = a;
  const w = input.workload;
  const block = e.blockTokens.value!;
  const kvBytes = kvBudgetBytes(e, b);
  const graphs = e.cudaGraph?.inBudget ? e.cudaGraph.value! : 0;
  term(fig, { id: 'memory.kvCapacity', label: `KV cache the engine allocates per device (${e.name})`, unit: 'B', value: kvBytes, formula: FORMULA[e.budget.kind], inputs: {
    engine: e.id, capacity: b.capacityBytes, fraction: engineFraction(e, b.tp), weightsPerDevice: b.weightBytesPerDevice,
    activations: b.activationBytesPerDevice, runtime: b.runtimeBytesPerDevice, cudaGraphInBudget: graphs, tp: b.tp,
  }, source: `${e.budget.fraction.source}${e.budget.byTensorParallelSource ? `; ${e.budget.byTensorParallelSource}` : ''}; activations: ${a.activationSource}; runtime: ${a.runtimeSource}`, approximate: true });

  // Hybrid models keep a fixed-size recurrent state per sequence beside the KV cache: in the
  // same pool (vLLM's hybrid allocator) or in a pool of its own carved from the budget (SGLang:
  // mamba budget = rest x ratio / (1 + ratio), model_runner _handle_max_mamba_cache), so the
  // sequences that fit are limited by whichever pool runs out first.
  const state = a.stateBytesPerSequencePerDevice;
  const pool = e.statePool ?? { kind: 'shared' as const, source: 'KV and recurrent state share one pool (vLLM V1 hybrid KV cache manager: Mamba layers take pages of the same pool)' };
  const separate = state > 0 && pool.kind === 'separate';
  const ratio = pool.ratio ?? 0.9;
  const stateBytes = separate ? (kvBytes * ratio) / (1 + ratio) : 0;
  const kvPool = kvBytes - stateBytes;
  const stateSlots = separate ? Math.floor(stateBytes / state) : Infinity;
  if (state > 0) {
    term(fig, { id: 'memory.stateCapacity', label: separate ? `State pool per device (${e.name})` : 'State pool (shares the KV pool)', unit: 'B', value: stateBytes, formula: separate ? 'kvCapacity x ratio / (1 + ratio)' : '0 (one pool for KV pages and state)', inputs: { kvCapacity: kvBytes, ratio: separate ? ratio : 0, statePerSequencePerDevice: state }, source: pool.source, approximate: true });
    if (separate) term(fig, { id: 'capacity.stateSlots', label: 'Sequences the state pool holds', unit: 'count', value: stateSlots, formula: 'floor(stateCapacity / statePerSequencePerDevice)', inputs: { stateCapacity: stateBytes, statePerSequencePerDevice: state }, source: pool.source, approximate: true });
  }

  const tokens = a.kvBytesPerTokenPerDevice > 0 ? wholeBlocks(kvPool / a.kvBytesPerTokenPerDevice, block) : 0;
  term(fig, { id: 'memory.kvCapacityTokens', label: 'KV cache capacity in tokens (per replica)', unit: 'tokens', value: tokens, formula: separate ? 'floor((kvCapacity - stateCapacity) / kvBytesPerTokenPerDevice / blockTokens) x blockTokens' : 'floor(kvCapacity / kvBytesPerTokenPerDevice / blockTokens) x blockTokens', inputs: { kvCapacity: kvPool, kvBytesPerTokenPerDevice: a.kvBytesPerTokenPerDevice, blockTokens: block }, source: `${e.blockTokens.source}; vLLM kv_cache_utils.py: num_blocks = available_memory // page_size_bytes`, approximate: true });

  const seqKv = a.kvBytesPerSequencePerDevice(blocksFor(w.context, block));
  const perSequence = seqKv + (separate ? 0 : state);
  const byKv = perSequence > 0 ? Math.floor(kvPool / perSequence) : 0;
  const maxConcurrency = Math.min(byKv, stateSlots);
  term(fig, { id: 'capacity.maxConcurrency', label: 'Most concurrent sequences at this context', unit: 'count', value: maxConcurrency, formula: state > 0 ? (separate ? 'min(floor((kvCapacity - stateCapacity) / kvPerSequencePerDevice), stateSlots)' : 'floor(kvCapacity / (kvPerSequencePerDevice + statePerSequencePerDevice))') : 'floor(kvCapacity / kvPerSequencePerDevice(context rounded up to whole blocks))', inputs: { kvCapacity: kvPool, context: w.context, blockTokens: block, kvPerSequencePerDevice: seqKv, ...(state > 0 ? { statePerSequencePerDevice: state } : {}), paged: e.paged }, source: e.paged ? 'paged KV (Kwon et al. 2023, PagedAttention): each sequence holds whole blocks of its own tokens' : 'no paging: every slot reserves its full context up front (llama.cpp n_ctx / n_parallel)', approximate: true });
  term(fig, { id: 'capacity.maxBatch', label: 'Largest batch at this context', unit: 'count', value: maxConcurrency, formula: 'capacity.maxConcurrency', inputs: { maxConcurrency }, source: 'same as capacity.maxConcurrency', approximate: true });

  // Longest context at this batch: the KV bytes per sequence the pool leaves each of `batch`
  // sequences, inverted through the layers (windowed layers stop growing at their window).
  const perSequenceBudget = w.batch > 0 && (separate ? w.batch <= stateSlots : true) ? kvPool / w.batch - (separate ? 0 : state) : 0;
  const longest = perSequenceBudget > 0 ? a.contextForKvBytesPerDevice(perSequenceBudget) : 0;
  const maxContext = Math.min(m.maxContext, wholeBlocks(Math.min(longest, Number.MAX_SAFE_INTEGER), block));
  term(fig, { id: 'capacity.maxContext', label: 'Longest context at this batch', unit: 'tokens', value: maxContext, formula: 'min(maxPositionEmbeddings, whole blocks of the context whose KV fits kvCapacity / batch)', inputs: { batch: w.batch, kvCapacity: kvPool, maxPositionEmbeddings: m.maxContext, blockTokens: block }, source: 'memory balance under the engine budget', approximate: true });
  return { kvCapacityBytes: kvBytes, kvCapacityTokens: tokens, maxConcurrency };
}
