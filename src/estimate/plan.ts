import type { Catalog } from '../inputs/catalog.js';
import type { EngineSpec } from '../inputs/engine.js';
import type { HardwareSpec } from '../inputs/hardware.js';
import type { ModelSpec } from '../inputs/model.js';
import { activationFormat, FORMATS, type Format } from '../inputs/precision.js';
import { secondsInHour, tokensInMillion } from '../units.js';
import { formatValue } from '../format/human.js';
import { schedulerFlagsPerRank, type EngineOptions } from './engine.js';
import { probeByEstimate, probeServing, type Estimate, type ServingProbe } from './index.js';
import { prefillFlops } from './flops.js';
import { cachedPromptTokens } from './prefix.js';
import { latencySeconds } from './latency.js';
import { weightLayout } from './weights.js';
import { bitsPerElement, bytesPerElement } from '../inputs/precision.js';
import type { EstimateInput } from './input.js';
import type { Run } from './load.js';
import { domainSize, layoutProblem, placementProblem, type Parallel } from './parallel.js';
import type { PrefixCache } from './prefix.js';
import type { Speculative } from './speculative.js';

/**
 * The deployment search behind `llm-size plan`: for each hardware, format and parallel layout,
 * the fewest replicas that carry the load within the latency targets (serving under load is
 * load.ts).
 */

/** Latency targets in seconds; absent = no target. */
export interface Targets {
  ttft?: number;
  tpot?: number;
  e2e?: number;
}

/** What `plan` searches: one model and workload, the hardware, formats and layouts allowed. */
export interface PlanRequest {
  model: ModelSpec;
  inputTokens: number;
  outputTokens: number;
  context: number;
  /** offered load: exactly one of qps or concurrency */
  qps?: number;
  concurrency?: number;
  targets: Targets;
  /** candidate hardware, each with the price to charge */
  hardware: { spec: HardwareSpec; price: NonNullable<EstimateInput['price']> }[];
  weights: Format[];
  /** KV formats; 'activation' = the weights' activation type */
  kv: (Format | 'activation')[];
  /**
   * The engine for a hardware, weight and KV format: the user's --engine when it runs them, else
   * the default for them (src/inputs/engine-choice.ts); undefined = no engine runs them (skipped).
   */
  engineFor: (hw: HardwareSpec, weights: Format, kv: Format) => { engine: EngineSpec; reason: string } | undefined;
  /** engine launch options (--gpu-memory-utilization ...) */
  engineOptions?: EngineOptions;
  /** most devices in the whole deployment (all replicas) */
  maxDevices: number;
  gpusPerNode?: number;
  /** rows to return */
  top: number;
  /** roofline efficiency overrides (--mfu, --mbu) */
  mfu?: number;
  mbu?: number;
  /** average power per device (--power-watts) and the electricity price (--usd-per-kwh): energy and owned-hardware cost figures, as estimate gives them */
  powerWatts?: number;
  usdPerKwh?: number;
  /** the hardware list was given (--hardware), not the whole priced catalogue */
  hardwareNamed?: boolean;
  /** speculative decoding to try beside plain decoding on every configuration (kept only where it pays) */
  speculative?: Speculative;
  /** prefix caching of the workload (every configuration) */
  prefixCache?: PrefixCache;
  /** internal: a search for the closest row under a raised limit (no further widening) */
  withinLimitOnly?: boolean;
  /**
   * internal: the reference search, with every shortcut off: a full estimate for every point of
   * every curve and for every configuration, however far it is from fitting
   * (test/plan-search.test.ts checks the fast search ranks the same)
   */
  exhaustive?: boolean;
  /**
   * internal: what the searches of one plan run share (SearchCache)
   */
  cache?: SearchCache;
}

/**
 * What one plan run's searches share (the aggregated search, its wider re-search, owned hardware
 * apart, the disaggregated pools): the configurations of each request (planConfigs), reused for a
 * request whose every field planConfigs reads is the same (CONFIG_FIELDS), and each
 * configuration's probe at one request.
 */
export interface SearchCache {
  configs: { req: PlanRequest; configs: PlanConfig[] }[];
  probes: WeakMap<PlanConfig, ServingProbe>;
}

export const searchCache = (): SearchCache => ({ configs: [], probes: new WeakMap() });

/** The request fields planConfigs reads: configurations are reused only where all of them are the same. */
const CONFIG_FIELDS = ['model', 'inputTokens', 'outputTokens', 'context', 'hardware', 'weights', 'kv', 'engineFor', 'engineOptions', 'maxDevices', 'gpusPerNode', 'mfu', 'mbu', 'powerWatts', 'usdPerKwh', 'speculative', 'prefixCache'] as const satisfies readonly (keyof PlanRequest)[];

/** The request's configurations (planConfigs), once per run for the same fields where the request carries a cache. */
export function cachedConfigs(req: PlanRequest): PlanConfig[] {
  if (!req.cache) return planConfigs(req);
  const known = req.cache.configs.find((c) => CONFIG_FIELDS.every((k) => c.req[k] === req[k]));
  if (known) return known.configs;
  const configs = planConfigs(req);
  req.cache.configs.push({ req, configs });
  return configs;
}

/**
 * What a search reads of a configuration at one request per replica (index.ts probeServing: its
 * estimate's figures to the last bit), once per run where the request carries a cache; the
 * reference search reads the full estimate.
 */
export function probeConfig(req: PlanRequest, config: PlanConfig): ServingProbe {
  if (req.exhaustive) return probeByEstimate(config.input);
  let probe = req.cache?.probes.get(config);
  if (!probe) {
    probe = probeServing(config.input);
    req.cache?.probes.set(config, probe);
  }
  return probe;
}

/** One deployment the search found, with the figures of its full estimate. */
export interface PlanRow {
  hardware: string;
  hardwareName: string;
  weights: string;
  kv: string;
  tp: number;
  pp: number;
  ep: number;
  /** attention data-parallel groups (1: tensor parallelism) and redundant experts (EPLB) */
  dpAttention: number;
  redundantExperts: number;
  devicesPerReplica: number;
  replicas: number;
  devices: number;
  concurrencyPerReplica: number;
  ttftSeconds: number;
  tpotSeconds: number;
  e2eSeconds: number;
  usdPerHour: number;
  usdPerMillionOutputTokens: number;
  /** the speculative method the row decodes with, or null for plain decoding */
  speculative: string | null;
  /** why it meets the targets, and what keeps it from fewer replicas */
  why: string;
  bound: string;
  estimate: Estimate;
  input: EstimateInput;
}

