import { describe, expect, it } from 'vitest';
import { paramsFigures } from '../src/estimate/params.js';
import type { Figures } from '../src/estimate/terms.js';
import { checkpointBytes, checkpointFormats } from '../src/estimate/weights.js';
import { formatByName } from '../src/spec/precision.js';
import { builtInCatalog } from '../src/spec/presets.js';

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
    for (const f of ['llama', 'mistral', 'mixtral', 'qwen2', 'qwen3', 'qwen3_moe', 'deepseek_v2', 'deepseek_v3', 'gemma2', 'gemma3_text', 'phi3', 'gpt_oss', 'falcon', 'gpt2', 'opt']) {
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

  it('at least ten presets carry a published checkpoint size', () => {
    expect(withBytes.length).toBeGreaterThanOrEqual(10);
  });
});
