import { UserError, unknownChoice } from '../errors.js';
import { estimate } from '../estimate/index.js';
import type { EstimateInput } from '../estimate/input.js';
import type { Figures } from '../estimate/terms.js';
import { compareWithApis, type ApiComparison } from '../estimate/api-compare.js';
import type { ModelSpec } from './model.js';
import { launchCommands, pricedHardware, searchCache, searchPlans, type FamilyOutcome, type HardwareOutcome, type PlanRequest, type PlanResult, type PlanRow, type Targets } from '../estimate/plan.js';
import type { Catalog, ModelPreset } from './catalog.js';
import type { HubConfig } from './hub.js';
import { positiveInt, positiveNumber, quantity, type Named, type Raw } from './options.js';
import { FORMATS, formatByName, FORMAT_NAMES_HELP, KV_FORMAT_IDS, type Format } from './precision.js';
import type { HardwareSpec } from './hardware.js';
import { findHardware, findModel } from './presets.js';
import { DEFAULT_AMORTIZE_YEARS, kindsOf, priceFor } from './price.js';
import type { PriceKind } from './hardware.js';
import { ENGINE_OPTION_KEYS, resolveEstimate, resolvePriceFlags, type EstimateKey, type Origins, type RawOptions } from './resolve.js';
import { DEFAULT_REQUESTS, DEFAULT_SEED, PERCENTILE_TARGET_KEYS, percentileTargets } from './resolve-simulate.js';
import { arrivalProcess } from './traffic.js';
import { verifyPlanBySimulation, type PlanSimulation, type SimulatedPlanRow } from '../estimate/plan-simulate.js';
import { MAX_TOKENS_PER_REQUEST, meanTokens, servedTokens } from '../estimate/workload.js';
import { bool, choice } from './options.js';
import { optimizeHotCode } from '../jit.js';
import { disaggregatedLaunch, searchDisaggregated, type DisaggregatedPlan } from '../estimate/plan-disagg.js';
import type { EstimateInput as PoolInput } from '../estimate/input.js';
import { chooseEngine, findEngine, newestEngines, whyNot } from './engine-choice.js';

/**
 * `llm-size plan` options (flags, spec-file keys, library options) -> the deployment search
 * (src/estimate/plan.ts searchPlans) -> the document `--format json` prints. Pure: the CLI
 * command renders it, the library's `plan(options)` returns it.
 */

/** Keys of the model and workload that `plan` passes through to the estimator unchanged. */
const MODEL_KEYS = ['model', 'params', 'hfConfig', 'hf', 'offline', 'layers', 'hidden', 'heads', 'kvHeads', 'headDim', 'ffn', 'vocab', 'tiedEmbeddings'] as const satisfies readonly EstimateKey[];
const PASSED_KEYS = [...MODEL_KEYS, 'inputTokens', 'outputTokens', 'workload', 'context', 'allowBeyondTrained', 'engine', 'gpusPerNode', 'mfu', 'mbu', 'powerWatts', 'usdPerKwh', ...ENGINE_OPTION_KEYS, 'speculative', 'draftTokens', 'acceptance', 'acceptedLength', 'prefixTokens', 'cacheHitRate'] as const satisfies readonly EstimateKey[];
/** Every option of `llm-size plan`, camelCase as in a spec file. */
export const PLAN_KEYS = [
  ...PASSED_KEYS, 'precision', 'kvPrecision', 'gpu', 'hardware', 'price', 'provider', 'priceKind', 'amortizeYears', 'hostingUsdPerKwMonth', 'pue', 'compareApi', 'cachedInput', 'cachedInputDiscount',
  'qps', 'concurrency', 'ttft', 'tpot', 'e2e', 'maxDevices', 'top',
  // percentile targets and the simulation that checks them (resolve-simulate.ts, plan-simulate.ts)
  ...PERCENTILE_TARGET_KEYS, 'arrival', 'requests', 'seed', 'simulate',
  // disaggregated prefill / decode pools beside the aggregated deployments (plan-disagg.ts)
  'disaggregated',
] as const;
export type PlanKey = (typeof PLAN_KEYS)[number];
export type PlanRawOptions = Partial<Record<PlanKey, Raw>>;
export type PlanOrigins = Partial<Record<PlanKey, string>>;
const DEFAULT_WEIGHTS = ['bf16', 'fp8', 'int4'];

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const list = (v: unknown): string[] => String(v).split(',').map((x) => x.trim()).filter(Boolean);

/** One row of the plan document: a deployment, its latencies (s) and costs (USD/h, USD). */
export interface PlanDocumentRow {
  hardware: string; weights: string; kv: string; tp: number; pp: number; ep: number;
  /** attention data-parallel groups (1: tensor parallelism) and redundant experts of the layout */
  dpAttention: number; redundantExperts: number;
  devicesPerReplica: number; replicas: number; devices: number; concurrencyPerReplica: number;
  ttft: number; tpot: number; e2e: number; usdPerHour: number; usdPerMillionOutputTokens: number;
  why: string; bound: string;
  /** the speculative method this deployment decodes with, null for plain decoding */
  speculative: string | null;
  estimateCommand: string;
  /** the kind of its price: a rental's (on-demand, marketplace, reserved-1y, reserved-3y, spot) or purchase (owned: amortized purchase + electricity + colocation) */
  priceKind: PriceKind | null;
  /** owned hardware: the purchase price of its devices, USD (cost.capexUsd); null for rentals */
  capexUsd: number | null;
}