export interface PlanResult {
  rows: PlanRow[];
  /**
   * When nothing meets the targets: the configuration that misses by least and what it misses.
   * A configuration held back only by --max-devices comes first (raising the limit makes it
   * work): then `maxDevices` is the limit under which it was found; otherwise the nearest miss
   * at one request per replica, under the request's own limit.
   */
  closest?: { row: PlanRow; failing: string[]; maxDevices: number };
  /** each hardware searched: its best row or why it has none */
  byHardware: HardwareOutcome[];
  /** each kind of layout searched: its cheapest deployment meeting the targets, or null (none met them, or none was reached) */
  byLayout: FamilyOutcome[];
  /** configurations in the search space */
  configurationsSearched: number;
  /** configurations estimated (the rest were bounded out: they cost more than enough found ones) */
  configurationsEvaluated: number;
  configurationsFitting: number;
  warnings: string[];
}

/** A configuration's latency at batch sizes `grid`, each point timed when first read. */
interface Curve {
  grid: number[];
  cap: number;
  /** the latency at grid[i] */
  point: (i: number) => { ttft: number; tpot: number; e2e: number };
}

/** Linear interpolation of a latency curve sampled at batch sizes `grid` (fast path only). */
function at(curve: Curve, key: 'ttft' | 'tpot' | 'e2e', c: number): number {
  const g = curve.grid;
  if (c <= g[0]) return curve.point(0)[key];
  for (let i = 1; i < g.length; i++) {
    if (c <= g[i]) {
      const a = curve.point(i - 1)[key];
      return a + ((curve.point(i)[key] - a) * (c - g[i - 1])) / (g[i] - g[i - 1]);
    }
  }
  return curve.point(g.length - 1)[key];
}

const TARGET_NAMES = { ttft: 'TTFT', tpot: 'TPOT', e2e: 'e2e' } as const;

/** Targets missed at these latencies, as "TPOT 62 ms > 50 ms" style pairs of [name, ratio]. */
function misses(t: Targets, l: { ttft: number; tpot: number; e2e: number }): { name: keyof Targets; ratio: number }[] {
  return (Object.keys(TARGET_NAMES) as (keyof Targets)[]).filter((k) => t[k] !== undefined && l[k] > t[k]!).map((k) => ({ name: k, ratio: l[k] / t[k]! }));
}

/**
 * Layouts for a replica of `devices` devices the way deployments are laid out: tensor
 * parallelism within a node (NVLink / ICI), pipeline stages across nodes once a replica needs
 * more than one (vLLM and SGLang docs: "tp = GPUs per node, pp = number of nodes"); expert
 * parallelism over the TP group for MoE models, or none. For MoE models also attention data
 * parallel over every device with the experts spread over all of them (SGLang
 * --enable-dp-attention with DeepEP, vLLM --data-parallel-size with --enable-expert-parallel),
 * within a scale-up domain or across nodes, with one redundant expert per rank where the slots
 * divide evenly (EPLB, as SGLang's and TensorRT-LLM's wide-EP recipes place them).
 */
export function layoutsFor(m: ModelSpec, hw: HardwareSpec, devices: number, gpusPerNode?: number): Parallel[] {
  const node = Math.max(1, domainSize(hw, gpusPerNode));
  const out: Parallel[] = [];
  // a replica past a node needs a link between nodes (consumer cards and laptops list none)
  if (placementProblem(hw, { tp: devices, pp: 1 }, undefined, gpusPerNode)) return out;
  // The widest tensor-parallel group within a node that the model's heads allow.
  for (let tp = Math.min(devices, node); tp >= 1; tp--) {
    if (devices % tp !== 0 || layoutProblem(m, { tp, pp: devices / tp, ep: 1, replicas: 1 })) continue;
    out.push(...(m.moe && tp > 1 ? [1, tp] : [1]).map((ep) => ({ tp, pp: devices / tp, ep, replicas: 1 })).filter((l) => !layoutProblem(m, l)));
    break;
  }
  if (m.moe && devices > 1) {
    const redundant = m.moe.experts % devices === 0 ? devices : 0;
    const wide: Parallel = { tp: devices, pp: 1, ep: devices, replicas: 1, dpAttention: devices, ...(redundant ? { redundantExperts: redundant } : {}) };
    if (!layoutProblem(m, wide)) out.push(wide);
  }
  return out;
}

/** One configuration the searches estimate: its input at one request, its devices and price per device-hour. */
export interface PlanConfig {
  input: EstimateInput;
  devices: number;
  price: number;
}

/**
 * Every configuration of a request: hardware x devices per replica (1, 2, 4 ... up to
 * --max-devices and 64) x layout x weight and KV format, with the engine that runs it, cheapest
 * hour first (price x devices). `layouts` picks the layouts (aggregated and disaggregated pools
 * share the catalogue).
 */
