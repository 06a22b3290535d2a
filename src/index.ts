/**
 * The library API: what `import { ... } from 'llm-size'` gets. The CLI is a thin layer over
 * the same functions (argv -> options -> resolve -> estimate -> formatter).
 *
 * @example
 * import { estimate } from 'llm-size';
 * const e = estimate({ model: 'llama-3.1-8b', gpu: 'h100-sxm', batch: 8, context: '8k' });
 * e.figures['memory.weights'].value // 16_060_522_496 (bytes)
 * e.fits                            // true
 */
import { estimate as estimateResolved, type Estimate } from './estimate/index.js';
import type { EstimateInput } from './estimate/input.js';
import { UserError } from './errors.js';
import type { Catalog } from './spec/catalog.js';
import { builtInCatalog } from './spec/presets.js';
import { ESTIMATE_KEYS, resolveEstimate, type EstimateKey, type Origins } from './spec/resolve.js';

export type { Estimate, ResolvedInputSummary } from './estimate/index.js';
export type { EstimateInput, Workload } from './estimate/input.js';
export type { Figure, Figures } from './estimate/terms.js';
export type { Catalog, ModelPreset } from './spec/catalog.js';
export type { HardwareSpec, Sourced } from './spec/hardware.js';
export type { ModelSpec } from './spec/model.js';
export type { Format, FormatId } from './spec/precision.js';
export type { Unit } from './units.js';
export { UserError } from './errors.js';
export { FORMATS, FORMAT_IDS } from './spec/precision.js';
export { OUTPUT_FORMATS, renderOutput, type Output, type OutputFormat } from './format/render.js';
export { OUTPUT_SCHEMA } from './spec/output-schema.js';

/**
 * The options of `llm-size estimate`, camelCase, as in a spec file. Counts and token sizes
 * take numbers or the strings people type ("7b", "32k"); `precision` and `kvPrecision` take a
 * format id (bf16, fp8, int4 ...); `model` and `gpu` take a preset id or alias.
 */
export type EstimateOptions = { [K in EstimateKey]?: string | number | boolean };

export interface CatalogOption {
  /** presets to resolve `model` and `gpu` against (default: the built-ins; see loadPresets) */
  catalog?: Catalog;
}

/** Pure estimate from fully resolved inputs (ModelSpec, HardwareSpec, formats in base units). */
export const estimateFromInput = (input: EstimateInput): Estimate => estimateResolved(input);

/**
 * Memory, FLOPs, latency, throughput and cost of serving a model, from the same options the
 * CLI takes. Throws `UserError` (with `exitCode` 2) naming the option and the bad value.
 * Resolution warnings (e.g. "no --gpu given") come first in `warnings`.
 */
export function estimate(options: EstimateOptions, { catalog = builtInCatalog() }: CatalogOption = {}): Estimate {
  const origins: Origins = {};
  for (const key of Object.keys(options)) {
    if (!(ESTIMATE_KEYS as readonly string[]).includes(key)) throw new UserError(`estimate: unknown option "${key}" (accepted: ${ESTIMATE_KEYS.join(', ')})`);
    origins[key as EstimateKey] = `options.${key}`;
  }
  const { input, warnings } = resolveEstimate(options, origins, catalog);
  const result = estimateResolved(input);
  result.warnings.unshift(...warnings);
  return result;
}

/**
 * The built-in presets, plus preset files (YAML or JSON) read from `paths` (files or
 * directories). A user preset with the id of a built-in replaces it. Throws `UserError` naming
 * file, line and field when a file is invalid.
 */
export async function loadPresets(paths: string[] = []): Promise<Catalog> {
  const builtIn = builtInCatalog();
  if (!paths.length) return builtIn;
  const { loadPresetPaths } = await import('./spec/load-presets.js');
  const { formatIssue } = await import('./spec/validate.js');
  const loaded = loadPresetPaths(paths);
  if (loaded.issues.length) throw new UserError(loaded.issues.map(formatIssue).join('; '));
  const replace = <T extends { id: string }>(base: T[], extra: T[]): T[] => [...extra, ...base.filter((b) => !extra.some((e) => e.id === b.id))];
  return { hardware: replace(builtIn.hardware, loaded.hardware), models: replace(builtIn.models, loaded.models) };
}

/**
 * Training and fine-tuning from fully resolved inputs (src/estimate/training.ts). An
 * options-based `train({ model, gpu, tokens ... })` like `estimate` needs the flag resolver that
 * now lives in src/commands/train.ts to move under src/spec first.
 */
export { train, type TrainInput, type TrainEstimate } from './estimate/training.js';

// Other commands' library functions are exported here as they land:
// export { plan } from './...';