/** One pool of a disaggregated pick. */
export interface PlanPoolDocument {
  hardware: string; weights: string; kv: string; workers: number; devicesPerWorker: number; devices: number;
  tp: number; pp: number; ep: number; dpAttention: number; redundantExperts: number;
  /** prefill: prompts per step per worker; decode: sequences per worker */
  batch: number;
  usdPerHour: number;
}

/** What plan says of disaggregated serving. */
export interface PlanDisaggregatedDocument {
  mode: 'auto' | 'on';
  best: {
    prefill: PlanPoolDocument; decode: PlanPoolDocument; ratio: number; devices: number;
    ttft: number; tpot: number; e2e: number; kvTransfer: { bytes: number; seconds: number; link: string };
    usdPerHour: number; usdPerMillionOutputTokens: number; estimateCommand: string; figures: Figures;
  } | null;
  /** the best aggregated row's cost, for the comparison */
  aggregated: { usdPerHour: number; usdPerMillionOutputTokens: number; devices: number } | null;
  winner: 'aggregated' | 'disaggregated' | null;
  why: string;
  launch: { engine: string; command: string }[];
  configurationsSearched: number;
  configurationsEvaluated: number;
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
    /** the kind of price the rows rank by (--price-kind; on-demand by default) */
    priceKind: PriceKind;
  };
  rows: PlanDocumentRow[];
  /** with percentile targets or distributions: rows were served in simulation (rows then carry its replicas, costs and medians) */
  simulation?: {
    targets: { metric: string; percentile: number; seconds: number }[];
    rowsVerified: number;
    simulations: number;
    /** devices of the cheapest deployment meeting the targets on their percentiles (the top pick), and of the cheapest meeting the same thresholds on the median */
    devices: number | null;
    medianDevices: number | null;
    devicesAddedByPercentiles: number | null;
    /** the top pick's cost per hour, and the devices it alone would need on the medians */
    usdPerHour: number | null;
    topPickMedianDevices: number | null;
    /** the cheapest deployment meeting the same thresholds on the median */
    medianBest: { hardware: string; weights: string; kv: string; tp: number; pp: number; ep: number; devicesPerReplica: number; replicas: number; devices: number; usdPerHour: number } | null;
  };
  top: (PlanDocumentRow & { figures: Figures; launch: { engine: string; command: string }[] }) | null;
  /**
   * With --disaggregated auto (default with --qps) or on: the cheapest disaggregated deployment
   * (a prefill pool and a decode pool, each its own hardware, layout and precision) beside the
   * best aggregated row, which of the two wins and why, and its launch lines; null with off.
   */
  disaggregated: PlanDisaggregatedDocument | null;
  /** when nothing meets the targets: what misses by least, and the --max-devices it was found under */
  closest: (PlanDocumentRow & { failing: string[]; maxDevices: number }) | null;
  /** each hardware searched, with its price: its best row or why it has none */
  byHardware: HardwareOutcome[];
  /** each kind of layout searched (tensor parallel, attention DP + expert parallel within a node, across nodes, in an NVL72 domain): its cheapest deployment meeting the targets */
  byLayout: FamilyOutcome[];
  /**
   * Owned hardware beside rentals: devices with only a purchase price (the default rule
   * amortizes it, plus electricity and colocation) are a different decision from renting, a
   * purchase up front against a rent that can stop, so they are ranked apart from the rows;
   * null when every device searched has the same kind of price.
   */
  owned: { hardware: string[]; rows: PlanDocumentRow[]; byHardware: HardwareOutcome[] } | null;
  /** with --compare-api: the top pick against per-token API prices of the model (presets/api) */
  compareApi: (Omit<ApiComparison, 'figures'> & { model: string; cachedInputShare: number; figures: Figures }) | null;
  configurationsSearched: number;
  configurationsEvaluated: number;
  configurationsFitting: number;
  warnings: string[];
}

export interface PlanRun {
  document: PlanDocument;
  request: PlanRequest;
  result: PlanResult;
  /** owned hardware ranked apart from the rentals (document.owned), when both were searched */
  ownedResult?: PlanResult;
  /** engine launch flags for the top pick */
  launch: { engine: string; command: string }[];
  /** the `llm-size estimate` command that reproduces a row */
  reproduce: (row: PlanRow) => string;
  warnings: string[];
  /** with percentile targets or distributions: the rows as served in simulation */
  simulation?: PlanSimulation;
}

const fmt = (s: number): string => (s >= 1 ? `${+s.toPrecision(3)} s` : `${+(s * 1e3).toPrecision(3)} ms`);

