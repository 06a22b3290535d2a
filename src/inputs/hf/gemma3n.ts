import { UserError } from '../../errors.js';
import { DOMAINS } from '../domains.js';
import { makeModel, type ExtraTensor, type Mixer, type ModelSpec } from '../model.js';
import { kindsOf, perLayerList } from './decoder.js';
import type { ConfigReader, HfConfig, Names } from './reader.js';

/**
 * Gemma 3n (transformers configuration_gemma3n.py, modeling_gemma3n.py), read as transformers
 * builds Gemma3nForConditionalGeneration:
 *
 * - text: Gemma 3 style layers (q/k RMSNorms per head, v_norm without weight, 4 norms, GeGLU MLP
 *   of intermediate_size[i]) on sliding (sliding_window) and full layers (layer_types; default
 *   every 5th full), and on every layer AltUp (correct_output_scale h, correction_coefs n x n,
 *   prediction_coefs n x n^2, modality_router h x n, router_norm h), LAuReL (h x r, r x h,
 *   post_laurel_norm h) and the per-layer input (per_layer_input_gate h x p, per_layer_projection
 *   p x h, post_per_layer_input_norm h); once: embed_tokens, embed_tokens_per_layer
 *   (vocab_size_per_layer_input x layers x p), per_layer_model_projection (h x layers x p),
 *   per_layer_projection_norm p, altup_projections and altup_unembed_projections ((n - 1) x h x h
 *   each), the final norm; lm_head tied. The last num_kv_shared_layers layers keep their k/v
 *   projections but no KV cache: they attend to the cache of the last earlier layer of their type;
 * - audio (Gemma3nAudioEncoder, the USM conformer): sub-sample convs (bias-free, a cumulative
 *   group norm each) and input_proj, then per block two feed-forwards (2 norms + h x 4h + 4h x h
 *   each), attention (2 norms, per_dim_scale, relative position pos_proj h x h, q/k/v/post h x h),
 *   a light conv (2 norms, h x 2h, depthwise h x kernel, h x h) and a norm: 24 h^2 + 14 h + h/heads;
 * - embedders (Gemma3nMultimodalEmbedder): vocab_size x mm_hidden + 2 norms + mm_hidden x h;
 * - vision: the timm MobileNet-V5 encoder named by vision_config.architecture, whose size the
 *   config does not give; mobilenetv5_300m_enc is counted as 294,284,096 (MOBILENETV5_300M_ENC).
 *
 * @example gemma-3n-E2B: text 4,456,156,768 + audio 681,348,640 + embedders 7,805,952 +
 *   MobileNet-V5 294,284,096 = 5,439,595,456 (the published count)
 */

/**
 * Parameters of timm's mobilenetv5_300m_enc (the Gemma 3n image encoder with its multi-scale
 * fusion adapter): not derivable from config.json. The figure a public Keras Hub training script
 * asserts for the mobilenetv5_300m_enc_gemma3n preset (EXPECTED_V5_PARAMETERS); with it the
 * config-derived rest gives Keras Hub's published Gemma 3n totals to the parameter.
 */
export const MOBILENETV5_300M_ENC = 294_284_096;

/** Gemma3nTextConfig defaults (configuration_gemma3n.py: the E4B shape) for keys a text_config leaves out. */
const TEXT_DEFAULTS: HfConfig = {
  vocab_size: 262_400, vocab_size_per_layer_input: 262_144, hidden_size: 2048, hidden_size_per_layer_input: 256, intermediate_size: 16_384,
  num_hidden_layers: 35, num_attention_heads: 8, num_key_value_heads: 2, head_dim: 256, max_position_embeddings: 32_768, sliding_window: 512,
  altup_num_inputs: 4, laurel_rank: 64, num_kv_shared_layers: 15, tie_word_embeddings: true,
};
/** Gemma3nAudioConfig defaults. */
const AUDIO_DEFAULTS: HfConfig = {
  vocab_size: 128, input_feat_size: 128, hidden_size: 1536, conf_num_attention_heads: 8, conf_num_hidden_layers: 12, conf_conv_kernel_size: 5,
  sscp_conv_channel_size: [128, 32], sscp_conv_kernel_size: [[3, 3], [3, 3]], sscp_conv_stride_size: [[2, 2], [2, 2]],
};
/** Gemma3nVisionConfig defaults. */
const VISION_DEFAULTS: HfConfig = { architecture: 'mobilenetv5_300m_enc', hidden_size: 2048, vocab_size: 128 };

