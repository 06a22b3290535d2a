import type { ModelSpec } from '../inputs/model.js';
import { bytesPerElement, FORMATS, type Format } from '../inputs/precision.js';
import { capacityFigures, engineBudget, engineCapacityBytes, IDEAL_ENGINE, type Budget, type KvPools } from './engine.js';
import type { HardwareSpec } from '../inputs/hardware.js';
import type { EstimateInput } from './input.js';
import { attentionTp, deviceWeightShare, dpGroups, kvDeviceShare, kvHeadShare, layoutOf, stageLayers } from './parallel.js';
import { once, once2 } from './once.js';
import { sum, term, type Figures } from './terms.js';
import { heldTokens, holdsKv, holdsState, indexerBytesPerToken, kvElementsPerToken, layerGroups, ownsKv, projectionWidths, stateShape } from './layers.js';
import { weightFigures, type WeightLayout } from './weights.js';
import { pagedState } from './state-pages.js';
import { cachedPromptTokens, sharedPrefixTokens } from './prefix.js';
import { offloadMemoryFigures, offloadSplit } from './offload.js';

/** One group of layers that keeps a KV cache: bytes per token per layer and the tokens it keeps at most. */
export interface KvLayers {
  count: number;
  bytesPerToken: number;
  /** window or chunk; Infinity for full attention */
  cap: number;
}

/**
 * KV bytes per token per layer, for each group of layers that holds KV. Standard attention
 * stores K and V for every KV head: 2 x kvHeads x headDim x bytes (vLLM attention KV spec,
 * FlashAttention layout). MLA stores one compressed latent plus the shared rotary key:
 * (kvLoraRank + qkRopeHeadDim) x bytes (DeepSeek-V2 sec. 2.1.3; vLLM MLA backend); DeepSeek-V3.2
 * adds its indexer's fp8 key cache (layers.ts indexerBytesPerToken). Linear-attention and SSM
 * layers hold no KV: their state is per sequence (stateBytesPerSequence).
 */
export const kvLayers: (m: ModelSpec, kv: Format) => KvLayers[] = once2((m: ModelSpec, kv: Format): KvLayers[] => {
  const bytes = bytesPerElement(kv);
  const out: KvLayers[] = [];
  for (const g of layerGroups(m)) {
    // layers on shared KV (Gemma 3n) read another layer's cache and allocate none
    if (!ownsKv(g.mixer)) continue;
    out.push({ count: g.count, bytesPerToken: kvElementsPerToken(m, g.mixer) * bytes + indexerBytesPerToken(g.mixer), cap: heldTokens(g.mixer, Infinity) });
  }
  return out;
});

/** KV bytes one token adds over every layer that holds KV (sliding and chunked layers included). */
export const kvBytesPerToken = (m: ModelSpec, kv: Format): number => kvLayers(m, kv).reduce((a, l) => a + l.count * l.bytesPerToken, 0);

/**
 * KV tokens a sequence of `context` tokens holds, summed over the layers that hold KV (full
 * layers every token, windowed layers at most their window, recurrent layers none). Times
 * kvBytesPerTokenPerLayer it is the sequence's KV bytes (every KV layer of a model stores the
 * same bytes per token).
 */
export function kvLayerTokens(m: ModelSpec, context: number): number {
  let total = 0;
  for (const g of layerGroups(m)) if (holdsKv(g.mixer)) total += g.count * heldTokens(g.mixer, context);
  return total;
}

/** KV bytes per token of one layer that holds KV (the same in every KV layer of a model; 0 without any). */
export function kvBytesPerTokenPerLayer(m: ModelSpec, kv: Format): number {
  const layers = kvLayers(m, kv);
  const count = layers.reduce((a, l) => a + l.count, 0);
  return count ? layers.reduce((a, l) => a + l.count * l.bytesPerToken, 0) / count : 0;
}

/** KV bytes a sequence of `context` tokens holds: full layers every token, windowed layers at most their window. */
export const kvBytesForContext = (layers: KvLayers[], context: number): number => layers.reduce((a, l) => a + l.count * l.bytesPerToken * Math.min(context, l.cap), 0);

/** KV bytes of a sequence of `context` tokens. */
export const kvBytesPerSequence = (m: ModelSpec, kv: Format, context: number): number => kvBytesForContext(kvLayers(m, kv), context);