export function planConfigs(req: PlanRequest, layouts: (hw: HardwareSpec, devices: number) => Parallel[] = (hw, devices) => layoutsFor(req.model, hw, devices, req.gpusPerNode)): PlanConfig[] {
  const configs: PlanConfig[] = [];
  for (const { spec: hw, price } of req.hardware) {
    for (let devices = 1; devices <= Math.min(req.maxDevices, 64); devices *= 2) {
      for (const layout of layouts(hw, devices)) {
        for (const weights of req.weights) {
          const activations = activationFormat(weights);
          for (const kvChoice of req.kv) {
            const kv = kvChoice === 'activation' ? activations : kvChoice;
            if (req.kv.indexOf(kvChoice) !== req.kv.findIndex((k) => (k === 'activation' ? activations : k) === kv)) continue;
            // only engines that run this device, weight and KV format (presets/engines: supports)
            const chosen = req.engineFor(hw, weights, kv);
            if (!chosen) continue;
            // engines that split layers (llama.cpp) run neither tensor nor attention data parallelism
            if (chosen.engine.multiDevice.default === 'layer' && (layout.dpAttention ?? 1) > 1) continue;
            const engineLayout = chosen.engine.multiDevice.default === 'layer' ? { ...layout, tp: 1, pp: layout.tp * layout.pp } : layout;
            // a layout the engine runs and the hardware holds: its device limit, a node for single-node
            // engines, no replica across nodes without a link between them (parallel.ts placementProblem)
            if (placementProblem(hw, engineLayout, chosen.engine, req.gpusPerNode)) continue;
            // no KV type asked: the engine's own default cache type (llama.cpp f16), else the activation type
            const engineKv = kvChoice === 'activation' ? chosen.engine.kvCache.defaultType?.value : undefined;
            // with speculation allowed, each configuration with and without it: the ranking keeps whichever pays
            for (const speculative of req.speculative ? [undefined, req.speculative] : [undefined]) configs.push({
              input: {
                model: req.model, weights, kv: engineKv ? FORMATS[engineKv as keyof typeof FORMATS] : kv, activations,
                workload: { batch: 1, inputTokens: req.inputTokens, outputTokens: req.outputTokens, context: req.context },
                hardware: hw, count: engineLayout.tp * engineLayout.pp, parallel: engineLayout, gpusPerNode: req.gpusPerNode, engine: chosen.engine, engineOptions: req.engineOptions, engineReason: chosen.reason,
                load: { concurrency: 1, replicasGiven: true }, price, mfu: req.mfu, mbu: req.mbu,
                ...(req.powerWatts !== undefined ? { powerWatts: req.powerWatts } : {}), ...(req.usdPerKwh !== undefined ? { usdPerKwh: req.usdPerKwh } : {}),
                ...(speculative ? { speculative } : {}), ...(req.prefixCache ? { prefixCache: req.prefixCache } : {}),
              },
              devices,
              price: price.usdPerHour,
            });
          }
        }
      }
    }
  }
  return configs.sort((a, b) => a.price * a.devices - b.price * b.devices);
}

/**
 * The deployment search: hardware x devices per replica x TP/PP/EP x weight and KV format,
 * each with the fewest replicas (and so the batch) that meets the targets at the offered load,
 * ranked by USD per million output tokens.
 *
 * Fast path: each configuration's latency curve is sampled with the full estimator at batch
 * 1, 2, 4 ... up to its KV capacity (the same formulas as `estimate`), and the replica search
 * runs on that curve with plain numbers. The rows shown are then rebuilt with the full
 * estimator exactly as `llm-size estimate` would (same input), so their figures are the ones
 * `estimate` prints, and rows whose full figures miss a target move up a replica.
 */
