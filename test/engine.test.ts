import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CALIBRATION } from '../src/estimate/calibration.js';
import { cli, cliJson, expectBadInput } from './helpers.js';

/**
 * Engine memory models (presets/engines, src/estimate/engine.ts), engine choice
 * (src/inputs/engine-choice.ts) and launch options. Expected values are computed by hand from the
 * profiles' sourced values; each case names them.
 */

const GiB = 2 ** 30;
const MiB = 2 ** 20;
// Llama-3.1-8B in bf16: 8,030,261,248 parameters x 2 B (Meta model card); 32 layers x 2 x 8 KV
// heads x 128 x 2 B = 131,072 B of KV per token.
const LLAMA8B_WEIGHTS = 16_060_522_496;
const LLAMA8B_KV_PER_TOKEN = 131_072;
// H100 SXM: 79.19 GiB as CUDA reports it (presets/hardware/h100-sxm.yaml memory.usable).
const H100 = 79.19 * GiB;
// One forward pass of n tokens on one device: (2 x 4096 + (32 + 2 x 8) x 128 + 3 x 14336) x 2 B per token.
const forward8b = (tokens: number) => tokens * (2 * 4096 + 48 * 128 + 3 * 14336) * 2;
// vLLM V1's sampler at max_num_seqs 1024 (H100 default): 4 fp32 copies of [1024 x 128,256].
const SAMPLER_H100 = 4 * 1024 * 128_256 * 4;
const tokensOf = (kvBytes: number, block: number) => Math.floor(kvBytes / LLAMA8B_KV_PER_TOKEN / block) * block;

describe('each engine version sizes its KV pool with its own formula (Llama-3.1-8B bf16, one H100)', () => {
  const run = (engine: string, extra: string[] = []) => cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', engine, ...extra]);

  it('vLLM 0.19: 0.9 x capacity - weights - max(forward 8192 tokens, sampler) - non-torch 0.25 GiB, whole blocks of 16', async () => {
    const out = await run('vllm@0.19');
    const kv = 0.9 * H100 - LLAMA8B_WEIGHTS - Math.max(forward8b(8192), SAMPLER_H100) - 0.25 * GiB;
    expect(out.figures['memory.kvCapacity'].value).toBeCloseTo(kv, 0);
    expect(out.figures['memory.kvCapacityTokens'].value).toBe(tokensOf(kv, 16));
    expect(out.figures['memory.engine.activations'].value).toBe(SAMPLER_H100);
    // CUDA graphs are captured after the pool is sized: shown, but outside the budget
    expect(out.figures['memory.engine.cudaGraphs'].inputs.inBudget).toBe(false);
  });

  it('vLLM 0.21: also takes its CUDA graphs out of the budget (51 PIECEWISE + 51 FULL graphs x 19.3 MiB at max_num_seqs 1024)', async () => {
    const out = await run('vllm@0.21');
    const graphs = 102 * 19.3 * MiB;
    expect(out.figures['memory.engine.cudaGraphs'].value).toBeCloseTo(graphs, 0);
    const kv = 0.9 * H100 - LLAMA8B_WEIGHTS - SAMPLER_H100 - 0.25 * GiB - graphs;
    expect(out.figures['memory.kvCapacity'].value).toBeCloseTo(kv, 0);
    // --enforce-eager: no graphs, so their memory goes back to the KV cache
    const eager = await run('vllm@0.21', ['--enforce-eager']);
    expect(eager.figures['memory.kvCapacity'].value - out.figures['memory.kvCapacity'].value).toBeCloseTo(graphs, 0);
  });

  it('vLLM 0.6 (V0) profiles the whole max_model_len up to 32k, and 512-token chunks past it', async () => {
    const at20k = await run('vllm@0.6', ['--context', '20000', '--input-tokens', '19000', '--output-tokens', '1000']);
    expect(at20k.figures['memory.engine.activations'].value).toBe(forward8b(20000));
    const at64k = await run('vllm@0.6', ['--context', '64k', '--input-tokens', '1000', '--output-tokens', '1000']);
    // 512 chunked-prefill tokens, or the sampler's [256 x vocab] fp32 logits if larger
    expect(at64k.figures['memory.engine.activations'].value).toBe(Math.max(forward8b(512), 256 * 128_256 * 4));
  });

  it('SGLang 0.4: mem_fraction_static 0.88 of the memory free at start (capacity - 1 GiB CUDA context) - weights, token-granular', async () => {
    const out = await run('sglang@0.4');
    const kv = 0.88 * (H100 - 1 * GiB) - LLAMA8B_WEIGHTS;
    expect(out.figures['memory.kvCapacity'].value).toBeCloseTo(kv, 0);
    expect(out.figures['memory.kvCapacityTokens'].value).toBe(tokensOf(kv, 1));
  });

  it('SGLang 0.5: the default fraction is (memory - reserve) / memory, reserve 512 + 8192 x 1.5 + 256 x 2 + 1/8 x 1024 MiB', async () => {
    const out = await run('sglang@0.5');
    const gpuMiB = H100 / MiB;
    const reserve = 512 + 8192 * 1.5 + 256 * 2 + 1024 / 8;
    expect(out.figures['memory.engine.fraction'].value).toBe(Math.round(((gpuMiB - reserve) / gpuMiB) * 1000) / 1000);
    expect(out.figures['memory.engine.fraction'].value).toBe(0.834);
  });

  it('TensorRT-LLM: 0.9 of the memory free after weights, a forward pass of 8192 tokens and the CUDA context, blocks of 32', async () => {
    const out = await run('trtllm');
    const kv = 0.9 * (H100 - LLAMA8B_WEIGHTS - forward8b(8192) - 1 * GiB);
    expect(out.figures['memory.kvCapacity'].value).toBeCloseTo(kv, 0);
    expect(out.figures['memory.kvCapacityTokens'].value).toBe(tokensOf(kv, 32));
  });

  it('llama.cpp allocates exactly n_ctx = batch x context cells (each slot padded to 256) and a compute buffer of 512 x (vocab + hidden) fp32', async () => {
    const out = await run('llamacpp', ['--precision', 'q8_0', '--batch', '2', '--input-tokens', '4000', '--output-tokens', '1000']);
    const nCtx = Math.ceil((2 * 5000) / 256) * 256; // 10,240
    expect(out.figures['memory.kvCapacityTokens'].value).toBe(nCtx);
    expect(out.figures['memory.kvCapacity'].value).toBe(nCtx * LLAMA8B_KV_PER_TOKEN);
    expect(out.figures['memory.engine.activations'].value).toBe(512 * (128_256 + 4_096) * 4); // 258.5 MiB
  });
});

