import type { HardwareSpec } from '../inputs/hardware.js';
import { summarizeModel, type ModelSummary } from '../inputs/model.js';
import { secondsInHour, tokensInMillion } from '../units.js';
import { carbonTerm, type Carbon } from './carbon.js';
import { estimate, type Estimate, type ResolvedInputSummary } from './index.js';
import type { EstimateInput } from './input.js';
import { sum, term, type Figures } from './terms.js';
import { indexFigures, indexProblem, type IndexSpec } from './vector-index.js';

/**
 * Retrieval-augmented generation, end to end: embed a corpus (chunks x an embedding model's
 * forward pass), index the vectors (vector-index.ts), and serve each query: embed it, search,
 * optionally rerank candidates with a cross-encoder, and generate from a prompt that carries the
 * top-k chunks. The generator is `estimate` itself at the RAG prompt length, so its figures sit
 * next to the retrieval ones; it is also estimated without the retrieved chunks, so what RAG
 * adds to the time to first token and the cost is visible.
 */

export interface RagCorpus {
  /** tokens in the corpus */
  tokens: number;
  /** documents it is split into (1 when only a token count is given) */
  documents: number;
  chunkTokens: number;
  overlapTokens: number;
}

export interface RagInput {
  corpus: RagCorpus;
  /** the embedding model on its device, batch = the corpus embedding batch, inputTokens = chunk */
  embedding: EstimateInput;
  /** embedding devices working on the corpus in parallel */
  embeddingDevices: number;
  /** the same model at batch 1 and the query length (the query's own embedding) */
  queryEmbedding: EstimateInput;
  /** a cross-encoder over (query, chunk) pairs, batch = candidates; absent = no reranking */
  rerank?: EstimateInput;
  index: Omit<IndexSpec, 'vectors'>;
  /** where the index lives, is built and searched */
  indexDevice: HardwareSpec;
  topK: number;
  queryTokens: number;
  systemTokens: number;
  /** the generator at the RAG prompt length */
  generator: EstimateInput;
  carbon?: Carbon;
}

export interface RagEstimate {
  schemaVersion: 1;
  input: {
    corpus: RagCorpus & { chunks: number };
    embedding: { model: ModelSummary; hardware: string; devices: number; batch: number; dimension: number; vectorPrecision: string };
    index: Omit<IndexSpec, 'vectors'> & { device: string };
    query: { topK: number; queryTokens: number; systemTokens: number; promptTokens: number; rerank: { model: ModelSummary; candidates: number } | null };
    generator: ResolvedInputSummary;
  };
  /** the generator's figures, then embedding.*, index.* and rag.* */
  figures: Figures;
  fits: boolean;
  warnings: string[];
}

/** Chunks of a corpus: per document, ceil((T - overlap) / (chunk - overlap)), at least one. */
export function chunkCount(c: RagCorpus): number {
  const perDocument = c.tokens / c.documents;
  const stride = c.chunkTokens - c.overlapTokens;
  return c.documents * Math.max(1, Math.ceil((perDocument - c.overlapTokens) / stride));
}

const value = (e: Estimate, id: string): number => {
  const f = e.figures[id];
  if (!f) throw new Error(`internal: rag needs figure ${id}`);
  return f.value;
};

/**
 * The RAG estimate: corpus embedding time and cost, index memory and build time, per-query
 * retrieval, reranking and generation, end to end.
 *
 * @example 50e9 corpus tokens in chunks of 512 -> 97,656,250 chunks; bge-m3 vectors of 1024
 * fp32 in FAISS HNSW M=32: 97,656,250 x 4368.13 B = 426.6 GB of index memory
 */
