import type { ModelSpec, VisionSpec } from '../inputs/model.js';

/**
 * Images as prompt tokens, by each model's processor rules, and the work of its vision encoder.
 * Pure: a width and height in pixels in, token and patch counts out.
 */

export interface ImageTokens {
  /** prompt tokens one image takes, special tokens included */
  tokens: number;
  /** of which placeholder tokens that carry the encoder's embeddings */
  embeddings: number;
  /** tokens the vision encoder runs over (patches, class tokens), and how they are split for attention */
  encoderTokens: number;
  /** attention spans of the encoder: [tokens attended per query, layers] pairs */
  attention: [number, number][];
  /** how the rule got there, for the figure's formula */
  note: string;
}

/** Python's round(): halves to even (transformers' smart_resize uses it). */
const roundHalfEven = (x: number): number => {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
};

/**
 * Qwen2-VL / Qwen2.5-VL (transformers image_processing_qwen2_vl.py smart_resize): height and width
 * rounded to multiples of patch x merge (28), scaled down to max_pixels or up to min_pixels
 * keeping the aspect ratio; one token per merge x merge patches, between <|vision_start|> and
 * <|vision_end|> (processing_qwen2_5_vl.py).
 */
function qwenVl(v: Extract<VisionSpec, { kind: 'qwen2-vl' }>, width: number, height: number): ImageTokens {
  const factor = v.patch * v.merge;
  let h = Math.max(factor, roundHalfEven(height / factor) * factor);
  let w = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (h * w > v.maxPixels) {
    const beta = Math.sqrt((height * width) / v.maxPixels);
    h = Math.floor(height / beta / factor) * factor;
    w = Math.floor(width / beta / factor) * factor;
  } else if (h * w < v.minPixels) {
    const beta = Math.sqrt(v.minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  const patches = (h / v.patch) * (w / v.patch);
  const embeddings = patches / (v.merge * v.merge);
  // Qwen2.5-VL attends within windows of window_size pixels in most blocks, globally in fullatt_block_indexes.
  const windowPatches = Math.min(patches, (v.window / v.patch) ** 2);
  return {
    tokens: embeddings + 2,
    embeddings,
    encoderTokens: patches,
    attention: [[patches, v.fullAttentionLayers], [windowPatches, v.layers - v.fullAttentionLayers]],
    note: `resized to ${w}x${h} (multiples of ${factor}), ${w / v.patch} x ${h / v.patch} patches of ${v.patch}, one token per ${v.merge}x${v.merge}, + <|vision_start|> <|vision_end|>`,
  };
}

/**
 * Llama 4 (transformers image_processing_llama4_fast.py get_best_fit, processing_llama4.py
 * _prompt_split_image): the canvas of tile x tile tiles (at most max_patches) that needs the
 * least upscaling, or the least downscaling when none fits, ties to the smaller area; when it
 * has more than one tile a global thumbnail tile follows. Each tile is tokensPerTile <|patch|>
 * tokens; the prompt adds <|image_start|>, a <|tile_x_separator|> between tiles of a row, a
 * <|tile_y_separator|> after each row, <|image|> before the thumbnail and <|image_end|>.
 */
function llama4(v: Extract<VisionSpec, { kind: 'llama4' }>, width: number, height: number): ImageTokens {
  let best: { rows: number; cols: number; scale: number; area: number } | undefined;
  const candidates: { rows: number; cols: number; scale: number; area: number }[] = [];
  for (let rows = 1; rows <= v.maxTiles; rows++) {
    for (let cols = 1; rows * cols <= v.maxTiles; cols++) {
      candidates.push({ rows, cols, scale: Math.min((rows * v.tile) / height, (cols * v.tile) / width), area: rows * cols });
    }
  }
  const up = candidates.filter((c) => c.scale >= 1);
  const pool = up.length ? up : candidates;
  const target = up.length ? Math.min(...up.map((c) => c.scale)) : Math.max(...pool.map((c) => c.scale));
  for (const c of pool) if (c.scale === target && (!best || c.area < best.area)) best = c;
  const { rows, cols } = best!;
  const tiles = rows * cols;
  const perTile = v.tokensPerTile;
  const patchesPerTile = (v.tile / v.patch) ** 2 + 1;
  const withThumbnail = tiles > 1 ? tiles + 1 : 1;
  const embeddings = withThumbnail * perTile;
  const separators = tiles > 1 ? (cols - 1) * rows + rows : 0;
  return {
    tokens: 1 + embeddings + separators + 1 + 1,
    embeddings,
    encoderTokens: withThumbnail * patchesPerTile,
    attention: [[patchesPerTile, v.layers]],
    note: `${cols} x ${rows} tiles of ${v.tile} (best fit of at most ${v.maxTiles})${tiles > 1 ? ' + a global tile' : ''}, ${perTile} tokens each, + ${separators} tile separators, <|image_start|> <|image|> <|image_end|>`,
  };
}

/** Gemma 3 (processing_gemma3.py): every image resized to 896 x 896, 256 soft tokens between <start_of_image> and <end_of_image>. */
function fixed(v: Extract<VisionSpec, { kind: 'fixed' }>): ImageTokens {
  const patches = (v.image / v.patch) ** 2;
  return { tokens: v.tokens + 2, embeddings: v.tokens, encoderTokens: patches, attention: [[patches, v.layers]], note: `resized to ${v.image} x ${v.image}: ${v.tokens} tokens, + <start_of_image> <end_of_image>` };
}

export function imageTokens(v: VisionSpec, width: number, height: number): ImageTokens {
  switch (v.kind) {
    case 'qwen2-vl':
      return qwenVl(v, width, height);
    case 'llama4':
      return llama4(v, width, height);
    case 'fixed':
      return fixed(v);
  }
}

/**
 * Vision-encoder FLOPs for one image: 2 FLOPs per tower parameter per encoder token (the
 * projector runs on the merged tokens; counted on all of them, a small overestimate) plus
 * attention, 4 x hidden per query per key over each layer's span (Kaplan et al. 2020 sec. 2.1).
 */
export function visionEncoderFlops(m: ModelSpec, image: ImageTokens): number {
  const v = m.vision!;
  let attention = 0;
  for (const [span, layers] of image.attention) attention += layers * 4 * v.hidden * image.encoderTokens * span;
  return 2 * (m.visionParams ?? 0) * image.encoderTokens + attention;
}
