import { UserError } from '../errors.js';
import { makeModel, type ModelSpec } from './model.js';

/**
 * Hugging Face config.json -> ModelSpec. Field names and defaults follow transformers'
 * configuration_<family>.py; each family maps its own keys onto the one ModelSpec.
 */

export type HfConfig = Record<string, unknown>;

export interface HfImport {
  model: ModelSpec;
  warnings: string[];
}

/** Reads config fields, naming the file and field when one is missing or malformed. */
export class ConfigReader {
  readonly used = new Set<string>();
  constructor(
    readonly config: HfConfig,
    readonly file: string,
    /** prefix for field names in messages ("text_config.") */
    readonly prefix = '',
  ) {}

  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null;
  }

  /** A required positive integer; tries each key in order (families name fields differently). */
  int(...keys: string[]): number {
    for (const key of keys) if (this.has(key)) return this.intAt(key);
    throw new UserError(`${this.file}: missing required field "${this.prefix}${keys[0]}"${keys.length > 1 ? ` (or ${keys.slice(1).map((k) => this.prefix + k).join(', ')})` : ''}`);
  }

  /** An optional non-negative integer, or the fallback; tries each key in order. */
  optInt(keys: string | string[], fallback: number): number {
    for (const key of typeof keys === 'string' ? [keys] : keys) if (this.has(key)) return this.intAt(key, true);
    return fallback;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    this.used.add(key);
    const v = this.config[key];
    if (typeof v !== 'boolean') throw new UserError(`${this.file}: field "${this.prefix}${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string, fallback: string): string {
    if (!this.has(key)) return fallback;
    this.used.add(key);
    const v = this.config[key];
    if (typeof v !== 'string') throw new UserError(`${this.file}: field "${this.prefix}${key}" must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** An optional list of strings (layer_types). */
  strings(key: string): string[] | undefined {
    if (!this.has(key)) return undefined;
    this.used.add(key);
    const v = this.config[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new UserError(`${this.file}: field "${this.prefix}${key}" must be a list of strings, got ${JSON.stringify(v)}`);
    return v as string[];
  }

  /** An optional list of integers (mlp_only_layers). */
  ints(key: string): number[] {
    if (!this.has(key)) return [];
    this.used.add(key);
    const v = this.config[key];
    if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x))) throw new UserError(`${this.file}: field "${this.prefix}${key}" must be a list of integers, got ${JSON.stringify(v)}`);
    return v as number[];
  }

  /** An optional nested object (text_config, vision_config, quantization_config). */
  object(key: string): HfConfig | undefined {
    if (!this.has(key)) return undefined;
    this.used.add(key);
    const v = this.config[key];
    if (typeof v !== 'object' || Array.isArray(v)) throw new UserError(`${this.file}: field "${this.prefix}${key}" must be an object, got ${JSON.stringify(v)}`);
    return v as HfConfig;
  }

  private intAt(key: string, allowZero = false): number {
    this.used.add(key);
    const v = this.config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || (!allowZero && v === 0)) {
      throw new UserError(`${this.file}: field "${this.prefix}${key}" must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(v)}`);
    }
    return v;
  }
}

interface Names {
  id: string;
  name: string;
  family: string;
}

type FamilyReader = (r: ConfigReader, names: Names, warnings: string[]) => ModelSpec;

/** Llama-style decoder fields shared by most families (configuration_llama.py). */
function readDecoder(r: ConfigReader, names: Names, tiedDefault = false): ModelSpec {
  const hidden = r.int('hidden_size');
  const heads = r.int('num_attention_heads');
  return makeModel({
    ...names,
    layers: r.int('num_hidden_layers'),
    hidden,
    heads,
    kvHeads: r.optInt('num_key_value_heads', heads),
    headDim: r.optInt('head_dim', Math.floor(hidden / heads)),
    ffn: r.int('intermediate_size'),
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', tiedDefault),
    qkvBias: r.bool('attention_bias', false),
    outBias: r.bool('attention_bias', false),
    mlpBias: r.bool('mlp_bias', false),
    maxContext: r.optInt('max_position_embeddings', 4096),
    dtype: r.str('torch_dtype', r.str('dtype', 'bfloat16')),
  });
}

