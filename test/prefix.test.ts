import { describe, expect, it } from 'vitest';
import { cliJson, expectBadInput } from './helpers.js';

/**
 * Prefix caching (src/estimate/prefix.ts, docs/levers.md). Expected values from the cited
 * rules: prefill computes positions cached+1..prompt, each attending every key before it;
 * engines cache whole blocks and recompute the last prompt token; a shared prefix's KV is
 * stored once per replica.
 */
const fig = (d: any, id: string): number => {
  if (!d.figures[id]) throw new Error(`no figure ${id}`);
  return d.figures[id].value;
};
// Llama-3.1-8B: 32 layers, 32 heads x 128, 8 KV heads, vocab 128,256, hidden 4,096
const KV_PER_TOKEN = 32 * 2 * 8 * 128 * 2; // 131,072 B in bf16
const ATTN_PER_KEY = 4 * 32 * 128; // QK^T and PV, 2 FLOPs per multiply-add, per layer
const rag = ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'ideal', '--input-tokens', '32000', '--output-tokens', '256'];

describe('prefill on the uncached tokens', () => {
  it('a 30,000-token shared prefix leaves 2,000 prompt tokens to prefill, attending all 32,000 keys', async () => {
    const plain = await cliJson(rag);
    const d = await cliJson([...rag, '--prefix-tokens', '30000']);
    expect(fig(d, 'prefix.cachedTokens')).toBe(30000);
    expect(fig(d, 'prefix.uncachedTokens')).toBe(2000);
    // linear layers: 2 x (tokens x (matmulParams - lmHead) + lmHead), lmHead on the last token only
    const lmHead = 128256 * 4096;
    const perTokenBody = (fig(plain, 'flops.prefillLinear') / 2 - lmHead) / 32000;
    expect(fig(d, 'flops.prefillLinear')).toBeCloseTo(2 * (2000 * perTokenBody + lmHead), -3);
    // causal attention: sum of p for p = 30,001..32,000 = 62,001,000 keys per layer
    expect(fig(d, 'flops.prefillAttention')).toBe(ATTN_PER_KEY * 32 * 62_001_000);
    expect(fig(d, 'latency.ttft')).toBeLessThan(fig(plain, 'latency.ttft') / 5);
    // the same prefill with nothing cached is the plain estimate's
    expect(fig(d, 'prefix.ttftWithoutCache')).toBeCloseTo(fig(plain, 'latency.ttft'), 12);
  });

  it('a hit rate alone caches that share of the prompt in whole 16-token vLLM blocks', async () => {
    const d = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'vllm', '--input-tokens', '1000', '--cache-hit-rate', '0.5']);
    expect(fig(d, 'prefix.cachedTokens')).toBe(Math.floor(500 / 16) * 16); // 496
    expect(fig(d, 'prefix.hitShare')).toBeCloseTo(496 / 1000, 12);
  });

  it('a full hit still computes the last prompt token (its logits start the generation)', async () => {
    const d = await cliJson([...rag, '--prefix-tokens', '32000']);
    expect(fig(d, 'prefix.cachedTokens')).toBe(31999);
    expect(fig(d, 'prefix.uncachedTokens')).toBe(1);
  });
});

describe('shared prefix memory', () => {
  it('stores the shared prefix once per replica and the rest per sequence', async () => {
    const d = await cliJson([...rag, '--prefix-tokens', '30000', '--batch', '8']);
    expect(fig(d, 'prefix.sharedKv')).toBe(30000 * KV_PER_TOKEN);
    expect(fig(d, 'memory.kvCachePerSequence')).toBe((32256 - 30000) * KV_PER_TOKEN);
    expect(fig(d, 'memory.kvCache')).toBe(8 * (32256 - 30000) * KV_PER_TOKEN + 30000 * KV_PER_TOKEN);
  });

  it('holds more sequences: the budget less the shared prefix, over the per-sequence rest', async () => {
    const plain = await cliJson(rag);
    const d = await cliJson([...rag, '--prefix-tokens', '30000']);
    expect(fig(plain, 'capacity.maxConcurrency')).toBe(Math.floor(fig(plain, 'memory.kvCapacity') / (32256 * KV_PER_TOKEN)));
    // the shared prefix is a fixed part of the budget: memory.kvCapacity is what is left for the sequences
    const b = d.figures['memory.kvCapacity'].inputs;
    expect(fig(d, 'memory.kvCapacity')).toBeCloseTo(b.capacity - (fig(d, 'memory.perDevice.weights') + 30000 * KV_PER_TOKEN) - b.activations - b.startup, 0);
    expect(fig(d, 'capacity.maxConcurrency')).toBe(Math.floor(fig(d, 'memory.kvCapacity') / ((32256 - 30000) * KV_PER_TOKEN)));
    expect(fig(d, 'capacity.maxConcurrency')).toBeGreaterThan(10 * fig(plain, 'capacity.maxConcurrency'));
  });

  it('a hit rate without a shared prefix saves prefill but no memory (each request\'s own cache)', async () => {
    const plain = await cliJson(rag);
    const d = await cliJson([...rag, '--cache-hit-rate', '0.9']);
    expect(fig(d, 'memory.kvCache')).toBe(fig(plain, 'memory.kvCache'));
    expect(d.figures['prefix.sharedKv']).toBeUndefined();
  });
});

describe('prefix flags', () => {
  it.each([
    [['--prefix-tokens', '40000'], /longer than the prompt/],
    [['--cache-hit-rate', '1.5'], /more than 100%/],
    [['--cache-hit-rate', 'x'], /expected a share/],
  ])('%j is exit 2', async (flags, message) => {
    await expectBadInput([...rag, ...flags], message);
  });
});