export function searchPlans(req: PlanRequest, run: Run): PlanResult {
  const warnings: string[] = [];
  type Candidate = { input: EstimateInput; curve: Curve; replicas: number; c: number; usdPerMillion: number; devices: number; usdPerHour: number };
  const candidates: Candidate[] = [];
  let nearest: { input: EstimateInput; score: number } | undefined;
  // the fewest devices a configuration meeting the targets needs, where that is above --max-devices
  let fewestBeyondLimit: number | undefined;
  // what became of each hardware's configurations, for the per-hardware summary
  const seen = new Map<string, Tally>(req.hardware.map((h) => [h.spec.id, { configs: 0, evaluated: 0, fitting: 0, largestSearched: 0, largestEvaluated: 0 }]));
  let searched = 0;
  let evaluated = 0;
  let fitting = 0;
  const loadFor = (c: number) => ({ concurrency: c, replicasGiven: true });

  // Every configuration, cheapest hour first: at the offered load no deployment of a
  // configuration costs less than one replica of it (price x devices per replica).
  const configs = cachedConfigs(req);
  // the cheapest row of each kind of layout, and the kinds the search held (layoutFamily)
  const families = new Map<LayoutFamily, FamilyOutcome>();
  const familiesSearched = new Set(configs.map((c) => layoutFamily(c.input)));
  const familiesEvaluated = new Set<LayoutFamily>();
  // why a kind of layout has no row: meets the targets but costs more than the rows (costlier),
  // meets them only beyond --max-devices, some of its configurations were never estimated
  // (their one replica costs more per hour than the rows found: unestimated), or misses them
  const familyNotes = new Map<LayoutFamily, Set<'costlier' | 'needs-devices' | 'unestimated'>>();
  const familyNote = (input: EstimateInput, note: 'costlier' | 'needs-devices' | 'unestimated') => {
    const f = layoutFamily(input);
    familyNotes.set(f, (familyNotes.get(f) ?? new Set()).add(note));
  };
  searched = configs.length;
  for (const c of configs) {
    const t = seen.get(c.input.hardware.id)!;
    t.configs++;
    t.largestSearched = Math.max(t.largestSearched, c.devices);
  }

  // Branch and bound. With --qps the cost per million tokens is the deployment's USD/h over a
  // fixed token rate, so once enough configurations are found, one whose bound exceeds the
  // last of them cannot rank; with --concurrency the rate varies, so every one is evaluated.
  const kept: Candidate[] = [];
  const enough = req.top + 2;
  const cutoff = () => (req.qps !== undefined && kept.length >= enough && !req.exhaustive ? kept[enough - 1].usdPerHour : Infinity);
  for (const [i, config] of configs.entries()) {
    const { input, devices, price } = config;
    if (price * devices > cutoff()) {
      // the rest (sorted by price) are never estimated: their kinds of layout say so, rather
      // than "none meets the targets" of the few that were
      for (const rest of configs.slice(i)) familyNote(rest.input, 'unestimated');
      break;
    }
    // One full estimate at one request per replica: does it fit, can it meet the targets
    // unloaded, and a tighter bound: throughput per replica is at most cap / e2e(1).
    evaluated++;
    familiesEvaluated.add(layoutFamily(input));
    const tally = seen.get(input.hardware.id)!;
    tally.evaluated++;
    tally.largestEvaluated = Math.max(tally.largestEvaluated, devices);
    // A cheap bound first: a replica whose weights alone, spread evenly over its devices,
    // exceed a device's memory cannot fit (the busiest device holds at least the average).
    if (!req.exhaustive && weightsOverflow(input)) continue;
    const first = probeConfig(req, config);
    const { step, maxConcurrency: cap } = first;
    if (!first.fits || cap < 1) continue;
    fitting++;
    tally.fitting++;
    const l1 = first.latency;
    const missed = misses(req.targets, l1);
    if (missed.length) {
      // The nearest miss: the smallest worst ratio of latency to target at one request.
      const worst = Math.max(...missed.map((x) => x.ratio));
      if (!nearest || worst < nearest.score) nearest = { input, score: worst };
      if (tally.nearestMiss === undefined || worst < tally.nearestMiss.ratio) tally.nearestMiss = { ratio: worst, text: missed.map((x) => `${TARGET_NAMES[x.name]} ${fmtMs(l1[x.name])} > ${fmtMs(req.targets[x.name]!)}`).join(', ') };
      continue;
    }
    const demand = req.qps !== undefined ? req.qps * l1.e2e : req.concurrency!;
    if (price * devices * Math.max(1, Math.ceil(demand / cap - 1e-9)) > cutoff()) {
      familyNote(input, 'costlier');
      continue;
    }

    // The latency curve at batch 1, 4, 16 ... up to the KV capacity: the deployment's step
    // model re-timed at each batch (latency.ts latencySeconds: the numbers a full estimate's
    // figures hold, to the last bit); then the fewest replicas that meet the targets, found on
    // that curve with plain numbers.
    const { perToken, decodePerToken } = first.flops;
    const at1 = first.latency;
    const sample = (c: number): { ttft: number; tpot: number; e2e: number } => {
      if (c === 1) return at1;
      if (req.exhaustive) {
        const f = run({ ...input, workload: { ...input.workload, batch: c }, load: loadFor(c) }).figures;
        return { ttft: f['latency.ttft'].value, tpot: f['latency.tpot'].value, e2e: f['latency.e2e'].value };
      }
      const w = { ...input.workload, batch: c };
      const cached = cachedPromptTokens(input);
      return latencySeconds(step, req.model, w, { prefill: prefillFlops(req.model, perToken, c, w.inputTokens, cached).total, decodePerToken }, true, cached);
    };
    const grid = [1];
    for (let b = 4; b < cap; b *= 4) grid.push(b);
    if (cap > 1) grid.push(cap);
    // the replica search reads a few points (about the concurrency it tries, and the capacity)
    const points: ({ ttft: number; tpot: number; e2e: number } | undefined)[] = [];
    const curve: Curve = { grid, cap, point: (i) => (points[i] ??= sample(grid[i])) };
    const fit = (replicas: number) => concurrencyAt(req, curve, replicas);
    const meets = (replicas: number) => {
      const c = fit(replicas);
      return c !== undefined && misses(req.targets, { ttft: at(curve, 'ttft', c), tpot: at(curve, 'tpot', c), e2e: at(curve, 'e2e', c) }).length === 0;
    };
    const rpsAtCap = cap / at(curve, 'e2e', cap);
    const load = req.qps ?? req.concurrency! / at(curve, 'e2e', Math.min(cap, req.concurrency!));
    // The fewest replicas in [lo, most] that meet the targets: lo carries the load at the KV
    // capacity (a throughput bound); most runs one request per replica (with --concurrency, each
    // request on its own replica). Most configurations meet at or a few above lo, so the search
    // gallops up from it (lo, lo + 1, lo + 3, lo + 7 ...) and bisects the last gap: the same
    // least count as bisecting [lo, most], in fewer curve reads (plan 70B at 20 requests/s: 2,265 -> 1,370 replica counts tried).
    let lo = Math.max(1, Math.ceil(load / rpsAtCap));
    const most = Math.max(lo, req.qps !== undefined ? Math.ceil(req.qps * curve.point(0).e2e) + 1 : req.concurrency!);
    let hi = lo;
    let met = meets(hi);
    for (let gap = 1; !met && hi < most; gap *= 2) {
      lo = hi + 1;
      hi = Math.min(most, hi + gap);
      met = meets(hi);
    }
    if (!met) continue;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (meets(mid)) hi = mid;
      else lo = mid + 1;
    }
    const c = fit(lo)!;
    const totalDevices = lo * devices;
    if (totalDevices > req.maxDevices) {
      familyNote(input, 'needs-devices');
      fewestBeyondLimit = Math.min(fewestBeyondLimit ?? Infinity, totalDevices);
      tally.fewestBeyondLimit = Math.min(tally.fewestBeyondLimit ?? Infinity, totalDevices);
      continue;
    }
    const rps = req.qps ?? (lo * c) / at(curve, 'e2e', c);
    const usdPerHour = price * totalDevices;
    const usdPerMillion = (usdPerHour / secondsInHour / (rps * req.outputTokens)) * tokensInMillion;
    kept.push({ input, curve, replicas: lo, c, usdPerMillion, devices: totalDevices, usdPerHour });
    const family = layoutFamily(input);
    const known = families.get(family);
    if (!known || usdPerMillion < known.usdPerMillionOutputTokens!) families.set(family, { family, usdPerMillionOutputTokens: usdPerMillion, hardware: input.hardware.id, devicesPerReplica: input.count, replicas: lo, estimated: true });
    tally.cheapestUsdPerMillion = Math.min(tally.cheapestUsdPerMillion ?? Infinity, usdPerMillion);
    kept.sort((a, b) => a.usdPerMillion - b.usdPerMillion);
  }
  candidates.push(...kept);

  // Cheapest first. At the same cost: the more precise weights, then the more precise KV cache
  // (the model as published loses nothing), then the shorter request (a TP-2 replica and two
  // TP-1 replicas of the same devices cost the same, and the faster one is the better buy;
  // where speculation pays in latency but not in devices, it shows here too). Rows keep this
  // order among equal costs (the sort below is stable).
  const e2eOf = (x: Candidate) => at(x.curve, 'e2e', x.c);
  candidates.sort((a, b) => a.usdPerMillion - b.usdPerMillion
    || bitsPerElement(b.input.weights) - bitsPerElement(a.input.weights)
    || bitsPerElement(b.input.kv) - bitsPerElement(a.input.kv)
    || e2eOf(a) - e2eOf(b));
  // One row per deployment: with speculation allowed, its better variant only.
  if (req.speculative) {
    const seenKeys = new Set<string>();
    const keyOf = (x: Candidate) => { const p = x.input.parallel!; return `${x.input.hardware.id} ${x.input.weights.id} ${x.input.kv.id} ${p.tp} ${p.pp} ${p.ep}`; };
    candidates.splice(0, candidates.length, ...candidates.filter((x) => !seenKeys.has(keyOf(x)) && seenKeys.add(keyOf(x))));
  }
  const rows: PlanRow[] = [];
  for (const cand of candidates) {
    if (rows.length >= req.top) break;
    // Rebuild with the full estimator, exactly as `estimate` runs this configuration.
    for (let extra = 0; extra < 4; extra++) {
      const replicas = cand.replicas + extra;
      if (replicas * cand.input.count > req.maxDevices) break;
      const input = configuredInput(req, cand.input, replicas);
      const full = run(input);
      const l = { ttft: full.figures['latency.ttft'].value, tpot: full.figures['latency.tpot'].value, e2e: full.figures['latency.e2e'].value };
      if (!full.fits || full.loadCarried === false || misses(req.targets, l).length) continue;
      rows.push(toRow(req, input, full, cand.curve, replicas));
      break;
    }
  }
  rows.sort((a, b) => a.usdPerMillionOutputTokens - b.usdPerMillionOutputTokens);

  let closest: PlanResult['closest'];
  if (!rows.length && fewestBeyondLimit !== undefined && !req.withinLimitOnly) {
    // Held back by --max-devices alone: the best deployment under a limit that admits it (the
    // next power of two, doubled while the rebuilt rows still need more).
    for (let maxDevices = 2 ** Math.ceil(Math.log2(fewestBeyondLimit)), i = 0; i < 3 && !closest; maxDevices *= 2, i++) {
      const wider = searchPlans({ ...req, maxDevices, top: 1, withinLimitOnly: true }, run);
      const row = wider.rows[0];
      if (row) closest = { row, failing: [`needs ${row.devices} devices, more than --max-devices ${req.maxDevices}`], maxDevices };
    }
  }
  if (!closest && !rows.length && nearest) {
    // The nearest miss at its lightest load: one request per replica.
    const oneInput: EstimateInput = { ...nearest.input, workload: { ...nearest.input.workload, batch: 1 }, load: { concurrency: 1, replicasGiven: true } };
    const one = run(oneInput);
    const l = { ttft: one.figures['latency.ttft'].value, tpot: one.figures['latency.tpot'].value, e2e: one.figures['latency.e2e'].value };
    const failing = misses(req.targets, l).map((x) => `${TARGET_NAMES[x.name]} ${fmtMs(l[x.name])} > ${fmtMs(req.targets[x.name]!)} even at one request per replica`);
    closest = { row: toRow(req, oneInput, one, undefined, 1), failing: failing.length ? failing : [`the load needs more than --max-devices ${req.maxDevices} devices`], maxDevices: req.maxDevices };
  }
  if (!req.hardware.length) warnings.push('no hardware with a price to rank by; pass --hardware with --price, or --provider');
  const byHardware = req.hardware.map(({ spec, price }) => hardwareOutcome(req, spec.id, price.usdPerHour, seen.get(spec.id)!, rows));
  const byLayout = LAYOUT_FAMILIES.filter((f) => familiesSearched.has(f)).map((f) => families.get(f) ?? { family: f, usdPerMillionOutputTokens: null, hardware: null, devicesPerReplica: null, replicas: null, estimated: familiesEvaluated.has(f), ...(familyNotes.get(f)?.has('costlier') ? { note: 'costlier' as const } : familyNotes.get(f)?.has('needs-devices') ? { note: 'needs-devices' as const } : familyNotes.get(f)?.has('unestimated') ? { note: 'unestimated' as const } : {}) });
  return { rows, closest, byHardware, byLayout, configurationsSearched: searched, configurationsEvaluated: evaluated, configurationsFitting: fitting, warnings };
}

