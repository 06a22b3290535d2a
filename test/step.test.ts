import { describe, expect, it } from 'vitest';
import type { Calibration } from '../src/estimate/efficiency.js';
import { CALIBRATION } from '../src/estimate/calibration.js';
import { prefillKeys } from '../src/estimate/flops.js';
import { estimateWithStep } from '../src/estimate/index.js';
import type { EstimateInput } from '../src/estimate/input.js';
import { kvLayerTokens } from '../src/estimate/memory.js';
import { builtInCatalog, findHardware, findModel } from '../src/inputs/presets.js';
import { expertEfficiency } from '../src/estimate/efficiency.js';
import { FORMATS } from '../src/inputs/precision.js';

const catalog = builtInCatalog();
const input = (over: Partial<EstimateInput> & { model?: EstimateInput['model'] } = {}): EstimateInput => ({
  model: findModel(catalog, 'llama-3.1-8b').model,
  weights: FORMATS.bf16,
  kv: FORMATS.bf16,
  activations: FORMATS.bf16,
  workload: { batch: 1, inputTokens: 1024, outputTokens: 256, context: 1280 },
  hardware: findHardware(catalog, 'h100-sxm'),
  count: 1,
  ...over,
});
const model = (id: string) => findModel(catalog, id).model;
const i0 = input();
const noOverhead: Calibration = { ...CALIBRATION, params: { ...CALIBRATION.params, stepOverheadSeconds: 0, layerOverheadSeconds: 0 } };

describe('the step model is the one estimate uses', () => {
  // Dense, GQA with tensor parallelism, a pipeline, MoE with expert parallelism, sliding windows.
  const cases: [string, EstimateInput][] = [
    ['Llama 3.1 8B, batch 8', input({ workload: { batch: 8, inputTokens: 1024, outputTokens: 256, context: 1280 } })],
    ['Llama 3.1 70B, tp 4, batch 32', input({ model: model('llama-3.1-70b'), count: 4, parallel: { tp: 4, pp: 1, ep: 1, replicas: 1 }, workload: { batch: 32, inputTokens: 2048, outputTokens: 512, context: 2560 } })],
    ['Llama 3.1 70B, tp 2 pp 2, fp8', input({ model: model('llama-3.1-70b'), weights: FORMATS.fp8, kv: FORMATS.fp8, activations: FORMATS.bf16, count: 4, parallel: { tp: 2, pp: 2, ep: 1, replicas: 1 }, workload: { batch: 16, inputTokens: 512, outputTokens: 128, context: 640 } })],
    ['Mixtral 8x7B, tp 2 ep 2', input({ model: model('mixtral-8x7b'), count: 2, parallel: { tp: 2, pp: 1, ep: 2, replicas: 1 }, workload: { batch: 4, inputTokens: 1000, outputTokens: 300, context: 1300 } })],
    ['Gemma 2 9B (sliding windows)', input({ model: model('gemma-2-9b'), workload: { batch: 4, inputTokens: 6000, outputTokens: 1000, context: 7000 } })],
  ];

  it.each(cases)('%s: phaseSeconds (the fast sum) equals phase\'s parts, under other parameters too', (_, i) => {
    const { step } = estimateWithStep(i);
    const other = { ...CALIBRATION.params, mfuHalfTokens: 50, mbuHalfBytes: 3e8, commEfficiency: 0.3, expertHalfBytes: 5e6 };
    for (const work of [step.decodeWork(8, 8 * 32 * 2000), step.prefillWork({ prefillTokens: 3000, prefillKeys: 32 * 3000 * 1500, prefillKvLayerTokens: 32 * 3000, prefillLogits: 1 })]) {
      for (const params of [undefined, other]) {
        const t = step.phase(work, params);
        expect(step.phaseSeconds(work, params)).toBeCloseTo(t.rooflineSeconds + t.dequantizeSeconds + t.scoresSeconds + t.commTpSeconds + t.commEpSeconds + t.commPpSeconds, 12);
      }
    }
  });

  it.each(cases)('%s: a decode step at the mean context = decode roofline + communication + overhead', (_, i) => {
    const { estimate: e, step } = estimateWithStep(i);
    const w = i.workload;
    const f = e.figures;
    const seconds = step.stepSeconds({ decodeSequences: w.batch, decodeKvLayerTokens: w.batch * kvLayerTokens(i.model, w.inputTokens + w.outputTokens / 2), prefillTokens: 0, prefillKeys: 0, prefillKvLayerTokens: 0, prefillLogits: 0 });
    expect(seconds).toBeCloseTo(f['latency.decodeRoofline'].value + f['latency.decodeComm'].value + f['latency.decodeOverhead'].value, 12);
  });

  it.each(cases)('%s: a static batch prefill step = time to first token', (_, i) => {
    const { estimate: e, step } = estimateWithStep(i);
    const w = i.workload;
    const seconds = step.stepSeconds({ decodeSequences: 0, decodeKvLayerTokens: 0, prefillTokens: w.batch * w.inputTokens, prefillKeys: w.batch * prefillKeys(i.model, 0, w.inputTokens), prefillKvLayerTokens: w.batch * kvLayerTokens(i.model, w.inputTokens), prefillLogits: w.batch });
    expect(seconds / e.figures['latency.ttft'].value).toBeCloseTo(1, 12);
  });

  it('under load, a step with the decode batch and one whole prompt is the time per output token when batch = output tokens', () => {
    // estimate: tpot = decode step + (batch / outputTokens) x one prompt's prefill; batch = outputTokens makes that one prompt per step.
    const i = input({ workload: { batch: 128, inputTokens: 1024, outputTokens: 128, context: 1152 }, load: { concurrency: 128 } });
    const { estimate: e, step } = estimateWithStep(i);
    const seconds = step.stepSeconds({ decodeSequences: 128, decodeKvLayerTokens: 128 * kvLayerTokens(i.model, 1024 + 64), prefillTokens: 1024, prefillKeys: prefillKeys(i.model, 0, 1024), prefillKvLayerTokens: kvLayerTokens(i.model, 1024), prefillLogits: 1 });
    expect(seconds / e.figures['latency.tpot'].value).toBeCloseTo(1, 12);
  });

  it('by hand: one Llama 3.1 8B bf16 sequence at context 1 on an H100 SXM at mbu 0.5 reads 15.01 GB in 8.96 ms', () => {
    // Weights 16,060,522,496 B (memory.weights) less the embedding gather 128,256 x 4,096 x 2 B =
    // 1,050,673,152 B, plus KV 32 layers x 2 x 8 heads x 128 x 2 B = 131,072 B: 15,009,980,416 B.
    // H100 SXM5: 3.35 TB/s (NVIDIA H100 datasheet); at mbu 0.5: 15,009,980,416 / 1.675e12 s.
    // The plain roofline (no overlap exponent: efficiency.ts rooflineSeconds), so the step is its memory time alone.
    const plainRoofline: Calibration = { ...noOverhead, params: { ...noOverhead.params, rooflineExponent: undefined } };
    const { step } = estimateWithStep(input({ mbu: 0.5, mfu: 0.5 }), plainRoofline);
    expect(step.decodeBytes(1, kvLayerTokens(model('llama-3.1-8b'), 1))).toBe(15_009_980_416);
    const seconds = step.stepSeconds({ decodeSequences: 1, decodeKvLayerTokens: 32, prefillTokens: 0, prefillKeys: 0, prefillKvLayerTokens: 0, prefillLogits: 0 });
    expect(seconds).toBeCloseTo(15_009_980_416 / 1.675e12, 9);
  });

  it('an empty step costs only the fixed overhead', () => {
    const { step } = estimateWithStep(input());
    expect(step.stepSeconds({ decodeSequences: 0, decodeKvLayerTokens: 0, prefillTokens: 0, prefillKeys: 0, prefillKvLayerTokens: 0, prefillLogits: 0 })).toBe(step.overheadSeconds);
  });
});

