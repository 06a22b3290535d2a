import { quote, UserError } from '../errors.js';
import type { EstimateInput } from '../estimate/input.js';
import { SimulationTooLong } from '../estimate/simulate.js';
import { LATENCY_METRICS, MAX_SIMULATED_STEPS, PERCENTILES, requestTargets, simulateDeployment, SimulationImpossible, UNLIMITED, type LatencyMetric, type PercentileTarget as Target, type Simulation, type SimulationOptions } from '../estimate/simulation.js';
import { layoutOf } from '../estimate/parallel.js';
import type { Figures } from '../estimate/terms.js';
import { describeArrival, describeDistribution } from '../estimate/workload.js';
import type { Catalog } from './catalog.js';
import type { HubConfig } from './hub.js';
import { quantity, type Named, type Raw } from './options.js';
import { DOMAINS } from './domains.js';
import { LEVER_KEYS } from './resolve-levers.js';
import { ESTIMATE_KEYS, resolveEstimate, type EstimateKey, type Origins, type RawOptions } from './resolve.js';
import { arrivalProcess } from './traffic.js';

/**
 * `llm-size simulate` options (flags, spec-file keys, check-file keys, library options) -> the
 * deployment (resolved as estimate resolves it) and the simulation's options. Pure but for the
 * trace files the lengths may name.
 */

/** A latency target on a percentile of the simulated distribution ("--ttft-p99 1s"), and the flag or field it came from. */
export interface PercentileTarget extends Target {
  where: string;
}

export { LATENCY_METRICS, PERCENTILES };

/** ttftP50, ttftP90, ttftP95, ttftP99, tpotP50 ... e2eP99: the percentile target keys (--ttft-p99). */
export const PERCENTILE_TARGET_KEYS = LATENCY_METRICS.flatMap((m) => PERCENTILES.map((p) => `${m}P${p}`)) as `${LatencyMetric}P${(typeof PERCENTILES)[number]}`[];
/** Plain targets: --ttft, --tpot, --itl, --e2e mean the median (p50). */
export const MEDIAN_TARGET_KEYS = [...LATENCY_METRICS];

/** Every option of `llm-size simulate`, camelCase as in a spec or check file. */
export const SIMULATE_KEYS = [
  ...ESTIMATE_KEYS,
  'arrival', 'requests', 'seed',
  ...MEDIAN_TARGET_KEYS, ...PERCENTILE_TARGET_KEYS,
] as const;
export type SimulateKey = (typeof SIMULATE_KEYS)[number];
export type SimulateRawOptions = Partial<Record<SimulateKey, Raw>>;

export const DEFAULT_REQUESTS = 1000;
export const DEFAULT_SEED = 1;
/** Most requests one simulation serves (src/inputs/domains.ts). */
export const MAX_REQUESTS = DOMAINS.requests.max;
/** Points of a --qps a..b sweep. */
export const SWEEP_POINTS = 10;

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A duration flag: "500ms", "1s", "0.05" (seconds). */
export const durationSeconds = (n: Named): number => quantity(n, 'duration');

/** Percentile and median targets given among `raw`'s keys. */
export function percentileTargets(raw: Partial<Record<string, Raw>>, named: (key: string) => Named): PercentileTarget[] {
  const targets: PercentileTarget[] = [];
  for (const metric of LATENCY_METRICS) {
    if (raw[metric] !== undefined) targets.push({ metric, percentile: 50, seconds: durationSeconds(named(metric)), where: named(metric).where });
    for (const p of PERCENTILES) {
      const key = `${metric}P${p}`;
      if (raw[key] !== undefined) {
        if (p === 50 && raw[metric] !== undefined) throw new UserError(`give --${metric} or --${metric}-p50, not both (--${metric} is the median)`);
        targets.push({ metric, percentile: p, seconds: durationSeconds(named(key)), where: named(key).where });
      }
    }
  }
  return targets;
}


