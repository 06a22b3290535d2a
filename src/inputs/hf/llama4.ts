import { UserError } from '../../errors.js';
import type { ModelSpec } from '../model.js';
import { kindsOf, nonMoeLayers, readDecoder } from './decoder.js';
import type { FamilyReader, HfConfig } from './reader.js';

/**
 * Llama4TextConfig defaults (transformers configuration_llama4.py), for text_config blocks that
 * leave keys out; no_rope_layers and moe_layers are derived from their intervals when absent.
 */
const LLAMA4_TEXT_DEFAULTS: HfConfig = {
  vocab_size: 202048, hidden_size: 5120, intermediate_size: 8192, intermediate_size_mlp: 16384, num_hidden_layers: 48, num_attention_heads: 40,
  num_key_value_heads: 8, head_dim: 128, max_position_embeddings: 4096 * 32, num_experts_per_tok: 1, num_local_experts: 16, interleave_moe_layer_step: 1,
  attention_chunk_size: 8192, no_rope_layer_interval: 4, tie_word_embeddings: false,
};

/**
 * Llama4VisionConfig defaults (Scout and Maverick's vision_config): a 34-layer ViT on 336-pixel
 * tiles of 14-pixel patches, pixel shuffle 0.5, projected to the text width.
 */
const LLAMA4_VISION_DEFAULTS: HfConfig = {
  hidden_size: 1408, image_size: 336, intermediate_size: 5632, num_attention_heads: 16, num_hidden_layers: 34, patch_size: 14, num_channels: 3,
  pixel_shuffle_ratio: 0.5, projector_input_dim: 4096, projector_output_dim: 4096, vision_output_dim: 4096,
};

/**
 * Llama 4 (transformers modeling_llama4.py): the text decoder in text_config. Layer i is MoE when
 * listed in moe_layers (default every interleave_moe_layer_step-th: Scout all 48, Maverick the
 * odd ones), a dense MLP of intermediate_size_mlp otherwise; the MoE has num_local_experts of
 * intermediate_size, a router without bias and one shared expert. Layers whose no_rope_layers
 * entry is 1 use RoPE and chunked attention (attention_chunk_size); the others (every fourth by
 * default) are NoPE layers with full attention. use_qk_norm is an L2 norm without weights.
 * The vision tower (Llama4VisionModel + pixel-shuffle adapter + projector) is counted on
 * params.vision.
 */
export const llama4: FamilyReader = (r, n) => {
  const text = r.has('text_config') ? r.child('text_config', LLAMA4_TEXT_DEFAULTS) : r;
  const base = readDecoder(text, n);
  const layers = base.layers;
  const ropeDefault = Array.from({ length: layers }, (_, i) => ((i + 1) % text.optInt('no_rope_layer_interval', 4) !== 0 ? 1 : 0));
  const rope = text.ints('no_rope_layers');
  const useRope = rope.length ? rope : ropeDefault;
  if (useRope.length !== layers) throw new UserError(`${r.file}: field "${text.prefix}no_rope_layers" has ${useRope.length} entries but the model has ${layers} layers`);
  const step = text.optInt('interleave_moe_layer_step', 1);
  const moeList = text.has('moe_layers') ? text.ints('moe_layers') : Array.from({ length: Math.max(0, Math.ceil((layers - (step - 1)) / step)) }, (_, k) => step - 1 + k * step);
  const moeSet = new Set(moeList);
  const chunk = text.optInt('attention_chunk_size', 8192);
  const denseFfn = text.optInt('intermediate_size_mlp', 16384);
  const experts = text.optInt('num_local_experts', 16);
  text.ignore('use_qk_norm', 'attn_temperature_tuning', 'attn_scale', 'floor_scale', 'for_llm_compressor', 'router_jitter_noise', 'layer_types');
  const layerKinds = kindsOf(layers, (i) => ({
    mixer: useRope[i] ? { kind: 'chunked', chunk } : { kind: 'full' },
    mlp: moeSet.has(i) ? { kind: 'moe' } : { kind: 'dense', ffn: denseFfn },
  }));
  const m: ModelSpec = {
    ...base,
    ffn: denseFfn,
    layerKinds,
    moe: { experts, topK: text.optInt('num_experts_per_tok', 1), expertFfn: base.ffn, sharedExperts: 1, sharedFfn: base.ffn, denseLayers: nonMoeLayers(layerKinds), bias: false },
  };
  if (r.has('vision_config') || r.has('text_config')) {
    const v = r.child('vision_config', LLAMA4_VISION_DEFAULTS);
    const vh = v.int('hidden_size');
    const vi = v.int('intermediate_size');
    const patch = v.int('patch_size');
    const image = v.int('image_size');
    const channels = v.int('num_channels');
    const shuffle = Number(v.config.pixel_shuffle_ratio ?? 0.5);
    v.ignore('pixel_shuffle_ratio', 'num_attention_heads', 'vision_feature_layer', 'vision_feature_select_strategy', 'rope_theta', 'norm_eps', 'multi_modal_projector_bias', 'model_type', 'attention_dropout');
    // Llama4VisionModel: unfold-conv patch embedding (no bias), class embedding, positions for
    // (image/patch)^2 + 1 tokens, pre/post LayerNorms; layers of q/k/v/o and fc1/fc2 with biases
    // and two LayerNorms; Llama4VisionPixelShuffleMLP fc1 (intermediate -> projector_input_dim)
    // and fc2 (projector_output_dim^2), no biases; Llama4MultiModalProjector linear_1 (no bias).
    const layer = 4 * (vh * vh + vh) + (vh * vi + vi) + (vi * vh + vh) + 2 * 2 * vh;
    const tower = channels * patch * patch * vh + vh + ((image / patch) ** 2 + 1) * vh + 2 * 2 * vh + v.int('num_hidden_layers') * layer;
    const adapter = vi * v.int('projector_input_dim') + v.int('projector_output_dim') ** 2;
    const projector = v.int('vision_output_dim') * base.hidden;
    m.visionParams = tower + adapter + projector;
    m.vision = { kind: 'llama4', patch, tile: image, maxTiles: 16, tokensPerTile: Math.round(((image / patch) ** 2) * shuffle * shuffle), layers: v.int('num_hidden_layers'), hidden: vh, ffn: vi };
  }
  r.ignore('boi_token_index', 'eoi_token_index', 'image_token_index');
  return m;
};
