import type { HardwareSpec } from '../inputs/hardware.js';
import { bytesInGiB } from '../units.js';
import { sum, term, type Figures } from './terms.js';

/**
 * Vector index memory, build time and search time, from the data structures the libraries
 * allocate:
 *  - FAISS (github:facebookresearch/faiss wiki "Guidelines to choose an index" and "Faiss
 *    indexes"; faiss/impl/HNSW.h, faiss/IndexIVFPQ.h): flat codes of 4d bytes (fp32), 2d (fp16
 *    scalar quantizer), d (SQ8), d/8 (IndexBinaryFlat); HNSW "memory usage is (d * 4 + x * 2 * 4)
 *    bytes per vector" (x = M), exactly: int32 neighbours, 2M at level 0 and M per upper level,
 *    an 8-byte offset and a 4-byte level per vector; IVF lists store each code with its 8-byte
 *    id, plus nlist x d fp32 coarse centroids; IVF-PQ codes of ceil(m x bits / 8) bytes, PQ
 *    centroids 2^bits x d fp32, and the L2 precomputed tables nlist x m x 2^bits fp32 when they
 *    fit precomputed_table_max_bytes (2 GiB);
 *  - hnswlib (github:nmslib/hnswlib hnswlib/hnswalg.h HierarchicalNSW): per element
 *    size_links_level0_ = maxM0 x 4 + 4 (maxM0 = 2M), the fp32 vector, an 8-byte label, an
 *    8-byte linkLists_ pointer, a 4-byte element level, a std::mutex in link_list_locks_
 *    (40 bytes on x86-64 glibc), and size_links_per_element_ = M x 4 + 4 per upper level;
 *  - DiskANN (github:microsoft/DiskANN workflows/SSD_index.md): in RAM, "to use b byte PQ
 *    compressed representation in memory, use B = (n * b) / 2^30" (plus 256 x d fp32 PQ
 *    pivots and any cached nodes); on SSD, each node's full vector, its degree and R neighbour
 *    ids, packed into 4096-byte sectors after one header sector.
 * Levels: HNSW draws a node's top level as floor(-ln(U) x mL) with mL = 1/ln(M) (Malkov &
 * Yashunin 2018, sec. 4; hnswalg.h getRandomLevel, faiss HNSW::set_default_probas), so
 * P(level >= l) = M^-l and the expected number of upper levels per node is 1 / (M - 1).
 */

export const INDEX_KINDS = ['flat', 'hnsw', 'ivf-flat', 'ivf-pq', 'diskann'] as const;
export type IndexKind = (typeof INDEX_KINDS)[number];
export const HNSW_LIBRARIES = ['faiss', 'hnswlib'] as const;
export type HnswLibrary = (typeof HNSW_LIBRARIES)[number];
/** How a vector is stored in flat, HNSW, IVF-flat and DiskANN (on disk) codes. */
export const VECTOR_PRECISIONS = ['fp32', 'fp16', 'int8', 'binary'] as const;
export type VectorPrecision = (typeof VECTOR_PRECISIONS)[number];

/** Bytes per dimension: fp32 4, fp16 2 (FAISS SQfp16), int8 1 (SQ8), binary 1/8 (IndexBinaryFlat d/8). */
export const BYTES_PER_DIMENSION: Record<VectorPrecision, number> = { fp32: 4, fp16: 2, int8: 1, binary: 1 / 8 };

export interface IndexSpec {
  kind: IndexKind;
  /** vectors indexed (one per chunk) */
  vectors: number;
  dimension: number;
  precision: VectorPrecision;
  hnsw: { m: number; efConstruction: number; efSearch: number; library: HnswLibrary };
  ivf: { nlist: number; nprobe: number };
  pq: { m: number; bits: number };
  diskann: { r: number; searchList: number; pqBytes: number };
}

