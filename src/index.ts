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
import { renderOutput as renderAny, type Output, type OutputFormat } from './format/render.js';
import { catalogOptionSchema, check, estimateInputSchema, hubOptionsSchema, hubSettingsSchema, optionsSchema, pathsSchema, renderSchema, trainInputSchema } from './inputs/library-schema.js';
import type { Catalog } from './inputs/catalog.js';
import { builtInCatalog } from './inputs/presets.js';
import type { HubConfig } from './inputs/hub.js';
import type { Raw } from './inputs/options.js';
import { ESTIMATE_KEYS, fetchHubFor, type EstimateKey, type Origins } from './inputs/resolve.js';
import { estimateFromRaw } from './inputs/resolve-disagg.js';
import { PLAN_KEYS, runPlan, type PlanDocument, type PlanKey } from './inputs/resolve-plan.js';
import { resolveTrain, TRAIN_KEYS, type TrainKey } from './inputs/resolve-train.js';
import { runSimulate, SIMULATE_KEYS, type SimulateKey, type SimulationDocument, type SimulationSweepDocument } from './inputs/resolve-simulate.js';
import { train as trainResolved, type TrainEstimate, type TrainInput } from './estimate/training.js';
import { rag as ragResolved, type RagEstimate } from './estimate/rag.js';
import { RAG_KEYS, resolveRag, type RagKey } from './inputs/resolve-rag.js';

export type { Estimate, ResolvedInputSummary } from './estimate/index.js';
export type { EstimateInput, Workload } from './estimate/input.js';
export type { Figure, Figures } from './estimate/terms.js';
export type { Catalog, ModelPreset } from './inputs/catalog.js';
export type { HardwareSpec, Sourced } from './inputs/hardware.js';
export type { ModelSpec } from './inputs/model.js';
export type { HubConfig } from './inputs/hub.js';
export type { PlanDocument, PlanDocumentRow } from './inputs/resolve-plan.js';
export type { SimulationDocument, SimulationSweepDocument } from './inputs/resolve-simulate.js';
export type { TrainEstimate, TrainInput } from './estimate/training.js';
export type { RagEstimate, RagInput } from './estimate/rag.js';
export type { Format, FormatId } from './inputs/precision.js';
export type { Unit } from './units.js';
export { UserError } from './errors.js';
export { FORMATS, FORMAT_IDS } from './inputs/precision.js';
export { OUTPUT_FORMATS, type Output, type OutputFormat } from './format/render.js';

/**
 * Renders an estimate, train or plan document (or any Output) in one of OUTPUT_FORMATS, as the
 * CLI prints it. Throws UserError for a format or an output it cannot render.
 */
export async function renderOutput(format: OutputFormat, output: Output, color = false): Promise<string> {
  const checked = check(renderSchema, { format, output, color }, 'renderOutput');
  return renderAny(checked.format as OutputFormat, checked.output as Output, checked.color);
}
export { OUTPUT_SCHEMA } from './inputs/output-schema.js';

/**
 * The options of `llm-size estimate`, camelCase, as in a spec file. Counts and token sizes
 * take numbers or the strings people type ("7b", "32k"); `precision` and `kvPrecision` take a
 * format id (bf16, fp8, int4 ...); `model` and `gpu` take a preset id or alias.
 */
export type EstimateOptions = { [K in EstimateKey]?: string | number | boolean };

/** The options of `llm-size simulate` (estimate's, plus load, traffic, targets, requests, seed), camelCase. */
export type SimulateOptions = { [K in SimulateKey]?: string | number | boolean };

/** The options of `llm-size train` (model, hardware and the training keys), camelCase. */
export type TrainOptions = { [K in TrainKey]?: string | number | boolean };

/** The options of `llm-size rag` (corpus, embedding, index, query and the generator), camelCase. */
export type RagOptions = { [K in RagKey]?: string | number | boolean };

/** The options of `llm-size plan` (model, workload, load, targets, search limits), camelCase. */
export type PlanOptions = { [K in PlanKey]?: string | number | boolean };

export interface CatalogOption {
  /** presets to resolve `model` and `gpu` against (default: the built-ins; see loadPresets) */
  catalog?: Catalog;
  /** the config.json that the `hf` option names, from `await fetchHub(options, { env })` */
  hub?: HubConfig;
}

