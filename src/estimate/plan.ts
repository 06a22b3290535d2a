import type { Catalog } from '../spec/catalog.js';
import type { EngineSpec } from '../spec/engine.js';
import type { HardwareSpec } from '../spec/hardware.js';
import type { ModelSpec } from '../spec/model.js';
import { activationFormat, type Format } from '../spec/precision.js';
import { secondsInHour, tokensInMillion } from '../units.js';
import { engineFraction } from './engine.js';
import type { Estimate } from './index.js';
import type { EstimateInput } from './input.js';
import { layoutOf, layoutProblem, type Parallel } from './parallel.js';
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

/** Least fixed point of c = ceil(lambda x e2e(c)) for `replicas` replicas, within the KV capacity. */
function fixedPoint(input: EstimateInput, replicas: number, run: Run): { estimate: Estimate; ok: boolean } {
  const qps = input.load!.qps!;
  const layout = layoutOf(input);
  const at = (c: number) => run({ ...input, workload: { ...input.workload, batch: c }, parallel: { ...layout, replicas }, load: { ...input.load, concurrency: c * replicas } });
  let c = 1;
  let current = at(c);
  const cap = Math.max(1, fig(current, 'capacity.maxConcurrency'));
  for (let i = 0; i < 200; i++) {
    const need = Math.max(1, Math.ceil((qps / replicas) * fig(current, 'latency.e2e') - 1e-9));
    if (need === c) return { estimate: current, ok: c <= cap };
    if (need > cap) return { estimate: at(cap), ok: false };
    c = need;
    current = at(c);
  }
  return { estimate: current, ok: false };
}

/**
 * Resolves --qps into a batch per replica (and, unless --replicas is given, the fewest
 * replicas that carry the load within the KV capacity), then returns that estimate.
 */
export function solveLoad(input: EstimateInput, run: Run): Estimate {
  const given = input.load?.replicasGiven === true;
  const layout = layoutOf(input);
  if (given) {
    const { estimate, ok } = fixedPoint(input, layout.replicas, run);
    if (!ok) estimate.warnings.push(`${input.load!.qps} requests/s is more than ${layout.replicas} replica(s) serve within their KV capacity; figures are at the largest batch that fits (${estimate.input.workload.batch}); add replicas`);
    return estimate;
  }
  // Start from the replicas the largest batch needs, then add one at a time.
  const oneReplica = (c: number) => run({ ...input, workload: { ...input.workload, batch: c }, parallel: { ...layout, replicas: 1 }, load: { concurrency: c, replicasGiven: true } });
  const full = oneReplica(Math.max(1, fig(oneReplica(1), 'capacity.maxConcurrency')));
  const perReplica = fig(full, 'throughput.requestsPerSecond');
  let replicas = Math.max(1, Math.ceil(input.load!.qps! / Math.max(perReplica, Number.MIN_VALUE)));
  for (let i = 0; i < 64; i++, replicas++) {
    const { estimate, ok } = fixedPoint(input, replicas, run);
    if (ok) return estimate;
  }
  const { estimate } = fixedPoint(input, replicas, run);
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
  term(figures, 'load.replicas', 'Replicas', 'count', layout.replicas, input.load.replicasGiven ? '--replicas' : input.load.qps !== undefined ? 'fewest replicas whose KV capacity holds the concurrency Little\'s law needs' : '1 (default)', { replicas: layout.replicas }, input.load.replicasGiven ? 'user input' : "Little's law (Little 1961)");
  const devices = term(figures, 'load.devices', 'Devices (all replicas)', 'count', input.count * layout.replicas, 'count x replicas', { count: input.count, replicas: layout.replicas }, 'tp x pp devices per replica');
  term(figures, 'load.concurrencyPerReplica', 'Concurrent requests per replica', 'count', w.batch, input.load.qps !== undefined ? 'least c with c = ceil(qps / replicas x e2e(c))' : 'ceil(concurrency / replicas)', { qps: input.load.qps ?? 0, concurrency: input.load.concurrency ?? 0, replicas: layout.replicas }, "Little's law (Little 1961): requests in flight = arrival rate x time in system");
  const capacityRps = term(figures, 'load.requestsPerSecondPerReplica', 'Requests per second per replica', 'requests/s', w.batch / e2e, 'concurrencyPerReplica / e2e', { concurrency: w.batch, e2e }, "Little's law");
  const served = term(figures, 'load.requestsPerSecond', 'Requests per second served', 'requests/s', input.load.qps ?? capacityRps * layout.replicas, input.load.qps !== undefined ? 'qps (offered load)' : 'replicas x requestsPerSecondPerReplica', { qps: input.load.qps ?? 0, replicas: layout.replicas }, input.load.qps !== undefined ? '--qps' : "Little's law");
  const outputTps = term(figures, 'load.outputTokensPerSecond', 'Output tokens per second (deployment)', 'tokens/s', served * w.outputTokens, 'requestsPerSecond x outputTokens', { outputTokens: w.outputTokens }, 'each request generates outputTokens');
  if (!input.price) return;
  const usdPerHour = term(figures, 'load.usdPerHour', 'Deployment cost per hour (all replicas)', 'USD/h', input.price.usdPerHour * devices, 'usdPerDeviceHour x devices', { usdPerDeviceHour: input.price.usdPerHour, devices }, input.price.source);
  term(figures, 'load.usdPerMillionOutputTokens', 'USD per million output tokens at this load', 'USD', (usdPerHour / secondsInHour / outputTps) * tokensInMillion, 'usdPerHour / 3600 / outputTokensPerSecond x 1e6', { usdPerHour, outputTokensPerSecond: outputTps }, 'all device time charged to the output tokens served');
}