/** sliding_window on every layer when set (configuration_mistral.py: v0.1 4096, v0.3 null). */
const everyLayerWindow = (r: ConfigReader, m: ModelSpec): ModelSpec => (r.has('sliding_window') ? { ...m, slidingWindow: { window: r.int('sliding_window'), localLayers: m.layers } } : m);

/** Qwen2/Qwen3: use_sliding_window (default false) with full attention on the first max_window_layers layers. */
function qwenWindow(r: ConfigReader, m: ModelSpec): ModelSpec {
  if (!r.bool('use_sliding_window', false) || !r.has('sliding_window')) return m;
  const full = Math.min(m.layers, r.optInt('max_window_layers', m.layers));
  return full < m.layers ? { ...m, slidingWindow: { window: r.int('sliding_window'), localLayers: m.layers - full } } : m;
}

/** Local (sliding) layers from layer_types, the form newer configs spell out (gpt-oss, Gemma 3, Qwen3). */
function layerTypesWindow(r: ConfigReader, m: ModelSpec, fallbackLocal: (layers: number) => number): ModelSpec {
  const types = r.strings('layer_types');
  if (types && types.length !== m.layers) throw new UserError(`${r.file}: field "${r.prefix}layer_types" has ${types.length} entries but num_hidden_layers is ${m.layers}`);
  const local = types ? types.filter((t) => t === 'sliding_attention').length : fallbackLocal(m.layers);
  if (local === 0) return m;
  return { ...m, slidingWindow: { window: r.int('sliding_window'), localLayers: local } };
}

/**
 * Qwen2-MoE / Qwen3-MoE layer pattern (modeling_qwen3_moe.py Qwen3MoeDecoderLayer): layer i is
 * sparse unless listed in mlp_only_layers or (i + 1) % decoder_sparse_step != 0.
 */
function qwenDenseLayers(r: ConfigReader, layers: number): number {
  const step = r.optInt('decoder_sparse_step', 1);
  const only = new Set(r.ints('mlp_only_layers'));
  let dense = 0;
  for (let i = 0; i < layers; i++) if (only.has(i) || step === 0 || (i + 1) % step !== 0) dense++;
  return dense;
}

/**
 * SigLIP vision tower + Gemma 3 projector parameters (modeling_siglip.py SiglipVisionModel
 * without head; modeling_gemma3.py Gemma3MultiModalProjector: RMSNorm + vision x text matrix).
 * Defaults are Gemma 3's vision_config (configuration_gemma3.py: SiglipVisionConfig with
 * hidden 1152, intermediate 4304, 27 layers, patch 14, image 896).
 */
function siglipParams(v: ConfigReader, textHidden: number): number {
  const vh = v.optInt('hidden_size', 1152);
  const vi = v.optInt('intermediate_size', 4304);
  const layers = v.optInt('num_hidden_layers', 27);
  const patch = v.optInt('patch_size', 14);
  const image = v.optInt('image_size', 896);
  const channels = v.optInt('num_channels', 3);
  const patchEmbedding = channels * patch * patch * vh + vh;
  const positions = (image / patch) ** 2 * vh;
  const layer = 4 * (vh * vh + vh) + 2 * 2 * vh + (vh * vi + vi) + (vi * vh + vh);
  const postLayerNorm = 2 * vh;
  const projector = vh + vh * textHidden;
  return patchEmbedding + positions + layers * layer + postLayerNorm + projector;
}

/**
 * Gemma3TextConfig defaults (transformers configuration_gemma3.py), for text_config blocks that,
 * as published, write only the fields that differ from them.
 */
const GEMMA3_TEXT_DEFAULTS: HfConfig = {
  vocab_size: 262_208, hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: 26, num_attention_heads: 8, num_key_value_heads: 4,
  head_dim: 256, max_position_embeddings: 131_072, sliding_window: 4096, sliding_window_pattern: 6, tie_word_embeddings: true,
};

