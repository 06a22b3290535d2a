import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cliJson, expectBadInput } from './helpers.js';

// gpt-oss-20b (config.json): 24 layers, hidden 2880, 64 heads and 8 KV heads of 64, 32 experts of
// width 2880, vocab 201,088, untied embeddings; sliding window 128 on every other layer.
const H = 2880;
const LAYERS = 24;
const VOCAB = 201_088;
// GGUF blocks (ggml/src/ggml-common.h): block_mxfp4 = 1 e8m0 byte + 16 nibble bytes per 32 weights;
// block_q8_0 = fp16 scale + 32 int8 = 34 bytes per 32; F32 4 bytes.
const MXFP4 = 17 / 32;
const Q8_0 = 34 / 32;

describe('llama.cpp b10470 runs gpt-oss as the MXFP4 GGUF where nothing runs the checkpoint', () => {
  it('gpt-oss-20b on a T4 defaults to llama.cpp b10470 with the weights of ggml-org/gpt-oss-20b-GGUF, sized by hand', async () => {
    const out = await cliJson(['estimate', '--model', 'gpt-oss-20b', '--gpu', 't4']);
    expect(out.input.engine).toBe('llamacpp');
    expect(out.input.engineChoice.version).toBe('b10470');
    expect(out.input.precision.weights).toBe('mxfp4_moe');
    expect(out.warnings.join('\n')).toMatch(/no engine profile runs gpt-oss-20b's mxfp4 checkpoint on NVIDIA T4 16GB; llama\.cpp b10470 runs the GGUF it converts to, mxfp4_moe.*--precision mxfp4 sizes the checkpoint/);
    // MXFP4_MOE (src/llama-quant.cpp): the 72 expert tensors (gate, up, down x 24 layers) MXFP4 ...
    const experts = LAYERS * 3 * 32 * H * H * MXFP4; // 10,152,345,600
    // ... the 98 other matrices Q8_0: token_embd and output (201,088 x 2880 each) and q, k, v, o per layer
    const attention = H * (64 * 64) + 2 * H * (8 * 64) + 64 * 64 * H; // 26,542,080 per layer
    const q8 = (2 * VOCAB * H + LAYERS * attention) * Q8_0; // 1,907,481,600
    // ... and the 289 F32 tensors: 2 norms per layer + output norm, sinks (64), router (2880 x 32)
    // and its bias (32), q/k/v/o biases (4096 + 512 + 512 + 2880), expert biases (32 x (2 x 2880 + 2880))
    const f32 = (LAYERS * (2 * H + 64 + H * 32 + 32 + 8000 + 32 * 3 * H) + H) * 4; // 36,731,136
    expect(out.figures['memory.weights.mxfp4'].value).toBe(experts);
    expect(out.figures['memory.weights.q8_0'].value).toBe(q8);
    expect(out.figures['memory.weights.f32'].value).toBe(f32);
    // 12,096,558,336 B = 11.27 GiB: llama.cpp logs "file size = 11.27 GiB (4.63 BPW)" for gpt-oss-20b-mxfp4.gguf
    expect(out.figures['memory.weights'].value).toBe(12_096_558_336);
    expect((out.figures['memory.weights'].value / 2 ** 30).toFixed(2)).toBe('11.27');
    expect(out.verdict.status).toBe('fits');
  });

  it('--precision mxfp4 keeps the checkpoint (bf16 outside the experts, 13.76 GB) and names the GGUF that would run', async () => {
    const out = await cliJson(['estimate', '--model', 'gpt-oss-20b', '--gpu', 't4', '--precision', 'mxfp4']);
    expect(out.input.engine).toBe('ideal');
    expect(out.figures['memory.weights'].value).toBeGreaterThan(13.7e9);
    expect(out.warnings.join('\n')).toMatch(/--precision mxfp4_moe/);
  });

  it('the b6000 pin refuses mxfp4_moe, naming the build that added it', async () => {
    await expectBadInput(['estimate', '--model', 'gpt-oss-20b', '--gpu', 't4', '--precision', 'mxfp4_moe', '--engine', 'llamacpp@b6000'],
      /--engine llamacpp@b6000: llama\.cpp does not load mxfp4_moe weights .*; llama\.cpp runs mxfp4_moe weights .* from b6096 on \(--engine llamacpp@b10470\)/);
    // a pin inside the new profile's range takes it
    const pinned = await cliJson(['estimate', '--model', 'gpt-oss-20b', '--gpu', 't4', '--precision', 'mxfp4_moe', '--engine', 'llamacpp@b7000']);
    expect(pinned.input.engineChoice.version).toBe('b10470');
  });

  it('--engine llama.cpp on gpt-oss loads its GGUF; --precision mxfp4 with llama.cpp, or the b6000 pin, says which precision or build does', async () => {
    const out = await cliJson(['estimate', '--model', 'gpt-oss-20b', '--gpu', 't4', '--engine', 'llama.cpp']);
    expect(out.input.precision.weights).toBe('mxfp4_moe');
    expect(out.figures['memory.weights'].value).toBe(12_096_558_336);
    expect(out.warnings.join('\n')).toMatch(/llama\.cpp b10470 loads gpt-oss-20b as the GGUF its mxfp4 checkpoint converts to, mxfp4_moe/);
    await expectBadInput(['estimate', '--model', 'gpt-oss-20b', '--gpu', 't4', '--engine', 'llamacpp', '--precision', 'mxfp4'], /llama\.cpp does not load mxfp4 weights .*; it loads the GGUF this checkpoint converts to: --precision mxfp4_moe/);
    await expectBadInput(['estimate', '--model', 'gpt-oss-20b', '--gpu', 't4', '--engine', 'llamacpp@b6000'], /llama\.cpp loads the GGUF this checkpoint converts to, mxfp4_moe, from b6096 on \(--engine llamacpp@b10470\)/);
  });

  it('sliding-window layers cache their window plus n_ubatch, padded to 256 (llama_kv_cache_iswa size_swa)', async () => {
    const out = await cliJson(['estimate', '--model', 'gpt-oss-20b', '--gpu', 'h100-sxm', '--precision', 'mxfp4_moe', '--engine', 'llamacpp', '--context', '131072', '--input-tokens', '1024', '--output-tokens', '1024']);
    const perLayerToken = 2 * 8 * 64 * 2; // K and V, 8 KV heads of 64, f16: 2048 B
    // 12 full layers x 131,072 cells (3072 MiB, "KV buffer size = 3072.00 MiB" in llama.cpp logs)
    // + 12 window layers x GGML_PAD(128 + 512, 256) = 768 cells (18 MiB)
    expect(out.figures['memory.kvCapacity'].value).toBe(12 * 131_072 * perLayerToken + 12 * 768 * perLayerToken);
    expect(out.figures['memory.kvCapacityTokens'].value).toBe(131_072);
  });

  it('each --parallel slot is padded to 256 cells (b10470) or 32 (b6000 without -fa)', async () => {
    const base = ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--precision', 'q8_0', '--batch', '3', '--input-tokens', '1000', '--output-tokens', '100'];
    // n_ctx_seq = GGML_PAD(1100, 256) = 1280 per slot: 3,840, not GGML_PAD(3,300, 256) = 3,328
    expect((await cliJson([...base, '--engine', 'llamacpp'])).figures['memory.kvCapacityTokens'].value).toBe(3 * 1280);
    // b6000 create_memory: GGML_PAD(ceil(3300 / 3), 32) = 1120 per stream
    expect((await cliJson([...base, '--engine', 'llamacpp@b6000'])).figures['memory.kvCapacityTokens'].value).toBe(3 * 1120);
  });

  it('llama-server runs 4 slots by default (tools/server/server.cpp: n_parallel auto = 4); a fifth sequence queues', async () => {
    const base = ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'rtx-4090', '--precision', 'q4_k_m', '--engine', 'llamacpp'];
    expect((await cliJson([...base, '--batch', '4'])).verdict.status).toBe('fits');
    const five = await cliJson([...base, '--batch', '5']);
    expect(five.verdict.status).toBe('over-scheduler-limit');
    expect(five.verdict.limit.available).toBe(4);
  });
});

