import type { ModelSpec } from '../inputs/model.js';
import { bytesPerElement, formatOfDtype, GGUF_TYPES, type Format, type GgufType } from '../inputs/precision.js';
import { mtpGroups, tensorGroups, type TensorBlock, type TensorGroup } from './params.js';
import { once, once3 } from './once.js';
import { sum, term, type Figures } from './terms.js';

/**
 * Weight bytes as a sum over tensor groups, each in the format it is stored in: a quantization
 * format touches only some tensors (GPTQ/AWQ/FP8 the linear layers; gpt-oss MXFP4 only the
 * experts), and GGUF files mix block types per tensor as llama.cpp assigns them.
 */

export interface WeightPart {
  group: TensorGroup;
  /** layers (or 1) of the group stored in this format */
  count: number;
  format: Format;
  bytes: number;
}

/** Blocks a quantization_config modules_to_not_convert / ignore pattern names. */
function keptBlocks(patterns: string[]): { blocks: Set<TensorBlock>; embedding: boolean; lmHead: boolean } {
  const blocks = new Set<TensorBlock>();
  let embedding = false;
  let lmHead = false;
  for (const p of patterns.map((x) => x.toLowerCase())) {
    if (/self_attn|\.attn|attention/.test(p)) blocks.add('attention');
    if (/shared_expert/.test(p)) blocks.add('sharedExperts');
    else if (/experts/.test(p)) blocks.add('experts');
    else if (/mlp$|mlp\.\*$|feed_forward$/.test(p)) blocks.add('mlp');
    if (/embed/.test(p)) embedding = true;
    if (/lm_head/.test(p)) lmHead = true;
  }
  return { blocks, embedding, lmHead };
}

/** llama.cpp use_more_bits (src/llama-quant.cpp): first and last eighth of layers and every third in between. */
export const useMoreBits = (i: number, n: number): boolean => i < Math.floor(n / 8) || i >= Math.floor((7 * n) / 8) || (i - Math.floor(n / 8)) % 3 === 2;

const GGUF_BASE: Record<string, GgufType> = { q4_0: 'q4_0', q4_k_m: 'q4_K', q5_k_m: 'q5_K', q6_k: 'q6_K', q8_0: 'q8_0' };
/** k-quants need rows divisible by 256; llama.cpp falls back (src/llama-quant.cpp "fallback"). */
const K_FALLBACK: Partial<Record<GgufType, GgufType>> = { q4_K: 'q5_0', q5_K: 'q5_1', q6_K: 'q8_0' };

/**
 * The GGUF type llama.cpp gives one tensor of a layer (llama_tensor_get_type in
 * src/llama-quant.cpp): output Q6_K (Q8_0 in Q8_0 files, or when rows do not fit the block);
 * for _M files attn_v and ffn_down Q6_K on use_more_bits layers and attn_qkv one step up;
 * 8-expert models attn_v/attn_k Q8_0 and (Q4_K_M) attn_output Q5_K; 80-layer Llama attn_v Q5_K.
 * MXFP4_MOE files: routed experts MXFP4, every other matrix Q8_0.
 * Norms, biases and routers stay F32 (1-D tensors and ffn_gate_inp are not quantized).
 */
