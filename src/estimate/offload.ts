import type { HardwareSpec, Link } from '../inputs/hardware.js';
import type { ModelSpec } from '../inputs/model.js';
import { bytesPerElement } from '../inputs/precision.js';
import type { EstimateInput } from './input.js';
import { HOST_LINK_EFFICIENCY } from './kv-offload.js';
import { moeLayers } from './params.js';
import { resolvePeak } from './peak.js';
import { expertsTouched, stepModel, type PhaseWork, type StepModel, type StepModelArgs } from './step.js';
import { term, type Figures } from './terms.js';
import type { WeightLayout } from './weights.js';

/**
 * Weights beyond the GPU, as llama.cpp places them: `-ngl n` (--n-gpu-layers) keeps the last n
 * decoder layers and their KV cache on the GPU and the rest in system memory, the output layer
 * on the GPU only when n exceeds the layer count, the token embedding always on the host
 * (src/llama-model.cpp load_tensors: i_gpu_start = n_layer - n_gpu_layers; dev_output on the
 * GPU when n_gpu_layers > n_layer; tok_embd on the CPU); `--cpu-moe` / `--n-cpu-moe n` keep the
 * routed experts of all / the first n layers in system memory (common/arg.cpp: tensor overrides
 * "blk.i.ffn_(up|down|gate)_exps" -> CPU).
 *
 * A decode step runs each layer where its weights are: the GPU part at HBM bandwidth, the CPU
 * part at DRAM bandwidth (the host CPU preset), one after the other. A prompt of 32 tokens or
 * more runs every matrix product on the GPU, the host-resident weights crossing the host link
 * once per micro-batch (ggml-backend op offload, ggml_backend_sched: GGML_OP_OFFLOAD_MIN_BATCH
 * 32; n_ubatch 512).
 */
export interface WeightOffload {
  /** decoder layers on the GPU; layers + 1 puts the output layer there too */
  gpuLayers: number;
  /** MoE layers (the first ones) whose routed experts stay in system memory */
  cpuMoeLayers: number;
  /** the CPU the host part runs on (a cpu preset) and the host-device link */
  host: HardwareSpec;
  hostLink: Link;
  source: string;
}

/** llama.cpp's micro-batch (n_ubatch) and the batch from which CPU-held matrices run on the GPU. */
export const UBATCH = { value: 512, source: 'llama.cpp common/common.h n_ubatch 512' };
export const OP_OFFLOAD_MIN_BATCH = { value: 32, source: 'ggml-backend.cpp: ops on host weights go to the GPU from a batch of 32 tokens (GGML_OP_OFFLOAD_MIN_BATCH)' };

/** Where the weights are: bytes on the GPU and on the host, by kind, and the KV share on the GPU. */
export interface OffloadSplit {
  layers: number;
  gpuLayers: number;
  /** layers whose experts are on the host although the layer is on the GPU */
  hostExpertLayers: number;
  /** per decoder layer: bytes outside the routed experts, bytes of the routed experts */
  layerDenseBytes: number;
  layerExpertBytes: number;
  headBytes: number;
  embeddingBytes: number;
  headOnGpu: boolean;
  gpuWeightBytes: number;
  hostWeightBytes: number;
  /** share of the KV cache on the GPU (its layers') */
  gpuKvShare: number;
}

