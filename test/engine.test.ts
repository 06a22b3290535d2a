import { describe, expect, it } from 'vitest';
import { kvBudgetBytes } from '../src/estimate/engine.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { cli, cliJson } from './helpers.js';

const GiB = 2 ** 30;
const engine = (id: string) => builtInCatalog().engines!.find((e) => e.id === id)!;

describe('vLLM KV capacity against a published vLLM log (issue 5 acceptance)', () => {
  // awslabs/data-on-eks website/docs/gen-ai/inference/GPUs/ray-vllm-deepseek.md, a vLLM 0.7.0
  // log for DeepSeek-R1-Distill-Llama-8B (the Llama-3.1-8B architecture: 32 layers, 8 KV heads
  // of 128, bf16) on one A10G (24 GB) at gpu_memory_utilization 0.90:
  //   "Model weights: 14.99 GiB | Activation memory: 0.85 GiB | KV Cache: 4.17 GiB"
  // 4.17 GiB / 131,072 B per token = 34,160 tokens (2,135 blocks of 16).
  const published = { kvBytes: 4.17 * GiB, tokens: (4.17 * GiB) / 131_072 };

  it('lands within 5% in bytes and in tokens', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'a10g', '--engine', 'vllm']);
    const bytes = out.figures['memory.kvCapacity'].value;
    const tokens = out.figures['memory.kvCapacityTokens'].value;
    expect(Math.abs(bytes / published.kvBytes - 1)).toBeLessThan(0.05);
    expect(Math.abs(tokens / published.tokens - 1)).toBeLessThan(0.05);
    expect(tokens % 16).toBe(0); // whole blocks of block_size 16
    expect(out.figures['memory.kvCapacity'].inputs.fraction).toBe(0.9);
  });

  it('is the default engine', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'a10g']);
    expect(out.input.engine).toBe('vllm');
  });
});

describe('each engine budget kind is its engine\'s formula', () => {
  // Hand-computed on an 80 GiB device holding 40 GiB of weights per device, 1 GiB of
  // activations and 0.5 GiB of runtime memory.
  const b = (tp: number) => ({ capacityBytes: 80 * GiB, weightBytesPerDevice: 40 * GiB, activationBytesPerDevice: 1 * GiB, runtimeBytesPerDevice: 0.5 * GiB, tp });
  it.each([
    // vLLM: 0.9 of TOTAL memory, minus weights, activations and runtime (CUDA graphs outside).
    ['vllm', 1, 0.9 * 80 - 41.5],
    // SGLang: mem_fraction_static of total, less the weights and the runtime memory already gone
    // when it measures free memory after loading (activations live outside); 0.81 at tp 8.
    ['sglang', 1, 0.88 * 80 - 40 - 0.5],
    ['sglang', 8, 0.81 * 80 - 40 - 0.5],
    // TensorRT-LLM: 0.9 of the memory FREE after weights, activations and runtime.
    ['trtllm', 1, 0.9 * (80 - 41.5)],
    // llama.cpp and ideal: everything left.
    ['llamacpp', 1, 80 - 41.5],
    ['ideal', 1, 80 - 41.5],
  ])('%s at tp %d leaves %d GiB', (id, tp, expectedGiB) => {
    expect(kvBudgetBytes(engine(id), b(tp)) / GiB).toBeCloseTo(expectedGiB, 9);
  });
});

describe('capacity figures', () => {
  it('maxConcurrency counts whole blocks per sequence; maxContext is whole blocks of the KV over the batch', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'vllm', '--input-tokens', '900', '--output-tokens', '100', '--batch', '4']);
    const kv = out.figures['memory.kvCapacity'].value;
    // context 1000 -> 63 blocks of 16 = 1008 tokens x 131,072 B per sequence
    expect(out.figures['capacity.maxConcurrency'].value).toBe(Math.floor(kv / (1008 * 131_072)));
    expect(out.figures['capacity.maxContext'].value).toBe(Math.min(131_072, Math.floor(kv / (4 * 131_072) / 16) * 16));
    expect(out.figures['memory.kvCapacityTokens'].value).toBe(Math.floor(kv / 131_072 / 16) * 16);
  });

  it('llama.cpp reserves its compute buffer instead of profiled activations', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'rtx-4090', '--engine', 'llamacpp']);
    expect(out.figures['memory.kvCapacity'].inputs.activations).toBe(258.5 * 2 ** 20);
  });

  it('a batch past the engine\'s KV budget does not fit, and says why', async () => {
    // 30 x 1280 tokens x 128 KiB = 5.0 GiB of KV: the device holds it (22.5 GiB), vLLM's 0.9 budget does not.
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'a10g', '--engine', 'vllm', '--batch', '30', '--format', 'json']);
    expect(JSON.parse(r.stdout).fits).toBe(false);
    expect(r.stderr).toMatch(/vLLM leaves 4\.\d GiB per device for the KV cache, enough for \d+ sequences/);
  });

  it('an unknown engine exits 2 with a suggestion', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--engine', 'vlm']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown engine \(--engine\) "vlm"; did you mean vllm/);
  });
});