describe('--gpu-memory-utilization (issue 12 acceptance)', () => {
  it('0.95 instead of 0.9 raises memory.kvCapacityTokens by exactly the extra budget over the KV bytes per token', async () => {
    const base = ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'vllm@0.19'];
    const at90 = await cliJson(base);
    const at95 = await cliJson([...base, '--gpu-memory-utilization', '0.95']);
    // the extra budget: 0.05 x 79.19 GiB = 4,251,675,197 B; / 131,072 B = 32,437.9 tokens
    const extra = 0.05 * H100;
    expect(at95.figures['memory.kvCapacity'].value - at90.figures['memory.kvCapacity'].value).toBeCloseTo(extra, 0);
    expect(at95.figures['memory.kvCapacityTokens'].value).toBe(tokensOf(at90.figures['memory.kvCapacity'].value + extra, 16));
    expect(Math.abs(at95.figures['memory.kvCapacityTokens'].value - at90.figures['memory.kvCapacityTokens'].value - extra / LLAMA8B_KV_PER_TOKEN)).toBeLessThan(16);
    expect(at95.figures['memory.engine.fraction'].value).toBe(0.95);
  });

  it('--mem-fraction-static is the same knob under SGLang\'s name; both at once, or on an engine without a fraction, exit 2', async () => {
    const a = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'sglang', '--mem-fraction-static', '0.8']);
    const b = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'sglang', '--gpu-memory-utilization', '0.8']);
    expect(a.figures['memory.kvCapacity'].value).toBe(b.figures['memory.kvCapacity'].value);
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--gpu-memory-utilization', '0.8', '--mem-fraction-static', '0.8'], /not both/);
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--engine', 'llamacpp', '--gpu-memory-utilization', '0.8'], /--gpu-memory-utilization: llama\.cpp has no memory fraction/);
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--gpu-memory-utilization', '1.2'], /--gpu-memory-utilization: 1\.2 is more than 100%/);
  });

  it('--max-num-seqs, --max-num-batched-tokens and --block-size change the profile the way the engine does', async () => {
    const base = ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'vllm@0.19'];
    const small = await cliJson([...base, '--max-num-seqs', '64', '--max-num-batched-tokens', '16k', '--block-size', '32']);
    expect(small.figures['memory.engine.activations'].value).toBe(Math.max(forward8b(16384), 4 * 64 * 128_256 * 4));
    expect(small.figures['memory.kvCapacityTokens'].value % 32).toBe(0);
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--engine', 'llamacpp', '--block-size', '32'], /--block-size: llama\.cpp has no KV blocks/);
  });

  it('the launch options are spec-file keys and check-file keys too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-size-engine-'));
    const spec = join(dir, 'spec.yaml');
    writeFileSync(spec, 'model: llama-3.1-8b\ngpu: h100-sxm\nengine: vllm@0.19\ngpuMemoryUtilization: 0.95\nmaxNumSeqs: 64\nenforceEager: true\nblockSize: 32\n');
    const fromFile = await cliJson(['estimate', '--spec', spec]);
    const fromFlags = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'vllm@0.19', '--gpu-memory-utilization', '0.95', '--max-num-seqs', '64', '--enforce-eager', '--block-size', '32']);
    expect(fromFile).toEqual(fromFlags);
    const check = join(dir, 'deployments.yaml');
    writeFileSync(check, 'deployments:\n  chat:\n    model: llama-3.1-8b\n    gpu: h100-sxm\n    engine: vllm@0.19\n    gpuMemoryUtilization: 0.95\n    assert: { fits: true }\n');
    const r = await cli(['check', check]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('the KV-capacity band (calibration kvCapacity, from the engine start-up logs)', () => {
  it('a pool the engine sizes from a budget carries the band; llama.cpp\'s exact n_ctx pool does not', async () => {
    const band = CALIBRATION.bands.kvCapacity!;
    expect(band.low).toBeLessThan(1);
    expect(band.high).toBeGreaterThan(1);
    const vllm = (await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'vllm@0.19'])).figures;
    for (const id of ['memory.kvCapacityTokens', 'memory.kvCapacity', 'capacity.maxConcurrency']) {
      expect(vllm[id].low, id).toBeCloseTo(vllm[id].value * band.low, 6);
      expect(vllm[id].high, id).toBeCloseTo(vllm[id].value * band.high, 6);
    }
    const llamacpp = (await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'rtx-4090', '--precision', 'q4_k_m', '--context', '8k'])).figures;
    expect(llamacpp['memory.kvCapacityTokens'].value).toBe(8192);
    expect(llamacpp['memory.kvCapacityTokens'].low).toBeUndefined();
    expect(llamacpp['memory.kvCapacity'].high).toBeUndefined();
  });
});