/**
 * The longest context whose KV fits in `bytes` per sequence (the inverse of kvBytesForContext,
 * piecewise linear: every layer grows until its window, then only the wider ones).
 */
export function contextForKvBytes(layers: KvLayers[], bytes: number): number {
  const caps = [...new Set(layers.map((l) => l.cap))].sort((a, b) => a - b);
  let context = 0;
  let used = 0;
  for (const cap of [...caps, Infinity]) {
    const slope = layers.reduce((a, l) => a + (l.cap > context ? l.count * l.bytesPerToken : 0), 0);
    if (slope <= 0) return Infinity;
    const reach = used + slope * (cap - context);
    if (bytes <= reach) return context + (bytes - used) / slope;
    used = reach;
    context = cap;
  }
  return context;
}

/** Layers that attend to the full context, local (sliding or chunked) layers and the widest window (training formulas). */
export const layerSplit: (m: ModelSpec) => { full: number; local: number; window: number } = once((m: ModelSpec) => {
  let full = 0;
  let local = 0;
  let window = 0;
  for (const g of layerGroups(m)) {
    const cap = heldTokens(g.mixer, Infinity);
    if (!holdsKv(g.mixer)) continue;
    if (Number.isFinite(cap)) {
      local += g.count;
      window = Math.max(window, cap);
    } else full += g.count;
  }
  return { full, local, window: local ? window : Infinity };
});

/** Formats the recurrent state is kept in: the conv state and the SSM / delta-rule state. */
export interface StateFormats {
  conv: Format;
  recurrent: Format;
}

/**
 * Recurrent state bytes per sequence on one of `tp` ranks (constant in context): conv state
 * plus SSM or delta-rule state of every linear-attention and Mamba layer (layers.ts stateShape).
 */
export function stateBytesPerSequence(m: ModelSpec, f: StateFormats, tp = 1): number {
  let total = 0;
  for (const g of layerGroups(m)) {
    if (!holdsState(g.mixer)) continue;
    const s = stateShape(g.mixer, tp);
    total += g.count * (s.conv * bytesPerElement(f.conv) + s.recurrent * bytesPerElement(f.recurrent));
  }
  return total;
}

/** Layers with a recurrent state, and the elements it has per sequence (all ranks). */
export const stateLayers: (m: ModelSpec) => { layers: number; conv: number; recurrent: number } = once((m: ModelSpec) => {
  let layers = 0;
  let conv = 0;
  let recurrent = 0;
  for (const g of layerGroups(m)) {
    if (!holdsState(g.mixer)) continue;
    const s = stateShape(g.mixer);
    layers += g.count;
    conv += g.count * s.conv;
    recurrent += g.count * s.recurrent;
  }
  return { layers, conv, recurrent };
});

const STATE_SOURCE = 'vLLM mamba_utils.py MambaStateShapeCalculator / MambaStateDtypeCalculator; SGLang Mamba2CacheParams.mamba_cache_per_req: conv state (channels x (kernel - 1)) + SSM or delta-rule state (heads x dk x dv, or channels x d_state) per layer';

/**
 * Formats engines keep recurrent state in: the conv state in the activation type (vLLM
 * mamba_cache_dtype auto; SGLang CONV_DTYPE bfloat16), the SSM / delta-rule state in the
 * engine's choice (SGLang SGLANG_MAMBA_SSM_DTYPE float32), else the model's (vLLM
 * NemotronHForCausalLMConfig: float32), else the activation type (vLLM mamba_ssm_cache_dtype auto).
 */
export function stateFormatsOf(input: Pick<EstimateInput, 'model' | 'engine' | 'activations'>): StateFormats {
  const named = input.engine?.recurrentStateFormat ?? input.model.recurrentStateFormat;
  return { conv: input.activations, recurrent: named === 'fp32' ? FORMATS.fp32 : input.activations };
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
  const widths = projectionWidths(m);
  const perTokenElements = 2 * m.hidden + widths.mixer / tp + (3 * widths.mlp) / tp;
  return tokens * perTokenElements * bytesPerActivation + sequences * m.vocab * 4;
}