describe('engine kernels change the work, by hand', () => {
  const src = 'test';
  const withKernels = (kernels: NonNullable<EstimateInput['engine']>['kernels'], over: Partial<EstimateInput> = {}): EstimateInput => {
    const engine = builtInCatalog().engines!.find((e) => e.id === 'llamacpp')!;
    return input({ ...over, engine: { ...engine, kernels } });
  };

  it('decode kernels without GQA grouping read each KV head once per query head: 32 / 8 times the KV bytes (Llama 3.1 8B)', () => {
    const grouped = estimateWithStep(withKernels({ decodeKvReads: { value: 'per-kv-head', source: src } })).step;
    const perHead = estimateWithStep(withKernels({ decodeKvReads: { value: 'per-query-head', source: src } })).step;
    const kvLayerTokens = 4 * 32 * 2000;
    const kv = (s: typeof grouped) => s.decodeBytes(4, kvLayerTokens) - s.decodeBytes(4, 0);
    expect(kv(grouped)).toBe(kvLayerTokens * 2 * 8 * 128 * 2);
    expect(kv(perHead)).toBe(kvLayerTokens * 2 * 32 * 128 * 2);
  });

  it('a build that dequantizes GGUF weights before cuBLAS pays one pass per micro-batch: quantized bytes read + 2 B per parameter written', () => {
    const q = FORMATS.q4_0;
    const on = estimateWithStep(withKernels({ dequantizePrefill: { value: true, source: src }, microBatchTokens: { value: 512, source: src } }, { weights: q, activations: FORMATS.fp16 }));
    const off = estimateWithStep(withKernels({ dequantizePrefill: { value: false, source: src } }, { weights: q, activations: FORMATS.fp16 }));
    const work = on.step.prefillWork({ prefillTokens: 1024, prefillKeys: 32 * 1024 * 512, prefillKvLayerTokens: 32 * 1024, prefillLogits: 1 });
    const t = on.step.phase(work);
    expect(off.step.phase(work).dequantizeSeconds).toBe(0);
    const weightsRead = on.step.prefillBytes(1024, 0);
    const params = on.estimate.figures['params.total'].value;
    const weightBytes = on.estimate.figures['memory.weights'].value;
    // two micro-batches of 512
    expect(t.dequantizeSeconds).toBeCloseTo((2 * weightsRead * (1 + (2 * params) / weightBytes)) / (i0.hardware.memoryBandwidth.value! * t.mbu), 12);
  });

  it('attention without FlashAttention writes and reads its scores: 20 B per score element', () => {
    const fa = estimateWithStep(withKernels({ flashAttention: { value: true, source: src } })).step;
    const noFa = estimateWithStep(withKernels({ flashAttention: { value: false, source: src } })).step;
    const work = noFa.prefillWork({ prefillTokens: 2048, prefillKeys: 32 * 2048 * 1024, prefillKvLayerTokens: 32 * 2048, prefillLogits: 1 });
    expect(work.scoreElements).toBe(32 * 32 * 2048 * 1024); // heads x keys summed over layers
    const t = noFa.phase(work);
    expect(fa.phase(work).scoresSeconds).toBe(0);
    expect(t.scoresSeconds).toBeCloseTo((work.scoreElements! * 20) / (i0.hardware.memoryBandwidth.value! * t.mbu), 12);
  });

  it('routed experts run at s / (s + expertHalfBytes) of the dense efficiencies, s = one expert matrix per device', () => {
    expect(expertEfficiency({ ...CALIBRATION.params, expertHalfBytes: 2e6 }, 6e6)).toBe(0.75);
    expect(expertEfficiency({ ...CALIBRATION.params, expertHalfBytes: undefined }, 6e6)).toBe(1);
  });
});