export function rag(input: RagInput): RagEstimate {
  const fig: Figures = {};
  const warnings: string[] = [];
  const { corpus } = input;

  // ---- Corpus ----
  const chunks = term(fig, { id: 'rag.chunks', label: 'Chunks (vectors to index)', unit: 'count', value: chunkCount(corpus), formula: corpus.overlapTokens ? 'documents x ceil((tokensPerDocument - overlap) / (chunkTokens - overlap))' : 'documents x ceil(tokensPerDocument / chunkTokens)', inputs: { documents: corpus.documents, tokensPerDocument: corpus.tokens / corpus.documents, chunkTokens: corpus.chunkTokens, overlap: corpus.overlapTokens }, source: 'fixed-size chunking with overlap (LangChain TokenTextSplitter chunk_size / chunk_overlap)' });
  // each chunk is embedded at the chunk length (a batch pads to its longest member)
  const embeddedTokens = term(fig, { id: 'rag.embeddedTokens', label: 'Tokens embedded (chunks x chunk)', unit: 'tokens', value: chunks * corpus.chunkTokens, formula: 'chunks x chunkTokens', inputs: { chunks, chunkTokens: corpus.chunkTokens }, source: 'every chunk padded to the chunk length in its batch' });

  // ---- Embedding the corpus ----
  const emb = estimate(input.embedding);
  const seqPerSecond = value(emb, 'throughput.sequencesPerSecond');
  const devices = input.embeddingDevices;
  const corpusSeconds = term(fig, { id: 'embedding.corpusSeconds', label: 'Time to embed the corpus', unit: 's', value: chunks / (seqPerSecond * devices), formula: 'chunks / (sequencesPerSecond x devices)', inputs: { chunks, sequencesPerSecond: seqPerSecond, devices, batch: input.embedding.workload.batch, chunkTokens: corpus.chunkTokens }, source: `${input.embedding.model.name} forward pass (src/estimate/forward.ts), batches back to back`, approximate: true });
  term(fig, { id: 'embedding.sequencesPerSecond', label: 'Chunks embedded per second per device', unit: 'sequences/s', value: seqPerSecond, formula: 'batch / latency.forward', inputs: { batch: input.embedding.workload.batch }, source: 'embedding model forward pass', approximate: true });
  term(fig, { id: 'embedding.flopsPerToken', label: 'Embedding FLOPs per token', unit: 'FLOP', value: value(emb, 'flops.perToken'), formula: 'forward FLOPs / tokens at the chunk length', inputs: { chunkTokens: corpus.chunkTokens }, source: 'src/estimate/forward.ts' });
  const deviceHours = term(fig, { id: 'embedding.corpusDeviceHours', label: 'Device-hours to embed the corpus', unit: 'count', value: (corpusSeconds * devices) / secondsInHour, formula: 'corpusSeconds x devices / 3600', inputs: { corpusSeconds, devices }, source: 'definition', approximate: true });
  const embPrice = input.embedding.price;
  if (embPrice) term(fig, { id: 'embedding.corpusUsd', label: 'Cost to embed the corpus', unit: 'USD', value: deviceHours * embPrice.usdPerHour, formula: 'corpusDeviceHours x usdPerDeviceHour', inputs: { deviceHours, usdPerDeviceHour: embPrice.usdPerHour }, source: embPrice.source, approximate: true });
  else warnings.push(`no price known for ${input.embedding.hardware.name}; pass --embedding-price for the corpus embedding cost`);
  const joulesPerToken = emb.figures['energy.joulesPerMillionInputTokens'] ? value(emb, 'energy.joulesPerMillionInputTokens') / tokensInMillion : undefined;
  if (joulesPerToken !== undefined) {
    term(fig, { id: 'embedding.corpusJoules', label: 'Energy to embed the corpus', unit: 'J', value: joulesPerToken * embeddedTokens, formula: 'energy.joulesPerMillionInputTokens / 1e6 x embeddedTokens', inputs: { joulesPerToken, embeddedTokens }, source: 'embedding model forward pass energy (energy.ts power model)', approximate: true });
    if (input.carbon) carbonTerm(fig, input.carbon, { id: 'embedding.corpusCo2eKg', label: 'CO2e to embed the corpus', energyId: 'embedding.corpusJoules' });
  }

  // ---- Index ----
  const spec: IndexSpec = { ...input.index, vectors: chunks };
  const problem = indexProblem(spec);
  if (problem) throw new Error(`internal: unchecked index settings: ${problem}`);
  const idx = indexFigures(fig, spec, input.indexDevice);
  const usable = input.indexDevice.memoryBytes.value! - (input.indexDevice.runtimeOverheadBytes.value ?? 0);
  const indexDevices = term(fig, { id: 'index.devices', label: 'Devices to hold the index in memory', unit: 'count', value: Math.max(1, Math.ceil(idx.memoryBytes / usable)), formula: 'ceil(index.memory / (capacity - runtime overhead))', inputs: { memory: idx.memoryBytes, usableBytes: usable }, source: input.indexDevice.memoryBytes.source });
  if (indexDevices > 1) warnings.push(`the index (${(idx.memoryBytes / 1e9).toFixed(1)} GB) does not fit one ${input.indexDevice.name}: shard it over ${indexDevices} devices or keep it in host RAM (its search time assumes device memory bandwidth)`);

  // ---- Per query: embed, search, rerank ----
  const q = estimate(input.queryEmbedding);
  term(fig, { id: 'rag.queryEmbeddingSeconds', label: 'Query embedding (one query)', unit: 's', value: value(q, 'latency.forward'), formula: 'embedding model forward pass, batch 1 x queryTokens', inputs: { queryTokens: input.queryTokens }, source: 'src/estimate/forward.ts', approximate: true });
  const qParts = ['rag.queryEmbeddingSeconds', 'index.searchSeconds'];
  let rerankSeconds = 0;
  let rerankUsd = 0;
  if (input.rerank) {
    const r = estimate(input.rerank);
    rerankSeconds = term(fig, { id: 'rag.rerankSeconds', label: `Reranking ${input.rerank.workload.batch} candidates`, unit: 's', value: value(r, 'latency.forward'), formula: 'cross-encoder forward pass, batch candidates x (queryTokens + chunkTokens)', inputs: { candidates: input.rerank.workload.batch, pairTokens: input.rerank.workload.inputTokens }, source: `${input.rerank.model.name} forward pass (src/estimate/forward.ts)`, approximate: true });
    qParts.push('rag.rerankSeconds');
    if (input.rerank.price) rerankUsd = (input.rerank.price.usdPerHour / secondsInHour) * rerankSeconds;
  }
  const retrieval = sum(fig, { id: 'rag.retrievalSeconds', label: 'Retrieval (embed + search + rerank)', unit: 's', parts: qParts, source: 'the steps run one after another' });

  // ---- Generation ----
  const promptTokens = term(fig, { id: 'rag.promptTokens', label: 'Prompt tokens (system + query + top-k)', unit: 'tokens', value: input.generator.workload.inputTokens, formula: 'systemTokens + queryTokens + topK x chunkTokens', inputs: { systemTokens: input.systemTokens, queryTokens: input.queryTokens, topK: input.topK, chunkTokens: corpus.chunkTokens }, source: 'retrieved chunks are added to every prompt' });
  term(fig, { id: 'rag.retrievedTokens', label: 'Retrieved tokens added to each prompt', unit: 'tokens', value: input.topK * corpus.chunkTokens, formula: 'topK x chunkTokens', inputs: { topK: input.topK, chunkTokens: corpus.chunkTokens }, source: 'top-k chunks' });
  const gen = estimate(input.generator);
  const baseInput: EstimateInput = { ...input.generator, workload: { ...input.generator.workload, inputTokens: input.systemTokens + input.queryTokens, context: input.systemTokens + input.queryTokens + input.generator.workload.outputTokens } };
  const base = estimate(baseInput);
  Object.assign(fig, gen.figures, fig);
  const genTtft = value(gen, 'latency.ttft');
  term(fig, { id: 'rag.generatorTtftWithoutRetrieval', label: 'Generator TTFT without retrieval', unit: 's', value: value(base, 'latency.ttft'), formula: 'latency.ttft at inputTokens = systemTokens + queryTokens', inputs: { inputTokens: baseInput.workload.inputTokens }, source: 'estimate at the prompt without retrieval', approximate: base.figures['latency.ttft'].approximate });
  const ttft = term(fig, { id: 'rag.ttft', label: 'Time to first token, end to end', unit: 's', value: retrieval + genTtft, formula: 'rag.retrievalSeconds + latency.ttft', inputs: { retrieval, generatorTtft: genTtft }, source: 'retrieval, then the generator\'s prefill of the RAG prompt', approximate: true });
  term(fig, { id: 'rag.ttftAdded', label: 'TTFT added by RAG', unit: 's', value: ttft - value(base, 'latency.ttft'), formula: 'rag.ttft - generator TTFT without retrieval', inputs: { ttft, baseline: value(base, 'latency.ttft') }, source: 'difference', approximate: true });
  term(fig, { id: 'rag.e2e', label: 'End-to-end time per query', unit: 's', value: retrieval + value(gen, 'latency.e2e'), formula: 'rag.retrievalSeconds + latency.e2e', inputs: { retrieval, generatorE2e: value(gen, 'latency.e2e') }, source: 'retrieval, then generation', approximate: true });
  // Throughput: the generator is the slowest stage in any sensible deployment; the query
  // embedding's own rate is shown so a mis-sized embedding tier is visible.
  const genRps = value(gen, 'throughput.requestsPerSecond');
  term(fig, { id: 'rag.queriesPerSecond', label: 'Queries per second (generator-bound)', unit: 'requests/s', value: genRps, formula: 'throughput.requestsPerSecond of the generator at the RAG prompt', inputs: { generatorRequestsPerSecond: genRps }, source: 'the generator bounds the pipeline; embedding and search run on their own devices', approximate: true });

  // ---- Cost per query ----
  const usdParts: string[] = [];
  if (input.queryEmbedding.price) {
    // query embeddings are batched like the corpus: device time per sequence at the corpus batch
    term(fig, { id: 'rag.queryEmbeddingUsd', label: 'Query embedding cost', unit: 'USD', value: (input.queryEmbedding.price.usdPerHour / secondsInHour) * (input.queryTokens / (seqPerSecond * corpus.chunkTokens)), formula: 'usdPerHour / 3600 x queryTokens / (sequencesPerSecond x chunkTokens)', inputs: { usdPerHour: input.queryEmbedding.price.usdPerHour, queryTokens: input.queryTokens, sequencesPerSecond: seqPerSecond, chunkTokens: corpus.chunkTokens }, source: 'device time per token at the corpus embedding throughput', approximate: true });
    usdParts.push('rag.queryEmbeddingUsd');
  }
  if (input.rerank?.price) {
    term(fig, { id: 'rag.rerankUsd', label: 'Reranking cost', unit: 'USD', value: rerankUsd, formula: 'usdPerHour / 3600 x rag.rerankSeconds', inputs: { usdPerHour: input.rerank.price.usdPerHour, rerankSeconds }, source: input.rerank.price.source, approximate: true });
    usdParts.push('rag.rerankUsd');
  }
  const inCost = gen.figures['cost.usdPerMillionInputTokens'];
  const outCost = gen.figures['cost.usdPerMillionOutputTokens'];
  if (inCost && outCost) {
    const w = input.generator.workload;
    term(fig, { id: 'rag.generatorUsd', label: 'Generation cost (prompt + output)', unit: 'USD', value: (inCost.value * w.inputTokens + outCost.value * w.outputTokens) / tokensInMillion, formula: '(usdPerMillionInputTokens x promptTokens + usdPerMillionOutputTokens x outputTokens) / 1e6', inputs: { usdPerMillionInputTokens: inCost.value, promptTokens: w.inputTokens, usdPerMillionOutputTokens: outCost.value, outputTokens: w.outputTokens }, source: 'the generator\'s cost per token (cost.ts)', approximate: true });
    usdParts.push('rag.generatorUsd');
    sum(fig, { id: 'rag.usdPerQuery', label: 'Cost per query, end to end', unit: 'USD', parts: usdParts, source: 'query embedding + reranking + generation (index search on the embedding tier is not charged separately)' });
  } else warnings.push(`no price known for ${input.generator.hardware.name}; pass --price for the cost per query`);

  warnings.push('prefix caching of a shared system prompt or of repeated chunks is not modelled (llm-size has no prefix-caching lever yet): every prompt is prefilled whole');
  for (const w of [...emb.warnings, ...gen.warnings]) if (!/one forward pass per input/.test(w) && !warnings.includes(w)) warnings.push(w);

  return {
    schemaVersion: 1,
    input: {
      corpus: { ...corpus, chunks },
      embedding: { model: summarizeModel(input.embedding.model), hardware: input.embedding.hardware.id, devices, batch: input.embedding.workload.batch, dimension: input.index.dimension, vectorPrecision: input.index.precision },
      index: { ...input.index, device: input.indexDevice.id },
      query: { topK: input.topK, queryTokens: input.queryTokens, systemTokens: input.systemTokens, promptTokens, rerank: input.rerank ? { model: summarizeModel(input.rerank.model), candidates: input.rerank.workload.batch } : null },
      generator: gen.input,
    },
    figures: fig,
    fits: gen.fits && emb.fits,
    warnings,
  };
}
