import type { Link } from '../inputs/hardware.js';
import { CALIBRATION } from './calibration.js';
import { phaseEfficiency, type Calibration } from './efficiency.js';
import { bytesPerElement } from '../inputs/precision.js';
import { expertParams, moeLayers } from './params.js';
import type { WeightLayout } from './weights.js';
import type { EstimateInput } from './input.js';
import { allReduceSeconds, allToAllSeconds, groupLink, kvHeadShare, layoutOf, sendSeconds } from './parallel.js';
import { kvLayerTokens, kvBytesPerTokenPerLayer } from './memory.js';
import type { Peak } from './peak.js';
import { sum, term, type Figures } from './terms.js';

// The interconnect fallback and collectives live with the parallel layouts (parallel.ts).
export { allReduceSeconds, PCIE4_FALLBACK } from './parallel.js';

/**
 * Distinct experts a batch of b tokens touches per MoE layer, each token picking k of E:
 * E x (1 - (1 - k/E)^b) (expected coverage under uniform routing).
 */
export const expertsTouched = (experts: number, topK: number, tokens: number): number =>
  experts * (1 - Math.pow(1 - topK / experts, tokens));

export interface LatencyResult {
  ttft: number;
  tpot: number;
  e2e: number;
  bounds: { prefill: 'compute' | 'memory'; decode: 'compute' | 'memory' };
}

/**
 * Roofline per phase (Williams et al. 2009; as applied to LLMs in LLM-Viewer, Yuan et al.
 * 2024): time = max(FLOPs / (peak x mfu), bytes / (bandwidth x mbu)) + communication +
 * fixed per-step overhead. Work is split evenly over `count` tensor-parallel devices.
 */
export interface LatencyArgs {
  input: EstimateInput;
  peak: Peak;
  /** the link the tensor-parallel group talks over */
  link: Link;
  weightBytes: number;
  totalParams: number;
  flops: { prefill: number; decodePerToken: number };
  /** per-tensor weight layout; absent for a bare parameter count */
  tensors: WeightLayout | undefined;
  calibration?: Calibration;
}

