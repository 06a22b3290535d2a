import { describe, expect, it } from 'vitest';
import type { Calibration } from '../src/estimate/efficiency.js';
import { CALIBRATION } from '../src/estimate/calibration.js';
import { prefillKeys } from '../src/estimate/flops.js';
import { estimateWithStep } from '../src/estimate/index.js';
import type { EstimateInput } from '../src/estimate/input.js';
import { kvLayerTokens } from '../src/estimate/memory.js';
import { builtInCatalog, findHardware, findModel } from '../src/inputs/presets.js';
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
    const { step } = estimateWithStep(input({ mbu: 0.5, mfu: 0.5 }), noOverhead);
    expect(step.decodeBytes(1, kvLayerTokens(model('llama-3.1-8b'), 1))).toBe(15_009_980_416);
    const seconds = step.stepSeconds({ decodeSequences: 1, decodeKvLayerTokens: 32, prefillTokens: 0, prefillKeys: 0, prefillKvLayerTokens: 0, prefillLogits: 0 });
    expect(seconds).toBeCloseTo(15_009_980_416 / 1.675e12, 9);
  });

  it('an empty step costs only the fixed overhead', () => {
    const { step } = estimateWithStep(input());
    expect(step.stepSeconds({ decodeSequences: 0, decodeKvLayerTokens: 0, prefillTokens: 0, prefillKeys: 0, prefillKvLayerTokens: 0, prefillLogits: 0 })).toBe(step.overheadSeconds);
  });
});
