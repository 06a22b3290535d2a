import type { EngineSpec } from '../inputs/engine.js';
import { secondsInHour, tokensInMillion } from '../units.js';
import { CALIBRATION } from './calibration.js';
import type { Calibration } from './efficiency.js';
import { IDEAL_ENGINE, schedulerFlagsPerRank, schedulerValues, type EngineOptions } from './engine.js';
import type { HardwareSpec } from '../inputs/hardware.js';
import { estimateWithStep, MULTI_STEP_NOTE, type Estimate } from './index.js';
import type { EstimateInput } from './input.js';
import { dpGroups, layoutOf } from './parallel.js';
import { drawRequests, percentile, simulate, type Scheduler, type SimulationRun } from './simulate.js';
import { term, type Figures } from './terms.js';
import { describeArrival, describeDistribution, type Traffic } from './workload.js';

/**
 * `llm-size simulate`: one deployment (an estimate input) serving N requests drawn from its
 * traffic, simulated step by step (simulate.ts), reported as percentile figures. Pure.
 */

/** Per-request latency targets, seconds: a request meets them when its own TTFT, TPOT and E2E do (goodput). */
export interface RequestTargets {
  ttft?: number;
  tpot?: number;
  e2e?: number;
}

export const PERCENTILES = [50, 90, 95, 99] as const;
export const LATENCY_METRICS = ['ttft', 'tpot', 'itl', 'e2e'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];

/** A latency target on a percentile of the simulated distribution: TTFT p99 <= 1 s. */
export interface PercentileTarget {
  metric: LatencyMetric;
  percentile: (typeof PERCENTILES)[number];
  seconds: number;
}

/** Whether simulated figures meet a target: figure latency.<metric>.p<percentile> <= seconds. */
export const meetsTarget = (figures: Figures, t: PercentileTarget): boolean => figures[`latency.${t.metric}.p${t.percentile}`].value <= t.seconds;

/** Per-request thresholds for goodput: for each metric, the target at its highest percentile. */
export function requestTargets(targets: PercentileTarget[]): RequestTargets {
  const out: RequestTargets = {};
  for (const t of [...targets].sort((a, b) => a.percentile - b.percentile)) if (t.metric !== 'itl') out[t.metric] = t.seconds;
  return out;
}

export interface SimulationOptions {
  requests: number;
  seed: number;
  /** open loop: requests per second offered to the whole deployment */
  qps?: number;
  /** closed loop: clients, each sending its next request when its last one ends */
  concurrency?: number;
  targets?: RequestTargets;
  /** scheduler limits given on the command line, over the engine profile's */
  scheduler?: { maxNumSeqs?: number; maxNumBatchedTokens?: number };
  /** the longest request the engine serves (--context); default: the model's context */
  maxContext?: number;
}

/** The scheduler a simulation runs, with where each limit came from. */
export interface SchedulerChoice {
  scheduler: Scheduler;
  sources: { maxNumSeqs: string; maxBatchedTokens: string; policy: string; chunkedPrefill: string; stepsPerSchedule: string; dispatch: string };
}

/** No limit: the KV cache is the only bound. */
export const UNLIMITED = Number.MAX_SAFE_INTEGER;

/**
 * The engine profile's scheduler (presets/engines: scheduler.*) for this device and
 * tensor-parallel group (engine.ts schedulerValues: the user's launch options over the profile's
 * defaults), with the simulator's flags over it.
 */
