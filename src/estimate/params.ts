import { once } from './once.js';
import type { Mixer, ModelSpec } from '../inputs/model.js';
import { holdsKv, isHeadAttention, layerGroups, moeLayerCount, range, subLayers } from './layers.js';
import { addFigures, sum, term, type Figures } from './terms.js';

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
export type ParamFigure = 'embedding' | 'attention' | 'mlp' | 'norms' | 'lmHead' | 'head' | 'vision' | 'audio' | 'layerExtras' | 'perLayerEmbedding' | 'mtp';
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

/** Total parameters of a group: per-layer count x layers (or the count, for model-level tensors). */
export const groupParams = (g: TensorGroup): number => g.params * Math.max(1, g.layerIndices.length);

/** Parameters of one MLP with hidden h and intermediate f (gated: gate, up, down). */
export function mlpParams(m: ModelSpec, f: number, bias = m.mlpBias): number {
  const matrices = m.gatedMlp ? 3 * m.hidden * f : 2 * m.hidden * f;
  const biases = bias ? (m.mlpDownBiasOnly ? 0 : m.gatedMlp ? 2 * f : f) + m.hidden : 0;
  return matrices + biases;
}

/** Layers whose MLP is a mixture of experts. */
export const moeLayers = (m: ModelSpec): number => moeLayerCount(m);

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
  if (bias) out.push({ id: `${prefix}.biases`, figure, kind: 'vector', block, layerIndices: layers, params: copies * ((m.mlpDownBiasOnly ? 0 : m.gatedMlp ? 2 * f : f) + h), rowLength: 0 });
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
  // Qwen3-Next gated attention (modeling_qwen3_next.py Qwen3NextAttention): q_proj also
  // produces the sigmoid output gate, 2 x heads x headDim wide.
  const qOut = m.attentionOutputGate ? 2 * qDim : qDim;
  if (m.fusedQkv) lin('qkv_proj', 'attn_qkv', h * (qDim + 2 * kvDim), h);
  else {
    lin('q_proj', 'attn_q', h * qOut, h);
    lin('k_proj', 'attn_k', h * kvDim, h);
    lin('v_proj', 'attn_v', h * kvDim, h);
  }
  lin('o_proj', 'attn_output', qDim * h, qDim);
  vec('qkv_bias', m.qkvBias ? qDim + 2 * kvDim : 0);
  vec('o_proj.bias', m.outBias ? h : 0);
  // per-head q/k RMSNorm (Qwen3, Gemma 3), or over all heads (MiniMax-M2 qk_norm_type per_layer)
  vec('q_norm_k_norm', m.qkNorm ? (m.qkNormPerLayer ? qDim + kvDim : 2 * m.headDim) : 0);
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
function normGroup(m: ModelSpec, layers: number[], id = 'layers.norms', count = m.normsPerLayer): TensorGroup {
  return { id, figure: 'norms', kind: 'vector', layerIndices: layers, params: count * normParams(m), rowLength: 0 };
}

/**
 * The tensors only an encoder has (transformers modeling_bert.py, modeling_roberta.py,
 * modeling_modernbert.py): token-type embeddings and the embedding norm; the pooler
 * (BertPooler: dense h x h + bias) and a sequence-classification head. The final norm, and
 * ModernBERT's missing first attention norm, are handled with the layer norms.
 */
