import type { Link } from '../inputs/hardware.js';
import { bytesPerElement } from '../inputs/precision.js';
import { CALIBRATION } from './calibration.js';
import { phaseEfficiency, type Calibration, type EfficiencyParams, type PhaseEfficiency } from './efficiency.js';
import { attendedLayerTokens, decodeStepFlops, prefillLinearFlops, type TokenFlops } from './flops.js';
import type { EstimateInput } from './input.js';
import { indexerBytesPerToken, kvElementsPerToken, layerGroups, subLayers } from './layers.js';
import { kvBytesPerTokenPerLayer, stateBytesPerSequence, stateFormatsOf } from './memory.js';
import { allReduceSeconds, allToAllSeconds, groupLink, kvHeadShare, layoutOf, sendSeconds, type Parallel } from './parallel.js';
import { expertParams, moeLayers } from './params.js';
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
 * 2024): time = max(FLOPs / (peak x mfu), bytes / (bandwidth x mbu)) + communication, with
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
  /** tensor-parallel all-reduces, expert-parallel all-to-all, pipeline sends */
  commTpSeconds: number;
  commEpSeconds: number;
  commPpSeconds: number;
  /** all-reduces per step, their message and the all-to-all bytes */
  allReduces: number;
  messageBytes: number;
  epBytes: number;
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
  ppLink: Link;
  /** KV bytes per token per layer, summed over the devices (replicated KV heads on each) */
  kvBytesPerLayerToken: number;
  /** the calibrated fixed cost of every step (launches, sampling, scheduling), seconds */
  overheadSeconds: number;
  /**
   * Bytes a decode step moves: the weights it reads (the experts its `sequences` tokens touch)
   * and the KV cache of its sequences, `kvLayerTokens` summed over them (memory.ts kvLayerTokens).
   */
  decodeBytes: (sequences: number, kvLayerTokens: number) => number;
  /** Bytes a prefill pass of `tokens` prompt tokens moves: weights, and the KV it writes. */
  prefillBytes: (tokens: number, kvLayerTokensWritten: number) => number;
  /**
   * One phase's roofline and communication, term by term, under the calibration the model was
   * built with, or under `params` (the calibration fit re-times the same work, accuracy-lib.ts).
   */
  phase: (work: PhaseWork, params?: EfficiencyParams) => PhaseTime;
  /** Roofline + communication of one phase, seconds (the sum `phase` itemizes). */
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
  /** speculative decoding's step (speculative.ts withSpeculation); absent = plain decoding */
  speculative?: SpeculativeModel;
}

/**
 * Builds the step model of one deployment once: everything that does not change from step to
 * step (links, KV bytes per token, the weight bytes a step reads) is computed here, so a step
 * costs a few multiplications.
 */
