import { describe, expect, it } from 'vitest';
import { CALIBRATION } from '../src/estimate/calibration.js';
import type { Calibration } from '../src/estimate/efficiency.js';
import { estimateWithStep } from '../src/estimate/index.js';
import type { EstimateInput } from '../src/estimate/input.js';
import { busiestGroupPrompts } from '../src/estimate/parallel.js';
import { simulate, type Deployment, type Scheduler } from '../src/estimate/simulate.js';
import type { StepContents, StepModel } from '../src/estimate/step.js';
import { OUTPUT_SCHEMA, validateJson } from '../src/inputs/output-schema.js';
import { builtInCatalog, findHardware, findModel } from '../src/inputs/presets.js';
import { FORMATS } from '../src/inputs/precision.js';
import { cli, cliJson } from './helpers.js';

/**
 * Attention data parallelism steps every group together: the MoE layers between the attention
 * layers take all groups' tokens, so a step lasts as long as its busiest group (TensorRT-LLM
 * docs/source/blogs/tech_blog/blog10_ADP_Balance_Strategy.md: time_i = max over ranks of
 * time_{i,m}; SGLang runs an idle batch on a rank with nothing to do). Each group schedules its
 * own requests, so a prompt on one group holds back the decodes of all.
 */
const catalog = builtInCatalog();
const model = (id: string) => findModel(catalog, id).model;

describe('the step of an attention-DP replica is its busiest group\'s (step.ts groupStepSeconds)', () => {
  // DeepSeek-V3 on 2 x H200, TP 2 as 2 attention groups of 1 rank, EP 2; efficiencies fixed
  // (--mfu, --mbu) so that the memory time is bytes / (bandwidth x 0.5) exactly.
  const h200 = findHardware(catalog, 'h200');
  const base: EstimateInput = {
    model: model('deepseek-v3'),
    weights: FORMATS['fp8-block'],
    kv: FORMATS.bf16,
    activations: FORMATS.bf16,
    workload: { batch: 16, inputTokens: 1000, outputTokens: 100, context: 1100 },
    hardware: h200,
    count: 2,
    parallel: { tp: 2, pp: 1, ep: 2, replicas: 1, dpAttention: 2 },
    mfu: 0.4,
    mbu: 0.5,
  };
  // The plain roofline max(compute, memory) (no overlap exponent: efficiency.ts rooflineSeconds), so that a
  // memory-bound step's extra KV read adds its memory time exactly.
  const plainRoofline: Calibration = { ...CALIBRATION, params: { ...CALIBRATION.params, rooflineExponent: undefined } };
  const { step } = estimateWithStep(base, plainRoofline);
  const layers = 61;
  // 8 decodes per group at a context of `ctx` (kvLayerTokens: every layer of DeepSeek-V3 attends all keys)
  const decodes = (ctx: number): StepContents => ({ decodeSequences: 8, decodeKvLayerTokens: 8 * ctx * layers, prefillTokens: 0, prefillKeys: 0, prefillKvLayerTokens: 0, prefillLogits: 0 });

  it('two groups of 8 decodes, one at context 1,000 and one at 5,000, take the step of two at 5,000', () => {
    const uneven = step.groupStepSeconds([decodes(1000), decodes(5000)]);
    expect(uneven).toBeCloseTo(step.groupStepSeconds([decodes(5000), decodes(5000)]), 12);
    expect(step.groupStepSeconds([decodes(5000), decodes(1000)])).toBeCloseTo(uneven, 12);
  });

  it('the heavier group costs its extra KV read on its one rank: 8 x 4,000 tokens x 61 layers x 1,152 B / (4.8 TB/s x 0.5) = 0.937 ms', () => {
    // MLA latent per token per layer: (512 + 64) elements x 2 B (bf16) = 1,152 B (DeepSeek-V3 config.json
    // kv_lora_rank 512, qk_rope_head_dim 64); H200 HBM3e 4.8 TB/s (NVIDIA H200 datasheet).
    expect(h200.memoryBandwidth.value).toBe(4.8e12);
    const balanced = step.groupStepSeconds([decodes(1000), decodes(1000)]);
    const uneven = step.groupStepSeconds([decodes(1000), decodes(5000)]);
    expect(uneven - balanced).toBeCloseTo((8 * 4000 * 61 * 1152) / (4.8e12 * 0.5), 9);
  });

  it('balanced groups take the step of the same decodes spread evenly (stepSeconds)', () => {
    const spread = step.stepSeconds({ decodeSequences: 16, decodeKvLayerTokens: 16 * 3000 * layers, prefillTokens: 0, prefillKeys: 0, prefillKvLayerTokens: 0, prefillLogits: 0 });
    expect(step.groupStepSeconds([decodes(3000), decodes(3000)])).toBeCloseTo(spread, 12);
  });

  it('a prompt on one group stalls the other group\'s decodes: the step is at least the prompt group\'s, and longer than the decodes alone', () => {
    const prompt: StepContents = { decodeSequences: 0, decodeKvLayerTokens: 0, prefillTokens: 2000, prefillKeys: 0, prefillKvLayerTokens: 2000 * layers, prefillLogits: 1 };
    const withPrompt = step.groupStepSeconds([decodes(1000), prompt]);
    expect(withPrompt).toBeGreaterThan(step.groupStepSeconds([decodes(1000), decodes(1000)]) * 1.5);
    expect(withPrompt).toBeGreaterThanOrEqual(step.groupStepSeconds([prompt, { ...prompt, prefillTokens: 0, prefillKvLayerTokens: 0, prefillLogits: 0 }]));
  });
});

