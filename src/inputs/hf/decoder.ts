import { UserError } from '../../errors.js';
import { makeModel, type LayerKind, type Mixer, type Mlp, type ModelSpec, type RopeScaling } from '../model.js';
import type { ConfigReader, HfConfig, Names } from './reader.js';

/**
 * The generic decoder reader (the Llama layout most families share) and the sliding-window
 * rules several families use.
 */

/**
 * rope_scaling (transformers modeling_rope_utils.py): the native window and the factor that
 * stretches it. original_max_position_embeddings is the native window (yarn, llama3, longrope,
 * dynamic); linear scaling without it divides max_position_embeddings by the factor; dynamic
 * NTK without it scales beyond max_position_embeddings. For llama3, linear and longrope the
 * scaled window is max_position_embeddings (the file states the window the scaling gives: Llama
 * 3.2's factor 32 over 8192 still serves 131072); for yarn and dynamic it is the larger of
 * max_position_embeddings and native x factor (Qwen3's YaRN x4 over 32768 reaches 131072).
 * mrope and default are not context scalings.
 */
export function readRopeScaling(r: ConfigReader, maxPositions: number): RopeScaling | undefined {
  const rs = r.object('rope_scaling') ?? r.object('rope_parameters');
  if (!rs) return undefined;
  const type = String(rs.rope_type ?? rs.type ?? 'default');
  if (type === 'default' || type === 'mrope') return undefined;
  const factor = typeof rs.factor === 'number' && rs.factor > 0 ? rs.factor : 1;
  const stated = typeof rs.original_max_position_embeddings === 'number' ? rs.original_max_position_embeddings : typeof r.config.original_max_position_embeddings === 'number' ? r.config.original_max_position_embeddings : undefined;
  r.ignore('original_max_position_embeddings');
  const originalContext = stated ?? (type === 'linear' ? Math.floor(maxPositions / factor) : maxPositions);
  if (factor <= 1 && originalContext >= maxPositions) return undefined;
  const scaledContext = ['llama3', 'linear', 'longrope'].includes(type) ? maxPositions : Math.max(maxPositions, originalContext * factor);
  return { type, factor, originalContext, scaledContext };
}

/** Llama-style decoder fields shared by most families (configuration_llama.py). */
export function readDecoder(r: ConfigReader, names: Names, tiedDefault = false): ModelSpec {
  const hidden = r.int('hidden_size');
  const heads = r.int('num_attention_heads');
  const maxPositions = r.optInt('max_position_embeddings', 4096);
  const ropeScaling = readRopeScaling(r, maxPositions);
  return makeModel({
    ...(ropeScaling ? { ropeScaling } : {}),
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
    maxContext: ropeScaling ? ropeScaling.scaledContext : maxPositions,
    dtype: r.str('torch_dtype', r.str('dtype', 'bfloat16')),
  });
}

/** sliding_window on every layer when set (configuration_mistral.py: v0.1 4096, v0.3 null). */
export const everyLayerWindow = (r: ConfigReader, m: ModelSpec): ModelSpec => (r.has('sliding_window') ? { ...m, slidingWindow: { window: r.int('sliding_window'), localLayers: m.layers } } : m);

