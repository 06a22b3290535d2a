import type { ModelSpec } from '../inputs/model.js';
import { bytesPerElement, type Format } from '../inputs/precision.js';
import { capacityFigures, IDEAL_ENGINE } from './engine.js';
import type { EstimateInput } from './input.js';
import { deviceWeightShare, kvHeadShare, layoutOf, stageLayers } from './parallel.js';
import { sum, term, type Figures } from './terms.js';
import { weightFigures, type WeightLayout } from './weights.js';

/**
 * KV-cache bytes per token per layer. Standard attention stores K and V for every KV head:
 * 2 x kvHeads x headDim x bytes (vLLM vllm/attention/layer.py, FlashAttention KV layout).
 * MLA stores one compressed latent plus the shared rotary key: (kvLoraRank + qkRopeHeadDim)
 * x bytes (DeepSeek-V2 paper, sec. 2.1.3; vLLM MLA backend).
 */
export function kvBytesPerTokenPerLayer(m: ModelSpec, kv: Format): number {
  const elements = m.mla ? m.mla.kvLoraRank + m.mla.qkRopeHeadDim : 2 * m.kvHeads * m.headDim;
  return elements * bytesPerElement(kv);
}

/** Layers that attend to the full context, and local (sliding-window) layers. */
export function layerSplit(m: ModelSpec): { full: number; local: number; window: number } {
  const local = m.slidingWindow?.localLayers ?? 0;
  return { full: m.layers - local, local, window: m.slidingWindow?.window ?? Infinity };
}

/** KV tokens held per sequence summed over layers, for a sequence of `context` tokens. */
export function kvLayerTokens(m: ModelSpec, context: number): number {
  const { full, local, window } = layerSplit(m);
  return full * context + local * Math.min(context, window);
}

/**
 * Prompt tokens per prefill forward pass: vLLM's V1 engine enables chunked prefill with
 * max_num_batched_tokens 8192 for online serving (vllm/engine/arg_utils.py defaults).
 */
export const PREFILL_CHUNK_TOKENS = 8192;

/**
 * Prefill working set on one device for `tokens` prompt tokens of one forward pass and
 * `sequences` sequences: the largest per-layer set (residual, normed input, q/k/v, gate/up/act
 * of the MLP, the head- and column-split parts divided over tp ranks) plus fp32 logits of each
 * sequence's last token. FlashAttention keeps scores out of memory (Dao et al. 2022).
 */
export function activationBytesPerDevice(m: ModelSpec, tokens: number, sequences: number, bytesPerActivation: number, tp: number): number {
  const ffnWidth = m.moe ? Math.max(m.ffn, m.moe.expertFfn * m.moe.topK) : m.ffn;
  const perTokenElements = 2 * m.hidden + ((m.heads + 2 * m.kvHeads) * m.headDim) / tp + (3 * ffnWidth) / tp;
  return tokens * perTokenElements * bytesPerActivation + sequences * m.vocab * 4;
}

export interface MemoryResult {
  weightBytes: number;
  kvBytesPerToken: number;
  perDeviceBytes: number;
  capacityBytes: number;
  fits: boolean;
  /** KV bytes per device the engine allocates, and the sequences that holds at this context */
  kvCapacityBytes: number;
  maxConcurrency: number;
}

/**
 * Memory terms (bytes): weights, KV cache, prefill activations, runtime overhead; per device
 * under tensor parallelism; fit, headroom, and the largest batch and context that fit.
 */
