import type { HardwareSpec, Link } from '../inputs/hardware.js';
import type { ModelSpec } from '../inputs/model.js';
import type { EstimateInput } from './input.js';
import { holdsKv, isHeadAttention, layerGroups, moeLayerCount } from './layers.js';
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
}

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
  const heads = recurrentHeads(m).find(([, n]) => n % p.tp !== 0);
  if (heads) return `--tp ${p.tp} does not divide the ${heads[1]} ${heads[0]} heads of the model's ${heads[2]} layers (engines split them evenly over tensor-parallel ranks)`;
  if (hasAttention(m) && m.heads % p.tp !== 0) return `--tp ${p.tp} does not divide the model's ${m.heads} attention heads (tensor parallelism splits heads evenly; try ${divisors(m.heads).filter((d) => d <= 16).join(', ')})`;
  if (hasAttention(m) && !m.mla && m.kvHeads % p.tp !== 0 && p.tp % m.kvHeads !== 0) return `--tp ${p.tp} and the model's ${m.kvHeads} KV heads: one must divide the other (KV heads are split, or replicated when fewer than ranks)`;
  if (p.pp > m.layers) return `--pp ${p.pp} is more pipeline stages than the model's ${m.layers} layers`;
  if (p.ep > 1 && !m.moe) return `--ep ${p.ep}: expert parallelism needs a mixture-of-experts model; ${m.name} is dense`;
  if (m.moe && m.moe.experts % p.ep !== 0) return `--ep ${p.ep} does not divide the model's ${m.moe.experts} experts`;
  if (p.tp % p.ep !== 0) return `--ep ${p.ep} must divide --tp ${p.tp} (experts are split across the ranks of the tensor-parallel group, as vLLM --enable-expert-parallel does)`;
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
    return stageLayers(m, p.pp) / m.layers / p.tp;
  }
  // k/v projections of the attention layers follow the KV-head share.
  const attentionLayers = layerGroups(m).reduce((a, g) => a + (isHeadAttention(g.mixer) ? g.count : 0), 0);
  const kvProjection = attentionLayers * 2 * m.hidden * m.kvHeads * m.headDim;
  // MoE routers are replicated on every rank (vLLM ReplicatedLinear gate).
  const router = m.moe ? moeLayerCount(m) * (m.hidden * m.moe.experts + (m.moe.bias ? m.moe.experts : 0)) : 0;
  // One final norm vector after the last layer; the rest sit in the layers.
  const finalNorm = (m.norm === 'layer' ? 2 : 1) * m.hidden;
  const perLayer = ((attention - kvProjection) / p.tp + kvProjection * kvHeadShare(m, p.tp) + (mlp - router) / p.tp + router + (norms - finalNorm)) / m.layers;
  const ends = p.pp === 1 ? (embedding + lmHead) / p.tp + finalNorm : Math.max(embedding / p.tp, lmHead / p.tp + finalNorm);
  return (perLayer * stageLayers(m, p.pp) + ends) / totalParams;
}

/** Devices per node: --gpus-per-node, else the hardware profile's. */
export const nodeSize = (hw: HardwareSpec, gpusPerNode?: number): number => gpusPerNode ?? hw.devicesPerNode;

/** Used when a multi-device layout has no interconnect in its profile: PCIe 4.0 x16. */
export const PCIE4_FALLBACK: Link = {
  name: 'PCIe 4.0 x16 (assumed)',
  bandwidth: { value: 32e9, source: 'PCI-SIG PCIe 4.0: 16 GT/s x 16 lanes, about 32 GB/s per direction' },
  latency: { value: 5e-6, source: 'typical PCIe peer-to-peer latency, a few microseconds' },
};

/**
 * The link a group of `devices` consecutive ranks talks over: the intra-node link (NVLink,
 * Infinity Fabric, ICI) while the group fits in a node, the inter-node network (InfiniBand,
 * RoCE, EFA) once it spans nodes; PCIe 4.0 when the profile lists neither.
 */
export function groupLink(hw: HardwareSpec, devices: number, gpusPerNode?: number): { link: Link; assumed: boolean } {
  const link = devices > nodeSize(hw, gpusPerNode) ? (hw.interNode ?? hw.intraNode) : hw.intraNode;
  return link ? { link, assumed: false } : { link: PCIE4_FALLBACK, assumed: true };
}

/**
 * Ring all-reduce of `bytes` over n devices: 2(n-1)/n x bytes / bandwidth + 2(n-1) x latency
 * (Patarasuk & Yuan 2009; NCCL tests' "bus bandwidth" definition, nccl-tests PERFORMANCE.md).
 */
export function allReduceSeconds(bytes: number, n: number, link: Link): number {
  if (n <= 1) return 0;
  return ((2 * (n - 1)) / n) * (bytes / link.bandwidth.value!) + 2 * (n - 1) * link.latency.value!;
}

/**
 * All-to-all of `bytes` spread evenly over n devices (MoE dispatch or combine): each device
 * sends (n-1)/n of its 1/n share to the others, (n-1) latency hops (DeepSpeed-MoE, Rajbhandari
 * et al. 2022 sec. 5; nccl-tests alltoall bus bandwidth = (n-1)/n x algorithm bandwidth).
 */
export function allToAllSeconds(bytes: number, n: number, link: Link): number {
  if (n <= 1) return 0;
  return (((n - 1) / n) * (bytes / n)) / link.bandwidth.value! + (n - 1) * link.latency.value!;
}

/** Point-to-point send of `bytes` between pipeline stages: bytes / bandwidth + latency. */
export function sendSeconds(bytes: number, link: Link): number {
  return bytes / link.bandwidth.value! + link.latency.value!;
}
