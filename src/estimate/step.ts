import type { Link } from '../inputs/hardware.js';
import { bytesPerElement } from '../inputs/precision.js';
import { CALIBRATION } from './calibration.js';
import { engineHostOf, expertEfficiency, hardwareClass, hostStepOf, mbuAt, mfuAt, phaseEfficiency, rooflineSeconds, type Calibration, type EfficiencyParams, type PhaseEfficiency } from './efficiency.js';
import { attendedLayerTokens, decodeStepFlops, prefillLinearFlops, type TokenFlops } from './flops.js';
import type { EstimateInput } from './input.js';
import { indexerBytesPerToken, kvElementsPerToken, layerGroups, subLayers } from './layers.js';
import { kvBytesPerTokenPerLayer, stateBytesPerSequence, stateFormatsOf } from './memory.js';
import { dpGroups, groupLink, hierarchicalAllReduceSeconds, kvHeadShare, layoutOf, sendSeconds, topologyOf, type Parallel, type Topology } from './parallel.js';
import { expertAllToAllSeconds, expertImbalance, type AllToAllMode } from './expert-parallel.js';
import { expertParams, moeLayers } from './params.js';
import { extraLaunchesPerStep } from './launches.js';
import type { Peak } from './peak.js';
import type { SpeculativeModel } from './speculative.js';
import type { WeightLayout } from './weights.js';

/**
 * The engine step model: how long one forward pass of a serving engine takes, given the decode
 * sequences in it (one token each, at their contexts) and the prompt tokens it prefills. One
 * model, two callers: `latencyFigures` (estimate's fixed shape, src/estimate/latency.ts) and the
 * discrete-event simulator (src/estimate/simulate.ts), so the two agree by construction.
 *
 * Each phase is a roofline (Williams et al. 2009; as applied to LLMs in LLM-Viewer, Yuan et al.
 * 2024): time = roofline(FLOPs / (peak x mfu), bytes / (bandwidth x mbu)) + communication, the
 * roofline softened near its ridge point by the fitted overlap exponent (efficiency.ts rooflineSeconds), with
 * mfu and mbu from the calibrated situation model (efficiency.ts). A step pays the fixed
 * overhead once. Work is split evenly over the tensor-parallel ranks; pipeline stages run one
 * after another for a token, so latency divides by tp, not tp x pp.
 */

/**
 * Distinct experts a batch of b tokens touches per MoE layer, each token picking k of E:
 * E x (1 - (1 - k/E)^b) (expected coverage under uniform routing).
 */
export const expertsTouched = (experts: number, topK: number, tokens: number): number =>
  experts * (1 - Math.pow(1 - topK / experts, tokens));

/** What one phase of a step pushes through the devices (summed over the tensor-parallel group). */
export interface PhaseWork {
  /** tokens through the matrix products */
  tokens: number;
  flops: number;
  /** bytes read and written (weights, KV cache) */
  bytes: number;
  /** a step with prompt tokens in it (DeepEP's auto mode sends it with the normal kernels); absent = decode */
  prompt?: boolean;
  /** of `bytes` and `flops`, the routed experts' share (split over all the replica's ranks; their grouped GEMMs run at expertEfficiency); absent = 0 */
  expertBytes?: number;
  expertFlops?: number;
  /**
   * attention data parallelism: the share of the rest (attention, dense layers, KV) that the
   * busiest attention group carries: 1 / dpAttention when sequences spread evenly, 1 for a lone
   * prompt on one group; absent = an even spread
   */
  groupShare?: number;
  /**
   * attention data parallelism: the tokens, FLOPs and bytes outside the routed experts of the
   * attention group that carries the most, each the largest over the groups (its own weight copy
   * and KV included). The groups step together (the MoE layers between them take every group's
   * tokens), so a step lasts as long as its busiest rank's: TensorRT-LLM's ADP balance blog,
   * time_i = max over ranks m of time_{i,m} (docs/source/blogs/tech_blog/blog10_ADP_Balance_Strategy.md);
   * SGLang runs an idle batch on a DP rank with nothing to do so that every rank enters the MoE
   * layers together. Absent = `groupShare` of an even spread.
   */
  busiestGroup?: GroupLoad;
  /**
   * attention score elements the step forms (query positions x keys x heads, summed over layers):
   * a memory pass of their own where the engine runs attention without FlashAttention; absent = 0
   */
  scoreElements?: number;
}

/** What one attention group carries outside the routed experts (PhaseWork.busiestGroup). */
export interface GroupLoad {
  tokens: number;
  flops: number;
  bytes: number;
}

