import { describe, expect, it } from 'vitest';
import { applyBands } from '../src/estimate/bands.js';
import { phaseEfficiency, rooflineSeconds, type Calibration, type EfficiencyParams } from '../src/estimate/efficiency.js';
import { estimate } from '../src/estimate/index.js';
import type { EstimateInput } from '../src/estimate/input.js';
import type { Figures } from '../src/estimate/terms.js';
import { findHardware, findModel, builtInCatalog } from '../src/inputs/presets.js';
import { FORMATS } from '../src/inputs/precision.js';

const params = (over: Partial<EfficiencyParams> = {}): EfficiencyParams => ({
  byClass: { gpu: { mfuMax: 0.6, mbuMax: 0.8 } },
  mfuHalfTokens: 8,
  mbuHalfBytes: 1e8,
  stepOverheadSeconds: 0.001,
  layerOverheadSeconds: 2e-5,
  commEfficiency: 0.5,
  ...over,
});
const gpu = { vendor: 'nvidia', kind: 'gpu' } as const;

describe('the efficiency model depends on the situation', () => {
  it.each([
    // mfu = 0.6 x T / (T + 8)
    [8, 0.3],
    [24, 0.45],
    [1, 0.6 / 9],
  ])('mfu at %d tokens per step is %f', (tokens, expected) => {
    expect(phaseEfficiency(params(), gpu, { tokensPerStep: tokens, bytesPerDevicePerStep: 1e9, layers: 32 }).mfu).toBeCloseTo(expected, 12);
  });

  it.each([
    // mbu = 0.8 x B / (B + 1e8)
    [1e8, 0.4],
    [3e8, 0.6],
  ])('mbu at %d bytes per device per step is %f', (bytes, expected) => {
    expect(phaseEfficiency(params(), gpu, { tokensPerStep: 1, bytesPerDevicePerStep: bytes, layers: 32 }).mbu).toBeCloseTo(expected, 12);
  });

  it('step overhead is the fixed part plus a per-layer part: 1 ms + 32 x 20 us = 1.64 ms', () => {
    expect(phaseEfficiency(params(), gpu, { tokensPerStep: 1, bytesPerDevicePerStep: 1e9, layers: 32 }).overheadSeconds).toBeCloseTo(0.00164, 12);
  });

  it('a device class without fitted parameters uses the gpu ones and says so', () => {
    const e = phaseEfficiency(params(), { vendor: 'google', kind: 'tpu' }, { tokensPerStep: 8, bytesPerDevicePerStep: 1e9, layers: 1 });
    expect(e).toMatchObject({ cls: 'gpu', fittedClass: false, mfu: 0.3 });
    const soc = phaseEfficiency(params({ byClass: { gpu: { mfuMax: 0.6, mbuMax: 0.8 }, soc: { mfuMax: 0.9, mbuMax: 0.9 } } }), { vendor: 'apple', kind: 'soc' }, { tokensPerStep: 8, bytesPerDevicePerStep: 1e8, layers: 1 });
    expect(soc).toMatchObject({ cls: 'soc', fittedClass: true, mfu: 0.45, mbu: 0.45 });
  });

  it('a CPU reaches mfuMax at any tokens per step: no matrix tiles to leave empty (mfuHalfTokens 8 would give 0.6 x 1 / 9)', () => {
    const cpu = { vendor: 'amd', kind: 'cpu' } as const;
    expect(phaseEfficiency(params(), cpu, { tokensPerStep: 1, bytesPerDevicePerStep: 1e9, layers: 1 }).mfu).toBe(0.6);
    const own = phaseEfficiency(params({ byClass: { gpu: { mfuMax: 0.6, mbuMax: 0.8 }, cpu: { mfuMax: 0.7, mbuMax: 0.65 } } }), cpu, { tokensPerStep: 1, bytesPerDevicePerStep: 1e8, layers: 1 });
    // mbu still follows the bytes curve: 0.65 x 1e8 / (1e8 + 1e8)
    expect(own).toMatchObject({ cls: 'cpu', fittedClass: true, mfu: 0.7, mbu: 0.325 });
  });
});

const catalog = builtInCatalog();
const input = (over: Partial<EstimateInput> = {}): EstimateInput => ({
  model: findModel(catalog, 'llama-3.1-8b').model,
  weights: FORMATS.bf16,
  kv: FORMATS.bf16,
  activations: FORMATS.bf16,
  workload: { batch: 1, inputTokens: 1024, outputTokens: 256, context: 1280 },
  hardware: findHardware(catalog, 'h100-sxm'),
  count: 1,
  ...over,
});
const noOverhead: Calibration = { params: params({ stepOverheadSeconds: 0, layerOverheadSeconds: 0 }), source: 'test', bands: {} };

describe('--mfu and --mbu still override the calibrated model', () => {
  it('a given mbu is used as is, and halving it doubles a memory-bound decode step', () => {
    const a = estimate(input({ mbu: 0.5 }), noOverhead).figures;
    const b = estimate(input({ mbu: 0.25 }), noOverhead).figures;
    expect(a['efficiency.decodeMbu']).toMatchObject({ value: 0.5, source: '--mbu' });
    expect(a['latency.decodeRoofline'].inputs.bound).toBe('memory');
    expect(b['latency.tpot'].value / a['latency.tpot'].value).toBeCloseTo(2, 10);
  });

  it('a given mfu is the prefill mfu', () => {
    const f = estimate(input({ mfu: 0.4 }), noOverhead).figures;
    expect(f['efficiency.prefillMfu']).toMatchObject({ value: 0.4, source: '--mfu' });
    expect(f['efficiency.mfu'].value).toBe(0.4);
  });

  it('without overrides the figures name the calibration as their source', () => {
    const f = estimate(input(), noOverhead).figures;
    expect(f['efficiency.decodeMbu'].source).toMatch(/calibrated efficiency model/);
    // Llama 3.1 8B decode reads ~15 GiB per step: mbu = 0.8 x B / (B + 1e8), just under 0.8
    expect(f['efficiency.decodeMbu'].value).toBeGreaterThan(0.79);
    expect(f['efficiency.decodeMbu'].value).toBeLessThan(0.8);
  });
});

