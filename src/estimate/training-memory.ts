import type { ModelSpec } from '../inputs/model.js';
import { moeLayers } from './params.js';
import { layerSplit } from './memory.js';

/**
 * Training memory: bytes per parameter of weights, gradients and optimizer states, LoRA
 * adapter shapes, and activations per layer (Korthikanti et al. 2022). Pure helpers; the
 * figures are built in training.ts.
 */

export const TRAIN_PRECISIONS = ['bf16', 'fp16', 'fp8', 'fp32'] as const;
export type TrainPrecision = (typeof TRAIN_PRECISIONS)[number];
export const METHODS = ['full', 'lora', 'qlora', 'distill'] as const;
export type Method = (typeof METHODS)[number];
/** Every weight is trained: full training, and a distilled student (trained in full on a teacher's outputs). */
export const trainsAll = (m: Method): boolean => m === 'full' || m === 'distill';
export const OPTIMIZERS = ['adamw', 'adamw-8bit', 'adafactor', 'sgd'] as const;
export type Optimizer = (typeof OPTIMIZERS)[number];
export const RECOMPUTE = ['none', 'selective', 'full'] as const;
export type Recompute = (typeof RECOMPUTE)[number];
export const ZERO_STAGES = [0, 1, 2, 3] as const;
export type ZeroStage = (typeof ZERO_STAGES)[number];
/** Linear modules of a decoder layer a LoRA adapter may attach to (PEFT target_modules names without _proj). */
export const LORA_TARGETS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/**
 * Bytes per element of the model states. Mixed precision keeps 16-bit weights and gradients
 * and an fp32 master copy inside the optimizer: 2 + 2 + (4 + states) bytes per parameter
 * (Rajbhandari et al. 2020, ZeRO, sec. 3.1: "2Ψ + 2Ψ + KΨ", K = 12 for Adam). fp8 mixed
 * (Transformer Engine; DeepSeek-V3 sec. 3.3) runs the matrix products in fp8 but keeps the
 * same weights, gradients and optimizer states; fp32 keeps everything in 4 bytes and needs
 * no master copy.
 */
export const PRECISION_BYTES: Record<TrainPrecision, { weights: number; gradients: number; master: number; activations: number; source: string }> = {
  bf16: { weights: 2, gradients: 2, master: 4, activations: 2, source: 'ZeRO (Rajbhandari et al. 2020) sec. 3.1: bf16/fp16 weights and gradients, fp32 master weights in the optimizer' },
  fp16: { weights: 2, gradients: 2, master: 4, activations: 2, source: 'ZeRO (Rajbhandari et al. 2020) sec. 3.1: fp16 weights and gradients, fp32 master weights (Micikevicius et al. 2018)' },
  fp8: { weights: 2, gradients: 2, master: 4, activations: 2, source: 'fp8 mixed precision (NVIDIA Transformer Engine; DeepSeek-V3 report sec. 3.3): fp8 GEMMs, bf16 weights and gradients, fp32 master weights and optimizer states; activations counted at 2 bytes' },
  fp32: { weights: 4, gradients: 4, master: 0, activations: 4, source: 'fp32 training: weights, gradients and activations in 4 bytes; no master copy' },
};

/**
 * Optimizer state bytes per trainable parameter, excluding the fp32 master copy.
 * - AdamW: first and second moments in fp32, 8 B (Loshchilov & Hutter 2019; ZeRO sec. 3.1).
 * - 8-bit Adam: both moments block-wise quantized to 8 bits with one fp32 absmax per block of
 *   2048 (Dettmers et al. 2021, "8-bit Optimizers via Block-wise Quantization"; bitsandbytes).
 * - Adafactor: no first moment (beta1 = 0 default) and a factored second moment, one fp32 row
 *   and one column vector per weight matrix (Shazeer & Stern 2018): computed from the shapes.
 * - SGD with momentum: one fp32 momentum buffer, 4 B.
 */
export const OPTIMIZER_SOURCE: Record<Optimizer, string> = {
  adamw: 'AdamW (Loshchilov & Hutter 2019): fp32 first and second moments, 8 bytes per parameter (ZeRO sec. 3.1)',
  'adamw-8bit': '8-bit Adam (Dettmers et al. 2021, arXiv 2110.02861): two 8-bit moments plus an fp32 absmax per block of 2048',
  adafactor: 'Adafactor (Shazeer & Stern 2018): factored fp32 second moment, rows + columns per matrix, no momentum',
  sgd: 'SGD with momentum: one fp32 momentum buffer per parameter',
};
export const ADAM_8BIT_BLOCK = 2048;

