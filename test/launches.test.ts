import { describe, expect, it } from 'vitest';
import { estimateWithStep } from '../src/estimate/index.js';
import type { EstimateInput } from '../src/estimate/input.js';
import { DEFAULT_LAUNCHES, describeLaunches, extraLaunchesPerStep } from '../src/estimate/launches.js';
import { builtInCatalog, findHardware, findModel } from '../src/inputs/presets.js';
import { FORMATS } from '../src/inputs/precision.js';
import { findEngine } from '../src/inputs/engine-choice.js';
import { cli, cliJson } from './helpers.js';

const catalog = builtInCatalog();
const model = (id: string) => findModel(catalog, id).model;
const input = (over: Partial<EstimateInput> = {}): EstimateInput => ({
  model: model('llama-3.1-8b'),
  weights: FORMATS.bf16,
  kv: FORMATS.bf16,
  activations: FORMATS.bf16,
  workload: { batch: 1, inputTokens: 128, outputTokens: 256, context: 384 },
  hardware: findHardware(catalog, 'h200'),
  count: 1,
  ...over,
});

const sglang = findEngine(catalog, 'sglang@0.4');
const vllm06 = findEngine(catalog, 'vllm@0.6');

describe('kernel launches beyond the dense layers (launches.ts)', () => {
  it('a dense model launches none beyond its layers, in bf16 and (vLLM V1 fuses the quantization) in fp8', () => {
    expect(extraLaunchesPerStep(input())).toBe(0);
    expect(extraLaunchesPerStep(input({ weights: FORMATS.fp8 }))).toBe(0);
  });

  it('Mixtral 8x7B under vLLM V1\'s counts: 32 MoE layers x 4 (router, topk_softmax, align, sum)', () => {
    expect(DEFAULT_LAUNCHES.moe!.value).toBe(4);
    expect(extraLaunchesPerStep(input({ model: model('mixtral-8x7b') }))).toBe(32 * 4);
  });

  // presets/engines/sglang-0.4.yaml, counted in SGLang v0.4.1.post2: absorbed MLA 48, MoE 22,
  // shared experts 4, and one per_token_group_quant_fp8 per block-FP8 linear (MLA 4, MLP 2, experts 2, shared 2).
  it('DeepSeek-V3 fp8-block under sglang@0.4: 58 MoE layers x (48 + 4 + 22 + 2 + 4 + 2) + 3 dense x (48 + 4 + 2) = 4,918', () => {
    const i = input({ model: model('deepseek-v3'), weights: FORMATS['fp8-block'], engine: sglang });
    expect(extraLaunchesPerStep(i)).toBe(58 * (48 + 4 + 22 + 2 + 4 + 2) + 3 * (48 + 4 + 2));
    expect(58 * 82 + 3 * 54).toBe(4918);
    expect(describeLaunches(sglang)).toBe('mla 48, moe 22, sharedExpert 4, quantizedLinear 1: SGLang 0.4 kernels.launches');
  });

  it('Mixtral 8x7B under vllm@0.6 (V0 fused_moe: router, cast, topk_softmax, renormalize 2, fill, align, sum): 32 x 8; MLA, which the profile does not count, takes V1\'s', () => {
    expect(extraLaunchesPerStep(input({ model: model('mixtral-8x7b'), engine: vllm06 }))).toBe(32 * 8);
    expect(describeLaunches(vllm06)).toBe('mla 6, moe 8, sharedExpert 1, quantizedLinear 1: vLLM 0.6 kernels.launches, vLLM V1 counts for mla, sharedExpert');
  });

  it('the step overhead adds kernelSeconds per extra launch, and the figure says so', () => {
    const i = input({ model: model('mixtral-8x7b'), count: 2 });
    const { estimate, step } = estimateWithStep(i);
    const p = { byClass: { gpu: { mfuMax: 0.5, mbuMax: 0.8 } }, mfuHalfTokens: 1, mbuHalfBytes: 1, commEfficiency: 1, stepOverheadSeconds: 0.001, layerOverheadSeconds: 2e-5, kernelSeconds: 5e-6 };
    expect(step.overheadFor(p)).toBeCloseTo(0.001 + 32 * 2e-5 + 128 * 5e-6, 12);
    expect(estimate.figures['latency.decodeOverhead'].inputs.extraLaunches).toBe(128);
    expect(estimate.figures['latency.decodeOverhead'].inputs.launchesPerLayer).toBe('mla 6, moe 4, sharedExpert 1, quantizedLinear 0: vLLM V1 counts (launches.ts DEFAULT_LAUNCHES)');
  });
});

