import { describe, expect, it } from 'vitest';
import { allReduceSeconds, layoutProblem, sendSeconds } from '../src/estimate/parallel.js';
import { expertAllToAllSeconds } from '../src/estimate/expert-parallel.js';
import { makeModel } from '../src/inputs/model.js';
import { cli, cliJson, expectBadInput } from './helpers.js';

// Published exact parameter counts (presets/models, from each model's safetensors index):
// Llama-3.1-70B 70,553,706,496; Mixtral-8x7B 46,702,792,704. bf16 = 2 bytes per parameter.
// Llama-3.1-70B config.json: 80 layers, hidden 8192, 64 heads, 8 KV heads of 128, vocab 128,256.
// Mixtral-8x7B config.json: 32 layers, hidden 4096, 32 heads, 8 KV heads of 128, 8 experts.
const L70 = { params: 70_553_706_496, norms: (80 * 2 + 1) * 8192, kvProj: 80 * 2 * 8192 * 8 * 128, embedding: 128_256 * 8192 };
const MIX = { params: 46_702_792_704, norms: (32 * 2 + 1) * 4096, router: 32 * 4096 * 8 };

describe('memory per device under TP/PP/EP matches hand computation (issue 5)', () => {
  it.each([
    // TP 4: every matrix / 4 (8 KV heads over 4 ranks: 2 each), norms replicated.
    ['Llama-3.1-70B tp 4', ['--model', 'llama-3.1-70b', '--tp', '4'], ((L70.params - L70.norms) / 4 + L70.norms) * 2, (1280 * 327_680) / 4],
    // TP 16 > 8 KV heads: each rank holds 1 KV head (replicated twice), so k/v projections and
    // the KV cache are /8, not /16 (vLLM QKVParallelLinear num_kv_head_replicas = 2).
    ['Llama-3.1-70B tp 16 (KV heads replicated)', ['--model', 'llama-3.1-70b', '--tp', '16'], ((L70.params - L70.norms - L70.kvProj) / 16 + L70.kvProj / 8 + L70.norms) * 2, 1280 * 80 * 2 * 1 * 128 * 2],
    // TP 4 x PP 2: 40 of 80 layers per stage; the busier end stage holds the output head / 4
    // plus the final norm (the first holds the embedding / 4, the same size without the norm).
    ['Llama-3.1-70B tp 4 pp 2', ['--model', 'llama-3.1-70b', '--tp', '4', '--pp', '2'], (((L70.params - 2 * L70.embedding - L70.norms) / 80) * 40 / 4 + 40 * 2 * 8192 + L70.embedding / 4 + 8192) * 2, (1280 * 327_680) / 4 / 2],
    // Mixtral TP 2: experts and attention / 2, routers (ReplicatedLinear) and norms replicated.
    ['Mixtral-8x7B tp 2', ['--model', 'mixtral-8x7b', '--tp', '2'], ((MIX.params - MIX.norms - MIX.router) / 2 + MIX.norms + MIX.router) * 2, (1280 * 131_072) / 2],
    ['Mixtral-8x7B tp 8', ['--model', 'mixtral-8x7b', '--tp', '8'], ((MIX.params - MIX.norms - MIX.router) / 8 + MIX.norms + MIX.router) * 2, (1280 * 131_072) / 8],
    // EP 2 within TP 2: experts split by expert instead of by column; same bytes per device.
    ['Mixtral-8x7B tp 2 ep 2', ['--model', 'mixtral-8x7b', '--tp', '2', '--ep', '2'], ((MIX.params - MIX.norms - MIX.router) / 2 + MIX.norms + MIX.router) * 2, (1280 * 131_072) / 2],
  ])('%s', async (_name, args, weightsPerDevice, kvPerDevice) => {
    const out = await cliJson(['estimate', ...args, '--gpu', 'h100-sxm', '--engine', 'ideal']);
    expect(out.figures['memory.perDevice.weights'].value).toBeCloseTo(weightsPerDevice, 0);
    expect(out.figures['memory.perDevice.kvCache'].value).toBe(kvPerDevice);
  });

  it('--count alone still means tensor parallelism', async () => {
    const byCount = await cliJson(['estimate', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--count', '4']);
    const byTp = await cliJson(['estimate', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--tp', '4']);
    expect(byCount.figures['memory.perDevice.weights'].value).toBe(byTp.figures['memory.perDevice.weights'].value);
    expect(byCount.input.parallel).toEqual({ tp: 4, pp: 1, ep: 1, replicas: 1 });
  });
});

describe('communication is its own figure, per kind', () => {
  it('EP replaces the MoE layers\' MLP all-reduce with dispatch and combine all-to-all', async () => {
    const tp = await cliJson(['estimate', '--model', 'mixtral-8x7b', '--gpu', 'h100-sxm', '--tp', '2']);
    const ep = await cliJson(['estimate', '--model', 'mixtral-8x7b', '--gpu', 'h100-sxm', '--tp', '2', '--ep', '2']);
    // 32 layers x 2 all-reduces; under EP the 32 MoE layers' second all-reduce becomes all-to-all.
    expect(tp.figures['latency.decodeCommTp'].inputs.allReduces).toBe(64);
    expect(ep.figures['latency.decodeCommTp'].inputs.allReduces).toBe(32);
    expect(tp.figures['latency.decodeCommEp'].value).toBe(0);
    expect(ep.figures['latency.decodeCommEp'].value).toBeGreaterThan(0);
    for (const out of [tp, ep]) {
      const parts = out.figures['latency.decodeComm'].parts.map((id: string) => out.figures[id].value);
      expect(out.figures['latency.decodeComm'].value).toBeCloseTo(parts.reduce((a: number, b: number) => a + b, 0), 12);
    }
  });

  it('PP sends cross the network once a replica spans nodes (--gpus-per-node)', async () => {
    const inNode = await cliJson(['estimate', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--tp', '2', '--pp', '2']);
    const acrossNodes = await cliJson(['estimate', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--tp', '2', '--pp', '2', '--gpus-per-node', '2']);
    expect(inNode.figures['latency.decodeCommPp'].inputs.link).toMatch(/NVLink/);
    expect(acrossNodes.figures['latency.decodeCommPp'].inputs.link).toMatch(/InfiniBand/);
    expect(acrossNodes.figures['latency.decodeCommPp'].value).toBeGreaterThan(inNode.figures['latency.decodeCommPp'].value);
  });

  // Hand-computed collectives on a 100 GB/s, 5 us link.
  const link = { name: 'test', bandwidth: { value: 100e9, source: 'test' }, latency: { value: 5e-6, source: 'test' } };
  it.each([
    ['two-shot all-reduce of 1 MB over 4: 2x3/4 x 1e6/1e11 + 2 x 5us', () => allReduceSeconds(1e6, 4, link), 1.5e-5 + 1e-5],
    // 1000 tokens x top-2 x hidden 1000 x 2 B = 4 MB, 1 MB per rank; one exchange round of latency
    ['all-to-all of 4 MB over 4 in one domain: 3/4 x 1e6 / 1e11 + 5us', () => expertAllToAllSeconds({ tokens: 1000, topK: 2, hidden: 1000, ep: 4, topology: { up: link, out: link, domain: 8, assumed: false }, mode: 'nccl', dispatchBytes: 2, combineBytes: 2, commEfficiency: 1, imbalance: 1 }).dispatch, 7.5e-6 + 5e-6],
    ['send of 1 MB: 1e6 / 1e11 + 5us', () => sendSeconds(1e6, link), 1e-5 + 5e-6],
    ['no collective on one device', () => allReduceSeconds(1e6, 1, link), 0],
  ])('%s', (_name, f, expected) => {
    expect(f()).toBeCloseTo(expected, 15);
  });
});

describe('invalid layouts exit 2 with the reason', () => {
  it.each([
    ['TP not dividing heads', ['--model', 'llama-3.1-70b', '--tp', '3'], /--tp 3 does not divide the model's 64 attention heads/],
    ['EP on a dense model', ['--model', 'llama-3.1-70b', '--tp', '2', '--ep', '2'], /--ep 2: expert parallelism needs a mixture-of-experts model/],
    ['EP neither dividing nor a multiple of TP', ['--model', 'mixtral-8x7b', '--tp', '2', '--ep', '3'], /--ep 3 is neither a divisor nor a multiple of --tp 2/],
    ['EP not dividing experts', ['--model', 'mixtral-8x7b', '--tp', '6', '--dp-attention', '--ep', '3'], /--ep 3 does not divide the model's 8 experts/],
    ['PP beyond the layers', ['--model', 'llama-3.1-8b', '--pp', '40'], /--pp 40 is more pipeline stages than the model's 32 layers/],
    ['more devices than the layout uses', ['--model', 'llama-3.1-8b', '--count', '8', '--tp', '4'], /--count 8: the layout uses tp 4 x pp 1 = 4 devices per replica/],
  ])('%s', async (_name, args, message) => {
    await expectBadInput(['estimate', ...args, '--gpu', 'h100-sxm'], message);
  });

  it('KV heads and TP must divide one another', () => {
    // 6 KV heads over 4 ranks can be neither split nor replicated evenly.
    expect(layoutProblem(makeModel({ layers: 4, hidden: 768, heads: 12, kvHeads: 6, ffn: 2048, vocab: 1000 }), { tp: 4, pp: 1, ep: 1, replicas: 1 })).toMatch(/one must divide the other/);
  });
});