function gemma3(r: ConfigReader, names: Names, warnings: string[]): ModelSpec {
  const text = r.object('text_config');
  const vision = r.object('vision_config');
  const tr = text ? new ConfigReader({ ...GEMMA3_TEXT_DEFAULTS, torch_dtype: r.config.torch_dtype, ...text }, r.file, 'text_config.') : r;
  if (text) warnings.push(`${r.file}: text_config fields absent from the file take transformers Gemma3TextConfig defaults (${Object.keys(GEMMA3_TEXT_DEFAULTS).filter((k) => text[k] === undefined).join(', ')})`);
  let m: ModelSpec = { ...readDecoder(tr, names, true), gatedMlp: true, normsPerLayer: 4, qkNorm: true };
  // Gemma3DecoderLayer: layer i is sliding unless (i + 1) % sliding_window_pattern == 0.
  const pattern = tr.optInt('sliding_window_pattern', 6);
  m = layerTypesWindow(tr, m, (layers) => (pattern > 0 ? layers - Math.floor(layers / pattern) : 0));
  if (vision) m.visionParams = siglipParams(new ConfigReader(vision, r.file, 'vision_config.'), m.hidden);
  for (const k of tr.used) r.used.add(`${text ? 'text_config.' : ''}${k}`);
  return m;
}

/** DeepSeek-V2/V3 (configuration_deepseek_v3.py): MLA, shared + routed experts, dense leading layers, MTP. */
function deepseek(r: ConfigReader, names: Names): ModelSpec {
  const base = readDecoder(r, names);
  const qkNope = r.int('qk_nope_head_dim');
  const qkRope = r.int('qk_rope_head_dim');
  const layers = base.layers;
  const firstDense = Math.min(layers, r.optInt('first_k_dense_replace', 0));
  const freq = r.optInt('moe_layer_freq', 1);
  let dense = 0;
  // modeling_deepseek_v3.py: MoE when layer_idx >= first_k_dense_replace and layer_idx % moe_layer_freq == 0
  for (let i = 0; i < layers; i++) if (i < firstDense || freq === 0 || i % freq !== 0) dense++;
  const experts = r.optInt('n_routed_experts', 0);
  return {
    ...base,
    kvHeads: base.heads,
    headDim: qkNope + qkRope,
    mla: { qLoraRank: r.optInt('q_lora_rank', 0), kvLoraRank: r.int('kv_lora_rank'), qkNopeHeadDim: qkNope, qkRopeHeadDim: qkRope, vHeadDim: r.int('v_head_dim') },
    moe: experts > 0 ? { experts, topK: r.int('num_experts_per_tok'), expertFfn: r.int('moe_intermediate_size'), sharedExperts: r.optInt('n_shared_experts', 0), sharedFfn: r.int('moe_intermediate_size'), denseLayers: dense, bias: false } : undefined,
    moeExtras: { routerCorrectionBias: r.str('topk_method', 'greedy') === 'noaux_tc', sharedExpertGate: false },
    mtpLayers: r.optInt('num_nextn_predict_layers', 0),
  };
}

/** Falcon (configuration_falcon.py, modeling_falcon.py); legacy RefinedWeb keys accepted. */
function falcon(r: ConfigReader, names: Names): ModelSpec {
  const hidden = r.int('hidden_size', 'n_embd');
  const heads = r.int('num_attention_heads', 'n_head');
  const newArch = r.bool('new_decoder_architecture', r.str('model_type', '') === 'RefinedWeb');
  const multiQuery = r.bool('multi_query', true);
  const kvHeads = newArch ? r.optInt(['num_kv_heads', 'n_head_kv'], heads) : multiQuery ? 1 : heads;
  const parallel = r.bool('parallel_attn', true);
  const bias = r.bool('bias', false);
  // FalconDecoderLayer: new architecture has ln_attn and ln_mlp (num_ln_in_parallel_attn, default 2);
  // the old one with parallel attention a single input_layernorm.
  const norms = newArch ? r.optInt('num_ln_in_parallel_attn', 2) : parallel ? 1 : 2;
  return makeModel({
    ...names,
    layers: r.int('num_hidden_layers', 'n_layer'),
    hidden,
    heads,
    kvHeads,
    headDim: hidden / heads,
    ffn: r.optInt('ffn_hidden_size', 4 * hidden),
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', true),
    gatedMlp: false,
    norm: 'layer',
    normsPerLayer: norms,
    qkvBias: bias,
    outBias: bias,
    mlpBias: bias,
    fusedQkv: true,
    parallelAttention: parallel,
    maxContext: r.optInt('max_position_embeddings', 2048),
    dtype: r.str('torch_dtype', 'bfloat16'),
  });
}