/**
 * Kinds of layout the search compares: tensor parallelism within a node (pipeline stages beyond
 * it), with expert parallelism over the TP group, and attention data parallelism with the experts
 * over every device: within one node, across nodes over the NIC, or across the trays of an NVLink
 * domain larger than a node (GB200 NVL72).
 */
export const LAYOUT_FAMILIES = ['tensor parallel', 'tensor parallel + expert parallel', 'attention DP + expert parallel, one node', 'attention DP + expert parallel, across nodes', 'attention DP + expert parallel, NVLink domain beyond a node'] as const;
export type LayoutFamily = (typeof LAYOUT_FAMILIES)[number];

export interface FamilyOutcome {
  family: LayoutFamily;
  usdPerMillionOutputTokens: number | null;
  hardware: string | null;
  devicesPerReplica: number | null;
  replicas: number | null;
  /** without a row: whether any of its configurations was estimated (else each cost more per hour than the rows found) */
  estimated?: boolean;
  /** without a row: some met the targets but cost more than the rows found, or met them only beyond --max-devices */
  note?: 'costlier' | 'needs-devices' | 'unestimated';
}

/** The kind of a configuration's layout. */
export function layoutFamily(input: EstimateInput): LayoutFamily {
  const p = input.parallel!;
  if ((p.dpAttention ?? 1) <= 1) return p.ep > 1 ? 'tensor parallel + expert parallel' : 'tensor parallel';
  const node = input.gpusPerNode ?? input.hardware.devicesPerNode;
  if (input.count <= node) return 'attention DP + expert parallel, one node';
  return input.count <= domainSize(input.hardware, input.gpusPerNode) ? 'attention DP + expert parallel, NVLink domain beyond a node' : 'attention DP + expert parallel, across nodes';
}

interface Tally {
  /** configurations of it in the search (none: no engine profile runs it with the formats searched) */
  configs: number;
  evaluated: number;
  fitting: number;
  /** the most devices per replica among its configurations in the search, and among those estimated */
  largestSearched: number;
  largestEvaluated: number;
  nearestMiss?: { ratio: number; text: string };
  fewestBeyondLimit?: number;
  cheapestUsdPerMillion?: number;
}

