import type { LayerKind, Mixer, Mlp, ModelSpec } from '../inputs/model.js';

/**
 * The model as groups of identical layers (one mixer kind, one MLP kind, a count): every
 * per-layer quantity (parameters, KV bytes per token, recurrent state per sequence, FLOPs,
 * bytes moved per step) is a sum over these groups, never a loop over layers. Built once per
 * ModelSpec (a ModelSpec is not changed after it is built) and cached.
 *
 * Uniform models describe themselves with `slidingWindow`, `mla` and `moe.denseLayers`; the
 * groups follow from those. Hybrid and interleaved models list `layerKinds`.
 */

export interface LayerGroup {
  mixer: Mixer;
  mlp: Mlp;
  count: number;
  /** norms per layer when the kind says so (a parallel mixer's second entry: 0) */
  norms?: number;
  /** 0-based layer indices (pipeline stages and llama.cpp per-layer types need positions) */
  layers: number[];
}

/** [from, from + 1, ..., to - 1] */
export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

const cache = new WeakMap<ModelSpec, LayerGroup[]>();

/** Layer kinds of a uniform model, from its compact fields. */
function uniformKinds(m: ModelSpec): LayerKind[] {
  const attention: Mixer = m.mla ? { kind: 'mla' } : { kind: 'full' };
  const dense = m.moe ? Math.min(m.layers, m.moe.denseLayers) : m.layers;
  const mlpOf = (i: number): Mlp => (i < dense ? { kind: 'dense', ffn: m.ffn } : { kind: 'moe' });
  const local = m.mla ? 0 : Math.min(m.layers, m.slidingWindow?.localLayers ?? 0);
  // Which layers are the local ones does not change any size; they are taken as the first ones.
  const mixerOf = (i: number): Mixer => (i < local ? { kind: 'sliding', window: m.slidingWindow!.window } : attention);
  const kinds: LayerKind[] = [];
  const cuts = [...new Set([0, dense, local, m.layers])].filter((x) => x <= m.layers).sort((a, b) => a - b);
  for (let c = 0; c + 1 < cuts.length; c++) {
    if (cuts[c + 1] > cuts[c]) kinds.push({ mixer: mixerOf(cuts[c]), mlp: mlpOf(cuts[c]), layers: range(cuts[c], cuts[c + 1]) });
  }
  return kinds;
}

const mixerKey = (x: Mixer): string => JSON.stringify(x);
const mlpKey = (x: Mlp): string => JSON.stringify(x);

/** The model's layers as groups of one mixer kind and one MLP kind (cached per ModelSpec). */
export function layerGroups(m: ModelSpec): LayerGroup[] {
  const hit = cache.get(m);
  if (hit) return hit;
  const kinds = m.layerKinds ?? uniformKinds(m);
  const byKey = new Map<string, LayerGroup>();
  for (const k of kinds) {
    const key = `${mixerKey(k.mixer)}|${mlpKey(k.mlp)}|${k.norms ?? ''}`;
    const g = byKey.get(key);
    if (g) g.layers.push(...k.layers);
    else byKey.set(key, { mixer: k.mixer, mlp: k.mlp, count: 0, layers: [...k.layers], ...(k.norms !== undefined ? { norms: k.norms } : {}) });
  }
  const groups = [...byKey.values()];
  for (const g of groups) {
    g.layers.sort((a, b) => a - b);
    g.count = g.layers.length;
  }
  cache.set(m, groups);
  return groups;
}

/** Attention kinds that keep K and V per token per head (the model's kvHeads x headDim). */
export const isHeadAttention = (x: Mixer): boolean => x.kind === 'full' || x.kind === 'sliding' || x.kind === 'chunked';
/**
 * Kinds that attend over a KV cache that grows with the context: their attention FLOPs and the KV
 * a decode step reads scale with it. A layer reading an earlier layer's KV (Gemma 3n) attends
 * too, but keeps no cache of its own (ownsKv).
 */
export const holdsKv = (x: Mixer): boolean => isHeadAttention(x) || x.kind === 'mla' || x.kind === 'sparse-mla';
/** Kinds that keep a KV cache of their own (what the engine allocates per token). */
export const ownsKv = (x: Mixer): boolean => holdsKv(x) && !('sharedKv' in x && x.sharedKv);
/** Kinds with a fixed-size recurrent state per sequence instead of a KV cache. */
export const holdsState = (x: Mixer): boolean => x.kind === 'gated-deltanet' || x.kind === 'lightning' || x.kind === 'mamba' || x.kind === 'mamba2';

