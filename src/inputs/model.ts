/**
 * Token mixers a decoder layer can have: the kinds of attention and their recurrent
 * replacements. Attention kinds use the model's heads / kvHeads / headDim; MLA kinds use
 * `ModelSpec.mla`; recurrent kinds carry their own shape. Each kind's parameters, KV bytes per
 * token, state bytes per sequence and FLOPs live in one place (src/estimate/layers.ts).
 */
export const MIXER_KINDS = ['full', 'sliding', 'chunked', 'mla', 'sparse-mla', 'gated-deltanet', 'lightning', 'mamba', 'mamba2', 'none'] as const;
export type MixerKind = (typeof MIXER_KINDS)[number];

export type Mixer =
  /**
   * attention over the whole context (NoPE layers included: positions do not change sizes);
   * `sharedKv`: the layer attends to the KV of an earlier layer of its kind and keeps none of its
   * own (Gemma 3n num_kv_shared_layers)
   */
  | { kind: 'full'; sharedKv?: true }
  /** attention over the last `window` tokens (Mistral, Gemma 2/3, gpt-oss) */
  | { kind: 'sliding'; window: number; sharedKv?: true }
  /** attention within fixed chunks of `chunk` tokens (Llama 4 attention_chunk_size) */
  | { kind: 'chunked'; chunk: number }
  /** multi-head latent attention (DeepSeek-V2/V3, Kimi K2) */
  | { kind: 'mla' }
  /** MLA whose queries attend to the top `topK` keys a lightning indexer picks (DeepSeek-V3.2 DSA) */
  | { kind: 'sparse-mla'; indexHeads: number; indexHeadDim: number; topK: number }
  /** gated delta rule linear attention (Qwen3-Next Gated DeltaNet): a short conv and a dk x dv state per value head */
  | { kind: 'gated-deltanet'; keyHeads: number; valueHeads: number; keyHeadDim: number; valueHeadDim: number; convKernel: number }
  /** lightning (linear) attention with a d x d state per head and an output gate (MiniMax-Text-01) */
  | { kind: 'lightning'; heads: number; headDim: number }
  /** Mamba selective SSM (Jamba): inner = expand x hidden, a state of `stateSize` per channel */
  | { kind: 'mamba'; inner: number; stateSize: number; convKernel: number; dtRank: number; projBias: boolean; convBias: boolean; dtNorms: boolean }
  /** Mamba-2 SSD (Nemotron-H, Granite 4.0-H, Falcon-H1, Mamba-2): heads x headDim x stateSize state */
  | { kind: 'mamba2'; heads: number; headDim: number; stateSize: number; groups: number; convKernel: number; projBias: boolean; convBias: boolean; gatedNorm: boolean }
  /** no token mixer (Nemotron-H MLP-only blocks) */
  | { kind: 'none' };

export const MLP_KINDS = ['dense', 'moe', 'none'] as const;
export type MlpKind = (typeof MLP_KINDS)[number];
/** A layer's channel mixer: a dense MLP of width `ffn`, the model's mixture of experts, or none (Mamba-only blocks). */
export type Mlp = { kind: 'dense'; ffn: number } | { kind: 'moe' } | { kind: 'none' };

/**
 * Layers that share one mixer and one MLP kind, by index (0-based). A layer with two mixers in
 * parallel (Falcon-H1: attention and Mamba-2 side by side on the same normed input) is listed
 * twice, once per mixer, the second entry with `norms: 0` and no MLP.
 */
export interface LayerKind {
  mixer: Mixer;
  mlp: Mlp;
  layers: number[];
  /** norms per layer of this entry when not the default (normsPerLayer for mixer + MLP, half for one of them) */
  norms?: number;
}

/**
 * How a vision model turns an image into prompt tokens and how big its encoder is, per
 * processor family (src/estimate/images.ts has the rules):
 *  - llama4: tiles of `tile` pixels on the best-fitting canvas of at most `maxTiles` tiles, a
 *    global thumbnail tile when more than one, `tokensPerTile` tokens per tile after pixel shuffle;
 *  - qwen2-vl: the image resized to multiples of patch x merge pixels within min/max pixels,
 *    one token per merge x merge patches;
 *  - fixed: a fixed number of tokens per image (Gemma 3: 896-pixel SigLIP, 256 tokens).
 */