describe('a batch of copies of one prompt (Workload.identicalSequences)', () => {
  it('reads the experts of one sequence\'s tokens: DeepSeek-V3 at batch 32 reads what batch 1 reads, plus the KV of 32', () => {
    const base = input({ model: model('deepseek-v3'), weights: FORMATS['fp8-block'], count: 8 });
    const w = (batch: number, identical: boolean) => ({ batch, inputTokens: 128, outputTokens: 256, context: 384, ...(identical ? { identicalSequences: true } : {}) });
    const one = estimateWithStep({ ...base, workload: w(1, false) }).step;
    const copies = estimateWithStep({ ...base, workload: w(32, true) }).step;
    const distinct = estimateWithStep({ ...base, workload: w(32, false) }).step;
    const kv = 1000;
    // decode: weights at one routed token (+ the KV of each sequence)
    expect(copies.decodeBytes(32, kv)).toBeCloseTo(one.decodeBytes(1, kv), -3);
    expect(distinct.decodeBytes(32, kv)).toBeGreaterThan(3 * copies.decodeBytes(32, kv));
    // FLOPs are per token whatever the routing
    expect(copies.decodeWork(32, kv).flops).toBe(distinct.decodeWork(32, kv).flops);
  });

  it('DeepSeek-V3 TP8 per GPU: copies of one prompt read 8 experts per MoE layer at any batch (2.55 GB); distinct prompts 57.4 at batch 8 and 163.3 at 32 (18.3 and 52.2 GB), the bounds the SGLang batch-32 case notes compare the measured growth with', () => {
    // DeepSeek-V3 config.json: 256 routed experts, top-8, 58 MoE layers (61 - first_k_dense_replace 3), hidden 7168,
    // moe_intermediate_size 2048; FP8 e4m3 (1 B) with one fp32 scale per 128 x 128 block; tensor parallel over 8 GPUs.
    const perExpertPerGpu = (3 * 7168 * 2048 * (1 + 4 / (128 * 128))) / 8; // 5.507 MB
    const touched = (b: number) => 256 * (1 - Math.pow(1 - 8 / 256, b));
    expect(touched(8)).toBeCloseTo(57.4, 1);
    expect(touched(32)).toBeCloseTo(163.3, 1);
    const base = input({ model: model('deepseek-v3'), weights: FORMATS['fp8-block'], count: 8 });
    const w = (batch: number, identical: boolean) => ({ batch, inputTokens: 128, outputTokens: 256, context: 384, ...(identical ? { identicalSequences: true } : {}) });
    const expertGb = (batch: number, identical: boolean) => estimateWithStep({ ...base, workload: w(batch, identical) }).step.parallelWork(batch, batch, false).expertBytes! / 8 / 1e9;
    for (const b of [1, 8, 32]) expect(expertGb(b, true)).toBeCloseTo((58 * 8 * perExpertPerGpu) / 1e9, 2); // 2.55 GB
    expect(expertGb(8, false)).toBeCloseTo((58 * touched(8) * perExpertPerGpu) / 1e9, 2); // 18.3 GB
    expect(expertGb(32, false)).toBeCloseTo((58 * touched(32) * perExpertPerGpu) / 1e9, 2); // 52.2 GB
    // at the full 4.8 TB/s the extra experts over batch 1 take 3.3 and 10.3 ms
    expect(((expertGb(8, false) - expertGb(1, true)) / 4.8e3) * 1e3).toBeCloseTo(3.3, 1);
    expect(((expertGb(32, false) - expertGb(1, true)) / 4.8e3) * 1e3).toBeCloseTo(10.3, 1);
  });
});

describe('the table names what a step is bound by, overhead included', () => {
  it('DeepSeek-V3 on 8 x H200 under SGLang 0.4 at batch 1: the decode step is mostly kernel launches, so "overhead-bound", not "memory-bound"', async () => {
    const args = ['estimate', '--model', 'deepseek-v3', '--gpu', 'h200', '--count', '8', '--engine', 'sglang@0.4'];
    const f = (await cliJson(args)).figures;
    expect(f['latency.decodeOverhead'].value).toBeGreaterThan(f['latency.decodeRoofline'].value);
    expect((await cli(args)).stdout).toMatch(/Time per output token \(overhead-bound\)/);
    // Llama 3.1 8B at batch 1 reads its weights for longer than its fixed costs: memory-bound
    expect((await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100'])).stdout).toMatch(/Time per output token \(memory-bound\)/);
  });
});