describe('MLX keeps sliding-window layers at the window (mlx_lm RotatingKVCache(max_size = sliding_window))', () => {
  it('gemma-3-27b at 8,192 tokens on an M3 Max: MLX allocates exactly the model\'s KV, window layers capped, not 8,192 cells in every layer', async () => {
    const out = await cliJson(['estimate', '--model', 'gemma-3-27b', '--gpu', 'm3-max', '--context', '8192']);
    expect(out.input.engine).toBe('mlx');
    expect(out.figures['memory.kvCapacity'].value).toBe(out.figures['memory.kvCache'].value);
    expect(out.figures['memory.kvCapacity'].value).toBeLessThan(0.5 * 8192 * out.figures['memory.kvCachePerToken'].value);
  });
});

describe('accuracy cases measured on old llama.cpp builds stay on the profile of their time', () => {
  const dir = fileURLToPath(new URL('../validation/cases', import.meta.url));
  const cases = readdirSync(dir).filter((f) => f.endsWith('.yaml')).flatMap((f) => (parse(readFileSync(join(dir, f), 'utf8')).cases ?? []) as { id: string; engine?: string }[]);
  const lcpp = cases.filter((c) => c.engine?.startsWith('llamacpp'));
  it('every llama.cpp case pins a profile (runs before b6096 llamacpp@b6000, later ones their build\'s): a newer default never re-times them', () => {
    expect(lcpp.length).toBeGreaterThan(20);
    for (const c of lcpp) expect(`${c.id}: ${c.engine}`).toMatch(/: llamacpp@b\d+$/);
    // only runs that need a newer build leave b6000: the MXFP4 GGUF type and --n-cpu-moe (validation/cases/levers.yaml),
    // and the 2025-2026 llama-bench rows of llama.cpp pull requests (validation/cases/llama-cpp-cuda-2025.yaml)
    const recent = ((parse(readFileSync(join(dir, 'llama-cpp-cuda-2025.yaml'), 'utf8')).cases ?? []) as { id: string; engine?: string }[]);
    expect(recent.length).toBe(6);
    for (const c of recent) expect(`${c.id}: ${c.engine}`).toBe(`${c.id}: llamacpp@b10470`);
    expect(lcpp.filter((c) => c.engine !== 'llamacpp@b6000').map((c) => c.id).sort()).toEqual(['hwcorner-gptoss120b-rtx3090-ncpumoe27-tg', 'schedcp-gptoss120b-rtx5090-ncmoe36-tg128', ...recent.map((c) => c.id)].sort());
  });
});

