import { qwenWindow, readDecoder } from './decoder.js';
import type { FamilyReader, HfConfig } from './reader.js';

/** Qwen2_5_VLVisionConfig defaults (transformers configuration_qwen2_5_vl.py; Qwen2.5-VL-7B's vision_config). */
const QWEN25_VISION_DEFAULTS: HfConfig = {
  depth: 32, hidden_size: 1280, intermediate_size: 3420, num_heads: 16, in_chans: 3, out_hidden_size: 3584, patch_size: 14,
  spatial_merge_size: 2, temporal_patch_size: 2, window_size: 112, fullatt_block_indexes: [7, 15, 23, 31],
};

/**
 * Qwen2.5-VL (transformers configuration_qwen2_5_vl.py, modeling_qwen2_5_vl.py): the Qwen2
 * decoder (top-level keys, or text_config in newer files) and a vision transformer:
 * Conv3d patch embedding (in_chans x temporal_patch x patch^2 -> hidden, no bias), depth blocks
 * of RMSNorm, qkv and proj with biases, RMSNorm and a gated MLP with biases, and the patch
 * merger (RMSNorm, merge^2 x hidden -> merge^2 x hidden -> out_hidden_size, with biases).
 * Images become one token per spatial_merge_size^2 patches of 14 pixels (Qwen2VLImageProcessor
 * smart_resize; min/max pixels of preprocessor_config.json: 3136 and 12845056).
 */
export const qwen25Vl: FamilyReader = (r, n) => {
  const text = r.has('text_config') ? r.child('text_config') : r;
  const base = qwenWindow(text, { ...readDecoder(text, n), qkvBias: true, outBias: false });
  const v = r.child('vision_config', QWEN25_VISION_DEFAULTS);
  const vh = v.int('hidden_size');
  const vi = v.int('intermediate_size');
  const depth = v.int('depth');
  const patch = v.int('patch_size');
  const temporal = v.int('temporal_patch_size');
  const merge = v.int('spatial_merge_size');
  const channels = v.optInt(['in_chans', 'in_channels'], 3);
  const full = v.ints('fullatt_block_indexes').length;
  v.ignore('num_heads', 'hidden_act', 'tokens_per_second', 'model_type', 'torch_dtype', 'initializer_range');
  const block = 2 * vh + (vh * 3 * vh + 3 * vh) + (vh * vh + vh) + 2 * (vh * vi + vi) + (vi * vh + vh);
  const mergeIn = merge * merge * vh;
  const merger = vh + (mergeIn * mergeIn + mergeIn) + (mergeIn * v.int('out_hidden_size') + v.int('out_hidden_size'));
  r.ignore('rope_scaling', 'image_token_id', 'video_token_id', 'vision_start_token_id', 'vision_end_token_id', 'vision_token_id', 'use_mrope');
  return {
    ...base,
    visionParams: channels * temporal * patch * patch * vh + depth * block + merger,
    vision: { kind: 'qwen2-vl', patch, merge, temporalPatch: temporal, minPixels: 56 * 56, maxPixels: 28 * 28 * 16384, fullAttentionLayers: full, window: v.optInt('window_size', 112), layers: depth, hidden: vh, ffn: vi },
  };
};