function encoderGroups(m: ModelSpec): { embeddings: TensorGroup[]; heads: TensorGroup[] } {
  const e = m.encoder!;
  const h = m.hidden;
  const embeddings: TensorGroup[] = [];
  if (e.typeVocab > 0) embeddings.push({ id: 'embeddings.token_type_embeddings', figure: 'embedding', kind: 'embedding', layerIndices: [], params: e.typeVocab * h, rowLength: h });
  if (e.embeddingNorm) embeddings.push({ id: 'embeddings.norm', figure: 'norms', kind: 'vector', layerIndices: [], params: normParams(m), rowLength: 0 });
  const heads: TensorGroup[] = [];
  const linear = (id: string, inputs: number, outputs: number, bias: boolean) => heads.push({ id, figure: 'head', kind: 'linear', layerIndices: [], params: inputs * outputs + (bias ? outputs : 0), rowLength: inputs });
  if (e.pooler) linear('pooler.dense', h, h, true);
  const { labels, dense } = e.classifier;
  if (labels > 0) {
    // RobertaClassificationHead: dense (h x h + b) then out_proj (h x labels + b); BERT puts one
    // Linear(h, labels) on the pooler; ModernBERT: head dense (bias classifier_bias, off) + norm.
    if (dense === 'dense') linear('classifier.dense', h, h, true);
    if (dense === 'dense-norm') {
      linear('head.dense', h, h, false);
      heads.push({ id: 'head.norm', figure: 'head', kind: 'vector', layerIndices: [], params: normParams(m), rowLength: 0 });
    }
    linear('classifier.out_proj', h, labels, true);
  }
  return { embeddings, heads };
}

/**
 * Tensors of one token mixer (other than attention and MLA, which attentionGroups builds) over
 * `layers`, as transformers builds them:
 *  - sparse MLA (DeepSeek-V3.2 inference/model.py Indexer): MLA plus the lightning indexer's
 *    wq_b (q_lora_rank -> index heads x index head dim), wk (hidden -> index head dim), its
 *    LayerNorm (weight and bias) and weights_proj (hidden -> index heads);
 *  - gated DeltaNet (modeling_qwen3_next.py Qwen3NextGatedDeltaNet): in_proj_qkvz (hidden ->
 *    2 key + 2 value dims), in_proj_ba (hidden -> 2 x value heads), a depthwise conv1d over
 *    2 key + value dims without bias, dt_bias and A_log per value head, a gated RMSNorm over the
 *    value head dim, out_proj;
 *  - lightning attention (modeling_minimax.py MiniMaxLightningAttention): qkv_proj, out_proj,
 *    output_gate (hidden -> heads x headDim), an RMSNorm over heads x headDim;
 *  - Mamba (modeling_jamba.py JambaMambaMixer): in_proj (hidden -> 2 inner), conv1d (inner x
 *    kernel, bias), x_proj (inner -> dtRank + 2 state), dt_proj (dtRank -> inner, bias), A_log
 *    (inner x state), D (inner), out_proj, and Jamba's dt/B/C RMSNorms;
 *  - Mamba-2 (modeling_mamba2.py Mamba2Mixer, NemotronH/GraniteMoeHybrid/Bamba/FalconH1 the
 *    same): in_proj (hidden -> 2 inner + 2 groups x state + heads), conv1d over inner + 2 groups
 *    x state (bias when use_conv_bias), dt_bias, A_log and D per head, a gated RMSNorm over
 *    inner, out_proj.
 */