describe('the roofline with an imperfect overlap of compute and memory (rooflineExponent)', () => {
  // (compute^p + memory^p)^(1/p): the plain roofline max() as p -> infinity (Williams et al. 2009), the sum at p = 1
  it.each([
    [3e-3, 4e-3, undefined, 4e-3], // no exponent: max(3, 4) ms
    [3e-3, 4e-3, 2, 5e-3], // sqrt(9 + 16) = 5 ms
    [3e-3, 4e-3, 1, 7e-3], // no overlap: 3 + 4 ms
    [2e-3, 2e-3, 2, 2e-3 * Math.SQRT2], // at the ridge point (equal times) p = 2 costs sqrt(2) x the roofline
    [1e-3, 0, 2, 1e-3], // nothing to overlap: the one time
    [0, 0, 2, 0],
  ])('compute %f s, memory %f s, p %s: %f s', (compute, memory, p, expected) => {
    expect(rooflineSeconds(compute, memory, p)).toBeCloseTo(expected, 15);
  });

  it('a large exponent is the plain roofline: p = 64 adds 2^(1/64) - 1 = 1.1% at the ridge point and ~nothing away from it', () => {
    expect(rooflineSeconds(1, 1, 64)).toBeCloseTo(Math.pow(2, 1 / 64), 12);
    expect(rooflineSeconds(1, 0.5, 64)).toBeCloseTo(1, 12);
  });

  it('the estimate times each phase with it and its figure says so', () => {
    const soft: Calibration = { params: params({ stepOverheadSeconds: 0, layerOverheadSeconds: 0, rooflineExponent: 2 }), source: 'test', bands: {} };
    const f = estimate(input(), soft).figures;
    const c = f['latency.prefillCompute'].value;
    const m = f['latency.prefillMemory'].value;
    expect(f['latency.prefillRoofline'].value).toBeCloseTo(Math.hypot(c, m), 15);
    expect(f['latency.prefillRoofline'].formula).toMatch(/\^\(1\/p\)/);
    expect(f['latency.prefillRoofline'].inputs.rooflineExponent).toBe(2);
    // without an exponent the same phase is max(compute, memory)
    const plain = estimate(input(), noOverhead).figures;
    expect(plain['latency.prefillRoofline'].value).toBe(Math.max(plain['latency.prefillCompute'].value, plain['latency.prefillMemory'].value));
    expect(plain['latency.prefillRoofline'].formula).toBe('max(compute time, memory time)');
  });
});

describe('bands', () => {
  const banded: Calibration = { ...noOverhead, bands: { decode: { low: 0.9, high: 1.1 }, prefill: { low: 0.8, high: 1.3 }, throughput: { low: 0.7, high: 1.2 } } };

  it('times take the band, rates its inverse, costs the band of the time they charge', () => {
    const f = estimate(input({ price: { usdPerHour: 4, source: 'test' } }), banded).figures;
    const tpot = f['latency.tpot'].value;
    expect(f['latency.tpot']).toMatchObject({ low: tpot * 0.9, high: tpot * 1.1 });
    const rate = f['throughput.decodeTokensPerSecond'].value;
    expect(f['throughput.decodeTokensPerSecond'].low).toBeCloseTo(rate / 1.1, 9);
    expect(f['throughput.decodeTokensPerSecond'].high).toBeCloseTo(rate / 0.9, 9);
    expect(f['latency.ttft'].high).toBeCloseTo(f['latency.ttft'].value * 1.3, 12);
    expect(f['cost.usdPerMillionOutputTokens'].low).toBeCloseTo(f['cost.usdPerMillionOutputTokens'].value * 0.9, 12);
    expect(f['throughput.outputTokensPerSecond'].low).toBeCloseTo(f['throughput.outputTokensPerSecond'].value * 0.7, 9);
    expect(f['cost.usdPerHour'].low).toBeUndefined();
  });

  it('e2e = ttft + (output - 1) x tpot carries the sum of its parts bands', () => {
    const f = estimate(input(), banded).figures;
    expect(f['latency.e2e'].low).toBeCloseTo(f['latency.ttft'].low! + 255 * f['latency.tpot'].low!, 12);
  });

  it('exact memory figures carry no band; activations, overhead and their totals do', () => {
    const f = estimate(input(), banded).figures;
    expect(f['memory.weights'].low).toBeUndefined();
    expect(f['memory.kvCache'].low).toBeUndefined();
    expect(f['memory.activations'].low).toBe(f['memory.activations'].value * 0.5);
    const parts = f['memory.perDevice'].parts!.map((id) => f[id].low ?? f[id].value);
    expect(f['memory.perDevice'].low).toBeCloseTo(parts.reduce((a, b) => a + b, 0), 3);
  });

  it('with no band known nothing is added', () => {
    const fig: Figures = { 'latency.tpot': { id: 'latency.tpot', label: 't', value: 1, unit: 's', formula: '', inputs: {}, source: '' } };
    applyBands(fig, { ...noOverhead, bands: {} });
    expect(fig['latency.tpot'].low).toBeUndefined();
  });
});
