import type { ModelSpec } from '../inputs/model.js';
import { sum, term, type Figures } from './terms.js';

/**
 * Parameter counts from the architecture, exactly: the model is listed as groups of tensors
 * (one per weight matrix, bias and norm vector kind, the way Hugging Face transformers builds
 * it in modeling_<family>.py), and every count is a sum over those groups. Weight bytes use the
 * same groups (src/estimate/weights.ts), so parameters and bytes can never disagree.
 *
 * @example Llama-3.1-8B: 2 x 128256 x 4096 + 32 x 218,112,000 + 4096 = 8,030,261,248
 */

const SOURCE = 'Hugging Face transformers modeling_<family>.py: one term per weight, bias and norm vector';

/** Which params.* figure a tensor group belongs to. */
export type ParamFigure = 'embedding' | 'attention' | 'mlp' | 'norms' | 'lmHead' | 'vision' | 'mtp';
/** What a tensor is, for the rules on which tensors a quantization format touches. */
export type TensorKind = 'embedding' | 'lmHead' | 'linear' | 'vector' | 'router' | 'vision';
/** The block a linear tensor sits in (quantization_config modules_to_not_convert maps onto these). */
export type TensorBlock = 'attention' | 'mlp' | 'experts' | 'sharedExperts';
/** llama.cpp tensor names whose GGUF type depends on the file type (src/llama-quant.cpp). */
export type GgufRole = 'attn_q' | 'attn_k' | 'attn_v' | 'attn_qkv' | 'attn_output' | 'ffn_gate' | 'ffn_up' | 'ffn_down' | 'other';

export interface TensorGroup {
  id: string;
  figure: ParamFigure;
  kind: TensorKind;
  block?: TensorBlock;
  gguf?: GgufRole;
  /** indices of the layers that carry this tensor (empty for model-level tensors) */
  layerIndices: number[];
  /** parameters per layer (or in all, for model-level tensors) */
  params: number;
  /** input features of one matrix row (llama.cpp block-size rules); 0 for vectors */
  rowLength: number;
}

/** [from, from + 1, ..., to - 1] (a plain loop: this runs on every estimate). */
function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

/** Total parameters of a group: per-layer count x layers (or the count, for model-level tensors). */
export const groupParams = (g: TensorGroup): number => g.params * Math.max(1, g.layerIndices.length);

/** Parameters of one MLP with hidden h and intermediate f (gated: gate, up, down). */
export function mlpParams(m: ModelSpec, f: number, bias = m.mlpBias): number {
  const matrices = m.gatedMlp ? 3 * m.hidden * f : 2 * m.hidden * f;
  const biases = bias ? (m.gatedMlp ? 2 * f : f) + m.hidden : 0;
  return matrices + biases;
}

/** Layers whose MLP is a mixture of experts. */
export const moeLayers = (m: ModelSpec): number => (m.moe ? m.layers - m.moe.denseLayers : 0);

/** Parameters of one routed expert. */
export const expertParams = (m: ModelSpec): number => (m.moe ? mlpParams(m, m.moe.expertFfn, m.moe.bias) : 0);

/** Tensor groups of one MLP (gate/up/down and biases) of width f, repeated `copies` times per layer. */
function mlpGroups(m: ModelSpec, prefix: string, block: TensorBlock, layers: number[], f: number, copies: number, bias: boolean): TensorGroup[] {
  const h = m.hidden;
  const figure: ParamFigure = 'mlp';
  const out: TensorGroup[] = [];
  if (m.gatedMlp) out.push({ id: `${prefix}.gate_proj`, figure, kind: 'linear', block, gguf: 'ffn_gate', layerIndices: layers, params: copies * h * f, rowLength: h });
  out.push({ id: `${prefix}.up_proj`, figure, kind: 'linear', block, gguf: 'ffn_up', layerIndices: layers, params: copies * h * f, rowLength: h });
  out.push({ id: `${prefix}.down_proj`, figure, kind: 'linear', block, gguf: 'ffn_down', layerIndices: layers, params: copies * f * h, rowLength: f });
  if (bias) out.push({ id: `${prefix}.biases`, figure, kind: 'vector', block, layerIndices: layers, params: copies * ((m.gatedMlp ? 2 * f : f) + h), rowLength: 0 });
  return out;
}