function mixerGroups(m: ModelSpec, x: Mixer, layers: number[]): TensorGroup[] {
  const h = m.hidden;
  const out: TensorGroup[] = [];
  const lin = (prefix: string, id: string, params: number, rowLength: number) => params > 0 && out.push({ id: `layers.${prefix}.${id}`, figure: 'attention', kind: 'linear', block: 'attention', gguf: 'other', layerIndices: layers, params, rowLength });
  const vec = (prefix: string, id: string, params: number) => params > 0 && out.push({ id: `layers.${prefix}.${id}`, figure: 'attention', kind: 'vector', block: 'attention', layerIndices: layers, params, rowLength: 0 });
  switch (x.kind) {
    case 'sparse-mla': {
      const qRank = m.mla?.qLoraRank || h;
      out.push(...attentionGroups(m, layers));
      lin('self_attn.indexer', 'wq_b', qRank * x.indexHeads * x.indexHeadDim, qRank);
      lin('self_attn.indexer', 'wk', h * x.indexHeadDim, h);
      vec('self_attn.indexer', 'k_norm', 2 * x.indexHeadDim);
      lin('self_attn.indexer', 'weights_proj', h * x.indexHeads, h);
      break;
    }
    case 'gated-deltanet': {
      const keyDim = x.keyHeads * x.keyHeadDim;
      const valueDim = x.valueHeads * x.valueHeadDim;
      lin('linear_attn', 'in_proj_qkvz', h * (2 * keyDim + 2 * valueDim), h);
      lin('linear_attn', 'in_proj_ba', h * 2 * x.valueHeads, h);
      vec('linear_attn', 'conv1d', (2 * keyDim + valueDim) * x.convKernel);
      vec('linear_attn', 'dt_bias_A_log', 2 * x.valueHeads);
      vec('linear_attn', 'norm', x.valueHeadDim);
      lin('linear_attn', 'out_proj', valueDim * h, valueDim);
      break;
    }
    case 'lightning': {
      const dim = x.heads * x.headDim;
      lin('self_attn', 'qkv_proj', h * 3 * dim, h);
      lin('self_attn', 'output_gate', h * dim, h);
      vec('self_attn', 'norm', dim);
      lin('self_attn', 'out_proj', dim * h, dim);
      break;
    }
    case 'mamba': {
      const d = x.inner;
      lin('mamba', 'in_proj', h * 2 * d + (x.projBias ? 2 * d : 0), h);
      vec('mamba', 'conv1d', d * x.convKernel + (x.convBias ? d : 0));
      lin('mamba', 'x_proj', d * (x.dtRank + 2 * x.stateSize), d);
      lin('mamba', 'dt_proj', x.dtRank * d + d, x.dtRank);
      vec('mamba', 'A_log_D', d * x.stateSize + d);
      vec('mamba', 'dt_B_C_norms', x.dtNorms ? x.dtRank + 2 * x.stateSize : 0);
      lin('mamba', 'out_proj', d * h + (x.projBias ? h : 0), d);
      break;
    }
    case 'mamba2': {
      const d = x.heads * x.headDim;
      const conv = d + 2 * x.groups * x.stateSize;
      const inProj = 2 * d + 2 * x.groups * x.stateSize + x.heads;
      lin('mamba', 'in_proj', h * inProj + (x.projBias ? inProj : 0), h);
      vec('mamba', 'conv1d', conv * x.convKernel + (x.convBias ? conv : 0));
      vec('mamba', 'dt_bias_A_log_D', 3 * x.heads);
      vec('mamba', 'norm', x.gatedNorm ? d : 0);
      lin('mamba', 'out_proj', d * h + (x.projBias ? h : 0), d);
      break;
    }
    default:
      out.push(...attentionGroups(m, layers));
  }
  return out;
}

/** Mixers whose weights are the same (every attention kind shares the model's attention weights). */
const weightKey = (x: Mixer): string => (isHeadAttention(x) || x.kind === 'mla' ? 'attention' : JSON.stringify(x));

const tensorCache = new WeakMap<ModelSpec, TensorGroup[]>();

/**
 * Every tensor of the model (without the MTP modules) as groups, built from the layer kinds
 * (src/estimate/layers.ts) once per model. The sum of their parameters is params.total.
 */