describe('llama.cpp reads a few tokens\' experts with its matrix-vector kernel (kernels.expertVectorTokens)', () => {
  // ggml_cuda_mul_mat_id: up to MMVQ_MAX_BATCH_SIZE = 8 tokens, quantized experts go through one
  // mul_mat_vec_q launch with the ids: the selected experts' bytes stream as dense weights do;
  // above 8 tokens MMQ with ids groups them, and the grouped-GEMM expert efficiency applies.
  const engines = builtInCatalog().engines!;
  const lcpp = engines.find((e) => e.id === 'llamacpp')!;
  const q30 = (engine = lcpp) => estimateWithStep(input({ model: model('qwen3-30b-a3b'), hardware: findHardware(catalog, 'rtx-4090'), weights: FORMATS.q4_0, kv: FORMATS.fp16, activations: FORMATS.fp16, engine })).step;
  const bw = findHardware(catalog, 'rtx-4090').memoryBandwidth.value!;

  it('the profile states 8 tokens with its source', () => {
    expect(lcpp.kernels?.expertVectorTokens?.value).toBe(8);
    expect(lcpp.kernels?.expertVectorTokens?.source).toMatch(/MMVQ_MAX_BATCH_SIZE/);
  });

  it('at 1 and 8 tokens every byte streams at the dense bandwidth share; at 16 the experts\' bytes at expertEfficiency', () => {
    const step = q30();
    for (const b of [1, 8]) {
      const work = step.decodeWork(b, b * 48 * 1000);
      const t = step.phase(work);
      expect(work.expertBytes!).toBeGreaterThan(0);
      expect(t.memorySeconds).toBeCloseTo(work.bytes / (bw * t.mbu), 12);
    }
    const work = step.decodeWork(16, 16 * 48 * 1000);
    const t = step.phase(work);
    expect(t.memorySeconds).toBeGreaterThan(work.bytes / (bw * t.mbu) * 1.01);
  });

  it('a profile without the field charges the experts at expertEfficiency at 1 token too', () => {
    const { expertVectorTokens: _, ...kernels } = lcpp.kernels!;
    const without = q30({ ...lcpp, kernels });
    const work = without.decodeWork(1, 48 * 1000);
    const t = without.phase(work);
    expect(t.memorySeconds).toBeGreaterThan(work.bytes / (bw * t.mbu) * 1.01);
    expect(q30().phase(work).memorySeconds).toBeLessThan(t.memorySeconds);
  });
});

describe('engines that accumulate in fp16 reach the device\'s fp16-accumulate peak', () => {
  it('llama.cpp f16 prefill on an RTX 4090 runs at 330.3 TFLOP/s (fp16 accumulate), vLLM at the fp32-accumulate dense peak', () => {
    const hw = findHardware(catalog, 'rtx-4090');
    const engines = builtInCatalog().engines!;
    const on = (id: string) => estimateWithStep(input({ hardware: hw, weights: FORMATS.fp16, kv: FORMATS.fp16, activations: FORMATS.fp16, engine: engines.find((e) => e.id === id)! })).estimate.figures['latency.prefillCompute'].inputs.peakFlopsPerSecond;
    expect(on('llamacpp')).toBe(330.3e12);
    expect(on('vllm')).toBeLessThan(330.3e12);
  });
});