/** Layers whose MLP is a mixture of experts. */
export const moeLayerCount = (m: ModelSpec): number => (m.moe ? layerGroups(m).reduce((a, g) => a + (g.mlp.kind === 'moe' ? g.count : 0), 0) : 0);

/** Tokens of a sequence of `context` tokens a layer of this kind keeps in its KV cache. */
export function heldTokens(x: Mixer, context: number): number {
  if (x.kind === 'sliding') return Math.min(context, x.window);
  // Llama 4 chunked attention: a token sees only its own chunk, so at most `chunk` tokens are
  // kept (vLLM ChunkedLocalAttentionSpec frees blocks of earlier chunks).
  if (x.kind === 'chunked') return Math.min(context, x.chunk);
  return holdsKv(x) ? context : 0;
}

/**
 * DeepSeek-V3.2 lightning-indexer key cache per token per layer, bytes: index_head_dim fp8
 * values plus one fp32 scale per 128 (vLLM DeepseekV32IndexerCache: head_dim =
 * index_head_dim + index_head_dim // 128 * 4, uint8; SGLang DSATokenToKVPool index_k buffer).
 */
export const indexerBytesPerToken = (x: Mixer): number => (x.kind === 'sparse-mla' ? x.indexHeadDim + (x.indexHeadDim / 128) * 4 : 0);

/**
 * KV elements one layer of this kind stores per token, in the KV format: K and V of every KV
 * head (vLLM attention KV spec: 2 x num_kv_heads x head_size), or MLA's latent plus its
 * rotary key (DeepSeek-V2 sec. 2.1.3: kv_lora_rank + qk_rope_head_dim).
 */
export function kvElementsPerToken(m: ModelSpec, x: Mixer): number {
  if (isHeadAttention(x)) return 2 * m.kvHeads * m.headDim;
  if ((x.kind === 'mla' || x.kind === 'sparse-mla') && m.mla) return m.mla.kvLoraRank + m.mla.qkRopeHeadDim;
  return 0;
}

/** Conv and recurrent state elements one layer keeps per sequence, on one of `tp` ranks. */
export interface StateShape {
  conv: number;
  recurrent: number;
}

/** Heads split over tp ranks (engines require divisibility; parallel.ts checks it). */
const split = (n: number, tp: number): number => n / tp;

/**
 * Per-sequence state elements of one recurrent layer on one tensor-parallel rank, with the
 * shapes engines allocate (vLLM vllm/model_executor/layers/mamba/mamba_utils.py
 * MambaStateShapeCalculator; SGLang mem_cache Mamba2StateShape / hybrid_gdn_params):
 *  - gated DeltaNet: conv (2 x keyHeads x keyHeadDim + valueHeads x valueHeadDim) x (kernel - 1),
 *    recurrent valueHeads x keyHeadDim x valueHeadDim
 *  - lightning: recurrent heads x headDim x headDim (linear_attention_state_shape)
 *  - Mamba: conv inner x (kernel - 1), recurrent inner x stateSize (mamba1_state_shape)
 *  - Mamba-2: conv (inner + 2 x groups x stateSize) x (kernel - 1), recurrent heads x headDim x
 *    stateSize; groups not divisible by tp are replicated up to tp (extra_groups_for_head_shards)
 */
export function stateShape(x: Mixer, tp = 1): StateShape {
  switch (x.kind) {
    case 'gated-deltanet':
      return { conv: split(2 * x.keyHeads * x.keyHeadDim + x.valueHeads * x.valueHeadDim, tp) * (x.convKernel - 1), recurrent: split(x.valueHeads, tp) * x.keyHeadDim * x.valueHeadDim };
    case 'lightning':
      return { conv: 0, recurrent: split(x.heads, tp) * x.headDim * x.headDim };
    case 'mamba':
      return { conv: split(x.inner, tp) * (x.convKernel - 1), recurrent: split(x.inner, tp) * x.stateSize };
    case 'mamba2': {
      const groups = x.groups % tp === 0 ? x.groups : tp;
      return { conv: split(x.heads * x.headDim + 2 * groups * x.stateSize, tp) * (x.convKernel - 1), recurrent: split(x.heads, tp) * x.headDim * x.stateSize };
    }
    default:
      return { conv: 0, recurrent: 0 };
  }
}

/** Chunk length of the chunked scan prefill uses (fla chunk_gated_delta_rule BT = 64; Mamba-2 chunk_size). */
export const SCAN_CHUNK_TOKENS = 64;