/** A row at the replicas the simulation needs, its latencies the simulated medians. */
function simulatedRow(r: SimulatedPlanRow, targets: { metric: string; percentile: number; seconds: number }[], offeredTokensPerSecond: number | undefined): PlanRow {
  const f = r.figures;
  const replicas = r.replicas!;
  const met = targets.map((t) => `${t.metric.toUpperCase()} p${t.percentile} ${fmt(f[`latency.${t.metric}.p${t.percentile}`].value)} <= ${fmt(t.seconds)}`);
  const usdPerHour = r.usdPerHour!;
  const tps = offeredTokensPerSecond ?? f['throughput.outputTokensPerSecond'].value;
  return {
    ...r.row,
    replicas,
    devices: r.devices!,
    ttftSeconds: f['latency.ttft.p50'].value,
    tpotSeconds: f['latency.tpot.p50'].value,
    e2eSeconds: f['latency.e2e.p50'].value,
    usdPerHour,
    usdPerMillionOutputTokens: (usdPerHour / 3600 / Math.max(tps, Number.MIN_VALUE)) * 1e6,
    concurrencyPerReplica: f['simulation.peakRunning'].value,
    why: `${met.join(', ')} (simulated, ${f['simulation.requests'].value} requests)`,
    bound: replicas > r.row.replicas ? `percentiles: the analytic search's ${r.row.replicas} replica(s) meet the targets on average but not on their percentiles` : replicas < r.row.replicas ? `simulation: ${replicas} replica(s) meet the targets (the analytic search asked for ${r.row.replicas})` : r.row.bound,
    input: { ...r.row.input, parallel: { ...r.row.input.parallel!, replicas } },
    estimate: { ...r.row.estimate, figures: { ...r.row.estimate.figures, ...f } },
  };
}

/** The document's simulation block: targets, how many rows were served, and what percentiles add over medians. */
function simulationSummary(s: PlanSimulation, targets: { metric: string; percentile: number; seconds: number }[]): NonNullable<PlanDocument['simulation']> {
  // the cheapest plan meeting the targets on their percentiles, and the cheapest meeting them on the median
  const percentileDevices = s.best?.devices ?? null;
  const medianDevices = s.medianBest?.medianDevices ?? null;
  return {
    targets: targets.map((t) => ({ metric: t.metric, percentile: t.percentile, seconds: t.seconds })),
    rowsVerified: s.verified,
    simulations: s.simulations,
    devices: percentileDevices,
    medianDevices,
    devicesAddedByPercentiles: percentileDevices !== null && medianDevices !== null ? percentileDevices - medianDevices : null,
    usdPerHour: s.best?.usdPerHour ?? null,
    topPickMedianDevices: s.best?.medianDevices ?? null,
    medianBest: s.medianBest ? { hardware: s.medianBest.row.hardware, weights: s.medianBest.row.weights, kv: s.medianBest.row.kv, tp: s.medianBest.row.tp, pp: s.medianBest.row.pp, ep: s.medianBest.row.ep, devicesPerReplica: s.medianBest.row.devicesPerReplica, replicas: s.medianBest.medianReplicas!, devices: s.medianBest.medianDevices!, usdPerHour: s.medianBest.row.input.price!.usdPerHour * s.medianBest.medianDevices! } : null,
  };
}