/** The split of a model's weights for `gpuLayers` layers on the GPU and the experts of the first `cpuMoe` MoE layers on the host. */
export function offloadSplit(m: ModelSpec, layout: WeightLayout, gpuLayers: number, cpuMoe: number): OffloadSplit {
  const L = m.layers;
  const n = Math.min(gpuLayers, L + 1);
  const headBytes = layout.parts.filter((p) => p.group.kind === 'lmHead').reduce((a, p) => a + p.bytes, 0);
  const embeddingBytes = layout.embeddingBytes;
  const moe = m.moe ? moeLayers(m) : 0;
  const layerExpertBytes = moe ? layout.routedExpertBytes / moe : 0;
  // the rest of the decoder layers, spread evenly (a GGUF mix varies a little from layer to layer)
  const body = layout.total - headBytes - embeddingBytes - layout.routedExpertBytes;
  const layerDenseBytes = body / L;
  const onGpu = Math.min(n, L);
  // experts of the first cpuMoe MoE layers stay on the host; MoE layers are taken as the last `moe` layers (dense ones first, as DeepSeek's)
  const firstMoe = L - moe;
  const hostExpertLayersAll = Math.min(cpuMoe, moe);
  const gpuStart = L - onGpu;
  const hostExpertOnGpuLayers = Math.max(0, Math.min(firstMoe + hostExpertLayersAll, L) - Math.max(firstMoe, gpuStart));
  const gpuMoeLayers = Math.max(0, L - Math.max(firstMoe, gpuStart));
  const headOnGpu = n > L;
  const gpuWeightBytes = onGpu * layerDenseBytes + (gpuMoeLayers - hostExpertOnGpuLayers) * layerExpertBytes + (headOnGpu ? headBytes : 0);
  return {
    layers: L, gpuLayers: n, hostExpertLayers: hostExpertOnGpuLayers, layerDenseBytes, layerExpertBytes, headBytes, embeddingBytes, headOnGpu,
    gpuWeightBytes, hostWeightBytes: layout.total - gpuWeightBytes, gpuKvShare: onGpu / L,
  };
}

/** Decode and prefill work of each side for one step. */
export function offloadWork(m: ModelSpec, s: OffloadSplit, work: { decode: PhaseWork; prefillTokens: number }, kvBytesRead: number, sequences: number): { gpu: PhaseWork; host: PhaseWork } {
  const L = s.layers;
  const onGpu = Math.min(s.gpuLayers, L);
  const moe = m.moe ? moeLayers(m) : 0;
  const touched = m.moe ? expertsTouched(m.moe.experts, m.moe.topK, sequences) / m.moe.experts : 1;
  const gpuMoe = Math.max(0, Math.min(moe, onGpu) - s.hostExpertLayers);
  const hostMoe = moe - gpuMoe;
  const gpuBytes = onGpu * s.layerDenseBytes + gpuMoe * s.layerExpertBytes * touched + (s.headOnGpu ? s.headBytes : 0) + kvBytesRead * s.gpuKvShare;
  const hostBytes = (L - onGpu) * s.layerDenseBytes + hostMoe * s.layerExpertBytes * touched + (s.headOnGpu ? 0 : s.headBytes) + kvBytesRead * (1 - s.gpuKvShare);
  const share = gpuBytes / Math.max(1, gpuBytes + hostBytes);
  return {
    gpu: { tokens: work.decode.tokens, flops: work.decode.flops * share, bytes: gpuBytes },
    host: { tokens: work.decode.tokens, flops: work.decode.flops * (1 - share), bytes: hostBytes },
  };
}

/** The host CPU's step model: the same step formulas on the CPU preset's peaks and DRAM. */
export function hostStepModel(args: StepModelArgs, o: WeightOffload): StepModel {
  const { input } = args;
  const hostInput: EstimateInput = { ...input, hardware: o.host, count: 1, parallel: { tp: 1, pp: 1, ep: 1, replicas: 1 } };
  return stepModel({ ...args, input: hostInput, peak: resolvePeak(o.host, input.weights, input.activations) });
}

/** Seconds for host-resident weights to cross the host link during a prompt of `tokens` tokens (op offload), 0 below the threshold. */
export function promptStreamingSeconds(s: OffloadSplit, o: WeightOffload, tokens: number): number {
  if (tokens < OP_OFFLOAD_MIN_BATCH.value) return 0;
  const passes = Math.ceil(tokens / UBATCH.value);
  return (passes * (s.hostWeightBytes - s.embeddingBytes)) / (o.hostLink.bandwidth.value! * HOST_LINK_EFFICIENCY.value);
}

export { bytesPerElement, term };
export type { Figures };

/**
 * memory.perDevice.weights under -ngl (the GPU's layers, the output layer when on the GPU, the
 * experts not kept on the host) and the host side: memory.offload.hostWeights and
 * memory.offload.hostKv; returns the GPU's weight bytes.
 */