/** One kind of linear module summed over the model: its parameters and sum of (dIn + dOut). */
export interface LinearGroup {
  /** matrices of this kind in the whole model */
  matrices: number;
  /** sum over those matrices of dIn x dOut */
  params: number;
  /** sum over those matrices of dIn + dOut (= LoRA params per unit of rank; Adafactor state) */
  edges: number;
}

/**
 * The linear modules of the decoder, by PEFT target name. MLA (DeepSeek) maps q to its query
 * projection, k to kv_a, v to kv_b and o to the output projection; MoE layers count every
 * routed and shared expert.
 */
export function linearGroups(m: ModelSpec): Record<LoraTarget, LinearGroup> {
  const g = (pairs: [number, number, number][]): LinearGroup => ({
    matrices: pairs.reduce((a, [n]) => a + n, 0),
    params: pairs.reduce((a, [n, i, o]) => a + n * i * o, 0),
    edges: pairs.reduce((a, [n, i, o]) => a + n * (i + o), 0),
  });
  const h = m.hidden;
  const L = m.layers;
  let q: [number, number, number][], k: [number, number, number][], v: [number, number, number][], o: [number, number, number][];
  if (m.mla) {
    const { kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim } = m.mla;
    q = [[L, h, m.heads * (qkNopeHeadDim + qkRopeHeadDim)]];
    k = [[L, h, kvLoraRank + qkRopeHeadDim]];
    v = [[L, kvLoraRank, m.heads * (qkNopeHeadDim + vHeadDim)]];
    o = [[L, m.heads * vHeadDim, h]];
  } else {
    q = [[L, h, m.heads * m.headDim]];
    k = [[L, h, m.kvHeads * m.headDim]];
    v = [[L, h, m.kvHeads * m.headDim]];
    o = [[L, m.heads * m.headDim, h]];
  }
  const dense = L - moeLayers(m);
  const mlp: [number, number][] = [[dense, m.ffn]];
  if (m.moe) {
    mlp.push([moeLayers(m) * m.moe.experts, m.moe.expertFfn]);
    if (m.moe.sharedExperts > 0) mlp.push([moeLayers(m), m.moe.sharedFfn * m.moe.sharedExperts]);
  }
  const up = mlp.map(([n, f]) => [n, h, f] as [number, number, number]);
  const down = mlp.map(([n, f]) => [n, f, h] as [number, number, number]);
  return { q: g(q), k: g(k), v: g(v), o: g(o), gate: m.gatedMlp ? g(up) : g([]), up: g(up), down: g(down) };
}

/** LoRA adapter parameters: r x (dIn + dOut) per adapted matrix (Hu et al. 2021, sec. 4.1). */
export function loraParams(m: ModelSpec, rank: number, targets: readonly LoraTarget[]): { params: number; matrices: number } {
  const groups = linearGroups(m);
  let params = 0;
  let matrices = 0;
  for (const t of targets) {
    params += rank * groups[t].edges;
    matrices += groups[t].matrices;
  }
  return { params, matrices };
}

/**
 * NF4 with double quantization: 4 bits per weight, an 8-bit scale per block of 64 weights and
 * an fp32 second-level scale per 256 scales: 4 + 8/64 + 32/(64 x 256) = 4.127 bits (Dettmers et
 * al. 2023, QLoRA, sec. 3 "Double Quantization").
 */
export const NF4_DQ_BITS = 4 + 8 / 64 + 32 / (64 * 256);

/** Micro-batch layout one device sees, for the activation formulas. */
export interface ActivationLayout {
  seqLen: number;
  microBatch: number;
  tp: number;
  cp: number;
  sequenceParallel: boolean;
  recompute: Recompute;
  /** bytes per activation element (2 in 16-bit, 4 in fp32) */
  bytes: number;
  /** dropout masks (1 byte per element) after attention, MLP and on the scores; off in current LLM configs */
  dropout?: boolean;
  /** false for models trained without a vocabulary-wide output layer (encoders and embedders: a pooled vector, no logits) */
  lmHead?: boolean;
}

/**
 * Activation bytes stored for the backward pass per layer per token, split into what tensor
 * parallelism leaves replicated, what it splits, and the attention-score part. With GPT's shape
 * (MHA, 4h non-gated MLP, dropout) and 2-byte elements this is exactly Korthikanti et al.
 * 2022 ("Reducing Activation Recomputation in Large Transformer Models") sec. 4.1:
 * 34 h + 5 a s bytes per token = 10 h (norm inputs 4h, linear inputs 4h, dropout masks 2h)
 * + 24 h (Q, K, V, attention-output input 8h; GeLU input and output 16h) + 5 a s (softmax
 * output 2, its dropout mask 1, dropout output 2). Generalised to GQA (K and V at kvHeads),
 * SwiGLU (gate, up and their product, 3 x 2f) and no dropout.
 */