describe('the default engine follows the hardware and the weight format, and says why', () => {
  it.each([
    ['a GGUF format on an NVIDIA GPU', ['--model', 'llama-3.1-8b', '--gpu', 'rtx-4090', '--precision', 'q4_k_m'], 'llamacpp', /q4_k_m weights.*vLLM load no q4_k_m weights/],
    ['Apple silicon with bf16 weights (MLX, issue 19)', ['--model', 'llama-3.1-8b', '--gpu', 'm3-max'], 'mlx', /default for bf16 weights on Apple M3 Max/],
    ['Apple silicon with a GGUF format', ['--model', 'llama-3.1-8b', '--gpu', 'm3-max', '--precision', 'q4_k_m'], 'llamacpp', /q4_k_m weights on Apple M3 Max.*MLX \(mlx-lm\) loads no q4_k_m weights/],
    ['a TPU', ['--model', 'llama-3.2-3b', '--gpu', 'tpu-v5e'], 'vllm-tpu', /default for bf16 weights on Google Cloud TPU v5e/],
    ['an AMD GPU', ['--model', 'llama-3.1-8b', '--gpu', 'mi300x'], 'vllm', /default for bf16 weights on AMD Instinct MI300X/],
    ['an NVIDIA GPU with bf16 weights', ['--model', 'llama-3.1-8b', '--gpu', 'h100-sxm'], 'vllm', /default/],
  ])('%s -> %s', async (_name, args, engine, reason) => {
    const out = await cliJson(['estimate', ...args]);
    expect(out.input.engine).toBe(engine);
    expect(out.input.engineChoice.reason).toMatch(reason);
  });

  it('the newest version in the presets is the default; @ pins another, by version or by the release range it covers', async () => {
    expect((await cliJson(['estimate', '--model', 'llama-3.1-8b'])).input.engineChoice.version).toBe('0.21');
    expect((await cliJson(['estimate', '--model', 'llama-3.1-8b', '--engine', 'vllm@0.6'])).input.engineChoice.version).toBe('0.6');
    // 0.8 is V1 without CUDA-graph profiling: the 0.19 profile covers 0.8 - 0.20
    expect((await cliJson(['estimate', '--model', 'llama-3.1-8b', '--engine', 'vllm@0.8'])).input.engineChoice.version).toBe('0.19');
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--engine', 'vllm@0.2'], /no vLLM profile covers version 0\.2/);
  });

  it('an engine that cannot run the device or format is a clear error naming the engines that can', async () => {
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'mi300x', '--engine', 'trtllm'], /TensorRT-LLM does not run on AMD Instinct MI300X.*engines that run bf16 weights with a bf16 KV cache on AMD Instinct MI300X 192GB: llamacpp, sglang, vllm/);
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--precision', 'q4_k_m', '--engine', 'vllm'], /vLLM does not load q4_k_m weights/);
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--engine', 'llamacpp', '--kv-precision', 'fp8'], /llama\.cpp has no fp8 KV cache \(its cache types: fp32, bf16, fp16, q8_0, q4_0\)/);
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--engine', 'vlm'], /--engine: unknown engine "vlm"; did you mean vllm/);
  });

  it('hardware no engine profile runs gets the bare memory balance, with a warning saying so', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'gaudi2', '--format', 'json']);
    expect(JSON.parse(r.stdout).input.engine).toBe('ideal');
    expect(r.stderr).toMatch(/no engine profile runs on intel-hpu.*bare memory balance/);
  });
});

