import { Command } from 'commander';
import { rag, type RagEstimate } from '../estimate/rag.js';
import { HNSW_LIBRARIES, INDEX_KINDS, VECTOR_PRECISIONS } from '../estimate/vector-index.js';
import { formatFigure } from '../format/human.js';
import { formatOption, renderOutput, type FigureSection, type OutputFormat } from '../format/render.js';
import { visibleIds } from '../format/sections.js';
import { fetchHubFor } from '../inputs/resolve.js';
import { RAG_DEFAULTS, RAG_KEYS, resolveRag } from '../inputs/resolve-rag.js';
import { explain, type Context, explainOption } from './context.js';
import { addCarbonOptions, addEfficiencyOptions, addLeverOptions, addModelOptions, addPruningOptions, addServingOptions, collectRaw } from './estimate.js';

/** The figures `rag` shows to people (table and markdown), by section. */
export const RAG_SECTIONS: FigureSection[] = [
  { title: 'Corpus', ids: ['rag.chunks', 'rag.embeddedTokens'] },
  { title: 'Embedding the corpus', ids: ['embedding.sequencesPerSecond', 'embedding.corpusSeconds', 'embedding.corpusDeviceHours', 'embedding.corpusUsd', 'embedding.corpusJoules', 'embedding.corpusCo2eKg'] },
  { title: 'Index', ids: ['index.memory', 'index.bytesPerVector', 'index.diskBytes', 'index.devices', 'index.buildSeconds'] },
  { title: 'Per query: retrieval', ids: ['rag.queryEmbeddingSeconds', 'index.searchSeconds', 'rag.rerankSeconds', 'rag.retrievalSeconds'] },
  { title: 'Per query: generation', ids: ['rag.promptTokens', 'rag.retrievedTokens', 'memory.perDevice', 'latency.ttft', 'latency.tpot', 'latency.e2e'] },
  { title: 'End to end', ids: ['rag.generatorTtftWithoutRetrieval', 'rag.ttft', 'rag.ttftAdded', 'rag.e2e', 'rag.queriesPerSecond', 'rag.queryEmbeddingUsd', 'rag.rerankUsd', 'rag.generatorUsd', 'rag.usdPerQuery', 'energy.co2eKg'] },
];

async function renderRagTable(e: RagEstimate, color: boolean): Promise<string> {
  const { renderRows, makeChalk } = await import('../format/table.js');
  const c = makeChalk(color);
  const f = e.figures;
  const i = e.input;
  const header = [
    `${c.bold('RAG')}: ${i.embedding.model.name} (${i.index.dimension}-d ${i.index.precision}, ${i.index.kind}) + ${c.bold(i.generator.model.name)} on ${i.generator.hardware.count} x ${i.generator.hardware.name}`,
    `corpus ${i.corpus.tokens.toExponential(3)} tokens, chunks of ${i.corpus.chunkTokens}${i.corpus.overlapTokens ? ` (overlap ${i.corpus.overlapTokens})` : ''}; top-${i.query.topK}${i.query.rerank ? ` of ${i.query.rerank.candidates} reranked by ${i.query.rerank.model.name}` : ''}; output ${i.generator.workload.outputTokens} tokens`,
  ];
  const rows: [string, string][] = [];
  for (const s of RAG_SECTIONS) {
    const present = visibleIds(s, f);
    if (!present.length) continue;
    rows.push([c.bold(s.title), '']);
    for (const id of present) rows.push([`  ${f[id].label}`, formatFigure(f[id])]);
  }
  const verdict = e.fits ? c.green('FITS: the generator and the embedding model fit their devices') : c.red('DOES NOT FIT: see the warnings');
  return `${header.join('\n')}\n${renderRows(rows, color)}\n${verdict}\n${Object.values(f).some((x) => x.approximate) ? '~ marks approximate figures; --explain shows every formula\n' : ''}`;
}

