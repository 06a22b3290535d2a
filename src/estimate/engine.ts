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
  /** KV bytes per token per layer on the busiest device, and layers per stage / all layers */
  perLayerPerTokenDevice: number;
  stageShare: number;
}

export interface CapacityResult {
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

  const tokens = a.kvBytesPerTokenPerDevice > 0 ? wholeBlocks(kvBytes / a.kvBytesPerTokenPerDevice, block) : 0;
  term(fig, { id: 'memory.kvCapacityTokens', label: 'KV cache capacity in tokens (per replica)', unit: 'tokens', value: tokens, formula: 'floor(kvCapacity / kvBytesPerTokenPerDevice / blockTokens) x blockTokens', inputs: { kvCapacity: kvBytes, kvBytesPerTokenPerDevice: a.kvBytesPerTokenPerDevice, blockTokens: block }, source: `${e.blockTokens.source}; vLLM kv_cache_utils.py: num_blocks = available_memory // page_size_bytes`, approximate: true });

  const seqBytes = a.kvBytesPerSequencePerDevice(blocksFor(w.context, block));
  const maxConcurrency = seqBytes > 0 ? Math.floor(kvBytes / seqBytes) : 0;
  term(fig, { id: 'capacity.maxConcurrency', label: 'Most concurrent sequences at this context', unit: 'count', value: maxConcurrency, formula: 'floor(kvCapacity / kvPerSequencePerDevice(context rounded up to whole blocks))', inputs: { kvCapacity: kvBytes, context: w.context, blockTokens: block, kvPerSequencePerDevice: seqBytes, paged: e.paged }, source: e.paged ? 'paged KV (Kwon et al. 2023, PagedAttention): each sequence holds whole blocks of its own tokens' : 'no paging: every slot reserves its full context up front (llama.cpp n_ctx / n_parallel)', approximate: true });
  term(fig, { id: 'capacity.maxBatch', label: 'Largest batch at this context', unit: 'count', value: maxConcurrency, formula: 'capacity.maxConcurrency', inputs: { maxConcurrency }, source: 'same as capacity.maxConcurrency', approximate: true });

  // Longest context at this batch: KV tokens held per sequence grow by `layers` per token up to
  // a sliding window, then by the full-attention layers only (kvLayerTokens in memory.ts).
  const local = m.slidingWindow?.localLayers ?? 0;
  const window = m.slidingWindow?.window ?? Infinity;
  const full = m.layers - local;
  const perLayerTokenBudget = a.perLayerPerTokenDevice > 0 ? kvBytes / (a.perLayerPerTokenDevice * a.stageShare * w.batch) : 0;
  const beyondWindow = full > 0 ? window + (perLayerTokenBudget - m.layers * window) / full : Infinity;
  const longest = perLayerTokenBudget <= m.layers * window ? perLayerTokenBudget / m.layers : beyondWindow;
  const maxContext = Math.min(m.maxContext, wholeBlocks(Math.min(longest, Number.MAX_SAFE_INTEGER), block));
  term(fig, { id: 'capacity.maxContext', label: 'Longest context at this batch', unit: 'tokens', value: maxContext, formula: 'min(maxPositionEmbeddings, whole blocks of kvCapacity / (batch x kvPerTokenPerDevice))', inputs: { batch: w.batch, kvCapacity: kvBytes, maxPositionEmbeddings: m.maxContext, blockTokens: block }, source: 'memory balance under the engine budget', approximate: true });
  return { kvCapacityBytes: kvBytes, kvCapacityTokens: tokens, maxConcurrency };
}
