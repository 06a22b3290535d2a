import type { HardwareSpec, Link } from '../inputs/hardware.js';
import type { ModelSpec } from '../inputs/model.js';
import type { EngineSpec } from '../inputs/engine.js';
import type { EstimateInput } from './input.js';
import { holdsKv, isHeadAttention, layerGroups, moeLayerCount } from './layers.js';
import { expertParams } from './params.js';
import type { Figures } from './terms.js';

/**
 * Parallel layouts as serving engines run them (vLLM, SGLang, TensorRT-LLM, Megatron-LM):
 * tensor parallelism (tp) splits attention heads and MLP columns, pipeline parallelism (pp)
 * splits layers into stages, expert parallelism (ep) splits the experts of MoE layers across
 * ranks of the tensor-parallel group, and replicas serve traffic side by side (data parallel).
 * Devices per replica = tp x pp.
 */
export interface Parallel {
  tp: number;
  pp: number;
  ep: number;
  replicas: number;
  /** redundant expert copies a load balancer places beside the model's experts (EPLB); absent = 0 */
  redundantExperts?: number;
  /**
   * Attention data parallelism: the tp ranks form this many attention groups of tp / dpAttention
   * ranks, each serving its own sequences (their KV only) through attention and the dense
   * layers, while the routed experts span all tp ranks (SGLang --enable-dp-attention --dp;
   * vLLM --data-parallel-size with --enable-expert-parallel). Absent = 1: tensor parallelism.
   */
  dpAttention?: number;
}

/**
 * Sequences one engine scheduler runs: the replica's batch, or with attention data parallelism
 * on an engine whose data-parallel ranks schedule apart (vLLM --data-parallel-size: max_num_seqs
 * per rank; engine launch.dataParallelTp 'group') the busiest rank's share.
 */
export const batchPerScheduler = (input: Pick<EstimateInput, 'engine' | 'parallel' | 'count' | 'workload'>): number => {
  const dp = dpGroups(layoutOf(input));
  return dp > 1 && input.engine?.launch?.dataParallelTp === 'group' ? Math.ceil(input.workload.batch / dp) : input.workload.batch;
};

/** Attention data-parallel groups of a layout (1 without --dp-attention). */
export const dpGroups = (p: Parallel): number => p.dpAttention ?? 1;

/**
 * Prompts the busiest of `groups` attention groups prefills in a step, on average, when `rate`
 * prompts join the replica per step and each group admits its own (the engines' data-parallel
 * ranks schedule apart: SGLang's DP controller hands each request to one rank's scheduler,
 * TensorRT-LLM's attention DP distributes requests round-robin, vLLM's DP engine cores) while all
 * groups step together through the MoE layers, so the step waits for the group with the most
 * (TensorRT-LLM blog10_ADP_Balance_Strategy.md: the iteration time is the slowest rank's; its
 * round-robin baseline balanced 54% per iteration). Each group's arrivals are Poisson with mean
 * rate / groups; the expected maximum of `groups` of them is sum over k >= 0 of 1 - F(k)^groups
 * (F the Poisson CDF). One group: `rate` itself. A balancer that holds prompts until every group
 * has one (TensorRT-LLM's ADP balance, 1.33x in that blog) brings it down to rate / groups.
 */
export function busiestGroupPrompts(rate: number, groups: number): number {
  if (groups <= 1 || rate <= 0) return Math.max(0, rate);
  const lambda = rate / groups;
  let term = Math.exp(-lambda); // P(N = k)
  let cdf = term;
  let expected = 0;
  for (let k = 0; k < 10_000 && 1 - cdf > 1e-12; k++) {
    expected += 1 - Math.pow(cdf, groups);
    term *= lambda / (k + 1);
    cdf += term;
  }
  return expected;
}

/** Ranks of one attention group: the tensor-parallel size attention and the dense layers run at. */
export const attentionTp = (p: Parallel): number => p.tp / dpGroups(p);

/** The layout of an input: `parallel` when given, else `count` devices of tensor parallelism. */
export const layoutOf = (input: Pick<EstimateInput, 'count' | 'parallel'>): Parallel =>
  input.parallel ?? { tp: input.count, pp: 1, ep: 1, replicas: 1 };

/**
 * Why a layout cannot run this model, or undefined when it can. The rules are the engines':
 * vLLM requires num_attention_heads % tp == 0 and, for KV heads, either kv % tp == 0 or
 * tp % kv == 0 (vllm/config.py verify_with_parallel_config, QKVParallelLinear); experts must
 * split evenly over EP ranks (FusedMoE: num_experts % ep_size == 0); a stage needs a layer.
 */
