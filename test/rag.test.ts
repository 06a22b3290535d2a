import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkCount } from '../src/estimate/rag.js';
import { indexFigures, type IndexSpec } from '../src/estimate/vector-index.js';
import { findEntry } from '../src/inputs/catalog.js';
import { OUTPUT_SCHEMA, validateJson } from '../src/inputs/output-schema.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { rag } from '../src/index.js';
import { cliJson, expectBadInput } from './helpers.js';

const l4 = findEntry(builtInCatalog().hardware, 'l4')!;
const spec = (over: Partial<IndexSpec>): IndexSpec => ({
  kind: 'flat', vectors: 1_000_000, dimension: 1024, precision: 'fp32',
  hnsw: { m: 32, efConstruction: 40, efSearch: 16, library: 'faiss' },
  ivf: { nlist: 4096, nprobe: 16 },
  pq: { m: 64, bits: 8 },
  diskann: { r: 64, searchList: 100, pqBytes: 64 },
  ...over,
});
const memory = (s: IndexSpec): number => {
  const fig = {};
  return indexFigures(fig, s, l4).memoryBytes;
};

describe('index memory, by hand from the libraries\' documented layouts', () => {
  it('flat: 4 x d bytes per vector (FAISS wiki "Faiss indexes": IndexFlatL2 4*d)', () => {
    expect(memory(spec({ kind: 'flat' }))).toBe(1_000_000 * 4 * 1024);
    // IndexScalarQuantizer fp16: 2*d; SQ8: d; IndexBinaryFlat: d/8
    expect(memory(spec({ kind: 'flat', precision: 'fp16' }))).toBe(1_000_000 * 2 * 1024);
    expect(memory(spec({ kind: 'flat', precision: 'int8' }))).toBe(1_000_000 * 1024);
    expect(memory(spec({ kind: 'flat', precision: 'binary' }))).toBe(1_000_000 * 128);
  });

  it('HNSW (FAISS): 4d + 4 x (2M + M/(M-1)) + 8 + 4 per vector, the wiki\'s (d*4 + M*2*4) plus upper levels, offsets and levels', () => {
    const m = 32;
    const perVector = 4 * 1024 + 4 * (2 * m + m / (m - 1)) + 8 + 4;
    expect(memory(spec({ kind: 'hnsw' }))).toBeCloseTo(1_000_000 * perVector, 0);
    // within 0.3% of the wiki's leading terms (d * 4 + M * 2 * 4)
    expect(memory(spec({ kind: 'hnsw' })) / (1_000_000 * (1024 * 4 + m * 2 * 4))).toBeCloseTo(1, 2);
  });

  it('HNSW (hnswlib): level-0 links 2M x 4 + 4, the vector, label 8, pointer 8, level 4, mutex 40, upper levels (4M + 4)/(M - 1)', () => {
    const m = 16;
    const perVector = 2 * m * 4 + 4 + 4 * 1024 + 8 + 8 + 4 + 40 + (4 * m + 4) / (m - 1);
    expect(memory(spec({ kind: 'hnsw', hnsw: { m, efConstruction: 200, efSearch: 10, library: 'hnswlib' } }))).toBeCloseTo(1_000_000 * perVector, 0);
  });

  it('IVF-PQ: (m x bits / 8 + 8 id) per vector + nlist x d fp32 centroids + 2^bits x d fp32 PQ centroids + precomputed tables', () => {
    const n = 1_000_000;
    const codes = n * (64 + 8);
    const centroids = 4096 * 1024 * 4;
    const codebooks = 256 * 1024 * 4;
    const tables = 4096 * 64 * 256 * 4; // 256 MiB < 2 GiB: FAISS keeps them
    expect(memory(spec({ kind: 'ivf-pq' }))).toBe(codes + centroids + codebooks + tables);
  });

  it('IVF-flat: (4d + 8) per vector + nlist x d fp32 centroids', () => {
    expect(memory(spec({ kind: 'ivf-flat' }))).toBe(1_000_000 * (4096 + 8) + 4096 * 1024 * 4);
  });

  it('DiskANN: n x PQ bytes + 256 x d pivots in RAM; full nodes in 4 KiB sectors on SSD', () => {
    const fig: Record<string, { value: number }> = {};
    const r = indexFigures(fig as never, spec({ kind: 'diskann' }), l4);
    expect(r.memoryBytes).toBe(1_000_000 * 64 + 256 * 1024 * 4);
    // node = 4096 + 4 + 64 x 4 = 4356 B > one sector: 2 sectors per node, plus a header sector
    expect(r.diskBytes).toBe((1 + 1_000_000 * 2) * 4096);
  });
});

