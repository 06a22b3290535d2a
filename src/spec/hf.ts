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
  ) {}

  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null;
  }

  /** A required positive integer; tries each key in order (families name fields differently). */
  int(...keys: string[]): number {
    for (const key of keys) if (this.has(key)) return this.intAt(key);
    throw new UserError(`${this.file}: missing required field "${keys[0]}"${keys.length > 1 ? ` (or ${keys.slice(1).join(', ')})` : ''}`);
  }

  /** An optional non-negative integer, or the fallback. */
  optInt(key: string, fallback: number): number {
    return this.has(key) ? this.intAt(key, true) : fallback;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    this.used.add(key);
    const v = this.config[key];
    if (typeof v !== 'boolean') throw new UserError(`${this.file}: field "${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string, fallback: string): string {
    if (!this.has(key)) return fallback;
    this.used.add(key);
    const v = this.config[key];
    if (typeof v !== 'string') throw new UserError(`${this.file}: field "${key}" must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  private intAt(key: string, allowZero = false): number {
    this.used.add(key);
    const v = this.config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || (!allowZero && v === 0)) {
      throw new UserError(`${this.file}: field "${key}" must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(v)}`);
    }
    return v;
  }
}

type FamilyReader = (r: ConfigReader, base: ModelSpec) => ModelSpec;

/** Llama-style decoder fields shared by most families (configuration_llama.py). */
function readDecoder(r: ConfigReader, id: string, name: string, family: string): ModelSpec {
  const hidden = r.int('hidden_size');
  const heads = r.int('num_attention_heads');
  return makeModel({
    id,
    name,
    family,
    layers: r.int('num_hidden_layers'),
    hidden,
    heads,
    kvHeads: r.optInt('num_key_value_heads', heads),
    headDim: r.optInt('head_dim', Math.floor(hidden / heads)),
    ffn: r.int('intermediate_size'),
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', false),
    qkvBias: r.bool('attention_bias', false),
    outBias: r.bool('attention_bias', false),
    mlpBias: r.bool('mlp_bias', false),
    maxContext: r.optInt('max_position_embeddings', 4096),
    dtype: r.str('torch_dtype', r.str('dtype', 'bfloat16')),
  });
}

/** Per-family adjustments on top of the shared decoder fields. */
const FAMILIES: Record<string, FamilyReader> = {
  llama: (_r, m) => m,
  // configuration_mistral.py: sliding_window on every layer (v0.1: 4096; v0.3: null)
  mistral: (r, m) => (r.has('sliding_window') ? { ...m, slidingWindow: { window: r.int('sliding_window'), localLayers: m.layers } } : m),
  // configuration_qwen2.py: q/k/v projections carry biases, o_proj does not; tie by config.
  // use_sliding_window defaults to false (the window is then unused).
  qwen2: (r, m) => {
    const spec = { ...m, qkvBias: true, outBias: false };
    if (r.bool('use_sliding_window', false) && r.has('sliding_window')) {
      const full = r.optInt('max_window_layers', m.layers);
      spec.slidingWindow = { window: r.int('sliding_window'), localLayers: m.layers - full };
    }
    return spec;
  },
};

export const KNOWN_FAMILIES = Object.keys(FAMILIES);

/**
 * Reads a config.json object. A family it does not know is read as a generic Llama-style
 * decoder with a warning that lists the fields it used.
 */
export function importHfConfig(config: HfConfig, file: string, id = 'hf-config', name?: string): HfImport {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new UserError(`${file}: expected a JSON object`);
  const r = new ConfigReader(config, file);
  const family = r.str('model_type', 'unknown');
  const base = readDecoder(r, id, name ?? (typeof config._name_or_path === 'string' && config._name_or_path ? config._name_or_path : id), family);
  const reader = FAMILIES[family];
  const warnings: string[] = [];
  const model = reader ? reader(r, base) : base;
  if (!reader) {
    warnings.push(`${file}: model_type "${family}" is not a known family (${KNOWN_FAMILIES.join(', ')}); read as a generic decoder from fields ${[...r.used].sort().join(', ')}`);
  }
  return { model, warnings };
}