/** GPT-2 (configuration_gpt2.py: n_embd, n_layer, n_head, n_inner, n_positions; Conv1D with biases). */
function gpt2(r: ConfigReader, names: Names): ModelSpec {
  const hidden = r.int('n_embd', 'hidden_size');
  const heads = r.int('n_head', 'num_attention_heads');
  const positions = r.optInt(['n_positions', 'max_position_embeddings'], 1024);
  return makeModel({
    ...names,
    layers: r.int('n_layer', 'num_hidden_layers'),
    hidden,
    heads,
    headDim: hidden / heads,
    ffn: r.optInt('n_inner', 4 * hidden),
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', true),
    gatedMlp: false,
    norm: 'layer',
    qkvBias: true,
    outBias: true,
    mlpBias: true,
    fusedQkv: true,
    learnedPositions: positions,
    maxContext: positions,
    dtype: r.str('torch_dtype', 'float32'),
  });
}

/** OPT (modeling_opt.py): learned positions with an offset of 2 rows, ReLU MLP, LayerNorm, biases. */
function opt(r: ConfigReader, names: Names, warnings: string[]): ModelSpec {
  const hidden = r.int('hidden_size');
  const heads = r.int('num_attention_heads');
  const maxPositions = r.optInt('max_position_embeddings', 2048);
  const bias = r.bool('enable_bias', true);
  if (r.optInt('word_embed_proj_dim', hidden) !== hidden) warnings.push(`${r.file}: word_embed_proj_dim differs from hidden_size (OPT-350m); the project_in/project_out matrices are not counted`);
  return makeModel({
    ...names,
    layers: r.int('num_hidden_layers'),
    hidden,
    heads,
    headDim: hidden / heads,
    ffn: r.int('ffn_dim'),
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', true),
    gatedMlp: false,
    norm: 'layer',
    qkvBias: bias,
    outBias: bias,
    mlpBias: bias,
    // OPTLearnedPositionalEmbedding: num_embeddings + offset 2
    learnedPositions: maxPositions + 2,
    maxContext: maxPositions,
    dtype: r.str('torch_dtype', 'float16'),
  });
}

/**
 * MPT (MosaicML llm-foundry configuration_mpt.py / modeling_mpt.py): d_model, n_heads, n_layers,
 * expansion_ratio, max_seq_len; fused Wqkv (attn_config.attn_type multihead, multiquery or
 * grouped_query with kv_n_heads); GELU MLP (ffn_config.ffn_type mptglu: gated); the output head
 * is the shared wte; no_bias drops every linear and LayerNorm bias (a weight-only LayerNorm
 * counts like RMSNorm); ALiBi means no position table (modeling_mpt.py: wpe only when not alibi).
 */
function mpt(r: ConfigReader, names: Names, warnings: string[]): ModelSpec {
  const hidden = r.int('d_model');
  const heads = r.int('n_heads');
  const attn = new ConfigReader(r.object('attn_config') ?? {}, r.file, 'attn_config.');
  const ffn = new ConfigReader(r.object('ffn_config') ?? {}, r.file, 'ffn_config.');
  const attnType = attn.str('attn_type', 'multihead_attention');
  const kvHeads = attnType === 'multiquery_attention' ? 1 : attnType === 'grouped_query_attention' ? attn.int('kv_n_heads') : heads;
  const alibi = attn.bool('alibi', false);
  if (attn.bool('qk_ln', false)) warnings.push(`${r.file}: attn_config.qk_ln LayerNorms on queries and keys are not counted`);
  const bias = !r.bool('no_bias', false);
  const maxSeqLen = r.optInt('max_seq_len', 2048);
  const expansion = r.optInt('expansion_ratio', 4);
  return makeModel({
    ...names,
    layers: r.int('n_layers'),
    hidden,
    heads,
    kvHeads,
    headDim: hidden / heads,
    ffn: ffn.optInt('ffn_hidden_size', expansion * hidden),
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', true),
    gatedMlp: ffn.str('ffn_type', 'mptmlp') === 'mptglu',
    norm: bias ? 'layer' : 'rms',
    qkvBias: bias,
    outBias: bias,
    mlpBias: bias,
    fusedQkv: true,
    learnedPositions: !alibi && r.bool('learned_pos_emb', true) ? maxSeqLen : 0,
    maxContext: maxSeqLen,
    dtype: r.str('torch_dtype', 'bfloat16'),
  });
}