export function tensorGroups(m: ModelSpec): TensorGroup[] {
  const hit = tensorCache.get(m);
  if (hit) return hit;
  const kinds = layerGroups(m);
  const groups: TensorGroup[] = [
    { id: 'embed_tokens', figure: 'embedding', kind: 'embedding', layerIndices: [], params: m.vocab * m.hidden, rowLength: m.hidden },
  ];
  // Learned absolute positions (GPT-2 wpe, OPT embed_positions with its offset of 2 rows).
  if (m.learnedPositions > 0) groups.push({ id: 'embed_positions', figure: 'embedding', kind: 'embedding', layerIndices: [], params: m.learnedPositions * m.hidden, rowLength: m.hidden });
  const encoder = m.encoder ? encoderGroups(m) : undefined;
  if (encoder) groups.push(...encoder.embeddings);
  const collect = <K>(keyOf: (g: (typeof kinds)[number]) => string | undefined, value: (g: (typeof kinds)[number]) => K) => {
    const out = new Map<string, { value: K; layers: number[] }>();
    for (const g of kinds) {
      const key = keyOf(g);
      if (key === undefined) continue;
      const e = out.get(key) ?? { value: value(g), layers: [] };
      e.layers.push(...g.layers);
      out.set(key, e);
    }
    for (const e of out.values()) e.layers.sort((a, b) => a - b);
    return [...out.values()];
  };
  for (const { value, layers } of collect((g) => (g.mixer.kind === 'none' ? undefined : weightKey(g.mixer)), (g) => g.mixer)) groups.push(...mixerGroups(m, value, layers));
  const dense = collect((g) => (g.mlp.kind === 'dense' ? String(g.mlp.ffn) : undefined), (g) => (g.mlp.kind === 'dense' ? g.mlp.ffn : 0));
  for (const { value: ffn, layers } of dense) groups.push(...mlpGroups(m, dense.length === 1 || ffn === m.ffn ? 'layers.mlp' : `layers.mlp.f${ffn}`, 'mlp', layers, ffn, 1, m.mlpBias));
  const sparse = collect((g) => (g.mlp.kind === 'moe' ? 'moe' : undefined), () => 0);
  if (m.moe && sparse.length) groups.push(...moeGroups(m, sparse[0].layers));
  // Norms in front of each sub-layer: normsPerLayer for a layer with a mixer and an MLP (2 for
  // Llama, 4 for Gemma 2/3 with post norms), half that for a layer with only one of them
  // (Nemotron-H blocks, Mamba layers).
  // A parallel mixer's second entry (Falcon-H1) says its own count (0: the layer's norms are counted once).
  const normsOf = (g: (typeof kinds)[number]) => g.norms ?? (subLayers(g) === 2 ? m.normsPerLayer : subLayers(g) === 1 ? Math.ceil(m.normsPerLayer / 2) : 0);
  const norms = collect((g) => String(normsOf(g)), normsOf);
  for (const { value: count, layers } of norms) {
    if (count === 0) continue;
    const id = count === m.normsPerLayer ? 'layers.norms' : 'layers.norms.single';
    // ModernBERT: layer 0 has no attn_norm (the embedding norm precedes it), only mlp_norm.
    if (m.encoder?.firstLayerAttentionNormless && layers.includes(0)) {
      groups.push(normGroup(m, [0], `${id}.layer0`, count - 1));
      if (layers.length > 1) groups.push(normGroup(m, layers.filter((i) => i !== 0), id, count));
    } else groups.push(normGroup(m, layers, id, count));
  }
  // Post-norm encoders (BERT) end without a final norm; ModernBERT has final_norm.
  if (!m.encoder || m.encoder.finalNorm) groups.push({ id: 'norm', figure: 'norms', kind: 'vector', layerIndices: [], params: normParams(m), rowLength: 0 });
  // Encoders have no output head over the vocabulary (their MLM heads are not served).
  if (!m.tiedEmbeddings && !m.encoder) groups.push({ id: 'lm_head', figure: 'lmHead', kind: 'lmHead', layerIndices: [], params: m.vocab * m.hidden, rowLength: m.hidden });
  // Phi-1/1.5/2 (modeling_phi.py): lm_head = nn.Linear(hidden, vocab) with its bias, also when tied
  if (m.lmHeadBias && !m.encoder) groups.push({ id: 'lm_head.bias', figure: 'lmHead', kind: 'vector', layerIndices: [], params: m.vocab, rowLength: 0 });
  if (encoder) groups.push(...encoder.heads);
  if (m.visionParams) groups.push({ id: 'vision_tower', figure: 'vision', kind: 'vision', layerIndices: [], params: m.visionParams, rowLength: 0 });
  // Towers a text token does not pass through are read only when their inputs are encoded.
  if (m.audioParams) groups.push({ id: 'audio_tower', figure: 'audio', kind: 'vision', layerIndices: [], params: m.audioParams, rowLength: 0 });
  // Family extras (Gemma 3n AltUp, LAuReL, per-layer inputs), on every layer or once.
  const everyLayer = range(0, m.layers);
  for (const x of m.extraTensors ?? []) groups.push({ id: x.id, figure: x.figure, kind: x.kind, ...(x.kind === 'linear' ? { gguf: 'other' as const } : {}), layerIndices: x.perLayer ? everyLayer : [], params: x.params, rowLength: x.rowLength });
  tensorCache.set(m, groups);
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
  // The MTP layer is an attention layer of the model's own kind (DeepSeek-V3.2: with its indexer).
  const attention = layerGroups(m).find((g) => holdsKv(g.mixer))?.mixer ?? { kind: 'full' as const };
  const copies = !m.mtpSharesEmbeddings;
  const groups: TensorGroup[] = [
    { id: 'mtp.enorm_hnorm', figure: 'mtp', kind: 'vector', layerIndices: layers, params: 2 * normParams(m), rowLength: 0 },
    { id: 'mtp.eh_proj', figure: 'mtp', kind: 'linear', block: 'mlp', gguf: 'other', layerIndices: layers, params: 2 * h * h, rowLength: 2 * h },
    ...mixerGroups(m, attention, layers).map(tag),
    ...(m.moe ? moeGroups(m, layers) : mlpGroups(m, 'layers.mlp', 'mlp', layers, m.ffn, 1, m.mlpBias)).map(tag),
    tag(normGroup(m, layers)),
    { id: 'mtp.shared_head.norm', figure: 'mtp', kind: 'vector', layerIndices: layers, params: normParams(m), rowLength: 0 },
  ];
  // DeepSeek-V3 stores a copy of the embedding and the head with each MTP module.
  if (copies) groups.unshift({ id: 'mtp.embed_tokens', figure: 'mtp', kind: 'embedding', layerIndices: layers, params: m.vocab * h, rowLength: h });
  if (copies) groups.push({ id: 'mtp.shared_head.head', figure: 'mtp', kind: 'lmHead', layerIndices: layers, params: m.vocab * h, rowLength: h });
  return groups;
}

