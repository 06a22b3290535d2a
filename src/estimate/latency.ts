import type { Link } from '../spec/hardware.js';
import { bytesPerElement } from '../spec/precision.js';
import { expertParams, moeLayers } from './params.js';
import type { EstimateInput } from './input.js';
import { kvLayerTokens, kvBytesPerTokenPerLayer, kvShardFraction } from './memory.js';
import type { Peak } from './peak.js';
import { sum, term, type Figures } from './terms.js';

/** Used when a multi-device layout has no interconnect in its profile: PCIe 4.0 x16. */
export const PCIE4_FALLBACK: Link = {
  name: 'PCIe 4.0 x16 (assumed)',
  bandwidth: { value: 32e9, source: 'PCI-SIG PCIe 4.0: 16 GT/s x 16 lanes, about 32 GB/s per direction' },
  latency: { value: 5e-6, source: 'typical PCIe peer-to-peer latency, a few microseconds' },
};

/**
 * Ring all-reduce of `bytes` over n devices: 2(n-1)/n x bytes / bandwidth + 2(n-1) x latency
 * (Patarasuk & Yuan 2009; NCCL tests' "bus bandwidth" definition, nccl-tests PERFORMANCE.md).
 */
export function allReduceSeconds(bytes: number, n: number, link: Link): number {
  if (n <= 1) return 0;
  return ((2 * (n - 1)) / n) * (bytes / link.bandwidth.value!) + 2 * (n - 1) * link.latency.value!;
}

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
export function latencyFigures(fig: Figures, input: EstimateInput, peak: Peak, link: Link, weightBytes: number, totalParams: number, flops: { prefill: number; decodePerToken: number }): LatencyResult {
  const { model: m, workload: w, hardware: hw, count: n } = input;
  const mfu = input.mfu ?? hw.efficiency.mfu.value!;
  const mbu = input.mbu ?? hw.efficiency.mbu.value!;
  const mfuSource = input.mfu !== undefined ? '--mfu' : hw.efficiency.mfu.source;
  const mbuSource = input.mbu !== undefined ? '--mbu' : hw.efficiency.mbu.source;
  const overhead = hw.efficiency.stepOverheadSeconds.value ?? 0;
  const flopsPerSecond = peak.flopsPerSecond * mfu * n;
  const bytesPerSecond = hw.memoryBandwidth.value! * mbu * n;
  // KV bytes per token per layer summed over devices (replicated KV heads are read on each).
  const kvPerLayer = kvBytesPerTokenPerLayer(m, input.kv) * kvShardFraction(m, n) * n;
  const actBytes = bytesPerElement(input.activations);

  // Weights read once per step. The input embedding is a row gather, not a full read; for MoE
  // decode only the experts the batch touches are read.
  const embeddingRead = m.tiedEmbeddings ? 0 : m.vocab * m.hidden * bytesPerElement(input.weights);
  const idleExperts = (tokens: number) => (m.moe ? moeLayers(m) * (m.moe.experts - expertsTouched(m.moe.experts, m.moe.topK, tokens)) * expertParams(m) * (weightBytes / totalParams) : 0);

  term(fig, 'efficiency.mfu', 'Compute efficiency (fraction of dense peak)', 'fraction', mfu, 'profile default or --mfu', { peakClass: peak.cls }, mfuSource);
  term(fig, 'efficiency.mbu', 'Memory-bandwidth efficiency', 'fraction', mbu, 'profile default or --mbu', {}, mbuSource);

  const phase = (name: 'prefill' | 'decode', label: string, phaseFlops: number, bytes: number, tokensPerStep: number) => {
    const compute = term(fig, `latency.${name}Compute`, `${label}: compute time`, 's', phaseFlops / flopsPerSecond, 'FLOPs / (peak x mfu x count)', { flops: phaseFlops, peakFlopsPerSecond: peak.flopsPerSecond, peakClass: peak.cls, mfu, count: n }, peak.source);
    const memory = term(fig, `latency.${name}Memory`, `${label}: memory time`, 's', bytes / bytesPerSecond, 'bytes moved / (bandwidth x mbu x count)', { bytes, bandwidth: hw.memoryBandwidth.value!, mbu, count: n }, hw.memoryBandwidth.source);
    const bound = compute >= memory ? 'compute' : 'memory';
    term(fig, `latency.${name}Roofline`, `${label}: roofline (${bound}-bound)`, 's', Math.max(compute, memory), 'max(compute time, memory time)', { compute, memory, bound }, 'roofline model (Williams et al. 2009)');
    // Megatron-LM TP: two all-reduces of the activations per layer (after attention and MLP).
    const message = tokensPerStep * m.hidden * actBytes;
    const comm = m.layers * 2 * allReduceSeconds(message, n, link);
    term(fig, `latency.${name}Comm`, `${label}: tensor-parallel communication`, 's', comm, 'layers x 2 x allReduce(tokens x hidden x bytes)', { layers: m.layers, tokens: tokensPerStep, hidden: m.hidden, count: n, link: link.name, linkBandwidth: link.bandwidth.value!, linkLatency: link.latency.value! }, `Shoeybi et al. 2019 (Megatron-LM) sec. 3; ring all-reduce; ${link.bandwidth.source}`);
    term(fig, `latency.${name}Overhead`, `${label}: fixed step overhead`, 's', overhead, 'per-step launch and scheduling overhead', {}, hw.efficiency.stepOverheadSeconds.source);
    return bound as 'compute' | 'memory';
  };

  // Prefill reads the weights once and writes the prompt's KV cache.
  const promptTokens = w.batch * w.inputTokens;
  const prefillBytes = weightBytes - embeddingRead - idleExperts(promptTokens) + w.batch * kvLayerTokens(m, w.inputTokens) * kvPerLayer;
  const prefillBound = phase('prefill', 'Prefill', flops.prefill, prefillBytes, promptTokens);
  const ttft = sum(fig, 'latency.ttft', 'Time to first token', 's', ['latency.prefillRoofline', 'latency.prefillComm', 'latency.prefillOverhead'], 'roofline + communication + overhead');

  // Decode step: every sequence emits one token at the mean context over the generation.
  const meanContext = w.inputTokens + w.outputTokens / 2;
  const decodeBytes = weightBytes - embeddingRead - idleExperts(w.batch) + w.batch * kvLayerTokens(m, meanContext) * kvPerLayer;
  const decodeBound = phase('decode', 'Decode step', w.batch * flops.decodePerToken, decodeBytes, w.batch);
  const tpot = sum(fig, 'latency.tpot', 'Time per output token', 's', ['latency.decodeRoofline', 'latency.decodeComm', 'latency.decodeOverhead'], 'roofline + communication + overhead');

  const e2e = term(fig, 'latency.e2e', 'End-to-end time per request', 's', ttft + (w.outputTokens - 1) * tpot, 'ttft + (outputTokens - 1) x tpot', { ttft, tpot, outputTokens: w.outputTokens }, 'the first token comes from prefill, each further one from a decode step');
  return { ttft, tpot, e2e, bounds: { prefill: prefillBound, decode: decodeBound } };
}
