import type { Link } from '../spec/hardware.js';
import { CALIBRATION } from './calibration.js';
import { phaseEfficiency, type Calibration } from './efficiency.js';
import { bytesPerElement } from '../spec/precision.js';
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
export function latencyFigures(fig: Figures, input: EstimateInput, peak: Peak, link: Link, weightBytes: number, totalParams: number, flops: { prefill: number; decodePerToken: number }, tensors: WeightLayout | undefined, calibration: Calibration = CALIBRATION): LatencyResult {
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
    term(fig, `efficiency.${name}Mfu`, `${label}: compute efficiency (fraction of dense peak)`, 'fraction', mfu, input.mfu !== undefined ? '--mfu' : 'mfuMax x tokensPerStep / (tokensPerStep + mfuHalfTokens)', { peakClass: peak.cls, tokensPerStep, mfuMax: eff.mfuMax, mfuHalfTokens: calibration.params.mfuHalfTokens, parameters: classNote }, mfuSource);
    term(fig, `efficiency.${name}Mbu`, `${label}: memory-bandwidth efficiency`, 'fraction', mbu, input.mbu !== undefined ? '--mbu' : 'mbuMax x bytesPerDevice / (bytesPerDevice + mbuHalfBytes)', { bytesPerDevice: bytes / n, mbuMax: eff.mbuMax, mbuHalfBytes: calibration.params.mbuHalfBytes, parameters: classNote }, mbuSource);
    if (name === 'prefill') term(fig, 'efficiency.mfu', 'Compute efficiency (fraction of dense peak), prefill', 'fraction', mfu, input.mfu !== undefined ? '--mfu' : 'efficiency.prefillMfu', { peakClass: peak.cls }, mfuSource);
    else term(fig, 'efficiency.mbu', 'Memory-bandwidth efficiency, decode', 'fraction', mbu, input.mbu !== undefined ? '--mbu' : 'efficiency.decodeMbu', {}, mbuSource);
    const compute = term(fig, `latency.${name}Compute`, `${label}: compute time`, 's', phaseFlops / flopsPerSecond, 'FLOPs / (peak x mfu x count)', { flops: phaseFlops, peakFlopsPerSecond: peak.flopsPerSecond, peakClass: peak.cls, mfu, count: n }, peak.source);
    const memory = term(fig, `latency.${name}Memory`, `${label}: memory time`, 's', bytes / bytesPerSecond, 'bytes moved / (bandwidth x mbu x count)', { bytes, bandwidth: hw.memoryBandwidth.value!, mbu, count: n }, hw.memoryBandwidth.source);
    const bound = compute >= memory ? 'compute' : 'memory';
    term(fig, `latency.${name}Roofline`, `${label}: roofline (${bound}-bound)`, 's', Math.max(compute, memory), 'max(compute time, memory time)', { compute, memory, bound }, 'roofline model (Williams et al. 2009)');
    // Megatron-LM TP: two all-reduces of the activations per layer (after attention and MLP).
    const message = tokensPerStep * m.hidden * actBytes;
    // The link reaches commEfficiency of its bandwidth (calibrated; nccl-tests bus bandwidth).
    const effectiveLink: Link = { ...link, bandwidth: { ...link.bandwidth, value: link.bandwidth.value! * eff.commEfficiency } };
    // Under expert parallelism the MoE layers' MLP all-reduce becomes the combine all-to-all.
    const allReduces = m.layers * 2 - (epActive ? moeLayers(m) : 0);
    const comm = allReduces * allReduceSeconds(message, n, effectiveLink);
    term(fig, `latency.${name}CommTp`, `${label}: tensor-parallel all-reduces`, 's', comm, '(layers x 2 - moeLayers under EP) x allReduce(tokens x hidden x bytes) at commEfficiency x link bandwidth', { allReduces, tokens: tokensPerStep, hidden: m.hidden, tp: n, link: link.name, linkBandwidth: link.bandwidth.value!, commEfficiency: eff.commEfficiency, linkLatency: link.latency.value! }, `Shoeybi et al. 2019 (Megatron-LM) sec. 3; ring all-reduce; ${link.bandwidth.source}; commEfficiency ${calibrated}`);
    // EP: dispatch and combine all-to-all of each token's topK hidden vectors per MoE layer.
    const epBytes = epActive ? tokensPerStep * m.moe!.topK * m.hidden * actBytes : 0;
    const epLinkEff: Link = { ...epLink, bandwidth: { ...epLink.bandwidth, value: epLink.bandwidth.value! * eff.commEfficiency } };
    term(fig, `latency.${name}CommEp`, `${label}: expert-parallel all-to-all`, 's', epActive ? moeLayers(m) * 2 * allToAllSeconds(epBytes, par.ep, epLinkEff) : 0, 'moeLayers x 2 (dispatch, combine) x allToAll(tokens x topK x hidden x bytes)', { moeLayers: moeLayers(m), ep: par.ep, bytes: epBytes, link: epLink.name }, `DeepSpeed-MoE (Rajbhandari et al. 2022); vLLM FusedMoE with --enable-expert-parallel; ${epLink.bandwidth.source}`);
    // PP: each stage boundary sends the step's hidden states once.
    const ppLinkEff: Link = { ...ppLink, bandwidth: { ...ppLink.bandwidth, value: ppLink.bandwidth.value! * eff.commEfficiency } };
    term(fig, `latency.${name}CommPp`, `${label}: pipeline stage sends`, 's', (par.pp - 1) * (par.pp > 1 ? sendSeconds(message, ppLinkEff) : 0), '(pp - 1) x (tokens x hidden x bytes / bandwidth + latency)', { pp: par.pp, bytes: message, link: ppLink.name }, `GPipe / Megatron-LM pipeline parallelism (Narayanan et al. 2021); ${ppLink.bandwidth.source}`);
    sum(fig, `latency.${name}Comm`, `${label}: communication`, 's', [`latency.${name}CommTp`, `latency.${name}CommEp`, `latency.${name}CommPp`], 'tensor-parallel all-reduces + expert all-to-all + pipeline sends');
    term(fig, `latency.${name}Overhead`, `${label}: fixed step overhead`, 's', overhead, 'stepOverhead + layerOverhead x layers (launches, sampling, scheduling)', { stepOverheadSeconds: calibration.params.stepOverheadSeconds, layerOverheadSeconds: calibration.params.layerOverheadSeconds, layers: m.layers }, calibrated);
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
    term(fig, 'latency.prefillInterference', 'Prefill of joining requests, per decode step', 's', (w.batch / w.outputTokens) * prefillOne, '(batch / outputTokens) x (prefill roofline + communication of one request)', { batch: w.batch, outputTokens: w.outputTokens, prefillOne }, 'continuous batching with chunked prefill (Sarathi-Serve, Agrawal et al. 2024; vLLM V1 scheduler)');
    term(fig, 'latency.queueWait', 'Wait for the running decode step', 's', step / 2, 'decode step / 2 (mean residual of the step in flight)', { step }, 'iteration-level scheduling (Orca, Yu et al. 2022): a request joins at the next step');
    ttftParts.push('latency.queueWait');
    tpotParts.push('latency.prefillInterference');
  }
  const ttft = sum(fig, 'latency.ttft', 'Time to first token', 's', ttftParts, input.load ? 'one request\'s prefill + communication + overhead + queue wait (continuous batching)' : 'roofline + communication + overhead');
  const tpot = sum(fig, 'latency.tpot', 'Time per output token', 's', tpotParts, input.load ? 'decode step + prefill of joining requests (continuous batching)' : 'roofline + communication + overhead');

  const e2e = term(fig, 'latency.e2e', 'End-to-end time per request', 's', ttft + (w.outputTokens - 1) * tpot, 'ttft + (outputTokens - 1) x tpot', { ttft, tpot, outputTokens: w.outputTokens }, 'the first token comes from prefill, each further one from a decode step');
  return { ttft, tpot, e2e, bounds: { prefill: prefillBound, decode: decodeBound } };
}