/**
 * FLOPs of a recurrent mixer's scan per token, outside its projections (which count as
 * parameters): per head with key width dk, value width dv (Mamba: d_state and the channel):
 *  - decode (one recurrent step): read-decay-update-read the state, about 7 x dk x dv for the
 *    delta rule (S k, k (v - S k)^T, decay, S^T q: Yang et al. 2024 "Gated Delta Networks" eq. 4),
 *    5 x d^2 for plain linear attention (lightning), 4 x N x P for Mamba-2 (Dao & Gu 2024 SSD
 *    recurrence), 7 x N per channel for Mamba (Gu & Dao 2023 selective scan: discretise, update, read);
 *  - prefill (chunked form, chunk C): within a chunk a masked C x C attention-like product
 *    (2C(dk + dv)) plus the WY/decay terms (2C dk), across chunks the state update and read
 *    (about 6 dk dv) (Yang et al. 2024 sec. 3.3; Dao & Gu 2024 sec. 6 SSD algorithm).
 */
export function scanFlopsPerToken(x: Mixer, phase: 'prefill' | 'decode', chunk = SCAN_CHUNK_TOKENS): number {
  const C = chunk;
  switch (x.kind) {
    case 'gated-deltanet': {
      const dk = x.keyHeadDim;
      const dv = x.valueHeadDim;
      return x.valueHeads * (phase === 'decode' ? 7 * dk * dv : 2 * C * (2 * dk + dv) + 2 * C * dk + 6 * dk * dv);
    }
    case 'lightning': {
      const d = x.headDim;
      return x.heads * (phase === 'decode' ? 5 * d * d : 2 * C * 2 * d + 4 * d * d);
    }
    case 'mamba2': {
      const N = x.stateSize;
      const P = x.headDim;
      return x.heads * (phase === 'decode' ? 4 * N * P : 2 * C * (N + P) + 6 * N * P);
    }
    case 'mamba':
      return 7 * x.inner * x.stateSize;
    default:
      return 0;
  }
}

/**
 * Attention FLOPs per query token per key it attends to, one layer, 2 FLOPs per multiply-add:
 * QK^T and softmax(.)V over the model's heads. MLA decodes in the absorbed form engines use
 * (scores over kv_lora_rank + rope, values over kv_lora_rank: DeepSeek-V2 sec. 2.1.3, vLLM MLA
 * backend); prefill uses the expanded heads (qk nope + rope, v).
 */
export function attentionFlopsPerKey(m: ModelSpec, x: Mixer, phase: 'prefill' | 'decode'): number {
  if ((x.kind === 'mla' || x.kind === 'sparse-mla') && m.mla) {
    const { kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim } = m.mla;
    return phase === 'decode' ? 2 * m.heads * (kvLoraRank + qkRopeHeadDim + kvLoraRank) : 2 * m.heads * (qkNopeHeadDim + qkRopeHeadDim + vHeadDim);
  }
  return holdsKv(x) ? 4 * m.heads * m.headDim : 0;
}

/** Sum over query positions p = start+1..end of min(p, window): keys each query attends to. */
export function attendedKeys(start: number, end: number, window: number): number {
  const upTo = (n: number) => (n <= window ? (n * (n + 1)) / 2 : (window * (window + 1)) / 2 + (n - window) * window);
  return upTo(end) - upTo(start);
}

/**
 * Keys the queries at positions start+1..end attend to, summed, for one layer of this kind:
 * causal full attention p keys at position p, sliding min(p, window), chunked the positions of
 * its own chunk so far ((p - 1) mod chunk + 1); DSA attends to at most topK selected keys.
 */
export function keysAttended(x: Mixer, start: number, end: number): number {
  switch (x.kind) {
    case 'full':
    case 'mla':
      return attendedKeys(start, end, Infinity);
    case 'sliding':
      return attendedKeys(start, end, x.window);
    case 'sparse-mla':
      return attendedKeys(start, end, x.topK);
    case 'chunked': {
      // sum of ((p - 1) mod C) + 1 over p: whole chunks give C(C+1)/2 each
      const upTo = (n: number) => Math.floor(n / x.chunk) * ((x.chunk * (x.chunk + 1)) / 2) + ((n % x.chunk) * ((n % x.chunk) + 1)) / 2;
      return upTo(end) - upTo(start);
    }
    default:
      return 0;
  }
}

