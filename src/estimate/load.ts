import { secondsInHour, tokensInMillion } from '../units.js';
import type { Estimate, ServingProbe } from './index.js';
import type { EstimateInput } from './input.js';
import { prefillFlops } from './flops.js';
import { latencySeconds } from './latency.js';
import { layoutOf } from './parallel.js';
import { term, type Figures } from './terms.js';

/**
 * Serving under load, and the deployment search behind `llm-size plan`.
 *
 * Load: with --concurrency the batch per replica is concurrency / replicas; with --qps it
 * follows from Little's law (L = lambda x W, Little 1961): concurrency per replica =
 * (qps / replicas) x e2e(concurrency), solved by fixed-point iteration from one sequence up
 * (e2e grows with the batch, so the iteration climbs to the least fixed point or past the
 * KV capacity, which means more replicas are needed).
 */

export type Run = (input: EstimateInput) => Estimate;

const fig = (e: Estimate, id: string): number => e.figures[id].value;

/** What the iteration reads of a configuration: its capacity, step model, FLOPs and latency, equal to its full estimate's figures (index.ts probeServing). */
export type Probe = (input: EstimateInput) => ServingProbe;

/**
 * Least fixed point of c = ceil(lambda x e2e(c)) for `replicas` replicas, within the KV
 * capacity. A probe at one sequence (index.ts probeServing: the full estimate's figures without
 * the rest) gives the capacity and the deployment's step model; e2e at the batches the iteration
 * tries is that step model re-timed (latency.ts latencySeconds: equal to the full estimate's
 * figure to the last bit), and the full estimate is made only where the iteration stops.
 */
function fixedPoint(input: EstimateInput, replicas: number, run: Run, probe: Probe): { estimate: Estimate; ok: boolean } {
  const qps = input.load!.qps!;
  const layout = layoutOf(input);
  const inputAt = (c: number): EstimateInput => ({ ...input, workload: { ...input.workload, batch: c }, parallel: { ...layout, replicas }, load: { ...input.load, concurrency: c * replicas } });
  const one = probe(inputAt(1));
  const cap = Math.max(1, one.maxConcurrency);
  const m = input.model;
  const { perToken, decodePerToken } = one.flops;
  const e2eAt = (c: number): number => {
    if (c === 1) return one.latency.e2e;
    const w = { ...input.workload, batch: c };
    return latencySeconds(one.step, m, w, { prefill: prefillFlops(m, perToken, c, w.inputTokens).total, decodePerToken }, true).e2e;
  };
  const estimateAt = (c: number): Estimate => run(inputAt(c));
  let c = 1;
  for (let i = 0; i < 200; i++) {
    const need = Math.max(1, Math.ceil((qps / replicas) * e2eAt(c) - 1e-9));
    if (need === c) return { estimate: estimateAt(c), ok: c <= cap };
    if (need > cap) return { estimate: estimateAt(cap), ok: false };
    c = need;
  }
  return { estimate: estimateAt(c), ok: false };
}

/**
 * Resolves --qps into a batch per replica (and, unless --replicas is given, the fewest
 * replicas that carry the load within the KV capacity), then returns that estimate.
 */
export function solveLoad(input: EstimateInput, run: Run, probe: Probe): Estimate {
  const given = input.load?.replicasGiven === true;
  const layout = layoutOf(input);
  if (given) {
    const { estimate, ok } = fixedPoint(input, layout.replicas, run, probe);
    estimate.loadCarried = ok;
    if (!ok) estimate.warnings.push(`${input.load!.qps} requests/s is more than ${layout.replicas} replica(s) serve within their KV capacity; figures are at the largest batch that fits (${estimate.input.workload.batch}); add replicas`);
    return estimate;
  }
  // Start from the replicas the largest batch needs, then add one at a time.
  const oneReplica = (c: number) => run({ ...input, workload: { ...input.workload, batch: c }, parallel: { ...layout, replicas: 1 }, load: { concurrency: c, replicasGiven: true } });
  const full = oneReplica(Math.max(1, fig(oneReplica(1), 'capacity.maxConcurrency')));
  const perReplica = fig(full, 'throughput.requestsPerSecond');
  let replicas = Math.max(1, Math.ceil(input.load!.qps! / Math.max(perReplica, Number.MIN_VALUE)));
  for (let i = 0; i < 64; i++, replicas++) {
    const { estimate, ok } = fixedPoint(input, replicas, run, probe);
    if (ok) return { ...estimate, loadCarried: true };
  }
  const { estimate } = fixedPoint(input, replicas, run, probe);
  estimate.loadCarried = false;
  estimate.warnings.push(`no replica count up to ${replicas} carries ${input.load!.qps} requests/s within the KV capacity`);
  return estimate;
}

/**
 * Load figures (when --concurrency or --qps is given): replicas, devices, requests per second
 * per replica (Little's law: concurrency / e2e), the deployment's cost per hour and per million
 * output tokens at the offered load (all device time charged to output tokens, the basis
 * providers price serving by).
 */