/** One hardware's place in the plan: its best row, or why it has none. */
export interface HardwareOutcome {
  hardware: string;
  usdPerDeviceHour: number;
  /** ranked: has a row; meets: meets the targets but ranks below --top; needs-devices: only beyond --max-devices; misses: misses a target even at one request; no-fit: holds the model on no layout searched (text: the largest replica searched, and why no larger); not-evaluated: cost more per hour than the rows found, or only replicas too small to hold the model were estimated */
  status: 'ranked' | 'meets' | 'needs-devices' | 'misses' | 'no-fit' | 'not-evaluated';
  /** best USD per million output tokens among its deployments meeting the targets */
  usdPerMillionOutputTokens: number | null;
  /** the fewest devices it needs, when that is beyond --max-devices */
  devicesNeeded: number | null;
  text: string;
}

function hardwareOutcome(req: PlanRequest, id: string, usdPerDeviceHour: number, t: Tally, rows: PlanRow[]): HardwareOutcome {
  const base = { hardware: id, usdPerDeviceHour, usdPerMillionOutputTokens: null, devicesNeeded: null };
  const rank = rows.findIndex((r) => r.hardware === id);
  if (rank >= 0) return { ...base, status: 'ranked', usdPerMillionOutputTokens: rows[rank].usdPerMillionOutputTokens, text: `row ${rank + 1}, from ${formatValue(rows[rank].usdPerMillionOutputTokens, 'USD')} per million output tokens` };
  if (t.cheapestUsdPerMillion !== undefined) return { ...base, status: 'meets', usdPerMillionOutputTokens: t.cheapestUsdPerMillion, text: `meets the targets from about ${formatValue(t.cheapestUsdPerMillion, 'USD')} per million output tokens, below the top ${req.top}` };
  if (t.fewestBeyondLimit !== undefined) return { ...base, status: 'needs-devices', devicesNeeded: t.fewestBeyondLimit, text: `meets the targets only with ${t.fewestBeyondLimit} devices, more than --max-devices ${req.maxDevices}` };
  if (t.nearestMiss) return { ...base, status: 'misses', text: `misses even at one request per replica (${t.nearestMiss.text})` };
  if (t.evaluated > 0 && t.fitting === 0) {
    // say what was tried: the larger replicas may not have been estimated (they cost more per
    // hour than the rows found), or the search held none (a node of one device with no link
    // between nodes, an engine's device limit)
    const limit = Math.min(req.maxDevices, 64);
    if (t.largestEvaluated < t.largestSearched) return { ...base, status: 'not-evaluated', text: `holds the model on none of the replicas estimated (up to ${t.largestEvaluated} device${t.largestEvaluated === 1 ? '' : 's'}); replicas of up to ${t.largestSearched} were not estimated: one costs more per hour than the rows found` };
    const why = t.largestSearched < limit ? `: no engine and layout in the search spans more (${placementProblem(req.hardware.find((h) => h.spec.id === id)!.spec, { tp: t.largestSearched * 2, pp: 1 }, undefined, req.gpusPerNode) ?? 'the engines that run it and the model\'s heads limit the layouts'})` : '';
    return { ...base, status: 'no-fit', text: `holds the model on no layout of up to ${t.largestSearched} device${t.largestSearched === 1 ? '' : 's'} per replica${why}` };
  }
  if (t.configs === 0) return { ...base, status: 'not-evaluated', text: `not searched: no engine profile runs it with the formats and layouts searched (${req.weights.map((w) => w.id).join(', ')}; --engine ideal sizes the bare memory balance)` };
  if (t.evaluated === 0) return { ...base, status: 'not-evaluated', text: 'not estimated: even one replica costs more per hour than the rows found' };
  return { ...base, status: 'misses', text: 'no replica count carries the load within the targets' };
}

/** Weight bytes of one replica (memory.weights): the per-tensor layout, or a bare count at the weight format. */
function weightBytes(input: EstimateInput): number {
  const m = input.model;
  return m.paramsOverride === undefined ? weightLayout(m, input.weights, input.activations).total : m.paramsOverride * bytesPerElement(input.weights);
}

/** A replica whose weights alone, spread evenly over its devices, exceed a device's memory: it cannot fit (the busiest device holds at least the average). */
export const weightsOverflow = (input: EstimateInput): boolean => weightBytes(input) / input.count > input.hardware.memoryBytes.value! * (1 + 1e-9);

/**
 * Concurrency per replica at `replicas` replicas on a sampled curve, or undefined past the KV
 * capacity. With --qps: Little's law, c = ceil(lambda x e2e(c)) with lambda = qps / replicas,
 * at its least solution: the least c with need(c) = max(1, ceil(lambda x e2e(c) - 1e-9)) <= c,
 * which is where iterating c <- need(c) from one sequence climbs to while e2e grows with the
 * batch (need(c - 1) >= c then gives need(c) >= c). e2e is linear between the sampled batch
 * sizes (at), so each segment is solved for its crossing and only the integers beside it are
 * checked: a few curve reads instead of one per step of the climb (plan 70B: 20,825 steps).
 */
function concurrencyAt(req: PlanRequest, curve: Curve, replicas: number): number | undefined {
  if (req.concurrency !== undefined) {
    const c = Math.ceil(req.concurrency / replicas);
    return c <= curve.cap ? c : undefined;
  }
  const lambda = req.qps! / replicas;
  const need = (c: number) => Math.max(1, Math.ceil(lambda * at(curve, 'e2e', c) - 1e-9));
  const meets = (c: number) => need(c) <= c;
  if (meets(1)) return 1;
  const g = curve.grid;
  for (let i = 1; i < g.length; i++) {
    const a = g[i - 1];
    const b = Math.min(g[i], curve.cap);
    // excess(c) = lambda x e2e(c) - c is linear on [a, b]: none of it meets where its end does not
    if (!meets(b)) continue;
    const ea = lambda * curve.point(i - 1).e2e - a;
    const eb = lambda * curve.point(i).e2e - b;
    let c = ea <= 0 ? a + 1 : Math.min(b, Math.max(a + 1, Math.ceil(a + (ea / (ea - eb)) * (b - a))));
    while (c > a + 1 && meets(c - 1)) c--;
    while (c < b && !meets(c)) c++;
    if (meets(c)) return c;
  }
  return undefined;
}

