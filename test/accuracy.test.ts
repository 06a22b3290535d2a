import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bandFrom, bandResidual, fit, loadSuite, METRICS, objective, parseMeasured, predict, quantile, resolveMeasurement, STARTING_PARAMS, hardwareClassOf, type FitCase } from '../scripts/accuracy-lib.js';
import { builtInCatalog } from '../src/spec/presets.js';

const casesDir = fileURLToPath(new URL('../validation/cases', import.meta.url));

describe('measured values are read with their units into base units', () => {
  it.each([
    ['36 ms', 0.036],
    ['1.5 s', 1.5],
    ['12.55 GiB', 12.55 * 2 ** 30],
    ['57.752 GB', 57.752e9],
    ['19694 tokens/s', 19694],
    ['147e12 FLOP/s', 147e12],
    [0.38, 0.38],
  ])('%s', (text, expected) => {
    expect(parseMeasured(text, 'test')).toBeCloseTo(expected, 6);
  });

  it('a value without a known unit is an error naming the case', () => {
    expect(() => parseMeasured('36 parsecs', 'file.yaml: x')).toThrow(/file.yaml: x/);
  });
});

describe('the validation suite', () => {
  const suite = loadSuite(casesDir);

  it('holds the reference measurements, each with source, trust and a known metric', () => {
    // 50 reference cases, several with more than one measured figure
    expect(suite.length).toBeGreaterThanOrEqual(50);
    for (const m of suite) {
      expect(m.source, m.id).not.toBe('');
      expect(['high', 'medium', 'low'], m.id).toContain(m.trust);
      expect(Object.keys(METRICS), m.id).toContain(m.metric);
      expect(Number.isFinite(m.measured) && m.measured > 0, m.id).toBe(true);
    }
  });

  it('has unique ids', () => {
    const ids = suite.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('measurement-level fields override the case (input 128 of the TensorRT-LLM 0.5 table)', () => {
    const m = suite.find((x) => x.id === 'trtllm05-h100-llama7b-ttft-128')!;
    // same table: 7 ms at input 128 (TensorRT-LLM docs/source/performance.md @138f96d4)
    expect(m).toMatchObject({ inputTokens: 128, measured: 0.007, model: 'llama-2-7b', hardware: 'h100-sxm', precision: 'fp8' });
  });

  it('says why a case cannot be predicted instead of guessing', () => {
    const catalog = builtInCatalog();
    const r = resolveMeasurement({ ...suite[0], model: 'no-such-model', unpredictable: undefined, kind: 'decode' }, catalog);
    expect(r).toEqual({ ok: false, reason: 'no model preset "no-such-model"' });
  });

  it('llama.cpp reports Llama-2-7B f16 weights as 12.55 GiB; the estimator gives the same to 0.1%', () => {
    // github.com/ggml-org/llama.cpp/discussions/4167: "llama 7B mostly F16 | 12.55 GiB | 6.74 B"
    const m = suite.find((x) => x.id === 'lcpp-llama2-7b-gguf-sizes')!;
    const r = resolveMeasurement(m, builtInCatalog());
    if (!r.ok) throw new Error(r.reason);
    const p = predict(r.input, m.metric, { params: STARTING_PARAMS, source: 'test', bands: {} });
    expect(Math.abs(p.value / m.measured - 1)).toBeLessThan(0.001);
  });
});

describe('residuals, bands and the fit', () => {
  it('a decode rate residual is the ratio of times: 50 tok/s measured vs 40 predicted is log(0.8)', () => {
    expect(bandResidual({ kind: 'decode', metric: 'decodeTokensPerSecond', measured: 50 }, 40)).toBeCloseTo(Math.log(0.8), 12);
    expect(bandResidual({ kind: 'throughput', metric: 'outputTokensPerSecond', measured: 50 }, 40)).toBeCloseTo(Math.log(1.25), 12);
    expect(bandResidual({ kind: 'prefill', metric: 'ttft', measured: 0.05 }, 0.04)).toBeCloseTo(Math.log(1.25), 12);
  });

  it('quantiles interpolate and the band spans the residuals', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    const band = bandFrom([Math.log(0.9), 0, Math.log(1.2)])!;
    expect(band.low).toBeCloseTo(0.9, 12);
    expect(band.high).toBeCloseTo(1.2, 12);
    expect(bandFrom([0, 0])).toBeUndefined();
  });

  it('the fit recovers parameters that generated the data', () => {
    const catalog = builtInCatalog();
    const truth = { ...STARTING_PARAMS, byClass: { gpu: { mfuMax: 0.45, mbuMax: 0.7 } }, stepOverheadSeconds: 0.003, commEfficiency: 0.5 };
    const suite = loadSuite(casesDir).filter((m) => ['vllm-bk9555-h100-llama31-8b-bs8-32x128', 'vllm-bk9555-h100-llama3-70b-tp4-bs8-32x128', 'trtllm05-h100-llama7b-ttft-2048', 'trtllm05-a100-llama70b-tp4-ttft-2048', 'nim180-2xh100-llama33-70b-fp8-tp2-5000x500-c1-itl'].includes(m.id));
    expect(suite).toHaveLength(5);
    const cases: FitCase[] = suite.map((m) => {
      const r = resolveMeasurement(m, catalog);
      if (!r.ok) throw new Error(r.reason);
      const generated = predict(r.input, m.metric, { params: truth, source: 'truth', bands: {} }).value;
      return { m: { ...m, measured: generated }, input: r.input, cls: hardwareClassOf(r.input) };
    });
    expect(objective(cases, STARTING_PARAMS)).toBeGreaterThan(0.05);
    expect(fit(cases).objective).toBeLessThan(0.01);
  });
});