describe('the simulator schedules each attention group apart and steps them together', () => {
  // A step model by hand: a group's part of a step costs 10 ms plus 10 us per prompt token it
  // carries; the groups' step is the largest part (step.ts groupStepSeconds on a real model).
  const part = (c: StepContents) => (c.decodeSequences > 0 || c.prefillTokens > 0 ? 0.01 + 1e-5 * c.prefillTokens : 0);
  const handStep = {
    layout: { tp: 2, pp: 1, ep: 2, replicas: 1, dpAttention: 2 },
    stepSeconds: (c: StepContents) => 0.01 + 1e-5 * c.prefillTokens,
    groupStepSeconds: (cs: StepContents[]) => Math.max(...cs.map(part)),
  } as unknown as StepModel;
  const deployment = (over: Partial<Scheduler> = {}): Deployment => ({
    step: handStep,
    model: model('llama-3.1-8b'),
    kvCapacityTokens: 100_000,
    blockTokens: 1,
    scheduler: { maxNumSeqs: 8, maxBatchedTokens: 2000, chunkedPrefill: true, policy: 'decode-first', ...over },
    replicas: 1,
  });
  const requests = (rows: [arrival: number, input: number, output: number][]) => ({
    arrival: Float64Array.from(rows.map((r) => r[0])),
    input: Int32Array.from(rows.map((r) => r[1])),
    output: Int32Array.from(rows.map((r) => r[2])),
  });

  it('B\'s 1,000-token prompt on the other group stretches A\'s decode step from 10 to 20 ms', () => {
    // A (t = 0, 100 in, 5 out) goes to group 0: prefill 11 ms; decodes end at 21, 31 ms. B arrives
    // at 25 ms (1,000 in, 2 out) and goes to the emptier group 1; at 31 ms group 1 prefills it
    // (20 ms) while group 0 decodes A (10 ms): the step ends at 51 ms with A's 4th token and B's
    // first. The last step (10 ms) ends both at 61 ms.
    const r = simulate(deployment(), requests([[0, 100, 5], [0.025, 1000, 2]]));
    expect(r.e2e[0]).toBeCloseTo(0.061, 12);
    expect(r.ttft[1]).toBeCloseTo(0.051 - 0.025, 12);
    expect(r.e2e[1]).toBeCloseTo(0.061 - 0.025, 12);
    expect(r.itl.percentile(100)).toBeCloseTo(0.02, 4); // A's gap across B's prompt
    expect(r.steps).toBe(5);
  });

  it('each group has its own limits and share of the KV cache: maxNumSeqs 1 runs two sequences on two groups', () => {
    const four = requests([[0, 100, 3], [0, 100, 3], [0, 100, 3], [0, 100, 3]]);
    expect(simulate(deployment({ maxNumSeqs: 1 }), four).peakRunning).toBe(2);
    // A prompt of 100 tokens is admitted when its 100 blocks fit. KV for 500 tokens over 2 groups:
    // 250 each, two prompts per group (and their 103 tokens at the end); for 398: 199 each, one per
    // group, where one scheduler over all 398 would admit three.
    expect(simulate({ ...deployment(), kvCapacityTokens: 500 }, four).peakRunning).toBe(4);
    expect(simulate({ ...deployment(), kvCapacityTokens: 398 }, four).peakRunning).toBe(2);
    const solo = { ...deployment(), kvCapacityTokens: 398, step: { ...handStep, layout: { tp: 1, pp: 1, ep: 1, replicas: 1 } } as StepModel };
    expect(simulate(solo, four).peakRunning).toBe(3);
  });

  it('simulate says the limits are each group\'s, on a line of its own within 80 columns', async () => {
    const r = await cli(['simulate', '--model', 'deepseek-v3', '--gpu', 'h200', '--tp', '8', '--ep', '8', '--dp-attention', '8', '--engine', 'trtllm', '--concurrency', '64', '--requests', '64', '--input-tokens', '1024', '--output-tokens', '64', '--max-num-seqs', '128', '--max-num-batched-tokens', '1151']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(tp 8 ep 8 dp-attn 8)');
    expect(r.stdout).toContain('scheduler: decode-first, 128 max sequences, 1,151 tokens per step');
    const line = r.stdout.split('\n').find((l) => l.startsWith('attention DP:'));
    expect(line).toBe('attention DP: 8 groups in step, each up to 128 seqs, 1,151 tokens a step');
    expect(line!.length).toBeLessThanOrEqual(80);
  });

  it('SGLang counts its flags for the replica and divides them over the ranks; vLLM and TensorRT-LLM count one rank', async () => {
    const run = (engine: string) => cliJson(['simulate', '--model', 'deepseek-v3', '--gpu', 'h200', '--tp', '8', '--ep', '8', '--dp-attention', '8', '--engine', engine, '--concurrency', '16', '--requests', '16', '--input-tokens', '512', '--output-tokens', '16', '--max-num-seqs', '256', '--max-num-batched-tokens', '16384']);
    // SGLang _handle_data_parallelism: chunked_prefill_size // dp_size; max_running_requests // dp_size
    const sgl = await run('sglang');
    expect(sgl.input.scheduler.perAttentionGroup).toEqual({ groups: 8, maxNumSeqs: 32, maxNumBatchedTokens: 2048, limits: 'flags divided over the groups', dispatch: 'round-robin' });
    expect(validateJson(sgl, OUTPUT_SCHEMA)).toEqual([]);
    // TensorRT-LLM: '--max_batch_size: Max batch size in each rank'; vLLM: one engine core per DP rank
    expect((await run('trtllm')).input.scheduler.perAttentionGroup).toEqual({ groups: 8, maxNumSeqs: 256, maxNumBatchedTokens: 16384, limits: 'per-rank flags', dispatch: 'fewest' });
    expect((await run('vllm')).input.scheduler.perAttentionGroup).toMatchObject({ maxNumSeqs: 256, limits: 'per-rank flags' });
  });

  it('round-robin dispatch (SGLang) sends a request to the next group in turn, even one that is full', () => {
    // One sequence per group (maxNumSeqs 1). A (0 s, 100 in, 10 out) prefills on group 0 (0-11 ms);
    // B (1 ms, 100 in, 2 out) is dispatched at 11 ms to group 1 either way, prefills 11-22 ms and
    // ends at 32 ms; A decodes a token every step until 102 ms. C (50 ms, 100 in, 2 out) is
    // dispatched at 52 ms: in turn it goes to group 0 and waits for A (prefill 102-113 ms: TTFT
    // 63 ms); to the group holding the fewest it goes to the idle group 1 (prefill 52-63 ms, beside
    // A's decode: TTFT 13 ms).
    const reqs = requests([[0, 100, 10], [0.001, 100, 2], [0.05, 100, 2]]);
    const rr = simulate(deployment({ dispatch: 'round-robin', maxNumSeqs: 1 }), reqs);
    const fewest = simulate(deployment({ maxNumSeqs: 1 }), reqs);
    expect(rr.e2e[0]).toBeCloseTo(0.102, 12);
    expect(rr.ttft[2]).toBeCloseTo(0.063, 12);
    expect(fewest.ttft[2]).toBeCloseTo(0.013, 12);
    expect(fewest.e2e[0]).toBeCloseTo(0.103, 12); // A's sixth token came in C's 11 ms step
  });

  it('one group (no attention DP): the replica\'s own scheduler, as before', () => {
    const solo = { ...deployment(), step: { ...handStep, layout: { tp: 1, pp: 1, ep: 1, replicas: 1 } } as StepModel };
    const r = simulate(solo, requests([[0, 100, 5], [0.025, 1000, 2]]));
    // A: 11, 21, 31 ms; at 31 B joins A's step: 10 + 10 ms -> 51 ms; 61 ms both done
    expect(r.e2e[0]).toBeCloseTo(0.061, 12);
    expect(r.ttft[1]).toBeCloseTo(0.026, 12);
  });
});

describe('the estimate under load: every step waits for the group prefilling the most (parallel.ts busiestGroupPrompts)', () => {
  it('E[max of groups Poisson(rate / groups)], by hand', () => {
    expect(busiestGroupPrompts(0.7, 1)).toBe(0.7);
    // two groups of Poisson(1): sum over k of 1 - F(k)^2 = 1.52378 (F(0) = e^-1, F(1) = 2 e^-1, ...)
    expect(busiestGroupPrompts(2, 2)).toBeCloseTo(1.5237776, 6);
    // eight groups, half a prompt per step in all: about P(any prompt) = 1 - e^-0.5 = 0.393, plus the rare step with two on one group
    expect(busiestGroupPrompts(0.5, 8)).toBeCloseTo(0.4086759, 6);
    // many prompts per step: near the mean per group (16 / 8 = 2) plus the spread of the largest
    expect(busiestGroupPrompts(16, 8)).toBeCloseTo(4.1871209, 6);
    expect(busiestGroupPrompts(0, 8)).toBe(0);
  });

  it('latency.prefillInterference of DeepSeek-V3 on 8 x H200 with 8 attention groups: E[max] x (mixed pass - decode pass)', async () => {
    const e = await cliJson(['estimate', '--model', 'deepseek-v3', '--gpu', 'h200', '--tp', '8', '--ep', '8', '--dp-attention', '8', '--concurrency', '1024', '--input-tokens', '1024', '--output-tokens', '2048']);
    const f = e.figures['latency.prefillInterference'];
    expect(f.inputs.busiestGroupPrompts).toBeCloseTo(busiestGroupPrompts(1024 / 2048, 8), 9);
    expect(f.value).toBeCloseTo(f.inputs.busiestGroupPrompts * (f.inputs.mixedPass - f.inputs.decodePass), 12);
    expect(f.source).toMatch(/busiest rank/);
  });
});