export function layoutProblem(m: ModelSpec, p: Parallel): string | undefined {
  const dp = dpGroups(p);
  if (dp > 1 && p.tp % dp !== 0) return `--dp-attention ${dp} does not divide --tp ${p.tp} (attention groups split the tensor-parallel ranks evenly)`;
  if (dp > 1 && !m.moe) return `--dp-attention: attention data parallelism couples groups through the experts of a mixture-of-experts model; for ${m.name}, a dense model, groups are replicas (use --replicas)`;
  // Attention and the dense layers run tensor-parallel within a group of tp / dp ranks.
  const tp = p.tp / dp;
  const flag = dp > 1 ? `attention tensor parallelism ${tp} (--tp ${p.tp} / --dp-attention ${dp})` : `--tp ${p.tp}`;
  const heads = recurrentHeads(m).find(([, n]) => n % tp !== 0);
  if (heads) return `${flag} does not divide the ${heads[1]} ${heads[0]} heads of the model's ${heads[2]} layers (engines split them evenly over tensor-parallel ranks)`;
  if (hasAttention(m) && m.heads % tp !== 0) return `${flag} does not divide the model's ${m.heads} attention heads (tensor parallelism splits heads evenly; try ${divisors(m.heads).filter((d) => d <= 16).join(', ')})`;
  if (hasAttention(m) && !m.mla && m.kvHeads % tp !== 0 && tp % m.kvHeads !== 0) return `${flag} and the model's ${m.kvHeads} KV heads: one must divide the other (KV heads are split, or replicated when fewer than ranks)`;
  if (p.pp > m.layers) return `--pp ${p.pp} is more pipeline stages than the model's ${m.layers} layers`;
  if (p.ep > 1 && !m.moe) return `--ep ${p.ep}: expert parallelism needs a mixture-of-experts model; ${m.name} is dense`;
  const slots = m.moe ? m.moe.experts + (p.redundantExperts ?? 0) : 0;
  if (m.moe && slots % p.ep !== 0) return p.redundantExperts ? `--ep ${p.ep} does not divide the ${slots} expert slots (${m.moe.experts} experts + ${p.redundantExperts} redundant); engines place slots evenly (SGLang --ep-num-redundant-experts, TensorRT-LLM num_slots)` : `--ep ${p.ep} does not divide the model's ${m.moe.experts} experts (--redundant-experts adds copies so that ${m.moe.experts} + r slots divide evenly)`;
  if (p.tp % p.ep !== 0) return `--ep ${p.ep} must divide --tp ${p.tp}, or be a multiple of it (experts are split across the ranks of the tensor-parallel group, as vLLM --enable-expert-parallel does; a multiple of --tp makes ep / tp attention groups share the experts)`;
  return undefined;
}

/** Head counts of recurrent mixers that tensor parallelism splits: [what, count, kind]. */
function recurrentHeads(m: ModelSpec): [string, number, string][] {
  const out: [string, number, string][] = [];
  for (const g of layerGroups(m)) {
    const x = g.mixer;
    if (x.kind === 'gated-deltanet') out.push(['key', x.keyHeads, 'Gated DeltaNet'], ['value', x.valueHeads, 'Gated DeltaNet']);
    if (x.kind === 'lightning') out.push(['lightning-attention', x.heads, 'lightning attention']);
    if (x.kind === 'mamba2') out.push(['Mamba-2', x.heads, 'Mamba-2']);
    if (x.kind === 'mamba') out.push(['Mamba channel', x.inner, 'Mamba']);
  }
  return out;
}

const hasAttention = (m: ModelSpec): boolean => layerGroups(m).some((g) => holdsKv(g.mixer));

const divisors = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

/** Layers held by the busiest pipeline stage: vLLM get_pp_indices splits layers evenly. */
export const stageLayers = (m: ModelSpec, pp: number): number => Math.ceil(m.layers / pp);

/**
 * Key/value heads each device holds under tensor parallelism, as a fraction of all KV heads:
 * split across ranks, replicated when there are fewer KV heads than ranks (vLLM
 * QKVParallelLinear: num_kv_head_replicas = tp_size / num_kv_heads). MLA's latent is shared
 * by all heads, so every rank holds all of it.
 */
export const kvHeadShare = (m: ModelSpec, tp: number): number => (m.mla ? 1 : Math.max(1, Math.ceil(m.kvHeads / tp)) / m.kvHeads);

/**
 * Share of a replica's KV cache on one device: its KV-head share within its attention group,
 * and under attention data parallelism only its group's sequences, 1 / dp of them (SGLang DP
 * attention: "each DP worker ... eliminates KV cache duplication"; MLA's latent on 8 ranks is
 * 1/8 per device instead of a full copy on each).
 */
export const kvDeviceShare = (m: ModelSpec, p: Parallel): number => kvHeadShare(m, attentionTp(p)) / dpGroups(p);

