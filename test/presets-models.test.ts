import { describe, expect, it } from 'vitest';
import { paramsFigures } from '../src/estimate/params.js';
import type { Figures } from '../src/estimate/terms.js';
import { checkpointBytes, checkpointFormats } from '../src/estimate/weights.js';
import { formatByName } from '../src/inputs/precision.js';
import { builtInCatalog } from '../src/inputs/presets.js';

/**
 * Golden tests over every built-in model preset: the parameter count computed from the preset's
 * config.json equals the published exact count (presets/models/*.yaml `published.params`, each
 * with its source), and the checkpoint's tensor bytes (stored dtype and quantization_config)
 * match the published model.safetensors.index.json total_size within 0.1%.
 */
const models = builtInCatalog().models;

describe('model presets', () => {
  it('cover at least 30 models and every family the importer reads', () => {
    expect(models.length).toBeGreaterThanOrEqual(30);
    const families = new Set(models.map((p) => p.model.family));
    for (const f of ['llama', 'mistral', 'mixtral', 'qwen2', 'qwen3', 'qwen3_moe', 'deepseek_v2', 'deepseek_v3', 'gemma2', 'gemma3_text', 'gemma3n', 'phi', 'phi3', 'gpt_oss', 'falcon', 'gpt2', 'opt', 'mpt', 'qwen3_next', 'deepseek_v32', 'kimi_k2', 'glm4_moe', 'minimax_m2', 'minimax_m1', 'jamba', 'nemotron_h', 'granitemoehybrid', 'falcon_h1', 'mamba2', 'llama4', 'ernie4_5_moe', 'olmo2', 'smollm3', 'qwen2_5_vl']) {
      expect(families, f).toContain(f);
    }
  });

  it('import without warnings', () => {
    for (const p of models) expect(p.warnings, p.id).toEqual([]);
  });

  const withParams = models.filter((p) => p.published?.params);
  it.each(withParams.map((p) => [p.id, p] as const))('%s: params.total equals the published exact count', (_id, p) => {
    const fig: Figures = {};
    expect(paramsFigures(fig, p.model).total).toBe(p.published!.params!.value);
  });

  const withBytes = models.filter((p) => typeof p.published?.checkpointBytes?.value === 'number');
  it.each(withBytes.map((p) => [p.id, p] as const))('%s: checkpoint bytes within 0.1%% of the published total_size', (_id, p) => {
    const { weights, unquantized } = checkpointFormats(p.model, formatByName);
    let bytes = checkpointBytes(p.model, weights, unquantized);
    // Falcon ties lm_head to the embedding (FalconConfig tie_word_embeddings defaults to true),
    // but the legacy pytorch_model.bin index counts lm_head.weight as its own tensor
    // (presets/models/falcon-40b.yaml published.checkpointBytes note): add that copy.
    if (p.model.family === 'falcon' && p.model.tiedEmbeddings) bytes += p.model.vocab * p.model.hidden * 2;
    const published = p.published!.checkpointBytes!.value as number;
    expect(Math.abs(bytes / published - 1)).toBeLessThan(0.001);
  });

  // Counts by hand from the published shapes (GPT-2 layout for GPT-3: Brown et al. 2020 sec. 2.1
  // and Table 2.1; MPT: llm-foundry modeling_mpt.py, no biases, ALiBi so no position table,
  // tied head). MPT-7B's also equals its bf16 checkpoint / 2 (presets/models/mpt-7b.yaml).
  it.each([
    // wte + wpe + 96 x (ln 2h + qkv 3h^2 + 3h + proj h^2 + h + ln 2h + fc 4h^2 + 4h + proj 4h^2 + h) + ln_f 2h
    ['gpt-3-175b', 50257 * 12288 + 2048 * 12288 + 96 * (12 * 12288 ** 2 + 13 * 12288) + 2 * 12288, 174_604_259_328],
    // wte + 32 x (Wqkv 3h^2 + out h^2 + up and down 2 x 4h^2 + 2 norm weights) + final norm weight
    ['mpt-7b', 50432 * 4096 + 32 * (12 * 4096 ** 2 + 2 * 4096) + 4096, 6_649_286_656],
    ['mpt-30b', 50432 * 7168 + 48 * (12 * 7168 ** 2 + 2 * 7168) + 7168, 29_957_200_896],
  ])('%s: params.total is the count by hand', (id, byHand, literal) => {
    expect(byHand).toBe(literal);
    const p = models.find((x) => x.id === id)!;
    expect(paramsFigures({}, p.model).total).toBe(literal);
  });

  it('at least ten presets carry a published checkpoint size', () => {
    expect(withBytes.length).toBeGreaterThanOrEqual(10);
  });
});
