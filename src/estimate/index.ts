import { describeShape } from '../spec/model.js';
import { toGiB } from '../units.js';
import { throughputAndCostFigures } from './cost.js';
import { energyFigures } from './energy.js';
import { flopsFigures } from './flops.js';
import type { EstimateInput } from './input.js';
import { latencyFigures, PCIE4_FALLBACK } from './latency.js';
import { memoryFigures } from './memory.js';
import { paramsFigures } from './params.js';
import { resolvePeak } from './peak.js';
import type { Figures } from './terms.js';

export type { EstimateInput, Workload } from './input.js';
export type { Figure, Figures } from './terms.js';

/** Resolved inputs as they appear in the output's `input` block. */
export interface ResolvedInputSummary {
  model: { id: string; name: string; family: string; shape: string; shapeAssumed: boolean };
  precision: { weights: string; kv: string; activations: string; compute: string };
  workload: EstimateInput['workload'];
  hardware: { id: string; name: string; count: number; usdPerDeviceHour: number | null };
}

export interface Estimate {
  schemaVersion: 1;
  input: ResolvedInputSummary;
  figures: Figures;
  fits: boolean;
  bounds: { prefill: 'compute' | 'memory'; decode: 'compute' | 'memory' };
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
export function estimate(input: EstimateInput): Estimate {
  const figures: Figures = {};
  const warnings: string[] = [];
  const { model: m, hardware: hw } = input;
  if (m.shapeAssumed) {
    warnings.push(`only the parameter count is known: KV cache, attention FLOPs and activations assume a Llama-like shape (${describeShape(m)}) and are approximate`);
  }
  const params = paramsFigures(figures, m);
  const memory = memoryFigures(figures, input, params.total);
  const flops = flopsFigures(figures, input, params.active, params.embedding);
  const peak = resolvePeak(hw, input.weights, input.activations);
  if (peak.warning) warnings.push(peak.warning);
  let link = input.count > hw.devicesPerNode ? hw.interNode : hw.intraNode;
  if (input.count > 1 && !link) {
    link = PCIE4_FALLBACK;
    warnings.push(`${hw.name} lists no interconnect for ${input.count} devices; tensor-parallel communication assumes ${link.name}`);
  }
  const latency = latencyFigures(figures, input, peak, link ?? PCIE4_FALLBACK, memory.weightBytes, params.total, flops);
  throughputAndCostFigures(figures, input, latency);
  if (!energyFigures(figures, input, latency, peak.flopsPerSecond) && input.usdPerKwh !== undefined) {
    warnings.push(`no TDP known for ${hw.name}; pass --power-watts <W per device> for energy and electricity figures`);
  }
  if (!input.price) warnings.push(`no price known for ${hw.name}; pass --price <USD per device-hour> for cost figures`);
  if (!memory.fits) {
    warnings.push(`does not fit: needs ${toGiB(memory.perDeviceBytes).toFixed(1)} GiB per device, ${hw.name} has ${toGiB(memory.capacityBytes).toFixed(1)} GiB`);
  }
  if (input.workload.context > m.maxContext) {
    warnings.push(`context ${input.workload.context} exceeds the model's maximum of ${m.maxContext} tokens`);
  }
  return {
    schemaVersion: 1,
    input: {
      model: { id: m.id, name: m.name, family: m.family, shape: describeShape(m), shapeAssumed: m.shapeAssumed === true },
      precision: { weights: input.weights.id, kv: input.kv.id, activations: input.activations.id, compute: peak.cls },
      workload: input.workload,
      hardware: { id: hw.id, name: hw.name, count: input.count, usdPerDeviceHour: input.price?.usdPerHour ?? null },
    },
    figures,
    fits: memory.fits,
    bounds: latency.bounds,
    warnings,
  };
}