export function schedulerOf(e: EngineSpec, overrides: SimulationOptions['scheduler'] = {}, launched: { options?: EngineOptions; hardware?: HardwareSpec; tp?: number } = {}): SchedulerChoice {
  const profile = launched.hardware ? schedulerValues(e, launched.options ?? {}, launched.hardware, launched.tp ?? 1) : {};
  const seqs = overrides.maxNumSeqs ?? profile.maxNumSeqs ?? UNLIMITED;
  const tokens = overrides.maxNumBatchedTokens ?? profile.maxNumBatchedTokens ?? UNLIMITED;
  const fromOptions = (key: 'maxNumSeqs' | 'maxNumBatchedTokens') => launched.options?.[key] !== undefined;
  return {
    scheduler: {
      maxNumSeqs: seqs,
      // a step carries every running decode (vLLM requires max_num_batched_tokens >= max_num_seqs)
      maxBatchedTokens: tokens,
      chunkedPrefill: e.chunkedPrefill?.value ?? true,
      policy: e.schedulerPolicy?.value ?? 'decode-first',
      stepsPerSchedule: launched.options?.numSchedulerSteps ?? 1,
      dispatch: e.dataParallelDispatch?.value ?? 'fewest',
    },
    sources: {
      maxNumSeqs: overrides.maxNumSeqs !== undefined || fromOptions('maxNumSeqs') ? '--max-num-seqs' : e.scheduler.maxNumSeqs ? e.scheduler.maxNumSeqs.source : `${e.name}: no fixed limit; the KV cache bounds the batch`,
      maxBatchedTokens: overrides.maxNumBatchedTokens !== undefined || fromOptions('maxNumBatchedTokens') ? '--max-num-batched-tokens' : e.scheduler.maxNumBatchedTokens ? e.scheduler.maxNumBatchedTokens.source : `${e.name}: no per-step token budget`,
      policy: e.schedulerPolicy?.source ?? 'continuous batching, decodes first (no policy in the engine profile)',
      chunkedPrefill: e.chunkedPrefill?.source ?? 'assumed (no setting in the engine profile)',
      stepsPerSchedule: launched.options?.numSchedulerSteps !== undefined ? `--num-scheduler-steps (${e.scheduler.multiStep?.source ?? 'multi-step scheduling'})` : 'every step scheduled and streamed',
      dispatch: e.dataParallelDispatch?.source ?? 'the data-parallel rank holding the fewest requests (vLLM\'s DP load balancer: the engine core with the lowest waiting x 4 + running; no dispatch in the engine profile)',
    },
  };
}

export interface Simulation {
  figures: Figures;
  /** the engine state over time: waiting requests, running sequences, KV-cache use (fraction) */
  series: { time: number[]; waiting: number[]; running: number[]; kvUsedFraction: number[] };
  /** the deployment's static estimate at one request (memory, KV capacity, prices) */
  estimate: Estimate;
  scheduler: SchedulerChoice;
  /**
   * attention data parallelism: the limits of each group's scheduler, and whether they are the
   * engine's flags divided over the groups (SGLang) rather than the flags themselves (one rank's)
   */
  groupScheduler?: { groups: number; maxNumSeqs: number; maxBatchedTokens: number; divided: boolean; dispatch: 'round-robin' | 'fewest' };
  traffic: Traffic;
  warnings: string[];
}

const SIM_SOURCE = 'discrete-event simulation of continuous batching (src/estimate/simulate.ts), step times from the step model estimate uses (src/estimate/step.ts)';

/**
 * Simulates `input` (its parallel layout, replicas, engine and traffic) serving
 * `options.requests` requests, and returns percentile figures.
 *
 * @example simulateDeployment(input, { requests: 1000, seed: 1, qps: 5 }).figures['latency.ttft.p99'].value
 */
