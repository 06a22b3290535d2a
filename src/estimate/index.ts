import { describeShape, isForwardOnly, summarizeModel, type ModelSummary } from '../inputs/model.js';
import { estimateForward } from './forward.js';
import { toGiB } from '../units.js';
import { applyBands } from './bands.js';
import { CALIBRATION } from './calibration.js';
import type { Calibration } from './efficiency.js';
import { monthlyCostFigures, throughputAndCostFigures } from './cost.js';
import { energyFigures } from './energy.js';
import { schedulerLimitWarning } from './engine.js';
import { flopsFigures } from './flops.js';
import type { EstimateInput } from './input.js';
import { latencyFigures } from './latency.js';
import type { PhaseWork, StepModel } from './step.js';
import { memoryFigures } from './memory.js';
import { groupLink, layoutOf, type Parallel } from './parallel.js';
import { loadFigures, solveLoad } from './load.js';
import { paramsFigures } from './params.js';
import { resolvePeak } from './peak.js';
import { weightLayout } from './weights.js';
import { notMeaningful, type Figures } from './terms.js';

export type { EstimateInput, Workload } from './input.js';
export type { Figure, Figures } from './terms.js';

/** Resolved inputs as they appear in the output's `input` block. */
export interface ResolvedInputSummary {
  model: ModelSummary;
  precision: { weights: string; kv: string; activations: string; compute: string };
  workload: EstimateInput['workload'];
  hardware: { id: string; name: string; count: number; usdPerDeviceHour: number | null };
  /** tensor / pipeline / expert parallelism and replicas; count = tp x pp */
  parallel?: Parallel;
  /** serving engine whose memory budget sizes the KV cache */
  engine?: string;
  /** offered load, when --qps or --concurrency is given */
  load?: { qps: number | null; concurrency: number | null };
}

export interface Estimate {
  schemaVersion: 1;
  input: ResolvedInputSummary;
  figures: Figures;
  fits: boolean;
  /** what binds each phase; forward-only models (encoders, embedders) have no decode phase */
  bounds: { prefill: 'compute' | 'memory'; decode?: 'compute' | 'memory' };
  /** with --qps: whether the replicas carry the offered load within their KV capacity */
  loadCarried?: boolean;
  warnings: string[];
}

/**
 * Estimates memory, FLOPs, latency, throughput and cost of serving `input.model` on
 * `input.count` devices. Pure: no I/O, no globals.
 *
 * @example
 * estimate({ model: llama31_8b, weights: FORMATS.bf16, kv: FORMATS.bf16, activations: FORMATS.bf16,
 *   workload: { batch: 1, inputTokens: 1024, outputTokens: 256, context: 1280 }, hardware: h100, count: 1 })
 *   .figures['memory.weights'].value // 16_060_522_496
 */
export function estimate(input: EstimateInput, calibration: Calibration = CALIBRATION): Estimate {
  // --qps: solve the batch per replica (and replicas) by Little's law first (load.ts).
  // Encoders, embedders and rerankers: one forward pass per input, no decode (forward.ts).
  if (isForwardOnly(input.model)) return estimateForward(input, calibration);
  if (input.load?.qps !== undefined && input.load.concurrency === undefined) return solveLoad(input, (solved) => estimate(solved, calibration));
  return estimateWithStep(input, calibration).estimate;
}

/**
 * The estimate at the input's batch (an unsolved --qps counts as no load), together with the
 * deployment's step model its latency came from (step.ts): what the simulator runs on; and the
 * work of its prefill and decode steps, which the calibration fit re-times under other parameters.
 */
export function estimateWithStep(input: EstimateInput, calibration: Calibration = CALIBRATION): { estimate: Estimate; step: StepModel; work: { prefill: PhaseWork; decode: PhaseWork } } {
  const figures: Figures = {};
  const warnings: string[] = [];
  const { model: m, hardware: hw } = input;
  if (m.shapeAssumed) {
    warnings.push(`only the parameter count is known: KV cache, attention FLOPs and activations assume a Llama-like shape (${describeShape(m)}) and are approximate`);
  }
  const params = paramsFigures(figures, m);
  // The per-tensor weight layout, built once: weight bytes (memory) and what a step reads (latency).
  const tensors = m.paramsOverride === undefined ? weightLayout(m, input.weights, input.activations) : undefined;
  const memory = memoryFigures(figures, input, params.total, tensors);
  const flops = flopsFigures(figures, input, params.active, params.embedding);
  const peak = resolvePeak(hw, input.weights, input.activations);
  if (peak.warning) warnings.push(peak.warning);
  // The tensor-parallel group talks over the node's link, or the network once it spans nodes.
  const layout = layoutOf(input);
  const { link, assumed } = groupLink(hw, layout.tp, input.gpusPerNode);
  if (input.count > 1 && assumed) warnings.push(`${hw.name} lists no interconnect for ${input.count} devices; communication assumes ${link.name}`);
  const latency = latencyFigures(figures, { input, peak, link, weightBytes: memory.weightBytes, totalParams: params.total, flops, tensors, calibration });
  throughputAndCostFigures(figures, input, latency);
  loadFigures(figures, input, latency.e2e);
  // Uncertainty bands from the calibration's residuals (bands.ts, docs/accuracy.md).
  applyBands(figures, calibration);
  if (!energyFigures(figures, input, latency, peak.flopsPerSecond) && (input.usdPerKwh !== undefined || input.carbon)) {
    warnings.push(`no TDP known for ${hw.name}; pass --power-watts <W per device> for energy, electricity and carbon figures`);
  }
  monthlyCostFigures(figures, input, latency);
  if (!input.price) warnings.push(`no price known for ${hw.name}; pass --price <USD per device-hour> for cost figures`);
  if (!memory.fits && memory.perDeviceBytes > memory.capacityBytes) {
    warnings.push(`does not fit: needs ${toGiB(memory.perDeviceBytes).toFixed(1)} GiB per device, ${hw.name} has ${toGiB(memory.capacityBytes).toFixed(1)} GiB`);
  } else if (!memory.fits) {
    warnings.push(`does not fit: ${input.engine?.name ?? 'the engine'} leaves ${toGiB(memory.kvCapacityBytes).toFixed(1)} GiB per device for the KV cache, enough for ${memory.maxConcurrency} sequences of ${input.workload.context} tokens; the batch is ${input.workload.batch}`);
  }
  // The engine's default limit on running sequences (presets/engines: scheduler.maxNumSeqs).
  const queued = schedulerLimitWarning(input.engine, input.workload.batch);
  if (queued) warnings.push(queued);
  if (input.workload.context > m.maxContext) {
    warnings.push(`context ${input.workload.context} exceeds the model's maximum of ${m.maxContext} tokens`);
  }
  warnings.push(...notMeaningful(figures));
  const result: Estimate = {
    schemaVersion: 1,
    input: {
      model: summarizeModel(m),
      precision: { weights: input.weights.id, kv: input.kv.id, activations: input.activations.id, compute: peak.cls },
      workload: input.workload,
      hardware: { id: hw.id, name: hw.name, count: input.count, usdPerDeviceHour: input.price?.usdPerHour ?? null },
      parallel: layout,
      engine: input.engine?.id ?? 'ideal',
      ...(input.load ? { load: { qps: input.load.qps ?? null, concurrency: input.load.concurrency ?? null } } : {}),
    },
    figures,
    fits: memory.fits,
    bounds: latency.bounds,
    warnings,
  };
  return { estimate: result, step: latency.step, work: latency.work };
}