describe('llm-size rag (issue 19 Done-when)', () => {
  const args = ['rag', '--corpus-tokens', '50e9', '--chunk-tokens', '512', '--embedding', 'bge-m3', '--index', 'hnsw', '--top-k', '8', '--model', 'llama-3.1-8b', '--gpu', 'l4'];

  it('answers every output: corpus embedding time and cost, index memory and build time, query embedding, prompt, end-to-end TTFT, throughput and cost per query', async () => {
    const e = await cliJson(args);
    const f = e.figures;
    for (const id of ['rag.chunks', 'embedding.corpusSeconds', 'embedding.corpusUsd', 'index.memory', 'index.buildSeconds', 'index.searchSeconds', 'rag.queryEmbeddingSeconds', 'rag.promptTokens', 'rag.ttft', 'rag.ttftAdded', 'rag.e2e', 'rag.queriesPerSecond', 'rag.usdPerQuery', 'latency.ttft', 'latency.tpot', 'memory.weights']) {
      expect(f[id], id).toBeDefined();
      expect(Number.isFinite(f[id].value) && f[id].value >= 0, id).toBe(true);
    }
    // 50e9 tokens / 512 per chunk
    expect(f['rag.chunks'].value).toBe(97_656_250);
    // FAISS HNSW M=32 over 1024-d fp32 bge-m3 vectors, by hand
    expect(f['index.memory'].value).toBeCloseTo(97_656_250 * (4096 + 4 * (64 + 32 / 31) + 12), -2);
    // prompt: query 32 + 8 chunks x 512
    expect(f['rag.promptTokens'].value).toBe(32 + 8 * 512);
    expect(e.input.generator.workload.inputTokens).toBe(32 + 8 * 512);
    // the corpus takes chunks / (sequences per second) on one L4, at its listed price
    expect(f['embedding.corpusSeconds'].value).toBeCloseTo(97_656_250 / f['embedding.sequencesPerSecond'].value, 3);
    expect(f['embedding.corpusUsd'].value).toBeCloseTo((f['embedding.corpusSeconds'].value / 3600) * e.input.generator.hardware.usdPerDeviceHour, 6);
    // end to end: retrieval then the generator's own TTFT
    expect(f['rag.ttft'].value).toBeCloseTo(f['rag.retrievalSeconds'].value + f['latency.ttft'].value, 12);
    expect(f['rag.usdPerQuery'].value).toBeCloseTo(f['rag.queryEmbeddingUsd'].value + f['rag.generatorUsd'].value, 15);
    expect(e.warnings.join('\n')).toMatch(/prefix caching .* not modelled/);
    expect(validateJson(OUTPUT_SCHEMA, e)).toEqual([]);
  });

  it('chunking with overlap, per document, by hand', () => {
    // 1000 documents of 1200 tokens, chunks of 512 overlapping by 64: ceil((1200 - 64) / 448) = 3 each
    expect(chunkCount({ tokens: 1_200_000, documents: 1000, chunkTokens: 512, overlapTokens: 64 })).toBe(3000);
    // a document shorter than a chunk is one chunk
    expect(chunkCount({ tokens: 100_000, documents: 1000, chunkTokens: 512, overlapTokens: 0 })).toBe(1000);
  });

  it('a reranker adds its forward pass over (query, chunk) pairs to the retrieval time and the cost', async () => {
    const f = (await cliJson([...args, '--rerank', 'bge-reranker-v2-m3', '--rerank-candidates', '40'])).figures;
    expect(f['rag.rerankSeconds'].value).toBeGreaterThan(0);
    expect(f['rag.retrievalSeconds'].value).toBeCloseTo(f['rag.queryEmbeddingSeconds'].value + f['index.searchSeconds'].value + f['rag.rerankSeconds'].value, 12);
    expect(f['rag.usdPerQuery'].parts).toContain('rag.rerankUsd');
  });

  it('the library and a spec file give the same answer as the flags', async () => {
    const viaFlags = await cliJson([...args, '--index', 'ivf-pq', '--nlist', '8192']);
    const lib = rag({ corpusTokens: 50e9, chunkTokens: 512, embedding: 'bge-m3', index: 'ivf-pq', nlist: 8192, topK: 8, model: 'llama-3.1-8b', gpu: 'l4' });
    expect(lib.figures['index.memory'].value).toBe(viaFlags.figures['index.memory'].value);
    const dir = mkdtempSync(join(tmpdir(), 'llm-size-rag-'));
    const file = join(dir, 'rag.yaml');
    writeFileSync(file, 'corpusTokens: 50e9\nchunk-tokens: 512\nembedding: bge-m3\nindex: ivf-pq\nnlist: 8192\ntopK: 8\nmodel: llama-3.1-8b\ngpu: l4\n');
    expect((await cliJson(['rag', '--spec', file])).figures['index.memory'].value).toBe(viaFlags.figures['index.memory'].value);
  });

  it('int8 vectors and a Matryoshka dimension shrink the flat index by hand', async () => {
    const f = (await cliJson(['rag', '--corpus-tokens', '1e9', '--embedding', 'nomic-embed-text-v1.5', '--dimension', '256', '--vector-precision', 'int8', '--index', 'flat', '--model', 'llama-3.1-8b', '--gpu', 'l4'])).figures;
    expect(f['index.memory'].value).toBe(Math.ceil(1e9 / 512) * 256);
  });

  it.each([
    [['--chunk-overlap', '512'], /--chunk-overlap 512 must be smaller than --chunk-tokens 512/],
    [['--index', 'ivf-pq', '--pq-m', '100'], /--pq-m 100 must divide the vector dimension 1024/],
    [['--dimension', '2048'], /--dimension 2048 exceeds BGE-M3's 1024 output dimensions/],
    [['--index', 'annoy'], /--index: unknown value "annoy"/],
    [['--index', 'hnsw', '--hnsw-library', 'hnswlib', '--vector-precision', 'int8'], /hnswlib stores fp32 vectors only/],
    [['--embedding', 'bge-reranker-v2-m3'], /is a reranker/],
    [['--chunk-tokens', '9000'], /--chunk-tokens: 9000 tokens exceeds BGE-M3's 8192 positions/],
    [['--top-k', '0'], /--top-k/],
  ])('bad input %j is exit 2 naming the flag', async (flags, message) => {
    await expectBadInput([...args, ...flags], message);
  });

  it('needs a corpus size, and a generator that generates', async () => {
    await expectBadInput(['rag', '--model', 'llama-3.1-8b', '--gpu', 'l4'], /rag needs the corpus size/);
    await expectBadInput(['rag', '--corpus-tokens', '1e9', '--model', 'bge-m3', '--gpu', 'l4'], /BGE-M3 is an embedding model, not a generator/);
  });
});
