import { quote, UserError } from '../../errors.js';
import { DOMAINS, showBound, type Quantity } from '../domains.js';
import type { ModelSpec } from '../model.js';

/**
 * The shared mapping from a Hugging Face config.json to a ModelSpec: the field reader every
 * family reader uses, and the names a family reader receives. Field names and defaults follow
 * transformers' configuration_<family>.py.
 */

export type HfConfig = Record<string, unknown>;

export interface HfImport {
  model: ModelSpec;
  warnings: string[];
}

/** Reads config fields, naming the file and field when one is missing or malformed. */
/** Config fields that size a loop or a per-layer list, with their domain (src/inputs/domains.ts). */
const FIELD_DOMAINS: Record<string, Quantity> = { num_hidden_layers: 'layers', n_layer: 'layers', n_layers: 'layers', num_layers: 'layers' };

export class ConfigReader {
  readonly used = new Set<string>();
  /** the reader of the enclosing config, for a nested block (text_config): its reads are the parent's */
  private parent?: ConfigReader;
  constructor(
    readonly config: HfConfig,
    readonly file: string,
    /** prefix for field names in messages ("text_config.") */
    readonly prefix = '',
  ) {}

  /** Records a key as read, here and (as "block.key") in the enclosing config's reader. */
  private markUsed(key: string): void {
    this.used.add(key);
    this.parent?.markUsed(`${this.prefix.slice(this.parent.prefix.length)}${key}`);
  }

  /**
   * A reader over a nested block (text_config, vision_config) whose absent keys take `defaults`
   * (transformers fills them from the family's config class); its reads count as the parent's,
   * so unread structural keys inside the block are found too. An absent block reads as its defaults.
   */
  child(key: string, defaults: HfConfig = {}): ConfigReader {
    const block = this.object(key) ?? {};
    const c = new ConfigReader({ ...defaults, ...block }, this.file, `${this.prefix}${key}.`);
    c.parent = this;
    return c;
  }

  /**
   * Marks keys as read on purpose though they change nothing the estimators model (a window a
   * flag switches off, rotary details), so the check for unread structural keys passes them.
   */
  ignore(...keys: string[]): void {
    for (const key of keys) if (key in this.config) this.markUsed(key);
  }

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
    this.markUsed(key);
    const v = this.config[key];
    if (typeof v !== 'boolean') throw new UserError(`${this.file}: field "${this.prefix}${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string, fallback: string): string {
    if (!this.has(key)) return fallback;
    this.markUsed(key);
    const v = this.config[key];
    if (typeof v !== 'string') throw new UserError(`${this.file}: field "${this.prefix}${key}" must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** An optional list of strings (layer_types). */
  strings(key: string): string[] | undefined {
    if (!this.has(key)) return undefined;
    this.markUsed(key);
    const v = this.config[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new UserError(`${this.file}: field "${this.prefix}${key}" must be a list of strings, got ${JSON.stringify(v)}`);
    return v as string[];
  }

  /** An optional list of integers (mlp_only_layers). */
  ints(key: string): number[] {
    if (!this.has(key)) return [];
    this.markUsed(key);
    const v = this.config[key];
    if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x))) throw new UserError(`${this.file}: field "${this.prefix}${key}" must be a list of integers, got ${JSON.stringify(v)}`);
    return v as number[];
  }

  /** An optional nested object (text_config, vision_config, quantization_config). */
  object(key: string): HfConfig | undefined {
    if (!this.has(key)) return undefined;
    this.markUsed(key);
    const v = this.config[key];
    if (typeof v !== 'object' || Array.isArray(v)) throw new UserError(`${this.file}: field "${this.prefix}${key}" must be an object, got ${JSON.stringify(v)}`);
    return v as HfConfig;
  }

  private intAt(key: string, allowZero = false): number {
    this.markUsed(key);
    const v = this.config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || (!allowZero && v === 0)) {
      throw new UserError(`${this.file}: field "${this.prefix}${key}" must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${quote(v)}`);
    }
    // a layer count sizes loops and per-layer lists in the family readers: bound it before they run
    const q = Object.hasOwn(FIELD_DOMAINS, key) ? FIELD_DOMAINS[key] : undefined;
    if (q && v > DOMAINS[q].max) throw new UserError(`${this.file}: field "${this.prefix}${key}" ${v} is ${DOMAINS[q].above} (at most ${showBound(DOMAINS[q].max)})`);
    if (v > Number.MAX_SAFE_INTEGER) throw new UserError(`${this.file}: field "${this.prefix}${key}" ${v} is larger than any architecture field this tool reads`);
    return v;
  }
}

export interface Names {
  id: string;
  name: string;
  family: string;
}

/** One family's reader: maps its config keys onto ModelSpec, pushing what it cannot represent to `warnings`. */
export type FamilyReader = (r: ConfigReader, names: Names, warnings: string[]) => ModelSpec;