export function activationPartsPerToken(m: ModelSpec, bytes: number, dropout: boolean, keys: number): { replicated: number; split: number; scores: number } {
  const h = m.hidden;
  const qDim = m.mla ? m.heads * (m.mla.qkNopeHeadDim + m.mla.qkRopeHeadDim) : m.heads * m.headDim;
  const kvDim = m.mla ? qDim : m.kvHeads * m.headDim;
  const outDim = m.mla ? m.heads * m.mla.vHeadDim : qDim;
  const ffn = m.moe ? (m.moe.topK * m.moe.expertFfn + m.moe.sharedExperts * m.moe.sharedFfn) : m.ffn;
  const e = bytes;
  const replicated = 2 * e * h + 2 * e * h + (dropout ? 2 * h : 0);
  const attention = e * (qDim + kvDim) + e * (m.mla ? outDim : kvDim) + e * outDim;
  const mlp = m.gatedMlp ? 3 * e * ffn : 2 * e * ffn;
  const scores = m.heads * keys * (e + (dropout ? 1 + e : 0));
  return { replicated, split: attention + mlp, scores };
}

export interface ActivationBreakdown {
  perLayerBytes: number;
  layersBytes: number;
  outputBytes: number;
  totalBytes: number;
  formula: string;
}

/**
 * Activation bytes one device holds at the peak, for one micro-batch of `seqLen` tokens
 * (Korthikanti et al. 2022, Table 2):
 * - none: every layer's full set, scores included: sbh(34 + 5as/h), with TP sbh(10 + 24/t +
 *   5as/ht), with TP + SP sbh(34/t + 5as/ht);
 * - selective: the attention scores are recomputed (as FlashAttention does by design):
 *   sbh(10 + 24/t), with SP sbh(34/t);
 * - full: only each layer's input, 2sbh (2sbh/t with SP), plus one layer's set while it is
 *   recomputed.
 * With 1F1B pipelining the first stage holds p micro-batches of L/p layers, so L layers' worth
 * whatever p (sec. 4.2.3). Context parallelism splits the sequence (s/cp per device). The
 * output layer adds 4sbh/t (1 + V/h) (sec. 4.3: fp32 logits).
 */
export function activationBytes(m: ModelSpec, a: ActivationLayout): ActivationBreakdown {
  const sLocal = a.seqLen / a.cp;
  const { full, local, window } = layerSplit(m);
  const tokens = sLocal * a.microBatch;
  const dropout = a.dropout === true;
  const keysFull = a.seqLen;
  const keysLocal = Math.min(a.seqLen, window);
  const partsFull = activationPartsPerToken(m, a.bytes, dropout, keysFull);
  const partsLocal = activationPartsPerToken(m, a.bytes, dropout, keysLocal);
  const replicated = a.sequenceParallel ? partsFull.replicated / a.tp : partsFull.replicated;
  const perLayerNoScores = tokens * (replicated + partsFull.split / a.tp);
  const scoreBytes = (tokens * (full * partsFull.scores + local * partsLocal.scores)) / a.tp;
  const outputBytes = (4 * tokens * m.hidden + (a.lmHead === false ? 0 : 4 * tokens * m.vocab)) / a.tp;
  let layersBytes: number;
  let formula: string;
  if (a.recompute === 'none') {
    layersBytes = m.layers * perLayerNoScores + scoreBytes;
    formula = 'layers x s/cp x b x (replicated/(sp ? t : 1) + split/t) + scores/t, replicated = 4h x bytes (+2h dropout), split = (q + k + v + attnOut) + (3 or 2) x ffn, scores = heads x s x bytes (Korthikanti 2022 Table 2, no recompute)';
  } else if (a.recompute === 'selective') {
    layersBytes = m.layers * perLayerNoScores;
    formula = 'layers x s/cp x b x (replicated/(sp ? t : 1) + split/t) (Korthikanti 2022 Table 2, selective: scores recomputed)';
  } else {
    const inputs = (m.layers * tokens * a.bytes * m.hidden) / (a.sequenceParallel ? a.tp : 1);
    layersBytes = inputs + perLayerNoScores;
    formula = 'layers x 2sbh/(sp ? t : 1) (layer inputs) + one layer\'s set while it is recomputed (Korthikanti 2022 Table 2, full recompute)';
  }
  return { perLayerBytes: perLayerNoScores, layersBytes, outputBytes, totalBytes: layersBytes + outputBytes, formula };
}
