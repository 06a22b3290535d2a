import { describe, expect, it } from 'vitest';
import { phaseFloorSeconds } from '../src/estimate/bands.js';
import { CALIBRATION } from '../src/estimate/calibration.js';
import type { Calibration } from '../src/estimate/efficiency.js';
import { estimate } from '../src/estimate/index.js';
import type { EstimateInput } from '../src/estimate/input.js';
import { builtInCatalog, findHardware, findModel } from '../src/inputs/presets.js';
import { FORMATS } from '../src/inputs/precision.js';

const catalog = builtInCatalog();
const input: EstimateInput = {
  model: findModel(catalog, 'llama-3.1-8b').model,
  weights: FORMATS.bf16,
  kv: FORMATS.bf16,
  activations: FORMATS.bf16,
  workload: { batch: 4, inputTokens: 2048, outputTokens: 256, context: 2304 },
  hardware: findHardware(catalog, 'h100-sxm'),
  count: 1,
};
// bands far wider than any fit gives: only the physical limits can stop them
const wide: Calibration = { ...CALIBRATION, bands: { prefill: { low: 0.01, high: 3 }, decode: { low: 0.01, high: 3 }, throughput: { low: 0.5, high: 100 } } };

describe('bands stop at physical limits', () => {
  const f = estimate(input, wide).figures;
  const prefillFloor = phaseFloorSeconds(f, 'prefill')!;
  const decodeFloor = phaseFloorSeconds(f, 'decode')!;

  it('the floor of a phase is its FLOPs at the full peak or its bytes at the full bandwidth', () => {
    const c = f['latency.prefillCompute'].inputs;
    const m = f['latency.prefillMemory'].inputs;
    expect(prefillFloor).toBe(Math.max(Number(c.flops) / Number(c.peakFlopsPerSecond), Number(m.bytes) / Number(m.bandwidth)));
    expect(prefillFloor).toBeLessThan(f['latency.prefillRoofline'].value);
    expect(decodeFloor).toBeLessThan(f['latency.decodeRoofline'].value);
  });

  it('times reach down to the floor, never below; rates up to what the floor gives', () => {
    expect(f['latency.ttft'].low).toBeCloseTo(prefillFloor, 12);
    expect(f['latency.tpot'].low).toBeCloseTo(decodeFloor, 12);
    const tps = f['throughput.decodeTokensPerSecond'];
    expect(tps.high).toBeCloseTo(input.workload.batch / decodeFloor, 6);
    const e2eFloor = prefillFloor + (input.workload.outputTokens - 1) * decodeFloor;
    const out = f['throughput.outputTokensPerSecond'];
    expect(out.high).toBeCloseTo(out.value * (f['latency.e2e'].value / e2eFloor), 6);
    expect(f['latency.e2e'].low).toBeGreaterThan(0);
  });

  it('the shipped bands are unchanged where the limits do not bind', () => {
    const s = estimate(input).figures;
    expect(s['latency.tpot'].low).toBeCloseTo(s['latency.tpot'].value * CALIBRATION.bands.decode!.low, 12);
  });
});