export function offloadMemoryFigures(fig: Figures, input: EstimateInput, s: OffloadSplit, kvBytes: number): number {
  const o = input.weightOffload!;
  const src = 'llama.cpp src/llama-model.cpp load_tensors: the last n_gpu_layers layers on the GPU, the output layer there when n_gpu_layers > n_layer, tok_embd on the CPU; --cpu-moe / --n-cpu-moe keep ffn_*_exps on the CPU (common/arg.cpp)';
  const gpu = term(fig, { id: 'memory.perDevice.weights', label: `Weights on the GPU (${Math.min(s.gpuLayers, s.layers)} of ${s.layers} layers${s.headOnGpu ? ' + output' : ''})`, unit: 'B', value: s.gpuWeightBytes, formula: 'gpuLayers x layer bytes (less the experts kept on the host) + output layer when gpuLayers > layers', inputs: { gpuLayers: o.gpuLayers, layers: s.layers, layerBytes: s.layerDenseBytes + s.layerExpertBytes, hostExpertLayers: s.hostExpertLayers, headOnGpu: s.headOnGpu }, source: src, approximate: true });
  term(fig, { id: 'memory.offload.hostWeights', label: 'Weights in system memory', unit: 'B', value: s.hostWeightBytes, formula: 'memory.weights - memory.perDevice.weights (the CPU layers, the embedding, the output layer unless offloaded, experts on the host)', inputs: { weights: s.gpuWeightBytes + s.hostWeightBytes }, source: src, approximate: true });
  term(fig, { id: 'memory.offload.hostKv', label: 'KV cache in system memory (the CPU layers\')', unit: 'B', value: kvBytes * (1 - s.gpuKvShare), formula: 'memory.kvCache x (layers - gpuLayers) / layers', inputs: { kvCache: kvBytes, gpuKvShare: s.gpuKvShare }, source: 'llama.cpp keeps each layer\'s KV with the layer (offload_kqv: the GPU layers\' KV on the GPU)' });
  return gpu;
}

/**
 * offload.decodeGpu, offload.decodeHost (the decode step's two halves, each through its own
 * roofline) and offload.promptStreaming (host-resident weights crossing the host link during the
 * prompt). Returns the figure ids latency.tpot and latency.ttft take from them.
 */
export function offloadLatencyFigures(fig: Figures, args: StepModelArgs, step: StepModel, work: { prefill: PhaseWork; decode: PhaseWork }, kvBytesRead: number): { tpotParts: string[]; ttftParts: string[]; bound: 'compute' | 'memory' } {
  const { input } = args;
  const o = input.weightOffload!;
  const m = input.model;
  const s = offloadSplit(m, args.tensors!, o.gpuLayers, o.cpuMoeLayers);
  const sides = offloadWork(m, s, { decode: work.decode, prefillTokens: work.prefill.tokens }, kvBytesRead, input.workload.batch);
  const gpu = step.phase(sides.gpu);
  const host = hostStepModel(args, o).phase(sides.host);
  term(fig, { id: 'offload.decodeGpu', label: `Decode on the GPU (${Math.min(s.gpuLayers, s.layers)} layers, ${gpu.bound}-bound)`, unit: 's', value: gpu.rooflineSeconds + gpu.commTpSeconds, formula: 'roofline (efficiency.ts rooflineSeconds) of FLOPs and bytes at HBM bandwidth of the GPU\'s layers: their weights, the experts their tokens touch, their KV', inputs: { bytes: sides.gpu.bytes, flops: sides.gpu.flops, computeSeconds: gpu.computeSeconds, memorySeconds: gpu.memorySeconds, bandwidth: input.hardware.memoryBandwidth.value!, mbu: gpu.mbu }, source: `${input.hardware.memoryBandwidth.source}; the step model (step.ts)`, approximate: true });
  term(fig, { id: 'offload.decodeHost', label: `Decode on ${o.host.name.replace(/ \(.*$/, '')} (${s.layers - Math.min(s.gpuLayers, s.layers)} layers${s.hostExpertLayers ? ` + experts of ${s.hostExpertLayers}` : ''}${s.headOnGpu ? '' : ' + output'})`, unit: 's', value: host.rooflineSeconds, formula: 'roofline (efficiency.ts rooflineSeconds) of FLOPs at the CPU peak and bytes at DRAM bandwidth of the host\'s layers, experts and output layer', inputs: { bytes: sides.host.bytes, flops: sides.host.flops, computeSeconds: host.computeSeconds, memorySeconds: host.memorySeconds, bandwidth: o.host.memoryBandwidth.value!, mbu: host.mbu, host: o.host.id }, source: `${o.host.memoryBandwidth.source}; llama.cpp runs each layer where its weights are (ggml-backend scheduler)`, approximate: true });
  const streaming = promptStreamingSeconds(s, o, work.prefill.tokens);
  term(fig, { id: 'offload.promptStreaming', label: 'Host weights crossing to the GPU during the prompt', unit: 's', value: streaming, formula: `ceil(promptTokens / ubatch) x (host weights - embedding) / (host link x ${HOST_LINK_EFFICIENCY.value}) (0 below ${OP_OFFLOAD_MIN_BATCH.value} tokens)`, inputs: { promptTokens: work.prefill.tokens, ubatch: UBATCH.value, hostWeights: s.hostWeightBytes, link: o.hostLink.name, linkBandwidth: o.hostLink.bandwidth.value! }, source: `${OP_OFFLOAD_MIN_BATCH.source}; ${UBATCH.source}; ${o.hostLink.bandwidth.source}; ${HOST_LINK_EFFICIENCY.source}`, approximate: true });
  return { tpotParts: ['offload.decodeGpu', 'offload.decodeHost', 'latency.decodeOverhead'], ttftParts: ['offload.promptStreaming'], bound: gpu.memorySeconds + host.memorySeconds >= gpu.computeSeconds + host.computeSeconds ? 'memory' : 'compute' };
}