describe('llama.cpp over several GPUs splits layers by default (issue 12 acceptance)', () => {
  const args = ['estimate', '--model', 'llama-3.1-70b', '--gpu', 'rtx-4090', '--count', '2', '--precision', 'q4_k_m'];

  it('70B Q4_K_M on 2 x RTX 4090 defaults to llama.cpp with a layer split, and says so', async () => {
    const out = await cliJson(args);
    expect(out.input.engine).toBe('llamacpp');
    expect(out.input.parallel).toMatchObject({ tp: 1, pp: 2 });
    expect(out.input.engineChoice.reason).toMatch(/--split-mode layer over 2 devices/);
    const table = await cli(args);
    expect(table.stdout).toMatch(/engine llama\.cpp b10470: the default for q4_k_m weights .*--split-mode layer over 2 devices/);
  });

  it('a token runs through the two halves one after another: decode is no faster than on one device\'s bandwidth, unlike --split-mode row', async () => {
    const layer = await cliJson(args);
    const row = await cliJson([...args, '--split-mode', 'row']);
    expect(row.input.parallel).toMatchObject({ tp: 2, pp: 1 });
    // layer split reads all 39.6 GiB of weights at one device's bandwidth per token; row split reads half on each
    expect(layer.figures['latency.tpot'].value).toBeGreaterThan(1.5 * row.figures['latency.tpot'].value);
    await expectBadInput([...args, '--tp', '2'], /llama\.cpp splits layers across devices/);
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--split-mode', 'row'], /--split-mode: vLLM splits devices by tensor parallelism only/);
  });
  it('the cache is f16 unless asked (llama.cpp -ctk/-ctv default), and its launch line needs no cache-type flag', async () => {
    const out = await cliJson(args);
    expect(out.input.precision.kv).toBe('fp16');
    const plan = await cli(['plan', '--model', 'llama-3.1-70b', '--gpu', 'rtx-4090', '--precision', 'q4_k_m', '--concurrency', '1']);
    expect(plan.stdout).toMatch(/llama-server -m \S+ --parallel 1 --ctx-size \d+ --n-gpu-layers 999 --split-mode layer\n/);
    const q8 = await cli(['plan', '--model', 'llama-3.1-70b', '--gpu', 'rtx-4090', '--precision', 'q4_k_m', '--kv-precision', 'q8_0', '--concurrency', '1']);
    expect(q8.stdout).toMatch(/--cache-type-k q8_0 --cache-type-v q8_0/);
  });
});

