import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { paramsFigures } from '../src/estimate/params.js';
import { findEntry } from '../src/inputs/catalog.js';
import { importHfConfig } from '../src/inputs/hf/index.js';
import { OUTPUT_SCHEMA, validateJson } from '../src/inputs/output-schema.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { cliJson, expectBadInput } from './helpers.js';

const preset = (id: string) => findEntry(builtInCatalog().models, id)!;
const total = (id: string) => paramsFigures({}, preset(id).model).total;

describe('encoder parameter counts are exact', () => {
  it.each([
    // published counts and their sources are in each preset (presets/models/<id>.yaml)
    ['bert-base-uncased', 109_482_240],
    ['bge-large-en-v1.5', 335_141_888],
    ['bge-m3', 567_754_752],
    ['bge-reranker-v2-m3', 567_755_777],
    ['nomic-embed-text-v1.5', 136_731_648],
    ['modernbert-embed-base', 149_014_272],
    ['qwen3-embedding-0.6b', 595_776_512],
  ])('%s = %d, its published count', (id, count) => {
    expect(preset(id).published?.params?.value).toBe(count);
    expect(total(id)).toBe(count);
  });

  it('BERT-base by hand (transformers modeling_bert.py)', () => {
    const h = 768;
    const embeddings = 30522 * h + 512 * h + 2 * h + 2 * h; // word, position, token type, LayerNorm
    const layer = 4 * (h * h + h) + 2 * h + (h * 3072 + 3072) + (3072 * h + h) + 2 * h; // q k v o, LN, intermediate, output, LN
    const pooler = h * h + h;
    expect(embeddings + 12 * layer + pooler).toBe(109_482_240);
    expect(total('bert-base-uncased')).toBe(embeddings + 12 * layer + pooler);
  });

  it('bge-m3 by hand: XLM-RoBERTa large with 8194 positions and one token type', () => {
    const h = 1024;
    const layer = 4 * (h * h + h) + 2 * h + (h * 4096 + 4096) + (4096 * h + h) + 2 * h;
    expect(250002 * h + 8194 * h + 1 * h + 2 * h + 24 * layer + (h * h + h)).toBe(567_754_752);
  });

  it('the reranker swaps the pooler for RobertaClassificationHead (dense h x h + out_proj h x 1)', () => {
    const h = 1024;
    expect(total('bge-reranker-v2-m3') - total('bge-m3')).toBe(-(h * h + h) + (h * h + h) + (h + 1));
  });

  it('gte-base-en-v1.5 ("new") by hand from Alibaba-NLP/new-impl modeling.py', () => {
    const h = 768;
    const f = 3072;
    // qkv_proj (bias), o_proj (bias), up_gate_proj (no bias), down_proj (bias), 2 LayerNorms
    const layer = h * 3 * h + 3 * h + h * h + h + h * 2 * f + f * h + h + 2 * 2 * h;
    expect(total('gte-base-en-v1.5')).toBe(30528 * h + 2 * h + 12 * layer);
  });

  it('ModernBERT: no attention norm in layer 0, a final norm, weight-only norms', () => {
    const m = preset('modernbert-embed-base').model;
    const fig = {};
    paramsFigures(fig, m);
    // 1 embedding norm + 21 x 2 + 1 (layer 0) + 1 final = 45 vectors of 768
    expect((fig as Record<string, { value: number }>)['params.norms'].value).toBe(45 * 768);
    expect(m.slidingWindow).toEqual({ window: 128, localLayers: 14 }); // layers 0, 3, ..., 21 are global
  });
});