/** Options -> raw options with where each came from ("options.batch"), rejecting unknown keys and values no flag could hold. */
function fromOptions<K extends string>(command: string, options: unknown, keys: readonly K[]): { raw: Partial<Record<K, Raw>>; origins: Partial<Record<K, string>> } {
  const checked = check(optionsSchema(keys), options, `${command}: options`) as Record<string, Raw>;
  const raw: Partial<Record<K, Raw>> = {};
  const origins: Partial<Record<K, string>> = {};
  for (const [key, value] of Object.entries(checked)) {
    if (value === undefined) continue;
    raw[key as K] = value;
    origins[key as K] = `options.${key}`;
  }
  return { raw, origins };
}

/** The second argument of estimate, train and plan: a catalog and a fetched Hub config, both optional. */
function catalogOption(command: string, second: unknown): { catalog: Catalog; hub?: HubConfig } {
  const { catalog, hub } = check(catalogOptionSchema, second ?? {}, `${command}: second argument`);
  return { catalog: (catalog as Catalog | undefined) ?? builtInCatalog(), hub: hub as HubConfig | undefined };
}

/**
 * The async step before `estimate`, `plan` or `train` when `options.hf` names a Hugging Face
 * Hub repo: fetches its config.json (HF_TOKEN and HF_ENDPOINT from `env`, cached under
 * ~/.cache/llm-size/hf; `offline: true` reads the cache only). Returns undefined without `hf`.
 *
 * @example
 * const options = { hf: 'Qwen/Qwen3-8B', gpu: 'h100-sxm' };
 * estimate(options, { hub: await fetchHub(options, { env: process.env }) });
 */
export async function fetchHub(options: { hf?: unknown; offline?: unknown }, settings: { env?: Record<string, string | undefined> } = {}): Promise<HubConfig | undefined> {
  const { hf, offline } = check(hubOptionsSchema, options, 'fetchHub: options');
  const { env = {} } = check(hubSettingsSchema, settings ?? {}, 'fetchHub: second argument');
  return fetchHubFor({ hf, offline }, { hf: 'options.hf' }, env);
}

/** Pure estimate from fully resolved inputs (ModelSpec, HardwareSpec, formats in base units). */
export const estimateFromInput = (input: EstimateInput): Estimate => estimateResolved(check(estimateInputSchema, input, 'estimateFromInput: input') as unknown as EstimateInput);

/**
 * Memory, FLOPs, latency, throughput and cost of serving a model, from the same options the
 * CLI takes. Throws `UserError` (with `exitCode` 2) naming the option and the bad value.
 * Resolution warnings (e.g. "no --gpu given") come first in `warnings`.
 */
export function estimate(options: EstimateOptions, settings: CatalogOption = {}): Estimate {
  const { raw, origins } = fromOptions<EstimateKey>('estimate', options, ESTIMATE_KEYS);
  const { catalog, hub } = catalogOption('estimate', settings);
  // one pool of replicas, or with prefillWorkers and decodeWorkers a disaggregated deployment
  const { estimate: result, warnings } = estimateFromRaw(raw, origins as Origins, catalog, hub);
  result.warnings.unshift(...warnings);
  return result;
}

/**
 * The built-in presets, plus preset files (YAML or JSON) read from `paths` (files or
 * directories). A user preset with the id of a built-in replaces it. Throws `UserError` naming
 * file, line and field when a file is invalid.
 */
export async function loadPresets(paths: string[] = []): Promise<Catalog> {
  check(pathsSchema, paths, 'loadPresets: paths');
  const builtIn = builtInCatalog();
  if (!paths.length) return builtIn;
  const { loadPresetPaths } = await import('./inputs/load-presets.js');
  const { formatIssue } = await import('./inputs/validate.js');
  const loaded = loadPresetPaths(paths, 'loadPresets');
  if (loaded.issues.length) throw new UserError(loaded.issues.map(formatIssue).join('; '));
  const replace = <T extends { id: string }>(base: T[], extra: T[]): T[] => [...extra, ...base.filter((b) => !extra.some((e) => e.id === b.id))];
  return { ...builtIn, hardware: replace(builtIn.hardware, loaded.hardware), models: replace(builtIn.models, loaded.models), engines: replace(builtIn.engines ?? [], loaded.engines), grid: replace(builtIn.grid ?? [], loaded.grid) };
}