/** FAISS defaults and guidelines, for options the user leaves out. */
export const INDEX_DEFAULTS = {
  // faiss IndexHNSWFlat(d, M = 32); HNSW efConstruction 40, efSearch 16 (faiss/impl/HNSW.h)
  faiss: { m: 32, efConstruction: 40, efSearch: 16 },
  // hnswlib HierarchicalNSW(M = 16, ef_construction = 200), ef_ = 10 (hnswalg.h)
  hnswlib: { m: 16, efConstruction: 200, efSearch: 10 },
  // Guidelines to choose an index: "nlist between 4*sqrt(N) and 16*sqrt(N)"; nprobe default 1 (IndexIVF)
  nlistPerSqrtN: 4,
  nprobe: 1,
  // 8-bit codes, the FAISS default nbits of IndexIVFPQ / IndexPQ
  pqBits: 8,
  // DiskANN SSD_index.md: "R ... typically between 60 and 150"; L "between 75 to 200"
  diskannR: 64,
  diskannL: 100,
} as const;

/** FAISS IndexIVFPQ: precomputed tables are used while they fit this many bytes (precomputed_table_max_bytes). */
export const PRECOMPUTED_TABLE_MAX_BYTES = 2 * bytesInGiB;
/** std::mutex on x86-64 Linux (glibc pthread_mutex_t): sizeof 40. */
const MUTEX_BYTES = 40;
/** DiskANN disk layout: 4 KiB sectors (defaults.h SECTOR_LEN 4096), the first holding metadata. */
const SECTOR_BYTES = 4096;

/**
 * Efficiency assumed for index build and search on the index device, a fraction of its fp32
 * peak (compute) or bandwidth (memory): k-means and list assignment are matrix products
 * (FAISS GPU uses cuBLAS); graph construction and traversal are gathers of scattered vectors
 * with neighbour-selection work on top of the beam search. The graph figure is set so that
 * 50M 768-d vectors (M 32, efConstruction 40) build in about 10 minutes on one H100 (67
 * TFLOP/s fp32), inside a published report (cuVS CAGRA under 30 minutes on an H100, against
 * 8-12 hours for CPU HNSW on 32 cores: spheron.network "Deploy NVIDIA cuVS CAGRA", 2025). Assumptions, not measurements:
 * the figures that use them are marked approximate.
 */
export const INDEX_EFFICIENCY = { gemm: 0.5, graph: 0.005, scan: 0.8 } as const;
/** k-means iterations (faiss ClusteringParameters niter = 25) and training points per centroid (max_points_per_centroid = 256). */
const KMEANS = { iterations: 25, pointsPerCentroid: 256 };
/** One random 4 KiB SSD read, for DiskANN search (NVMe random-read latency, ~100 us). */
const SSD_READ_SECONDS = 100e-6;

const source = {
  faissWiki: 'github:facebookresearch/faiss wiki "Guidelines to choose an index" and "Faiss indexes" (bytes per vector)',
  faissHnsw: 'faiss/impl/HNSW.h: neighbors (int32; 2M slots at level 0, M per upper level), offsets (size_t), levels (int); wiki: "(d * 4 + M * 2 * 4) bytes per vector"',
  hnswlib: 'github:nmslib/hnswlib hnswlib/hnswalg.h: size_data_per_element_ = maxM0_ x 4 + 4 + data_size_ + sizeof(labeltype); linkLists_ (char*), element_levels_ (int), link_list_locks_ (std::mutex); upper levels size_links_per_element_ = maxM_ x 4 + 4 each',
  ivf: 'faiss/IndexIVF.h: inverted lists store code + 8-byte id per vector; quantizer IndexFlat of nlist x d fp32 centroids',
  pq: 'faiss/impl/ProductQuantizer.h: code_size = ceil(M x nbits / 8); centroids M x 2^nbits x (d / M) fp32; IndexIVFPQ precomputed tables nlist x M x 2^nbits fp32 up to precomputed_table_max_bytes (2 GiB)',
  diskann: 'github:microsoft/DiskANN workflows/SSD_index.md: "to use b byte PQ compressed representation in memory, use B = (n * b) / 2^30"; disk nodes: vector + 4-byte degree + R x 4-byte neighbours in 4096-byte sectors',
  levels: 'Malkov & Yashunin 2018 (HNSW) sec. 4: level ~ floor(-ln U x 1/ln M), so E[upper levels] = 1/(M - 1)',
};

export interface IndexResult {
  memoryBytes: number;
  diskBytes: number;
  buildSeconds: number;
  searchSeconds: number;
  bytesPerVector: number;
}