/** Attention tensors of one layer, repeated over `layers`. */
function attentionGroups(m: ModelSpec, layers: number[]): TensorGroup[] {
  const h = m.hidden;
  const figure: ParamFigure = 'attention';
  const block: TensorBlock = 'attention';
  const out: TensorGroup[] = [];
  const lin = (id: string, gguf: GgufRole, params: number, rowLength: number) => out.push({ id: `layers.self_attn.${id}`, figure, kind: 'linear', block, gguf, layerIndices: layers, params, rowLength });
  const vec = (id: string, params: number) => params > 0 && out.push({ id: `layers.self_attn.${id}`, figure, kind: 'vector', block, layerIndices: layers, params, rowLength: 0 });
  if (m.mla) {
    // DeepSeek-V2/V3 (modeling_deepseek_v3.py DeepseekV3Attention): low-rank q and kv with a
    // decoupled rotary key; q_a/kv_a layernorms are part of attention.
    const { qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim } = m.mla;
    const qHead = qkNopeHeadDim + qkRopeHeadDim;
    if (qLoraRank > 0) {
      lin('q_a_proj', 'other', h * qLoraRank, h);
      vec('q_a_layernorm', qLoraRank);
      lin('q_b_proj', 'other', qLoraRank * m.heads * qHead, qLoraRank);
    } else lin('q_proj', 'attn_q', h * m.heads * qHead, h);
    lin('kv_a_proj_with_mqa', 'other', h * (kvLoraRank + qkRopeHeadDim), h);
    vec('kv_a_layernorm', kvLoraRank);
    lin('kv_b_proj', 'other', kvLoraRank * m.heads * (qkNopeHeadDim + vHeadDim), kvLoraRank);
    lin('o_proj', 'attn_output', m.heads * vHeadDim * h, m.heads * vHeadDim);
    vec('o_proj.bias', m.outBias ? h : 0);
    return out;
  }
  const qDim = m.heads * m.headDim;
  const kvDim = m.kvHeads * m.headDim;
  if (m.fusedQkv) lin('qkv_proj', 'attn_qkv', h * (qDim + 2 * kvDim), h);
  else {
    lin('q_proj', 'attn_q', h * qDim, h);
    lin('k_proj', 'attn_k', h * kvDim, h);
    lin('v_proj', 'attn_v', h * kvDim, h);
  }
  lin('o_proj', 'attn_output', qDim * h, qDim);
  vec('qkv_bias', m.qkvBias ? qDim + 2 * kvDim : 0);
  vec('o_proj.bias', m.outBias ? h : 0);
  vec('q_norm_k_norm', m.qkNorm ? 2 * m.headDim : 0);
  // gpt-oss (modeling_gpt_oss.py GptOssAttention): self.sinks = nn.Parameter(num_attention_heads)
  vec('sinks', m.attentionSinks ? m.heads : 0);
  return out;
}

/** MoE block of one layer: router, routed experts, shared experts. */
function moeGroups(m: ModelSpec, layers: number[]): TensorGroup[] {
  const moe = m.moe!;
  const h = m.hidden;
  const out: TensorGroup[] = [];
  // Router: nn.Linear(hidden, experts), with a bias in gpt-oss (GptOssTopKRouter).
  out.push({ id: 'layers.mlp.router', figure: 'mlp', kind: 'router', layerIndices: layers, params: h * moe.experts + (moe.bias ? moe.experts : 0), rowLength: h });
  // DeepSeek-V3 noaux_tc routing: e_score_correction_bias, one per routed expert (modeling_deepseek_v3.py).
  if (m.moeExtras?.routerCorrectionBias) out.push({ id: 'layers.mlp.gate.e_score_correction_bias', figure: 'mlp', kind: 'router', layerIndices: layers, params: moe.experts, rowLength: 0 });
  out.push(...mlpGroups(m, 'layers.mlp.experts', 'experts', layers, moe.expertFfn, moe.experts, moe.bias));
  if (moe.sharedExperts > 0) out.push(...mlpGroups(m, 'layers.mlp.shared_experts', 'sharedExperts', layers, moe.sharedFfn * moe.sharedExperts, 1, m.mlpBias));
  // Qwen2-MoE (modeling_qwen2_moe.py): shared_expert_gate = nn.Linear(hidden, 1, bias=False).
  if (m.moeExtras?.sharedExpertGate) out.push({ id: 'layers.mlp.shared_expert_gate', figure: 'mlp', kind: 'router', layerIndices: layers, params: h, rowLength: h });
  return out;
}

const normParams = (m: ModelSpec): number => (m.norm === 'layer' ? 2 : 1) * m.hidden;

/** One decoder layer's norms. */
function normGroup(m: ModelSpec, layers: number[], id = 'layers.norms'): TensorGroup {
  return { id, figure: 'norms', kind: 'vector', layerIndices: layers, params: m.normsPerLayer * normParams(m), rowLength: 0 };
}