export function latencyFigures(fig: Figures, args: LatencyArgs): LatencyResult {
  const { input, peak, link, weightBytes, totalParams, flops, tensors, calibration = CALIBRATION } = args;
  const { model: m, workload: w, hardware: hw } = input;
  // Tensor-parallel ranks share each step's work; pipeline stages run one after another for a
  // token (a step's latency crosses every stage), so latency divides by tp, not tp x pp.
  const par = layoutOf(input);
  const n = par.tp;
  const epLink = groupLink(hw, par.ep, input.gpusPerNode).link;
  const ppLink = groupLink(hw, par.tp * par.pp, input.gpusPerNode).link;
  const epActive = m.moe !== undefined && par.ep > 1;
  // Efficiencies come from the calibrated situation model (efficiency.ts), which takes
  // precedence over the hardware profile's single defaults; --mfu / --mbu override both.
  const calibrated = `calibrated efficiency model (src/estimate/efficiency.ts; ${calibration.source}); takes precedence over the hardware profile's default`;
  const mfuSource = input.mfu !== undefined ? '--mfu' : calibrated;
  const mbuSource = input.mbu !== undefined ? '--mbu' : calibrated;
  // KV bytes per token per layer summed over devices (replicated KV heads are read on each).
  const kvPerLayer = kvBytesPerTokenPerLayer(m, input.kv) * kvHeadShare(m, n) * n;
  const actBytes = bytesPerElement(input.activations);

  // Weights read once per step. The input embedding is a row gather, not a full read; for MoE
  // decode only the experts the batch touches are read.
  // Embedding and routed-expert bytes come from the per-tensor layout (src/estimate/weights.ts),
  // each in the format it is stored in (gpt-oss: MXFP4 experts, bf16 embedding).
  const embeddingRead = m.tiedEmbeddings ? 0 : tensors ? tensors.embeddingBytes : m.vocab * m.hidden * bytesPerElement(input.weights);
  const idleExperts = (tokens: number) => (m.moe ? (tensors ? tensors.routedExpertBytes : moeLayers(m) * m.moe.experts * expertParams(m) * (weightBytes / totalParams)) * (1 - expertsTouched(m.moe.experts, m.moe.topK, tokens) / m.moe.experts) : 0);

  const phase = (name: 'prefill' | 'decode', label: string, phaseFlops: number, bytes: number, tokensPerStep: number) => {
    const eff = phaseEfficiency(calibration.params, hw, { tokensPerStep, bytesPerDevicePerStep: bytes / n, layers: m.layers });
    const mfu = input.mfu ?? eff.mfu;
    const mbu = input.mbu ?? eff.mbu;
    const overhead = eff.overheadSeconds;
    const flopsPerSecond = peak.flopsPerSecond * mfu * n;
    const bytesPerSecond = hw.memoryBandwidth.value! * mbu * n;
    const classNote = eff.fittedClass ? `${eff.cls} parameters` : `no fitted data for this device class: gpu parameters`;
    // `efficiency.mfu` is the prefill figure and `efficiency.mbu` the decode one (the bounds that
    // usually bind); each phase also has its own pair.
    term(fig, { id: `efficiency.${name}Mfu`, label: `${label}: compute efficiency (fraction of dense peak)`, unit: 'fraction', value: mfu, formula: input.mfu !== undefined ? '--mfu' : 'mfuMax x tokensPerStep / (tokensPerStep + mfuHalfTokens)', inputs: { peakClass: peak.cls, tokensPerStep, mfuMax: eff.mfuMax, mfuHalfTokens: calibration.params.mfuHalfTokens, parameters: classNote }, source: mfuSource });
    term(fig, { id: `efficiency.${name}Mbu`, label: `${label}: memory-bandwidth efficiency`, unit: 'fraction', value: mbu, formula: input.mbu !== undefined ? '--mbu' : 'mbuMax x bytesPerDevice / (bytesPerDevice + mbuHalfBytes)', inputs: { bytesPerDevice: bytes / n, mbuMax: eff.mbuMax, mbuHalfBytes: calibration.params.mbuHalfBytes, parameters: classNote }, source: mbuSource });
    if (name === 'prefill') term(fig, { id: 'efficiency.mfu', label: 'Compute efficiency (fraction of dense peak), prefill', unit: 'fraction', value: mfu, formula: input.mfu !== undefined ? '--mfu' : 'efficiency.prefillMfu', inputs: { peakClass: peak.cls }, source: mfuSource });
    else term(fig, { id: 'efficiency.mbu', label: 'Memory-bandwidth efficiency, decode', unit: 'fraction', value: mbu, formula: input.mbu !== undefined ? '--mbu' : 'efficiency.decodeMbu', inputs: {}, source: mbuSource });
    const compute = term(fig, { id: `latency.${name}Compute`, label: `${label}: compute time`, unit: 's', value: phaseFlops / flopsPerSecond, formula: 'FLOPs / (peak x mfu x count)', inputs: { flops: phaseFlops, peakFlopsPerSecond: peak.flopsPerSecond, peakClass: peak.cls, mfu, count: n }, source: peak.source });
    const memory = term(fig, { id: `latency.${name}Memory`, label: `${label}: memory time`, unit: 's', value: bytes / bytesPerSecond, formula: 'bytes moved / (bandwidth x mbu x count)', inputs: { bytes, bandwidth: hw.memoryBandwidth.value!, mbu, count: n }, source: hw.memoryBandwidth.source });
    const bound = compute >= memory ? 'compute' : 'memory';
    term(fig, { id: `latency.${name}Roofline`, label: `${label}: roofline (${bound}-bound)`, unit: 's', value: Math.max(compute, memory), formula: 'max(compute time, memory time)', inputs: { compute, memory, bound }, source: 'roofline model (Williams et al. 2009)' });
    // Megatron-LM TP: two all-reduces of the activations per layer (after attention and MLP).
    const message = tokensPerStep * m.hidden * actBytes;
    // The link reaches commEfficiency of its bandwidth (calibrated; nccl-tests bus bandwidth).
    const effectiveLink: Link = { ...link, bandwidth: { ...link.bandwidth, value: link.bandwidth.value! * eff.commEfficiency } };
    // Under expert parallelism the MoE layers' MLP all-reduce becomes the combine all-to-all.
    const allReduces = m.layers * 2 - (epActive ? moeLayers(m) : 0);
    const comm = allReduces * allReduceSeconds(message, n, effectiveLink);
    term(fig, { id: `latency.${name}CommTp`, label: `${label}: tensor-parallel all-reduces`, unit: 's', value: comm, formula: '(layers x 2 - moeLayers under EP) x allReduce(tokens x hidden x bytes) at commEfficiency x link bandwidth', inputs: { allReduces, tokens: tokensPerStep, hidden: m.hidden, tp: n, link: link.name, linkBandwidth: link.bandwidth.value!, commEfficiency: eff.commEfficiency, linkLatency: link.latency.value! }, source: `Shoeybi et al. 2019 (Megatron-LM) sec. 3; ring all-reduce; ${link.bandwidth.source}; commEfficiency ${calibrated}` });
    // EP: dispatch and combine all-to-all of each token's topK hidden vectors per MoE layer.
    const epBytes = epActive ? tokensPerStep * m.moe!.topK * m.hidden * actBytes : 0;
    const epLinkEff: Link = { ...epLink, bandwidth: { ...epLink.bandwidth, value: epLink.bandwidth.value! * eff.commEfficiency } };
    term(fig, { id: `latency.${name}CommEp`, label: `${label}: expert-parallel all-to-all`, unit: 's', value: epActive ? moeLayers(m) * 2 * allToAllSeconds(epBytes, par.ep, epLinkEff) : 0, formula: 'moeLayers x 2 (dispatch, combine) x allToAll(tokens x topK x hidden x bytes)', inputs: { moeLayers: moeLayers(m), ep: par.ep, bytes: epBytes, link: epLink.name }, source: `DeepSpeed-MoE (Rajbhandari et al. 2022); vLLM FusedMoE with --enable-expert-parallel; ${epLink.bandwidth.source}` });
    // PP: each stage boundary sends the step's hidden states once.
    const ppLinkEff: Link = { ...ppLink, bandwidth: { ...ppLink.bandwidth, value: ppLink.bandwidth.value! * eff.commEfficiency } };
    term(fig, { id: `latency.${name}CommPp`, label: `${label}: pipeline stage sends`, unit: 's', value: (par.pp - 1) * (par.pp > 1 ? sendSeconds(message, ppLinkEff) : 0), formula: '(pp - 1) x (tokens x hidden x bytes / bandwidth + latency)', inputs: { pp: par.pp, bytes: message, link: ppLink.name }, source: `GPipe / Megatron-LM pipeline parallelism (Narayanan et al. 2021); ${ppLink.bandwidth.source}` });
    sum(fig, { id: `latency.${name}Comm`, label: `${label}: communication`, unit: 's', parts: [`latency.${name}CommTp`, `latency.${name}CommEp`, `latency.${name}CommPp`], source: 'tensor-parallel all-reduces + expert all-to-all + pipeline sends' });
    term(fig, { id: `latency.${name}Overhead`, label: `${label}: fixed step overhead`, unit: 's', value: overhead, formula: 'stepOverhead + layerOverhead x layers (launches, sampling, scheduling)', inputs: { stepOverheadSeconds: calibration.params.stepOverheadSeconds, layerOverheadSeconds: calibration.params.layerOverheadSeconds, layers: m.layers }, source: calibrated });
    return bound as 'compute' | 'memory';
  };

  // Prefill reads the weights once and writes the prompt's KV cache. A static batch prefills
  // together; under steady load (continuous batching) each request's prompt is prefilled on its
  // own, interleaved with the running decode batch (vLLM V1 scheduler, Orca: Yu et al. 2022).
  const prefillSequences = input.load ? 1 : w.batch;
  const promptTokens = prefillSequences * w.inputTokens;
  const prefillBytes = weightBytes - embeddingRead - idleExperts(promptTokens) + prefillSequences * kvLayerTokens(m, w.inputTokens) * kvPerLayer;
  const prefillBound = phase('prefill', 'Prefill', (flops.prefill * prefillSequences) / w.batch, prefillBytes, promptTokens);

  // Decode step: every sequence emits one token at the mean context over the generation.
  const meanContext = w.inputTokens + w.outputTokens / 2;
  const decodeBytes = weightBytes - embeddingRead - idleExperts(w.batch) + w.batch * kvLayerTokens(m, meanContext) * kvPerLayer;
  const decodeBound = phase('decode', 'Decode step', w.batch * flops.decodePerToken, decodeBytes, w.batch);
  const ttftParts = ['latency.prefillRoofline', 'latency.prefillComm', 'latency.prefillOverhead'];
  const tpotParts = ['latency.decodeRoofline', 'latency.decodeComm', 'latency.decodeOverhead'];
  if (input.load) {
    // Steady state: batch/outputTokens requests finish per step and as many prompts join, so
    // each decode step also carries that share of one prompt's prefill (chunked prefill mixes
    // them, Agrawal et al. 2024 Sarathi-Serve); a new request first waits out half a step.
    const prefillOne = fig['latency.prefillRoofline'].value + fig['latency.prefillComm'].value;
    const step = fig['latency.decodeRoofline'].value + fig['latency.decodeComm'].value + fig['latency.decodeOverhead'].value;
    term(fig, { id: 'latency.prefillInterference', label: 'Prefill of joining requests, per decode step', unit: 's', value: (w.batch / w.outputTokens) * prefillOne, formula: '(batch / outputTokens) x (prefill roofline + communication of one request)', inputs: { batch: w.batch, outputTokens: w.outputTokens, prefillOne }, source: 'continuous batching with chunked prefill (Sarathi-Serve, Agrawal et al. 2024; vLLM V1 scheduler)' });
    term(fig, { id: 'latency.queueWait', label: 'Wait for the running decode step', unit: 's', value: step / 2, formula: 'decode step / 2 (mean residual of the step in flight)', inputs: { step }, source: 'iteration-level scheduling (Orca, Yu et al. 2022): a request joins at the next step' });
    ttftParts.push('latency.queueWait');
    tpotParts.push('latency.prefillInterference');
  }
  const ttft = sum(fig, { id: 'latency.ttft', label: 'Time to first token', unit: 's', parts: ttftParts, source: input.load ? 'one request\'s prefill + communication + overhead + queue wait (continuous batching)' : 'roofline + communication + overhead' });
  const tpot = sum(fig, { id: 'latency.tpot', label: 'Time per output token', unit: 's', parts: tpotParts, source: input.load ? 'decode step + prefill of joining requests (continuous batching)' : 'roofline + communication + overhead' });

  const e2e = term(fig, { id: 'latency.e2e', label: 'End-to-end time per request', unit: 's', value: ttft + (w.outputTokens - 1) * tpot, formula: 'ttft + (outputTokens - 1) x tpot', inputs: { ttft, tpot, outputTokens: w.outputTokens }, source: 'the first token comes from prefill, each further one from a decode step' });
  return { ttft, tpot, e2e, bounds: { prefill: prefillBound, decode: decodeBound } };
}