export function stepModel(args: StepModelArgs): StepModel {
  const { input, peak, link, weightBytes, totalParams, tensors, calibration = CALIBRATION } = args;
  const { model: m, hardware: hw } = input;
  const par = layoutOf(input);
  const n = par.tp;
  const epActive = m.moe !== undefined && par.ep > 1;
  // Links reach commEfficiency of their bandwidth (calibrated; nccl-tests bus bandwidth): a
  // collective's bytes go at bandwidth x commEfficiency, its latency hops unchanged.
  const epLinkRaw = groupLink(hw, par.ep, input.gpusPerNode).link;
  const ppLinkRaw = groupLink(hw, par.tp * par.pp, input.gpusPerNode).link;
  const kvPerLayer = kvBytesPerTokenPerLayer(m, input.kv) * kvHeadShare(m, n) * n;
  // DeepSeek-V3.2 (DSA): a decode step reads every key of the indexer's cache but only the
  // topK latents it picks (flops.ts attendedLayerTokens); MLA's latent is on every rank.
  const tf0 = args.flops.perToken;
  const sparseGroup = tf0.sparse ? layerGroups(m).find((g) => g.mixer.kind === 'sparse-mla') : undefined;
  const latentPerLayer = sparseGroup ? kvElementsPerToken(m, sparseGroup.mixer) * bytesPerElement(input.kv) * n : 0;
  const indexerPerLayer = sparseGroup ? indexerBytesPerToken(sparseGroup.mixer) * n : 0;
  const decodeKvBytes = (sequences: number, kvLayerTokens: number) => (sparseGroup ? kvLayerTokens * indexerPerLayer + attendedLayerTokens(tf0, sequences, kvLayerTokens) * latentPerLayer : kvLayerTokens * kvPerLayer);
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
  const weightsRead = (tokens: number) => weightBytes - embeddingRead - idleExperts(tokens) - visionBytes;
  // Megatron-LM TP: two all-reduces of the activations per layer (after attention and MLP);
  // under expert parallelism the MoE layers' MLP all-reduce becomes the combine all-to-all.
  const allReduces = layerGroups(m).reduce((a, g) => a + g.count * subLayers(g), 0) - (epActive ? moeLayers(m) : 0);
  const overheadFor = (p: EfficiencyParams) => p.stepOverheadSeconds + p.layerOverheadSeconds * m.layers;
  const overheadSeconds = overheadFor(calibration.params);

  const phase = (work: PhaseWork, params: EfficiencyParams = calibration.params): PhaseTime => {
    const eff = phaseEfficiency(params, hw, { tokensPerStep: work.tokens, bytesPerDevicePerStep: work.bytes / n, layers: m.layers });
    const commEfficiency = eff.commEfficiency;
    const mfu = input.mfu ?? eff.mfu;
    const mbu = input.mbu ?? eff.mbu;
    const computeSeconds = work.flops / (peak.flopsPerSecond * mfu * n);
    const memorySeconds = work.bytes / (hw.memoryBandwidth.value! * mbu * n);
    const messageBytes = work.tokens * m.hidden * actBytes;
    // EP: dispatch and combine all-to-all of each token's topK hidden vectors per MoE layer.
    const epBytes = epActive ? work.tokens * m.moe!.topK * m.hidden * actBytes : 0;
    return {
      eff, mfu, mbu, computeSeconds, memorySeconds,
      rooflineSeconds: Math.max(computeSeconds, memorySeconds),
      bound: computeSeconds >= memorySeconds ? 'compute' : 'memory',
      commTpSeconds: allReduces * allReduceSeconds(messageBytes / commEfficiency, n, link),
      commEpSeconds: epActive ? moeLayers(m) * 2 * allToAllSeconds(epBytes / commEfficiency, par.ep, epLinkRaw) : 0,
      // PP: each stage boundary sends the step's hidden states once.
      commPpSeconds: (par.pp - 1) * (par.pp > 1 ? sendSeconds(messageBytes / commEfficiency, ppLinkRaw) : 0),
      allReduces, messageBytes, epBytes,
    };
  };
  const tf = args.flops.perToken;
  const decodeBytes = (sequences: number, kvLayerTokens: number) => weightsRead(sequences) + decodeKvBytes(sequences, kvLayerTokens) + 2 * sequences * statePerSequence;
  const prefillBytes = (tokens: number, kvLayerTokensWritten: number) => weightsRead(tokens) + (input.images ? visionBytes : 0) + kvLayerTokensWritten * kvPerLayer;
  const phaseSeconds = (work: PhaseWork, params?: EfficiencyParams) => {
    const t = phase(work, params);
    return t.rooflineSeconds + t.commTpSeconds + t.commEpSeconds + t.commPpSeconds;
  };
  const decodeWork = (sequences: number, kvLayerTokens: number): PhaseWork => ({ tokens: sequences, flops: decodeStepFlops(tf, sequences, kvLayerTokens), bytes: decodeBytes(sequences, kvLayerTokens) });
  const prefillWork = (c: Pick<StepContents, 'prefillTokens' | 'prefillKeys' | 'prefillKvLayerTokens' | 'prefillLogits'>): PhaseWork => ({
    tokens: c.prefillTokens,
    flops: prefillLinearFlops(tf, 1, c.prefillTokens, c.prefillLogits) + tf.attentionPrefill * c.prefillKeys + tf.scanPrefill * c.prefillTokens,
    bytes: prefillBytes(c.prefillTokens, c.prefillKvLayerTokens),
  });
  const mixedWork = (d: PhaseWork, p: PhaseWork): PhaseWork => ({
    tokens: d.tokens + p.tokens,
    flops: d.flops + p.flops,
    bytes: d.bytes + p.bytes - weightsRead(d.tokens) - weightsRead(p.tokens) + weightsRead(d.tokens + p.tokens),
  });
  return {
    tp: n,
    layout: par,
    moeLayers: m.moe ? moeLayers(m) : 0,
    epLink: epLinkRaw,
    ppLink: ppLinkRaw,
    kvBytesPerLayerToken: kvPerLayer,
    overheadSeconds,
    decodeBytes,
    prefillBytes,
    phase,
    phaseSeconds,
    overheadFor,
    decodeWork,
    prefillWork,
    mixedWork,
    stepSeconds: (c) => {
      if (c.prefillTokens <= 0) return overheadSeconds + (c.decodeSequences > 0 ? phaseSeconds(decodeWork(c.decodeSequences, c.decodeKvLayerTokens)) : 0);
      if (c.decodeSequences <= 0) return overheadSeconds + phaseSeconds(prefillWork(c));
      return overheadSeconds + phaseSeconds(mixedWork(decodeWork(c.decodeSequences, c.decodeKvLayerTokens), prefillWork(c)));
    },
  };
}