/** Per-family readers: each maps its config keys onto ModelSpec. */
const FAMILIES: Record<string, FamilyReader> = {
  llama: (r, n) => readDecoder(r, n),
  mistral: (r, n) => everyLayerWindow(r, readDecoder(r, n)),
  // configuration_mixtral.py: intermediate_size is per expert; router nn.Linear(hidden, experts) without bias.
  mixtral: (r, n) => {
    const m = everyLayerWindow(r, readDecoder(r, n));
    return { ...m, moe: { experts: r.int('num_local_experts'), topK: r.int('num_experts_per_tok'), expertFfn: m.ffn, sharedExperts: 0, sharedFfn: 0, denseLayers: 0, bias: false } };
  },
  // configuration_qwen2.py: q/k/v projections carry biases, o_proj does not.
  qwen2: (r, n) => qwenWindow(r, { ...readDecoder(r, n), qkvBias: true, outBias: false }),
  // configuration_qwen2_moe.py: routed experts, one shared expert with a sigmoid gate.
  qwen2_moe: (r, n) => {
    const m = qwenWindow(r, { ...readDecoder(r, n), qkvBias: true, outBias: false });
    const sharedFfn = r.optInt('shared_expert_intermediate_size', 0);
    return { ...m, moe: { experts: r.int('num_experts'), topK: r.int('num_experts_per_tok'), expertFfn: r.int('moe_intermediate_size'), sharedExperts: sharedFfn > 0 ? 1 : 0, sharedFfn, denseLayers: qwenDenseLayers(r, m.layers), bias: false }, moeExtras: { routerCorrectionBias: false, sharedExpertGate: sharedFfn > 0 } };
  },
  // configuration_qwen3.py: per-head q_norm/k_norm, explicit head_dim, attention_bias false.
  qwen3: (r, n) => qwenWindow(r, { ...readDecoder(r, n), qkNorm: true }),
  qwen3_moe: (r, n) => {
    const m = qwenWindow(r, { ...readDecoder(r, n), qkNorm: true });
    return { ...m, moe: { experts: r.int('num_experts'), topK: r.int('num_experts_per_tok'), expertFfn: r.int('moe_intermediate_size'), sharedExperts: 0, sharedFfn: 0, denseLayers: qwenDenseLayers(r, m.layers), bias: false } };
  },
  deepseek_v2: (r, n) => deepseek(r, n),
  deepseek_v3: (r, n) => deepseek(r, n),
  // Gemma 1 (configuration_gemma.py): tied embeddings by default, explicit head_dim.
  gemma: (r, n) => readDecoder(r, n, true),
  // configuration_gemma2.py: pre and post norms around attention and MLP (4 per layer); tied;
  // Gemma2DecoderLayer: even layers (0, 2, ...) slide over sliding_window, odd layers are global.
  gemma2: (r, n) => layerTypesWindow(r, { ...readDecoder(r, n, true), normsPerLayer: 4 }, (layers) => Math.ceil(layers / 2)),
  gemma3: gemma3,
  gemma3_text: gemma3,
  // configuration_phi3.py (Phi-3, Phi-3.5-mini, Phi-4): fused qkv_proj and gate_up_proj, sliding_window on every layer.
  phi3: (r, n) => everyLayerWindow(r, { ...readDecoder(r, n), fusedQkv: true }),
  // configuration_gpt_oss.py / modeling_gpt_oss.py: q/k/v/o biases, per-head sinks, MoE with biases
  // on router and experts, sliding and full attention alternating (layer_types).
  gpt_oss: (r, n) => {
    const m = readDecoder(r, n);
    const experts = r.int('num_local_experts');
    const topK = r.int('num_experts_per_tok', 'experts_per_token');
    const spec: ModelSpec = { ...m, qkvBias: r.bool('attention_bias', true), outBias: r.bool('attention_bias', true), attentionSinks: true, moe: { experts, topK, expertFfn: m.ffn, sharedExperts: 0, sharedFfn: 0, denseLayers: 0, bias: true } };
    return layerTypesWindow(r, spec, (layers) => Math.ceil(layers / 2));
  },
  falcon: (r, n) => falcon(r, n),
  RefinedWeb: (r, n) => falcon(r, n),
  RefinedWebModel: (r, n) => falcon(r, n),
  gpt2: (r, n) => gpt2(r, n),
  opt: opt,
  mpt: mpt,
};