/** Keys that change no size or kind: attention and AltUp numerics, token ids, sparsity of the GeGLU activations. */
const NUMERICS = ['altup_active_idx', 'altup_coef_clip', 'altup_correct_scale', 'altup_lr_multiplier', 'activation_sparsity_pattern', 'final_logit_softcapping', 'query_pre_attn_scalar', 'rope_local_base_freq', 'rope_theta', 'rope_parameters', 'attention_bias', 'hidden_activation', 'hidden_act'];
const AUDIO_NUMERICS = ['vocab_offset', 'conf_attention_chunk_size', 'conf_attention_context_left', 'conf_attention_context_right', 'conf_attention_invalid_logits_value', 'conf_attention_logit_cap', 'conf_reduction_factor', 'conf_residual_weight', 'sscp_conv_eps', 'sscp_conv_group_norm_eps', 'gradient_clipping'];
const VISION_NUMERICS = ['vocab_offset', 'do_pooling', 'model_args', 'label_names', 'num_classes', 'initializer_range'];

/** A list of [h, w] pairs of positive integers (sscp_conv_kernel_size, sscp_conv_stride_size). */
function pairs(r: ConfigReader, key: string): [number, number][] {
  const v = r.config[key];
  r.ignore(key);
  if (!Array.isArray(v) || v.length !== 2 || v.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < 1 || x > 64))) throw new UserError(`${r.file}: field "${r.prefix}${key}" must be two [height, width] pairs of whole numbers from 1 to 64, got ${JSON.stringify(v)}`);
  return v as [number, number][];
}

/** Gemma3nAudioEncoder + its Gemma3nMultimodalEmbedder, from audio_config (see the header). */
function audioParams(a: ConfigReader, textHidden: number): number {
  const h = a.int('hidden_size');
  const heads = a.int('conf_num_attention_heads');
  if (h % heads) throw new UserError(`${a.file}: field "${a.prefix}hidden_size" ${h} is not a multiple of conf_num_attention_heads ${heads}`);
  const blocks = a.int('conf_num_hidden_layers');
  const kernel = a.int('conf_conv_kernel_size');
  const channels = a.ints('sscp_conv_channel_size');
  if (channels.length !== 2 || channels.some((c) => c < 1 || c > 65_536)) throw new UserError(`${a.file}: field "${a.prefix}sscp_conv_channel_size" must be two channel counts, got ${JSON.stringify(channels)}`);
  const kernels = pairs(a, 'sscp_conv_kernel_size');
  const strides = pairs(a, 'sscp_conv_stride_size');
  // Gemma3nAudioSubSampleConvProjection: frequency padded (1, 1), f_out = (f + 2 - kw) // sw + 1
  let freq = a.int('input_feat_size');
  let inChannels = 1;
  let sscp = 0;
  for (let i = 0; i < 2; i++) {
    sscp += inChannels * channels[i] * kernels[i][0] * kernels[i][1] + channels[i];
    freq = Math.floor((freq + 2 - kernels[i][1]) / strides[i][1]) + 1;
    inChannels = channels[i];
  }
  if (freq < 1) throw new UserError(`${a.file}: field "${a.prefix}input_feat_size" leaves no frequency bins after the sub-sample convolutions`);
  sscp += channels[1] * freq * h;
  const block = 24 * h * h + 9 * h + kernel * h + h / heads;
  const embedder = a.int('vocab_size') * h + 2 * h + h * textHidden;
  return sscp + blocks * block + embedder;
}