/** One phase's time, term by term (seconds), with the efficiencies it ran at. */
export interface PhaseTime {
  eff: PhaseEfficiency;
  mfu: number;
  mbu: number;
  computeSeconds: number;
  memorySeconds: number;
  rooflineSeconds: number;
  bound: 'compute' | 'memory';
  /**
   * the separate pass that expands quantized weights to a 16-bit copy before the matrix products,
   * where the engine dequantizes that way (EngineSpec kernels.dequantizePrefill); else 0
   */
  dequantizeSeconds: number;
  /**
   * attention through memory beyond the roofline: the scores written and read where the engine
   * runs attention without FlashAttention (kernels.flashAttention false), or the K/V cache streamed
   * once per query tile where that outlasts the attention's FLOPs (kernels.flashAttentionQueryTile); else 0
   */
  scoresSeconds: number;
  /** tensor-parallel all-reduces, expert-parallel all-to-all, pipeline sends */
  commTpSeconds: number;
  commEpSeconds: number;
  commPpSeconds: number;
  /** all-reduces per step, their message and the all-to-all bytes */
  allReduces: number;
  messageBytes: number;
  epBytes: number;
  /** expert parallelism: how the all-to-alls ran, max / mean routed tokens per rank, the share of traffic leaving the domain */
  epMode: Exclude<AllToAllMode, 'auto'>;
  imbalance: number;
  epCrossShare: number;
}

export interface StepModelArgs {
  input: EstimateInput;
  peak: Peak;
  /** the link the tensor-parallel group talks over */
  link: Link;
  weightBytes: number;
  totalParams: number;
  /** FLOPs per token of the model (flops.ts tokenFlops) */
  flops: { perToken: TokenFlops };
  /** per-tensor weight layout; absent for a bare parameter count */
  tensors: WeightLayout | undefined;
  calibration?: Calibration;
}

/**
 * What one engine step carries. Decode: sequences emitting one token each, with their KV summed
 * over layers and sequences (memory.ts kvLayerTokens). Prefill: prompt tokens (of one or more
 * prompts, whole or chunks), the keys they attend summed over layers (flops.ts prefillKeys), the
 * KV they write, and how many prompts the step finishes (each computes one token's logits).
 */
export interface StepContents {
  decodeSequences: number;
  decodeKvLayerTokens: number;
  prefillTokens: number;
  prefillKeys: number;
  prefillKvLayerTokens: number;
  prefillLogits: number;
}

export interface StepModel {
  /** tensor-parallel ranks the work is split over (= layout.tp) */
  tp: number;
  layout: Parallel;
  moeLayers: number;
  /** the links expert-parallel all-to-alls and pipeline sends go over (before commEfficiency) */
  epLink: Link;
  /** the scale-up domain and scale-out network collectives run over (parallel.ts topologyOf) */
  topology: Topology;
  ppLink: Link;
  /** KV bytes per token per layer, summed over the devices (replicated KV heads on each) */
  kvBytesPerLayerToken: number;
  /** the calibrated fixed cost of every step (launches, sampling, scheduling), seconds */
  overheadSeconds: number;
  /** kernels a step launches beyond its dense layers' (launches.ts), each at kernelSeconds */
  extraLaunches: number;
  /**
   * Bytes a decode step moves: the weights it reads (the experts its `sequences` tokens touch)
   * and the KV cache of its sequences, `kvLayerTokens` summed over them (memory.ts kvLayerTokens).
   */
  decodeBytes: (sequences: number, kvLayerTokens: number) => number;
  /** Bytes a prefill pass of `tokens` prompt tokens moves: weights, and the KV it writes. */
  prefillBytes: (tokens: number, kvLayerTokensWritten: number) => number;
  /**
   * What a phase of `tokens` tokens from `sequences` sequences adds to its work for expert and
   * attention data parallelism: the routed experts' share, the busiest attention group's share,
   * whether prompts are in it (PhaseWork expertBytes, expertFlops, groupShare, prompt).
   */
  parallelWork: (tokens: number, sequences: number, prompt: boolean) => Pick<PhaseWork, 'prompt' | 'expertBytes' | 'expertFlops' | 'groupShare'>;
  /**
   * One phase's roofline and communication, term by term, under the calibration the model was
   * built with, or under `params` (the calibration fit re-times the same work, accuracy-lib.ts).
   */
  phase: (work: PhaseWork, params?: EfficiencyParams) => PhaseTime;
  /**
   * phase() under the model's calibration, remembering the last work and its time: where the next
   * call's work is equal field by field, the same time without computing it again (a search
   * re-times one deployment at many batches, and under load the prefill of a prompt is the same
   * work at each).
   */
  phaseAgain: (work: PhaseWork) => PhaseTime;
  /** Roofline + dequantization + communication of one phase, seconds (the sum `phase` itemizes). */
  phaseSeconds: (work: PhaseWork, params?: EfficiencyParams) => number;
  /** The fixed cost of a step under `params` (default: the model's calibration), seconds. */
  overheadFor: (params: EfficiencyParams) => number;
  /** The work of a step's decode phase and of its prefill phase. */
  decodeWork: (sequences: number, kvLayerTokens: number) => PhaseWork;
  prefillWork: (c: Pick<StepContents, 'prefillTokens' | 'prefillKeys' | 'prefillKvLayerTokens' | 'prefillLogits'>) => PhaseWork;
  /**
   * One forward pass carrying a decode phase and a prefill phase together (continuous batching
   * mixes them, Orca / Sarathi-Serve / vLLM V1): their tokens, FLOPs and KV bytes add up, but the
   * weights are read once, for the experts all its tokens touch.
   */
  mixedWork: (decode: PhaseWork, prefill: PhaseWork) => PhaseWork;
  /**
   * Seconds of one engine step: the fixed overhead once, plus the roofline and communication of
   * what it carries: decodes, prompt tokens, or both in one pass (mixedWork). `estimate` times
   * its steady-load steps the same way (latency.ts: a prompt's step, the decode step it joins).
   */
  stepSeconds: (c: StepContents) => number;
  /**
   * Seconds of one step of an attention data-parallel replica whose groups each carry their own
   * decodes and prompt chunks (one StepContents per group, the idle ones empty): the groups run
   * together, the step as long as the busiest group's attention and dense layers plus the routed
   * experts of every group's tokens (PhaseWork.busiestGroup). One group: stepSeconds.
   */
  groupStepSeconds: (groups: StepContents[]) => number;
  /** speculative decoding's step (speculative.ts withSpeculation); absent = plain decoding */
  speculative?: SpeculativeModel;
}