describe('plan searches the checkpoint\'s own format and its GGUF', () => {
  it('gpt-oss-20b on T4s: one T4 under llama.cpp with the MXFP4 GGUF is half the price of two under vLLM fp8', async () => {
    const doc = await cliJson(['plan', '--model', 'gpt-oss-20b', '--hardware', 't4', '--qps', '1']);
    expect(doc.rows[0]).toMatchObject({ hardware: 't4', weights: 'mxfp4_moe', devices: 1 });
    expect(doc.top.launch[0].engine).toMatch(/^llamacpp@/);
    // the same search without the checkpoint's formats needs two devices (vLLM runs fp8 on sm_75 as FP8 Marlin)
    const common = await cliJson(['plan', '--model', 'gpt-oss-20b', '--hardware', 't4', '--qps', '1', '--precision', 'bf16,fp8,int4']);
    expect(common.rows[0].devices).toBe(2);
    expect(doc.rows[0].usdPerHour * 2).toBeCloseTo(common.rows[0].usdPerHour, 6);
  });
});

describe('llama.cpp CUDA FlashAttention streams the K/V cache once per 64-row query tile (ggml-cuda fattn.cu)', () => {
  const args = ['estimate', '--model', 'llama-3.1-8b', '--precision', 'q4_0', '--kv-precision', 'fp16', '--input-tokens', '8096', '--output-tokens', '1', '--mfu', '0.5', '--mbu', '0.8'];
  it('Llama 3.1 8B, 8,096-token prompt on an RTX 6000 Ada: the stream outlasts the attention FLOPs by 277 ms', async () => {
    const out = await cliJson([...args, '--gpu', 'rtx-6000-ada', '--engine', 'llamacpp@b10470']);
    // hand count: 32 heads x 32 layers x 8096 x 8097 / 2 keys = 3.35633e10 score elements; per element
    // K and V (2 x 128 x 2 B) over 64 rows + the f16 mask over the 4 GQA heads of a tile = 8.5 B;
    // stream 2.85288e11 B / (960 GB/s x 0.8) = 371.5 ms; attention FLOPs 3.35633e10 x 4 x 128 at
    // 364.2 TFLOP/s x 0.5 = 94.4 ms; excess 277.1 ms
    const scores = 32 * 32 * (8096 * 8097) / 2;
    const expected = (scores * 8.5) / (960e9 * 0.8) - (scores * 512) / (364.2e12 * 0.5);
    expect(out.figures['latency.prefillAttentionScores'].value).toBeCloseTo(expected, 6);
    expect(expected).toBeCloseTo(0.2771, 3);
    expect(out.figures['latency.decodeAttentionScores'].value).toBe(0);
  });
  it('not where the engine reads the cache once (vLLM) or off NVIDIA (Apple Metal runs other kernels)', async () => {
    const vllm = await cliJson([...args.map((a) => (a === 'q4_0' ? 'bf16' : a)), '--gpu', 'rtx-6000-ada', '--engine', 'vllm']);
    expect(vllm.figures['latency.prefillAttentionScores'].value).toBe(0);
    const metal = await cliJson([...args, '--gpu', 'm3-max', '--engine', 'llamacpp@b10470']);
    expect(metal.figures['latency.prefillAttentionScores'].value).toBe(0);
  });
});