/** The input `llm-size estimate` builds for this configuration (load given, replicas fixed). */
function configuredInput(req: PlanRequest, base: EstimateInput, replicas: number): EstimateInput {
  const parallel = { ...base.parallel!, replicas };
  if (req.qps !== undefined) return { ...base, parallel, workload: { ...base.workload, batch: 1 }, load: { qps: req.qps, concurrency: undefined, replicasGiven: true } };
  return { ...base, parallel, workload: { ...base.workload, batch: Math.ceil(req.concurrency! / replicas) }, load: { concurrency: req.concurrency, replicasGiven: true } };
}

const fmtMs = (s: number): string => (s >= 1 ? `${+s.toPrecision(3)} s` : `${+(s * 1e3).toPrecision(3)} ms`);

function toRow(req: PlanRequest, input: EstimateInput, e: Estimate, curve: Curve | undefined, replicas: number): PlanRow {
  const f = e.figures;
  const p = e.input.parallel ?? { tp: input.count, pp: 1, ep: 1, replicas };
  const l = { ttft: f['latency.ttft'].value, tpot: f['latency.tpot'].value, e2e: f['latency.e2e'].value };
  const met = (Object.keys(TARGET_NAMES) as (keyof Targets)[]).filter((k) => req.targets[k] !== undefined).map((k) => `${TARGET_NAMES[k]} ${fmtMs(l[k])} <= ${fmtMs(req.targets[k]!)}`);
  const c = e.input.workload.batch;
  const cap = f['capacity.maxConcurrency'].value;
  let bound: string;
  if (replicas > 1 && curve) {
    const fewer = concurrencyAt(req, curve, replicas - 1);
    if (fewer === undefined) {
      bound = req.qps !== undefined
        ? `throughput: ${replicas - 1} replica(s) serve at most ${+(((replicas - 1) * curve.cap) / at(curve, 'e2e', curve.cap)).toPrecision(3)} requests/s, even at the KV capacity of ${curve.cap} sequences each`
        : `KV capacity: ${replicas - 1} replica(s) hold at most ${(replicas - 1) * curve.cap} requests`;
    }
    else {
      const miss = misses(req.targets, { ttft: at(curve, 'ttft', fewer), tpot: at(curve, 'tpot', fewer), e2e: at(curve, 'e2e', fewer) });
      bound = miss.length ? `${miss.map((x) => TARGET_NAMES[x.name]).join(' and ')} target: ${replicas - 1} replica(s) would run ${fewer} requests each and miss it` : `load: ${replicas - 1} replica(s) do not keep up`;
    }
  } else bound = `one replica carries the load; decode is ${e.bounds.decode}-bound, prefill ${e.bounds.prefill}-bound`;
  return {
    hardware: input.hardware.id,
    hardwareName: input.hardware.name,
    weights: input.weights.id,
    kv: input.kv.id,
    tp: p.tp,
    pp: p.pp,
    ep: p.ep,
    dpAttention: p.dpAttention ?? 1,
    redundantExperts: p.redundantExperts ?? 0,
    devicesPerReplica: input.count,
    replicas,
    devices: input.count * replicas,
    concurrencyPerReplica: c,
    ttftSeconds: l.ttft,
    tpotSeconds: l.tpot,
    e2eSeconds: l.e2e,
    usdPerHour: f['load.usdPerHour']?.value ?? 0,
    usdPerMillionOutputTokens: f['load.usdPerMillionOutputTokens']?.value ?? 0,
    why: (met.length ? `${met.join(', ')} at ${c} requests per replica (KV holds ${cap})` : `no latency target; ${c} requests per replica (KV holds ${cap})`) + (input.speculative ? `; speculative decoding (${input.speculative.method}) ${f['speculative.speedup'].value.toFixed(2)}x faster per token` : ''),
    speculative: input.speculative?.method ?? null,
    bound,
    estimate: e,
    input,
  };
}

/**
 * Launch lines for a row: the engine it was planned with first, then every other engine whose
 * newest profile runs the row's device, weight format and KV type (presets/engines: supports),
 * each from its profile's launch template with the row's layout, context, memory fraction and
 * the concurrency it was planned for as the sequence limit (above the default the rest would
 * queue; a cap at the planned concurrency keeps the latency targets). `runs` says whether an
 * engine runs the row (src/inputs/engine-choice.ts whyNot). `context` is the longest request
 * the engine must accept (--max-model-len): the row's context for a fixed shape, the
 * distribution's longest request when lengths vary (workload.ts servedTokens).
 */
export function launchCommands(row: PlanRow, repo: string, engines: EngineSpec[], runs: (e: EngineSpec) => boolean, context = row.input.workload.context): { engine: string; command: string }[] {
  const planned = row.input.engine;
  const ordered = [...(planned ? [planned] : []), ...engines.filter((e) => e.id !== planned?.id && e.budget.kind !== 'all' && runs(e))];
  const seen = new Set<string>();
  const out: { engine: string; command: string }[] = [];
  for (const e of ordered) {
    if (!e.launch || seen.has(e.id)) continue;
    seen.add(e.id);
    out.push({ engine: `${e.id}@${e.version}`, command: launchLine(e, row, repo, context) });
  }
  return out;
}