/** "5" -> [5]; "1,2,4" -> [1, 2, 4]; "1..20" -> 10 evenly spaced rates from 1 to 20. */
export function qpsValues(n: Named): number[] {
  const text = String(n.value).trim();
  const bad = (why: string) => new UserError(`${n.where}: invalid value ${quote(n.value)} (${why}); expected requests per second: a rate (5), a list (1,2,4,8) or a range (1..20, ${SWEEP_POINTS} evenly spaced rates)`);
  const rate = (s: string) => quantity({ value: s.trim(), where: n.where }, 'qps');
  const range = /^(.+?)\.\.(.+)$/.exec(text);
  if (range) {
    const [a, b] = [rate(range[1]), rate(range[2])];
    if (b <= a) throw bad('the range must rise');
    return Array.from({ length: SWEEP_POINTS }, (_, i) => +(a + ((b - a) * i) / (SWEEP_POINTS - 1)).toPrecision(6));
  }
  const parts = text.split(',');
  if (parts.length > 50) throw bad('at most 50 rates');
  const list = typeof n.value === 'number' ? [quantity(n, 'qps')] : parts.map(rate);
  return list;
}

export interface ResolvedSimulation {
  input: EstimateInput;
  /** one simulation per offered load (a --qps list or range), or one closed-loop run */
  runs: SimulationOptions[];
  targets: PercentileTarget[];
  warnings: string[];
}

/** Resolves simulate options: the deployment as estimate resolves it, then load, traffic and targets. */
export function resolveSimulate(raw: SimulateRawOptions, origins: Partial<Record<SimulateKey, string>>, catalog: Catalog, hub?: HubConfig): ResolvedSimulation {
  const named = (key: string): Named => ({ value: raw[key as SimulateKey], where: origins[key as SimulateKey] ?? `--${kebab(key)}` });
  const has = (key: SimulateKey) => raw[key] !== undefined;
  if (has('batch')) throw new UserError('--batch is a static batch for estimate; simulate serves a load: pass --qps <requests per second> or --concurrency <clients>');
  if (has('qps') && has('concurrency')) throw new UserError('give --qps (requests arriving at a rate) or --concurrency (clients with one request in flight each), not both');
  // The serving levers change a step's tokens (speculation) and work (prefix caching, offload);
  // the simulator's steps do not model them yet: refused rather than ignored.
  const lever = LEVER_KEYS.find((k) => has(k as SimulateKey));
  if (lever) throw new UserError(`${named(lever).where}: simulate does not model the serving levers yet (docs/levers.md); use estimate or plan for their effect`);
  // The deployment, resolved as estimate resolves it, without the load (the simulation serves it).
  const estimateRaw: RawOptions = {};
  for (const key of ESTIMATE_KEYS) if (key !== 'qps' && key !== 'concurrency' && has(key)) estimateRaw[key as EstimateKey] = raw[key];
  const resolved = resolveEstimate(estimateRaw, origins as Origins, catalog, hub);
  // an encoder runs one forward pass per input and decodes nothing: there is no batch of
  // generating sequences to schedule (its figures were NaN throughput, exit 70)
  if (resolved.input.model.encoder) throw new UserError(`${resolved.input.model.name} is an encoder (one forward pass per input, no decoding): simulate schedules generating models; llm-size estimate or rag gives its figures`);
  const warnings = resolved.warnings.filter((w) => !w.includes('these figures are for the mean request'));
  const input: EstimateInput = { ...resolved.input, traffic: resolved.input.traffic ?? { input: { kind: 'fixed', value: resolved.input.workload.inputTokens }, output: { kind: 'fixed', value: resolved.input.workload.outputTokens } } };

  const arrival = has('arrival') ? arrivalProcess(named('arrival'), resolved.traces) : undefined;
  if (arrival) input.traffic = { ...input.traffic!, arrival };
  if (has('concurrency') && has('arrival')) throw new UserError('--arrival sets how requests arrive at a --qps rate; with --concurrency each client sends its next request when its last one ends');
  if (!has('qps') && !has('concurrency') && arrival?.kind !== 'trace') throw new UserError('simulate needs a load: pass --qps <requests per second> (or a range, 1..20), --concurrency <clients>, or --arrival trace to replay a trace\'s arrival times');

  const requests = has('requests') ? quantity(named('requests'), 'requests') : DEFAULT_REQUESTS;
  const seed = has('seed') ? quantity(named('seed'), 'seed') : DEFAULT_SEED;
  // --max-num-seqs / --max-num-batched-tokens are engine launch options (resolve.ts): they reach
  // the scheduler through input.engineOptions (simulation.ts schedulerOf)
  const targets = percentileTargets(raw, named);
  const base: SimulationOptions = { requests, seed, targets: requestTargets(targets), maxContext: has('context') ? resolved.input.workload.context : undefined };
  let runs: SimulationOptions[];
  if (has('concurrency')) {
    const clients = Math.min(quantity(named('concurrency'), 'concurrency'), requests);
    runs = [{ ...base, concurrency: clients }];
  } else if (has('qps')) runs = qpsValues(named('qps')).map((qps) => ({ ...base, qps }));
  else runs = [{ ...base }];
  return { input, runs, targets, warnings };
}

