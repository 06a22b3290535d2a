import type { ModelSpec } from '../inputs/model.js';
import type { EstimateInput } from './input.js';
import { visionEncoderFlops } from './images.js';
import { attendedKeys as attended, attentionFlopsPerKey, holdsKv, holdsState, indexerFlopsPerKey, keysAttended, layerGroups, scanFlopsPerToken } from './layers.js';
import { kvLayerTokens, layerSplit } from './memory.js';
import { cachedPromptTokens } from './prefix.js';
import { lastPerObject } from './once.js';
import { sum, term, type Figures } from './terms.js';

/**
 * FLOPs count a multiply-add as 2 (Kaplan et al. 2020, "Scaling Laws", sec. 2.1: forward
 * pass = 2 N + 2 n_layer n_ctx d_attn per token).
 */

/**
 * Attention FLOPs per query token per unit of context, per layer, for the model's attention
 * (every KV layer of a model has the same heads): QK^T and softmax(.)V, 2 FLOPs per multiply-add;
 * MLA in the absorbed form engines use for decode, the expanded heads for prefill (layers.ts
 * attentionFlopsPerKey).
 */
export function attentionFlopsPerContextToken(m: ModelSpec, phase: 'prefill' | 'decode'): number {
  const attention = layerGroups(m).find((g) => holdsKv(g.mixer));
  return attention ? attentionFlopsPerKey(m, attention.mixer, phase) : 0;
}

/** Sum over query positions p = start+1..end of min(p, window): keys each query attends to. */
export const attendedKeys = attended;

/** Recurrent-scan FLOPs per token summed over the linear-attention / SSM layers (layers.ts scanFlopsPerToken). */
export function scanFlops(m: ModelSpec, phase: 'prefill' | 'decode'): number {
  let total = 0;
  for (const g of layerGroups(m)) if (holdsState(g.mixer)) total += g.count * scanFlopsPerToken(g.mixer, phase);
  return total;
}

/**
 * DeepSeek-V3.2 sparse attention (DSA): each query attends to the topK keys its lightning
 * indexer picks, and the indexer scores every key (DeepSeek-V3.2-Exp report sec. 2.1).
 */
export interface SparseAttention {
  layers: number;
  topK: number;
  /** indexer FLOPs per query per key scored, one layer */
  indexerFlopsPerKey: number;
}

export function sparseAttention(m: ModelSpec): SparseAttention | undefined {
  const g = layerGroups(m).find((x) => x.mixer.kind === 'sparse-mla');
  if (!g || g.mixer.kind !== 'sparse-mla') return undefined;
  return { layers: g.count, topK: g.mixer.topK, indexerFlopsPerKey: indexerFlopsPerKey(g.mixer) };
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
  /** recurrent-scan FLOPs per token over the linear-attention / SSM layers, in each phase */
  scanPrefill: number;
  scanDecode: number;
  /** DeepSeek-V3.2 sparse attention, when the model has it */
  sparse?: SparseAttention;
}

export const tokenFlops = (m: ModelSpec, active: number, embedding: number): TokenFlops => ({
  linear: matmulParams(m, active, embedding),
  lmHead: m.vocab * m.hidden,
  attentionPrefill: attentionFlopsPerContextToken(m, 'prefill'),
  attentionDecode: attentionFlopsPerContextToken(m, 'decode'),
  scanPrefill: scanFlops(m, 'prefill'),
  scanDecode: scanFlops(m, 'decode'),
  sparse: sparseAttention(m),
});

/**
 * Linear-layer FLOPs of prefilling `tokensEach` prompt tokens of each of `sequences` sequences;
 * the output head runs on `logitsEach` tokens per sequence (1 for the chunk that ends a prompt,
 * 0 for an earlier chunk; vLLM compute_logits on sampled positions).
 */
export const prefillLinearFlops = (t: TokenFlops, sequences: number, tokensEach: number, logitsEach: number): number =>
  2 * sequences * (tokensEach * (t.linear - t.lmHead) + logitsEach * t.lmHead);

/**
 * Keys attended, summed over layers, by prompt positions start+1..end of one sequence (causal;
 * sliding layers up to their window, chunked layers within their chunk). With DSA the indexer's
 * scoring of every key is added as the attention-equivalent keys of the same FLOPs.
 */
export const prefillKeys: (m: ModelSpec, start: number, end: number) => number = lastPerObject((m: ModelSpec, start: number, end: number): number => {
  let keys = 0;
  const perKey = attentionFlopsPerContextToken(m, 'prefill');
  for (const g of layerGroups(m)) {
    if (!holdsKv(g.mixer)) continue;
    keys += g.count * keysAttended(g.mixer, start, end);
    const indexer = indexerFlopsPerKey(g.mixer);
    if (indexer && perKey) keys += (g.count * indexer * attended(start, end, Infinity)) / perKey;
  }
  return keys;
});

/**
 * Decode FLOPs of one step: each of `sequences` sequences emits one token, attending to its
 * context; `kvLayerTokens` is their KV summed over layers and sequences (memory.ts kvLayerTokens).
 */
export const decodeStepFlops = (t: TokenFlops, sequences: number, kvLayerTokens: number): number =>
  sequences * (2 * t.linear + t.scanDecode) + t.attentionDecode * attendedLayerTokens(t, sequences, kvLayerTokens) + (t.sparse ? t.sparse.indexerFlopsPerKey * kvLayerTokens : 0);

