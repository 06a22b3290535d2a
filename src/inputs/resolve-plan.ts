import { UserError, unknownChoice } from '../errors.js';
import { estimate } from '../estimate/index.js';
import type { EstimateInput } from '../estimate/input.js';
import type { Figures } from '../estimate/terms.js';
import { launchCommands, pricedHardware, searchPlans, type HardwareOutcome, type PlanRequest, type PlanResult, type PlanRow, type Targets } from '../estimate/plan.js';
import type { Catalog } from './catalog.js';
import type { HubConfig } from './hub.js';
import { positiveInt, positiveNumber, quantity, type Named, type Raw } from './options.js';
import { FORMATS, formatByName, FORMAT_NAMES_HELP, KV_FORMAT_IDS, type Format } from './precision.js';
import { findHardware } from './presets.js';
import { kindsOf, priceFor } from './price.js';
import { resolveEstimate, resolvePriceFlags, type EstimateKey, type Origins, type RawOptions } from './resolve.js';

/**
 * `llm-size plan` options (flags, spec-file keys, library options) -> the deployment search
 * (src/estimate/plan.ts searchPlans) -> the document `--format json` prints. Pure: the CLI
 * command renders it, the library's `plan(options)` returns it.
 */

/** Keys of the model and workload that `plan` passes through to the estimator unchanged. */
const MODEL_KEYS = ['model', 'params', 'hfConfig', 'hf', 'offline', 'layers', 'hidden', 'heads', 'kvHeads', 'headDim', 'ffn', 'vocab', 'tiedEmbeddings'] as const satisfies readonly EstimateKey[];
const PASSED_KEYS = [...MODEL_KEYS, 'inputTokens', 'outputTokens', 'context', 'engine', 'gpusPerNode', 'mfu', 'mbu'] as const satisfies readonly EstimateKey[];
/** Every option of `llm-size plan`, camelCase as in a spec file. */
export const PLAN_KEYS = [
  ...PASSED_KEYS, 'precision', 'kvPrecision', 'gpu', 'hardware', 'price', 'provider', 'priceKind', 'amortizeYears',
  'qps', 'concurrency', 'ttft', 'tpot', 'e2e', 'maxDevices', 'top',
] as const;
export type PlanKey = (typeof PLAN_KEYS)[number];
export type PlanRawOptions = Partial<Record<PlanKey, Raw>>;
export type PlanOrigins = Partial<Record<PlanKey, string>>;
const DEFAULT_WEIGHTS = ['bf16', 'fp8', 'int4'];

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const list = (v: unknown): string[] => String(v).split(',').map((x) => x.trim()).filter(Boolean);

const duration = (n: Named): number | undefined => (n.value === undefined ? undefined : quantity(n, 'duration'));

/** One row of the plan document: a deployment, its latencies (s) and costs (USD/h, USD). */
export interface PlanDocumentRow {
  hardware: string; weights: string; kv: string; tp: number; pp: number; ep: number;
  devicesPerReplica: number; replicas: number; devices: number; concurrencyPerReplica: number;
  ttft: number; tpot: number; e2e: number; usdPerHour: number; usdPerMillionOutputTokens: number;
  why: string; bound: string; estimateCommand: string;
}

/** What `llm-size plan --format json` prints and the library's `plan()` returns. */
export interface PlanDocument {
  schemaVersion: 1;
  input: {
    model: { id: string; name: string };
    workload: { inputTokens: number; outputTokens: number; context: number };
    load: { qps: number | null; concurrency: number | null };
    targets: { ttft: number | null; tpot: number | null; e2e: number | null };
    engine: string; maxDevices: number; hardware: string[]; weights: string[];
  };
  rows: PlanDocumentRow[];
  top: (PlanDocumentRow & { figures: Figures; launch: { engine: string; command: string }[] }) | null;
  /** when nothing meets the targets: what misses by least, and the --max-devices it was found under */
  closest: (PlanDocumentRow & { failing: string[]; maxDevices: number }) | null;
  /** each hardware searched, with its price: its best row or why it has none */
  byHardware: HardwareOutcome[];
  configurationsSearched: number;
  configurationsEvaluated: number;
  configurationsFitting: number;
  warnings: string[];
}

export interface PlanRun {
  document: PlanDocument;
  request: PlanRequest;
  result: PlanResult;
  /** engine launch flags for the top pick */
  launch: { engine: string; command: string }[];
  /** the `llm-size estimate` command that reproduces a row */
  reproduce: (row: PlanRow) => string;
  warnings: string[];
}