export type VisionSpec = {
  /** encoder layers, width and MLP width (for its FLOPs and activations) */
  layers: number;
  hidden: number;
  ffn: number;
  patch: number;
} & (
  | { kind: 'llama4'; tile: number; maxTiles: number; tokensPerTile: number }
  | { kind: 'qwen2-vl'; merge: number; temporalPatch: number; minPixels: number; maxPixels: number; fullAttentionLayers: number; window: number }
  | { kind: 'fixed'; image: number; tokens: number }
);

/**
 * Context extension from config.json rope_scaling (rope_type / type): the window the model was
 * trained at and the factor that stretches it (YaRN, linear, dynamic NTK, llama3).
 */
export interface RopeScaling {
  type: string;
  factor: number;
  /** the native window before scaling (original_max_position_embeddings), tokens */
  originalContext: number;
  /** the window the scaling reaches (the model's maxContext), tokens */
  scaledContext: number;
}

/**
 * The resolved model architecture every estimator works from. Loaders (presets, --hf-config,
 * architecture flags, --params) all produce this one shape; estimators never see a config.json.
 * Sizes are plain counts (elements, layers, heads).
 */
export interface ModelSpec {
  id: string;
  name: string;
  /** config.json model_type, or 'custom' / 'params-only' */
  family: string;
  layers: number;
  hidden: number;
  vocab: number;
  /** query heads */
  heads: number;
  /** key/value heads (GQA: fewer than heads; MQA: 1) */
  kvHeads: number;
  headDim: number;
  /** MLP intermediate size of dense layers */
  ffn: number;
  tiedEmbeddings: boolean;
  /** SwiGLU/GeGLU MLP with gate, up and down matrices (false: up and down only) */
  gatedMlp: boolean;
  /** LayerNorm carries a bias vector; RMSNorm does not */
  norm: 'rms' | 'layer';
  /** norms per decoder layer (2 for Llama; 4 for Gemma 2/3 with pre and post norms) */
  normsPerLayer: number;
  /** per-head RMSNorm on queries and keys (Qwen3, Gemma 3) */
  qkNorm: boolean;
  qkvBias: boolean;
  outBias: boolean;
  mlpBias: boolean;
  /** learned absolute position embeddings (GPT-2, OPT); 0 with rotary positions */
  learnedPositions: number;
  /** longest context the model supports (max_position_embeddings) */
  maxContext: number;
  /**
   * The layers as kinds, for models whose layers differ (hybrid, linear attention, SSM, MoE
   * interleave, chunked attention). Absent for uniform models: the kinds then follow from
   * `slidingWindow`, `mla` and `moe.denseLayers` (src/estimate/layers.ts layerGroups), which
   * stay the compact input of the many uniform presets and the architecture flags.
   */
  layerKinds?: LayerKind[];
  /**
   * Sliding-window attention: `window` tokens on `localLayers` of the layers (all layers for
   * Mistral-7B-v0.1; alternating for Gemma 2 and gpt-oss). Ignored when `layerKinds` is set.
   */
  slidingWindow?: { window: number; localLayers: number };
  /** Multi-head latent attention (DeepSeek-V2/V3) */
  mla?: { qLoraRank: number; kvLoraRank: number; qkNopeHeadDim: number; qkRopeHeadDim: number; vHeadDim: number };
  /** Mixture of experts */
  moe?: {
    experts: number;
    topK: number;
    expertFfn: number;
    sharedExperts: number;
    sharedFfn: number;
    /** leading layers with a dense MLP (first_k_dense_replace); with `layerKinds`, the layers whose MLP is not MoE */
    denseLayers: number;
    /** router and experts carry biases (gpt-oss) */
    bias: boolean;
  };
  /** attention output gated by a sigmoid of a second query-sized projection (Qwen3-Next: q_proj is 2 x heads x headDim wide) */
  attentionOutputGate?: boolean;
  /** per-layer q/k RMSNorm over all heads (MiniMax-M2 qk_norm_type per_layer) instead of per head */
  qkNormPerLayer?: boolean;
  /**
   * The format an engine should keep the SSM state in when it follows the model (vLLM
   * NemotronHForCausalLMConfig: float32, or the config's mamba_ssm_cache_dtype); absent = the
   * activation type.
   */
  recurrentStateFormat?: 'fp32';
  /** the output head carries a bias vector of vocab entries (Phi-1/1.5/2: lm_head = nn.Linear(hidden, vocab), bias on) */
  lmHeadBias?: boolean;
  /** attention and MLP read the same normed input and their outputs are summed (Falcon, GPT-J, Phi-2) */
  parallelAttention?: boolean;
  /** q, k and v are one fused projection in the checkpoint (Falcon, Phi-3, GPT-2): llama.cpp names it attn_qkv */
  fusedQkv?: boolean;
  /** one learned attention-sink logit per query head per layer (gpt-oss: self_attn.sinks) */
  attentionSinks?: boolean;
  /** DeepSeek-V3 multi-token-prediction modules (num_nextn_predict_layers), counted on their own (params.mtp) */
  mtpLayers?: number;
  /** the MTP modules use the model's embedding and head (Qwen3-Next, GLM-4.5) instead of keeping copies (DeepSeek-V3) */
  mtpSharesEmbeddings?: boolean;
  /** image-to-token rules and encoder shape of a vision model (with visionParams) */
  vision?: VisionSpec;
  /** rope_scaling of the config: maxContext is then the scaled window */
  ropeScaling?: RopeScaling;
  /** parameters of a vision tower and projector (Gemma 3 multimodal): in the checkpoint, not used per text token */
  visionParams?: number;
  /** how visionParams was counted, when not the SigLIP + projector rule (Gemma 3n's MobileNet-V5: a published count) */
  visionNote?: TowerNote;
  /** parameters of an audio tower and its embedder (Gemma 3n): in the checkpoint, not used per text token */
  audioParams?: number;
  audioNote?: TowerNote;
  /**
   * Tensors outside the attention / MLP / norm layout that a family adds (Gemma 3n: AltUp,
   * LAuReL, per-layer inputs and their embedding table), each counted exactly.
   */
  extraTensors?: ExtraTensor[];
  /** MoE router extras: DeepSeek-V3 e_score_correction_bias (noaux_tc), Qwen2-MoE shared_expert_gate */
  moeExtras?: { routerCorrectionBias: boolean; sharedExpertGate: boolean };
  /** modules the checkpoint's quantization_config leaves unquantized (modules_to_not_convert / ignore) */
  quantizationKeep?: string[];
  /**
   * Encoder-only transformer (BERT and its descendants): every token attends to every other
   * (bidirectional), one forward pass per input, no KV cache and no decoding. The layers are
   * counted by the same groups as a decoder's; these are the tensors only encoders have.
   */
  encoder?: EncoderParts;
  /**
   * What the model is served for, when not generation: an embedding model maps a text to a
   * vector, a reranker scores a (query, passage) pair; both run one forward pass per input
   * (prefill only: no KV cache kept, no decode). Encoders always have one; a decoder trunk
   * used as an embedder (Qwen3-Embedding) gets it from its preset.
   */
  task?: ModelTask;
  /** the MLP's only bias is on the down projection (gte "new": up_gate_proj bias=False, down_proj bias=True) */
  mlpDownBiasOnly?: boolean;
  /** exact parameter count given by --params; the shape is then an assumption */
  paramsOverride?: number;
  /** the shape was assumed, not given: KV and attention figures are approximate */
  shapeAssumed?: boolean;
  /** the checkpoint's stored dtype (torch_dtype), informational */
  dtype?: string;
  /** the checkpoint's weight format read from quantization_config (a precision.ts format id), if any */
  quantization?: string;
}