/** Parameters per params.* figure, once per model's groups (once.ts). */
const figureSums = once((groups: TensorGroup[]): Partial<Record<ParamFigure, number>> => {
  const sums: Partial<Record<ParamFigure, number>> = {};
  for (const g of groups) sums[g.figure] = (sums[g.figure] ?? 0) + groupParams(g);
  return sums;
});
const figureSum = (groups: TensorGroup[], figure: ParamFigure): number => figureSums(groups)[figure] ?? 0;

/**
 * Adds params.* figures and returns { total, active, embedding }. With --params the count is
 * taken as given (exact) and the breakdown is omitted, since it would rest on an assumed shape.
 */
export function paramsFigures(fig: Figures, m: ModelSpec): { total: number; active: number; embedding: number } {
  const prepared = preparedParams(m);
  addFigures(fig, prepared.figures);
  return prepared.counts;
}

/**
 * paramsFigures for a search's probe (index.ts probeServing): the model's prepared figures
 * themselves, not copies, in figures the probe reads (parallel.ts deviceWeightShare) and drops;
 * nothing in a probe changes a figure.
 */
export function sharedParamsFigures(fig: Figures, m: ModelSpec): { total: number; active: number; embedding: number } {
  const prepared = preparedParams(m);
  for (const f of prepared.figures) fig[f.id] = f;
  return prepared.counts;
}

/** The params.* figures of a model depend on nothing else: built once per model (once.ts), copied into each estimate. */
const preparedParams = once((m: ModelSpec) => {
  const fig: Figures = {};
  const counts = buildParamsFigures(fig, m);
  return { figures: Object.values(fig), counts };
});