/** Qwen2/Qwen3: use_sliding_window (default false) with full attention on the first max_window_layers layers. */
export function qwenWindow(r: ConfigReader, m: ModelSpec): ModelSpec {
  if (!r.bool('use_sliding_window', false) || !r.has('sliding_window')) {
    // Qwen2.5 and Qwen3 files write sliding_window and max_window_layers with use_sliding_window false: no window
    r.ignore('sliding_window', 'max_window_layers');
    return m;
  }
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


/**
 * Layer kinds from a per-layer rule (run once at import): consecutive layers with the same
 * mixer and MLP become one entry; the estimators group equal kinds (src/estimate/layers.ts).
 */
export function kindsOf(layers: number, kindOf: (i: number) => { mixer: Mixer; mlp: Mlp }): LayerKind[] {
  const out: LayerKind[] = [];
  let key = '';
  for (let i = 0; i < layers; i++) {
    const k = kindOf(i);
    const next = JSON.stringify(k);
    if (next === key) out[out.length - 1].layers.push(i);
    else out.push({ mixer: k.mixer, mlp: k.mlp, layers: [i] });
    key = next;
  }
  return out;
}

/** Layers whose MLP is not MoE, for ModelSpec.moe.denseLayers (a count) when kinds are listed. */
export const nonMoeLayers = (kinds: LayerKind[]): number => kinds.reduce((a, k) => a + (k.mlp.kind === 'moe' ? 0 : k.layers.length), 0);

/**
 * A list field with one entry per layer (layer_types, layers_block_type), checked against the
 * layer count; values outside `accepted` are a user error naming the entry.
 */
export function perLayerList(r: ConfigReader, key: string, layers: number, accepted: readonly string[]): string[] | undefined {
  const list = r.strings(key);
  if (!list) return undefined;
  if (list.length !== layers) throw new UserError(`${r.file}: field "${r.prefix}${key}" has ${list.length} entries but the model has ${layers} layers`);
  const bad = list.findIndex((t) => !accepted.includes(t));
  if (bad >= 0) throw new UserError(`${r.file}: field "${r.prefix}${key}" entry ${bad} is "${list[bad]}"; this reader knows ${accepted.join(', ')}`);
  return list;
}

/** Activations of the gated (SwiGLU) MLP the generic decoder assumes: gate, up and down projections. */
const GATED_SILU = ['silu', 'swish', 'swiglu'];
/** Keys that name a LayerNorm epsilon (a LayerNorm carries a bias; RMSNorm does not). */
const LAYER_NORM_KEYS = ['layer_norm_eps', 'layer_norm_epsilon', 'layernorm_epsilon', 'norm_epsilon', 'ln_eps'];
/** Bias keys the generic decoder reads itself (readDecoder). */
const READ_BIAS_KEYS = new Set(['attention_bias', 'mlp_bias', 'router_bias']);

/**
 * Why the generic decoder (readDecoder: the Llama layout) would misread a config of a family it
 * does not know: the keys that decide the norm type, the MLP's gating and the biases must agree
 * with what it assumes, not merely be absent. It assumes RMSNorm (rms_norm_eps stated), a gated
 * SiLU MLP (hidden_act silu / swish / swiglu stated), biases only where attention_bias and
 * mlp_bias say, and no q/k norms. Phi-2's config (layer_norm_eps, hidden_act gelu_new, biases
 * implied by the family) fails the first two, so a renamed copy of it is refused rather than
 * read as a gated Llama of another size. Each entry names the key and what it means.
 */
export function genericLayoutConflicts(config: HfConfig): string[] {
  const out: string[] = [];
  const stated = (key: string) => config[key] !== undefined && config[key] !== null;
  const layerNorm = LAYER_NORM_KEYS.filter(stated);
  if (layerNorm.length) out.push(`${layerNorm.map((k) => `"${k}"`).join(', ')} (a LayerNorm with a bias; the generic reader assumes RMSNorm)`);
  else if (!stated('rms_norm_eps')) out.push('no "rms_norm_eps" (the norm type is not stated; the generic reader assumes RMSNorm)');
  const actKey = ['hidden_act', 'hidden_activation', 'activation_function'].find(stated);
  if (!actKey) out.push('no "hidden_act" (the MLP\'s gating is not stated; the generic reader assumes a gated SiLU MLP)');
  else if (!GATED_SILU.includes(String(config[actKey]).toLowerCase())) out.push(`"${actKey}": ${JSON.stringify(config[actKey])} (the generic reader assumes a gated SiLU MLP: gate, up and down projections)`);
  for (const [key, value] of Object.entries(config)) {
    if (READ_BIAS_KEYS.has(key) || !/bias/i.test(key)) continue;
    // no_bias: false means the projections do carry biases
    if (/^no_?bias$/i.test(key) ? value === false : value === true) out.push(`"${key}": ${JSON.stringify(value)} (biases the generic reader does not place)`);
  }
  for (const [key, value] of Object.entries(config)) {
    if (/^(use_)?qk_?(layer)?_?norm$/i.test(key) && value !== false && value !== null && value !== undefined && value !== 'none') out.push(`"${key}": ${JSON.stringify(value)} (q/k norms the generic reader does not count)`);
  }
  return out;
}