export function gemma3n(r: ConfigReader, names: Names): ModelSpec {
  const t = r.has('text_config') ? r.child('text_config', TEXT_DEFAULTS) : r;
  const h = t.int('hidden_size');
  const heads = t.int('num_attention_heads');
  const kvHeads = t.int('num_key_value_heads');
  const headDim = t.int('head_dim');
  const layers = t.int('num_hidden_layers');
  // intermediate_size: one width for all layers, or one per layer (Gemma3nTextConfig)
  const ffns = Array.isArray(t.config.intermediate_size) ? t.ints('intermediate_size') : Array<number>(layers).fill(t.int('intermediate_size'));
  if (ffns.length !== layers) throw new UserError(`${r.file}: field "${t.prefix}intermediate_size" has ${ffns.length} entries but num_hidden_layers is ${layers}`);
  const badFfn = ffns.findIndex((f) => f < 1 || f > DOMAINS.ffn.max);
  if (badFfn >= 0) throw new UserError(`${r.file}: field "${t.prefix}intermediate_size" entry ${badFfn} is ${ffns[badFfn]}; expected a width from 1 to ${DOMAINS.ffn.max}`);
  const types = perLayerList(t, 'layer_types', layers, ['sliding_attention', 'full_attention']) ?? Array.from({ length: layers }, (_, i) => ((i + 1) % 5 === 0 ? 'full_attention' : 'sliding_attention'));
  const window = t.int('sliding_window');
  const shared = t.optInt('num_kv_shared_layers', 0);
  if (shared >= layers) throw new UserError(`${r.file}: field "${t.prefix}num_kv_shared_layers" ${shared} leaves no layer with a KV cache of its own (num_hidden_layers ${layers})`);
  const firstShared = layers - shared;
  // a shared layer reads the cache of the last earlier layer of its type: that type must have one
  for (const type of new Set(types.slice(firstShared))) if (!types.slice(0, firstShared).includes(type)) throw new UserError(`${r.file}: field "${t.prefix}layer_types" has ${type} layers among the last ${shared} (num_kv_shared_layers) but none before them to share KV with`);
  const layerKinds = kindsOf(layers, (i) => {
    const sharedKv = i >= firstShared ? { sharedKv: true as const } : {};
    const mixer: Mixer = types[i] === 'full_attention' ? { kind: 'full', ...sharedKv } : { kind: 'sliding', window, ...sharedKv };
    return { mixer, mlp: { kind: 'dense', ffn: ffns[i] } };
  });
  const n = t.int('altup_num_inputs');
  const rank = t.int('laurel_rank');
  const p = t.int('hidden_size_per_layer_input');
  const plVocab = t.int('vocab_size_per_layer_input');
  const tensor = (id: string, figure: ExtraTensor['figure'], kind: ExtraTensor['kind'], perLayer: boolean, params: number, rowLength = 0): ExtraTensor => ({ id, figure, kind, perLayer, params, rowLength });
  const extraTensors: ExtraTensor[] = [
    tensor('layers.altup', 'layerExtras', 'vector', true, 2 * h + n * n + n * n * n),
    tensor('layers.altup.modality_router', 'layerExtras', 'linear', true, h * n, h),
    tensor('layers.laurel', 'layerExtras', 'linear', true, 2 * h * rank, h),
    tensor('layers.laurel.post_laurel_norm', 'layerExtras', 'vector', true, h),
    tensor('layers.per_layer_input_gate_projection', 'layerExtras', 'linear', true, 2 * h * p, h),
    tensor('layers.post_per_layer_input_norm', 'layerExtras', 'vector', true, h),
    tensor('per_layer_model_projection', 'layerExtras', 'linear', false, h * layers * p, h),
    tensor('per_layer_projection_norm', 'layerExtras', 'vector', false, p),
    tensor('altup_projections', 'layerExtras', 'linear', false, 2 * (n - 1) * h * h, h),
    tensor('embed_tokens_per_layer', 'perLayerEmbedding', 'embedding', false, plVocab * layers * p, layers * p),
  ];
  t.ignore(...NUMERICS);
  const model = makeModel({
    ...names,
    layers,
    hidden: h,
    heads,
    kvHeads,
    headDim,
    ffn: ffns[0],
    vocab: t.int('vocab_size'),
    tiedEmbeddings: t.bool('tie_word_embeddings', true),
    normsPerLayer: 4,
    qkNorm: true,
    maxContext: t.int('max_position_embeddings'),
    dtype: r.str('torch_dtype', t.str('torch_dtype', r.str('dtype', 'bfloat16'))),
    layerKinds,
    extraTensors,
  });
  // The towers: only in a multimodal config (Gemma3nForConditionalGeneration).
  if (t !== r) {
    const v = r.child('vision_config', VISION_DEFAULTS);
    const arch = v.str('architecture', 'mobilenetv5_300m_enc');
    if (arch !== 'mobilenetv5_300m_enc') throw new UserError(`${r.file}: field "vision_config.architecture" is "${arch}"; the size of that timm encoder is not known here (mobilenetv5_300m_enc is); describe the text model alone with a text_config-only config`);
    v.ignore(...VISION_NUMERICS);
    const vh = v.int('hidden_size');
    model.visionParams = MOBILENETV5_300M_ENC + v.int('vocab_size') * vh + 2 * vh + vh * h;
    model.visionNote = { formula: 'timm mobilenetv5_300m_enc (294,284,096: not given by config.json) + embed_vision (vocab_size x hidden + 2 norms + hidden x text hidden)', source: 'MobileNet-V5 count: a public Keras Hub script (EXPECTED_V5_PARAMETERS of mobilenetv5_300m_enc_gemma3n); embedder: modeling_gemma3n.py Gemma3nMultimodalEmbedder', approximate: true };
    const a = r.child('audio_config', AUDIO_DEFAULTS);
    a.ignore(...AUDIO_NUMERICS);
    model.audioParams = audioParams(a, h);
    model.audioNote = { formula: 'sub-sample convs + input_proj + conf_num_hidden_layers x (24 h^2 + 9 norms x h + kernel x h + h / heads) + embed_audio (vocab_size x h + 2 norms + h x text hidden)', source: 'transformers modeling_gemma3n.py Gemma3nAudioEncoder (Gemma3nAudioConformerBlock), Gemma3nMultimodalEmbedder', approximate: false };
    r.ignore('audio_soft_tokens_per_image', 'vision_soft_tokens_per_image', 'initializer_range');
  }
  return model;
}