export function ragCommand(ctx: Context): Command {
  const cmd = new Command('rag')
    .description('retrieval-augmented generation: embed a corpus, index it, and serve queries end to end')
    .addHelpText('after', `
--model, --gpu and the serving flags describe the generator; the corpus, embedding, index and
query flags the retrieval in front of it (docs/rag.md).

Examples:
  llm-size rag --corpus-tokens 50e9 --chunk-tokens 512 --embedding bge-m3 --index hnsw --top-k 8 --model llama-3.1-8b --gpu l4
  llm-size rag --documents 50e6 --tokens-per-document 1000 --embedding nomic-embed-text-v1.5 --index ivf-pq --model qwen3-8b --gpu h100
  llm-size rag --corpus-tokens 1e9 --embedding bge-m3 --rerank bge-reranker-v2-m3 --top-k 5 --model llama-3.1-8b --gpu l40s --format json`);
  addLeverOptions(addPruningOptions(addCarbonOptions(addServingOptions(addEfficiencyOptions(addModelOptions(cmd))))))
    .option('--allow-beyond-trained', 'generator: size a RAG prompt beyond the window the model was trained for instead of refusing it')
    .option('--corpus-tokens <tokens>', 'tokens in the corpus (50e9, 2t)')
    .option('--documents <n>', 'documents in the corpus (with --tokens-per-document, or splitting --corpus-tokens)')
    .option('--tokens-per-document <tokens>', 'tokens per document')
    .option('--chunk-tokens <tokens>', `tokens per chunk (default ${RAG_DEFAULTS.chunkTokens})`)
    .option('--chunk-overlap <tokens>', 'tokens consecutive chunks share (default 0)')
    .option('--embedding <preset>', `embedding model preset (default ${RAG_DEFAULTS.embedding}; llm-size presets list models)`)
    .option('--embedding-config <file>', 'embedding model as a Hugging Face config.json')
    .option('--embedding-gpu <preset>', 'device the embedding model runs on (default --gpu)')
    .option('--embedding-count <n>', 'embedding devices working on the corpus (default 1)')
    .option('--embedding-batch <n>', `chunks per embedding forward pass (default ${RAG_DEFAULTS.embeddingBatch})`)
    .option('--embedding-precision <format>', 'embedding model weight format (default bf16)')
    .option('--embedding-price <usd>', 'USD per embedding device-hour (default: the preset\'s price)')
    .option('--dimension <d>', 'vector dimensions kept (Matryoshka truncation; default the model\'s)')
    .option('--vector-precision <format>', `how vectors are stored: ${VECTOR_PRECISIONS.join(', ')} (default ${RAG_DEFAULTS.vectorPrecision})`)
    .option('--index <kind>', `vector index: ${INDEX_KINDS.join(', ')} (default ${RAG_DEFAULTS.index})`)
    .option('--index-gpu <preset>', 'device the index is built and searched on (default --embedding-gpu)')
    .option('--hnsw-m <n>', 'HNSW links per vector M (default: FAISS 32, hnswlib 16)')
    .option('--hnsw-library <lib>', `HNSW memory layout: ${HNSW_LIBRARIES.join(', ')} (default faiss)`)
    .option('--ef-construction <n>', 'HNSW build beam width (default: FAISS 40, hnswlib 200)')
    .option('--ef-search <n>', 'HNSW search beam width (default: FAISS 16, hnswlib 10)')
    .option('--nlist <n>', 'IVF lists (default 4 x sqrt(vectors), the FAISS guideline)')
    .option('--nprobe <n>', 'IVF lists searched per query (default 1, FAISS\'s)')
    .option('--pq-m <n>', 'PQ sub-quantizers (bytes per code at 8 bits; DiskANN in-memory PQ bytes); default d / 16')
    .option('--pq-bits <n>', 'bits per PQ sub-quantizer code (default 8)')
    .option('--diskann-r <n>', 'DiskANN graph degree R (default 64)')
    .option('--diskann-l <n>', 'DiskANN search list L (default 100)')
    .option('--top-k <n>', `chunks added to each prompt (default ${RAG_DEFAULTS.topK})`)
    .option('--query-tokens <tokens>', `tokens in a user's query (default ${RAG_DEFAULTS.queryTokens})`)
    .option('--system-tokens <tokens>', 'system prompt and instruction tokens in every prompt (default 0)')
    .option('--rerank <preset>', 'cross-encoder reranker preset (e.g. bge-reranker-v2-m3)')
    .option('--rerank-candidates <n>', `candidates the reranker scores (default ${RAG_DEFAULTS.rerankPerKept} x --top-k)`)
    .option('--batch <n>', 'generator: concurrent sequences (default 1)')
    .option('--output-tokens <n>', 'generator: tokens generated per query (default 256)')
    .option('--concurrency <n>', 'generator: requests in flight (continuous batching)')
    .option('--qps <rate>', 'generator: queries per second to serve')
    .addOption(formatOption())
    .addOption(explainOption())
    .action(async (opts: Record<string, unknown>) => {
      const { raw, origins } = await collectRaw(opts, RAG_KEYS);
      const hub = await fetchHubFor(raw, origins, ctx.env);
      const { input, warnings } = resolveRag(raw, origins, await ctx.catalog(), hub);
      const result = rag(input);
      result.warnings.unshift(...warnings.filter((w) => !result.warnings.includes(w)));
      const title = `RAG: ${result.input.embedding.model.name} + ${result.input.generator.model.name} on ${result.input.generator.hardware.name}`;
      ctx.out(await renderOutput(opts.format as OutputFormat, { document: result, figures: result.figures, sections: RAG_SECTIONS, title, table: (color) => renderRagTable(result, color) }, ctx.color));
      if (opts.explain) explain(ctx, String(opts.format), result.figures, opts.explain);
      for (const w of result.warnings) ctx.warn(w);
    });
  return cmd;
}
