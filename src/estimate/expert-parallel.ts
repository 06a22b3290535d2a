import type { Topology } from './parallel.js';

/**
 * Expert parallelism at scale: how unevenly routed tokens load the EP ranks, and how long the
 * MoE dispatch and combine all-to-alls take over a domain's scale-up link and the scale-out NIC.
 * One mechanism for every caller (the step model, hence estimate, plan and simulate).
 */

/**
 * How tokens travel to their experts and back:
 * - nccl: a plain all-to-all (NCCL grouped send/recv; vLLM's default backends), activations at
 *   their own width both ways;
 * - normal: DeepEP's high-throughput kernels (NVLink within the node, RDMA between nodes with
 *   NVLink forwarding; FP8 dispatch, BF16 combine), built for prefill's long inputs;
 * - low-latency: DeepEP's low-latency kernels (RDMA-first, CUDA-graph compatible, a fixed
 *   buffer per rank), built for decode;
 * - auto: normal for prompt steps and low-latency for decode steps (DeepEP / SGLang
 *   `--deepep-mode auto`), where DeepEP runs (an EP group across domains, attention DP);
 *   otherwise nccl.
 * Source: github.com/deepseek-ai/DeepEP README (V1: docs/legacy.md); SGLang's large-scale EP
 * blog (lmsys.org/blog/2025-05-05-large-scale-ep, "DeepEP provides two specialized dispatch modes").
 */
export const ALL_TO_ALL_MODES = ['auto', 'nccl', 'normal', 'low-latency'] as const;
export type AllToAllMode = (typeof ALL_TO_ALL_MODES)[number];

/**
 * Share of the scale-out NIC's bandwidth DeepEP's kernels reach, read off DeepEP V1's tables on
 * H800 with one 400 Gb/s CX7 (~50 GB/s) per GPU (github.com/deepseek-ai/DeepEP docs/legacy.md):
 * - normal kernels send a token once to each remote node holding one of its experts and fan it
 *   out over NVLink there; their "RDMA bottleneck bandwidth" counts those per-node sends,
 *   including the local node's: EP 32 (4 nodes) 58 GB/s dispatch / 57 combine and EP 64 (8 nodes)
 *   51 / 50 GB/s are 43.5 and 44.6 GB/s of remote traffic, 0.87-0.89 of the NIC: 0.88 (EP 16's
 *   43 GB/s, 21.5 remote, is bound by the forwarding stage, not the NIC);
 * - low-latency kernels send every (token, expert) pair directly; at 128 tokens per rank, EP 32 /
 *   64 / 128 / 256 reach 48 / 43 / 39 / 39 GB/s dispatch and 53 / 46 / 39 / 40 GB/s combine of
 *   logical bandwidth, which with (ep - 8) / ep of it crossing the NIC and the rest on NVLink leaves
 *   0.75-0.89 of 50 GB/s for the NIC share: 0.8.
 */
export const NIC_EFFICIENCY: Record<Exclude<AllToAllMode, 'auto' | 'nccl'>, { value: number; source: string }> = {
  normal: { value: 0.88, source: 'DeepEP V1 normal kernels, H800 + CX7 400 Gb/s: EP 32 / 64 reach 58 / 51 GB/s dispatch, 57 / 50 GB/s combine of per-node RDMA sends, local node included (github.com/deepseek-ai/DeepEP docs/legacy.md)' },
  'low-latency': { value: 0.8, source: 'DeepEP V1 low-latency kernels, H800 + CX7 400 Gb/s, EP 32-256, 128 tokens per rank: 39-53 GB/s logical bandwidth (github.com/deepseek-ai/DeepEP docs/legacy.md)' },
};

/**
 * Spread of expert loads, as the coefficient of variation of one physical expert's routed tokens,
 * from TensorRT-LLM's published DeepSeek-R1 statistics (examples/ep_load_balancer/README.md:
 * EP32 on a dataset, 1024 routed tokens per rank on average):
 * - without a balancer, the hottest rank receives 1.56x more than the mean (imbalance ratio
 *   (max - mean) / mean averaged over layers and iterations);
 * - with EPLB (EP36, 288 slots = 32 redundant experts), 0.115x more.
 * Solving expertImbalance's formula for cv at those conditions (k = 8 slots per rank, 1024 tokens
 * per rank) gives 1.68 and 0.083.
 */
export const EXPERT_LOAD_SPREAD = {
  unbalanced: { cv: 1.68, source: 'TensorRT-LLM examples/ep_load_balancer/README.md: DeepSeek-R1, EP32, no balancer: hottest rank +156% over the mean' },
  eplb: { cv: 0.083, source: 'TensorRT-LLM examples/ep_load_balancer/README.md: DeepSeek-R1, EP36 with EPLB (288 slots): hottest rank +11.5% over the mean' },
} as const;

export interface ImbalanceArgs {
  ep: number;
  /** routed experts of the model, and redundant copies placed by a load balancer (EPLB) */
  experts: number;
  redundant: number;
  topK: number;
  /** tokens through the MoE layers in one step, over the whole EP group */
  tokens: number;
}