/** One engine's launch line from its profile's template (presets/engines: launch). */
function launchLine(e: EngineSpec, row: PlanRow, repo: string, ctx: number): string {
  const l = e.launch!;
  const input = row.input;
  // per engine instance: vLLM's data-parallel ranks each schedule their own share
  // (TensorRT-LLM under attention DP: --max_batch_size is per rank too)
  const perRank = row.dpAttention > 1 && schedulerFlagsPerRank(e);
  const parallel = perRank ? Math.ceil(row.concurrencyPerReplica / row.dpAttention) : row.concurrencyPerReplica;
  // the fraction the row was planned with, on its own engine's line; other engines keep their defaults
  const planned = row.input.engine?.id === e.id;
  const budget = planned ? row.estimate.figures['memory.engine.fraction']?.value : undefined;
  const set = (knob: keyof typeof l.flags, value?: string | number): string => {
    const flag = l.flags[knob];
    if (!flag) return '';
    if (value === undefined) return flag;
    return flag.includes('{value}') ? flag.replaceAll('{value}', String(value)) : `${flag} ${value}`;
  };
  const layerSplit = e.multiDevice.default === 'layer';
  const defaultKv = e.kvCache.defaultType?.value ?? input.activations.id;
  const gguf = `${repo.split('/').pop()}-${input.weights.id.toUpperCase()}.gguf`;
  // A format the checkpoint is not in and the engine does not quantize to at load (AWQ/GPTQ
  // int4, NVFP4 of a bf16 release): the engine serves a checkpoint already in that format, not
  // the one named, and the line says so rather than naming a repo that loads other weights.
  const own = input.model.quantization ?? (input.model.dtype === 'float16' ? 'fp16' : input.model.dtype === 'float32' ? 'fp32' : 'bf16');
  const sixteen = ['bf16', 'fp16', 'fp32'];
  const loadsAsIs = input.weights.id === own || (sixteen.includes(input.weights.id) && sixteen.includes(own)) || l.quantization[input.weights.id] !== undefined;
  const served = loadsAsIs ? repo : `<${input.weights.id} checkpoint of ${repo}>`;
  // attention data parallelism: the engine's own flags (SGLang --enable-dp-attention --dp-size,
  // vLLM --data-parallel-size with the tp of one group); an engine without them says so
  const dp = row.dpAttention;
  const tpValue = dp > 1 && l.dataParallelTp === 'group' ? row.tp / dp : row.tp;
  const parts = [
    l.command.replace('{repo}', served).replace('{gguf}', gguf),
    layerSplit ? '' : set('tp', tpValue),
    dp > 1 ? set('dpAttention', dp) : '',
    row.redundantExperts > 0 ? set('redundantExperts', row.redundantExperts) : '',
    row.pp > 1 && !layerSplit ? set('pp', row.pp) : '',
    row.ep > 1 ? (l.flags.ep?.startsWith('--enable') ? set('ep') : set('ep', row.ep)) : '',
    set('maxNumSeqs', parallel),
    set('parallel', parallel),
    // llama.cpp sizes one cache for every slot: --ctx-size is the total
    set('context', l.flags.parallel ? ctx * parallel : ctx),
    set('gpuLayers', 999),
    row.devicesPerReplica > 1 && l.flags.split ? set('split', layerSplit ? 'layer' : 'row') : '',
    budget !== undefined && l.flags.fraction ? set('fraction', +budget.toFixed(3)) : '',
    // a KV type other than the engine's default cache type (its own, else the activation type) needs the flag
    input.kv.id !== defaultKv && l.kvTypes[input.kv.id] ? set('kvType', l.kvTypes[input.kv.id]) : '',
    // a checkpoint already in the format carries it in its config (quantization_config): the engine reads it
    l.quantization[input.weights.id] && input.model.quantization !== input.weights.id ? set('quantization', l.quantization[input.weights.id]) : '',
    // the row's levers: speculative decoding and prefix caching in the engine's own flags
    ...leverLaunchFlags(row, e.id),
  ];
  const unmappedKv = input.kv.id !== defaultKv && !l.kvTypes[input.kv.id];
  const notes = [unmappedKv && l.note ? l.note : '', dp > 1 && !l.flags.dpAttention ? (l.attentionDp ? `attention data parallelism over ${dp} ranks: ${l.attentionDp.option}${l.attentionDp.batchPerRank ? `; the batch flag counts one rank's ${parallel}` : ''}` : `attention data parallelism over ${dp} ranks: not a launch flag of ${e.name}`) : '', row.redundantExperts > 0 && !l.flags.redundantExperts ? `${row.redundantExperts} redundant experts (EPLB): not a launch flag of ${e.name}` : ''].filter(Boolean);
  return parts.filter(Boolean).join(' ') + (notes.length ? ` (${notes.join('; ')})` : '');
}

/**
 * The engines' flags for the row's levers: speculative decoding (vLLM --speculative-config,
 * SGLang --speculative-algorithm; docs of both, 2025-2026) and prefix caching (vLLM
 * --enable-prefix-caching; SGLang's radix cache is on by default).
 */
export function leverLaunchFlags(row: Pick<PlanRow, 'input'>, engineId: string): string[] {
  const out: string[] = [];
  const s = row.input.speculative;
  const vllm = engineId.startsWith('vllm');
  const sglang = engineId.startsWith('sglang');
  if (s) {
    const k = s.draftTokens;
    const draft = s.method === 'draft' ? s.draft!.name : s.method === 'eagle' || s.method === 'eagle3' ? `<${s.method === 'eagle' ? 'EAGLE' : 'EAGLE-3'} head for the model>` : undefined;
    if (vllm) {
      const method = { eagle: 'eagle', eagle3: 'eagle3', mtp: 'mtp', ngram: 'ngram', draft: 'draft_model' }[s.method];
      out.push(`--speculative-config '${JSON.stringify({ method, ...(draft ? { model: draft } : {}), num_speculative_tokens: k, ...(s.method === 'ngram' ? { prompt_lookup_max: 4 } : {}) })}'`);
    }
    if (sglang) {
      const algorithm = { eagle: 'EAGLE', eagle3: 'EAGLE3', mtp: 'EAGLE', ngram: 'NGRAM', draft: 'STANDALONE' }[s.method];
      out.push(`--speculative-algorithm ${algorithm}`, ...(draft ? [`--speculative-draft-model-path ${draft.includes(' ') ? `'${draft}'` : draft}`] : []), `--speculative-num-steps ${k}`, '--speculative-eagle-topk 1', `--speculative-num-draft-tokens ${k + 1}`);
    }
  }
  if (row.input.prefixCache && vllm) out.push('--enable-prefix-caching');
  return out;
}

/** Catalog hardware with a price (the provider's when given), for ranking by cost. */
export function pricedHardware(catalog: Catalog, ids: HardwareSpec[] | undefined, choose: (hw: HardwareSpec) => NonNullable<EstimateInput['price']> | undefined): PlanRequest['hardware'] {
  // Without --hardware, the rented accelerator catalogue: laptops, phones and embedded boards are not rented.
  // CPUs (kind cpu) serve small models at low rates; they are searched when --hardware names them.
  const rented = (hw: HardwareSpec) => hw.formFactor !== 'laptop' && hw.formFactor !== 'phone' && hw.formFactor !== 'embedded' && hw.kind !== 'cpu';
  return (ids ?? catalog.hardware.filter(rented)).flatMap((spec) => {
    const price = choose(spec);
    return price ? [{ spec, price }] : [];
  });
}