/** Keys one decode query at `context` attends to in a layer of this kind. */
export function keysAtPosition(x: Mixer, context: number): number {
  switch (x.kind) {
    case 'sliding':
      return Math.min(context, x.window);
    case 'chunked':
      return Math.min(context, x.chunk);
    case 'sparse-mla':
      return Math.min(context, x.topK);
    default:
      return holdsKv(x) ? context : 0;
  }
}

/**
 * DeepSeek-V3.2 lightning indexer FLOPs per query token per key scored (it scores every key,
 * then attention reads topK): index_n_heads x index_head_dim multiply-adds (DeepSeek-V3.2-Exp
 * report sec. 2.1, I = sum_j w_j ReLU(q_j . k)).
 */
export const indexerFlopsPerKey = (x: Mixer): number => (x.kind === 'sparse-mla' ? 2 * x.indexHeads * x.indexHeadDim : 0);

/** Sub-layers (mixer, MLP) per layer: the all-reduces tensor parallelism adds and the norms in front. */
export const subLayers = (g: LayerGroup): number => (g.mixer.kind === 'none' ? 0 : 1) + (g.mlp.kind === 'none' ? 0 : 1);

/** Short description of a mixer kind, for shape lines and errors. */
export function describeMixer(x: Mixer): string {
  switch (x.kind) {
    case 'full':
      return x.sharedKv ? 'full attention on shared KV' : 'full attention';
    case 'sliding':
      return `sliding-window attention (${x.window})${x.sharedKv ? ' on shared KV' : ''}`;
    case 'chunked':
      return `chunked attention (${x.chunk})`;
    case 'mla':
      return 'MLA';
    case 'sparse-mla':
      return `sparse MLA (DSA top-${x.topK})`;
    case 'gated-deltanet':
      return 'Gated DeltaNet';
    case 'lightning':
      return 'lightning attention';
    case 'mamba':
      return 'Mamba';
    case 'mamba2':
      return 'Mamba-2';
    case 'none':
      return 'no mixer';
  }
}

export const describeMlp = (x: Mlp): string => (x.kind === 'dense' ? `MLP ${x.ffn}` : x.kind === 'moe' ? 'MoE' : 'no MLP');

/**
 * Widest per-token projection output of any mixer (one forward pass's transient per token):
 * q, k, v for attention (plus Qwen3-Next's gate), in_proj for Mamba and gated DeltaNet, qkv for
 * lightning attention; and the widest MLP (a dense width, or topK experts).
 */
export function projectionWidths(m: ModelSpec): { mixer: number; mlp: number } {
  let mixer = 0;
  let mlp = m.ffn;
  for (const g of layerGroups(m)) {
    const x = g.mixer;
    switch (x.kind) {
      case 'gated-deltanet':
        mixer = Math.max(mixer, 2 * x.keyHeads * x.keyHeadDim + 2 * x.valueHeads * x.valueHeadDim + 2 * x.valueHeads);
        break;
      case 'lightning':
        mixer = Math.max(mixer, 4 * x.heads * x.headDim);
        break;
      case 'mamba':
        mixer = Math.max(mixer, 2 * x.inner);
        break;
      case 'mamba2':
        mixer = Math.max(mixer, 2 * x.heads * x.headDim + 2 * x.groups * x.stateSize + x.heads);
        break;
      case 'none':
        break;
      default:
        mixer = Math.max(mixer, (m.heads * (m.attentionOutputGate ? 2 : 1) + 2 * m.kvHeads) * m.headDim);
    }
    if (g.mlp.kind === 'dense') mlp = Math.max(mlp, g.mlp.ffn);
    if (g.mlp.kind === 'moe' && m.moe) mlp = Math.max(mlp, m.moe.expertFfn * m.moe.topK);
  }
  return { mixer, mlp };
}

/**
 * What `train` does not model in this model, or undefined: its activation and backward formulas
 * (Korthikanti et al. 2022) cover attention kinds and MLA; recurrent scans and DSA's indexer
 * training are not modelled, so training such a model is refused rather than misestimated.
 */
export function trainingGap(m: ModelSpec): string | undefined {
  const counts = new Map<string, number>();
  for (const g of layerGroups(m)) if (holdsState(g.mixer) || g.mixer.kind === 'sparse-mla') counts.set(describeMixer(g.mixer), (counts.get(describeMixer(g.mixer)) ?? 0) + g.count);
  const kinds = [...counts].map(([name, n]) => `${n} ${name} layers`);
  return kinds.length ? `train models attention and MLA layers; ${m.name} has ${kinds.join(' and ')}, whose activations and backward pass it does not model` : undefined;
}