function ggufType(m: ModelSpec, file: string, g: TensorGroup, layer: number, ffnDownCount: number): GgufType {
  if (g.kind === 'vector' || g.kind === 'router' || g.kind === 'vision') return 'f32';
  // MXFP4_MOE (src/llama-quant.cpp @ b10470): "MoE tensors -> MXFP4, other tensors -> Q8_0", the
  // output and token embedding included; 3-D tensors are the merged routed experts (ffn_*_exps).
  if (file === 'mxfp4_moe') return g.block === 'experts' ? 'mxfp4' : 'q8_0';
  const base = GGUF_BASE[file];
  const experts = m.moe?.experts ?? 0;
  const isK = base.endsWith('K');
  const fit = (t: GgufType): GgufType => (g.rowLength % GGUF_TYPES[t].groupSize !== 0 ? (K_FALLBACK[t] ?? 'q8_0') : t);
  const isOutput = g.kind === 'lmHead' || (g.kind === 'embedding' && m.tiedEmbeddings && g.id === 'embed_tokens');
  if (isOutput) {
    if (m.family === 'falcon' || g.rowLength % GGUF_TYPES[base].groupSize !== 0) return 'q8_0';
    return base === 'q8_0' ? 'q8_0' : 'q6_K';
  }
  if (g.kind === 'embedding') return g.id.includes('positions') ? 'f32' : fit(base);
  let t: GgufType = base;
  const mid = file === 'q4_k_m' || file === 'q5_k_m';
  switch (g.gguf) {
    case 'attn_v':
      if (mid && useMoreBits(layer, m.layers)) t = 'q6_K';
      // llama.cpp LLM_TYPE_70B (src/llama-model.cpp: an 80-layer llama with fewer KV heads than
      // heads; the MHA 65B is LLM_TYPE_65B): attn_v Q3_K/Q4_K bumped to Q5_K
      if (file === 'q4_k_m' && m.family === 'llama' && m.layers === 80 && m.kvHeads < m.heads && t === 'q4_K') t = 'q5_K';
      if (experts === 8) t = 'q8_0';
      break;
    case 'attn_k':
      if (experts === 8) t = 'q8_0';
      break;
    case 'ffn_down':
      if (file === 'q4_k_m' && m.family === 'falcon') t = layer < Math.floor(m.layers / 16) ? 'q6_K' : useMoreBits(layer, ffnDownCount) ? 'q5_K' : 'q4_K';
      else if (mid && useMoreBits(layer, ffnDownCount)) t = 'q6_K';
      break;
    case 'attn_output':
      if (file === 'q4_k_m' && experts === 8 && m.family !== 'falcon') t = 'q5_K';
      break;
    case 'attn_qkv':
      if (file === 'q4_k_m') t = 'q5_K';
      if (file === 'q5_k_m') t = 'q6_K';
      break;
  }
  return isK || t.endsWith('K') ? fit(t) : t;
}

/**
 * Each tensor group in the format it takes under weight format `weights`, with unquantized
 * tensors at `unquantized` (the activation type). `keep` lists the modules a checkpoint's
 * quantization_config leaves alone (applied when `weights` is the checkpoint's own format).
 */
export function weightParts(m: ModelSpec, groups: TensorGroup[], weights: Format, unquantized: Format): WeightPart[] {
  const scope = weights.scope ?? 'all';
  const parts: WeightPart[] = [];
  const push = (group: TensorGroup, count: number, format: Format) => count > 0 && parts.push({ group, count, format, bytes: count * group.params * bytesPerElement(format) });
  if (scope === 'gguf') {
    const ffnDownCount = groups.filter((g) => g.gguf === 'ffn_down').reduce((a, g) => a + g.layerIndices.length, 0);
    for (const g of groups) {
      const layers = g.layerIndices.length ? g.layerIndices : [0];
      const counts = new Map<GgufType, number>();
      layers.forEach((layer) => {
        // attn_v counts layers; ffn_down counts ffn_down tensors (several per layer in MoE models), by layer index
        const t = ggufType(m, weights.id, g, layer, ffnDownCount);
        counts.set(t, (counts.get(t) ?? 0) + 1);
      });
      for (const [t, count] of counts) push(g, count, GGUF_TYPES[t]);
    }
    return parts;
  }
  const own = weights.id === m.quantization;
  const kept = keptBlocks(own ? m.quantizationKeep ?? [] : []);
  for (const g of groups) {
    const count = Math.max(1, g.layerIndices.length);
    const quantized = scope === 'all' || (scope === 'matrices' && (g.kind === 'embedding' || g.kind === 'lmHead')) || (g.kind === 'linear' && !(g.block && kept.blocks.has(g.block)));
    push(g, count, quantized ? weights : unquantized);
  }
  return parts;
}

/** The format a model's checkpoint stores its weights in: quantization_config, else torch_dtype. */
export function checkpointFormats(m: ModelSpec, formatByName: (name: string) => Format | undefined): { weights: Format; unquantized: Format } {
  const stored = formatOfDtype(m.dtype);
  const quantized = m.quantization ? formatByName(m.quantization) : undefined;
  return { weights: quantized ?? stored, unquantized: stored };
}

/**
 * Bytes of the checkpoint's tensors (model.safetensors.index.json metadata.total_size): every
 * group including MTP modules, each in its stored format.
 */