export function loadFigures(figures: Figures, input: EstimateInput, e2e: number): void {
  if (!input.load) return;
  const layout = layoutOf(input);
  const w = input.workload;
  term(figures, { id: 'load.replicas', label: 'Replicas', unit: 'count', value: layout.replicas, formula: input.load.replicasGiven ? '--replicas' : input.load.qps !== undefined ? 'fewest replicas whose KV capacity holds the concurrency Little\'s law needs' : '1 (default)', inputs: { replicas: layout.replicas }, source: input.load.replicasGiven ? 'user input' : "Little's law (Little 1961)" });
  const devices = term(figures, { id: 'load.devices', label: 'Devices (all replicas)', unit: 'count', value: input.count * layout.replicas, formula: 'count x replicas', inputs: { count: input.count, replicas: layout.replicas }, source: 'tp x pp devices per replica' });
  term(figures, { id: 'load.concurrencyPerReplica', label: 'Concurrent requests per replica', unit: 'count', value: w.batch, formula: input.load.qps !== undefined ? 'least c with c = ceil(qps / replicas x e2e(c))' : 'ceil(concurrency / replicas)', inputs: { qps: input.load.qps ?? 0, concurrency: input.load.concurrency ?? 0, replicas: layout.replicas }, source: "Little's law (Little 1961): requests in flight = arrival rate x time in system" });
  const capacityRps = term(figures, { id: 'load.requestsPerSecondPerReplica', label: 'Requests per second per replica', unit: 'requests/s', value: w.batch / e2e, formula: 'concurrencyPerReplica / e2e', inputs: { concurrency: w.batch, e2e }, source: "Little's law" });
  const served = term(figures, { id: 'load.requestsPerSecond', label: 'Requests per second served', unit: 'requests/s', value: input.load.qps ?? capacityRps * layout.replicas, formula: input.load.qps !== undefined ? 'qps (offered load)' : 'replicas x requestsPerSecondPerReplica', inputs: { qps: input.load.qps ?? 0, replicas: layout.replicas }, source: input.load.qps !== undefined ? '--qps' : "Little's law" });
  const outputTps = term(figures, { id: 'load.outputTokensPerSecond', label: 'Output tokens per second (deployment)', unit: 'tokens/s', value: served * w.outputTokens, formula: 'requestsPerSecond x outputTokens', inputs: { outputTokens: w.outputTokens }, source: 'each request generates outputTokens' });
  if (!input.price) return;
  const usdPerHour = term(figures, { id: 'load.usdPerHour', label: 'Deployment cost per hour (all replicas)', unit: 'USD/h', value: input.price.usdPerHour * devices, formula: 'usdPerDeviceHour x devices', inputs: { usdPerDeviceHour: input.price.usdPerHour, devices }, source: input.price.source });
  term(figures, { id: 'load.usdPerMillionOutputTokens', label: 'USD per million output tokens at this load', unit: 'USD', value: (usdPerHour / secondsInHour / outputTps) * tokensInMillion, formula: 'usdPerHour / 3600 / outputTokensPerSecond x 1e6', inputs: { usdPerHour, outputTokensPerSecond: outputTps }, source: 'all device time charged to the output tokens served' });
}

/**
 * Deployment figures for replicas serving a static batch each (--replicas without --qps or
 * --concurrency): the whole deployment is `replicas` copies of one replica, so its devices,
 * throughput and cost per hour are the per-replica figures times the replicas.
 */
export function deploymentFigures(figures: Figures, input: EstimateInput): void {
  const layout = layoutOf(input);
  if (input.load || layout.replicas <= 1) return;
  const r = layout.replicas;
  term(figures, { id: 'deployment.replicas', label: 'Replicas', unit: 'count', value: r, formula: '--replicas', inputs: { replicas: r }, source: 'user input' });
  term(figures, { id: 'deployment.devices', label: 'Devices (whole deployment)', unit: 'count', value: r * input.count, formula: 'replicas x devices per replica', inputs: { replicas: r, count: input.count }, source: 'tp x pp devices per replica' });
  const per = (id: string) => figures[id].value;
  term(figures, { id: 'deployment.outputTokensPerSecond', label: 'Output tokens per second (whole deployment)', unit: 'tokens/s', value: r * per('throughput.outputTokensPerSecond'), formula: 'replicas x throughput.outputTokensPerSecond', inputs: { replicas: r, perReplica: per('throughput.outputTokensPerSecond') }, source: 'replicas serve side by side, each its own static batch' });
  term(figures, { id: 'deployment.requestsPerSecond', label: 'Requests per second (whole deployment)', unit: 'requests/s', value: r * per('throughput.requestsPerSecond'), formula: 'replicas x throughput.requestsPerSecond', inputs: { replicas: r, perReplica: per('throughput.requestsPerSecond') }, source: 'replicas serve side by side' });
  if (figures['cost.usdPerHour']) term(figures, { id: 'deployment.usdPerHour', label: 'Cost per hour (whole deployment)', unit: 'USD/h', value: r * per('cost.usdPerHour'), formula: 'replicas x cost.usdPerHour', inputs: { replicas: r, perReplica: per('cost.usdPerHour') }, source: input.price!.source });
}
