import { UserError } from '../errors.js';
import type { EstimateInput } from '../estimate/input.js';
import { chunkCount, type RagCorpus, type RagInput } from '../estimate/rag.js';
import { HNSW_LIBRARIES, INDEX_DEFAULTS, INDEX_KINDS, indexProblem, VECTOR_PRECISIONS, type IndexSpec } from '../estimate/vector-index.js';
import type { Catalog } from './catalog.js';
import type { HubConfig } from './hub.js';
import { isForwardOnly } from './model.js';
import { choice, positiveInt, quantity, type Named, type Raw } from './options.js';
import { findHardware } from './presets.js';
import { LEVER_KEYS } from './resolve-levers.js';
import { DEFAULT_GPU, ENGINE_OPTION_KEYS, resolveCarbon, resolveEstimate, type EstimateKey, type Origins, type RawOptions } from './resolve.js';

/**
 * `llm-size rag` options (flags, spec-file keys, library options) -> RagInput. The generator,
 * the embedding model, the query embedding and the reranker are each resolved the way
 * `estimate` resolves a model (src/inputs/resolve.ts), with the lengths RAG gives them.
 */

/** Generator keys `rag` shares with `estimate` (the prompt length comes from retrieval). */
export const RAG_SHARED_KEYS = [
  'model', 'params', 'hfConfig', 'hf', 'offline',
  'layers', 'hidden', 'heads', 'kvHeads', 'headDim', 'ffn', 'vocab', 'tiedEmbeddings',
  'precision', 'kvPrecision', 'batch', 'outputTokens',
  'gpu', 'memory', 'count', 'price', 'mfu', 'mbu', 'tp', 'pp', 'ep', 'replicas', 'gpusPerNode', 'nodes', 'dpAttention', 'redundantExperts', 'expertImbalance', 'allToAll', 'engine', 'concurrency', 'qps',
  'provider', 'priceKind', 'amortizeYears', 'powerWatts', 'usdPerKwh', 'hostingUsdPerKwMonth', 'gridGco2PerKwh', 'region', 'pue', 'sparsity', 'prune', 'allowBeyondTrained',
  // the generator's engine launch options (--gpu-memory-utilization ...), as estimate reads them
  ...ENGINE_OPTION_KEYS,
  ...LEVER_KEYS,
] as const satisfies readonly EstimateKey[];
/** Keys only `rag` has. */
export const RAG_ONLY_KEYS = [
  'corpusTokens', 'documents', 'tokensPerDocument', 'chunkTokens', 'chunkOverlap',
  'embedding', 'embeddingConfig', 'embeddingGpu', 'embeddingCount', 'embeddingBatch', 'embeddingPrecision', 'embeddingPrice',
  'dimension', 'vectorPrecision', 'index', 'indexGpu', 'hnswM', 'hnswLibrary', 'efConstruction', 'efSearch', 'nlist', 'nprobe', 'pqM', 'pqBits', 'diskannR', 'diskannL',
  'topK', 'queryTokens', 'systemTokens', 'rerank', 'rerankCandidates',
] as const;
export const RAG_KEYS = [...RAG_SHARED_KEYS, ...RAG_ONLY_KEYS] as const;
export type RagKey = (typeof RAG_KEYS)[number];
export type RagRawOptions = Partial<Record<RagKey, Raw>>;
export type RagOrigins = Partial<Record<RagKey, string>>;

/** Defaults where the user says nothing (docs/rag.md). */
export const RAG_DEFAULTS = {
  embedding: 'bge-m3',
  chunkTokens: 512,
  chunkOverlap: 0,
  // LangChain VectorStoreRetriever search_kwargs k = 4
  topK: 4,
  queryTokens: 32,
  systemTokens: 0,
  // a reranker rescoring 4 candidates per passage kept
  rerankPerKept: 4,
  embeddingBatch: 32,
  index: 'hnsw',
  vectorPrecision: 'fp32',
} as const;

