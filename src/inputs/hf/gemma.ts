import type { ModelSpec } from '../model.js';
import { layerTypesWindow, readDecoder } from './decoder.js';
import { ConfigReader, type FamilyReader, type HfConfig, type Names } from './reader.js';

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

export function gemma3(r: ConfigReader, names: Names, warnings: string[]): ModelSpec {
  const text = r.object('text_config');
  const vision = r.object('vision_config');
  const tr = text ? new ConfigReader({ ...GEMMA3_TEXT_DEFAULTS, torch_dtype: r.config.torch_dtype, ...text }, r.file, 'text_config.') : r;
  if (text) warnings.push(`${r.file}: text_config fields absent from the file take transformers Gemma3TextConfig defaults (${Object.keys(GEMMA3_TEXT_DEFAULTS).filter((k) => text[k] === undefined).join(', ')})`);
  let m: ModelSpec = { ...readDecoder(tr, names, true), gatedMlp: true, normsPerLayer: 4, qkNorm: true };
  // Gemma3DecoderLayer: layer i is sliding unless (i + 1) % sliding_window_pattern == 0.
  const pattern = tr.optInt('sliding_window_pattern', 6);
  m = layerTypesWindow(tr, m, (layers) => (pattern > 0 ? layers - Math.floor(layers / pattern) : 0));
  if (vision) {
    const v = new ConfigReader(vision, r.file, 'vision_config.');
    m.visionParams = siglipParams(v, m.hidden);
    // Gemma3Processor: every image resized to image_size, mm_tokens_per_image soft tokens (4x4 average pooling of the patches)
    m.vision = { kind: 'fixed', image: v.optInt('image_size', 896), patch: v.optInt('patch_size', 14), tokens: r.optInt('mm_tokens_per_image', 256), layers: v.optInt('num_hidden_layers', 27), hidden: v.optInt('hidden_size', 1152), ffn: v.optInt('intermediate_size', 4304) };
    r.ignore('boi_token_index', 'eoi_token_index', 'image_token_index');
  }
  for (const k of tr.used) r.used.add(`${text ? 'text_config.' : ''}${k}`);
  return m;
}


/** Gemma 1 (configuration_gemma.py): tied embeddings by default, explicit head_dim. */
export const gemma: FamilyReader = (r, n) => readDecoder(r, n, true);

/**
 * configuration_gemma2.py: pre and post norms around attention and MLP (4 per layer); tied;
 * Gemma2DecoderLayer: even layers (0, 2, ...) slide over sliding_window, odd layers are global.
 */
export const gemma2: FamilyReader = (r, n) => {
  // sliding_window_size: an older spelling of sliding_window some Gemma 2 files also write
  r.ignore('sliding_window_size');
  return layerTypesWindow(r, { ...readDecoder(r, n, true), normsPerLayer: 4 }, (layers) => Math.ceil(layers / 2));
};