/**
 * KV layer-tokens a decode step attends to: all it holds, or with DSA at most topK per layer per
 * sequence (min(sum, sequences x layers x topK): exact when every sequence is past topK or none is).
 */
export const attendedLayerTokens = (t: Pick<TokenFlops, 'sparse'>, sequences: number, kvLayerTokens: number): number =>
  t.sparse ? Math.min(kvLayerTokens, sequences * t.sparse.layers * t.sparse.topK) : kvLayerTokens;

/**
 * Prefill FLOPs of `batch` prompts of `inputTokens` tokens: every prompt token through every
 * linear layer except the output head, which engines apply only to each sequence's last token
 * (vLLM compute_logits on sampled positions); causal attention; recurrent scans. `total` is
 * flops.prefill, summed as its figure sums its parts.
 */
export function prefillFlops(m: ModelSpec, t: TokenFlops, batch: number, inputTokens: number, cachedTokens = 0): { linear: number; attention: number; scan: number; total: number } {
  // a prefix-cache hit (prefix.ts): only positions cachedTokens+1..inputTokens are computed, each attending every key before it
  const linear = prefillLinearFlops(t, batch, inputTokens - cachedTokens, 1);
  const attention = batch * t.attentionPrefill * prefillKeys(m, cachedTokens, inputTokens);
  const scan = batch * (inputTokens - cachedTokens) * t.scanPrefill;
  return { linear, attention, scan, total: t.scanPrefill > 0 ? 0 + linear + attention + scan : 0 + linear + attention };
}

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
  const { linear: prefillLinear, attention: prefillAttention, scan: prefillScan } = prefillFlops(m, t, w.batch, w.inputTokens, cachedPromptTokens(input));
  const recurrent = t.scanPrefill > 0;
  term(fig, { id: 'flops.prefillLinear', label: 'Prefill FLOPs, linear layers', unit: 'FLOP', value: prefillLinear, formula: '2 x batch x (inputTokens x (matmulParams - lmHead) + lmHead)', inputs: { batch: w.batch, inputTokens: w.inputTokens, matmulParams: linear, lmHead }, source });
  term(fig, { id: 'flops.prefillAttention', label: 'Prefill FLOPs, attention', unit: 'FLOP', value: prefillAttention, formula: 'batch x attnFlopsPerKey x (fullLayers x s(s+1)/2 + localLayers x sum min(p, window))', inputs: { batch: w.batch, inputTokens: w.inputTokens, attnFlopsPerKey: attentionFlopsPerContextToken(m, 'prefill'), fullLayers: full, localLayers: local }, source, approximate: m.shapeAssumed });
  const parts = ['flops.prefillLinear', 'flops.prefillAttention'];
  if (recurrent) {
    term(fig, { id: 'flops.prefillScan', label: 'Prefill FLOPs, linear-attention / SSM scans', unit: 'FLOP', value: prefillScan, formula: 'batch x inputTokens x sum over recurrent layers of the chunked scan per token (layers.ts scanFlopsPerToken)', inputs: { batch: w.batch, inputTokens: w.inputTokens, perToken: t.scanPrefill }, source: 'Yang et al. 2024 (Gated Delta Networks) sec. 3.3 chunkwise form; Dao & Gu 2024 (Mamba-2) sec. 6 SSD algorithm', approximate: true });
    parts.push('flops.prefillScan');
  }
  if (input.images) {
    // The vision encoder runs once per image before the prompt is prefilled (images.ts).
    const img = input.images;
    const perImage = visionEncoderFlops(m, img.perImage);
    term(fig, { id: 'flops.prefillVision', label: 'Prefill FLOPs, vision encoder', unit: 'FLOP', value: w.batch * img.count * perImage, formula: 'batch x images x (2 x visionParams x encoderTokens + layers x 4 x visionHidden x encoderTokens x attended)', inputs: { batch: w.batch, images: img.count, encoderTokens: img.perImage.encoderTokens, visionParams: m.visionParams ?? 0, perImage }, source: 'Kaplan et al. 2020 sec. 2.1 applied to the vision transformer (Dosovitskiy et al. 2021): 2 FLOPs per parameter per patch token + attention', approximate: true });
    parts.push('flops.prefillVision');
  }
  const prefill = sum(fig, { id: 'flops.prefill', label: 'Prefill FLOPs', unit: 'FLOP', parts, source });

  // Decode: one token per sequence at the mean context over the generation.
  const meanContext = w.inputTokens + w.outputTokens / 2;
  const decodePerToken = term(fig, { id: 'flops.decodePerToken', label: 'Decode FLOPs per token', unit: 'FLOP', value: decodeStepFlops(t, 1, kvLayerTokens(m, meanContext)), formula: '2 x matmulParams + attnFlopsPerKey x (fullLayers x meanContext + localLayers x min(meanContext, window))' + (recurrent ? ' + one recurrent step per linear-attention / SSM layer' : '') + (t.sparse ? ' (DSA: attention over min(context, topK) keys + indexer over every key)' : ''), inputs: { matmulParams: linear, meanContext, attnFlopsPerKey: attentionFlopsPerContextToken(m, 'decode'), fullLayers: full, localLayers: local, ...(recurrent ? { scanFlops: t.scanDecode } : {}) }, source, approximate: m.shapeAssumed });
  return { prefill, decodePerToken, perToken: t };
}
