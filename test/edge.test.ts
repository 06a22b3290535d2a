import { describe, expect, it } from 'vitest';
import { findEntry } from '../src/inputs/catalog.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { cli, cliJson, expectBadInput } from './helpers.js';

const catalog = builtInCatalog();
const hw = (id: string) => findEntry(catalog.hardware, id)!;
const GiB = 2 ** 30;

describe('edge and laptop catalogue (issue 19)', () => {
  const edge = catalog.hardware.filter((h) => h.formFactor === 'laptop' || h.formFactor === 'phone' || h.formFactor === 'embedded');

  it('holds at least 15 edge and laptop devices, each with sourced memory, bandwidth, a 16/32-bit peak and a TDP entry', () => {
    expect(edge.length).toBeGreaterThanOrEqual(15);
    for (const h of edge) {
      expect(h.memoryBytes.value, h.id).toBeGreaterThan(0);
      expect(h.memoryBandwidth.value, h.id).toBeGreaterThan(0);
      expect(h.memoryBandwidth.source.length, h.id).toBeGreaterThan(10);
      expect(['fp32', 'fp16', 'bf16'].some((c) => h.compute[c as 'fp32']?.value), h.id).toBe(true);
      expect(h.tdpWatts.source.length, h.id).toBeGreaterThan(5);
    }
  });

  it.each([
    'jetson-orin-nano', 'jetson-orin-nx', 'jetson-agx-orin', 'jetson-agx-thor',
    'm1', 'm1-pro', 'm1-max', 'm2', 'm2-pro', 'm2-max', 'm3', 'm3-pro', 'm4', 'm4-pro',
    'snapdragon-x-elite', 'snapdragon-8-gen-3',
    'rtx-4060-laptop', 'rtx-4070-laptop', 'rtx-4080-laptop', 'rtx-4090-laptop', 'rtx-5080-laptop', 'rtx-5090-laptop',
  ])('%s is in the catalogue', (id) => {
    expect(edge.map((h) => h.id)).toContain(id);
  });

  it('bandwidths and peaks as the vendors publish them', () => {
    // Apple newsroom: M2 100 GB/s and 3.6 TFLOPS; M4 Pro 273 GB/s; M1 Max 400 GB/s and 10.4 TFLOPS
    expect(hw('m2').memoryBandwidth.value).toBe(100e9);
    expect(hw('m2').compute.fp32!.value).toBe(3.6e12);
    expect(hw('m4-pro').memoryBandwidth.value).toBe(273e9);
    expect(hw('m1-max').compute.fp32!.value).toBe(10.4e12);
    // Jetson Orin Nano Super: 102 GB/s, 67 sparse INT8 TOPS (dense 33.5)
    expect(hw('jetson-orin-nano').memoryBandwidth.value).toBe(102e9);
    expect(hw('jetson-orin-nano').sparseCompute!.int8!.value).toBe(67e12);
    expect(hw('jetson-orin-nano').compute.int8!.value).toBe(33.5e12);
    // Thor: 273 GB/s, 2070 sparse FP4 TFLOPS
    expect(hw('jetson-agx-thor').sparseCompute!.fp4!.value).toBe(2070e12);
    // RTX 4090 Laptop: 576 GB/s; FP16 tensor (FP32 accumulate) 76 SMs x 2.04 GHz x 512 FLOP/clock
    expect(hw('rtx-4090-laptop').memoryBandwidth.value).toBe(576e9);
    expect(76 * 2.04e9 * 512).toBeCloseTo(79.38e12, -9);
    expect(hw('rtx-4090-laptop').compute.fp16!.value).toBe(79.4e12);
    // Snapdragon X Elite: 135 GB/s, NPU 45 TOPS INT8
    expect(hw('snapdragon-x-elite').memoryBandwidth.value).toBe(135e9);
  });

  it('--memory picks a configuration: "16GB" on an M2 is the 16 GiB one, and the macOS share scales with it', async () => {
    const e = await cliJson(['estimate', '--model', 'llama-3.2-3b', '--gpu', 'm2', '--memory', '16GB', '--precision', 'q4_k_m', '--engine', 'llamacpp']);
    expect(e.figures['memory.capacityPerDevice'].value).toBe(16 * GiB);
    expect(e.input.hardware.name).toMatch(/with 16 GiB/);
    // a third of memory kept by macOS on Macs up to 36 GB (reservedFraction 1/3)
    expect(e.figures['memory.perDevice.overhead'].value).toBeCloseTo((16 * GiB) / 3, 0);
    const big = await cliJson(['estimate', '--model', 'llama-3.2-3b', '--gpu', 'm2', '--precision', 'q4_k_m', '--engine', 'llamacpp']);
    expect(big.figures['memory.capacityPerDevice'].value).toBe(24 * GiB);
  });

  it('a size the device is not sold with is sized as given, with a warning; --memory works on any device', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.2-3b', '--gpu', 'm4-pro', '--memory', '40GiB', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/sold with 24 GiB, 48 GiB, 64 GiB/);
    expect(JSON.parse(r.stdout).figures['memory.capacityPerDevice'].value).toBe(40 * GiB);
    const l4 = await cliJson(['estimate', '--model', 'llama-3.2-3b', '--gpu', 'l4', '--memory', '16GiB']);
    expect(l4.figures['memory.capacityPerDevice'].value).toBe(16 * GiB);
  });

  it.each([
    [['--memory', '16'], /--memory: invalid value "16"; expected a memory size with its unit/],
    [['--memory', '-8GB'], /--memory/],
    [['--memory', '1KB'], /outside the memory sizes this tool sizes/],
  ])('bad --memory %j is exit 2', async (flags, message) => {
    await expectBadInput(['estimate', '--model', 'llama-3.2-3b', '--gpu', 'm2', ...flags], message);
  });

  it('plan does not search laptops, phones or embedded boards unless --hardware names them', async () => {
    const r = await cli(['plan', '--model', 'llama-3.2-3b', '--qps', '1', '--tpot', '100ms', '--format', 'json']);
    const planned: string[] = JSON.parse(r.stdout).input.hardware;
    for (const h of edge) expect(planned, h.id).not.toContain(h.id);
  });

  it('the default engine follows the device and the format: MLX for bf16 and MLX formats on Apple silicon, llama.cpp for GGUF and on Snapdragon, vLLM on Jetson', async () => {
    const engineOf = async (gpu: string, precision: string) => (await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', gpu, '--precision', precision])).input.engineChoice.id;
    expect(await engineOf('m4-max', 'bf16')).toBe('mlx');
    expect(await engineOf('m4-max', 'mlx-int4')).toBe('mlx');
    expect(await engineOf('m4-max', 'q4_k_m')).toBe('llamacpp');
    expect(await engineOf('snapdragon-x-elite', 'q4_0')).toBe('llamacpp');
    expect(await engineOf('jetson-agx-orin', 'bf16')).toBe('vllm');
    expect(await engineOf('jetson-agx-orin', 'q4_k_m')).toBe('llamacpp');
    // --engine llama.cpp on an MLX format is exit 2 naming MLX
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'm4-max', '--precision', 'mlx-int4', '--engine', 'llama.cpp'], /llama.cpp does not load mlx-int4 weights.*: mlx/);
  });

  it('mlx-int4 weights by hand: every matrix (embeddings and lm_head included) at 4 + 32/64 bits, norms 16-bit', async () => {
    const e = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'm4-max', '--precision', 'mlx-int4']);
    // Llama 3.1 8B: 8,030,261,248 parameters of which 32 x 2 x 4,096 + 4,096 = 266,240 are norm weights
    const norms = 32 * 2 * 4096 + 4096;
    expect(e.figures['memory.weights'].value).toBe(((8_030_261_248 - norms) * 4.5) / 8 + norms * 2);
  });
});
