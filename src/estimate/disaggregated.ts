import type { Link } from '../inputs/hardware.js';
import { secondsInHour, tokensInMillion } from '../units.js';
import { CALIBRATION } from './calibration.js';
import type { Calibration } from './efficiency.js';
import { estimate, probeServing, type Estimate } from './index.js';
import type { EstimateInput } from './input.js';
import { kvBytesPerSequence, stateBytesPerSequence, stateFormatsOf } from './memory.js';
import { attentionTp, domainSize, layoutOf, topologyOf, type Parallel } from './parallel.js';
import { sum, term, type Figures } from './terms.js';

/**
 * Disaggregated prefill and decode (DistServe, Zhong et al. 2024; Splitwise, Patel et al. 2024;
 * SGLang PD, vLLM KV connectors, NVIDIA Dynamo): prompts are prefilled by one pool of workers,
 * whose KV cache then travels to a second pool that only decodes. Each pool has its own parallel
 * layout, precision and hardware; they are sized apart:
 * - a prefill worker batches the prompts that arrive while it runs a step: k prompts per step
 *   with k = rate x step(k) (Little's law on the step), and a prompt waits half a step for the
 *   one in flight, then its own;
 * - a decode worker holds the sequences decoding at once, c = rate x (outputTokens - 1) x
 *   TPOT(c) (Little's law), its steps free of prompts (no prefill interference);
 * - TTFT adds the KV transfer: the prompt's KV bytes over the link between the pools.
 */

/** One pool: its workers and what one worker is (layout, hardware, precision, engine). */
export interface Pool {
  workers: number;
  /** one worker; its workload's batch is solved here */
  input: EstimateInput;
}

export interface DisaggregatedInput {
  prefill: Pool;
  decode: Pool;
  /** requests per second offered to the deployment */
  qps: number;
}

/** What a pool came to at the offered load. */
export interface PoolResult {
  workers: number;
  devicesPerWorker: number;
  parallel: Parallel;
  hardware: string;
  weights: string;
  kv: string;
  /** prefill: prompts per step per worker; decode: sequences decoding at once per worker */
  batch: number;
  /** the worker at that batch */
  estimate: Estimate;
}

export interface DisaggregatedEstimate extends Estimate {
  disaggregated: {
    prefill: PoolResult;
    decode: PoolResult;
    kvTransfer: { bytes: number; seconds: number; link: string };
  };
}

const MAX_ITERATIONS = 60;
const MAX_BATCH = 1_000_000;

/**
 * A prefill worker at `rate` prompts per second: the fewest prompts per step k that keep up,
 * k >= rate x step(k), found by fixed-point iteration from k = 1 (step(k) grows with k, so the
 * iteration rises to the smallest such k, or passes the worker's memory: the load is not carried).
 */
export function solvePrefill(input: EstimateInput, rate: number, calibration: Calibration = CALIBRATION): { batch: number; estimate: Estimate; carried: boolean } {
  const w = input.workload;
  const inputAt = (k: number): EstimateInput => ({ ...input, load: undefined, parallel: { ...layoutOf(input), replicas: 1 }, workload: { batch: k, inputTokens: w.inputTokens, outputTokens: 1, context: w.inputTokens } });
  // the iteration reads the fit and TTFT of a probe (index.ts probeServing: the full estimate's figures); the full estimate is made where it stops
  const at = (k: number) => estimate(inputAt(k), calibration, { fixes: false });
  let k = 1;
  let p = probeServing(inputAt(k), calibration);
  for (let i = 0; i < MAX_ITERATIONS && p.fits; i++) {
    const need = Math.max(1, Math.ceil(rate * p.latency.ttft - 1e-9));
    if (need <= k) return { batch: k, estimate: at(k), carried: true };
    k = Math.min(MAX_BATCH, need);
    p = probeServing(inputAt(k), calibration);
  }
  return { batch: k, estimate: at(k), carried: false };
}