/** "TTFT p99" */
export const targetName = (t: Pick<PercentileTarget, 'metric' | 'percentile'>): string => `${t.metric.toUpperCase()} p${t.percentile}`;

/** One target checked against a simulation. */
export interface TargetResult {
  metric: LatencyMetric;
  percentile: number;
  /** the target, s */
  seconds: number;
  /** the simulated percentile, s */
  actual: number;
  met: boolean;
}

/** Where every simulation document starts: what was simulated. */
export interface SimulationInputSummary {
  model: { id: string; name: string };
  hardware: { id: string; name: string; count: number };
  parallel: { tp: number; pp: number; ep: number; replicas: number; dpAttention?: number; redundantExperts?: number };
  engine: string;
  precision: { weights: string; kv: string };
  traffic: { inputTokens: string; outputTokens: string; arrival: string | null; workload: string | null };
  requests: number;
  seed: number;
  scheduler: {
    maxNumSeqs: number | null;
    maxNumBatchedTokens: number | null;
    policy: string;
    chunkedPrefill: boolean;
    stepsPerSchedule?: number;
    /** attention data parallelism: one scheduler per group, with these limits each */
    perAttentionGroup?: { groups: number; maxNumSeqs: number | null; maxNumBatchedTokens: number | null; limits: 'per-rank flags' | 'flags divided over the groups'; dispatch: 'round-robin' | 'fewest' };
  };
}

/** `llm-size simulate --format json` at one load. */
export interface SimulationDocument {
  schemaVersion: 1;
  input: SimulationInputSummary & { load: { qps: number | null; concurrency: number | null } };
  figures: Figures;
  /** each percentile target against the simulated percentile; `met` is null without targets */
  targets: TargetResult[];
  met: boolean | null;
  /** the engine state over time (s; counts; KV blocks held / blocks) */
  series: Simulation['series'];
  warnings: string[];
}

/** `llm-size simulate --qps a..b --format json`: one point per offered load. */
export interface SimulationSweepDocument {
  schemaVersion: 1;
  input: SimulationInputSummary;
  points: { qps: number; figures: Figures; targets: TargetResult[]; met: boolean | null }[];
  warnings: string[];
}

export function checkTargets(targets: PercentileTarget[], figures: Figures): TargetResult[] {
  return targets.map((t) => {
    const actual = figures[`latency.${t.metric}.p${t.percentile}`].value;
    return { metric: t.metric, percentile: t.percentile, seconds: t.seconds, actual, met: actual <= t.seconds };
  });
}

/**
 * The warnings of every run, each once; a sweep's overloaded runs in one line (the loads and
 * what they completed) instead of one line per load.
 */
