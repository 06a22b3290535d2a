import { didYouMean, quote, UserError } from '../errors.js';
import { estimateDisaggregated, type DisaggregatedInput } from '../estimate/disaggregated.js';
import { estimate, type Estimate } from '../estimate/index.js';
import type { Catalog } from './catalog.js';
import type { HubConfig } from './hub.js';
import { positiveInt, positiveNumber, type Raw } from './options.js';
import { resolveEstimate, type EstimateKey, type Origins, type RawOptions } from './resolve.js';

/**
 * `--prefill-workers` / `--decode-workers` (and the spec-file and check keys prefillWorkers,
 * decodeWorkers): one disaggregated deployment (src/estimate/disaggregated.ts). Each takes the
 * number of workers, optionally with the layout of one worker after a colon:
 * `--prefill-workers 1:nodes=4,dp-attention,ep=32` `--decode-workers 1:nodes=9,dp-attention,ep=72,redundant-experts=32`.
 * A pool without its own layout takes the command's layout flags (--tp, --ep, --nodes ...).
 */

/** Keys a pool's layout may set, as written after the colon (kebab-case). */
export const POOL_KEYS = ['count', 'nodes', 'tp', 'pp', 'ep', 'dp-attention', 'redundant-experts', 'all-to-all', 'expert-imbalance', 'gpu', 'gpus-per-node', 'precision', 'kv-precision', 'engine'] as const;
/** Pool keys that describe the layout: given in a pool, the command's layout flags do not apply to it. */
const LAYOUT_KEYS: EstimateKey[] = ['count', 'nodes', 'tp', 'pp', 'ep', 'dpAttention', 'redundantExperts', 'allToAll', 'expertImbalance'];
/** Keys of the command that a disaggregated deployment replaces. */
const LOAD_KEYS: EstimateKey[] = ['batch', 'concurrency', 'replicas', 'prefillWorkers', 'decodeWorkers'];

const camel = (key: string): string => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** "3" or "1:nodes=4,dp-attention,ep=32" -> workers and the pool's own options. */
export function parsePool(value: Raw, where: string): { workers: number; options: Partial<Record<EstimateKey, Raw>>; origins: Origins } {
  const text = String(value).trim();
  const [count, layout, extra] = text.split(':');
  const accepted = `a worker count, optionally with one worker's layout: 2, or 1:nodes=4,dp-attention,ep=32 (keys: ${POOL_KEYS.join(', ')})`;
  if (extra !== undefined || count === undefined || count.trim() === '') throw new UserError(`${where}: invalid value ${quote(text)}; expected ${accepted}`);
  const workers = positiveInt({ value: count.trim(), where }, 'devices');
  const options: Partial<Record<EstimateKey, Raw>> = {};
  const origins: Origins = {};
  for (const part of (layout ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const [rawKey, v, more] = part.split('=').map((x) => x.trim());
    const key = (rawKey ?? '').toLowerCase();
    if (!(POOL_KEYS as readonly string[]).includes(key) || more !== undefined || (v === undefined && key !== 'dp-attention')) throw new UserError(`${where}: invalid part ${quote(part)}${didYouMean(key, POOL_KEYS)}; expected ${accepted}`);
    const k = camel(key) as EstimateKey;
    options[k] = v ?? true;
    origins[k] = `${where} ${key}`;
  }
  return { workers, options, origins };
}

/** Raw options -> one disaggregated deployment: each pool resolved as `estimate` resolves a replica. */
export function resolveDisaggregated(raw: RawOptions, origins: Origins, catalog: Catalog, hub?: HubConfig): { input: DisaggregatedInput; warnings: string[] } {
  const where = (key: EstimateKey, flag: string) => origins[key] ?? flag;
  if (raw.prefillWorkers === undefined || raw.decodeWorkers === undefined) {
    const given = raw.prefillWorkers !== undefined ? where('prefillWorkers', '--prefill-workers') : where('decodeWorkers', '--decode-workers');
    throw new UserError(`${given}: a disaggregated deployment needs both --prefill-workers and --decode-workers`);
  }
  if (raw.qps === undefined) throw new UserError(`${where('prefillWorkers', '--prefill-workers')}: a disaggregated deployment is sized at an offered load; give --qps <requests per second>`);
  for (const key of ['batch', 'concurrency', 'replicas'] as const) {
    if (raw[key] !== undefined) throw new UserError(`${where(key, `--${key}`)}: a disaggregated deployment takes --qps and the workers of each pool (--prefill-workers, --decode-workers), not --${key}`);
  }
  const warnings: string[] = [];
  const pool = (key: 'prefillWorkers' | 'decodeWorkers', flag: string) => {
    const spec = parsePool(raw[key], where(key, flag));
    const base: RawOptions = { ...raw };
    const baseOrigins: Origins = { ...origins };
    for (const k of LOAD_KEYS) delete base[k];
    // A pool with its own layout takes none of the command's layout flags.
    if (LAYOUT_KEYS.some((k) => spec.options[k] !== undefined)) for (const k of LAYOUT_KEYS) delete base[k];
    const poolRaw: RawOptions = { ...base, ...spec.options, qps: undefined };
    delete poolRaw.qps;
    const resolved = resolveEstimate(poolRaw, { ...baseOrigins, ...spec.origins }, catalog, hub);
    warnings.push(...resolved.warnings.map((w) => `${flag.slice(2, -8)} pool: ${w}`));
    return { workers: spec.workers, input: resolved.input };
  };
  const prefill = pool('prefillWorkers', '--prefill-workers');
  const decode = pool('decodeWorkers', '--decode-workers');
  const qps = positiveNumber({ value: raw.qps, where: where('qps', '--qps') }, 'qps');
  if (prefill.input.model.name !== decode.input.model.name) throw new UserError('--prefill-workers and --decode-workers serve the same model');
  if (prefill.input.kv.id !== decode.input.kv.id) throw new UserError(`the prefill pool's KV cache is ${prefill.input.kv.id} and the decode pool's ${decode.input.kv.id}: the KV moves between them as it is; give both the same --kv-precision`);
  return { input: { prefill, decode, qps }, warnings: [...new Set(warnings)] };
}

/**
 * Raw options -> an estimate: one pool of replicas (estimate()), or with --prefill-workers and
 * --decode-workers a disaggregated deployment (estimateDisaggregated). estimate and check run
 * both through here.
 */
export function estimateFromRaw(raw: RawOptions, origins: Origins, catalog: Catalog, hub?: HubConfig): { estimate: Estimate; warnings: string[] } {
  if (raw.prefillWorkers !== undefined || raw.decodeWorkers !== undefined) {
    const { input, warnings } = resolveDisaggregated(raw, origins, catalog, hub);
    return { estimate: estimateDisaggregated(input), warnings };
  }
  const { input, warnings } = resolveEstimate(raw, origins, catalog, hub);
  return { estimate: estimate(input), warnings };
}
