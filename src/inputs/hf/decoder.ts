import { UserError } from '../../errors.js';
import { makeModel, type ModelSpec } from '../model.js';
import type { ConfigReader, Names } from './reader.js';

/**
 * The generic decoder reader (the Llama layout most families share) and the sliding-window
 * rules several families use.
 */

/** Llama-style decoder fields shared by most families (configuration_llama.py). */
export function readDecoder(r: ConfigReader, names: Names, tiedDefault = false): ModelSpec {
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
export const everyLayerWindow = (r: ConfigReader, m: ModelSpec): ModelSpec => (r.has('sliding_window') ? { ...m, slidingWindow: { window: r.int('sliding_window'), localLayers: m.layers } } : m);

/** Qwen2/Qwen3: use_sliding_window (default false) with full attention on the first max_window_layers layers. */
export function qwenWindow(r: ConfigReader, m: ModelSpec): ModelSpec {
  if (!r.bool('use_sliding_window', false) || !r.has('sliding_window')) return m;
  const full = Math.min(m.layers, r.optInt('max_window_layers', m.layers));
  return full < m.layers ? { ...m, slidingWindow: { window: r.int('sliding_window'), localLayers: m.layers - full } } : m;
}

/** Local (sliding) layers from layer_types, the form newer configs spell out (gpt-oss, Gemma 3, Qwen3). */
export function layerTypesWindow(r: ConfigReader, m: ModelSpec, fallbackLocal: (layers: number) => number): ModelSpec {
  const types = r.strings('layer_types');
  if (types && types.length !== m.layers) throw new UserError(`${r.file}: field "${r.prefix}layer_types" has ${types.length} entries but num_hidden_layers is ${m.layers}`);
  const local = types ? types.filter((t) => t === 'sliding_attention').length : fallbackLocal(m.layers);
  if (local === 0) return m;
  return { ...m, slidingWindow: { window: r.int('sliding_window'), localLayers: local } };
}