/**
 * Builds the step model of one deployment once: everything that does not change from step to
 * step (links, KV bytes per token, the weight bytes a step reads) is computed here, so a step
 * costs a few multiplications.
 */
export function stepModel(args: StepModelArgs): StepModel {
  const { input, peak, weightBytes, totalParams, tensors, calibration = CALIBRATION } = args;
  const { model: m, hardware: hw } = input;
  const par = layoutOf(input);
  const n = par.tp;
  const epActive = m.moe !== undefined && par.ep > 1;
  // Links reach commEfficiency of their bandwidth (calibrated; nccl-tests bus bandwidth): a
  // collective's bytes go at bandwidth x commEfficiency, its latency hops unchanged.
  const topology = topologyOf(hw, input.gpusPerNode);
  const epLinkRaw = groupLink(hw, par.ep, input.gpusPerNode).link;
  const ppLinkRaw = groupLink(hw, par.tp * par.pp, input.gpusPerNode).link;
  // Attention data parallelism (--dp-attention): the replica's tp ranks form `dp` attention
  // groups of tpA = tp / dp ranks; each group runs attention (and the dense layers) for its own
  // sequences, holds their KV only, and reads its own copy of the non-expert weights; the routed
  // experts span all tp ranks (SGLang --enable-dp-attention, lmsys.org/blog/2024-12-04-sglang-v0-4).
  const dp = dpGroups(par);
  const tpA = n / dp;
  // KV bytes per token per layer summed over the ranks that hold it: a group's tpA ranks (MLA's
  // latent, or KV heads replicated when fewer than ranks, on each of them).
  const kvPerLayer = kvBytesPerTokenPerLayer(m, input.kv) * kvHeadShare(m, tpA) * tpA;
  // DeepSeek-V3.2 (DSA): a decode step reads every key of the indexer's cache but only the
  // topK latents it picks (flops.ts attendedLayerTokens); MLA's latent is on every rank of a group.
  const tf0 = args.flops.perToken;
  const sparseGroup = tf0.sparse ? layerGroups(m).find((g) => g.mixer.kind === 'sparse-mla') : undefined;
  const latentPerLayer = sparseGroup ? kvElementsPerToken(m, sparseGroup.mixer) * bytesPerElement(input.kv) * tpA : 0;
  const indexerPerLayer = sparseGroup ? indexerBytesPerToken(sparseGroup.mixer) * tpA : 0;
  // Decode attention kernels that do not group the query heads of a KV head read each head's K/V
  // once per query head (TensorRT-LLM's masked MHA kernel before the XQA kernel of v0.8: "XQA ...
  // optimization for MQA and GQA during generation phase ... reducing data loading",
  // docs/source/blogs/XQA-kernel.md); summed over the ranks, heads x headDim x 2 x bytes per token.
  const perQueryHead = input.engine?.kernels?.decodeKvReads?.value === 'per-query-head' && !m.mla && m.kvHeads < m.heads;
  const decodeKvPerLayer = perQueryHead ? 2 * m.heads * m.headDim * bytesPerElement(input.kv) : kvPerLayer;
  const decodeKvBytes = (sequences: number, kvLayerTokens: number) => (sparseGroup ? kvLayerTokens * indexerPerLayer + attendedLayerTokens(tf0, sequences, kvLayerTokens) * latentPerLayer : kvLayerTokens * decodeKvPerLayer);
  // Recurrent state (linear attention, Mamba): each decode step reads and writes every
  // sequence's state once (vLLM and SGLang update it in place), summed over the ranks it is split on.
  const statePerSequence = stateBytesPerSequence(m, stateFormatsOf(input));
  const actBytes = bytesPerElement(input.activations);
  // Weights read once per step. The input embedding is a row gather, not a full read; for MoE
  // only the experts the step's tokens touch are read. Embedding and routed-expert bytes come
  // from the per-tensor layout (src/estimate/weights.ts), each in the format it is stored in
  // (gpt-oss: MXFP4 experts, bf16 embedding).
  const embeddingRead = m.tiedEmbeddings ? 0 : tensors ? tensors.embeddingBytes : m.vocab * m.hidden * bytesPerElement(input.weights);
  const routedBytes = m.moe ? (tensors ? tensors.routedExpertBytes : moeLayers(m) * m.moe.experts * expertParams(m) * (weightBytes / totalParams)) : 0;
  const idleExperts = (tokens: number) => (m.moe ? routedBytes * (1 - expertsTouched(m.moe.experts, m.moe.topK, tokens) / m.moe.experts) : 0);
  // A text token never passes through the vision tower: its weights are read only by a prefill
  // that encodes images (the request's --images).
  const visionBytes = tensors?.visionBytes ?? 0;
  // Redundant experts (EPLB) are copies: a touched expert's copies are each read by their rank.
  const slotsPerExpert = m.moe ? (m.moe.experts + (par.redundantExperts ?? 0)) / m.moe.experts : 1;
  // A batch of copies of one prompt, decoded greedily, routes every copy's token to the same
  // experts (Workload.identicalSequences): the experts touched are those of one sequence's tokens.
  const routedTokens = input.workload.identicalSequences ? (tokens: number) => Math.max(1, tokens / Math.max(1, input.workload.batch)) : (tokens: number) => tokens;
  const expertBytesRead = (tokens: number) => (routedBytes - idleExperts(routedTokens(tokens))) * slotsPerExpert;
  // Every attention group reads its own copy of the weights outside the routed experts.
  // Per-layer embedding tables (Gemma 3n) are row gathers too.
  const sharedRead = weightBytes - embeddingRead - routedBytes - visionBytes - (tensors?.lookupBytes ?? 0);
  const weightsRead = (tokens: number) => sharedRead * dp + expertBytesRead(tokens);
  // Megatron-LM TP: two all-reduces of the activations per layer (after attention and MLP), each
  // within an attention group; a MoE layer's MLP all-reduce spans the whole tp group (attention
  // DP: the groups' tokens gathered and scattered back, SGLang DP attention), or becomes the
  // dispatch / combine all-to-alls under expert parallelism.
  const sublayers = layerGroups(m).reduce((a, g) => a + g.count * subLayers(g), 0);
  const moeAllReduces = m.moe && !epActive ? moeLayers(m) : 0;
  const allReduces = sublayers - (m.moe ? moeLayers(m) : 0);
  // Expert parallelism (expert-parallel.ts): the routed experts' FLOPs (2 per expert parameter
  // per routed token), which the rank receiving the most tokens runs `imbalance` times over, and
  // the dispatch / combine all-to-alls. DeepEP carries them where an EP group spans domains
  // (`auto`: normal kernels for prompt steps, low-latency for decode), plain NCCL otherwise.
  const moeCount = m.moe ? moeLayers(m) : 0;
  const expertFlopsOf = (tokens: number) => (m.moe ? 2 * tokens * m.moe.topK * expertParams(m) * moeCount : 0);
  const requestedMode = input.expertParallel?.allToAll ?? 'auto';
  const deepEp = par.ep > topology.domain;
  const modeOf = (work: PhaseWork): Exclude<AllToAllMode, 'auto'> => (requestedMode !== 'auto' ? requestedMode : !deepEp ? 'nccl' : work.prompt ? 'normal' : 'low-latency');
  // DeepEP dispatches FP8 (with one fp32 scale per 128 elements) when the experts run in FP8, and combines in BF16.
  const fp8Dispatch = input.weights.compute === 'fp8';
  const imbalanceOf = (tokens: number) => (epActive ? (input.expertParallel?.imbalance ?? expertImbalance({ ep: par.ep, experts: m.moe!.experts, redundant: par.redundantExperts ?? 0, topK: m.moe!.topK, tokens }).value) : 1);
  // One expert's weight matrix on one device: the expert split tp / ep ways, each matrix a third of it
  // (gate, up, down): the size its GEMM streams (efficiency.ts expertEfficiency).
  const expertMatrixBytes = m.moe ? routedBytes / (moeLayers(m) * m.moe.experts) / 3 / Math.max(1, n / par.ep) : 0;
  // Engines whose routed experts at a few tokens per step run as one matrix-vector kernel over the
  // selected experts (llama.cpp mul_mat_vec_q with ids: kernels.expertVectorTokens) read them as
  // dense weights are read: no grouped-GEMM tiles to fill, so expertEfficiency applies only above
  // (quantized GGUF experts only: f16 experts take another path).
  const expertVectorTokens = input.weights.scope === 'gguf' && input.weights.elementBits < 16 ? (input.engine?.kernels?.expertVectorTokens?.value ?? 0) : 0;
  const expertEffAt = (params: EfficiencyParams, tokens: number): number => (!m.moe ? 1 : tokens <= expertVectorTokens ? 1 : expertEfficiency(params, expertMatrixBytes));
  // llama.cpp's CUDA/HIP path for quantized (GGUF) weights and batches above its vector kernels'
  // 8 rows: each weight matrix is expanded to a 16-bit copy, then cuBLAS multiplies (ggml-cuda
  // ggml_cuda_op_mul_mat_cublas converts src0 to f16; MMVQ serves up to 8 rows). The pass reads
  // the quantized bytes and writes 2 bytes per weight, before and apart from the GEMM.
  // The pass repeats for every micro-batch the engine splits the step into (llama.cpp n_ubatch).
  const kernels = input.engine?.kernels;
  const dequantizes = kernels?.dequantizePrefill?.value === true && input.weights.scope === 'gguf';
  const microBatch = kernels?.microBatchTokens?.value ?? Infinity;
  const dequantizeBytes = (work: PhaseWork) => (dequantizes && work.tokens > 8 ? Math.ceil(work.tokens / microBatch) * weightsRead(work.tokens) * (1 + (2 * totalParams) / weightBytes) : 0);
  // Attention without FlashAttention (llama.cpp with -fa off: ggml mul_mat K x Q, soft_max_ext,
  // mul_mat V x KQ) forms the scores in memory: 4 B of f32 written by the KQ product, 8 B read and
  // written by the softmax, 4 B read and 2 B written converting them to f16 for the KQV product,
  // 2 B read by it: 20 B per score element, a pass apart from the compute-bound GEMMs.
  const SCORE_BYTES = 20;
  const materializesScores = kernels?.flashAttention?.value === false;
  // FlashAttention that streams K/V per tile of query rows (EngineSpec kernels.flashAttentionQueryTile:
  // llama.cpp's CUDA mma kernel holds 64 rows, ncols1 prompt tokens x ncols2 query heads of one
  // K/V head, fattn.cu): each tile reads its K/V head's cache once, K and V of headDim elements per
  // key, and ncols1 rows of the f16 mask (2 B per token and key, shared by the ncols2 heads), so a
  // score element (query head x key) costs 2 x headDim x kvBytes / tile + 2 / ncols2 bytes. The
  // pass binds where it outlasts the attention's FLOPs at the phase's efficiency; the excess adds
  // to the step (the GEMMs and the attention kernel run one after the other). Decode steps run the
  // vector kernel, whose single read of the cache the decode bytes already carry.
  const tile = kernels?.flashAttentionQueryTile;
  const streamsKvPerTile = !materializesScores && tile !== undefined && tile.vendors.includes(hw.vendor) && m.kvHeads > 0;
  const gqaPacked = streamsKvPerTile ? Math.min(8, largestPowerOfTwoDividing(Math.max(1, Math.round(m.heads / m.kvHeads)))) : 1;
  const streamBytesPerScore = streamsKvPerTile ? kvBytesPerTokenPerLayer(m, input.kv) / (m.kvHeads * tile.value) + 2 / gqaPacked : 0;
  // attention FLOPs per score element: QK^T and PV, 2 x headDim each (flops.ts attentionFlopsPerKey)
  const attentionFlopsPerScore = 4 * m.headDim;
  // The stream runs at the bandwidth efficiency of its own size (a pass of its own, like the
  // dequantization pass), not that of the step's weight and KV bytes.
  const attentionStreamSeconds = (work: PhaseWork, mfu: number, params: EfficiencyParams): number => {
    if (!work.prompt || !streamsKvPerTile || !work.scoreElements) return 0;
    const streamBytes = work.scoreElements * streamBytesPerScore;
    const mbu = input.mbu ?? mbuAt(params.byClass[hardwareClass(hw)] ?? params.byClass.gpu, params, streamBytes / n);
    const stream = streamBytes / (hw.memoryBandwidth.value! * mbu * n);
    const compute = (work.scoreElements * attentionFlopsPerScore) / (peak.flopsPerSecond * mfu * n);
    return Math.max(0, stream - compute);
  };
  // Kernels beyond the dense layers' (MoE routing, MLA's extra projections, fp8 activation
  // quantization), as the engine version launches them (launches.ts), each at kernelSeconds.
  const extraLaunches = extraLaunchesPerStep(input);
  // The host's time between two GPU steps is the engine family's (efficiency.ts hostStepOf).
  const engineHost = engineHostOf(input.engine);
  const overheadFor = (p: EfficiencyParams) => hostStepOf(p, engineHost).seconds + p.layerOverheadSeconds * m.layers + (p.kernelSeconds ?? 0) * extraLaunches;
  const overheadSeconds = overheadFor(calibration.params);

  // The busiest attention group's tokens, FLOPs and bytes outside the routed experts: given
  // (busiestGroup), or `groupShare` of the spread-out work plus the group's own weight copy (each
  // group reads all of `sharedRead`, whatever its share of the sequences). One group: all of it.
  const busiestOf = (work: PhaseWork): GroupLoad => {
    const ef = work.expertFlops ?? 0;
    const eb = work.expertBytes ?? 0;
    if (dp === 1) return { tokens: work.tokens, flops: work.flops - ef, bytes: work.bytes - eb };
    if (work.busiestGroup) return work.busiestGroup;
    const g = work.groupShare ?? 1 / dp;
    return { tokens: work.tokens * g, flops: (work.flops - ef) * g, bytes: sharedRead + (work.bytes - eb - sharedRead * dp) * g };
  };
  const phase = (work: PhaseWork, params: EfficiencyParams = calibration.params): PhaseTime => {
    const eff = phaseEfficiency(params, hw, { tokensPerStep: work.tokens, bytesPerDevicePerStep: work.bytes / n, layers: m.layers, extraLaunches, engine: engineHost });
    const commEfficiency = eff.commEfficiency;
    const mfu = input.mfu ?? eff.mfu;
    const mbu = input.mbu ?? eff.mbu;
    // The busiest rank: its attention group's share of the rest, split over the group's tpA
    // ranks, and the routed experts' work split over all tp ranks, `imbalance` times the mean on
    // the rank receiving most (dp = 1: the work / tp, as Megatron-LM splits it).
    const imbalance = imbalanceOf(work.tokens);
    const ef = work.expertFlops ?? 0;
    const eb = work.expertBytes ?? 0;
    // The busiest group's work runs on its tpA = tp / dp ranks: x dp over the n ranks.
    const busy = busiestOf(work);
    // Small expert matrices stream at a lower share of the peaks (expertEfficiency, efficiency.ts).
    const expertEff = expertEffAt(params, work.tokens);
    const computeSeconds = (busy.flops * dp + (ef * imbalance) / expertEff) / (peak.flopsPerSecond * mfu * n);
    const memorySeconds = (busy.bytes * dp + eb / expertEff) / (hw.memoryBandwidth.value! * mbu * n);
    // Attention groups' all-reduces carry a group's tokens; the busiest group's with attention DP.
    const messageBytes = work.tokens * m.hidden * actBytes;
    const groupMessageBytes = dp > 1 ? busy.tokens * m.hidden * actBytes : messageBytes;
    // EP: dispatch and combine all-to-all of each token's topK hidden vectors per MoE layer.
    const epMode = modeOf(work);
    const epBytes = epActive ? work.tokens * m.moe!.topK * m.hidden * actBytes : 0;
    const a2a = epActive
      ? expertAllToAllSeconds({ tokens: work.tokens, topK: m.moe!.topK, hidden: m.hidden, ep: par.ep, topology, mode: epMode, dispatchBytes: epMode !== 'nccl' && fp8Dispatch ? 1 + 4 / 128 : actBytes, combineBytes: actBytes, commEfficiency, imbalance })
      : undefined;
    return {
      eff, mfu, mbu, computeSeconds, memorySeconds,
      rooflineSeconds: rooflineSeconds(computeSeconds, memorySeconds, params.rooflineExponent),
      dequantizeSeconds: dequantizeBytes(work) / (hw.memoryBandwidth.value! * mbu * n),
      scoresSeconds: materializesScores ? ((work.scoreElements ?? 0) * SCORE_BYTES) / (hw.memoryBandwidth.value! * mbu * n) : attentionStreamSeconds(work, mfu, params),
      bound: computeSeconds >= memorySeconds ? 'compute' : 'memory',
      commTpSeconds: allReduces * hierarchicalAllReduceSeconds(groupMessageBytes / commEfficiency, tpA, topology) + moeAllReduces * hierarchicalAllReduceSeconds(messageBytes / commEfficiency, n, topology),
      commEpSeconds: a2a ? moeCount * (a2a.dispatch + a2a.combine) : 0,
      // PP: each stage boundary sends the step's hidden states once.
      commPpSeconds: (par.pp - 1) * (par.pp > 1 ? sendSeconds(messageBytes / commEfficiency, ppLinkRaw) : 0),
      allReduces: allReduces + moeAllReduces, messageBytes, epBytes,
      epMode, imbalance, epCrossShare: a2a?.crossShare ?? 0,
    };
  };
  let last: { work: PhaseWork; time: PhaseTime } | undefined;
  const phaseAgain = (work: PhaseWork): PhaseTime => {
    if (last !== undefined && sameWork(last.work, work)) return last.time;
    const time = phase(work);
    last = { work, time };
    return time;
  };
  const tf = args.flops.perToken;
  const decodeBytes = (sequences: number, kvLayerTokens: number) => weightsRead(sequences) + decodeKvBytes(sequences, kvLayerTokens) + 2 * sequences * statePerSequence;
  const prefillBytes = (tokens: number, kvLayerTokensWritten: number) => weightsRead(tokens) + (input.images ? visionBytes : 0) + kvLayerTokensWritten * kvPerLayer;
  // The sum `phase` itemizes. Without expert or attention data parallelism (one share, no
  // imbalance, no all-to-all) it is computed without building phase's record: the calibration fit
  // and the simulator call it millions of times (test/step.test.ts and the accuracy runner check
  // that it equals phase's parts and estimate()).
  const wantedClass = hardwareClass(hw);
  const bandwidth = hw.memoryBandwidth.value!;
  const plain = !epActive && dp === 1;
  const phaseSeconds = (work: PhaseWork, params: EfficiencyParams = calibration.params) => {
    if (!plain) {
      const t = phase(work, params);
      return t.rooflineSeconds + t.dequantizeSeconds + t.scoresSeconds + t.commTpSeconds + t.commEpSeconds + t.commPpSeconds;
    }
    const c = params.byClass[wantedClass] ?? params.byClass.gpu;
    const mfu = input.mfu ?? mfuAt(c, params, work.tokens, wantedClass);
    const mbu = input.mbu ?? mbuAt(c, params, work.bytes / n);
    const expertEff = expertEffAt(params, work.tokens);
    const eb = work.expertBytes ?? 0;
    const ef = work.expertFlops ?? 0;
    let t = rooflineSeconds((work.flops - ef + ef / expertEff) / (peak.flopsPerSecond * mfu * n), (work.bytes - eb + eb / expertEff) / (bandwidth * mbu * n), params.rooflineExponent);
    if (dequantizes) t += dequantizeBytes(work) / (bandwidth * mbu * n);
    if (materializesScores) t += ((work.scoreElements ?? 0) * SCORE_BYTES) / (bandwidth * mbu * n);
    else if (streamsKvPerTile) t += attentionStreamSeconds(work, mfu, params);
    const messageBytes = work.tokens * m.hidden * actBytes;
    if (n > 1) t += (allReduces + moeAllReduces) * hierarchicalAllReduceSeconds(messageBytes / params.commEfficiency, n, topology);
    if (par.pp > 1) t += (par.pp - 1) * sendSeconds(messageBytes / params.commEfficiency, ppLinkRaw);
    return t;
  };
  // The busiest attention group's share of sequences: ceil(sequences / dp) of them.
  const groupShareOf = (sequences: number) => (dp > 1 ? Math.ceil(Math.max(1, sequences) / dp) / Math.max(1, sequences) : undefined);
  const parallelWork = (tokens: number, sequences: number, prompt: boolean): Pick<PhaseWork, 'prompt' | 'expertBytes' | 'expertFlops' | 'groupShare'> => ({
    ...(prompt ? { prompt } : {}),
    ...(m.moe ? { expertBytes: expertBytesRead(tokens), expertFlops: expertFlopsOf(tokens) } : {}),
    ...(dp > 1 ? { groupShare: groupShareOf(sequences) } : {}),
  });
  const decodeWork = (sequences: number, kvLayerTokens: number): PhaseWork => ({
    tokens: sequences, flops: decodeStepFlops(tf, sequences, kvLayerTokens), bytes: decodeBytes(sequences, kvLayerTokens), scoreElements: m.heads * kvLayerTokens,
    ...parallelWork(sequences, sequences, false),
  });
  const prefillWork = (c: Pick<StepContents, 'prefillTokens' | 'prefillKeys' | 'prefillKvLayerTokens' | 'prefillLogits'>): PhaseWork => ({
    tokens: c.prefillTokens,
    flops: prefillLinearFlops(tf, 1, c.prefillTokens, c.prefillLogits) + tf.attentionPrefill * c.prefillKeys + tf.scanPrefill * c.prefillTokens,
    bytes: prefillBytes(c.prefillTokens, c.prefillKvLayerTokens),
    scoreElements: m.heads * c.prefillKeys,
    // prompts run on one attention group each: as many groups as prompts finishing in the step
    ...parallelWork(c.prefillTokens, c.prefillLogits, true),
  });
  const mixedWork = (d: PhaseWork, p: PhaseWork): PhaseWork => ({
    prompt: true,
    tokens: d.tokens + p.tokens,
    flops: d.flops + p.flops,
    bytes: d.bytes + p.bytes - weightsRead(d.tokens) - weightsRead(p.tokens) + weightsRead(d.tokens + p.tokens),
    scoreElements: (d.scoreElements ?? 0) + (p.scoreElements ?? 0),
    ...(m.moe ? { expertBytes: expertBytesRead(d.tokens + p.tokens), expertFlops: (d.expertFlops ?? 0) + (p.expertFlops ?? 0) } : {}),
    // the busiest group: the prompt's, with its share of the decodes (one weight copy)
    ...(dp > 1 ? { busiestGroup: addLoads(busiestOf(d), busiestOf(p)) } : {}),
  });
  const addLoads = (a: GroupLoad, b: GroupLoad): GroupLoad => ({ tokens: a.tokens + b.tokens, flops: a.flops + b.flops, bytes: a.bytes + b.bytes - sharedRead });
  const stepWork = (c: StepContents): PhaseWork | undefined => {
    if (c.prefillTokens <= 0) return c.decodeSequences > 0 ? decodeWork(c.decodeSequences, c.decodeKvLayerTokens) : undefined;
    if (c.decodeSequences <= 0) return prefillWork(c);
    return mixedWork(decodeWork(c.decodeSequences, c.decodeKvLayerTokens), prefillWork(c));
  };
  const stepSeconds = (c: StepContents) => {
    const work = stepWork(c);
    return overheadSeconds + (work ? phaseSeconds(work) : 0);
  };
  // Attention DP with each group's own contents: a group's work outside the routed experts is all
  // of its work's (its own weight copy once); the experts see every group's tokens together.
  const groupStepSeconds = (groups: StepContents[]) => {
    if (dp === 1 || groups.length === 1) return stepSeconds(groups[0]);
    let tokens = 0, flops = 0, expertFlops = 0, unshared = 0, scoreElements = 0, prompt = false;
    let busiest: GroupLoad = { tokens: 0, flops: 0, bytes: sharedRead };
    for (const c of groups) {
      const w = stepWork(c);
      if (!w) continue;
      const ef = w.expertFlops ?? 0;
      const own = w.bytes - weightsRead(w.tokens);
      tokens += w.tokens;
      flops += w.flops;
      expertFlops += ef;
      unshared += own;
      scoreElements += w.scoreElements ?? 0;
      prompt ||= w.prompt === true;
      busiest = { tokens: Math.max(busiest.tokens, w.tokens), flops: Math.max(busiest.flops, w.flops - ef), bytes: Math.max(busiest.bytes, sharedRead + own) };
    }
    if (tokens === 0) return overheadSeconds;
    return overheadSeconds + phaseSeconds({
      tokens, flops, bytes: unshared + weightsRead(tokens), scoreElements,
      ...(prompt ? { prompt } : {}),
      ...(m.moe ? { expertBytes: expertBytesRead(tokens), expertFlops } : {}),
      busiestGroup: busiest,
    });
  };
  return {
    phaseAgain,
    tp: n,
    layout: par,
    moeLayers: m.moe ? moeLayers(m) : 0,
    epLink: epLinkRaw,
    topology,
    ppLink: ppLinkRaw,
    kvBytesPerLayerToken: kvPerLayer,
    overheadSeconds,
    extraLaunches,
    decodeBytes,
    prefillBytes,
    parallelWork,
    phase,
    phaseSeconds,
    overheadFor,
    decodeWork,
    prefillWork,
    mixedWork,
    stepSeconds,
    groupStepSeconds,
  };
}

/** The largest power of two that divides n (n a positive integer): ggml-cuda packs that many query heads of a GQA group into one FlashAttention block. */
function largestPowerOfTwoDividing(n: number): number {
  let p = 1;
  while (n % (p * 2) === 0) p *= 2;
  return p;
}

/** Every field of two phases' work is equal (StepModel.phaseAgain). */
function sameWork(a: PhaseWork, b: PhaseWork): boolean {
  return a.tokens === b.tokens && a.flops === b.flops && a.bytes === b.bytes && a.scoreElements === b.scoreElements && a.prompt === b.prompt
    && a.expertBytes === b.expertBytes && a.expertFlops === b.expertFlops && a.groupShare === b.groupShare
    && sameGroup(a.busiestGroup, b.busiestGroup);
}

const sameGroup = (a: GroupLoad | undefined, b: GroupLoad | undefined): boolean => a === b || (a !== undefined && b !== undefined && a.tokens === b.tokens && a.flops === b.flops && a.bytes === b.bytes);