function sweepWarnings(runs: { qps?: number; warnings: string[] }[]): string[] {
  const overloaded = runs.filter((r) => r.warnings.some((w) => w.startsWith('overloaded:')));
  const rest = [...new Set(runs.flatMap((r) => r.warnings.filter((w) => !(runs.length > 1 && w.startsWith('overloaded:')))))];
  if (runs.length < 2 || !overloaded.length) return rest;
  return [`overloaded at ${overloaded.map((r) => r.qps).join(', ')} requests/s offered: requests were still waiting to start when the last one arrived; the queue grows for as long as the run lasts, so those latencies depend on --requests (add replicas)`, ...rest];
}

/** Resolves the options and runs every simulation they ask for. */
export function runSimulate(raw: SimulateRawOptions, origins: Partial<Record<SimulateKey, string>>, catalog: Catalog, hub?: HubConfig): { document: SimulationDocument | SimulationSweepDocument; simulations: Simulation[]; resolved: ResolvedSimulation } {
  const resolved = resolveSimulate(raw, origins, catalog, hub);
  const { input, runs, targets } = resolved;
  const simulations = runs.map((o) => {
    try {
      return simulateDeployment(input, o);
    } catch (e) {
      if (e instanceof SimulationImpossible) throw new UserError(e.message);
      if (e instanceof SimulationTooLong) throw new UserError(`the simulation ${e.message} (more than its bound of ${MAX_SIMULATED_STEPS / 1e6} million per run, x4); lower --requests`);
      throw e;
    }
  });
  const first = simulations[0];
  const warnings = [...resolved.warnings, ...sweepWarnings(simulations.map((s, i) => ({ qps: runs[i].qps, warnings: s.warnings })))];
  const layout = layoutOf(input);
  const sch = first.scheduler.scheduler;
  const g = first.groupScheduler;
  const summary: SimulationInputSummary = {
    model: { id: input.model.id, name: input.model.name },
    hardware: { id: input.hardware.id, name: input.hardware.name, count: input.count },
    parallel: layout,
    engine: input.engine?.id ?? 'ideal',
    precision: { weights: input.weights.id, kv: input.kv.id },
    traffic: { inputTokens: describeDistribution(first.traffic.input), outputTokens: describeDistribution(first.traffic.output), arrival: first.traffic.arrival ? describeArrival(first.traffic.arrival) : runs[0].concurrency !== undefined ? null : 'poisson', workload: first.traffic.workload ?? null },
    requests: runs[0].requests,
    seed: runs[0].seed,
    scheduler: {
      maxNumSeqs: sch.maxNumSeqs === UNLIMITED ? null : sch.maxNumSeqs,
      maxNumBatchedTokens: sch.maxBatchedTokens === UNLIMITED ? null : sch.maxBatchedTokens,
      policy: sch.policy,
      chunkedPrefill: sch.chunkedPrefill,
      ...((sch.stepsPerSchedule ?? 1) > 1 ? { stepsPerSchedule: sch.stepsPerSchedule } : {}),
      ...(g ? { perAttentionGroup: { groups: g.groups, maxNumSeqs: g.maxNumSeqs === UNLIMITED ? null : g.maxNumSeqs, maxNumBatchedTokens: g.maxBatchedTokens === UNLIMITED ? null : g.maxBatchedTokens, limits: g.divided ? 'flags divided over the groups' : 'per-rank flags', dispatch: g.dispatch } } : {}),
    },
  };
  const verdict = (figures: Figures) => {
    const results = checkTargets(targets, figures);
    return { targets: results, met: results.length ? results.every((r) => r.met) : null };
  };
  if (runs.length > 1) {
    return { document: { schemaVersion: 1, input: summary, points: simulations.map((s, i) => ({ qps: runs[i].qps!, figures: s.figures, ...verdict(s.figures) })), warnings }, simulations, resolved };
  }
  const document: SimulationDocument = { schemaVersion: 1, input: { ...summary, load: { qps: runs[0].qps ?? null, concurrency: runs[0].concurrency ?? null } }, figures: first.figures, ...verdict(first.figures), series: first.series, warnings };
  return { document, simulations, resolved };
}
