import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bandFrom, bandKind, bandResidual, isFitted, outsideBand, type Measurement, type Row, fastTrainPredict, fit, loadCatalog, publicationOf, sourceFold, trainFitCase, TRAINING_START, loadSuite, METRICS, objective, parseMeasured, predict, predictResolved, quantile, resolveMeasurement, STARTING_PARAMS, hardwareClassOf, type FitCase } from '../scripts/accuracy-lib.js';
import { train } from '../src/estimate/training.js';
import { estimate } from '../src/estimate/index.js';
import { builtInCatalog } from '../src/inputs/presets.js';

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

describe('lever cases (validation/cases/levers.yaml)', () => {
  const suite = loadSuite(casesDir);
  const catalog = builtInCatalog();
  const byId = (id: string) => suite.find((m) => m.id === id)!;

  it('a relative measurement is the ratio of the estimate with its levers to the same estimate without them', () => {
    const m = byId('vllm9668-llama3-8b-fp8-l40s-prefix-hit49-time');
    expect(m.relative).toBe(true);
    const r = resolveMeasurement(m, catalog);
    if (!r.ok || !r.input || !r.baseline) throw new Error('not resolved');
    expect(r.input.prefixCache).toBeDefined();
    expect(r.baseline.prefixCache).toBeUndefined();
    const cal = { params: STARTING_PARAMS, source: 'test', bands: {} };
    const ratio = predict(r.input, 'e2e', cal).value / predict(r.baseline, 'e2e', cal).value;
    expect(predictResolved(r, 'e2e', cal).value).toBeCloseTo(ratio, 12);
    // a 49% hit rate caches whole 16-token blocks of the 384-token prompt: floor(0.49 x 384 / 16) x 16 = 176 tokens
    expect(estimate(r.input, cal).figures['prefix.cachedTokens'].value).toBe(176);
  });

  it('prefix, LoRA, offload and ratio measurements are predicted, never fitted; speculative and CPU-only ones are fitted', () => {
    expect(isFitted(byId('vllm9668-llama3-8b-fp8-l40s-prefix-hit49-time'))).toBe(false);
    expect(isFitted(byId('vllm11267-llama2-7b-a100-lora-r8-maxloras1-throughput'))).toBe(false);
    expect(isFitted(byId('vllm20780-llama31-8b-h100-eagle3-k4'))).toBe(true);
    expect(isFitted(byId('ahelpme-epyc9554-phi4-q4km-tg'))).toBe(true);
    expect(bandKind(byId('vllm11267-llama2-7b-a100-lora-r8-maxloras1-throughput'))).toBeUndefined();
  });

  it('the RTX 5090 offload case runs the experts of all 36 MoE layers (-ncmoe 64) on its stated host, never fitted', () => {
    const m = byId('schedcp-gptoss120b-rtx5090-ncmoe36-tg128');
    const r = resolveMeasurement(m, catalog);
    if (!r.ok || !r.input) throw new Error('not resolved');
    // gpt-oss-120b: 36 layers, every one MoE; llama-bench -ngl 99 puts all 36 and the output layer on the GPU
    expect(r.input.weightOffload).toMatchObject({ cpuMoeLayers: 36, gpuLayers: 37 });
    expect(r.input.weightOffload!.host.id).toBe('core-ultra-9-285k');
    // the host's DRAM: 2 channels x 6400 MT/s x 8 B
    expect(r.input.weightOffload!.host.memoryBandwidth.value).toBeCloseTo(2 * 6400e6 * 8, 0);
    expect(isFitted(m)).toBe(false);
    // nor does its residual widen the shipped decode band (bands are fitted too)
    expect(bandKind(m)).toBeUndefined();
    expect(bandKind(byId('ahelpme-epyc9554-phi4-q4km-tg'))).toBe('decode');
    const partial = resolveMeasurement(byId('schedcp-gptoss120b-rtx5090-ncmoe32-tg128'), catalog);
    if (!partial.ok || !partial.input) throw new Error('not resolved');
    expect(partial.input.weightOffload).toMatchObject({ cpuMoeLayers: 32 });
  });

  it('a ratio without levers is refused with the reason', () => {
    const r = resolveMeasurement({ ...byId('vllm9668-llama3-8b-fp8-l40s-prefix-hit49-time'), levers: undefined }, catalog);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/needs the levers/);
  });
});