export function simulateDeployment(input: EstimateInput, options: SimulationOptions, calibration: Calibration = CALIBRATION): Simulation {
  const warnings: string[] = [];
  // The deployment at one request: memory, KV capacity and the step model.
  const single: EstimateInput = { ...input, workload: { ...input.workload, batch: 1 }, load: undefined };
  const { estimate, step } = estimateWithStep(single, calibration);
  warnings.push(...estimate.warnings.filter((w) => !w.startsWith('no price known') && !w.startsWith(MULTI_STEP_NOTE)));
  const layout = layoutOf(input);
  const engine = input.engine ?? IDEAL_ENGINE;
  const choice = schedulerOf(engine, options.scheduler, { options: input.engineOptions, hardware: input.hardware, tp: layout.tp });
  const kvTokens = estimate.figures['memory.kvCapacityTokens']?.value ?? 0;
  // Hybrid models: each sequence's recurrent state takes blocks of the shared pool (vLLM) or a
  // slot of a state pool of its own (SGLang), and the engine's block may be raised to hold it.
  const stateBlocksFigure = estimate.figures['capacity.stateBlocks'];
  const stateBlocks = stateBlocksFigure?.value ?? 0;
  const stateSlots = estimate.figures['capacity.stateSlots']?.value;
  const blockTokens = Number(stateBlocksFigure?.inputs.blockTokens ?? input.engineOptions?.blockSize ?? engine.kvCache.blockTokens.value);
  const traffic: Traffic = input.traffic ?? { input: { kind: 'fixed', value: input.workload.inputTokens }, output: { kind: 'fixed', value: input.workload.outputTokens } };
  if (kvTokens < 2) throw new SimulationImpossible(`${engine.name} leaves no KV cache on ${input.hardware.name} for ${input.model.name} (${estimate.fits ? 'the weights fit, the budget does not' : 'the model does not fit'}); nothing can be served`);

  if (stateSlots !== undefined && stateSlots < 1) throw new SimulationImpossible(`${engine.name}'s recurrent-state pool holds no sequence of ${input.model.name} on ${input.hardware.name}; nothing can be served`);
  // The longest request: the engine's context limit, within what the KV cache holds beside one
  // sequence's state.
  // (attention data parallelism: one group's share, where a sequence lives)
  const groups = dpGroups(layout);
  const kvForOne = Math.floor(kvTokens / groups) - stateBlocks * blockTokens;
  if (kvForOne < 2) throw new SimulationImpossible(`${engine.name} leaves no KV cache on ${input.hardware.name} for ${input.model.name} beside one sequence's recurrent state; nothing can be served`);
  const maxContext = Math.min(options.maxContext ?? input.model.maxContext, input.model.maxContext, kvForOne);
  const { requests, truncated } = drawRequests(traffic, options.requests, options.seed, maxContext, options.qps);
  if (truncated) warnings.push(`${truncated} of ${options.requests} requests were longer than ${maxContext} tokens (${maxContext === kvForOne ? (groups > 1 ? 'the KV cache of an attention group' : 'the KV cache of a replica') : 'the context limit'}) and were cut to fit`);
  // Attention data parallelism: one scheduler per group (simulate.ts), each with the limits the
  // engine gives one rank: its flags where they count one rank, else the flags over the groups.
  const perGroup = (limit: number) => (limit >= UNLIMITED ? limit : Math.max(1, Math.floor(limit / groups)));
  const divided = groups > 1 && !schedulerFlagsPerRank(engine);
  const scheduler = divided ? { ...choice.scheduler, maxNumSeqs: perGroup(choice.scheduler.maxNumSeqs), maxBatchedTokens: perGroup(choice.scheduler.maxBatchedTokens) } : { ...choice.scheduler };
  // Bounded work: about (output tokens / sequences running together) steps. Refuse a run that
  // would take more than MAX_SIMULATED_STEPS before starting it.
  let outputTokens = 0;
  for (const x of requests.output) outputTokens += x;
  const e2eOne = estimate.figures['latency.e2e']?.value ?? 0;
  const a0 = requests.arrival;
  const rate = options.qps ?? (a0 && a0.length > 1 && a0[a0.length - 1] > a0[0] ? (a0.length - 1) / (a0[a0.length - 1] - a0[0]) : 0);
  const together = options.concurrency !== undefined ? options.concurrency / layout.replicas : (rate / layout.replicas) * e2eOne;
  const expectedSteps = outputTokens / Math.max(1, Math.min(scheduler.maxNumSeqs * groups, stateSlots ?? Infinity, together));
  if (expectedSteps > MAX_SIMULATED_STEPS) throw new SimulationImpossible(`this run would take about ${Math.round(expectedSteps / 1e6)} million engine steps (${options.requests} requests of ${Math.round(outputTokens / options.requests)} output tokens on average, about ${Math.max(1, Math.round(together))} running at once); at most ${MAX_SIMULATED_STEPS / 1e6} million are simulated: lower --requests`);
  if (!scheduler.chunkedPrefill) {
    let longest = 0;
    for (const x of requests.input) longest = Math.max(longest, x);
    if (longest > scheduler.maxBatchedTokens) warnings.push(`${engine.name} does not split prompts and its step budget is ${scheduler.maxBatchedTokens} tokens: prompts up to ${longest} tokens run alone in a step of their own here (the engine itself would reject them unless launched with a larger budget)`);
  }
  const run = simulate({ step, model: input.model, kvCapacityTokens: kvTokens, blockTokens, ...(stateSlots !== undefined ? { stateSlots } : {}), ...(stateBlocks > 0 ? { stateBlocks } : {}), scheduler, replicas: layout.replicas, maxSteps: 4 * MAX_SIMULATED_STEPS }, requests, options.concurrency ?? 0);

  const a = requests.arrival;
  const arrivalRate = a && a.length > 1 && a[a.length - 1] > a[0] ? (a.length - 1) / (a[a.length - 1] - a[0]) : 0;
  const figures = simulationFigures(run, { input, options, kvTokens, traffic, choice, replicas: layout.replicas, truncated, arrivalRate });
  // Overloaded: the queue grows for as long as requests arrive. A stable engine has started
  // nearly every request by the time the last one arrives; count those it had not (first token
  // later than the last arrival). Completions per second over the run would also flag a stable
  // run whose last long outputs finish long after the last arrival.
  const offered = options.qps ?? arrivalRate;
  if (a && offered > 0) {
    let last = 0;
    for (const t of a) last = Math.max(last, t);
    let pending = 0;
    for (let i = 0; i < a.length; i++) if (a[i] + run.ttft[i] > last) pending++;
    if (pending > Math.max(5, 0.05 * a.length)) warnings.push(`overloaded: ${+offered.toPrecision(3)} requests/s offered, and ${pending} of ${a.length} requests had not started when the last one arrived; the queue grows for as long as the run lasts, so the latencies depend on --requests (add replicas)`);
  }
  if (run.preemptions > 0) warnings.push(`the KV cache ran out ${run.preemptions} times: the newest sequences were preempted and recomputed (vLLM's recompute preemption); more replicas or a larger KV budget avoid it`);
  return { figures, series: run.series, estimate, scheduler: choice, ...(groups > 1 ? { groupScheduler: { groups, maxNumSeqs: scheduler.maxNumSeqs, maxBatchedTokens: scheduler.maxBatchedTokens, divided, dispatch: scheduler.dispatch ?? 'fewest' } } : {}), traffic, warnings };
}