export function memoryFigures(fig: Figures, input: EstimateInput, params: number, tensors: WeightLayout | undefined): MemoryResult {
  const { model: m, workload: w, count: n, hardware: hw } = input;
  const layout = layoutOf(input);
  const tp = layout.tp;
  // Share of the KV cache on the busiest device: its KV heads (replicated when kv < tp) over the
  // layers of its pipeline stage.
  const stageShare = stageLayers(m, layout.pp) / m.layers;
  const capacity = hw.memoryBytes.value!;
  // Weights: a sum over tensor groups, each in the format it takes (src/estimate/weights.ts).
  const weights = weightFigures(fig, m, params, input.weights, tensors);

  const perLayer = kvBytesPerTokenPerLayer(m, input.kv);
  const { local, window } = layerSplit(m);
  const kvSource = m.mla ? 'DeepSeek-V2 paper sec. 2.1.3; vLLM MLA backend caches kv_lora_rank + qk_rope_head_dim per layer' : 'vLLM KV cache spec: 2 (K and V) x num_kv_heads x head_size x dtype bytes per layer';
  const kvPerToken = term(fig, { id: 'memory.kvCachePerToken', label: 'KV cache per token (all layers at full context)', unit: 'B', value: m.layers * perLayer, formula: m.mla ? 'layers x (kvLoraRank + qkRopeHeadDim) x bytes' : 'layers x 2 x kvHeads x headDim x bytes', inputs: { layers: m.layers, kvHeads: m.kvHeads, headDim: m.headDim, bytes: bytesPerElement(input.kv), format: input.kv.id }, source: kvSource, approximate: m.shapeAssumed });
  const seqKv = term(fig, { id: 'memory.kvCachePerSequence', label: 'KV cache per sequence', unit: 'B', value: kvLayerTokens(m, w.context) * perLayer, formula: local ? 'perLayerPerToken x (fullLayers x context + localLayers x min(context, window))' : 'kvCachePerToken x context', inputs: { context: w.context, perLayerPerToken: perLayer, localLayers: local, window: Number.isFinite(window) ? window : 0 }, source: kvSource, approximate: m.shapeAssumed });
  const kv = term(fig, { id: 'memory.kvCache', label: 'KV cache', unit: 'B', value: w.batch * seqKv, formula: 'batch x kvCachePerSequence', inputs: { batch: w.batch, perSequence: seqKv }, source: kvSource, approximate: m.shapeAssumed });

  // Prefill transient: the largest per-layer working set (residual, normed input, q/k/v,
  // gate/up/act of the MLP) for the prompt tokens of one forward pass, plus fp32 logits of
  // the last token of each sequence. Engines prefill in chunks of at most
  // PREFILL_CHUNK_TOKENS, so the working set stops growing there. FlashAttention keeps scores
  // out of memory (Dao et al. 2022); vLLM's profile_run measures this peak with a dummy batch
  // (vllm/v1/worker/gpu_worker.py determine_available_memory).
  const tokens = Math.min(w.batch * w.inputTokens, PREFILL_CHUNK_TOKENS);
  const actBytes = bytesPerElement(input.activations);
  const ffnWidth = m.moe ? Math.max(m.ffn, m.moe.expertFfn * m.moe.topK) : m.ffn;
  const activationsPerDevice = activationBytesPerDevice(m, tokens, w.batch, actBytes, tp);
  const activations = term(fig, { id: 'memory.activations', label: 'Activations (prefill peak)', unit: 'B', value: activationsPerDevice * n, formula: 'count x (min(batch x inputTokens, chunk) x (2 hidden + qkvDim/tp + 3 ffn/tp) x bytes + batch x vocab x 4 (fp32 logits))', inputs: { tokens, chunk: PREFILL_CHUNK_TOKENS, hidden: m.hidden, ffn: ffnWidth, tp, count: n, bytes: actBytes, vocab: m.vocab }, source: 'Korthikanti et al. 2022 per-layer activation terms, without the training-only saves; FlashAttention (no score matrix); vLLM profile_run', approximate: true });

  const overheadPerDevice = hw.runtimeOverheadBytes.value ?? 0;
  term(fig, { id: 'memory.overhead', label: 'Runtime overhead (context, workspaces)', unit: 'B', value: n * overheadPerDevice, formula: 'count x runtimeOverhead', inputs: { count: n, runtimeOverhead: overheadPerDevice }, source: hw.runtimeOverheadBytes.source, approximate: true });
  sum(fig, { id: 'memory.total', label: 'Total memory', unit: 'B', parts: ['memory.weights', 'memory.kvCache', 'memory.activations', 'memory.overhead'] });

  // Per device: weights, activations and overhead split evenly across TP ranks; KV split by
  // KV heads, replicated when KV heads < ranks.
  const kvShard = kvHeadShare(m, tp) * stageShare;
  const weightShare = deviceWeightShare(fig, m, layout, params);
  const weightsPerDevice = term(fig, { id: 'memory.perDevice.weights', label: 'Weights per device', unit: 'B', value: weights * weightShare, formula: 'weights x share of the busiest device (layers/pp of the layers; matrices / tp; k/v projections per KV-head share; norms replicated; embedding on the first stage, head on the last)', inputs: { weights, share: weightShare, tp, pp: layout.pp, ep: layout.ep }, source: 'Megatron-LM tensor parallelism (Shoeybi et al. 2019); vLLM QKVParallelLinear, VocabParallelEmbedding, get_pp_indices; FusedMoE expert split' });
  term(fig, { id: 'memory.perDevice.kvCache', label: 'KV cache per device', unit: 'B', value: kv * kvShard, formula: 'kvCache x max(1, ceil(kvHeads / tp)) / kvHeads x ceil(layers / pp) / layers', inputs: { kvCache: kv, kvHeads: m.kvHeads, tp, pp: layout.pp, layers: m.layers }, source: 'vLLM QKVParallelLinear: KV heads replicated when tp_size > num_kv_heads; each pipeline stage caches its own layers' });
  term(fig, { id: 'memory.perDevice.activations', label: 'Activations per device', unit: 'B', value: activationsPerDevice, formula: 'activations / count', inputs: { activations, count: n }, source: 'each rank holds its own working set', approximate: true });
  term(fig, { id: 'memory.perDevice.overhead', label: 'Runtime overhead per device', unit: 'B', value: overheadPerDevice, formula: 'runtimeOverhead', inputs: { runtimeOverhead: overheadPerDevice }, source: hw.runtimeOverheadBytes.source, approximate: true });
  const perDevice = sum(fig, { id: 'memory.perDevice', label: 'Memory per device', unit: 'B', parts: ['memory.perDevice.weights', 'memory.perDevice.kvCache', 'memory.perDevice.activations', 'memory.perDevice.overhead'] });

  term(fig, { id: 'memory.capacityPerDevice', label: 'Device memory', unit: 'B', value: capacity, formula: 'hardware memory capacity', inputs: { device: hw.id }, source: hw.memoryBytes.source });
  term(fig, { id: 'memory.headroom', label: 'Free memory per device', unit: 'B', value: Math.max(0, capacity - perDevice), formula: 'max(0, capacity - perDevice)', inputs: { capacity, perDevice }, source: 'difference' });
  term(fig, { id: 'memory.shortfall', label: 'Missing memory per device', unit: 'B', value: Math.max(0, perDevice - capacity), formula: 'max(0, perDevice - capacity)', inputs: { capacity, perDevice }, source: 'difference' });

  // What the serving engine leaves for the KV cache (engine.ts), and what that holds. The
  // engine's activation reserve is its profiling pass (vLLM: max_num_batched_tokens tokens), a
  // fixed compute buffer (llama.cpp), or this workload's peak (ideal).
  const engine = input.engine ?? IDEAL_ENGINE;
  const engineActivations = engine.computeBufferBytes
    ? { bytes: engine.computeBufferBytes.value!, source: engine.computeBufferBytes.source }
    : engine.profileTokens
      ? { bytes: activationBytesPerDevice(m, engine.profileTokens.value!, 1, actBytes, tp), source: `activationBytesPerDevice at ${engine.profileTokens.value} tokens (${engine.profileTokens.source})` }
      : { bytes: activationsPerDevice, source: 'memory.perDevice.activations (this workload)' };
  const runtime = engine.runtimeBytes ? { bytes: engine.runtimeBytes.value!, source: engine.runtimeBytes.source } : { bytes: overheadPerDevice, source: hw.runtimeOverheadBytes.source };
  const cap = capacityFigures(fig, input, m, {
    engine,
    budget: { capacityBytes: capacity, weightBytesPerDevice: weightsPerDevice, activationBytesPerDevice: engineActivations.bytes, runtimeBytesPerDevice: runtime.bytes, tp },
    activationSource: engineActivations.source,
    runtimeSource: runtime.source,
    kvBytesPerTokenPerDevice: m.layers * perLayer * kvShard,
    kvBytesPerSequencePerDevice: (tokens) => kvLayerTokens(m, tokens) * perLayer * kvShard,
    perLayerPerTokenDevice: perLayer * kvHeadShare(m, tp),
    stageShare,
  });
  // Fits when the device holds the whole working set and the engine's KV budget holds this
  // workload's KV cache.
  const fits = perDevice <= capacity && kv * kvShard <= cap.kvCapacityBytes;

  return { weightBytes: weights, kvBytesPerToken: kvPerToken, perDeviceBytes: perDevice, capacityBytes: capacity, fits, kvCapacityBytes: cap.kvCapacityBytes, maxConcurrency: cap.maxConcurrency };
}