export interface MemoryResult {
  weightBytes: number;
  kvBytesPerToken: number;
  perDeviceBytes: number;
  capacityBytes: number;
  fits: boolean;
  weightBytesPerDevice: number;
  /** KV bytes per device the engine allocates, the tokens that holds, and the sequences at this context */
  kvCapacityBytes: number;
  kvCapacityTokens: number;
  maxConcurrency: number;
  /** KV bytes this workload needs per device (whole blocks per sequence) */
  kvNeededBytes: number;
  /** the engine's budget part by part, and the KV pools it divides (engine.ts) */
  budget: Budget;
  pools: KvPools;
}

/**
 * Memory a serving lever adds beside the model's own (speculative.ts drafter, lora-serving.ts
 * adapters): its figures, already added, and what it takes from the engine's budget.
 */
export interface LeverMemory {
  /** figure ids of the whole replica's bytes (parts of memory.total) */
  totalParts: string[];
  /** figure ids of one device's bytes (parts of memory.perDevice) */
  perDeviceParts: string[];
  /** fixed bytes per device (weights, pre-allocated buffers) */
  fixedBytesPerDevice: number;
  /** KV bytes per token per device, and per sequence of `context` tokens per device */
  kvBytesPerTokenPerDevice: number;
  kvBytesPerSequencePerDevice: (context: number) => number;
}

/** "80GB" in a preset's name ("NVIDIA H100 SXM5 80GB"): the decimal size the device is sold as, bytes. */
const marketedBytes = (hw: HardwareSpec): number | undefined => {
  const m = /(\d+(?:\.\d+)?) ?GB\b/.exec(hw.name);
  return m ? Number(m[1]) * 1e9 : undefined;
};

/**
 * The device's memory as the figures judge fits against, and what is left or missing: the total
 * CUDA reports where the preset knows it (memory.usable, torch.cuda.mem_get_info: 79.19 GiB on
 * an H100 SXM, what vLLM and SGLang size their pools against), else the total the driver reports
 * (nvidia-smi); the label says which (", usable"), beside the decimal size the device is sold as,
 * and the inputs carry the total. Returns the
 * capacity in bytes.
 * @example deviceMemoryFigures(fig, h100, 17e9) // 85,030,558,842 B (79.19 GiB), "Device memory, usable (sold as 80 GB)"
 */
export function deviceMemoryFigures(fig: Figures, hw: HardwareSpec, perDevice: number): number {
  const total = hw.memoryBytes.value!;
  const usable = hw.memoryUsableBytes?.value ?? undefined;
  const capacity = usable ?? total;
  const marketed = marketedBytes(hw);
  const sold = marketed !== undefined ? `sold as ${+(marketed / 1e9).toFixed(1)} GB` : '';
  const label = `Device memory${usable !== undefined ? ', usable' : ''}${sold ? ` (${sold})` : ''}`;
  term(fig, {
    id: 'memory.capacityPerDevice', label, unit: 'B', value: capacity,
    formula: usable !== undefined ? 'the total CUDA reports (memory.usable): what serving engines size against' : 'the total the driver reports (memory.capacity)',
    inputs: { device: hw.id, totalBytes: total, ...(usable !== undefined ? { usableBytes: usable } : {}), ...(marketed !== undefined ? { marketedBytes: marketed } : {}) },
    source: usable !== undefined ? hw.memoryUsableBytes!.source : hw.memoryBytes.source,
  });
  term(fig, { id: 'memory.headroom', label: 'Free memory per device', unit: 'B', value: Math.max(0, capacity - perDevice), formula: 'max(0, capacity - perDevice)', inputs: { capacity, perDevice }, source: 'difference' });
  term(fig, { id: 'memory.shortfall', label: 'Missing memory per device', unit: 'B', value: Math.max(0, perDevice - capacity), formula: 'max(0, perDevice - capacity)', inputs: { capacity, perDevice }, source: 'difference' });
  return capacity;
}

/**
 * A model's KV cache in one format, as memoryFigures states it: whether its attention is MLA,
 * the layers that hold KV, the bytes per token over them, and the formula and source of that
 * figure (once per model and format: a search asks for every configuration).
 */