describe('residuals, bands and the fit', () => {
  it('a decode rate residual is the ratio of times: 50 tok/s measured vs 40 predicted is log(0.8)', () => {
    expect(bandResidual({ kind: 'decode', metric: 'decodeTokensPerSecond', measured: 50 }, 40)).toBeCloseTo(Math.log(0.8), 12);
    expect(bandResidual({ kind: 'throughput', metric: 'outputTokensPerSecond', measured: 50 }, 40)).toBeCloseTo(Math.log(1.25), 12);
    expect(bandResidual({ kind: 'prefill', metric: 'ttft', measured: 0.05 }, 0.04)).toBeCloseTo(Math.log(1.25), 12);
  });

  it('quantiles interpolate and the band spans the 5th to 95th percentile of the residuals', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    const band = bandFrom([Math.log(0.9), 0, Math.log(1.2)])!;
    // positions 0.05 x 2 = 0.1 and 0.95 x 2 = 1.9 between the sorted residuals
    expect(band.low).toBeCloseTo(0.9 ** 0.9, 12);
    expect(band.high).toBeCloseTo(1.2 ** 0.9, 12);
    expect(bandFrom([0, 0])).toBeUndefined();
  });

  it('the report lists held-out predictions outside their cross-validated band, worst first, and nothing inside it or unbanded', () => {
    const m = (id: string, measured: number) => ({ id, measured }) as Measurement;
    const rows: Row[] = [
      { m: m('inside', 100), leaveOneOut: 150, inCrossValidatedBand: true },
      { m: m('over-25', 100), leaveOneOut: 125, inCrossValidatedBand: false },
      { m: m('under-40', 100), leaveOneOut: 60, inCrossValidatedBand: false },
      { m: m('unbanded', 100), leaveOneOut: 300 },
      { m: m('skipped', 100), skipped: 'no preset' },
    ];
    // |log(0.6)| = 0.51 > |log(1.25)| = 0.22
    expect(outsideBand(rows).map((r) => r.m.id)).toEqual(['under-40', 'over-25']);
  });

  it('publications are kept whole and split by a hash of their name alone', () => {
    expect(publicationOf({ source: 'github NVIDIA/TensorRT-LLM docs/source/performance.md @138f96d4 (table 2)' })).toBe('github NVIDIA/TensorRT-LLM docs/source/performance.md');
    expect(publicationOf({ source: 'Touvron et al., LLaMA, arXiv 2302.13971 (Table 15)' })).toBe('Touvron et al., LLaMA, arXiv 2302.13971');
    // FNV-1a 32-bit: "a" hashes to 0xe40c292c (even), "b" to 0xe70c2de5 (odd)
    expect(sourceFold('a')).toBe(0);
    expect(sourceFold('b')).toBe(1);
  });

  it('the fast training predictor re-times train()\'s work exactly', () => {
    const catalog = builtInCatalog();
    for (const id of ['nemo2407-h100-llama3-70b-fp8-64gpu', 'llama1-7b-pretrain-2048-a100', 'maxtext-v6e256-llama31-8b', 'llama31-405b-pretrain-h100-gpu-hours']) {
      const m = loadSuite(casesDir).find((x) => x.id === id)!;
      const r = resolveMeasurement(m, catalog);
      if (!r.ok || !r.train) throw new Error(`${id} is not a training resolution`);
      const c = trainFitCase(m, r.train);
      const p = { ...TRAINING_START, dpOverlap: 0.3 };
      // relative: device-hours run to tens of millions
      expect(fastTrainPredict(c, p) / predictResolved(r, m.metric, { params: STARTING_PARAMS, training: p, source: 't', bands: {} }).value).toBeCloseTo(1, 9);
    }
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

describe('training and KV-capacity cases', () => {
  const suite = loadSuite(casesDir);
  const { catalog } = loadCatalog(fileURLToPath(new URL('..', import.meta.url)));
  const cal = { params: STARTING_PARAMS, source: 'test', bands: {} };
  const byId = (id: string) => suite.find((x) => x.id === id)!;

  it('NeMo Llama-3-70B keeps its published layout: TP4 PP4 CP2 on 64 GPUs, 64 micro-batches, interleaved bubble (p - 1) / (v m) = 3 / 320', () => {
    // NVIDIA/NeMo performance_summary.md: TP 4, PP 4, CP 2, VP 5, GBS 128, MBS 1 -> dp 2, m = 128 / 2;
    // Narayanan et al. 2021 sec. 2.2.2 for the interleaved bubble
    const r = resolveMeasurement(byId('nemo2407-h100-llama3-70b-fp8-64gpu'), catalog);
    if (!r.ok || !r.train) throw new Error('not a training resolution');
    expect(r.train).toMatchObject({ tp: 4, pp: 4, cp: 2, count: 64, globalBatch: 128, microBatch: 1, virtualStages: 5, precision: 'fp8' });
    expect(train(r.train, cal).figures['train.pipelineBubble'].value).toBeCloseTo(3 / 320, 12);
  });

  it('hfu is executed FLOP/s over the dense peak; mfu is the training estimator\'s own figure', () => {
    const m = byId('nemo2407-h100-llama3-70b-fp8-64gpu');
    const r = resolveMeasurement(m, catalog);
    if (!r.ok || !r.train) throw new Error('not a training resolution');
    const f = train(r.train, cal).figures;
    expect(predictResolved(r, 'hfu', cal).value).toBeCloseTo(f['train.flopsPerSecondPerDevice'].value / f['train.peakFlopsPerSecond'].value, 12);
    expect(predictResolved(r, 'mfu', cal).value).toBe(f['train.mfu'].value);
  });

  it('a layout that does not multiply out to the devices is reported, not guessed', () => {
    const m = { ...byId('nemo2407-h100-llama3-70b-fp8-64gpu'), count: 60 };
    expect(resolveMeasurement(m, catalog)).toEqual({ ok: false, reason: 'count 60 is not a multiple of tp x pp x cp = 32' });
  });

  it('the engine runs as launched: vLLM at gpu_memory_utilization 0.98 profiling 2048 tokens (vllm issue #13061)', () => {
    const r = resolveMeasurement(byId('vllm07-2x4090-qwen25-14b-tp2-kv'), catalog);
    if (!r.ok || !r.input) throw new Error('not a serving resolution');
    expect(r.input.engine?.id).toBe('vllm');
    expect(r.input.engine?.version).toBe('0.7');
    expect(r.input.engineOptions?.gpuMemoryUtilization).toBe(0.98);
    expect(r.input.workload.context).toBe(131072);
  });

  it('vLLM 0.7 on an A10G: the runner predicts the logged 4.17 GiB KV cache within 5% (awslabs/data-on-eks log)', () => {
    const m = byId('vllm070-a10g-llama31-8b-kv');
    const r = resolveMeasurement(m, catalog);
    if (!r.ok) throw new Error(r.reason);
    expect(m.measured).toBeCloseTo(4.17 * 2 ** 30, 0);
    expect(Math.abs(predictResolved(r, m.metric, cal).value / m.measured - 1)).toBeLessThan(0.05);
  });

  it.each([
    // LitGPT resource table: LoRA r=8 on q and v of Llama-2-7B, 32 x 2 x 8 x (4096 + 4096) = 4,194,304 trainable, 21.3 GB peak
    ['litgpt-a100-40-llama2-7b-lora-finetune', 'lora', 4_194_304, 0.15],
    // QLoRA (Dettmers et al. 2023): r=64 on all 7 linear modules of LLaMA 65B's 80 layers; "fits on a single 48GB GPU"
    ['qlora-65b-single-48gb', 'qlora', 64 * 80 * (4 * 16384 + 3 * 30208), 0.15],
  ])('%s: a fine-tuning memory case goes through train() with its method and adapters', (id, method, trainable, tolerance) => {
    const m = byId(id);
    const r = resolveMeasurement(m, catalog);
    if (!r.ok || !r.train) throw new Error('not a training resolution');
    expect(r.train.method).toBe(method);
    const f = train(r.train, cal).figures;
    expect(f['params.trainable'].value).toBe(trainable);
    const predicted = predictResolved(r, 'trainingAllocatedPeakBytes', cal).value;
    expect(predicted).toBe(f['memory.perDevice'].value - f['memory.perDevice.overhead'].value);
    expect(Math.abs(predicted / m.measured - 1)).toBeLessThan(tolerance);
  });

  it('training figures carry the training band: rates times it, times divided by it', () => {
    const r = resolveMeasurement(byId('maxtext-v6e256-llama31-8b'), catalog);
    if (!r.ok || !r.train) throw new Error('not a training resolution');
    const f = train(r.train, { ...cal, bands: { training: { low: 0.8, high: 1.5 } } }).figures;
    const tps = f['train.tokensPerSecondPerDevice'];
    expect([tps.low, tps.high]).toEqual([tps.value * 0.8, tps.value * 1.5]);
    const step = f['train.stepSeconds'];
    expect(step.low).toBeCloseTo(step.value / 1.5, 12);
    expect(step.high).toBeCloseTo(step.value / 0.8, 12);
  });
});
