import { describe, expect, it } from 'vitest';
import { buildCases, fittedParameterNames, hostFamilies, HOST_FAMILY_MIN_CASES, loadCatalog, loadSuite, STARTING_PARAMS } from '../scripts/accuracy-lib.js';
import { CALIBRATION } from '../src/estimate/calibration.js';
import { describeHostStep, engineHostOf, hostStepOf, type EfficiencyParams } from '../src/estimate/efficiency.js';
import { estimate, estimateWithStep } from '../src/estimate/index.js';
import type { EstimateInput } from '../src/estimate/input.js';
import { findEngine } from '../src/inputs/engine-choice.js';
import { FORMATS } from '../src/inputs/precision.js';
import { builtInCatalog, findHardware, findModel } from '../src/inputs/presets.js';

const catalog = builtInCatalog();
const llamacpp = findEngine(catalog, 'llamacpp');
const vllm = findEngine(catalog, 'vllm@0.19');
const input = (over: Partial<EstimateInput> = {}): EstimateInput => ({
  model: findModel(catalog, 'qwen3-30b-a3b').model,
  weights: FORMATS.q4_0,
  kv: FORMATS.fp16,
  activations: FORMATS.fp16,
  workload: { batch: 1, inputTokens: 1, outputTokens: 128, context: 129 },
  hardware: findHardware(catalog, 'rtx-4090'),
  count: 1,
  engine: llamacpp,
  ...over,
});
const base: EfficiencyParams = { byClass: { gpu: { mfuMax: 0.5, mbuMax: 0.8 } }, mfuHalfTokens: 1, mbuHalfBytes: 1, commEfficiency: 1, stepOverheadSeconds: 0.0015, layerOverheadSeconds: 2e-5 };

describe('host time per step by engine family (efficiency.ts hostStepOf)', () => {
  it('takes the fitted value of the family, else the profile prior, else the pooled stepOverheadSeconds', () => {
    const host = engineHostOf(llamacpp)!;
    expect(host.id).toBe('llamacpp');
    // presets/engines/llamacpp-b6000.yaml kernels.hostStepSeconds: 0.2 ms (one CUDA graph launch and C++ sampling per token)
    expect(host.prior!.value).toBe(0.0002);
    expect(hostStepOf({ ...base, hostStepSeconds: { llamacpp: 1e-4 } }, host)).toEqual({ seconds: 1e-4, from: 'fitted' });
    expect(hostStepOf(base, host)).toEqual({ seconds: 0.0002, from: 'prior' });
    expect(hostStepOf({ ...base, hostStepSeconds: { llamacpp: 1e-4 } }, engineHostOf(vllm))).toEqual({ seconds: 0.0015, from: 'pooled' });
    expect(hostStepOf(base, undefined)).toEqual({ seconds: 0.0015, from: 'pooled' });
    expect(describeHostStep(base, host)).toMatch(/^llamacpp profile prior/);
  });

  it('a step pays its engine family\'s host time: Qwen3-30B-A3B at batch 1 on an RTX 4090 under llama.cpp and vLLM differ by exactly the two host times', () => {
    const p: EfficiencyParams = { ...base, hostStepSeconds: { llamacpp: 1e-4 }, kernelSeconds: 0 };
    const lc = estimateWithStep(input()).step.overheadFor(p);
    const vl = estimateWithStep(input({ weights: FORMATS.bf16, kv: FORMATS.bf16, activations: FORMATS.bf16, hardware: findHardware(catalog, 'h200'), engine: vllm })).step.overheadFor(p);
    // 48 layers x 20 us in both; host 0.1 ms (llama.cpp, fitted) against 1.5 ms (vLLM, pooled)
    expect(lc).toBeCloseTo(1e-4 + 48 * 2e-5, 12);
    expect(vl).toBeCloseTo(0.0015 + 48 * 2e-5, 12);
  });

  it('--explain shows the host time, its value and where it comes from', () => {
    const f = estimate(input()).figures['latency.decodeOverhead'];
    expect(f.formula).toMatch(/^hostStep \+ layerOverhead x layers/);
    expect(f.inputs.hostStepSeconds).toBe(CALIBRATION.params.hostStepSeconds?.llamacpp ?? 0.0002);
    expect(String(f.inputs.hostStep)).toMatch(/llamacpp/);
  });
});

describe('which engine families get a fitted host time (accuracy-lib hostFamilies)', () => {
  const root = new URL('../', import.meta.url).pathname;
  const { catalog: suiteCatalog } = loadCatalog(root);
  const { fitCases } = buildCases(loadSuite(`${root}validation/cases`), suiteCatalog);

  it('a family whose profile states a prior and with enough cases: llama.cpp; vLLM, SGLang and TensorRT-LLM share the pooled value', () => {
    expect(hostFamilies(fitCases)).toEqual(['llamacpp']);
    expect(fitCases.filter((c) => c.input.engine?.id === 'llamacpp').length).toBeGreaterThanOrEqual(HOST_FAMILY_MIN_CASES);
    // the shipped calibration has a llama.cpp value, and none for a family without a prior
    expect(CALIBRATION.params.hostStepSeconds?.llamacpp).toBeDefined();
    expect(CALIBRATION.params.hostStepSeconds?.vllm).toBeUndefined();
  });

  it('the 2025-2026 llama.cpp CUDA cases join the suite under llamacpp@b10470, gpt-oss-20b as its MXFP4_MOE GGUF', () => {
    const byId = new Map(fitCases.map((c) => [c.m.id, c]));
    for (const id of ['lcpp16834-rtx4090-qwen3-30b-a3b-q4_0', 'lcpp19053-rtx6000ada-llama3.2-3b-q4km', 'lcpp16834-rtx4090-gpt-oss-20b-mxfp4']) {
      expect(byId.get(id)?.input.engine?.version).toBe('b10470');
    }
    expect(byId.get('lcpp16834-rtx4090-gpt-oss-20b-mxfp4')!.input.weights.id).toBe('mxfp4_moe');
  });
});

describe('which hardware classes get a fitted mfuMax (accuracy-lib fittedParameterNames)', () => {
  const root = new URL('../', import.meta.url).pathname;
  const { catalog: suiteCatalog } = loadCatalog(root);
  const { fitCases, trainCases } = buildCases(loadSuite(`${root}validation/cases`), suiteCatalog);

  it('a class whose cases time a prompt or a high-batch step; the CPU class (only batch-1 token generation, bound by memory) keeps its starting value', () => {
    const names = fittedParameterNames(fitCases, trainCases).serving;
    expect(names).toEqual(expect.arrayContaining(['gpu.mfuMax', 'soc.mfuMax', 'rocm-gpu.mfuMax', 'cpu.mbuMax', 'rooflineExponent']));
    expect(names).not.toContain('cpu.mfuMax');
    expect(fitCases.filter((c) => c.cls === 'cpu').every((c) => c.m.kind === 'decode')).toBe(true);
    expect(CALIBRATION.params.byClass.cpu?.mfuMax).toBe(STARTING_PARAMS.byClass.gpu.mfuMax);
  });
});
