import { readDecoder } from './decoder.js';
import type { FamilyReader } from './reader.js';

/**
 * SmolLM3 (transformers configuration_smollm3.py): the Llama layout where every
 * no_rope_layer_interval-th layer skips rotary embeddings (no_rope_layers); NoPE layers attend
 * to the full context like the others, so sizes are those of Llama. use_sliding_window is off
 * in the released file.
 */
export const smollm3: FamilyReader = (r, n) => {
  const m = readDecoder(r, n, true);
  r.ignore('no_rope_layers', 'no_rope_layer_interval', 'layer_types');
  if (r.bool('use_sliding_window', false)) return { ...m, slidingWindow: { window: r.int('sliding_window'), localLayers: m.layers } };
  r.ignore('sliding_window', 'max_window_layers');
  return m;
};