/** Thrown when the deployment cannot serve a single request, or the run is too long to simulate. */
export class SimulationImpossible extends Error {}

/** Most engine steps one simulation runs (a few seconds): docs/simulate.md. */
export const MAX_SIMULATED_STEPS = 30_000_000;

interface FigureContext {
  input: EstimateInput;
  options: SimulationOptions;
  kvTokens: number;
  traffic: Traffic;
  choice: SchedulerChoice;
  replicas: number;
  truncated: number;
  /** offered rate of the arrivals drawn, requests/s (0 for a closed loop) */
  arrivalRate: number;
}

const METRIC_TEXT: Record<LatencyMetric, { label: string; per: string }> = {
  ttft: { label: 'Time to first token', per: 'per request: first token - arrival' },
  tpot: { label: 'Time per output token', per: 'per request: (e2e - ttft) / (output tokens - 1), requests of one token left out' },
  itl: { label: 'Inter-token latency', per: 'per token: the gap before each token after a request\'s first, over every token (from a histogram of 0.1% bins)' },
  e2e: { label: 'End-to-end time', per: 'per request: last token - arrival' },
};

function simulationFigures(run: SimulationRun, c: FigureContext): Figures {
  const fig: Figures = {};
  const { options: o } = c;
  const n = run.ttft.length;
  const load = o.qps !== undefined ? `${o.qps} requests/s offered (${describeArrival(c.traffic.arrival ?? { kind: 'poisson' })})` : o.concurrency !== undefined ? `${o.concurrency} clients, each sending its next request when one ends` : `the arrival times of ${describeArrival(c.traffic.arrival!)}`;
  const inputs = { requests: n, seed: o.seed, load, inputTokens: describeDistribution(c.traffic.input), outputTokens: describeDistribution(c.traffic.output), replicas: c.replicas };
  for (const metric of LATENCY_METRICS) {
    const { label, per } = METRIC_TEXT[metric];
    const values = metric === 'ttft' ? run.ttft : metric === 'tpot' ? run.tpot : metric === 'e2e' ? run.e2e : undefined;
    for (const p of PERCENTILES) {
      const value = values ? percentile(values, p) : run.itl.percentile(p);
      term(fig, { id: `latency.${metric}.p${p}`, label: `${label}, p${p}`, unit: 's', value, formula: `${p}th percentile of ${per}${values ? ' (linear interpolation, as vLLM benchmark_serving)' : ''}`, inputs, source: SIM_SOURCE });
    }
    let mean = 0;
    if (values) {
      let count = 0;
      for (const v of values) if (!Number.isNaN(v)) (mean += v), count++;
      mean = count ? mean / count : 0;
    } else {
      let total = 0;
      run.itl.counts.forEach((w, i) => (total += w * 1e-7 * Math.pow(1.001, i + 0.5)));
      mean = run.itl.total ? total / run.itl.total : 0;
    }
    term(fig, { id: `latency.${metric}.mean`, label: `${label}, mean`, unit: 's', value: mean, formula: `mean of ${per}`, inputs, source: SIM_SOURCE });
  }
  const duration = run.durationSeconds;
  term(fig, { id: 'throughput.requestsPerSecond', label: 'Requests per second completed', unit: 'requests/s', value: n / duration, formula: 'requests / (last completion - first arrival)', inputs: { requests: n, durationSeconds: duration }, source: `${SIM_SOURCE}; the duration benchmark_serving divides by` });
  const tps = term(fig, { id: 'throughput.outputTokensPerSecond', label: 'Output tokens per second (deployment)', unit: 'tokens/s', value: run.outputTokens / duration, formula: 'output tokens / (last completion - first arrival)', inputs: { outputTokens: run.outputTokens, durationSeconds: duration }, source: SIM_SOURCE });
  const t = o.targets ?? {};
  if (t.ttft !== undefined || t.tpot !== undefined || t.e2e !== undefined) {
    let good = 0;
    for (let i = 0; i < n; i++) {
      if (t.ttft !== undefined && run.ttft[i] > t.ttft) continue;
      if (t.tpot !== undefined && run.tpot[i] > t.tpot) continue;
      if (t.e2e !== undefined && run.e2e[i] > t.e2e) continue;
      good++;
    }
    const targets = { ttftTarget: t.ttft ?? 'none', tpotTarget: t.tpot ?? 'none', e2eTarget: t.e2e ?? 'none' };
    term(fig, { id: 'goodput.fraction', label: 'Requests meeting every target', unit: 'fraction', value: good / n, formula: 'requests with ttft, tpot and e2e within their targets / requests', inputs: { good, requests: n, ...targets }, source: 'goodput as in DistServe (Zhong et al. 2024): requests that meet their latency targets' });
    term(fig, { id: 'goodput.requestsPerSecond', label: 'Goodput: requests per second meeting every target', unit: 'requests/s', value: good / duration, formula: 'requests meeting every target / (last completion - first arrival)', inputs: { good, durationSeconds: duration, ...targets }, source: 'goodput as in DistServe (Zhong et al. 2024)' });
  }
  term(fig, { id: 'simulation.requests', label: 'Requests simulated', unit: 'count', value: n, formula: '--requests', inputs: { seed: o.seed, truncatedToFit: c.truncated }, source: 'user input' });
  if (o.qps !== undefined) term(fig, { id: 'simulation.offeredRequestsPerSecond', label: 'Requests per second offered', unit: 'requests/s', value: o.qps, formula: '--qps', inputs: { arrival: describeArrival(c.traffic.arrival ?? { kind: 'poisson' }) }, source: 'user input' });
  else if (o.concurrency === undefined) term(fig, { id: 'simulation.offeredRequestsPerSecond', label: 'Requests per second offered (the trace\'s rate)', unit: 'requests/s', value: c.arrivalRate, formula: '(requests - 1) / (last arrival - first arrival)', inputs: { arrival: describeArrival(c.traffic.arrival!) }, source: 'the trace\'s arrival times, replayed as recorded' });
  else term(fig, { id: 'simulation.clients', label: 'Clients (one request in flight each)', unit: 'count', value: o.concurrency ?? 0, formula: '--concurrency', inputs: {}, source: 'user input; a closed loop as genai-perf and NIM benchmarks run it' });
  term(fig, { id: 'simulation.durationSeconds', label: 'Simulated time, first arrival to last completion', unit: 's', value: duration, formula: 'last completion - first arrival', inputs: {}, source: SIM_SOURCE });
  term(fig, { id: 'simulation.steps', label: 'Engine steps', unit: 'count', value: run.steps, formula: 'forward passes over all replicas', inputs: { replicas: c.replicas }, source: SIM_SOURCE });
  term(fig, { id: 'simulation.peakRunning', label: 'Most sequences running at once (one replica)', unit: 'count', value: run.peakRunning, formula: 'max over steps of running sequences', inputs: { maxNumSeqs: c.choice.scheduler.maxNumSeqs === UNLIMITED ? 'unlimited' : c.choice.scheduler.maxNumSeqs, maxNumSeqsSource: c.choice.sources.maxNumSeqs }, source: SIM_SOURCE });
  term(fig, { id: 'simulation.peakWaiting', label: 'Most requests waiting (all replicas)', unit: 'count', value: Math.max(0, ...run.series.waiting), formula: 'max over the sampled series of requests queued, not yet admitted', inputs: {}, source: SIM_SOURCE });
  term(fig, { id: 'simulation.peakKvUsed', label: 'Highest KV-cache use (mean over replicas)', unit: 'fraction', value: Math.max(0, ...run.series.kvUsedFraction), formula: 'max over the sampled series of KV blocks held / blocks', inputs: { kvCapacityTokens: c.kvTokens }, source: SIM_SOURCE });
  term(fig, { id: 'simulation.preemptions', label: 'Preemptions (KV cache full)', unit: 'count', value: run.preemptions, formula: 'sequences evicted and recomputed when a decode step found no free KV block', inputs: { kvCapacityTokens: c.kvTokens }, source: 'vLLM recompute preemption (vllm/v1/core/sched/scheduler.py: the newest running request is preempted)' });
  term(fig, { id: 'memory.kvCapacityTokens', label: 'KV cache capacity in tokens (per replica)', unit: 'tokens', value: c.kvTokens, formula: 'memory.kvCapacityTokens of the estimate', inputs: { engine: c.input.engine?.id ?? 'ideal' }, source: 'src/estimate/engine.ts capacityFigures', approximate: true });
  const devices = c.input.count * c.replicas;
  term(fig, { id: 'load.devices', label: 'Devices (all replicas)', unit: 'count', value: devices, formula: 'devices per replica x replicas', inputs: { count: c.input.count, replicas: c.replicas }, source: 'tp x pp devices per replica' });
  if (c.input.price) {
    const usdPerHour = term(fig, { id: 'cost.usdPerHour', label: 'Deployment cost per hour', unit: 'USD/h', value: c.input.price.usdPerHour * devices, formula: 'usdPerDeviceHour x devices', inputs: { usdPerDeviceHour: c.input.price.usdPerHour, devices }, source: c.input.price.source });
    term(fig, { id: 'cost.usdPerMillionOutputTokens', label: 'USD per million output tokens at the simulated throughput', unit: 'USD', value: (usdPerHour / secondsInHour / Math.max(tps, Number.MIN_VALUE)) * tokensInMillion, formula: 'usdPerHour / 3600 / outputTokensPerSecond x 1e6', inputs: { usdPerHour, outputTokensPerSecond: tps }, source: 'all device time charged to the output tokens served' });
  }
  return fig;
}