/** Resolves plan options, runs the search with the full estimator, builds the document. */
export function runPlan(raw: PlanRawOptions, origins: PlanOrigins, catalog: Catalog, hub?: HubConfig): PlanRun {
  const named = (key: PlanKey): Named => ({ value: raw[key], where: origins[key] ?? `--${kebab(key)}` });
  const has = (key: PlanKey) => raw[key] !== undefined;
  if (!has('qps') && !has('concurrency')) throw new UserError('plan needs a load: pass --qps <requests per second> or --concurrency <requests in flight>');
  if (has('qps') && has('concurrency')) throw new UserError('give --qps or --concurrency, not both');

  // Model, workload, engine: resolved the way estimate resolves them.
  const hardwareIds = has('hardware') ? list(raw.hardware) : has('gpu') ? list(raw.gpu) : undefined;
  const hardware = hardwareIds?.map((id) => findHardware(catalog, id));
  const modelRaw: RawOptions = { gpu: hardware?.[0]?.id ?? catalog.hardware[0]?.id };
  for (const key of PASSED_KEYS) if (has(key)) modelRaw[key] = raw[key];
  const { input: resolved, warnings } = resolveEstimate(modelRaw, origins as Origins, catalog, hub);
  if (resolved.model.task) throw new UserError(`plan searches deployments of generators; ${resolved.model.name} is ${resolved.model.task === 'rerank' ? 'a reranker' : 'an embedding model'}: size it with llm-size estimate (sequences per second at a batch) or llm-size rag`);

  const weights: Format[] = (has('precision') ? list(raw.precision) : DEFAULT_WEIGHTS).map((name) => {
    const f = formatByName(name);
    if (!f) throw unknownChoice('weight format (--precision)', name, FORMAT_NAMES_HELP);
    return f;
  });
  const kv: PlanRequest['kv'] = has('kvPrecision')
    ? list(raw.kvPrecision).map((name) => {
        if (!(KV_FORMAT_IDS as readonly string[]).includes(name.toLowerCase())) throw unknownChoice('KV format (--kv-precision)', name, KV_FORMAT_IDS);
        return FORMATS[name.toLowerCase() as keyof typeof FORMATS];
      })
    : ['activation', FORMATS.fp8];
  const targets: Targets = { ttft: duration(named('ttft')), tpot: duration(named('tpot')), e2e: duration(named('e2e')) };
  const qps = has('qps') ? positiveNumber(named('qps'), 'qps') : undefined;
  const concurrency = has('concurrency') ? positiveInt(named('concurrency'), 'concurrency') : undefined;
  const maxDevices = has('maxDevices') ? positiveInt(named('maxDevices'), 'devices') : 64;
  const top = has('top') ? positiveInt(named('top'), 'rows') : 10;

  // Prices: --price (one number, or id=usd pairs), else each preset's by --price-kind (and
  // --provider); devices without one are left out, each group named with what would price it.
  const { override, choice: pick, kindWhere } = resolvePriceFlags(raw, origins, catalog);
  const unpriced: string[] = [];
  const purchaseOnly: string[] = [];
  const priced = pricedHardware(catalog, hardware, (hw) => {
    try {
      const p = priceFor(hw, override, pick, hardware === undefined ? undefined : kindWhere);
      if (!p) (pick.kind !== 'purchase' && kindsOf(hw).includes('purchase') ? purchaseOnly : unpriced).push(hw.id);
      return p;
    } catch (e) {
      // over the whole catalogue, a device the provider or kind does not cover is left out
      if (e instanceof UserError && hardware === undefined) return undefined;
      throw e;
    }
  });
  if (unpriced.length) warnings.push(`left out, no ${pick.kind} price${pick.provider ? ` from ${pick.provider.value}` : ''} (pass --price id=usd): ${unpriced.join(', ')}`);
  if (purchaseOnly.length) warnings.push(`left out, priced for purchase only (pass --amortize-years <years> to plan owned hardware): ${purchaseOnly.join(', ')}`);
  if (!resolved.engine) throw new UserError('no engine profiles in the catalogue; pass --engine');

  const request: PlanRequest = {
    model: resolved.model, inputTokens: resolved.workload.inputTokens, outputTokens: resolved.workload.outputTokens, context: resolved.workload.context,
    qps, concurrency, targets, hardware: priced, weights, kv, engine: resolved.engine, maxDevices, gpusPerNode: resolved.gpusPerNode, top, mfu: resolved.mfu, mbu: resolved.mbu,
    hardwareNamed: hardware !== undefined,
  };
  const result = searchPlans(request, (i) => estimate(i));
  warnings.push(...result.warnings);

  const modelArgs = MODEL_KEYS.filter((k) => has(k)).map((k) => (raw[k] === true ? `--${kebab(k)}` : `--${kebab(k)} ${raw[k]}`));
  // the row's own price: the pair that names its device, or the one for all, or the provider's
  const priceOf = (id: string) => override?.byId.get(id) ?? override?.all;
  const reproduce = (row: PlanRow) => estimateCommandFor(row.input, modelArgs, { provider: priceOf(row.hardware) === undefined ? raw.provider : undefined, price: priceOf(row.hardware), priceKind: raw.priceKind, amortizeYears: raw.amortizeYears, qps, concurrency });
  // The repository the engines load: the Hub repo --hf names, a preset's hfRepo, else the name.
  const repo = hub?.repo ?? ((has('model') && catalog.models.find((m) => m.model === resolved.model)?.hfRepo) || resolved.model.name);
  const best = result.rows[0];
  const launch = best ? launchCommands(best, repo, catalog.engines ?? []) : [];
  const describeRow = (r: PlanRow): PlanDocumentRow => ({
    hardware: r.hardware, weights: r.weights, kv: r.kv, tp: r.tp, pp: r.pp, ep: r.ep, devicesPerReplica: r.devicesPerReplica, replicas: r.replicas, devices: r.devices,
    concurrencyPerReplica: r.concurrencyPerReplica, ttft: r.ttftSeconds, tpot: r.tpotSeconds, e2e: r.e2eSeconds, usdPerHour: r.usdPerHour, usdPerMillionOutputTokens: r.usdPerMillionOutputTokens,
    why: r.why, bound: r.bound, estimateCommand: reproduce(r),
  });
  const document: PlanDocument = {
    schemaVersion: 1,
    input: {
      model: { id: resolved.model.id, name: resolved.model.name },
      workload: { inputTokens: request.inputTokens, outputTokens: request.outputTokens, context: request.context },
      load: { qps: qps ?? null, concurrency: concurrency ?? null },
      targets: { ttft: targets.ttft ?? null, tpot: targets.tpot ?? null, e2e: targets.e2e ?? null },
      engine: request.engine.id, maxDevices, hardware: priced.map((h) => h.spec.id), weights: weights.map((w) => w.id),
    },
    rows: result.rows.map(describeRow),
    top: best ? { ...describeRow(best), figures: best.estimate.figures, launch } : null,
    closest: result.closest ? { ...describeRow(result.closest.row), failing: result.closest.failing, maxDevices: result.closest.maxDevices } : null,
    byHardware: result.byHardware,
    configurationsSearched: result.configurationsSearched,
    configurationsEvaluated: result.configurationsEvaluated,
    configurationsFitting: result.configurationsFitting,
    warnings,
  };
  return { document, request, result, launch, reproduce, warnings };
}