describe('one verdict that names the binding limit and the fix (issue 12 acceptance)', () => {
  it.each([
    ['70B AWQ at 32k on 2 x RTX 4090', ['--model', 'llama-3.1-70b', '--gpu', 'rtx-4090', '--count', '2', '--precision', 'awq-int4', '--context', '32k', '--kv-precision', 'fp8'], 'kv-budget-too-small', /KV budget .* holds [\d,]+ tokens per replica; 1 x 32,768 needs 32,768/],
    ['DeepSeek-V3 FP8 on 8 x H100', ['--model', 'deepseek-v3', '--gpu', 'h100', '--count', '8'], 'weights-do-not-fit', /weights-do-not-fit.*GiB of weights per device leave vLLM 0\.21 no KV cache/],
    // (gpt-oss-20b on a T4 was the third case: vLLM does not run MXFP4 on sm_75, test/kernels.test.ts)
    ['gpt-oss-120b on an L40S', ['--model', 'gpt-oss-120b', '--gpu', 'l40s'], 'weights-do-not-fit', /weights-do-not-fit/],
  ])('%s: %s, with a fix, in the table and the JSON', async (_name, args, status, message) => {
    const out = await cliJson(['estimate', ...args]);
    expect(out.verdict.status).toBe(status);
    expect(out.fits).toBe(false);
    expect(out.verdict.fix).toBeDefined();
    expect(out.verdict.limit.needed).toBeGreaterThan(out.verdict.limit.available);
    const table = await cli(['estimate', ...args]);
    expect(table.stdout).toMatch(message);
    expect(table.stdout).toMatch(/\nFix: --/);
    expect(table.stdout).not.toMatch(/needs [\d.]+ GiB .* per device, has/);
  });

  it('the fix it names does make it fit', async () => {
    const args = ['estimate', '--model', 'llama-3.1-70b', '--gpu', 'rtx-4090', '--count', '2', '--precision', 'awq-int4', '--context', '32k', '--kv-precision', 'fp8'];
    const out = await cliJson(args);
    for (const fix of out.verdict.fixes) {
      const extra = fix.flag === '--count' ? fix.detail.split(' (')[0].split(' ') : fix.value === 'true' ? [fix.flag] : [fix.flag, String(fix.value)];
      const after = await cliJson([...args.filter((_, i) => !(fix.flag === '--context' && (args[i] === '--context' || args[i - 1] === '--context')) && !(fix.flag === '--count' && (args[i] === '--count' || args[i - 1] === '--count'))), ...extra]);
      expect(after.fits, `${fix.detail}`).toBe(true);
    }
  });

  it('a batch past the scheduler\'s default limit fits in memory but queues, and says how to raise it', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h200', '--input-tokens', '100', '--output-tokens', '28', '--batch', '2000']);
    expect(out.verdict.status).toBe('over-scheduler-limit');
    expect(out.verdict.limit).toMatchObject({ needed: 2000, available: 1024 });
    expect(out.verdict.fix.detail).toMatch(/--max-num-seqs 2000/);
    expect(out.fits).toBe(true);
  });

  it('a fitting configuration says how much of the pool the batch uses', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--batch', '8']);
    expect(r.stdout).toMatch(/FITS: vLLM 0\.21 holds [\d,]+ KV tokens per replica, [\d,]+ sequences of 1,280; the batch of 8 uses \d+%/);
  });
});

describe('replicas without a load multiply the deployment figures', () => {
  it('--replicas 2 --batch 32: the deployment serves twice one replica\'s tokens at twice its cost, each label says which', async () => {
    const one = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--batch', '32']);
    const two = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--batch', '32', '--replicas', '2']);
    expect(two.figures['deployment.outputTokensPerSecond'].value).toBeCloseTo(2 * one.figures['throughput.outputTokensPerSecond'].value, 6);
    expect(two.figures['deployment.usdPerHour'].value).toBeCloseTo(2 * one.figures['cost.usdPerHour'].value, 9);
    expect(two.figures['deployment.devices'].value).toBe(2);
    expect(two.figures['throughput.outputTokensPerSecond'].label).toMatch(/per replica/);
    expect(two.figures['deployment.outputTokensPerSecond'].label).toMatch(/whole deployment/);
    expect(one.figures['deployment.replicas']).toBeUndefined();
  });
});