/**
 * Share of all weights the busiest device holds. Per stage: layers/pp of the layers; attention
 * and MLP matrices split tp ways (experts split over EP ranks and the rest of the TP group,
 * so also tp ways in total); k/v projections follow the KV heads (replicated when kv < tp);
 * norms are replicated. The embedding sits on the first stage and the output head on the last
 * (vLLM VocabParallelEmbedding / ParallelLMHead split the vocabulary tp ways); with one stage
 * both are on every device. With only --params known, an even split of the whole count.
 */
export function deviceWeightShare(fig: Figures, m: ModelSpec, p: Parallel, totalParams: number): number {
  const part = (id: string) => fig[id]?.value;
  const attention = part('params.attention');
  const mlp = part('params.mlp');
  const norms = part('params.norms');
  const embedding = part('params.embedding');
  const lmHead = part('params.lmHead');
  if (attention === undefined || mlp === undefined || norms === undefined || embedding === undefined || lmHead === undefined) {
    return stageLayers(m, p.pp) / m.layers / attentionTp(p);
  }
  // k/v projections of the attention layers follow the KV-head share.
  const attentionLayers = layerGroups(m).reduce((a, g) => a + (isHeadAttention(g.mixer) ? g.count : 0), 0);
  const kvProjection = attentionLayers * 2 * m.hidden * m.kvHeads * m.headDim;
  // MoE routers are replicated on every rank (vLLM ReplicatedLinear gate).
  const router = m.moe ? moeLayerCount(m) * (m.hidden * m.moe.experts + (m.moe.bias ? m.moe.experts : 0)) : 0;
  // One final norm vector after the last layer; the rest sit in the layers.
  const finalNorm = (m.norm === 'layer' ? 2 : 1) * m.hidden;
  // Attention DP: attention, dense MLPs, shared experts, embedding and head split over an
  // attention group's tpA ranks (SGLang --moe-dense-tp-size, --enable-dp-lm-head); the routed
  // experts, with redundant copies (EPLB), over all tp ranks.
  const tpA = attentionTp(p);
  const routed = m.moe ? moeLayerCount(m) * m.moe.experts * expertParams(m) : 0;
  const slots = m.moe ? (m.moe.experts + (p.redundantExperts ?? 0)) / m.moe.experts : 1;
  const perLayer = ((attention - kvProjection) / tpA + kvProjection * kvHeadShare(m, tpA) + (mlp - router - routed) / tpA + (routed * slots) / p.tp + router + (norms - finalNorm)) / m.layers;
  const ends = p.pp === 1 ? (embedding + lmHead) / tpA + finalNorm : Math.max(embedding / tpA, lmHead / tpA + finalNorm);
  // What lies outside those parts (vision and audio towers, encoder heads, a family's extra
  // tensors such as Gemma 3n's per-layer embeddings): counted whole on every device, as a
  // replicated module is (an upper bound where an engine splits them).
  const rest = Math.max(0, totalParams - attention - mlp - norms - embedding - lmHead);
  return (perLayer * stageLayers(m, p.pp) + ends + rest) / totalParams;
}

/**
 * Why a replica of this layout is not one an engine runs and the hardware holds, or undefined:
 * more devices than the engine drives (llama.cpp: GGML_CUDA_MAX_DEVICES 16 in one process), a
 * replica past one node for an engine that runs within a node (llama.cpp's layer split), or past
 * the scale-up domain where the preset lists no link between nodes (consumer cards, laptops).
 * Pipeline depth past the layers is layoutProblem's.
 */
export function placementProblem(hw: HardwareSpec, p: Pick<Parallel, 'tp' | 'pp'>, engine: Pick<EngineSpec, 'name' | 'multiDevice'> | undefined, gpusPerNode?: number): string | undefined {
  const devices = p.tp * p.pp;
  const most = engine?.multiDevice.maxDevices;
  if (most && devices > most.value) return `${engine!.name} runs at most ${most.value} devices per replica (${most.source})`;
  const domain = Math.max(1, domainSize(hw, gpusPerNode));
  if (devices <= domain) return undefined;
  if (engine?.multiDevice.singleNode) return `${engine.name} runs a replica within one node (${engine.multiDevice.singleNode.source}); a node of ${hw.name} holds ${domain} (--gpus-per-node sets the node size)`;
  if (!hw.interNode) return `${hw.name} lists no link between nodes of ${domain} device${domain === 1 ? '' : 's'}; a replica of ${devices} would span ${Math.ceil(devices / domain)} nodes (--gpus-per-node sets the node size)`;
  return undefined;
}

/** Devices per node: --gpus-per-node, else the hardware profile's. */
export const nodeSize = (hw: HardwareSpec, gpusPerNode?: number): number => gpusPerNode ?? hw.devicesPerNode;