/**
 * The most decoder layers llama.cpp can keep on the GPU (-ngl) beside the KV cache of those
 * layers, the compute buffer and the runtime: the largest n with
 * gpuWeights(n) + kvPerDevice x min(n, layers) / layers + activations + overhead <= capacity.
 */
export function largestGpuLayers(m: ModelSpec, layout: WeightLayout, cpuMoe: number, budget: { capacity: number; kvAllGpu: number; fixed: number }): number {
  for (let n = m.layers + 1; n >= 0; n--) {
    const s = offloadSplit(m, layout, n, cpuMoe);
    if (s.gpuWeightBytes + budget.kvAllGpu * s.gpuKvShare + budget.fixed <= budget.capacity) return n;
  }
  return -1;
}

/** The -ngl suggestion of a model that does not fit: layers on the GPU, decode speed, host. */
export interface OffloadSuggestion {
  gpuLayers: number;
  layers: number;
  host: string;
  decodeTokensPerSecond: number;
  hostWeightBytes: number;
}

/** The largest -ngl that fits beside the KV of its layers, the compute buffer and the runtime, estimated with it. */
export function suggestGpuLayers(input: EstimateInput, fig: Figures, layout: WeightLayout, estimate: (probe: EstimateInput) => { fits: boolean; figures: Figures }): OffloadSuggestion | undefined {
  const host = input.hostCpu!;
  const n = largestGpuLayers(input.model, layout, 0, {
    capacity: fig['memory.capacityPerDevice'].value,
    kvAllGpu: fig['memory.perDevice.kvCache'].value,
    fixed: fig['memory.perDevice.activations'].value + fig['memory.perDevice.overhead'].value,
  });
  if (n < 0) return undefined;
  const weightOffload: WeightOffload = { gpuLayers: n, cpuMoeLayers: 0, host, hostLink: input.hardware.host!.link, source: 'the largest -ngl that fits (offload.ts largestGpuLayers)' };
  const probe = estimate({ ...input, weightOffload });
  if (!probe.fits) return undefined;
  return { gpuLayers: n, layers: input.model.layers, host: host.name.replace(/ \(.*$/, ''), decodeTokensPerSecond: probe.figures['throughput.decodeTokensPerSecond'].value, hostWeightBytes: probe.figures['memory.offload.hostWeights'].value };
}