/** Bytes of one vector's code in a flat, HNSW or IVF-flat index. */
export const codeBytes = (s: Pick<IndexSpec, 'dimension' | 'precision'>): number => Math.ceil(s.dimension * BYTES_PER_DIMENSION[s.precision]);

/** Why these index settings cannot be built, or undefined. */
export function indexProblem(s: IndexSpec): string | undefined {
  if (s.kind === 'ivf-pq' && s.dimension % s.pq.m !== 0) return `--pq-m ${s.pq.m} must divide the vector dimension ${s.dimension} (each sub-quantizer takes d / m dimensions)`;
  if (s.kind === 'ivf-pq' && s.pq.bits > 16) return `--pq-bits ${s.pq.bits}: at most 16`;
  if (s.kind === 'hnsw' && s.hnsw.m < 2) return `--hnsw-m ${s.hnsw.m}: at least 2 links per vector`;
  if (s.kind === 'hnsw' && s.hnsw.library === 'hnswlib' && s.precision !== 'fp32') return `--vector-precision ${s.precision}: hnswlib stores fp32 vectors only (its L2 and inner-product spaces are float); use --hnsw-library faiss`;
  if (s.kind === 'diskann' && (s.precision === 'fp16' || s.precision === 'binary')) return `--vector-precision ${s.precision}: DiskANN indexes float, int8 or uint8 data (SSD_index.md data_type)`;
  if ((s.kind === 'ivf-flat' || s.kind === 'ivf-pq') && s.ivf.nlist > s.vectors) return `--nlist ${s.ivf.nlist} exceeds the ${s.vectors} vectors to index`;
  if ((s.kind === 'ivf-flat' || s.kind === 'ivf-pq') && s.ivf.nprobe > s.ivf.nlist) return `--nprobe ${s.ivf.nprobe} exceeds --nlist ${s.ivf.nlist}`;
  if (s.kind === 'diskann' && s.diskann.pqBytes > s.dimension * 4) return `--pq-m ${s.diskann.pqBytes}: more PQ bytes than the full vector holds`;
  return undefined;
}

/**
 * Adds index.* figures: memory (index.memory, bytes, with its parts), disk for DiskANN
 * (index.diskBytes), build time (index.buildSeconds) and search time per query
 * (index.searchSeconds) on `device`.
 *
 * @example flat, 1e6 vectors of 1024 fp32: 4 x 1024 x 1e6 = 4,096,000,000 B
 * @example FAISS HNSW M=32, 1e6 x 1024 fp32: 1e6 x (4096 + 4 x (64 + 32/31) + 8 + 4) = 4,368,129,032 B
 */