/** Resolves plan options, runs the search with the full estimator, builds the document. */
export function runPlan(raw: PlanRawOptions, origins: PlanOrigins, catalog: Catalog, hub?: HubConfig): PlanRun {
  const named = (key: PlanKey): Named => ({ value: raw[key], where: origins[key] ?? `--${kebab(key)}` });
  const has = (key: PlanKey) => raw[key] !== undefined;
  if (!has('qps') && !has('concurrency')) throw new UserError('plan needs a load: pass --qps <requests per second> or --concurrency <requests in flight>');
  if (has('qps') && has('concurrency')) throw new UserError('give --qps or --concurrency, not both');

  // Options read only with another: refused alone rather than ignored.
  const compareApiOn = has('compareApi') && bool(named('compareApi'));
  for (const key of ['cachedInput', 'cachedInputDiscount'] as const) {
    if (has(key) && !compareApiOn) throw new UserError(`${named(key).where}: applies to the API comparison; pass --compare-api with it, or drop it`);
  }
  const cachedInput = has('cachedInput') ? quantity(named('cachedInput'), 'fraction') : undefined;
  const cachedInputDiscount = has('cachedInputDiscount') ? quantity(named('cachedInputDiscount'), 'share') : undefined;
  if (has('hardware') && has('gpu')) throw new UserError(`${named('gpu').where}: plan searches the --hardware list (${String(raw.hardware)}); give --hardware or --gpu, not both`);

  // Model, workload, engine: resolved the way estimate resolves them.
  const hardwareIds = has('hardware') ? list(raw.hardware) : has('gpu') ? list(raw.gpu) : undefined;
  const hardware = hardwareIds?.map((id) => findHardware(catalog, id));
  const modelRaw: RawOptions = { gpu: hardware?.[0]?.id ?? catalog.hardware[0]?.id };
  for (const key of PASSED_KEYS) if (has(key)) modelRaw[key] = raw[key];
  // --accepted-length / --acceptance alone: the model's own MTP modules where it has them, else an EAGLE-3 head
  if ((has('acceptedLength') || has('acceptance') || has('draftTokens')) && !has('speculative')) modelRaw.speculative = modelHasMtp(raw, catalog) ? 'mtp' : 'eagle3';
  const { input: resolved, warnings: resolvedWarnings, traces } = resolveEstimate(modelRaw, origins as Origins, catalog, hub);
  // a distribution's mean request is what the analytic search sizes; the simulation serves the distribution
  const warnings = resolvedWarnings.filter((w) => !w.includes('these figures are for the mean request'));
  if (resolved.model.task) throw new UserError(`plan searches deployments of generators; ${resolved.model.name} is ${resolved.model.task === 'rerank' ? 'a reranker' : 'an embedding model'}: size it with llm-size estimate (sequences per second at a batch) or llm-size rag`);

  // By default the common formats and the checkpoint's own (gpt-oss's mxfp4, DeepSeek's fp8
  // blocks) with the GGUF llama.cpp converts it to (mxfp4 -> mxfp4_moe): a device no engine runs
  // the checkpoint on may still run its GGUF (a T4 serves gpt-oss-20b under llama.cpp).
  const own = resolved.model.quantization ? formatByName(resolved.model.quantization) : undefined;
  const defaults = [...new Set([...DEFAULT_WEIGHTS, ...(own ? [own.id, ...(own.ggufFile ? [own.ggufFile] : [])] : [])])];
  const weights: Format[] = (has('precision') ? list(raw.precision) : defaults).map((name) => {
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
  // Targets: plain --ttft/--tpot/--e2e are medians; --ttft-p99 and the like are percentiles,
  // checked by simulation. The analytic search takes each metric's tightest threshold.
  const allTargets = percentileTargets(raw, (key) => named(key as PlanKey));
  const tightest = (metric: 'ttft' | 'tpot' | 'e2e') => {
    const values = allTargets.filter((t) => t.metric === metric).map((t) => t.seconds);
    return values.length ? Math.min(...values) : undefined;
  };
  const targets: Targets = { ttft: tightest('ttft'), tpot: tightest('tpot'), e2e: tightest('e2e') };
  const arrival = has('arrival') ? arrivalProcess(named('arrival'), traces) : undefined;
  const simulateRows = allTargets.some((t) => t.percentile !== 50 || t.metric === 'itl') || resolved.traffic !== undefined || arrival !== undefined || (has('simulate') && bool(named('simulate')));
  if (!simulateRows) for (const key of ['requests', 'seed'] as const) if (has(key)) throw new UserError(`${named(key).where}: plan simulates only with percentile targets (--ttft-p99 ...), length distributions or --simulate`);
  const qps = has('qps') ? positiveNumber(named('qps'), 'qps') : undefined;
  const concurrency = has('concurrency') ? positiveInt(named('concurrency'), 'concurrency') : undefined;
  const maxDevices = has('maxDevices') ? positiveInt(named('maxDevices'), 'devices') : 64;
  const top = has('top') ? positiveInt(named('top'), 'rows') : 10;

  // Prices: --price (one number, or id=usd pairs), else each preset's by --price-kind (and
  // --provider); devices without one are left out, each group named with what would price it.
  const { override, choice: pick, kindWhere } = resolvePriceFlags(raw, origins, catalog);
  const unpriced: string[] = [];
  const purchaseOnly: string[] = [];
  const amortizedOnly: string[] = [];
  const priced = pricedHardware(catalog, hardware, (hw) => {
    try {
      const p = priceFor(hw, override, pick, hardware === undefined ? undefined : kindWhere);
      if (!p) (pick.kind !== 'purchase' && kindsOf(hw).includes('purchase') ? purchaseOnly : unpriced).push(hw.id);
      if (p?.fromPurchase) amortizedOnly.push(hw.id);
      return p;
    } catch (e) {
      // over the whole catalogue, a device the provider or kind does not cover is left out
      if (e instanceof UserError && hardware === undefined) return undefined;
      throw e;
    }
  });
  if (unpriced.length) warnings.push(`left out, no ${pick.kind} price${pick.provider ? ` from ${pick.provider.value}` : ''} (pass --price id=usd): ${unpriced.join(', ')}`);
  if (purchaseOnly.length) warnings.push(`left out, priced for purchase only (pass --amortize-years <years> to plan owned hardware): ${purchaseOnly.join(', ')}`);
  // Owned and rented prices answer different questions (a purchase up front against a rent that
  // can stop), so they are not ranked together: the rows rank the rentals, and devices priced
  // only as owned hardware (no public rental price) are ranked apart, below them.
  const isOwned = (h: (typeof priced)[number]) => h.price.purchaseUsd !== undefined;
  const rented = priced.filter((h) => !isOwned(h));
  const ownedApart = rented.length ? priced.filter(isOwned) : [];
  if (amortizedOnly.length) warnings.push(`no public rental price, so priced as owned hardware (the purchase amortized over ${pick.amortizeYears ?? DEFAULT_AMORTIZE_YEARS} years of 8,760 h, plus electricity and colocation)${ownedApart.length ? ', ranked apart from the rentals' : ''}: ${amortizedOnly.join(', ')}`);
  if (!resolved.engine) throw new UserError('no engine profiles in the catalogue; pass --engine');
  // Per configuration: the user's --engine where it runs the device and formats, else the default
  // engine for them (a configuration no engine runs is left out of the search).
  const pinned = has('engine') ? findEngine(catalog, String(raw.engine), named('engine').where) : undefined;
  const chooseFor = (hw: HardwareSpec, w: Format, k: Format): ReturnType<PlanRequest['engineFor']> => {
    if (pinned) return whyNot(pinned, hw, w, k) ? undefined : { engine: pinned, reason: `chosen with --engine ${raw.engine}` };
    try {
      const c = chooseEngine(catalog, hw, w, k);
      return c.warning ? undefined : { engine: c.engine, reason: c.reason };
    } catch {
      return undefined;
    }
  };
  // once per device and pair of formats: the searches ask again for every layout and device count
  const chosen = new Map<string, ReturnType<PlanRequest['engineFor']>>();
  const engineFor: PlanRequest['engineFor'] = (hw, w, k) => {
    const key = `${hw.id} ${w.id} ${k.id}`;
    if (!chosen.has(key)) chosen.set(key, chooseFor(hw, w, k));
    return chosen.get(key);
  };

  const request: PlanRequest = {
    model: resolved.model, inputTokens: resolved.workload.inputTokens, outputTokens: resolved.workload.outputTokens, context: resolved.workload.context,
    qps, concurrency, targets, hardware: rented.length ? rented : priced, weights, kv, engineFor, engineOptions: resolved.engineOptions, maxDevices, gpusPerNode: resolved.gpusPerNode, top, mfu: resolved.mfu, mbu: resolved.mbu, powerWatts: resolved.powerWatts, usdPerKwh: resolved.usdPerKwh,
    hardwareNamed: hardware !== undefined,
    // the aggregated and disaggregated searches share configurations and their probes
    cache: searchCache(),
    ...(resolved.speculative ? { speculative: resolved.speculative } : {}), ...(resolved.prefixCache ? { prefixCache: resolved.prefixCache } : {}),
  };
  const result = searchPlans(simulateRows ? { ...request, top: Math.max(top, 8) } : request, (i) => estimate(i, undefined, { fixes: false }));
  warnings.push(...result.warnings);
  // the owned devices' own ranking (analytic; the rentals' rows alone are simulated and disaggregated)
  const ownedResult = ownedApart.length ? searchPlans({ ...request, hardware: ownedApart }, (i) => estimate(i, undefined, { fixes: false })) : undefined;

  // Percentile targets or traffic as distributions: serve the rows in simulation and rank by it.
  let simulation: PlanSimulation | undefined;
  if (simulateRows) {
    // the simulation is one loop run for long: optimized code pays there (src/jit.ts)
    optimizeHotCode();
    const traffic = { ...(resolved.traffic ?? { input: { kind: 'fixed' as const, value: resolved.workload.inputTokens }, output: { kind: 'fixed' as const, value: resolved.workload.outputTokens } }), ...(arrival ? { arrival } : {}) };
    simulation = verifyPlanBySimulation(result.rows, {
      targets: allTargets, traffic, qps, concurrency, maxDevices, top,
      requests: has('requests') ? quantity(named('requests'), 'requests') : DEFAULT_REQUESTS,
      seed: has('seed') ? quantity(named('seed'), 'seed') : DEFAULT_SEED,
    });
    const meanOutput = meanTokens(traffic.output);
    result.rows = simulation.rows.filter((r) => r.replicas !== undefined).map((r) => simulatedRow(r, allTargets, qps !== undefined ? qps * meanOutput : undefined));
    if (!result.rows.length && simulation.rows.length) warnings.push(`no deployment meets ${allTargets.map((t) => `${t.metric.toUpperCase()} p${t.percentile} <= ${fmt(t.seconds)}`).join(', ')} in simulation within --max-devices ${maxDevices}: ${simulation.rows[0].row.hardware} misses ${simulation.rows[0].failing.map((t) => `${t.metric.toUpperCase()} p${t.percentile} (${fmt(simulation!.rows[0].figures[`latency.${t.metric}.p${t.percentile}`].value)})`).join(', ')} at ${Math.floor(maxDevices / simulation.rows[0].row.devicesPerReplica)} replicas`);
  }

  const modelArgs = MODEL_KEYS.filter((k) => has(k)).map((k) => (raw[k] === true ? `--${kebab(k)}` : `--${kebab(k)} ${raw[k]}`));
  // the row's own price: the pair that names its device, or the one for all, or the provider's
  const priceOf = (id: string) => override?.byId.get(id) ?? override?.all;
  const reproduce = (row: PlanRow) => estimateCommandFor(row.input, modelArgs, { provider: priceOf(row.hardware) === undefined ? raw.provider : undefined, price: priceOf(row.hardware), priceKind: raw.priceKind, amortizeYears: raw.amortizeYears, pue: raw.pue, hostingUsdPerKwMonth: raw.hostingUsdPerKwMonth, qps, concurrency });
  // The repository the engines load: the Hub repo --hf names, a preset's hfRepo, else the name.
  const repo = hub?.repo ?? (modelPreset(raw, catalog, resolved.model)?.hfRepo || resolved.model.name);
  const best = result.rows[0];
  // The engine must accept every request of the traffic, not only the mean one: with lengths as
  // distributions the launch context (--max-model-len) is the longest request (workload.ts
  // servedTokens: a log-normal without max= at its 99.9th percentile), within the model's window.
  const traffic = resolved.traffic;
  const unbounded = traffic ? [traffic.input, traffic.output].some((d) => d.kind === 'lognormal' && d.max >= MAX_TOKENS_PER_REQUEST) : false;
  const launchContext = traffic && !has('context') ? Math.min(resolved.model.maxContext, servedTokens(traffic.input) + servedTokens(traffic.output)) : undefined;
  if (best && launchContext !== undefined && unbounded) warnings.push(`the launch flags' context (--max-model-len ${launchContext}) covers 99.9% of requests (the log-normal lengths have no max=, so the longest is unbounded); the engine rejects the longer ones: give max= or --context to set it`);
  const launch = best ? launchCommands(best, repo, newestEngines(catalog), (e) => !whyNot(e, best.input.hardware, best.input.weights, best.input.kv), launchContext ?? best.input.workload.context) : [];
  const describeRow = (r: PlanRow): PlanDocumentRow => ({
    hardware: r.hardware, weights: r.weights, kv: r.kv, tp: r.tp, pp: r.pp, ep: r.ep, dpAttention: r.dpAttention, redundantExperts: r.redundantExperts, devicesPerReplica: r.devicesPerReplica, replicas: r.replicas, devices: r.devices,
    concurrencyPerReplica: r.concurrencyPerReplica, ttft: r.ttftSeconds, tpot: r.tpotSeconds, e2e: r.e2eSeconds, usdPerHour: r.usdPerHour, usdPerMillionOutputTokens: r.usdPerMillionOutputTokens,
    why: r.why, bound: r.bound, speculative: r.speculative, estimateCommand: reproduce(r),
    priceKind: r.input.price?.kind ?? null, capexUsd: r.estimate.figures['cost.capexUsd']?.value ?? null,
  });
  const disaggregated = disaggregatedDocument(raw, named, request, best, modelArgs, repo, qps, warnings);
  const compareApi = compareApiOn ? apiComparison({ cachedInput, cachedInputDiscount }, origins, catalog, resolved.model, request, best, warnings) : null;
  const document: PlanDocument = {
    schemaVersion: 1,
    input: {
      model: { id: resolved.model.id, name: resolved.model.name },
      workload: { inputTokens: request.inputTokens, outputTokens: request.outputTokens, context: request.context },
      load: { qps: qps ?? null, concurrency: concurrency ?? null },
      targets: { ttft: targets.ttft ?? null, tpot: targets.tpot ?? null, e2e: targets.e2e ?? null },
      engine: pinned ? `${pinned.id}@${pinned.version}` : 'default for each device and format', maxDevices, hardware: priced.map((h) => h.spec.id), weights: weights.map((w) => w.id),
      priceKind: pick.kind,
    },
    rows: result.rows.map(describeRow),
    top: best ? { ...describeRow(best), figures: best.estimate.figures, launch } : null,
    disaggregated,
    closest: result.closest ? { ...describeRow(result.closest.row), failing: result.closest.failing, maxDevices: result.closest.maxDevices } : null,
    byHardware: result.byHardware,
    byLayout: result.byLayout,
    owned: ownedResult ? { hardware: ownedApart.map((h) => h.spec.id), rows: ownedResult.rows.map(describeRow), byHardware: ownedResult.byHardware } : null,
    compareApi,
    configurationsSearched: result.configurationsSearched,
    configurationsEvaluated: result.configurationsEvaluated,
    configurationsFitting: result.configurationsFitting,
    ...(simulation ? { simulation: simulationSummary(simulation, allTargets) } : {}),
    warnings,
  };
  return { document, request, result, ownedResult, launch, reproduce, warnings, simulation };
}

/**
 * --compare-api: the top pick against the model's per-token API prices (presets/api),
 * src/estimate/api-compare.ts. A model without API prices is bad input naming those that have
 * them; with no row to compare, a warning says so.
 */
function apiComparison(given: { cachedInput?: number; cachedInputDiscount?: number }, origins: PlanOrigins, catalog: Catalog, model: ModelSpec, request: PlanRequest, best: PlanRow | undefined, warnings: string[]): PlanDocument['compareApi'] {
  const where = origins.compareApi ?? '--compare-api';
  const preset = catalog.models.find((m) => m.model === model);
  const sets = catalog.apiPrices ?? [];
  const set = preset && sets.find((a) => a.id === preset.id);
  if (!set) throw new UserError(`${where}: no API prices for ${model.name} (models with prices: ${sets.map((a) => a.id).join(', ') || 'none'}; presets/api)`);
  // the share of input tokens billed at the cached price: --cached-input, else the prefix cache's hit share
  const cachedTokens = best?.estimate.figures['prefix.cachedTokens']?.value ?? 0;
  const cachedInputShare = given.cachedInput ?? cachedTokens / request.inputTokens;
  const cachedInputDiscount = given.cachedInputDiscount;
  if (!best) {
    warnings.push(`${where}: nothing meets the targets, so there is no deployment to compare with the API prices`);
    return null;
  }
  const requestsPerSecond = request.qps ?? best.estimate.figures['load.requestsPerSecond']?.value ?? 0;
  const { figures, ...comparison } = compareWithApis({ usdPerHour: best.usdPerHour, requestsPerSecond, inputTokens: request.inputTokens, outputTokens: request.outputTokens, cachedInputShare, ...(cachedInputDiscount !== undefined ? { cachedInputDiscount } : {}) }, set.prices);
  return { model: set.id, cachedInputShare, ...comparison, figures };
}

/** The preset --model names, where the model planned is that preset's own: found through the catalogue's index, without parsing every model. */
function modelPreset(raw: PlanRawOptions, catalog: Catalog, model: ModelSpec): ModelPreset | undefined {
  if (raw.model === undefined) return undefined;
  try {
    const preset = findModel(catalog, String(raw.model));
    return preset.model === model ? preset : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the model named by --model is a preset with MTP modules (DeepSeek-V3, GLM-4.5, Qwen3-Next). */
function modelHasMtp(raw: PlanRawOptions, catalog: Catalog): boolean {
  if (raw.model === undefined) return false;
  try {
    return (findModel(catalog, String(raw.model)).model.mtpLayers ?? 0) > 0;
  } catch {
    return false;
  }
}

/** The `llm-size estimate` command that reproduces a plan row's figures. */
export function estimateCommandFor(input: EstimateInput, modelArgs: string[], extra: { provider?: unknown; price?: unknown; priceKind?: unknown; amortizeYears?: unknown; pue?: unknown; hostingUsdPerKwMonth?: unknown; qps?: number; concurrency?: number }): string {
  const p = input.parallel!;
  const parts = ['llm-size estimate', ...modelArgs, `--gpu ${input.hardware.id}`, `--tp ${p.tp}`, `--pp ${p.pp}`];
  if (p.ep > 1) parts.push(`--ep ${p.ep}`);
  if ((p.dpAttention ?? 1) > 1) parts.push(p.dpAttention === p.tp ? '--dp-attention' : `--dp-attention ${p.dpAttention}`);
  if (p.redundantExperts) parts.push(`--redundant-experts ${p.redundantExperts}`);
  parts.push(`--replicas ${p.replicas}`, `--precision ${input.weights.id}`, `--kv-precision ${input.kv.id}`, `--engine ${input.engine!.id}@${input.engine!.version}`);
  parts.push(extra.qps !== undefined ? `--qps ${extra.qps}` : `--concurrency ${extra.concurrency}`);
  const s = input.speculative;
  if (s) parts.push(`--speculative ${s.method === 'draft' ? `draft:${s.draft!.id}` : s.method}`, `--draft-tokens ${s.draftTokens}`, s.acceptedLength !== undefined ? `--accepted-length ${s.acceptedLength}` : `--acceptance ${s.acceptance}`);
  const p2 = input.prefixCache;
  if (p2) parts.push(...(p2.prefixTokens !== undefined ? [`--prefix-tokens ${p2.prefixTokens}`] : []), `--cache-hit-rate ${p2.hitRate}`);
  parts.push(`--input-tokens ${input.workload.inputTokens}`, `--output-tokens ${input.workload.outputTokens}`, `--context ${input.workload.context}`);
  if (input.gpusPerNode !== undefined) parts.push(`--gpus-per-node ${input.gpusPerNode}`);
  if (input.mfu !== undefined) parts.push(`--mfu ${input.mfu}`);
  if (input.mbu !== undefined) parts.push(`--mbu ${input.mbu}`);
  if (input.powerWatts !== undefined) parts.push(`--power-watts ${input.powerWatts}`);
  if (input.usdPerKwh !== undefined) parts.push(`--usd-per-kwh ${input.usdPerKwh}`);
  if (extra.price !== undefined) parts.push(`--price ${extra.price}`);
  else if (extra.provider !== undefined) parts.push(`--provider ${extra.provider}`);
  if (extra.priceKind !== undefined) parts.push(`--price-kind ${extra.priceKind}`);
  if (extra.amortizeYears !== undefined) parts.push(`--amortize-years ${extra.amortizeYears}`);
  // owned hardware's running costs, where the price is an owned one
  if (input.price?.owned) {
    if (extra.pue !== undefined) parts.push(`--pue ${extra.pue}`);
    if (extra.hostingUsdPerKwMonth !== undefined) parts.push(`--hosting-usd-per-kw-month ${extra.hostingUsdPerKwMonth}`);
  }
  return parts.join(' ');
}

export const DISAGGREGATED_MODES = ['auto', 'on', 'off'] as const;

/** The --prefill-workers / --decode-workers value of a pool: workers and one worker's layout. */
function poolSpec(workers: number, input: PoolInput): string {
  const p = input.parallel!;
  const parts = [`gpu=${input.hardware.id}`, `tp=${p.tp}`];
  if (p.pp > 1) parts.push(`pp=${p.pp}`);
  if (p.ep > 1) parts.push(`ep=${p.ep}`);
  if ((p.dpAttention ?? 1) > 1) parts.push(p.dpAttention === p.tp ? 'dp-attention' : `dp-attention=${p.dpAttention}`);
  if (p.redundantExperts) parts.push(`redundant-experts=${p.redundantExperts}`);
  parts.push(`precision=${input.weights.id}`, `kv-precision=${input.kv.id}`, `engine=${input.engine!.id}@${input.engine!.version}`);
  return `${workers}:${parts.join(',')}`;
}

/**
 * plan --disaggregated auto|on|off: the cheapest disaggregated deployment beside the best
 * aggregated row, which wins and why (in numbers), and how to launch it.
 */
function disaggregatedDocument(raw: PlanRawOptions, named: (key: PlanKey) => Named, request: PlanRequest, best: PlanRow | undefined, modelArgs: string[], repo: string, qps: number | undefined, warnings: string[]): PlanDisaggregatedDocument | null {
  const mode = raw.disaggregated !== undefined ? choice(named('disaggregated'), DISAGGREGATED_MODES) : 'auto';
  if (mode === 'off') return null;
  if (qps === undefined) {
    if (raw.disaggregated !== undefined) throw new UserError(`${named('disaggregated').where} ${mode}: disaggregated pools are sized at an offered rate; give --qps instead of --concurrency`);
    return null;
  }
  const search = searchDisaggregated(request);
  const d = search.best;
  const aggregated = best ? { usdPerHour: best.usdPerHour, usdPerMillionOutputTokens: best.usdPerMillionOutputTokens, devices: best.devices } : null;
  const winner: PlanDisaggregatedDocument['winner'] = d && (mode === 'on' || !best || d.usdPerMillionOutputTokens < best.usdPerMillionOutputTokens) ? 'disaggregated' : best ? 'aggregated' : null;
  // each pool at the load as the deployment's estimate solved it (prompts per step, sequences per worker)
  const pool = (x: DisaggregatedPlan['prefill'], batch: number): PlanPoolDocument => {
    const p = x.config.input.parallel!;
    return { hardware: x.config.input.hardware.id, weights: x.config.input.weights.id, kv: x.config.input.kv.id, workers: x.workers, devicesPerWorker: x.config.devices, devices: x.workers * x.config.devices, tp: p.tp, pp: p.pp, ep: p.ep, dpAttention: p.dpAttention ?? 1, redundantExperts: p.redundantExperts ?? 0, batch, usdPerHour: x.workers * x.config.devices * x.config.price };
  };
  const why = whyWinner(d, best, search.reason, qps, request);
  if (mode === 'on' && !d) warnings.push(`--disaggregated on: ${search.reason}`);
  const f = d?.estimate.figures;
  return {
    mode,
    best: d && f
      ? {
          prefill: pool(d.prefill, f['disagg.prefillBatch'].value), decode: pool(d.decode, f['disagg.decodeConcurrency'].value), ratio: f['disagg.ratio'].value, devices: d.devices,
          ttft: f['latency.ttft'].value, tpot: f['latency.tpot'].value, e2e: f['latency.e2e'].value, kvTransfer: d.estimate.disaggregated.kvTransfer,
          usdPerHour: d.usdPerHour, usdPerMillionOutputTokens: d.usdPerMillionOutputTokens,
          estimateCommand: ['llm-size estimate', ...modelArgs, `--qps ${qps}`, `--input-tokens ${request.inputTokens}`, `--output-tokens ${request.outputTokens}`, `--context ${request.context}`, `--prefill-workers ${poolSpec(d.prefill.workers, d.input.prefill.input)}`, `--decode-workers ${poolSpec(d.decode.workers, d.input.decode.input)}`].join(' '),
          figures: f,
        }
      : null,
    aggregated,
    winner,
    why,
    launch: d ? disaggregatedLaunch(d, repo) : [],
    configurationsSearched: search.configurationsSearched,
    configurationsEvaluated: search.configurationsEvaluated,
  };
}

const pct = (a: number, b: number): string => `${Math.round((1 - a / b) * 100)}%`;

/** Which deployment wins and why, from their numbers. */
function whyWinner(d: DisaggregatedPlan | undefined, a: PlanRow | undefined, reason: string | undefined, qps: number, req: PlanRequest): string {
  if (!d && !a) return `neither meets the targets: ${reason ?? 'no configuration does'}`;
  if (!d) return `aggregated: no disaggregated pair meets the targets (${reason})`;
  const f = d.estimate.figures;
  const pools = `prefill ${d.prefill.workers} x ${d.prefill.config.devices} ${d.prefill.config.input.hardware.id} (${f['disagg.prefillBatch'].value} prompts per step, ${fmt(f['disagg.prefillStep'].value)}), decode ${d.decode.workers} x ${d.decode.config.devices} ${d.decode.config.input.hardware.id} (${f['disagg.decodeConcurrency'].value} sequences each at TPOT ${fmt(f['latency.tpot'].value)})`;
  if (!a) return `disaggregated: no aggregated deployment meets the targets; ${pools}`;
  const close = Math.abs(d.usdPerMillionOutputTokens / a.usdPerMillionOutputTokens - 1) < 0.1 ? ' (within the estimates\' uncertainty, about 10%: either will do; pick by operations)' : '';
  // the same cost to the percent: no winner on price ("0% cheaper" said nothing)
  if (pct(Math.min(d.usdPerMillionOutputTokens, a.usdPerMillionOutputTokens), Math.max(d.usdPerMillionOutputTokens, a.usdPerMillionOutputTokens)) === '0%') {
    return `aggregated and disaggregated cost the same per output token to the percent (${a.devices} devices against ${d.devices}): either will do, and aggregated is the simpler to run (one kind of replica, no KV transfer); ${pools}`;
  }
  if (d.usdPerMillionOutputTokens < a.usdPerMillionOutputTokens) {
    return `disaggregated is ${pct(d.usdPerMillionOutputTokens, a.usdPerMillionOutputTokens)} cheaper per output token: its decode steps carry no prompts, so a decode worker runs ${f['disagg.decodeConcurrency'].value} sequences within TPOT ${fmt(req.targets.tpot ?? f['latency.tpot'].value)}, where the best aggregated replica (${a.replicas} x ${a.devicesPerReplica} ${a.hardware}) runs ${a.concurrencyPerReplica} because each of its steps also prefills the prompts joining it${close}; ${pools}`;
  }
  return `aggregated is ${pct(a.usdPerMillionOutputTokens, d.usdPerMillionOutputTokens)} cheaper per output token: at ${qps} requests/s its replicas prefill and decode in the same passes (the weights read once for both) with ${a.devices} devices, where the cheapest disaggregated pair needs ${d.devices} (P:D ${f['disagg.prefillDevices'].value}:${f['disagg.decodeDevices'].value}) and moves ${(d.estimate.disaggregated.kvTransfer.bytes / 2 ** 20).toFixed(0)} MiB of KV per request${close}; ${pools}`;
}