/**
 * A decode worker at `rate` requests per second: the sequences decoding at once,
 * c = rate x (outputTokens - 1) x TPOT(c), by fixed-point iteration from c = 1; carried while c
 * fits the engine's KV budget.
 */
export function solveDecode(input: EstimateInput, rate: number, calibration: Calibration = CALIBRATION): { batch: number; estimate: Estimate; carried: boolean } {
  const w = input.workload;
  const steps = Math.max(1, w.outputTokens - 1);
  const inputAt = (c: number): EstimateInput => ({ ...input, load: undefined, parallel: { ...layoutOf(input), replicas: 1 }, workload: { ...w, batch: c } });
  // as solvePrefill: probes while iterating, the full estimate where it stops
  const at = (c: number) => estimate(inputAt(c), calibration, { fixes: false });
  let c = 1;
  let p = probeServing(inputAt(c), calibration);
  for (let i = 0; i < MAX_ITERATIONS && p.fits; i++) {
    const need = Math.max(1, Math.ceil(rate * steps * p.latency.tpot - 1e-9));
    if (need <= c) return { batch: c, estimate: at(c), carried: true };
    c = Math.min(MAX_BATCH, need);
    p = probeServing(inputAt(c), calibration);
  }
  return { batch: c, estimate: at(c), carried: false };
}

/**
 * The link a request's KV crosses from its prefill worker to its decode worker: the scale-up
 * link when both pools fit in one scale-up domain of the same hardware (an NVL72 rack), else the
 * scale-out NIC (RDMA: Mooncake, NIXL, the engines' KV connectors), the slower of the two sides';
 * as many streams as ranks hold the KV on the narrower side (an attention group's ranks).
 */
export function kvTransferLink(d: DisaggregatedInput): { link: Link; streams: number; sameDomain: boolean } {
  const p = d.prefill.input;
  const q = d.decode.input;
  const devices = d.prefill.workers * p.count + d.decode.workers * q.count;
  const sameDomain = p.hardware.id === q.hardware.id && devices <= domainSize(p.hardware, p.gpusPerNode);
  const tp = topologyOf(p.hardware, p.gpusPerNode);
  const tq = topologyOf(q.hardware, q.gpusPerNode);
  const link = sameDomain ? tp.up : tp.out.bandwidth.value! <= tq.out.bandwidth.value! ? tp.out : tq.out;
  return { link, streams: Math.min(attentionTp(layoutOf(p)), attentionTp(layoutOf(q))), sameDomain };
}