/**
 * Devices one scale-up domain joins with the intra-node link (NVLink, Infinity Fabric, ICI): the
 * profile's domain where it spans several nodes (GB200 NVL72: 72 GPUs in 18 trays of 4, NVIDIA
 * GB200 NVL72 page; a TPU pod slice: its ICI torus, cloud.google.com/tpu/docs/system-architecture-tpu-vm),
 * else one node (--gpus-per-node, else the profile's devicesPerNode: an HGX board, an MI300X platform).
 */
export const domainSize = (hw: HardwareSpec, gpusPerNode?: number): number =>
  hw.domain && hw.domain.devices > hw.devicesPerNode ? hw.domain.devices : nodeSize(hw, gpusPerNode);

/** Used when a multi-device layout has no interconnect in its profile: PCIe 4.0 x16. */
export const PCIE4_FALLBACK: Link = {
  name: 'PCIe 4.0 x16 (assumed)',
  bandwidth: { value: 32e9, source: 'PCI-SIG PCIe 4.0: 16 GT/s x 16 lanes, about 32 GB/s per direction' },
  latency: { value: 5e-6, source: 'typical PCIe peer-to-peer latency, a few microseconds' },
};

/**
 * The two levels a collective runs over: the scale-up link within a domain and the scale-out
 * network between domains (InfiniBand, RoCE, EFA: one NIC per GPU on HGX and GB200 systems; the
 * data-center network between TPU slices), and how many devices a domain holds.
 */
export interface Topology {
  up: Link;
  out: Link;
  /** devices per scale-up domain */
  domain: number;
  /** no link in the profile: PCIe 4.0 assumed */
  assumed: boolean;
}

/** The topology of a device type (the profile's links and domain, --gpus-per-node). */
export function topologyOf(hw: HardwareSpec, gpusPerNode?: number): Topology {
  const up = hw.intraNode ?? PCIE4_FALLBACK;
  return { up, out: hw.interNode ?? up, domain: Math.max(1, domainSize(hw, gpusPerNode)), assumed: !hw.intraNode };
}

/**
 * The link a group of `devices` consecutive ranks talks over: the scale-up link (NVLink,
 * Infinity Fabric, ICI) while the group fits in a domain, the scale-out network (InfiniBand,
 * RoCE, EFA) once it spans domains; PCIe 4.0 when the profile lists neither.
 */
export function groupLink(hw: HardwareSpec, devices: number, gpusPerNode?: number): { link: Link; assumed: boolean } {
  const link = devices > domainSize(hw, gpusPerNode) ? (hw.interNode ?? hw.intraNode) : hw.intraNode;
  return link ? { link, assumed: false } : { link: PCIE4_FALLBACK, assumed: true };
}

/**
 * All-reduce of `bytes` over n devices of a topology, hierarchical once the group spans domains
 * (NCCL's tree and the hierarchical ring of Horovod / BlueConnect, Cho et al. 2019): a
 * reduce-scatter and an all-gather within each domain of d devices over the scale-up link, and
 * between them an all-reduce of each device's 1/d shard across the k = n/d domains, every device
 * over its own NIC (rail-optimized HGX / GB200 fabrics). Within one domain it is allReduceSeconds
 * over the scale-up link, unchanged.
 *
 * @example hierarchicalAllReduceSeconds(1e6, 16, h100Topology) // 2 x 7/8 x 1e6 / 450e9 + latency, then 2 x 1/2 x 1.25e5 / 50e9 + latency
 */
export function hierarchicalAllReduceSeconds(bytes: number, n: number, t: Topology): number {
  if (n <= t.domain) return allReduceSeconds(bytes, n, t.up);
  const d = t.domain;
  return allReduceSeconds(bytes, d, t.up) + allReduceSeconds(bytes / d, Math.ceil(n / d), t.out);
}

/**
 * All-reduce of `bytes` over n devices as serving engines run it: the bytes at the bus bandwidth of
 * a reduce-scatter plus an all-gather, 2(n-1)/n x bytes / bandwidth (Patarasuk & Yuan 2009;
 * nccl-tests PERFORMANCE.md "bus bandwidth"), and two exchange steps of latency: the engines'
 * two-shot all-reduce sends to every peer at once over the switch or mesh (vLLM
 * csrc/custom_all_reduce.cuh cross_device_reduce_2stage, used by vLLM and SGLang for TP messages
 * below 8 MB; TensorRT-LLM customAllReduceKernels twoShot), not 2(n-1) ring steps. Two GPUs pay
 * the same two steps either way.
 */
export function allReduceSeconds(bytes: number, n: number, link: Link): number {
  if (n <= 1) return 0;
  return ((2 * (n - 1)) / n) * (bytes / link.bandwidth.value!) + 2 * link.latency.value!;
}

/** Point-to-point send of `bytes` between pipeline stages: bytes / bandwidth + latency. */
export function sendSeconds(bytes: number, link: Link): number {
  return bytes / link.bandwidth.value! + link.latency.value!;
}