/** The `llm-size estimate` command that reproduces a plan row's figures. */
export function estimateCommandFor(input: EstimateInput, modelArgs: string[], extra: { provider?: unknown; price?: unknown; priceKind?: unknown; amortizeYears?: unknown; qps?: number; concurrency?: number }): string {
  const p = input.parallel!;
  const parts = ['llm-size estimate', ...modelArgs, `--gpu ${input.hardware.id}`, `--tp ${p.tp}`, `--pp ${p.pp}`];
  if (p.ep > 1) parts.push(`--ep ${p.ep}`);
  parts.push(`--replicas ${p.replicas}`, `--precision ${input.weights.id}`, `--kv-precision ${input.kv.id}`, `--engine ${input.engine!.id}`);
  parts.push(extra.qps !== undefined ? `--qps ${extra.qps}` : `--concurrency ${extra.concurrency}`);
  parts.push(`--input-tokens ${input.workload.inputTokens}`, `--output-tokens ${input.workload.outputTokens}`, `--context ${input.workload.context}`);
  if (input.gpusPerNode !== undefined) parts.push(`--gpus-per-node ${input.gpusPerNode}`);
  if (input.mfu !== undefined) parts.push(`--mfu ${input.mfu}`);
  if (input.mbu !== undefined) parts.push(`--mbu ${input.mbu}`);
  if (extra.price !== undefined) parts.push(`--price ${extra.price}`);
  else if (extra.provider !== undefined) parts.push(`--provider ${extra.provider}`);
  if (extra.priceKind !== undefined) parts.push(`--price-kind ${extra.priceKind}`);
  if (extra.amortizeYears !== undefined) parts.push(`--amortize-years ${extra.amortizeYears}`);
  return parts.join(' ');
}