const kvShape = once2((m: ModelSpec, kv: Format) => {
  const kvLayersAll = kvLayers(m, kv);
  const mla = layerGroups(m).some((g) => g.mixer.kind === 'mla' || g.mixer.kind === 'sparse-mla');
  const kvHolding = kvLayersAll.reduce((a, l) => a + l.count, 0);
  const kvSource = mla ? 'DeepSeek-V2 paper sec. 2.1.3; vLLM MLA backend caches kv_lora_rank + qk_rope_head_dim per layer' + (kvLayersAll.some((l) => l.bytesPerToken > kvElementsPerToken(m, { kind: 'mla' }) * bytesPerElement(kv)) ? '; DeepSeek-V3.2 indexer keys: vLLM DeepseekV32IndexerCache (index_head_dim fp8 + fp32 scale per 128)' : '') : 'vLLM KV cache spec: 2 (K and V) x num_kv_heads x head_size x dtype bytes per layer';
  const perToken = kvLayersAll.reduce((a, l) => a + l.count * l.bytesPerToken, 0);
  const kvLayerNote = stateLayers(m).layers ? ` (the ${kvHolding} of ${m.layers} layers that hold KV)` : '';
  const kvPerTokenFormula = (mla ? 'layers x (kvLoraRank + qkRopeHeadDim) x bytes' : 'layers x 2 x kvHeads x headDim x bytes') + kvLayerNote;
  return { mla, kvHolding, perToken, kvSource, kvPerTokenFormula };
});

/**
 * Memory terms (bytes): weights, KV cache, prefill activations, runtime overhead; per device
 * under tensor parallelism; fit, headroom, and the largest batch and context that fit. `levers`
 * add their own figures (drafter, adapters) and take their share of the engine's budget.
 * `figures` 'result' (a search's probe, the verdict's trial changes: their figures are dropped)
 * builds only the terms the result is computed from, with the same values: no memory.total,
 * no device capacity, headroom and shortfall, no engine budget part by part, no longest context.
 */
