import { describe, expect, it } from 'vitest';
import { LORA_KERNEL_OVERHEAD } from '../src/estimate/lora-serving.js';
import { cliJson, expectBadInput } from './helpers.js';

/**
 * Multi-LoRA serving (src/estimate/lora-serving.ts) and KV offload tiers
 * (src/estimate/kv-offload.ts), docs/levers.md. Expected values from the cited formulas:
 * r x (d_in + d_out) parameters per adapted matrix (Hu et al. 2021); a tier holds its bytes over
 * the KV bytes per token; a hit crosses the host link at 80% of its rate.
 */
const fig = (d: any, id: string): number => {
  if (!d.figures[id]) throw new Error(`no figure ${id}`);
  return d.figures[id].value;
};
const base = ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'ideal'];
// Llama-3.1-8B: hidden 4,096, q 32 x 128, k/v 8 x 128, MLP 14,336, 32 layers
const perLayer = { q: 16 * (4096 + 4096), k: 16 * (4096 + 1024), v: 16 * (4096 + 1024), o: 16 * (4096 + 4096), gate: 16 * (4096 + 14336), up: 16 * (4096 + 14336), down: 16 * (14336 + 4096) };
const ALL = 32 * Object.values(perLayer).reduce((a, b) => a + b, 0); // 41,943,040 parameters

describe('multi-LoRA serving', () => {
  it('a rank-16 adapter on every projection of Llama-3.1-8B is 41,943,040 parameters (80 MiB in bf16)', async () => {
    const d = await cliJson([...base, '--lora-adapters', '4']);
    expect(ALL).toBe(41_943_040);
    expect(fig(d, 'lora.adapterBytes')).toBe(ALL * 2);
    expect(fig(d, 'lora.flopsPerToken')).toBe(2 * ALL);
    // vLLM pre-allocates max_loras x max_lora_rank for every LoRA-capable module
    expect(fig(d, 'memory.lora')).toBe(4 * ALL * 2);
  });

  it('targets only q and v: r x (d_in + d_out) over those two, yet the slots are pre-allocated for all', async () => {
    const d = await cliJson([...base, '--lora-adapters', '2', '--lora-rank', '8', '--lora-targets', 'q,v']);
    expect(fig(d, 'lora.adapterBytes')).toBe(32 * 8 * (4096 + 4096 + 4096 + 1024) * 2);
    expect(fig(d, 'memory.lora')).toBe(2 * (ALL / 2) * 2);
  });

  it('takes the slots out of the KV budget and adds the measured kernel overhead to each phase', async () => {
    const plain = await cliJson(base);
    const d = await cliJson([...base, '--lora-adapters', '8']);
    expect(fig(plain, 'memory.kvCapacity') - fig(d, 'memory.kvCapacity')).toBeCloseTo(8 * ALL * 2, -2);
    const decodeBase = fig(plain, 'latency.decodeRoofline') + fig(plain, 'latency.decodeComm');
    expect(fig(d, 'lora.decode')).toBeGreaterThan(LORA_KERNEL_OVERHEAD.value * decodeBase);
    expect(fig(d, 'latency.tpot')).toBeCloseTo(fig(plain, 'latency.tpot') + fig(d, 'lora.decode'), 12);
    expect(d.figures['lora.decode'].low).toBeLessThan(fig(d, 'lora.decode'));
    expect(d.figures['lora.decode'].high).toBeGreaterThan(fig(d, 'lora.decode'));
  });

  it.each([
    [['--lora-rank', '16'], /needs --lora-adapters/],
    [['--lora-adapters', '2', '--lora-targets', 'q,attn'], /unknown value "attn"/],
    [['--lora-adapters', '0'], /expected a positive whole number/],
  ])('%j is exit 2', async (flags, message) => {
    await expectBadInput([...base, ...flags], message);
  });
});

describe('KV offload tiers', () => {
  const KV_PER_TOKEN = 131_072; // 32 layers x 2 x 8 x 128 x 2 B
  it('a 100 GiB host tier holds 819,200 tokens; a hit of 1,023 tokens crosses PCIe 5.0 at 0.8 x 63 GB/s', async () => {
    const d = await cliJson([...base, '--kv-offload', 'cpu:100']);
    expect(fig(d, 'kvOffload.cpu.capacityTokens')).toBe(Math.floor((100 * 2 ** 30) / KV_PER_TOKEN));
    expect(fig(d, 'kvOffload.cpu.loadSeconds')).toBeCloseTo((1023 * KV_PER_TOKEN) / (63e9 * 0.8), 12);
    expect(fig(d, 'kvOffload.cpu.ttftOnHit')).toBeGreaterThan(fig(d, 'kvOffload.cpu.loadSeconds'));
  });

  it('NVMe is read at one drive\'s 7 GB/s; with a shared prefix the hit is the cached prefix', async () => {
    const d = await cliJson([...base, '--input-tokens', '8192', '--prefix-tokens', '8000', '--kv-offload', 'cpu:64,nvme:1000']);
    expect(fig(d, 'kvOffload.nvme.loadSeconds')).toBeCloseTo((8000 * KV_PER_TOKEN) / 7e9, 12);
    expect(fig(d, 'kvOffload.cpu.loadSeconds')).toBeCloseTo((8000 * KV_PER_TOKEN) / (63e9 * 0.8), 12);
    expect(fig(d, 'kvOffload.cpu.speedup')).toBeGreaterThan(fig(d, 'kvOffload.nvme.speedup'));
  });

  it('an RTX 4090 reaches its host over PCIe 4.0 (31.5 GB/s)', async () => {
    const d = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'rtx-4090', '--engine', 'ideal', '--kv-offload', 'cpu:32']);
    expect(fig(d, 'kvOffload.cpu.loadSeconds')).toBeCloseTo((1023 * KV_PER_TOKEN) / (31.5e9 * 0.8), 12);
  });

  it.each([
    [['--kv-offload', 'gpu:10'], /unknown value "gpu"/],
    [['--kv-offload', 'cpu'], /not tier:size/],
    [['--kv-offload', 'cpu:0'], /not a tier size/],
    [['--kv-offload', 'cpu:1,cpu:2'], /cpu given twice/],
  ])('%j is exit 2', async (flags, message) => {
    await expectBadInput([...base, ...flags], message);
  });
});