const flag = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The largest divisor of d not above max(1, d / 16): PQ sub-quantizers of 16 dimensions or more (1024 -> 64). */
export function defaultPqM(d: number): number {
  for (let m = Math.max(1, Math.floor(d / 16)); m > 1; m--) if (d % m === 0) return m;
  return 1;
}

export function resolveRag(raw: RagRawOptions, origins: RagOrigins, catalog: Catalog, hub?: HubConfig): { input: RagInput; warnings: string[] } {
  const named = (key: RagKey): Named => ({ value: raw[key], where: origins[key] ?? flag(key) });
  const has = (key: RagKey) => raw[key] !== undefined;
  const warnings: string[] = [];

  // ---- Corpus: tokens, or documents x tokens per document ----
  if (!has('corpusTokens') && !has('tokensPerDocument')) throw new UserError('rag needs the corpus size: pass --corpus-tokens <tokens>, or --documents <n> --tokens-per-document <tokens>');
  if (has('tokensPerDocument') && !has('documents')) throw new UserError('--tokens-per-document needs --documents <n>');
  if (has('corpusTokens') && has('tokensPerDocument')) throw new UserError('give --corpus-tokens or --documents with --tokens-per-document, not both');
  const documents = has('documents') ? quantity(named('documents'), 'documents') : 1;
  const tokens = has('corpusTokens') ? quantity(named('corpusTokens'), 'corpusTokens') : documents * quantity(named('tokensPerDocument'), 'tokens');
  if (tokens > 1e15) throw new UserError(`--documents x --tokens-per-document = ${tokens.toExponential(3)} tokens is a larger corpus than this tool sizes (at most 1e15)`);
  if (tokens < documents) throw new UserError(`--documents ${documents} exceeds the ${tokens} corpus tokens: a document holds at least one token`);
  const chunkTokens = has('chunkTokens') ? positiveInt(named('chunkTokens'), 'tokens') : RAG_DEFAULTS.chunkTokens;
  const overlapTokens = has('chunkOverlap') ? quantity(named('chunkOverlap'), 'overlapTokens') : RAG_DEFAULTS.chunkOverlap;
  if (overlapTokens >= chunkTokens) throw new UserError(`${named('chunkOverlap').where} ${overlapTokens} must be smaller than --chunk-tokens ${chunkTokens}`);
  const corpus: RagCorpus = { tokens, documents, chunkTokens, overlapTokens };
  const chunks = chunkCount(corpus);

  // ---- Shared: carbon, and what every sub-estimate passes through ----
  const carbon = resolveCarbon(raw, origins, catalog);
  const carry: RawOptions = {};
  for (const key of ['powerWatts', 'usdPerKwh', 'hostingUsdPerKwMonth', 'gridGco2PerKwh', 'region', 'pue', 'mfu', 'mbu'] as const) if (has(key)) carry[key] = raw[key];
  const carryOrigins: Origins = {};
  for (const key of Object.keys(carry) as EstimateKey[]) carryOrigins[key] = origins[key as RagKey] ?? flag(key);

  // ---- Embedding model and its device ----
  const queryTokens = has('queryTokens') ? positiveInt(named('queryTokens'), 'tokens') : RAG_DEFAULTS.queryTokens;
  const systemTokens = has('systemTokens') ? quantity(named('systemTokens'), 'optionalTokens') : RAG_DEFAULTS.systemTokens;
  if (has('embedding') && has('embeddingConfig')) throw new UserError('give --embedding <preset> or --embedding-config <config.json>, not both');
  if (!has('embedding') && !has('embeddingConfig')) warnings.push(`no --embedding given; using ${RAG_DEFAULTS.embedding}`);
  const embeddingGpu = has('embeddingGpu') ? String(raw.embeddingGpu) : has('gpu') ? String(raw.gpu) : DEFAULT_GPU;
  const forward = (batch: number, inputTokens: number, where: { batch: string; inputTokens: string }, model: { preset?: Raw; config?: Raw; where: string }, gpu: string): EstimateInput => {
    const r: RawOptions = { ...carry, gpu, batch, inputTokens, ...(model.config !== undefined ? { hfConfig: model.config } : { model: model.preset }) };
    if (has('embeddingPrecision')) r.precision = raw.embeddingPrecision;
    if (has('embeddingPrice')) r.price = raw.embeddingPrice;
    const o: Origins = { ...carryOrigins, batch: where.batch, inputTokens: where.inputTokens, model: model.where, hfConfig: model.where, precision: named('embeddingPrecision').where, price: named('embeddingPrice').where, gpu: named('embeddingGpu').where };
    const { input, warnings: w } = resolveEstimate(r, o, catalog);
    for (const x of w) if (!warnings.includes(x)) warnings.push(x);
    // A decoder (Qwen3-Embedding's trunk, or any generator named here) serves as an embedder.
    return isForwardOnly(input.model) ? input : { ...input, model: { ...input.model, task: 'embedding' as const }, workload: { ...input.workload, outputTokens: 0, context: inputTokens } };
  };
  const embeddingModel = { preset: has('embedding') ? raw.embedding : RAG_DEFAULTS.embedding, config: raw.embeddingConfig, where: has('embeddingConfig') ? named('embeddingConfig').where : named('embedding').where };
  const embeddingBatch = has('embeddingBatch') ? positiveInt(named('embeddingBatch'), 'batch') : RAG_DEFAULTS.embeddingBatch;
  const embedding = forward(embeddingBatch, chunkTokens, { batch: named('embeddingBatch').where, inputTokens: named('chunkTokens').where }, embeddingModel, embeddingGpu);
  if (embedding.model.task === 'rerank') throw new UserError(`${embeddingModel.where}: ${embedding.model.name} is a reranker (a cross-encoder scores pairs, it makes no vectors); pass it as --rerank`);
  const queryEmbedding = forward(1, queryTokens, { batch: '--embedding-batch', inputTokens: named('queryTokens').where }, embeddingModel, embeddingGpu);
  const embeddingDevices = has('embeddingCount') ? positiveInt(named('embeddingCount'), 'devices') : 1;

  // ---- Reranker ----
  const topK = has('topK') ? quantity(named('topK'), 'topK') : RAG_DEFAULTS.topK;
  let rerank: EstimateInput | undefined;
  if (has('rerank')) {
    const candidates = has('rerankCandidates') ? quantity(named('rerankCandidates'), 'topK') : RAG_DEFAULTS.rerankPerKept * topK;
    if (candidates < topK) throw new UserError(`${named('rerankCandidates').where} ${candidates} is fewer than --top-k ${topK}: the reranker keeps top-k of its candidates`);
    rerank = forward(candidates, queryTokens + chunkTokens, { batch: named('rerankCandidates').where, inputTokens: '--query-tokens + --chunk-tokens' }, { preset: raw.rerank, where: named('rerank').where }, embeddingGpu);
    if (rerank.model.task !== 'rerank') warnings.push(`${rerank.model.name} is not a *ForSequenceClassification checkpoint; it is timed as a cross-encoder over (query, chunk) pairs all the same`);
  } else if (has('rerankCandidates')) throw new UserError(`${named('rerankCandidates').where}: applies with --rerank <model> (the candidates a reranker scores); pass --rerank with it, or drop it`);

  // ---- Index ----
  const hidden = embedding.model.hidden;
  const dimension = has('dimension') ? quantity(named('dimension'), 'dimension') : hidden;
  if (dimension > hidden) throw new UserError(`${named('dimension').where} ${dimension} exceeds ${embedding.model.name}'s ${hidden} output dimensions (Matryoshka truncation can only shorten a vector)`);
  const kind = has('index') ? choice(named('index'), INDEX_KINDS) : RAG_DEFAULTS.index;
  const library = has('hnswLibrary') ? choice(named('hnswLibrary'), HNSW_LIBRARIES) : 'faiss';
  const hnswDefaults = INDEX_DEFAULTS[library];
  const pqM = has('pqM') ? quantity(named('pqM'), 'subquantizers') : defaultPqM(dimension);
  const index: Omit<IndexSpec, 'vectors'> = {
    kind,
    dimension,
    precision: has('vectorPrecision') ? choice(named('vectorPrecision'), VECTOR_PRECISIONS) : RAG_DEFAULTS.vectorPrecision,
    hnsw: {
      m: has('hnswM') ? quantity(named('hnswM'), 'graphDegree') : hnswDefaults.m,
      efConstruction: has('efConstruction') ? quantity(named('efConstruction'), 'searchList') : hnswDefaults.efConstruction,
      efSearch: has('efSearch') ? quantity(named('efSearch'), 'searchList') : hnswDefaults.efSearch,
      library,
    },
    ivf: {
      nlist: has('nlist') ? quantity(named('nlist'), 'lists') : Math.max(1, Math.min(chunks, Math.round(INDEX_DEFAULTS.nlistPerSqrtN * Math.sqrt(chunks)))),
      nprobe: has('nprobe') ? quantity(named('nprobe'), 'lists') : INDEX_DEFAULTS.nprobe,
    },
    pq: { m: pqM, bits: has('pqBits') ? quantity(named('pqBits'), 'pqBits') : INDEX_DEFAULTS.pqBits },
    diskann: {
      r: has('diskannR') ? quantity(named('diskannR'), 'graphDegree') : INDEX_DEFAULTS.diskannR,
      searchList: has('diskannL') ? quantity(named('diskannL'), 'searchList') : INDEX_DEFAULTS.diskannL,
      pqBytes: pqM,
    },
  };
  const unused = ([['hnswM', 'hnsw'], ['hnswLibrary', 'hnsw'], ['efConstruction', 'hnsw'], ['efSearch', 'hnsw'], ['nlist', 'ivf'], ['nprobe', 'ivf'], ['pqBits', 'ivf-pq'], ['diskannR', 'diskann'], ['diskannL', 'diskann']] as const).filter(([key, k]) => has(key) && !kind.startsWith(k));
  if (unused.length) warnings.push(`${unused.map(([key]) => flag(key)).join(', ')} ignored with --index ${kind}`);
  const problem = indexProblem({ ...index, vectors: chunks });
  if (problem) throw new UserError(problem);
  const indexDevice = findHardware(catalog, has('indexGpu') ? String(raw.indexGpu) : embeddingGpu);

  // ---- Generator at the RAG prompt length ----
  const promptTokens = systemTokens + topK * chunkTokens + queryTokens;
  const genRaw: RawOptions = { inputTokens: promptTokens };
  for (const key of RAG_SHARED_KEYS) if (has(key)) genRaw[key] = raw[key];
  const genOrigins: Origins = { ...(origins as Origins), inputTokens: 'the RAG prompt (--system-tokens + --top-k x --chunk-tokens + --query-tokens)' };
  const { input: generator, warnings: genWarnings } = resolveEstimate(genRaw, genOrigins, catalog, hub);
  if (generator.model.task) throw new UserError(`${named('model').where}: ${generator.model.name} is ${generator.model.task === 'rerank' ? 'a reranker' : 'an embedding model'}, not a generator; pass it as --embedding or --rerank`);
  warnings.push(...genWarnings.filter((w) => !warnings.includes(w)));
  if (promptTokens > generator.model.maxContext) warnings.push(`the RAG prompt of ${promptTokens} tokens exceeds ${generator.model.name}'s ${generator.model.maxContext}-token context: lower --top-k or --chunk-tokens`);

  return { input: { corpus, embedding, embeddingDevices, queryEmbedding, rerank, index, indexDevice, topK, queryTokens, systemTokens, generator, carbon }, warnings };
}