export function memoryFigures(fig: Figures, input: EstimateInput, params: number, tensors: WeightLayout | undefined, levers: LeverMemory[] = [], figures: 'all' | 'result' = 'all'): MemoryResult {
  const all = figures === 'all';
  const { model: m, workload: w, count: n, hardware: hw } = input;
  const layout = layoutOf(input);
  // Attention and its working set split over an attention group (tp / dpAttention ranks).
  const tp = attentionTp(layout);
  const dp = dpGroups(layout);
  // Share of the KV cache on the busiest device: its KV heads (replicated when kv < tp) over the
  // layers of its pipeline stage.
  const stageShare = stageLayers(m, layout.pp) / m.layers;
  // what CUDA reports (memory.usable), the memory the engine's budget and the fit are judged against
  const capacity = engineCapacityBytes(hw);
  // Weights: a sum over tensor groups, each in the format it takes (src/estimate/weights.ts).
  const weights = weightFigures(fig, m, params, input.weights, tensors);
  // Gemma 3n: the per-layer embedding table is part of the weights engines load (vLLM, SGLang,
  // transformers, llama.cpp hold it on the device, as counted here); a runtime with PLE caching
  // (LiteRT / Google AI Edge) keeps it in host memory or storage and reads a row per token.
  if (tensors?.lookupBytes) term(fig, { id: 'memory.perLayerEmbeddings', label: 'Of the weights: per-layer embeddings (may live off the accelerator)', unit: 'B', value: tensors.lookupBytes, formula: 'embed_tokens_per_layer parameters x bytes of their format', inputs: { perLayerEmbedding: tensors.lookupBytes }, source: 'Gemma 3n docs, "PLE caching": per-layer embedding parameters can be cached to fast local storage and kept out of the model memory space' });

  const kvLayersAll = kvLayers(m, input.kv);
  const { local, window } = layerSplit(m);
  const kvBytes = bytesPerElement(input.kv);
  const { mla, kvHolding, perToken, kvSource, kvPerTokenFormula } = kvShape(m, input.kv);
  const recurrent = stateLayers(m);
  const kvPerToken = term(fig, { id: 'memory.kvCachePerToken', label: recurrent.layers ? 'KV cache per token (attention layers)' : 'KV cache per token (all layers at full context)', unit: 'B', value: perToken, formula: kvPerTokenFormula, inputs: { layers: kvHolding, kvHeads: m.kvHeads, headDim: m.headDim, bytes: kvBytes, format: input.kv.id }, source: kvSource, approximate: m.shapeAssumed });
  const perLayer = kvHolding ? perToken / kvHolding : 0;
  // Prefix caching (prefix.ts): a shared prefix's KV blocks are stored once per replica and
  // referenced by every sequence (vLLM block hashing, SGLang radix tree).
  const sharedTokens = sharedPrefixTokens(input);
  const sharedKv = sharedTokens ? kvBytesForContext(kvLayersAll, sharedTokens) : 0;
  if (sharedTokens) term(fig, { id: 'prefix.sharedKv', label: `Shared prefix KV (${sharedTokens} tokens, stored once)`, unit: 'B', value: sharedKv, formula: 'KV bytes of the shared prefix, once per replica', inputs: { sharedTokens }, source: 'vLLM automatic prefix caching: sequences with the same prefix blocks share them (v1/core/block_pool.py); SGLang RadixAttention (Zheng et al. 2024)' });
  const seqKv = term(fig, { id: 'memory.kvCachePerSequence', label: sharedKv ? 'KV cache per sequence (beyond the shared prefix)' : 'KV cache per sequence', unit: 'B', value: kvBytesForContext(kvLayersAll, w.context) - sharedKv, formula: local ? 'perLayerPerToken x (fullLayers x context + localLayers x min(context, window))' : 'kvCachePerToken x context', inputs: { ...(sharedKv ? { sharedPrefixKv: sharedKv } : {}), context: w.context, perLayerPerToken: perLayer, localLayers: local, window: Number.isFinite(window) ? window : 0 }, source: kvSource, approximate: m.shapeAssumed });
  const kv = term(fig, { id: 'memory.kvCache', label: 'KV cache', unit: 'B', value: w.batch * seqKv + sharedKv, formula: sharedKv ? 'batch x kvCachePerSequence + prefix.sharedKv' : 'batch x kvCachePerSequence', inputs: { batch: w.batch, perSequence: seqKv, ...(sharedKv ? { sharedPrefixKv: sharedKv } : {}) }, source: kvSource, approximate: m.shapeAssumed });

  // Recurrent state (linear attention, Mamba): a fixed size per sequence whatever the context.
  const stateFormats = stateFormatsOf(input);
  const seqState = recurrent.layers ? stateBytesPerSequence(m, stateFormats) : 0;
  if (recurrent.layers) {
    term(fig, { id: 'memory.statePerSequence', label: 'Recurrent state per sequence', unit: 'B', value: seqState, formula: `sum over the ${recurrent.layers} linear-attention / SSM layers of convState x convBytes + ssmState x stateBytes (constant in context)`, inputs: { layers: recurrent.layers, convElements: recurrent.conv, stateElements: recurrent.recurrent, convFormat: stateFormats.conv.id, stateFormat: stateFormats.recurrent.id }, source: STATE_SOURCE });
    term(fig, { id: 'memory.state', label: 'Recurrent state', unit: 'B', value: w.batch * seqState, formula: 'batch x statePerSequence', inputs: { batch: w.batch, perSequence: seqState }, source: STATE_SOURCE });
  }

  // Prefill transient: the largest per-layer working set (residual, normed input, q/k/v,
  // gate/up/act of the MLP) for the prompt tokens of one forward pass, plus fp32 logits of
  // the last token of each sequence. Engines prefill in chunks of at most
  // PREFILL_CHUNK_TOKENS, so the working set stops growing there. FlashAttention keeps scores
  // out of memory (Dao et al. 2022); vLLM's profile_run measures this peak with a dummy batch
  // (vllm/v1/worker/gpu_worker.py determine_available_memory).
  // Attention data parallelism: a group prefills its own sequences (batch / dp of them).
  const groupBatch = Math.ceil(w.batch / dp);
  const tokens = Math.min(groupBatch * (w.inputTokens - cachedPromptTokens(input)), PREFILL_CHUNK_TOKENS);
  const actBytes = bytesPerElement(input.activations);
  const ffnWidth = projectionWidths(m).mlp;
  const activationsPerDevice = activationBytesPerDevice(m, tokens, groupBatch, actBytes, tp);
  const activations = term(fig, { id: 'memory.activations', label: 'Activations (prefill peak)', unit: 'B', value: activationsPerDevice * n, formula: 'count x (min(batch x inputTokens, chunk) x (2 hidden + qkvDim/tp + 3 ffn/tp) x bytes + batch x vocab x 4 (fp32 logits))', inputs: { tokens, chunk: PREFILL_CHUNK_TOKENS, hidden: m.hidden, ffn: ffnWidth, tp, count: n, bytes: actBytes, vocab: m.vocab }, source: 'Korthikanti et al. 2022 per-layer activation terms, without the training-only saves; FlashAttention (no score matrix); vLLM profile_run', approximate: true });

  const overheadPerDevice = hw.runtimeOverheadBytes.value ?? 0;
  term(fig, { id: 'memory.overhead', label: 'Runtime overhead (context, workspaces)', unit: 'B', value: n * overheadPerDevice, formula: 'count x runtimeOverhead', inputs: { count: n, runtimeOverhead: overheadPerDevice }, source: hw.runtimeOverheadBytes.source, approximate: true });
  // Images: the engine's encoder cache keeps the vision encoder's output embeddings of the
  // images being prefilled (vLLM EncoderCacheManager, v1/core/encoder_cache_manager.py), one
  // text-width vector per image token, in the activation type, on every tensor-parallel rank.
  const encoderCachePerDevice = input.images ? w.batch * input.images.count * input.images.perImage.embeddings * m.hidden * actBytes : 0;
  if (input.images) {
    const img = input.images;
    term(fig, { id: 'workload.imageTokens', label: `Prompt tokens from ${img.count} image${img.count === 1 ? '' : 's'} of ${img.width}x${img.height}`, unit: 'tokens', value: img.count * img.perImage.tokens, formula: `images x tokens per image (${img.perImage.note})`, inputs: { images: img.count, tokensPerImage: img.perImage.tokens, embeddingTokens: img.perImage.embeddings }, source: 'the model processor\'s rule (src/estimate/images.ts): transformers Qwen2VLImageProcessor smart_resize, Llama4 get_best_fit and _prompt_split_image, Gemma3Processor' });
    term(fig, { id: 'memory.encoderCache', label: 'Encoder cache (image embeddings)', unit: 'B', value: encoderCachePerDevice * n, formula: 'count x batch x images x imageTokens x hidden x bytes', inputs: { count: n, batch: w.batch, images: img.count, imageTokens: img.perImage.embeddings, hidden: m.hidden, bytes: actBytes }, source: 'vLLM EncoderCacheManager keeps encoder outputs until the prompt that uses them is prefilled', approximate: true });
  }
  if (all) sum(fig, { id: 'memory.total', label: 'Total memory', unit: 'B', parts: ['memory.weights', 'memory.kvCache', ...(recurrent.layers ? ['memory.state'] : []), ...(input.images ? ['memory.encoderCache'] : []), ...levers.flatMap((l) => l.totalParts), 'memory.activations', 'memory.overhead'] });

  // Per device: weights, activations and overhead split evenly across TP ranks; KV split by
  // KV heads, replicated when KV heads < ranks; under attention data parallelism a device holds
  // only its group's sequences (1 / dp of them).
  // llama.cpp -ngl / --cpu-moe (offload.ts): the device holds its layers' weights and KV, the host the rest
  const split = input.weightOffload && tensors ? offloadSplit(m, tensors, input.weightOffload.gpuLayers, input.weightOffload.cpuMoeLayers) : undefined;
  const kvShard = kvDeviceShare(m, layout) * stageShare * (split ? split.gpuKvShare : 1);
  const weightShare = deviceWeightShare(fig, m, layout, params);
  const weightsPerDevice = split ? offloadMemoryFigures(fig, input, split, kv) : term(fig, { id: 'memory.perDevice.weights', label: 'Weights per device', unit: 'B', value: weights * weightShare, formula: 'weights x share of the busiest device (layers/pp of the layers; matrices / tp; k/v projections per KV-head share; norms replicated; embedding on the first stage, head on the last)', inputs: { weights, share: weightShare, tp, pp: layout.pp, ep: layout.ep }, source: 'Megatron-LM tensor parallelism (Shoeybi et al. 2019); vLLM QKVParallelLinear, VocabParallelEmbedding, get_pp_indices; FusedMoE expert split' });
  term(fig, { id: 'memory.perDevice.kvCache', label: 'KV cache per device', unit: 'B', value: kv * kvShard, formula: dp > 1 ? 'kvCache x max(1, ceil(kvHeads / attentionTp)) / kvHeads / dpAttention x ceil(layers / pp) / layers (MLA: 1 / dpAttention)' : 'kvCache x max(1, ceil(kvHeads / tp)) / kvHeads x ceil(layers / pp) / layers', inputs: dp > 1 ? { kvCache: kv, kvHeads: m.kvHeads, attentionTp: tp, dpAttention: dp, pp: layout.pp, layers: m.layers } : { kvCache: kv, kvHeads: m.kvHeads, tp, pp: layout.pp, layers: m.layers }, source: dp > 1 ? 'SGLang DP attention: each attention group holds the KV of its own requests only (lmsys.org/blog/2024-12-04-sglang-v0-4); vLLM QKVParallelLinear within a group' : 'vLLM QKVParallelLinear: KV heads replicated when tp_size > num_kv_heads; each pipeline stage caches its own layers' });
  // Recurrent state splits over tensor-parallel ranks with its heads (vLLM and SGLang divide
  // heads and conv channels by tp), each pipeline stage keeping its own layers.
  const statePerDevice = recurrent.layers ? stateBytesPerSequence(m, stateFormats, tp) * stageShare : 0;
  if (recurrent.layers) term(fig, { id: 'memory.perDevice.state', label: 'Recurrent state per device', unit: 'B', value: w.batch * statePerDevice, formula: 'batch x statePerSequence on one tensor-parallel rank x ceil(layers / pp) / layers', inputs: { batch: w.batch, tp, pp: layout.pp }, source: STATE_SOURCE });
  if (input.images) term(fig, { id: 'memory.perDevice.encoderCache', label: 'Encoder cache per device', unit: 'B', value: encoderCachePerDevice, formula: 'batch x images x imageTokens x hidden x bytes (full on every rank)', inputs: { encoderCache: encoderCachePerDevice }, source: 'vLLM EncoderCacheManager', approximate: true });
  term(fig, { id: 'memory.perDevice.activations', label: 'Activations per device', unit: 'B', value: activationsPerDevice, formula: 'activations / count', inputs: { activations, count: n }, source: 'each rank holds its own working set', approximate: true });
  term(fig, { id: 'memory.perDevice.overhead', label: 'Runtime overhead per device', unit: 'B', value: overheadPerDevice, formula: 'runtimeOverhead', inputs: { runtimeOverhead: overheadPerDevice }, source: hw.runtimeOverheadBytes.source, approximate: true });
  const perDevice = sum(fig, { id: 'memory.perDevice', label: 'Memory per device', unit: 'B', parts: ['memory.perDevice.weights', 'memory.perDevice.kvCache', ...(recurrent.layers ? ['memory.perDevice.state'] : []), ...(input.images ? ['memory.perDevice.encoderCache'] : []), ...levers.flatMap((l) => l.perDeviceParts), 'memory.perDevice.activations', 'memory.perDevice.overhead'] });

  if (all) deviceMemoryFigures(fig, hw, perDevice);

  // What the serving engine leaves for the KV cache (engine.ts), and what that holds. The KV
  // pools are per device of the busiest stage; an engine that pads heads (vLLM TPU: to 128)
  // stores the padded width.
  const engine = input.engine ?? IDEAL_ENGINE;
  // Levers (speculative decoding's draft model: weights and a KV cache of its own, lever.ts) add
  // fixed bytes per device and KV per token to the engine's pools.
  const leverFixed = levers.reduce((a, l) => a + l.fixedBytesPerDevice, 0);
  const leverKvPerToken = levers.reduce((a, l) => a + l.kvBytesPerTokenPerDevice, 0);
  const align = engine.kvCache.headDimAlignment;
  const headPad = align && !mla ? (Math.ceil(m.headDim / align) * align) / m.headDim : 1;
  const kvPerDevice = kvShard * headPad;
  const modelKvPerToken = perToken * kvPerDevice;
  // vLLM V1 pages each state layer into one attention page and raises the attention block to hold
  // it (state-pages.ts); SGLang's --max-mamba-cache-size / --mamba-full-memory-ratio size its own pool.
  const o = input.engineOptions ?? {};
  const statePool = engine.statePool ? { ...engine.statePool, ...(o.mambaFullMemoryRatio !== undefined ? { ratio: o.mambaFullMemoryRatio } : {}), ...(o.maxMambaCacheSize !== undefined ? { slots: o.maxMambaCacheSize } : {}) } : undefined;
  let stateInPool = statePerDevice;
  let blockSize = o.blockSize;
  if (recurrent.layers && statePool?.kind === 'shared' && statePool.pagePadding && kvHolding > 0) {
    const share = kvHeadShare(m, tp) * headPad;
    const attnPerLayer = (perToken / kvHolding) * share;
    let statePage = 0;
    for (const g of layerGroups(m)) {
      if (!holdsState(g.mixer)) continue;
      const sh = stateShape(g.mixer, tp);
      statePage = Math.max(statePage, sh.conv * bytesPerElement(stateFormats.conv) + sh.recurrent * bytesPerElement(stateFormats.recurrent));
    }
    const layersHere = recurrent.layers * stageShare;
    const paged = pagedState({ statePageBytes: statePage, stateLayers: layersHere, attnBytesPerTokenPerLayer: attnPerLayer, alignTokens: statePool.pagePadding.alignTokens, requestedBlockTokens: o.blockSize, defaultBlockTokens: engine.kvCache.blockTokens.value });
    stateInPool = paged.stateBytesPerSequence;
    blockSize = paged.blockTokens;
    term(fig, { id: 'memory.statePaged', label: `Recurrent state per sequence per device as ${engine.name} pages it`, unit: 'B', value: stateInPool, formula: 'stateLayers x blockTokens x attnBytesPerTokenPerLayer, blockTokens = max(--block-size, align x ceil(statePage / (align x attnBytesPerTokenPerLayer)))', inputs: { stateLayers: layersHere, statePage, attnBytesPerTokenPerLayer: attnPerLayer, align: statePool.pagePadding.alignTokens, blockTokens: paged.blockTokens, paddingPercent: +(100 * paged.padding).toFixed(2) }, source: statePool.pagePadding.source, approximate: true });
  }
  // prefix caching (prefix.ts): the shared prefix is held once, a fixed part of the budget, not part of each sequence
  const sharedFixed = sharedKv * kvPerDevice;
  const pools: KvPools = {
    kvBytesPerToken: modelKvPerToken + leverKvPerToken,
    kvBytesPerSequence: (tokens) => Math.max(0, kvBytesForContext(kvLayersAll, tokens) - sharedKv) * kvPerDevice + levers.reduce((a, l) => a + l.kvBytesPerSequencePerDevice(tokens), 0),
    // the levers' KV grows with every token (no windows): the model's share scales by their ratio
    contextForKvBytes: (bytes) => contextForKvBytes(kvLayersAll, (bytes / kvPerDevice) * (modelKvPerToken / (modelKvPerToken + leverKvPerToken)) + sharedKv),
    stateBytesPerSequence: stateInPool,
    ...(statePool ? { statePool } : {}),
  };
  const budget = engineBudget({
    engine, options: blockSize !== o.blockSize ? { ...o, blockSize } : o, hardware: hw, model: m, tp, groupDevices: tp * layout.pp,
    weightBytesPerDevice: weightsPerDevice + leverFixed + sharedFixed,
    forwardBytes: (tokens) => activationBytesPerDevice(m, tokens, 0, actBytes, tp),
    workloadActivationBytes: activationsPerDevice, context: w.context, batch: w.batch, kvBytesPerToken: pools.kvBytesPerToken,
    windowedKv: kvLayersAll.filter((l) => Number.isFinite(l.cap)).map((l) => ({ window: l.cap, bytesPerToken: l.count * l.bytesPerToken * kvPerDevice })),
  });
  const cap = capacityFigures(fig, { engine, budget, pools, context: w.context, batch: w.batch, maxModelContext: m.maxContext }, figures);
  // Fits when the engine's budget holds this workload: every sequence's whole KV blocks and its
  // recurrent state, in their pools (llama.cpp: the device holds the n_ctx cells it allocates).
  const kvNeeded = w.batch * cap.sequenceBytes;
  const fits = budget.kvBudgetBytes > 0 && budget.kvAllocatedBytes <= budget.kvBudgetBytes && w.batch <= cap.maxConcurrency;

  return { weightBytes: weights, weightBytesPerDevice: weightsPerDevice, kvBytesPerToken: kvPerToken, perDeviceBytes: perDevice, capacityBytes: capacity, fits, kvCapacityBytes: cap.kvCapacityBytes, kvCapacityTokens: cap.kvCapacityTokens, maxConcurrency: cap.maxConcurrency, kvNeededBytes: kvNeeded, budget, pools };
}