/** One disaggregated deployment at an offered load, as figures (disagg.*, latency.*, throughput.*, cost.*). */
export function estimateDisaggregated(d: DisaggregatedInput, calibration: Calibration = CALIBRATION): DisaggregatedEstimate {
  const fig: Figures = Object.create(null) as Figures;
  const p = d.prefill.input;
  const q = d.decode.input;
  const { inputTokens: I, outputTokens: O } = q.workload;
  const pre = solvePrefill(p, d.qps / d.prefill.workers, calibration);
  const dec = solveDecode(q, d.qps / d.decode.workers, calibration);
  const pf = pre.estimate.figures;
  const df = dec.estimate.figures;
  const source = 'disaggregated prefill and decode (DistServe, Zhong et al. 2024; SGLang PD disaggregation, lmsys.org/blog/2025-05-05-large-scale-ep)';

  term(fig, { id: 'disagg.prefillWorkers', label: 'Prefill workers', unit: 'count', value: d.prefill.workers, formula: '--prefill-workers', inputs: { devicesPerWorker: p.count }, source: '--prefill-workers' });
  term(fig, { id: 'disagg.decodeWorkers', label: 'Decode workers', unit: 'count', value: d.decode.workers, formula: '--decode-workers', inputs: { devicesPerWorker: q.count }, source: '--decode-workers' });
  const prefillDevices = term(fig, { id: 'disagg.prefillDevices', label: 'Prefill devices', unit: 'count', value: d.prefill.workers * p.count, formula: 'prefillWorkers x devices per worker', inputs: { workers: d.prefill.workers, devicesPerWorker: p.count, hardware: p.hardware.id }, source });
  const decodeDevices = term(fig, { id: 'disagg.decodeDevices', label: 'Decode devices', unit: 'count', value: d.decode.workers * q.count, formula: 'decodeWorkers x devices per worker', inputs: { workers: d.decode.workers, devicesPerWorker: q.count, hardware: q.hardware.id }, source });
  sum(fig, { id: 'disagg.devices', label: 'Devices (both pools)', unit: 'count', parts: ['disagg.prefillDevices', 'disagg.decodeDevices'], source });
  term(fig, { id: 'disagg.ratio', label: 'Prefill : decode devices', unit: 'ratio', value: prefillDevices / decodeDevices, formula: 'prefillDevices / decodeDevices', inputs: { prefillDevices, decodeDevices }, source });

  // Prefill pool: k prompts per step per worker, a prompt waits half a step in flight, then its own.
  const step = pf['latency.ttft'].value;
  const rateP = d.qps / d.prefill.workers;
  term(fig, { id: 'disagg.prefillBatch', label: 'Prompts per prefill step, per worker', unit: 'count', value: pre.batch, formula: 'smallest k with k >= rate per worker x step(k) (Little\'s law on the step)', inputs: { ratePerWorker: rateP, step, inputTokens: I }, source });
  term(fig, { id: 'disagg.prefillStep', label: 'Prefill step (its prompts together)', unit: 's', value: step, formula: 'the prefill worker\'s latency.ttft at prefillBatch prompts (roofline + communication + overhead)', inputs: { prompts: pre.batch, inputTokens: I, bound: pre.estimate.bounds.prefill }, source: pf['latency.ttft'].source });
  term(fig, { id: 'disagg.prefillWait', label: 'Wait for the prefill step in flight', unit: 's', value: step / 2, formula: 'prefillStep / 2 (mean residual of the step in flight)', inputs: { step }, source: 'iteration-level scheduling (Orca, Yu et al. 2022): a prompt joins the next step' });
  term(fig, { id: 'disagg.prefillMemoryPerDevice', label: 'Prefill worker: memory per device', unit: 'B', value: pf['memory.perDevice'].value, formula: 'the prefill worker\'s memory.perDevice at prefillBatch prompts', inputs: { capacity: pf['memory.capacityPerDevice'].value }, source: pf['memory.perDevice'].source ?? 'memory.perDevice of the prefill worker' });
  term(fig, { id: 'disagg.prefillUtilization', label: 'Prefill workers busy', unit: 'fraction', value: Math.min(1, (rateP * step) / pre.batch), formula: 'rate per worker x step / prompts per step', inputs: { ratePerWorker: rateP, step, prompts: pre.batch }, source });

  // KV transfer: the prompt's KV (and recurrent state) from the prefill worker to the decode worker.
  const { link, streams, sameDomain } = kvTransferLink(d);
  const kvBytes = kvBytesPerSequence(p.model, p.kv, I) + stateBytesPerSequence(p.model, stateFormatsOf(p));
  const commEfficiency = calibration.params.commEfficiency;
  term(fig, { id: 'disagg.kvTransferBytes', label: 'KV cache per request, moved prefill -> decode', unit: 'B', value: kvBytes, formula: 'KV bytes of inputTokens (+ recurrent state)', inputs: { inputTokens: I, format: p.kv.id }, source: 'the prompt\'s KV cache (memory.kvCachePerSequence at the prompt length)' });
  const transfer = term(fig, { id: 'disagg.kvTransfer', label: `KV transfer (${sameDomain ? 'scale-up link' : 'NIC'})`, unit: 's', value: kvBytes / (streams * link.bandwidth.value! * commEfficiency) + link.latency.value!, formula: 'kvTransferBytes / (streams x link bandwidth x commEfficiency) + latency', inputs: { bytes: kvBytes, streams, link: link.name, bandwidth: link.bandwidth.value!, commEfficiency, latency: link.latency.value! }, source: `RDMA KV transfer between pools (SGLang Mooncake / NIXL backends; vLLM KV connectors; Dynamo NIXL); ${link.bandwidth.source}` });
  const ttft = sum(fig, { id: 'latency.ttft', label: 'Time to first token', unit: 's', parts: ['disagg.prefillWait', 'disagg.prefillStep', 'disagg.kvTransfer'], source });

  // Decode pool: c sequences per worker, steps free of prompts.
  const tpot = term(fig, { id: 'latency.tpot', label: 'Time per output token', unit: 's', value: df['latency.tpot'].value, formula: 'the decode worker\'s latency.tpot at decodeConcurrency sequences (no prompts in its steps)', inputs: { sequences: dec.batch, bound: dec.estimate.bounds.decode ?? 'memory' }, source: df['latency.tpot'].source });
  const rateD = d.qps / d.decode.workers;
  term(fig, { id: 'disagg.decodeConcurrency', label: 'Sequences decoding at once, per worker', unit: 'count', value: dec.batch, formula: 'smallest c with c >= rate per worker x (outputTokens - 1) x tpot(c) (Little\'s law)', inputs: { ratePerWorker: rateD, outputTokens: O, tpot, kvHolds: df['capacity.maxConcurrency']?.value ?? 0 }, source });
  term(fig, { id: 'disagg.decodeMemoryPerDevice', label: 'Decode worker: memory per device', unit: 'B', value: df['memory.perDevice'].value, formula: 'the decode worker\'s memory.perDevice at decodeConcurrency sequences', inputs: { capacity: df['memory.capacityPerDevice'].value }, source: df['memory.perDevice'].source ?? 'memory.perDevice of the decode worker' });
  const e2e = term(fig, { id: 'latency.e2e', label: 'End-to-end time per request', unit: 's', value: ttft + (O - 1) * tpot, formula: 'ttft + (outputTokens - 1) x tpot', inputs: { ttft, tpot, outputTokens: O }, source: 'the first token comes from prefill, each further one from a decode step' });
  void transfer;

  // Throughput and cost of the whole deployment.
  const devices = prefillDevices + decodeDevices;
  const gpn = (x: EstimateInput) => x.gpusPerNode ?? x.hardware.devicesPerNode;
  term(fig, { id: 'throughput.inputTokensPerSecond', label: 'Input tokens per second (offered)', unit: 'tokens/s', value: d.qps * I, formula: 'qps x inputTokens', inputs: { qps: d.qps, inputTokens: I }, source: 'the offered load' });
  term(fig, { id: 'throughput.outputTokensPerSecond', label: 'Output tokens per second (offered)', unit: 'tokens/s', value: d.qps * O, formula: 'qps x outputTokens', inputs: { qps: d.qps, outputTokens: O }, source: 'the offered load' });
  term(fig, { id: 'disagg.inputTokensPerSecondPerPrefillNode', label: 'Input tokens per second per prefill node', unit: 'tokens/s', value: (d.qps * I) / (prefillDevices / gpn(p)), formula: 'qps x inputTokens / (prefillDevices / devices per node)', inputs: { qps: d.qps, inputTokens: I, prefillDevices, devicesPerNode: gpn(p) }, source: 'the per-node rate SGLang reports for its prefill nodes (lmsys.org/blog/2025-05-05-large-scale-ep)' });
  term(fig, { id: 'disagg.outputTokensPerSecondPerDecodeNode', label: 'Output tokens per second per decode node', unit: 'tokens/s', value: (d.qps * O) / (decodeDevices / gpn(q)), formula: 'qps x outputTokens / (decodeDevices / devices per node)', inputs: { qps: d.qps, outputTokens: O, decodeDevices, devicesPerNode: gpn(q) }, source: 'the per-node rate SGLang reports for its decode nodes (lmsys.org/blog/2025-05-05-large-scale-ep)' });
  term(fig, { id: 'throughput.outputTokensPerSecondPerDevice', label: 'Output tokens per second per device (both pools)', unit: 'tokens/s', value: (d.qps * O) / devices, formula: 'qps x outputTokens / devices', inputs: { qps: d.qps, outputTokens: O, devices }, source });
  term(fig, { id: 'throughput.requestsPerSecond', label: 'Requests per second (offered)', unit: 'requests/s', value: d.qps, formula: '--qps', inputs: { e2e }, source: 'the offered load' });
  if (p.price && q.price) {
    term(fig, { id: 'cost.prefillUsdPerHour', label: 'Prefill pool cost per hour', unit: 'USD/h', value: prefillDevices * p.price.usdPerHour, formula: 'prefillDevices x USD per device-hour', inputs: { prefillDevices, usdPerDeviceHour: p.price.usdPerHour }, source: p.price.source });
    term(fig, { id: 'cost.decodeUsdPerHour', label: 'Decode pool cost per hour', unit: 'USD/h', value: decodeDevices * q.price.usdPerHour, formula: 'decodeDevices x USD per device-hour', inputs: { decodeDevices, usdPerDeviceHour: q.price.usdPerHour }, source: q.price.source });
    const usdPerHour = sum(fig, { id: 'cost.usdPerHour', label: 'Cost per hour (both pools)', unit: 'USD/h', parts: ['cost.prefillUsdPerHour', 'cost.decodeUsdPerHour'] });
    term(fig, { id: 'cost.usdPerMillionOutputTokens', label: 'Cost per million output tokens', unit: 'USD', value: (usdPerHour / secondsInHour / (d.qps * O)) * tokensInMillion, formula: 'USD per hour / 3600 / (qps x outputTokens) x 1e6', inputs: { usdPerHour, qps: d.qps, outputTokens: O }, source: 'the deployment\'s hourly cost over its offered output rate' });
  }

  const warnings = [
    ...pre.estimate.warnings.map((w) => `prefill pool: ${w}`),
    ...dec.estimate.warnings.map((w) => `decode pool: ${w}`),
  ];
  if (!pre.carried) warnings.push(`prefill pool: ${d.prefill.workers} worker(s) do not keep up with ${d.qps} requests/s of ${I} tokens (a step of ${pre.batch} prompts ${pre.estimate.fits ? 'takes longer than they arrive' : 'does not fit'}): add prefill workers`);
  if (!dec.carried) warnings.push(`decode pool: ${d.decode.workers} worker(s) cannot hold the ${dec.batch} sequences each that ${d.qps} requests/s keep decoding (KV holds ${df['capacity.maxConcurrency']?.value ?? 0}): add decode workers`);
  const pool = (pl: Pool, r: { batch: number; estimate: Estimate }): PoolResult => ({
    workers: pl.workers, devicesPerWorker: pl.input.count, parallel: layoutOf(pl.input), hardware: pl.input.hardware.id, weights: pl.input.weights.id, kv: pl.input.kv.id, batch: r.batch, estimate: r.estimate,
  });
  const fits = pre.estimate.fits && dec.estimate.fits;
  return {
    schemaVersion: 1,
    input: { ...dec.estimate.input, hardware: { ...dec.estimate.input.hardware, count: devices }, load: { qps: d.qps, concurrency: null } },
    figures: fig,
    fits,
    // the pool that does not fit speaks; both fitting, the decode pool's KV budget
    verdict: !dec.estimate.fits ? dec.estimate.verdict : !pre.estimate.fits ? pre.estimate.verdict : dec.estimate.verdict,
    bounds: { prefill: pre.estimate.bounds.prefill, decode: dec.estimate.bounds.decode ?? 'memory' },
    loadCarried: pre.carried && dec.carried,
    warnings,
    disaggregated: { prefill: pool(d.prefill, pre), decode: pool(d.decode, dec), kvTransfer: { bytes: kvBytes, seconds: fig['disagg.kvTransfer'].value, link: link.name } },
  };
}