/**
 * Expected max / mean routed tokens per EP rank: the hottest rank sets a MoE layer's time.
 * A rank's load sums its k = slots / ep expert slots, each with relative spread cv
 * (EXPERT_LOAD_SPREAD: measured, without and with EPLB's redundant experts), plus the Poisson
 * noise of a finite batch (lambda = tokens x topK / ep routed tokens per rank); the hottest of
 * ep ranks sits about sqrt(2 ln ep) standard deviations above the mean (the expected maximum of
 * ep normal variables, Cramer 1946): 1 + sqrt(2 ln ep) x sqrt(cv^2 / k + 1 / lambda). It is at
 * most ep x min(topK, k) / topK (every token's experts on one rank). 1 without expert parallelism.
 *
 * @example expertImbalance({ ep: 32, experts: 256, redundant: 0, topK: 8, tokens: 4096 }) // 2.56 (TensorRT-LLM measured 2.56)
 */
export function expertImbalance(a: ImbalanceArgs): { value: number; cv: number; slotsPerRank: number; tokensPerRank: number; source: string } {
  const slots = a.experts + a.redundant;
  const slotsPerRank = slots / Math.max(1, a.ep);
  const tokensPerRank = (Math.max(1, a.tokens) * a.topK) / Math.max(1, a.ep);
  const spread = a.redundant > 0 ? EXPERT_LOAD_SPREAD.eplb : EXPERT_LOAD_SPREAD.unbalanced;
  if (a.ep <= 1) return { value: 1, cv: spread.cv, slotsPerRank, tokensPerRank, source: 'no expert parallelism: every rank holds a slice of every expert' };
  const sigma = Math.sqrt((spread.cv * spread.cv) / slotsPerRank + 1 / tokensPerRank);
  const cap = (a.ep * Math.min(a.topK, slotsPerRank)) / a.topK;
  return { value: Math.max(1, Math.min(cap, 1 + Math.sqrt(2 * Math.log(a.ep)) * sigma)), cv: spread.cv, slotsPerRank, tokensPerRank, source: spread.source };
}

export interface AllToAllArgs {
  /** tokens through the MoE layers in one step, over the whole EP group */
  tokens: number;
  topK: number;
  hidden: number;
  ep: number;
  topology: Topology;
  mode: Exclude<AllToAllMode, 'auto'>;
  /** bytes per element sent to the experts and back (DeepEP: FP8 dispatch, BF16 combine) */
  dispatchBytes: number;
  combineBytes: number;
  /** share of a link's bandwidth collectives reach (calibrated, efficiency.ts commEfficiency) */
  commEfficiency: number;
  /** max / mean routed tokens per rank (expertImbalance): the hottest rank receives this much more */
  imbalance: number;
}

/**
 * Seconds of one MoE layer's dispatch and of its combine over `ep` ranks. Each rank sends
 * tokens x topK / ep hidden vectors (times the imbalance, for the rank that receives most).
 * All peers are sent to at once (NCCL grouped send/recv; DeepEP), so one latency per level.
 * - nccl and low-latency send every (token, expert) pair to its rank: with routing spread evenly,
 *   (d - 1) / ep of the pairs stay in the rank's scale-up domain of d devices (scale-up link at
 *   commEfficiency) and (ep - d) / ep leave it over the rank's own NIC (nccl: commEfficiency;
 *   low-latency: DeepEP's measured share). Within one domain that is (ep - 1) / ep x bytes /
 *   (bandwidth x commEfficiency), as DeepSpeed-MoE (Rajbhandari et al. 2022 sec. 5) and
 *   nccl-tests' alltoall bus bandwidth have it.
 * - normal (DeepEP high-throughput) sends a token once per remote domain holding one of its
 *   experts, (N - 1) x (1 - (1 - 1 / N)^topK) of the N domains on average, and fans it out over
 *   the scale-up link there; the RDMA and NVLink stages pipeline, so the slower one sets the time.
 */
export function expertAllToAllSeconds(a: AllToAllArgs): { dispatch: number; combine: number; crossShare: number } {
  if (a.ep <= 1) return { dispatch: 0, combine: 0, crossShare: 0 };
  const t = a.topology;
  const inDomain = Math.min(a.ep, t.domain);
  const crossShare = (a.ep - inDomain) / a.ep;
  const upBandwidth = t.up.bandwidth.value! * a.commEfficiency;
  const latency = t.up.latency.value! + (crossShare > 0 ? t.out.latency.value! : 0);
  const tokensPerRank = (a.tokens / a.ep) * a.imbalance;
  const vectors = tokensPerRank * a.topK * a.hidden;
  let perByte: number;
  if (a.mode === 'normal' && crossShare > 0) {
    const domains = Math.ceil(a.ep / inDomain);
    const remoteDomains = (domains - 1) * (1 - Math.pow(1 - 1 / domains, a.topK));
    const rdma = (tokensPerRank * remoteDomains * a.hidden) / (t.out.bandwidth.value! * NIC_EFFICIENCY.normal.value);
    const nvlink = (vectors * (inDomain - 1)) / inDomain / upBandwidth;
    perByte = Math.max(rdma, nvlink);
  } else {
    const nicEfficiency = a.mode === 'nccl' ? a.commEfficiency : NIC_EFFICIENCY[a.mode === 'normal' ? 'normal' : 'low-latency'].value;
    perByte = vectors * ((inDomain - 1) / a.ep / upBandwidth + (crossShare > 0 ? crossShare / (t.out.bandwidth.value! * nicEfficiency) : 0));
  }
  return { dispatch: perByte * a.dispatchBytes + latency, combine: perByte * a.combineBytes + latency, crossShare };
}