/** How a tower's parameters were counted (the params.vision / params.audio formula and source). */
export interface TowerNote {
  formula: string;
  source: string;
  /** the count is not derived from the config (a published figure) */
  approximate: boolean;
}

/**
 * A tensor a family adds beside the common layout, on every decoder layer (`perLayer`) or once.
 * `perLayerEmbedding`: a table indexed by token id (a row gather per token, never a full read),
 * which runtimes may keep off the accelerator (Gemma 3n PLE caching).
 */
export interface ExtraTensor {
  id: string;
  figure: 'layerExtras' | 'perLayerEmbedding';
  kind: 'linear' | 'vector' | 'embedding';
  perLayer: boolean;
  /** parameters (per layer when perLayer) */
  params: number;
  /** input features of one matrix row; 0 for vectors */
  rowLength: number;
}

export const MODEL_TASKS = ['embedding', 'rerank'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

/**
 * The tensors of an encoder that a decoder does not have (transformers modeling_bert.py
 * BertEmbeddings, BertPooler; modeling_roberta.py RobertaClassificationHead; modeling_modernbert.py).
 */
export interface EncoderParts {
  /** rows of token_type_embeddings (BERT 2, XLM-RoBERTa 1, ModernBERT and gte-en 0) */
  typeVocab: number;
  /** a norm on the summed embeddings (BertEmbeddings.LayerNorm, ModernBERT embeddings.norm) */
  embeddingNorm: boolean;
  /** a norm after the last layer (ModernBERT final_norm); post-norm BERT has none */
  finalNorm: boolean;
  /** the first layer has no attention norm (ModernBERT: layer 0 attn_norm is nn.Identity) */
  firstLayerAttentionNormless: boolean;
  /** BertPooler: dense hidden x hidden + bias on the first token (the *Model checkpoints carry it) */
  pooler: boolean;
  /**
   * classification head of a *ForSequenceClassification checkpoint (rerankers): `dense` adds
   * RoBERTa's hidden x hidden dense before out_proj (RobertaClassificationHead) or ModernBERT's
   * head dense + norm; `labels` outputs (num_labels: len(id2label), default 2). 0 labels = none.
   */
  classifier: { labels: number; dense: 'none' | 'dense' | 'dense-norm' };
}

/** Models served with one forward pass per input (embedding, reranking): no KV cache, no decode. */
export const isForwardOnly = (m: ModelSpec): boolean => m.task !== undefined;

/** Defaults for fields an architecture may omit. */
export function makeModel(fields: Partial<ModelSpec> & Pick<ModelSpec, 'layers' | 'hidden' | 'heads' | 'ffn' | 'vocab'>): ModelSpec {
  return {
    id: 'custom',
    name: 'custom architecture',
    family: 'custom',
    kvHeads: fields.heads,
    headDim: fields.hidden / fields.heads,
    tiedEmbeddings: false,
    gatedMlp: true,
    norm: 'rms',
    normsPerLayer: 2,
    qkNorm: false,
    qkvBias: false,
    outBias: false,
    mlpBias: false,
    learnedPositions: 0,
    maxContext: 131_072,
    ...fields,
  };
}

/**
 * A typical Llama-style shape for a bare parameter count: hidden from the Llama family's
 * size ladder (below), GQA with 8 KV heads of 128, FFN 3.5x hidden, 128k vocabulary, and the layer
 * count chosen so the shape's parameters come close to the count. The count itself stays
 * exact (paramsOverride); only KV and attention figures rest on this shape.
 * Reference shapes: Llama 3.1 8B (4096 x 32), 70B (8192 x 80), 405B (16384 x 126).
 */
/** The deepest shape assumed for a bare parameter count; wider beyond it (assumeShape). */
const MAX_ASSUMED_LAYERS = 256;

export function assumeShape(params: number): ModelSpec {
  // [upper bound on params, hidden]: Llama 3.2 1B/3B, Llama 3.1 8B, Llama 2 13B, Llama 3.1 70B, GPT-3 175B, Llama 3.1 405B
  const ladder: [number, number][] = [[2e9, 2048], [5e9, 3072], [11e9, 4096], [25e9, 5120], [110e9, 8192], [250e9, 12288], [Infinity, 16384]];
  const shape = (hidden: number) => {
    const heads = hidden / 128;
    const kvHeads = Math.min(8, heads);
    const ffn = Math.round((hidden * 3.5) / 256) * 256;
    const perLayer = 2 * hidden * hidden + 2 * hidden * kvHeads * 128 + 3 * hidden * ffn;
    return { hidden, heads, kvHeads, ffn, layers: Math.max(1, Math.round((params - 2 * vocab * hidden) / perLayer)) };
  };
  const vocab = 128_256;
  let s = shape(ladder.find(([upTo]) => params < upTo)![1]);
  // Past the ladder (about 870B at 16384 x 256 layers) the shape widens instead of deepening, as
  // the largest published dense models do (PaLM 540B: 18432 x 118; MT-NLG 530B: 20480 x 105), so
  // that no count in the params domain asks for more layers than any model has (layers domain).
  if (s.layers > MAX_ASSUMED_LAYERS) s = shape(Math.ceil((16384 * Math.sqrt(s.layers / MAX_ASSUMED_LAYERS)) / 1024) * 1024);
  const { hidden, heads, kvHeads, ffn, layers } = s;
  return makeModel({
    id: 'params-only',
    name: `${(params / 1e9).toPrecision(3)}B-parameter model (assumed Llama-like shape)`,
    family: 'params-only',
    layers,
    hidden,
    heads,
    kvHeads,
    headDim: 128,
    ffn,
    vocab,
    paramsOverride: params,
    shapeAssumed: true,
  });
}

/** "36 Gated DeltaNet + 12 full attention": the mixer kinds of a model that lists them, by count. */
function describeKinds(kinds: LayerKind[]): string {
  const names: Record<Mixer['kind'], (x: Mixer) => string> = {
    full: () => 'full attention', sliding: (x) => `sliding attention (${(x as { window: number }).window})`, chunked: (x) => `chunked attention (${(x as { chunk: number }).chunk})`,
    mla: () => 'MLA', 'sparse-mla': (x) => `sparse MLA (top-${(x as { topK: number }).topK})`, 'gated-deltanet': () => 'Gated DeltaNet', lightning: () => 'lightning attention',
    mamba: () => 'Mamba', mamba2: () => 'Mamba-2', none: () => 'MLP-only',
  };
  const counts = new Map<string, number>();
  for (const k of kinds) {
    const name = names[k.mixer.kind](k.mixer) + ('sharedKv' in k.mixer && k.mixer.sharedKv ? ' on shared KV' : '');
    counts.set(name, (counts.get(name) ?? 0) + k.layers.length);
  }
  return [...counts].map(([name, n]) => `${n} ${name}`).join(' + ');
}

export const describeShape = (m: ModelSpec): string => {
  const attention = m.mla ? `MLA (kv_lora_rank ${m.mla.kvLoraRank} + rope ${m.mla.qkRopeHeadDim})` : `${m.kvHeads} KV heads of ${m.headDim}`;
  const hasAttention = !m.layerKinds || m.layerKinds.some((k) => ['full', 'sliding', 'chunked', 'mla', 'sparse-mla'].includes(k.mixer.kind));
  return (m.encoder ? 'encoder, ' : '') + `${m.layers} layer${m.layers === 1 ? '' : 's'}${m.layerKinds ? ` (${describeKinds(m.layerKinds)})` : ''}, hidden ${m.hidden}${hasAttention ? `, ${m.heads} heads, ${attention}` : ''}, FFN ${m.ffn}, vocab ${m.vocab}` +
    (m.moe ? `, MoE ${m.moe.experts} experts of ${m.moe.expertFfn} top-${m.moe.topK}${m.moe.sharedExperts ? ` + ${m.moe.sharedExperts} shared` : ''}${m.moe.denseLayers ? `, ${m.moe.denseLayers} dense layers` : ''}` : '') +
    (m.slidingWindow && !m.layerKinds ? `, ${m.slidingWindow.localLayers} of ${m.layers} layers slide over ${m.slidingWindow.window} tokens` : '');
};

/** How an output's `input.model` block describes the model (estimate, train, plan). */
export interface ModelSummary {
  id: string;
  name: string;
  family: string;
  shape: string;
  shapeAssumed: boolean;
  /** embedding or rerank for forward-only models; absent for generators */
  task?: ModelTask;
}

export const summarizeModel = (m: ModelSpec): ModelSummary => ({ id: m.id, name: m.name, family: m.family, shape: describeShape(m), shapeAssumed: m.shapeAssumed === true, ...(m.task ? { task: m.task } : {}) });