export function indexFigures(fig: Figures, s: IndexSpec, device: HardwareSpec): IndexResult {
  const n = s.vectors;
  const d = s.dimension;
  const code = codeBytes(s);
  const parts: string[] = [];
  const part = (id: string, label: string, value: number, formula: string, inputs: Figures[string]['inputs'], src: string, approximate = false) => {
    term(fig, { id: `index.memory.${id}`, label, unit: 'B', value, formula, inputs, source: src, approximate });
    parts.push(`index.memory.${id}`);
  };
  const flops = { compute: 0, kind: 'gemm' as 'gemm' | 'graph' };
  let searchBytes = 0;
  let searchEfficiency: number = INDEX_EFFICIENCY.scan;
  let diskBytes = 0;
  let searchExtraSeconds = 0;

  switch (s.kind) {
    case 'flat':
      part('vectors', 'Vectors (flat codes)', n * code, 'vectors x ceil(d x bytesPerDimension)', { vectors: n, d, bytesPerDimension: BYTES_PER_DIMENSION[s.precision] }, source.faissWiki);
      // brute force: every code read once per query
      searchBytes = n * code;
      break;
    case 'hnsw': {
      const { m, efConstruction, efSearch, library } = s.hnsw;
      const upperLevels = 1 / (m - 1);
      part('vectors', 'Vectors', n * code, 'vectors x ceil(d x bytesPerDimension)', { vectors: n, d, bytesPerDimension: BYTES_PER_DIMENSION[s.precision] }, library === 'faiss' ? source.faissWiki : source.hnswlib);
      if (library === 'faiss') {
        part('graph', 'HNSW graph (links, offsets, levels)', n * (4 * (2 * m + m * upperLevels) + 8 + 4), 'vectors x (4 x (2M + M / (M - 1)) + 8 offset + 4 level)', { vectors: n, M: m, upperLevelsPerVector: upperLevels }, `${source.faissHnsw}; ${source.levels}`, true);
      } else {
        part('graph', 'HNSW graph (level-0 links, labels, pointers, locks, upper levels)', n * (2 * m * 4 + 4 + 8 + 8 + 4 + MUTEX_BYTES + (m * 4 + 4) * upperLevels), 'vectors x (2M x 4 + 4 + 8 label + 8 pointer + 4 level + 40 mutex + (4M + 4) / (M - 1))', { vectors: n, M: m, mutexBytes: MUTEX_BYTES, upperLevelsPerVector: upperLevels }, `${source.hnswlib}; ${source.levels}`, true);
      }
      // construction: a beam search of width efConstruction per insert, expanding up to 2M
      // neighbours of each candidate at level 0 (Malkov & Yashunin 2018, alg. 1-2)
      flops.compute = n * efConstruction * 2 * m * 2 * d;
      flops.kind = 'graph';
      searchBytes = efSearch * 2 * m * code;
      searchEfficiency = INDEX_EFFICIENCY.graph;
      break;
    }
    case 'ivf-flat':
    case 'ivf-pq': {
      const { nlist, nprobe } = s.ivf;
      const pq = s.kind === 'ivf-pq';
      const listCode = pq ? Math.ceil((s.pq.m * s.pq.bits) / 8) : code;
      part('codes', pq ? 'PQ codes with 8-byte ids' : 'Vectors with 8-byte ids', n * (listCode + 8), pq ? 'vectors x (ceil(m x bits / 8) + 8)' : 'vectors x (ceil(d x bytesPerDimension) + 8)', { vectors: n, ...(pq ? { m: s.pq.m, bits: s.pq.bits } : { d, bytesPerDimension: BYTES_PER_DIMENSION[s.precision] }) }, `${source.faissWiki}; ${pq ? source.pq : source.ivf}`);
      part('centroids', 'Coarse centroids (nlist x d fp32)', nlist * d * 4, 'nlist x d x 4', { nlist, d }, source.ivf);
      const ksub = 2 ** (pq ? s.pq.bits : 0);
      if (pq) {
        part('codebooks', 'PQ centroids (2^bits x d fp32)', ksub * d * 4, '2^bits x d x 4', { bits: s.pq.bits, d }, source.pq);
        const tables = nlist * s.pq.m * ksub * 4;
        part('precomputedTables', 'IVF-PQ precomputed L2 tables', tables <= PRECOMPUTED_TABLE_MAX_BYTES ? tables : 0, 'nlist x m x 2^bits x 4 (0 above 2 GiB: FAISS then computes them per query)', { nlist, m: s.pq.m, bits: s.pq.bits, maxBytes: PRECOMPUTED_TABLE_MAX_BYTES }, source.pq);
      }
      // build: k-means on up to 256 points per centroid, 25 iterations; assign every vector;
      // PQ: k-means of 2^bits centroids per sub-space, then encode every vector
      const train = Math.min(n, KMEANS.pointsPerCentroid * nlist);
      flops.compute = KMEANS.iterations * train * nlist * 2 * d + n * nlist * 2 * d + (pq ? KMEANS.iterations * Math.min(n, KMEANS.pointsPerCentroid * ksub) * ksub * 2 * d + n * ksub * 2 * d : 0);
      // search: the coarse centroids, then nprobe lists of n / nlist codes each
      searchBytes = nlist * d * 4 + nprobe * (n / nlist) * (listCode + 8);
      break;
    }
    case 'diskann': {
      const { r, searchList, pqBytes } = s.diskann;
      part('pqCodes', 'PQ-compressed vectors in RAM', n * pqBytes, 'vectors x pqBytes (SSD_index.md: B = n x b / 2^30)', { vectors: n, pqBytes }, source.diskann);
      part('pqPivots', 'PQ pivots (256 x d fp32)', 256 * d * 4, '256 x d x 4', { d }, source.diskann);
      const node = code + 4 + 4 * r;
      diskBytes = node <= SECTOR_BYTES ? (1 + Math.ceil(n / Math.floor(SECTOR_BYTES / node))) * SECTOR_BYTES : (1 + n * Math.ceil(node / SECTOR_BYTES)) * SECTOR_BYTES;
      term(fig, { id: 'index.diskBytes', label: 'Index on SSD (full vectors and graph)', unit: 'B', value: diskBytes, formula: 'sectors of 4096 B: 1 header + ceil(vectors / floor(4096 / nodeBytes)), nodeBytes = vector + 4 + 4R', inputs: { vectors: n, nodeBytes: node, r }, source: source.diskann });
      // Vamana build: two passes, each a greedy search with list L per point over R-degree nodes
      flops.compute = 2 * n * searchList * r * 2 * d;
      flops.kind = 'graph';
      // search: PQ distances in RAM for L candidates' neighbours, and about L / 4 SSD reads
      // (beam width 4) of full nodes for re-ranking
      searchBytes = searchList * r * pqBytes;
      searchEfficiency = INDEX_EFFICIENCY.graph;
      searchExtraSeconds = (searchList / 4) * SSD_READ_SECONDS;
      break;
    }
  }
  const memory = sum(fig, { id: 'index.memory', label: 'Index memory', unit: 'B', parts, source: 'sum of the index\'s data structures' });
  const bytesPerVector = term(fig, { id: 'index.bytesPerVector', label: 'Index bytes per vector', unit: 'B', value: memory / n, formula: 'index.memory / vectors', inputs: { memory, vectors: n }, source: 'division' });

  // Build on the index device: matrix products at a GEMM efficiency, graph construction at a
  // gather efficiency of the fp32 peak; a flat index only writes its codes.
  const fp32 = device.compute.fp32?.value ?? device.compute.tf32?.value ?? device.compute.bf16!.value!;
  const bandwidth = device.memoryBandwidth.value!;
  const buildSeconds = s.kind === 'flat'
    ? term(fig, { id: 'index.buildSeconds', label: 'Index build time', unit: 's', value: memory / bandwidth, formula: 'index.memory / bandwidth (a flat index only stores its codes)', inputs: { memory, bandwidth }, source: device.memoryBandwidth.source, approximate: true })
    : term(fig, { id: 'index.buildSeconds', label: 'Index build time', unit: 's', value: flops.compute / (fp32 * INDEX_EFFICIENCY[flops.kind]), formula: s.kind === 'hnsw' ? 'vectors x efConstruction x 2M x 2d / (fp32 peak x graph efficiency)' : s.kind === 'diskann' ? '2 passes x vectors x L x R x 2d / (fp32 peak x graph efficiency)' : '(25 k-means iterations x train points x nlist + vectors x nlist) x 2d (+ PQ training and encoding) / (fp32 peak x GEMM efficiency)', inputs: { flops: flops.compute, fp32PeakFlopsPerSecond: fp32, efficiency: INDEX_EFFICIENCY[flops.kind], device: device.id }, source: `distance computations of the build algorithm (Malkov & Yashunin 2018; Jégou et al. 2011; Subramanya et al. 2019 DiskANN); efficiency ${INDEX_EFFICIENCY[flops.kind]} of the fp32 peak is an assumption; ${device.compute.fp32?.source ?? 'fp32 peak'}`, approximate: true });
  const searchSeconds = term(fig, { id: 'index.searchSeconds', label: 'Index search time per query', unit: 's', value: searchBytes / (bandwidth * searchEfficiency) + searchExtraSeconds, formula: s.kind === 'flat' ? 'vectors x code bytes / (bandwidth x scan efficiency)' : s.kind === 'hnsw' ? 'efSearch x 2M x code bytes / (bandwidth x gather efficiency)' : s.kind === 'diskann' ? 'L x R x pqBytes / (bandwidth x gather efficiency) + L / 4 SSD reads of 100 us' : '(nlist x d x 4 + nprobe x vectors / nlist x (code + 8)) / (bandwidth x scan efficiency)', inputs: { bytesRead: searchBytes, bandwidth, efficiency: searchEfficiency, ...(s.kind === 'diskann' ? { ssdSeconds: searchExtraSeconds } : {}) }, source: `bytes the search reads on ${device.name} (one query); ${device.memoryBandwidth.source}`, approximate: true });
  return { memoryBytes: memory, diskBytes, buildSeconds, searchSeconds, bytesPerVector };
}
