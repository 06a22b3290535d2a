import type { ModelSpec } from '../inputs/model.js';
import type { EstimateInput } from './input.js';
import { kvLayerTokens, layerSplit } from './memory.js';
import { sum, term, type Figures } from './terms.js';

/**
 * FLOPs count a multiply-add as 2 (Kaplan et al. 2020, "Scaling Laws", sec. 2.1: forward
 * pass = 2 N + 2 n_layer n_ctx d_attn per token).
 */

/**
 * Attention FLOPs per query token per unit of context, per layer: QK^T and softmax(.)V,
 * 2 FLOPs per multiply-add. MLA in the absorbed form engines use for decode attends over the
 * latent (kvLoraRank + rope for scores, kvLoraRank for values; DeepSeek-V2 sec. 2.1.3,
 * vLLM MLA backend); prefill uses the expanded heads (qk nope + rope, v).
 */
export function attentionFlopsPerContextToken(m: ModelSpec, phase: 'prefill' | 'decode'): number {
  if (m.mla) {
    const { kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim } = m.mla;
    return phase === 'decode'
      ? 2 * m.heads * (kvLoraRank + qkRopeHeadDim + kvLoraRank)
      : 2 * m.heads * (qkNopeHeadDim + qkRopeHeadDim + vHeadDim);
  }
  return 4 * m.heads * m.headDim;
}

/** Sum over query positions p = start+1..end of min(p, window): keys each query attends to. */
export function attendedKeys(start: number, end: number, window: number): number {
  const upTo = (n: number) => (n <= window ? (n * (n + 1)) / 2 : (window * (window + 1)) / 2 + (n - window) * window);
  return upTo(end) - upTo(start);
}

/** Parameters that take part in matrix products per token (the input embedding is a lookup). */
export function matmulParams(m: ModelSpec, active: number, embeddingParams: number): number {
  return active - embeddingParams + (m.tiedEmbeddings ? m.vocab * m.hidden : 0);
}

/** Per-token FLOP constants of a model, for FLOPs of any step shape (flopsFigures, the step model). */
export interface TokenFlops {
  /** parameters in matrix products per token (matmulParams) */
  linear: number;
  /** output-head parameters (vocab x hidden), applied to one token per sequence in prefill */
  lmHead: number;
  /** attention FLOPs per query token per key, per layer, in each phase */
  attentionPrefill: number;
  attentionDecode: number;
}

export const tokenFlops = (m: ModelSpec, active: number, embedding: number): TokenFlops => ({
  linear: matmulParams(m, active, embedding),
  lmHead: m.vocab * m.hidden,
  attentionPrefill: attentionFlopsPerContextToken(m, 'prefill'),
  attentionDecode: attentionFlopsPerContextToken(m, 'decode'),
});

/**
 * Linear-layer FLOPs of prefilling `tokensEach` prompt tokens of each of `sequences` sequences;
 * the output head runs on `logitsEach` tokens per sequence (1 for the chunk that ends a prompt,
 * 0 for an earlier chunk; vLLM compute_logits on sampled positions).
 */
export const prefillLinearFlops = (t: TokenFlops, sequences: number, tokensEach: number, logitsEach: number): number =>
  2 * sequences * (tokensEach * (t.linear - t.lmHead) + logitsEach * t.lmHead);

/** Keys attended, summed over layers, by prompt positions start+1..end of one sequence (causal). */
export function prefillKeys(m: ModelSpec, start: number, end: number): number {
  const { full, local, window } = layerSplit(m);
  return full * attendedKeys(start, end, Infinity) + local * attendedKeys(start, end, window);
}

/**
 * Decode FLOPs of one step: each of `sequences` sequences emits one token, attending to its
 * context; `kvLayerTokens` is their KV summed over layers and sequences (memory.ts kvLayerTokens).
 */
export const decodeStepFlops = (t: TokenFlops, sequences: number, kvLayerTokens: number): number =>
  sequences * 2 * t.linear + t.attentionDecode * kvLayerTokens;

export interface FlopsResult {
  prefill: number;
  decodePerToken: number;
  /** the per-token constants, for FLOPs of other step shapes (the step model) */
  perToken: TokenFlops;
}

export function flopsFigures(fig: Figures, input: EstimateInput, active: number, embedding: number): FlopsResult {
  const { model: m, workload: w } = input;
  const { full, local } = layerSplit(m);
  const t = tokenFlops(m, active, embedding);
  const { linear, lmHead } = t;
  const source = 'Kaplan et al. 2020 sec. 2.1 (2 FLOPs per parameter per token + attention over context); causal prefill attends to p keys at position p';

  // Prefill: every prompt token through every linear layer except the output head, which
  // engines apply only to each sequence's last token (vLLM compute_logits on sampled positions).
  const prefillLinear = prefillLinearFlops(t, w.batch, w.inputTokens, 1);
  const prefillAttention = w.batch * t.attentionPrefill * prefillKeys(m, 0, w.inputTokens);
  term(fig, { id: 'flops.prefillLinear', label: 'Prefill FLOPs, linear layers', unit: 'FLOP', value: prefillLinear, formula: '2 x batch x (inputTokens x (matmulParams - lmHead) + lmHead)', inputs: { batch: w.batch, inputTokens: w.inputTokens, matmulParams: linear, lmHead }, source });
  term(fig, { id: 'flops.prefillAttention', label: 'Prefill FLOPs, attention', unit: 'FLOP', value: prefillAttention, formula: 'batch x attnFlopsPerKey x (fullLayers x s(s+1)/2 + localLayers x sum min(p, window))', inputs: { batch: w.batch, inputTokens: w.inputTokens, attnFlopsPerKey: attentionFlopsPerContextToken(m, 'prefill'), fullLayers: full, localLayers: local }, source, approximate: m.shapeAssumed });
  const prefill = sum(fig, { id: 'flops.prefill', label: 'Prefill FLOPs', unit: 'FLOP', parts: ['flops.prefillLinear', 'flops.prefillAttention'], source });

  // Decode: one token per sequence at the mean context over the generation.
  const meanContext = w.inputTokens + w.outputTokens / 2;
  const decodePerToken = term(fig, { id: 'flops.decodePerToken', label: 'Decode FLOPs per token', unit: 'FLOP', value: decodeStepFlops(t, 1, kvLayerTokens(m, meanContext)), formula: '2 x matmulParams + attnFlopsPerKey x (fullLayers x meanContext + localLayers x min(meanContext, window))', inputs: { matmulParams: linear, meanContext, attnFlopsPerKey: attentionFlopsPerContextToken(m, 'decode'), fullLayers: full, localLayers: local }, source, approximate: m.shapeAssumed });
  return { prefill, decodePerToken, perToken: t };
}
