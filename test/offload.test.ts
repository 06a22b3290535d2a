import { describe, expect, it } from 'vitest';
import { cli, cliJson, expectBadInput } from './helpers.js';
import { CALIBRATION } from '../src/estimate/calibration.js';
import { rooflineSeconds } from '../src/estimate/efficiency.js';

/**
 * Weights beyond the GPU (src/estimate/offload.ts, docs/levers.md): llama.cpp keeps the last
 * -ngl layers and their KV on the GPU, the rest (and the embedding, and the output layer unless
 * -ngl exceeds the layer count) in system memory; a decode step reads each side at its own
 * bandwidth, one after the other.
 */
const fig = (d: any, id: string): number => {
  if (!d.figures[id]) throw new Error(`no figure ${id}`);
  return d.figures[id].value;
};
const base = ['estimate', '--model', 'llama-3.1-70b', '--gpu', 'rtx-4090', '--precision', 'q4_k_m'];

describe('llama-3.1-70b q4_k_m on an RTX 4090 (issue 15)', () => {
  it('does not fit whole; the verdict names the largest --gpu-layers that fits and its decode speed', async () => {
    const r = await cli([...base]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/DOES NOT FIT/);
    expect(r.stdout).toMatch(/Fix: --gpu-layers \d+ \(llama\.cpp -ngl\): \d+ of 80 layers on NVIDIA GeForce RTX 4090 24GB, .* tokens\/s decode/);
    const d = await cliJson(base);
    expect(d.input.engine).toBe('llamacpp');
    const n = d.offload.gpuLayers;
    // the largest: n fits, n + 1 does not
    const at = await cliJson([...base, '--gpu-layers', String(n)]);
    const above = await cliJson([...base, '--gpu-layers', String(n + 1)]);
    expect(at.fits).toBe(true);
    expect(above.fits).toBe(false);
    expect(d.offload.decodeTokensPerSecond).toBe(fig(at, 'throughput.decodeTokensPerSecond'));
    // the verdict's first fix (src/estimate/verdict.ts)
    expect(d.verdict.fix).toMatchObject({ change: 'gpu-layers', flag: '--gpu-layers', value: n });
  });

  it('splits the weights by layer: the GPU holds n / 80 of the decoder layers, the host the rest with the embedding and the output layer', async () => {
    const all = await cliJson([...base, '--engine', 'ideal']);
    const d = await cliJson([...base, '--gpu-layers', '40']);
    const total = fig(all, 'memory.weights');
    const embedding = 128256 * 8192 * (4.5 / 8); // Q4_K token embedding (llama.cpp keeps it on the CPU)
    const head = 128256 * 8192 * (6.5625 / 8); // Q6_K output layer (the _M mix)
    const layers = (total - embedding - head) / 80;
    expect(fig(d, 'memory.perDevice.weights') / (40 * layers)).toBeCloseTo(1, 9);
    expect(fig(d, 'memory.offload.hostWeights')).toBeCloseTo(total - 40 * layers, -3);
    // half the layers' KV on the host
    expect(fig(d, 'memory.offload.hostKv')).toBeCloseTo(fig(d, 'memory.kvCache') / 2, -3);
  });

  it('decode = the GPU part at HBM bandwidth + the host part at DRAM bandwidth (memory-bound at batch 1)', async () => {
    const d = await cliJson([...base, '--gpu-layers', '40']);
    const host = d.figures['offload.decodeHost'];
    const gpu = d.figures['offload.decodeGpu'];
    expect(host.inputs.memorySeconds).toBeCloseTo(host.inputs.bytes / (2 * 5600e6 * 8 * host.inputs.mbu), 12); // Ryzen 9 9950X: 2 x DDR5-5600 x 8 B
    expect(gpu.inputs.memorySeconds).toBeCloseTo(gpu.inputs.bytes / (1008e9 * gpu.inputs.mbu), 12);
    // each side is the roofline of its compute and memory times (efficiency.ts rooflineSeconds), the memory time most of it at batch 1
    for (const side of [host, gpu]) {
      expect(side.value).toBeCloseTo(rooflineSeconds(side.inputs.computeSeconds, side.inputs.memorySeconds, CALIBRATION.params.rooflineExponent), 12);
      expect(side.value / side.inputs.memorySeconds).toBeLessThan(1.05);
    }
    expect(fig(d, 'latency.tpot')).toBeCloseTo(gpu.value + host.value + fig(d, 'latency.decodeOverhead'), 12);
    // the host reads the 40 CPU layers (half the layer bytes) and the output layer
    expect(host.inputs.bytes).toBeGreaterThan(fig(d, 'memory.offload.hostWeights') - 128256 * 8192 * (4.5 / 8) - 1e6);
  });

  it('the prompt streams the host weights to the GPU once per 512-token micro-batch over PCIe 4.0 at 80%', async () => {
    const d = await cliJson([...base, '--gpu-layers', '40', '--input-tokens', '1024']);
    const hostWeights = fig(d, 'memory.offload.hostWeights');
    const embedding = 128256 * 8192 * (4.5 / 8);
    expect(fig(d, 'offload.promptStreaming')).toBeCloseTo((2 * (hostWeights - embedding)) / (31.5e9 * 0.8), 9);
  });
});

describe('MoE experts in system memory', () => {
  it('--cpu-moe keeps every routed expert on the host and the rest of the model on the GPU', async () => {
    const d = await cliJson(['estimate', '--model', 'qwen3-30b-a3b', '--gpu', 'rtx-4090', '--precision', 'q4_k_m', '--cpu-moe']);
    expect(d.fits).toBe(true);
    expect(fig(d, 'memory.perDevice.weights')).toBeLessThan(2 * 2 ** 30);
    expect(fig(d, 'memory.offload.hostWeights')).toBeGreaterThan(15 * 2 ** 30);
    expect(d.figures['offload.decodeHost'].label).toMatch(/experts of 48/);
  });
});

describe('offload flags', () => {
  it.each([
    [['--gpu-layers', '40', '--engine', 'ideal'], /llama\.cpp's: pass --engine llamacpp/],
    [['--cpu-moe'], /has no experts to keep on the CPU/],
    [['--gpu-layers', '40', '--count', '2'], /modelled on one GPU/],
    [['--gpu-layers', '-1'], /expected a whole number of layers/],
    [['--gpu-layers', '40', '--host-cpu', 'h100-sxm'], /is not a CPU/],
  ])('%j is exit 2', async (flags, message) => {
    await expectBadInput([...base, ...flags], message);
  });

  it('refuses offload on a CPU', async () => {
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'epyc-9654', '--precision', 'q4_k_m', '--gpu-layers', '10'], /is a CPU/);
  });
});