export const KNOWN_FAMILIES = Object.keys(FAMILIES);

/**
 * quantization_config -> a weight-format name (src/inputs/precision.ts formatByName) and the
 * modules it leaves unquantized. Methods as transformers names them (quantizers/auto.py).
 */
function readQuantization(r: ConfigReader, warnings: string[]): { format?: string; keep: string[] } {
  const q = r.object('quantization_config');
  if (!q) return { keep: [] };
  const qr = new ConfigReader(q, r.file, 'quantization_config.');
  const method = qr.str('quant_method', 'unknown').toLowerCase();
  const keep = [...(qr.strings('modules_to_not_convert') ?? []), ...(qr.strings('ignore') ?? []), ...(qr.strings('llm_int8_skip_modules') ?? [])];
  const bits = qr.optInt(['bits', 'w_bit'], 4);
  const group = q.group_size === -1 || q.q_group_size === -1 ? 0 : qr.optInt(['group_size', 'q_group_size'], 128);
  const grouped = (name: string) => `${name}-g${group}`;
  switch (method) {
    case 'fp8':
      return { format: qr.has('weight_block_size') ? 'fp8-block' : 'fp8', keep };
    case 'mxfp4':
      return { format: 'mxfp4', keep };
    case 'gptq':
      return { format: bits === 8 ? grouped('gptq-int8') : grouped('gptq-int4'), keep };
    case 'awq':
      return { format: grouped('awq-int4'), keep };
    case 'bitsandbytes':
      return { format: qr.bool('load_in_8bit', false) ? 'bnb-int8' : 'bnb-nf4', keep };
    case 'modelopt': {
      const algo = qr.str('quant_algo', '').toUpperCase();
      if (algo.includes('NVFP4')) return { format: 'nvfp4', keep };
      if (algo.includes('FP8')) return { format: 'fp8', keep };
      break;
    }
    case 'compressed-tensors': {
      if (qr.str('format', '').includes('nvfp4')) return { format: 'nvfp4', keep };
      const groups = qr.object('config_groups');
      const first = groups ? (Object.values(groups)[0] as HfConfig | undefined) : undefined;
      const weights = first && typeof first.weights === 'object' ? (first.weights as HfConfig) : undefined;
      if (weights) {
        const wb = weights.num_bits;
        if (weights.type === 'float' && wb === 8) return { format: weights.strategy === 'block' ? 'fp8-block' : 'fp8', keep };
        if (weights.type === 'int' && wb === 8 && first?.input_activations) return { format: 'int8', keep };
        if (weights.type === 'int' && (wb === 4 || wb === 8)) {
          const g = typeof weights.group_size === 'number' && weights.group_size > 0 ? weights.group_size : 128;
          return { format: `gptq-int${wb}-g${g}`, keep };
        }
      }
      break;
    }
  }
  warnings.push(`${r.file}: quantization_config quant_method "${method}" is not read; weights default to bf16 (pass --precision to choose)`);
  return { keep };
}

/**
 * Reads a config.json object. A family it does not know is read as a generic Llama-style
 * decoder with a warning that lists the fields it used.
 */
export function importHfConfig(config: HfConfig, file: string, id = 'hf-config', name?: string): HfImport {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new UserError(`${file}: expected a JSON object`);
  const r = new ConfigReader(config, file);
  const family = r.str('model_type', 'unknown');
  const names: Names = { id, name: name ?? (typeof config._name_or_path === 'string' && config._name_or_path ? config._name_or_path : id), family };
  const warnings: string[] = [];
  const reader = FAMILIES[family];
  const model = reader ? reader(r, names, warnings) : readDecoder(r, names);
  if (!reader) {
    warnings.push(`${file}: model_type "${family}" is not a known family (${KNOWN_FAMILIES.join(', ')}); read as a generic decoder from fields ${[...r.used].sort().join(', ')}`);
  }
  const quant = readQuantization(r, warnings);
  if (quant.format) model.quantization = quant.format;
  if (quant.keep.length) model.quantizationKeep = quant.keep;
  if (model.slidingWindow && model.slidingWindow.localLayers === 0) delete model.slidingWindow;
  return { model, warnings };
}