/** Pure training estimate from fully resolved inputs (ModelSpec, HardwareSpec, layout). */
export const trainFromInput = (input: TrainInput): TrainEstimate => trainResolved(check(trainInputSchema, input, 'trainFromInput: input') as unknown as TrainInput);

/**
 * Training and fine-tuning (src/estimate/training.ts) from the same options `llm-size train`
 * takes: FLOPs, time, device-hours, cost, energy and memory per device, with suggestions when
 * it does not fit. Returns the document `--format json` prints; throws `UserError` naming the
 * option.
 *
 * @example
 * train({ model: 'llama-3.1-8b', gpu: 'h100-sxm', count: 8, zero: 3, tokens: '1b' }).figures['train.deviceHours'].value
 */
export function train(options: TrainOptions, settings: CatalogOption = {}): TrainEstimate {
  const { raw, origins } = fromOptions<TrainKey>('train', options, TRAIN_KEYS);
  const { catalog, hub } = catalogOption('train', settings);
  const { input, warnings } = resolveTrain(raw, origins, catalog, hub);
  const result = trainResolved(input);
  result.warnings.unshift(...warnings);
  return result;
}

/**
 * The deployment search of `llm-size plan` from the same options: hardware x devices per
 * replica x layout x formats x replicas meeting the latency targets at a load (`qps` or
 * `concurrency`), cheapest per million output tokens first. Returns the document
 * `--format json` prints (rows, top pick with its figures and engine launch flags, the
 * closest miss when nothing meets the targets).
 *
 * @example
 * plan({ model: 'llama-3.1-8b', qps: 5, tpot: '50ms', hardware: 'h100-sxm,l4' }).rows[0].usdPerMillionOutputTokens
 */
export function plan(options: PlanOptions, settings: CatalogOption = {}): PlanDocument {
  const { raw, origins } = fromOptions<PlanKey>('plan', options, PLAN_KEYS);
  const { catalog, hub } = catalogOption('plan', settings);
  return runPlan(raw, origins, catalog, hub).document;
}

/**
 * Retrieval-augmented generation (src/estimate/rag.ts) from the options `llm-size rag` takes:
 * corpus embedding time and cost, vector index memory and build time, per-query retrieval and
 * reranking, and the generator's figures at the RAG prompt, end to end.
 *
 * @example
 * rag({ corpusTokens: 50e9, chunkTokens: 512, embedding: 'bge-m3', index: 'hnsw', topK: 8, model: 'llama-3.1-8b', gpu: 'l4' }).figures['index.memory'].value
 */
export function rag(options: RagOptions, settings: CatalogOption = {}): RagEstimate {
  const { raw, origins } = fromOptions<RagKey>('rag', options, RAG_KEYS);
  const { catalog, hub } = catalogOption('rag', settings);
  const { input, warnings } = resolveRag(raw, origins, catalog, hub);
  const result = ragResolved(input);
  result.warnings.unshift(...warnings.filter((w) => !result.warnings.includes(w)));
  return result;
}

/**
 * A discrete-event simulation of one deployment serving requests, from the same options as
 * `llm-size simulate`: percentile latencies (latency.ttft.p50 ... latency.e2e.p99), throughput,
 * goodput, the engine state over time. With `qps` a range ("1..20") or a list, one point per
 * offered load. Returns the document `--format json` prints.
 *
 * @example
 * simulate({ model: 'llama-3.1-8b', gpu: 'h100-sxm', qps: 5, outputTokens: 'lognormal:mean=300,sd=200' }).figures['latency.ttft.p99'].value
 */
export function simulate(options: SimulateOptions, settings: CatalogOption = {}): SimulationDocument | SimulationSweepDocument {
  const { raw, origins } = fromOptions<SimulateKey>('simulate', options, SIMULATE_KEYS);
  const { catalog, hub } = catalogOption('simulate', settings);
  return runSimulate(raw, origins, catalog, hub).document;
}