export function checkpointBytes(m: ModelSpec, weights: Format, unquantized: Format): number {
  return weightParts(m, [...tensorGroups(m), ...mtpGroups(m)], weights, unquantized).reduce((a, p) => a + p.bytes, 0);
}

export interface WeightLayout {
  total: number;
  /** bytes of the input embedding (a row gather, not a full read per step) */
  embeddingBytes: number;
  /** bytes of all routed experts, all layers */
  routedExpertBytes: number;
  /** bytes of the vision tower and projector (read only when a step encodes images), and of an audio tower */
  visionBytes: number;
  /** bytes of per-layer embedding tables (Gemma 3n PLE: a row gather per token, never a full read) */
  lookupBytes: number;
  parts: WeightPart[];
}

/** Weight bytes of the model loaded for serving (MTP modules are not loaded by default); once per model and formats (once.ts). */
export const weightLayout: (m: ModelSpec, weights: Format, unquantized: Format) => WeightLayout = once3((m: ModelSpec, weights: Format, unquantized: Format): WeightLayout => {
  const parts = weightParts(m, tensorGroups(m), weights, unquantized);
  const total = parts.reduce((a, p) => a + p.bytes, 0);
  const embeddingBytes = parts.filter((p) => p.group.id === 'embed_tokens').reduce((a, p) => a + p.bytes, 0);
  const routedExpertBytes = parts.filter((p) => p.group.block === 'experts').reduce((a, p) => a + p.bytes, 0);
  const visionBytes = parts.filter((p) => p.group.kind === 'vision').reduce((a, p) => a + p.bytes, 0);
  const lookupBytes = parts.filter((p) => p.group.figure === 'perLayerEmbedding').reduce((a, p) => a + p.bytes, 0);
  return { total, embeddingBytes, routedExpertBytes, visionBytes, lookupBytes, parts };
});

/** The layout's tensors grouped by the format they are stored in, once per layout. */
const byFormatOf = once((layout: WeightLayout) => {
  const byFormat = new Map<string, { format: Format; params: number; bytes: number; groups: string[] }>();
  for (const p of layout.parts) {
    const e = byFormat.get(p.format.id) ?? { format: p.format, params: 0, bytes: 0, groups: [] };
    e.params += p.count * p.group.params;
    e.bytes += p.bytes;
    e.groups.push(p.group.layerIndices.length > 1 && p.count < p.group.layerIndices.length ? `${p.group.id} (${p.count} of ${p.group.layerIndices.length} layers)` : p.group.id);
    byFormat.set(p.format.id, e);
  }
  return byFormat;
});

/**
 * Adds memory.weights (and its parts by format, memory.weights.<format>) from the model's
 * weight layout and returns the bytes. Without a layout (--params: an assumed shape) every
 * parameter is taken at the main format.
 */
export function weightFigures(fig: Figures, m: ModelSpec, params: number, weights: Format, layout: WeightLayout | undefined): number {
  if (!layout) {
    return term(fig, { id: 'memory.weights', label: 'Weights', unit: 'B', value: params * bytesPerElement(weights), formula: 'params.total x bytesPerElement(weights)', inputs: { params, bytesPerElement: bytesPerElement(weights), format: weights.id }, source: weights.source });
  }
  const { total } = layout;
  const byFormat = byFormatOf(layout);
  if (byFormat.size === 1) {
    const [e] = byFormat.values();
    return term(fig, { id: 'memory.weights', label: 'Weights', unit: 'B', value: total, formula: 'params.total x bytesPerElement(weights)', inputs: { params: e.params, bytesPerElement: bytesPerElement(e.format), format: e.format.id }, source: e.format.source });
  }
  const ids: string[] = [];
  for (const [id, e] of byFormat) {
    const figId = `memory.weights.${id}`;
    ids.push(figId);
    term(fig, { id: figId, label: `Weights in ${e.format.label}`, unit: 'B', value: e.bytes, formula: 'params x bytesPerElement(format)', inputs: { params: e.params, bytesPerElement: bytesPerElement(e.format), format: id, tensors: e.groups.join(', ') }, source: e.format.source });
  }
  return sum(fig, { id: 'memory.weights', label: 'Weights', unit: 'B', parts: ids, source: `${weights.label}: ${weights.source}` });
}
