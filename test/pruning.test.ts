import { describe, expect, it } from 'vitest';
import { paramsFigures } from '../src/estimate/params.js';
import { pruneModel, sparse24 } from '../src/estimate/pruning.js';
import { findEntry } from '../src/inputs/catalog.js';
import { bytesPerElement, FORMATS } from '../src/inputs/precision.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { cli, cliJson, expectBadInput } from './helpers.js';

const llama8b = findEntry(builtInCatalog().models, 'llama-3.1-8b')!.model;
// Llama-3.1-8B: 32 layers of 218,103,808 linear weights (q, k, v, o, gate, up, down) and 8,192
// norm weights; embedding and output head 128256 x 4096 each; final norm 4096.
const LINEAR = 32 * 218_103_808;
const DENSE_REST = 2 * 128_256 * 4096 + 65 * 4096;

describe('2:4 sparsity: compressed weights with metadata, the datasheet sparse peak', () => {
  it('stores 16-bit weights in 9 bits (half the values + 1 metadata bit) and 8-bit ones in 5', () => {
    expect(bytesPerElement(sparse24(FORMATS.bf16))).toBe(1.125); // 56.25% of 2 bytes
    expect(bytesPerElement(sparse24(FORMATS.fp8))).toBe(0.625); // 62.5% of 1 byte
  });

  it('A100: linear weights 2:4 compressed, embeddings/head/norms dense; the bf16 sparse peak 624 TFLOP/s (A100 datasheet "BF16 312 | 624*")', async () => {
    const e = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'a100-80gb', '--sparsity', '2:4', '--engine', 'trtllm']);
    const f = e.figures;
    expect(f['sparsity.weightBytes'].value).toBe((LINEAR * 9) / 8);
    expect(f['sparsity.metadataBytes'].value).toBe(LINEAR / 8);
    expect(f['memory.weights'].value).toBe((LINEAR * 9) / 8 + DENSE_REST * 2);
    expect(f['baseline.memory.weights'].value).toBe((LINEAR + DENSE_REST) * 2);
    expect(f['sparsity.peakFlopsPerSecond'].value).toBe(624e12);
    // TensorRT-LLM runs 2:4 kernels: linear layers at 624, attention at 312 -> faster prefill
    expect(f['sparsity.effectivePeakFlopsPerSecond'].value).toBeGreaterThan(312e12);
    expect(f['sparsity.effectivePeakFlopsPerSecond'].value).toBeLessThan(624e12);
    expect(f['latency.ttft'].value).toBeLessThan(f['baseline.latency.ttft'].value);
    expect(e.input.precision.weights).toBe('bf16+2:4');
    expect(e.warnings.join('\n')).toMatch(/accuracy is out of scope/);
  });

  it('RTX 4090: fp8 weights at 5 bits, the fp8 sparse peak 660.6 TFLOP/s (Ada whitepaper "FP8 330.3 | 660.6*")', async () => {
    const f = (await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'rtx-4090', '--precision', 'fp8', '--sparsity', '2:4', '--engine', 'trtllm'])).figures;
    expect(f['sparsity.weightBytes'].value).toBe((LINEAR * 5) / 8);
    expect(f['sparsity.peakFlopsPerSecond'].value).toBe(660.6e12);
    expect(f['latency.ttft'].value).toBeLessThan(f['baseline.latency.ttft'].value);
  });

  it('vLLM has no 16-bit 2:4 kernels: a warning, the dense peak, but the smaller weights still read faster', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'rtx-4090', '--sparsity', '2:4', '--format', 'json']);
    expect(r.stderr).toMatch(/--sparsity 2:4: vLLM 0.21 runs 2:4 sparse weights only as GPTQ weight-only .* removed in v0.19.1 .* no speed-up/);
    const f = JSON.parse(r.stdout).figures;
    expect(f['sparsity.peakFlopsPerSecond'].value).toBe(330.4e12);
    expect(f['sparsity.effectivePeakFlopsPerSecond']).toBeUndefined();
    expect(f['latency.tpot'].value).toBeLessThan(f['baseline.latency.tpot'].value);
  });
});

describe('2:4 sparsity follows the engine version', () => {
  it('fp8 2:4 on an H100 runs at the sparse peak under vLLM 0.19 (CUTLASS Sparse24) and densely under 0.21 (removed in v0.19.1)', async () => {
    const args = ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--precision', 'fp8', '--sparsity', '2:4', '--format', 'json'];
    const old = await cli([...args, '--engine', 'vllm@0.19']);
    expect(old.stderr).not.toMatch(/no speed-up/);
    expect(JSON.parse(old.stdout).figures['sparsity.effectivePeakFlopsPerSecond']).toBeDefined();
    const now = await cli([...args, '--engine', 'vllm@0.21']);
    expect(now.stderr).toMatch(/vLLM 0.21 runs 2:4 sparse weights only as GPTQ .* --engine vllm@0.19 pins/);
    expect(JSON.parse(now.stdout).figures['sparsity.effectivePeakFlopsPerSecond']).toBeUndefined();
  });
});

describe('structured pruning: a derived model, every figure follows', () => {
  it('--prune layers=8 on Llama-3.1-8B: 8,030,261,248 - 8 x 218,112,000 = 6,285,365,248 parameters (by hand)', async () => {
    const m = pruneModel(llama8b, { layers: 8, ffn: 0, heads: 0 });
    expect(m.layers).toBe(24);
    expect(paramsFigures({}, m).total).toBe(8_030_261_248 - 8 * 218_112_000);
    const e = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--prune', 'layers=8']);
    expect(e.figures['params.total'].value).toBe(6_285_365_248);
    expect(e.figures['baseline.params.total'].value).toBe(8_030_261_248);
    // KV per token: 24 layers x 2 x 8 KV heads x 128 x 2 bytes
    expect(e.figures['memory.kvCachePerToken'].value).toBe(24 * 2 * 8 * 128 * 2);
    expect(e.figures['latency.tpot'].value).toBeLessThan(e.figures['baseline.latency.tpot'].value);
  });

  it('ffn=0.25 and heads=0.25: MLP 14336 -> 10752, query heads 32 -> 24 (a multiple of the 8 KV heads), by hand', () => {
    const m = pruneModel(llama8b, { layers: 0, ffn: 0.25, heads: 0.25 });
    expect(m.ffn).toBe(10_752);
    expect(m.heads).toBe(24);
    const h = 4096;
    const attention = h * 24 * 128 + 2 * h * 8 * 128 + 24 * 128 * h;
    const mlp = 3 * h * 10_752;
    expect(paramsFigures({}, m).total).toBe(32 * (attention + mlp) + DENSE_REST); // DENSE_REST holds the 65 norms
  });

  it.each([
    [['--sparsity', '3:4'], /--sparsity: unknown value "3:4"/],
    [['--prune', 'layers=32'], /layers=32 leaves no layer/],
    [['--prune', 'depth=2'], /--prune: invalid part "depth=2"/],
    [['--prune', 'ffn=1.5'], /--prune: ffn=1.5; expected a share removed from 0 to below 1/],
    [['--prune', 'layers=0'], /removes nothing/],
    [['--sparsity', '2:4', '--precision', 'q4_k_m'], /GGUF files have no 2:4 sparse layout/],
  ])('bad input %j is exit 2', async (flags, message) => {
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'a100-80gb', ...flags], message);
  });
});