describe('encoders in estimate: prefill-only figures', () => {
  it('BERT-base, batch 32 x 512 on an A10G: FLOPs by hand, no KV cache, no decode, sequences per second', async () => {
    const e = await cliJson(['estimate', '--model', 'bert-base-uncased', '--gpu', 'a10g', '--batch', '32', '--input-tokens', '512']);
    const f = e.figures;
    // 2 x batch x (s x layer params (85,056,000, norms and biases included) + pooler once per sequence)
    expect(f['flops.prefillLinear'].value).toBe(2 * 32 * (512 * 85_056_000 + 590_592));
    // bidirectional: every one of 512 queries attends to 512 keys, 4 x heads x headDim FLOPs each, 12 layers
    expect(f['flops.prefillAttention'].value).toBe(32 * 4 * 12 * 64 * 12 * 512 * 512);
    expect(f['throughput.sequencesPerSecond'].value).toBeCloseTo(32 / f['latency.forward'].value, 9);
    expect(f['throughput.inputTokensPerSecond'].value).toBeCloseTo((32 * 512) / f['latency.forward'].value, 6);
    for (const id of ['memory.kvCache', 'memory.kvCachePerToken', 'latency.tpot', 'latency.ttft', 'flops.decodePerToken', 'throughput.outputTokensPerSecond']) expect(f[id], id).toBeUndefined();
    expect(e.input.model.task).toBe('embedding');
    expect(e.input.workload).toMatchObject({ outputTokens: 0, context: 512 });
    expect(e.bounds.decode).toBeUndefined();
    expect(e.warnings.join('\n')).toMatch(/no KV cache and decodes nothing/);
    expect(validateJson(OUTPUT_SCHEMA, e)).toEqual([]);
  });

  it('a decoder-trunk embedder (Qwen3-Embedding) attends causally and never applies its output head', async () => {
    const f = (await cliJson(['estimate', '--model', 'qwen3-embedding-0.6b', '--gpu', 'h100', '--batch', '1', '--input-tokens', '100'])).figures;
    // causal keys: 28 layers x 100 x 101 / 2; attention FLOPs per key 4 x 16 heads x 128
    expect(f['flops.prefillAttention'].value).toBe(4 * 16 * 128 * 28 * ((100 * 101) / 2));
    // every non-embedding parameter once per token; the tied 151669 x 1024 head never runs
    expect(f['flops.prefillLinear'].value).toBe(2 * 100 * (595_776_512 - 151_669 * 1024));
  });

  it('defaults to the batch an embedding server fills (TEI max-batch-tokens 16384 = 32 x 512)', async () => {
    const e = await cliJson(['estimate', '--model', 'bge-m3', '--gpu', 'l4']);
    expect(e.input.workload).toMatchObject({ batch: 32, inputTokens: 512 });
  });

  it('a config.json of a BERT fine-tune reads through --hf-config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-size-bert-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ ...preset('bert-base-uncased').config, architectures: ['BertForSequenceClassification'], id2label: { 0: 'NEG', 1: 'POS' } }));
    const e = await cliJson(['estimate', '--hf-config', file, '--gpu', 't4', '--batch', '8', '--input-tokens', '128']);
    // BertForSequenceClassification: the pooler stays and Linear(768, 2) is added
    expect(e.figures['params.total'].value).toBe(109_482_240 + 768 * 2 + 2);
    expect(e.input.model.task).toBe('rerank');
  });

  it.each([
    [['--model', 'bert-base-uncased', '--input-tokens', '1024'], /--input-tokens: 1024 tokens exceeds BERT-base \(uncased\)'s 512 positions/],
    [['--model', 'bge-m3', '--tp', '2'], /--tp: BGE-M3 is an embedding model served one copy per device/],
    [['--model', 'bge-m3', '--qps', '10'], /--qps: BGE-M3 is an embedding model/],
    [['--model', 'bge-m3', '--count', '2'], /--count: BGE-M3 is served one copy per device/],
  ])('bad input %j is exit 2', async (flags, message) => {
    await expectBadInput(['estimate', '--gpu', 'l4', ...flags], message);
  });

  it.each([
    [{ model_type: 'bert', hidden_size: 768, num_attention_heads: 12, num_hidden_layers: 12, intermediate_size: 3072, vocab_size: 30522, position_embedding_type: 'relative_key' }, /position_embedding_type "relative_key" is not supported/],
    [{ model_type: 'nomic_bert', n_embd: 768, n_head: 12, n_layer: 12, vocab_size: 30528, num_experts: 8 }, /num_experts .* is not supported/],
    [{ model_type: 'bert', architectures: ['BertForQuestionAnswering'], hidden_size: 768, num_attention_heads: 12, num_hidden_layers: 12, intermediate_size: 3072, vocab_size: 30522 }, /BertForQuestionAnswering" is not supported for an encoder/],
  ])('a config it would misread is refused: %j', (config, message) => {
    expect(() => importHfConfig(config, 'config.json')).toThrow(message);
  });
});