function buildParamsFigures(fig: Figures, m: ModelSpec): { total: number; active: number; embedding: number } {
  const groups = tensorGroups(m);
  const embedding = term(fig, { id: 'params.embedding', label: 'Embedding parameters', unit: 'params', value: figureSum(groups, 'embedding'), formula: m.encoder ? 'vocab x hidden + learnedPositions x hidden + tokenTypes x hidden' : 'vocab x hidden + learnedPositions x hidden', inputs: { vocab: m.vocab, hidden: m.hidden, learnedPositions: m.learnedPositions, ...(m.encoder ? { tokenTypes: m.encoder.typeVocab } : {}) }, source: SOURCE, approximate: m.shapeAssumed });
  if (m.paramsOverride !== undefined) {
    const total = term(fig, { id: 'params.total', label: 'Parameters', unit: 'params', value: m.paramsOverride, formula: 'given (--params)', inputs: { params: m.paramsOverride }, source: 'user input' });
    term(fig, { id: 'params.active', label: 'Active parameters per token', unit: 'params', value: total, formula: 'params.total (dense)', inputs: { total }, source: 'user input' });
    return { total, active: total, embedding };
  }
  const perLayerAttention = figureSum(groups, 'attention') / m.layers;
  term(fig, { id: 'params.attention', label: 'Attention parameters', unit: 'params', value: figureSum(groups, 'attention'), formula: m.mla ? 'layers x (q_a + q_b + kv_a + kv_b + o projections + their norms)' : 'layers x (q, k, v, o projections + biases + q/k norms + sinks)', inputs: { layers: m.layers, perLayer: perLayerAttention, ...(m.mla ?? {}) }, source: SOURCE });
  term(fig, { id: 'params.mlp', label: m.moe ? 'MLP and expert parameters' : 'MLP parameters', unit: 'params', value: figureSum(groups, 'mlp'), formula: m.moe ? 'denseLayers x mlp(ffn) + moeLayers x (router + experts x mlp(expertFfn) + shared)' : `layers x ${m.gatedMlp ? 3 : 2} x hidden x ffn (+ biases)`, inputs: { layers: m.layers, hidden: m.hidden, ffn: m.ffn, ...(m.moe ?? {}) }, source: SOURCE });
  term(fig, { id: 'params.norms', label: 'Norm parameters', unit: 'params', value: figureSum(groups, 'norms'), formula: `(layers x normsPerLayer${m.encoder ? (m.encoder.firstLayerAttentionNormless ? ' - 1 (layer 0 has no attention norm)' : '') + (m.encoder.embeddingNorm ? ' + 1 embedding norm' : '') + (m.encoder.finalNorm ? ' + 1 final' : '') : ' + 1 final'}) x hidden${m.norm === 'layer' ? ' x 2 (weight and bias)' : ''}`, inputs: { layers: m.layers, normsPerLayer: m.normsPerLayer, hidden: m.hidden }, source: SOURCE });
  term(fig, { id: 'params.lmHead', label: 'Output head parameters', unit: 'params', value: figureSum(groups, 'lmHead'), formula: m.encoder ? '0 (an encoder has no output head over the vocabulary)' : (m.tiedEmbeddings ? '0 (tied to the embedding)' : 'vocab x hidden') + (m.lmHeadBias ? ' + vocab (bias)' : ''), inputs: { vocab: m.vocab, hidden: m.hidden, tied: m.tiedEmbeddings, ...(m.lmHeadBias ? { bias: true } : {}) }, source: SOURCE });
  const parts = ['params.embedding', 'params.attention', 'params.mlp', 'params.norms', 'params.lmHead'];
  if (m.encoder) {
    const e = m.encoder;
    term(fig, { id: 'params.head', label: 'Pooler and classification head parameters', unit: 'params', value: figureSum(groups, 'head'), formula: 'pooler (hidden x hidden + hidden) + classifier (dense hidden x hidden + b, out_proj hidden x labels + labels)', inputs: { hidden: m.hidden, pooler: e.pooler, labels: e.classifier.labels, classifierDense: e.classifier.dense }, source: 'transformers modeling_bert.py BertPooler, BertForSequenceClassification; modeling_roberta.py RobertaClassificationHead (add_pooling_layer=False)' });
    parts.push('params.head');
  }
  if (m.visionParams) {
    const note = m.visionNote ?? { formula: 'SigLIP encoder (patch and position embeddings, layers x (attention + MLP + 2 LayerNorms), post-LayerNorm) + projector (RMSNorm + linear)', source: 'transformers modeling_siglip.py SiglipVisionModel; modeling_gemma3.py Gemma3MultiModalProjector', approximate: false };
    term(fig, { id: 'params.vision', label: 'Vision tower and projector parameters', unit: 'params', value: figureSum(groups, 'vision'), formula: note.formula, inputs: { visionParams: m.visionParams }, source: note.source, approximate: note.approximate || undefined });
    parts.push('params.vision');
  }
  if (m.audioParams && m.audioNote) {
    term(fig, { id: 'params.audio', label: 'Audio tower and embedder parameters', unit: 'params', value: figureSum(groups, 'audio'), formula: m.audioNote.formula, inputs: { audioParams: m.audioParams }, source: m.audioNote.source, approximate: m.audioNote.approximate || undefined });
    parts.push('params.audio');
  }
  if (m.extraTensors?.length) {
    const sources = 'transformers modeling_gemma3n.py: Gemma3nTextAltUp, Gemma3nTextLaurelBlock, per_layer_input_gate / per_layer_projection / post_per_layer_input_norm, Gemma3nTextModel per_layer_model_projection, altup_projections, altup_unembed_projections';
    const extras = figureSum(groups, 'layerExtras');
    if (extras) {
      term(fig, { id: 'params.layerExtras', label: 'AltUp, LAuReL and per-layer-input parameters', unit: 'params', value: extras, formula: m.extraTensors.filter((x) => x.figure === 'layerExtras').map((x) => `${x.id} ${x.params}${x.perLayer ? ' x layers' : ''}`).join(' + '), inputs: { layers: m.layers }, source: sources });
      parts.push('params.layerExtras');
    }
    const ple = figureSum(groups, 'perLayerEmbedding');
    if (ple) {
      term(fig, { id: 'params.perLayerEmbedding', label: 'Per-layer embedding parameters (PLE)', unit: 'params', value: ple, formula: 'vocabSizePerLayerInput x layers x hiddenSizePerLayerInput (embed_tokens_per_layer: a row per token, never a full read)', inputs: { params: ple }, source: sources });
      parts.push('params.perLayerEmbedding');
    }
  }
  const total = sum(fig, { id: 'params.total', label: 'Parameters', unit: 'params', parts, source: SOURCE });
  if (m.mtpLayers) {
    const mtp = mtpGroups(m).reduce((a, g) => a + groupParams(g), 0);
    term(fig, { id: 'params.mtp', label: 'Multi-token-prediction module parameters (not in params.total)', unit: 'params', value: mtp, formula: m.mtpSharesEmbeddings ? 'mtpLayers x (enorm + hnorm + eh_proj (2h x h) + one decoder layer + final norm); embedding and head shared with the model' : 'mtpLayers x (embedding + enorm + hnorm + eh_proj (2h x h) + one decoder layer + head norm + head)', inputs: { mtpLayers: m.mtpLayers, hidden: m.hidden, vocab: m.vocab }, source: m.mtpSharesEmbeddings ? 'vLLM qwen3_next_mtp.py (mtp.fc, pre_fc_norm_embedding/hidden, one decoder layer, norm); Qwen3-Next checkpoint mtp.* tensors' : 'DeepSeek-V3 technical report sec. 2.2 (MTP modules); DeepSeek-V3 README: 671B main model + 14B MTP module weights' });
  }
  let active = total;
  if (m.moe || m.visionParams || m.audioParams) {
    const idle = moeLayers(m) * (m.moe ? m.moe.experts - m.moe.topK : 0) * expertParams(m) + (m.visionParams ?? 0) + (m.audioParams ?? 0);
    active = term(fig, { id: 'params.active', label: 'Active parameters per token', unit: 'params', value: total - idle, formula: `total - moeLayers x (experts - topK) x expertParams${m.visionParams ? ' - visionParams' : ''}${m.audioParams ? ' - audioParams' : ''}`, inputs: { total, moeLayers: moeLayers(m), experts: m.moe?.experts ?? 0, topK: m.moe?.topK ?? 0, expertParams: expertParams(m), visionParams: m.visionParams ?? 0, ...(m.audioParams ? { audioParams: m.audioParams } : {}) }, source: 'Shazeer et al. 2017; Mixtral paper (Jiang et al. 2024): each token uses top-k experts; a text token does not pass through the vision or audio tower' });
  } else {
    term(fig, { id: 'params.active', label: 'Active parameters per token', unit: 'params', value: total, formula: 'params.total (dense)', inputs: { total }, source: SOURCE });
  }
  // A per-layer embedding table is a lookup like the input embedding: no matrix product per token.
  return { total, active, embedding: embedding + figureSum(groups, 'perLayerEmbedding') };
}
