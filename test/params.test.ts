import { describe, expect, it } from 'vitest';
import { paramsFigures } from '../src/estimate/params.js';
import type { Figures } from '../src/estimate/terms.js';
import { importHfConfig } from '../src/inputs/hf/index.js';
import { assumeShape, makeModel } from '../src/inputs/model.js';

const total = (config: Record<string, unknown>) => {
  const fig: Figures = {};
  return paramsFigures(fig, importHfConfig(config, 'config.json').model).total;
};

// Configs as published in each model's config.json (copied in ../shared/reference/models.yaml);
// expected counts are the published exact parameter counts cited there.
describe('parameters from the architecture match published exact counts', () => {
  it.each([
    // Llama-3.1-8B: 8,030,261,248 (Meta model card "8.03B"; keras-hub llama3_8b_en metadata.params)
    ['Llama-3.1-8B', { model_type: 'llama', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, tie_word_embeddings: false }, 8_030_261_248],
    // Llama-3.1-70B: 70,553,706,496 (HF safetensors total, models.yaml)
    ['Llama-3.1-70B', { model_type: 'llama', hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80, num_attention_heads: 64, num_key_value_heads: 8, vocab_size: 128256, tie_word_embeddings: false }, 70_553_706_496],
    // Mistral-7B-v0.1: 7,241,732,096 (models.yaml published_exact)
    ['Mistral-7B-v0.1', { model_type: 'mistral', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 32000, tie_word_embeddings: false, sliding_window: 4096 }, 7_241_732_096],
    // Qwen2.5-7B: 7,615,616,512 with q/k/v biases (keras-hub qwen2.5 metadata.params)
    ['Qwen2.5-7B', { model_type: 'qwen2', hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28, num_key_value_heads: 4, vocab_size: 152064, tie_word_embeddings: false, use_sliding_window: false, sliding_window: 131072 }, 7_615_616_512],
  ])('%s has %d parameters', (_name, config, expected) => {
    expect(total(config)).toBe(expected);
  });

  it('the breakdown sums to the total', () => {
    const fig: Figures = {};
    paramsFigures(fig, makeModel({ layers: 2, hidden: 8, heads: 2, ffn: 16, vocab: 10 }));
    const parts = fig['params.total'].parts!.map((id) => fig[id].value);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(fig['params.total'].value);
    // by hand: embedding 80, attention 2 x 4 x 64 = 512, mlp 2 x 3 x 128 = 768, norms 5 x 8 = 40, head 80
    expect(fig['params.total'].value).toBe(80 + 512 + 768 + 40 + 80);
  });
});

describe('--params keeps the count exact and assumes a shape for the rest', () => {
  it('7e9 stays 7,000,000,000 and the assumed shape is Llama-like', () => {
    const m = assumeShape(7e9);
    const fig: Figures = {};
    expect(paramsFigures(fig, m).total).toBe(7_000_000_000);
    expect(m.shapeAssumed).toBe(true);
    expect(m.hidden).toBe(4096);
    // the shape's own count is within 15% of the given one, so KV figures are plausible
    const shapeFig: Figures = {};
    const shapeCount = paramsFigures(shapeFig, { ...m, paramsOverride: undefined }).total;
    expect(Math.abs(shapeCount / 7e9 - 1)).toBeLessThan(0.15);
  });
});