/**
 * Every tensor of the model (without the MTP modules) as groups. The sum of their parameters
 * is params.total.
 */
export function tensorGroups(m: ModelSpec): TensorGroup[] {
  const all = range(0, m.layers);
  const dense = m.moe ? range(0, m.moe.denseLayers) : all;
  const sparse = m.moe ? range(m.moe.denseLayers, m.layers) : [];
  const groups: TensorGroup[] = [
    { id: 'embed_tokens', figure: 'embedding', kind: 'embedding', layerIndices: [], params: m.vocab * m.hidden, rowLength: m.hidden },
  ];
  // Learned absolute positions (GPT-2 wpe, OPT embed_positions with its offset of 2 rows).
  if (m.learnedPositions > 0) groups.push({ id: 'embed_positions', figure: 'embedding', kind: 'embedding', layerIndices: [], params: m.learnedPositions * m.hidden, rowLength: m.hidden });
  groups.push(...attentionGroups(m, all));
  if (dense.length) groups.push(...mlpGroups(m, 'layers.mlp', 'mlp', dense, m.ffn, 1, m.mlpBias));
  if (sparse.length) groups.push(...moeGroups(m, sparse));
  groups.push(normGroup(m, all), { id: 'norm', figure: 'norms', kind: 'vector', layerIndices: [], params: normParams(m), rowLength: 0 });
  if (!m.tiedEmbeddings) groups.push({ id: 'lm_head', figure: 'lmHead', kind: 'lmHead', layerIndices: [], params: m.vocab * m.hidden, rowLength: m.hidden });
  if (m.visionParams) groups.push({ id: 'vision_tower', figure: 'vision', kind: 'vision', layerIndices: [], params: m.visionParams, rowLength: 0 });
  return groups;
}

/**
 * DeepSeek-V3 multi-token-prediction modules (num_nextn_predict_layers), as stored in the
 * checkpoint (model.layers.61.*; DeepSeek-V3 README "Weights": enorm, hnorm, eh_proj, one MoE
 * decoder layer, shared_head norm and head, and a copy of embed_tokens).
 */
export function mtpGroups(m: ModelSpec): TensorGroup[] {
  const n = m.mtpLayers ?? 0;
  if (n === 0) return [];
  const layers = range(m.layers, m.layers + n);
  const h = m.hidden;
  const tag = (g: TensorGroup): TensorGroup => ({ ...g, id: `mtp.${g.id}`, figure: 'mtp' });
  return [
    { id: 'mtp.embed_tokens', figure: 'mtp', kind: 'embedding', layerIndices: layers, params: m.vocab * h, rowLength: h },
    { id: 'mtp.enorm_hnorm', figure: 'mtp', kind: 'vector', layerIndices: layers, params: 2 * normParams(m), rowLength: 0 },
    { id: 'mtp.eh_proj', figure: 'mtp', kind: 'linear', block: 'mlp', gguf: 'other', layerIndices: layers, params: 2 * h * h, rowLength: 2 * h },
    ...attentionGroups(m, layers).map(tag),
    ...(m.moe ? moeGroups(m, layers) : mlpGroups(m, 'layers.mlp', 'mlp', layers, m.ffn, 1, m.mlpBias)).map(tag),
    tag(normGroup(m, layers)),
    { id: 'mtp.shared_head.norm', figure: 'mtp', kind: 'vector', layerIndices: layers, params: normParams(m), rowLength: 0 },
    { id: 'mtp.shared_head.head', figure: 'mtp', kind: 'lmHead', layerIndices: layers, params: m.vocab * h, rowLength: h },
  ];
}

const figureSum = (groups: TensorGroup[], figure: ParamFigure): number => groups.filter((g) => g.figure === figure).reduce((a, g) => a + groupParams(g), 0);

/**
 * Adds params.* figures and returns { total, active, embedding }. With --params the count is
 * taken as given (exact) and the breakdown is omitted, since it would rest on an assumed shape.
 */
export function paramsFigures(fig: Figures, m: ModelSpec): { total: number; active: number; embedding: number } {
  const groups = tensorGroups(m);
  const embedding = term(fig, { id: 'params.embedding', label: 'Embedding parameters', unit: 'params', value: figureSum(groups, 'embedding'), formula: 'vocab x hidden + learnedPositions x hidden', inputs: { vocab: m.vocab, hidden: m.hidden, learnedPositions: m.learnedPositions }, source: SOURCE, approximate: m.shapeAssumed });
  if (m.paramsOverride !== undefined) {
    const total = term(fig, { id: 'params.total', label: 'Parameters', unit: 'params', value: m.paramsOverride, formula: 'given (--params)', inputs: { params: m.paramsOverride }, source: 'user input' });
    term(fig, { id: 'params.active', label: 'Active parameters per token', unit: 'params', value: total, formula: 'params.total (dense)', inputs: { total }, source: 'user input' });
    return { total, active: total, embedding };
  }
  const perLayerAttention = figureSum(groups, 'attention') / m.layers;
  term(fig, { id: 'params.attention', label: 'Attention parameters', unit: 'params', value: figureSum(groups, 'attention'), formula: m.mla ? 'layers x (q_a + q_b + kv_a + kv_b + o projections + their norms)' : 'layers x (q, k, v, o projections + biases + q/k norms + sinks)', inputs: { layers: m.layers, perLayer: perLayerAttention, ...(m.mla ?? {}) }, source: SOURCE });
  term(fig, { id: 'params.mlp', label: m.moe ? 'MLP and expert parameters' : 'MLP parameters', unit: 'params', value: figureSum(groups, 'mlp'), formula: m.moe ? 'denseLayers x mlp(ffn) + moeLayers x (router + experts x mlp(expertFfn) + shared)' : `layers x ${m.gatedMlp ? 3 : 2} x hidden x ffn (+ biases)`, inputs: { layers: m.layers, hidden: m.hidden, ffn: m.ffn, ...(m.moe ?? {}) }, source: SOURCE });
  term(fig, { id: 'params.norms', label: 'Norm parameters', unit: 'params', value: figureSum(groups, 'norms'), formula: `(layers x normsPerLayer + 1 final) x hidden${m.norm === 'layer' ? ' x 2 (weight and bias)' : ''}`, inputs: { layers: m.layers, normsPerLayer: m.normsPerLayer, hidden: m.hidden }, source: SOURCE });
  term(fig, { id: 'params.lmHead', label: 'Output head parameters', unit: 'params', value: figureSum(groups, 'lmHead'), formula: m.tiedEmbeddings ? '0 (tied to the embedding)' : 'vocab x hidden', inputs: { vocab: m.vocab, hidden: m.hidden, tied: m.tiedEmbeddings }, source: SOURCE });
  const parts = ['params.embedding', 'params.attention', 'params.mlp', 'params.norms', 'params.lmHead'];
  if (m.visionParams) {
    term(fig, { id: 'params.vision', label: 'Vision tower and projector parameters', unit: 'params', value: figureSum(groups, 'vision'), formula: 'SigLIP encoder (patch and position embeddings, layers x (attention + MLP + 2 LayerNorms), post-LayerNorm) + projector (RMSNorm + linear)', inputs: { visionParams: m.visionParams }, source: 'transformers modeling_siglip.py SiglipVisionModel; modeling_gemma3.py Gemma3MultiModalProjector' });
    parts.push('params.vision');
  }
  const total = sum(fig, { id: 'params.total', label: 'Parameters', unit: 'params', parts, source: SOURCE });
  if (m.mtpLayers) {
    const mtp = mtpGroups(m).reduce((a, g) => a + groupParams(g), 0);
    term(fig, { id: 'params.mtp', label: 'Multi-token-prediction module parameters (not in params.total)', unit: 'params', value: mtp, formula: 'mtpLayers x (embedding + enorm + hnorm + eh_proj (2h x h) + one decoder layer + head norm + head)', inputs: { mtpLayers: m.mtpLayers, hidden: m.hidden, vocab: m.vocab }, source: 'DeepSeek-V3 technical report sec. 2.2 (MTP modules); DeepSeek-V3 README: 671B main model + 14B MTP module weights' });
  }
  let active = total;
  if (m.moe || m.visionParams) {
    const idle = moeLayers(m) * (m.moe ? m.moe.experts - m.moe.topK : 0) * expertParams(m) + (m.visionParams ?? 0);
    active = term(fig, { id: 'params.active', label: 'Active parameters per token', unit: 'params', value: total - idle, formula: `total - moeLayers x (experts - topK) x expertParams${m.visionParams ? ' - visionParams' : ''}`, inputs: { total, moeLayers: moeLayers(m), experts: m.moe?.experts ?? 0, topK: m.moe?.topK ?? 0, expertParams: expertParams(m), visionParams: m.visionParams ?? 0 }, source: 'Shazeer et al. 2017; Mixtral paper (Jiang et al. 2024): each token uses top-k experts; a text token does not pass through the vision tower' });
  } else {
    term(fig, { id: 'params.active', label: 'Active parameters per token', unit: 'params', value: total, formula: 'params.total (dense)', inputs: { total }, source: SOURCE });
  }
  return { total, active, embedding };
}
