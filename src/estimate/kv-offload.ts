import type { Link } from '../inputs/hardware.js';
import { prefillFlops, type TokenFlops } from './flops.js';
import type { EstimateInput } from './input.js';
import { latencyWork } from './latency.js';
import { kvBytesPerToken } from './memory.js';
import { kvHeadShare, layoutOf, stageLayers } from './parallel.js';
import { cachedPromptTokens } from './prefix.js';
import type { StepModel } from './step.js';
import { term, type Figures } from './terms.js';

/**
 * KV offload tiers (LMCache, vLLM's CPU offloading connector, TensorRT-LLM host KV cache, Dynamo
 * KVBM): prefix KV blocks evicted from device memory are kept in host DRAM or on NVMe and copied
 * back when a request hits them, instead of being prefilled again. What a tier holds is its
 * size over the KV bytes per token of a device; what a hit costs is its KV crossing the tier's
 * path to the device, then the prefill of the tokens not cached.
 */
export const KV_TIERS = ['cpu', 'nvme'] as const;
export type KvTier = (typeof KV_TIERS)[number];

export interface KvOffloadTier {
  tier: KvTier;
  /** bytes of the tier per device (LMCache max_local_cpu_size is per worker) */
  bytesPerDevice: number;
}

/**
 * Host copies reach about 80% of a PCIe link's per-direction rate (TLP headers and flow
 * control): NVIDIA bandwidthTest pinned host-to-device copies measure ~25 GB/s on PCIe 4.0 x16
 * (31.5 GB/s) and ~50-55 GB/s on PCIe 5.0 x16 (63 GB/s).
 */
export const HOST_LINK_EFFICIENCY = { value: 0.8, source: 'pinned cudaMemcpy host-to-device reaches ~25 of 31.5 GB/s on PCIe 4.0 x16 and ~50-55 of 63 GB/s on PCIe 5.0 x16 (NVIDIA bandwidthTest)' };

/**
 * NVMe: one PCIe 4.0 x4 data drive per GPU, as DGX H100 carries 8 U.2 NVMe drives for its 8 GPUs;
 * sequential read ~7 GB/s (Samsung PM9A3 / 990 PRO class datasheets: 6.9-7.45 GB/s).
 */
export const NVME_READ = { value: 7e9, source: 'one PCIe 4.0 x4 NVMe drive per GPU (DGX H100: 8 x 3.84 TB U.2 for 8 GPUs), ~7 GB/s sequential read (Samsung PM9A3 6.9 GB/s, 990 PRO 7.45 GB/s datasheets)' };

/** What a hit copies and how fast each tier delivers it. */
export interface KvOffloadArgs {
  tiers: KvOffloadTier[];
  hostLink: Link;
  /** KV bytes per token on one device (the model's, by KV-head share) */
  kvBytesPerTokenPerDevice: number;
  /** prompt tokens a hit serves from the tier */
  hitTokens: number;
  /** seconds to prefill the rest of the prompt (roofline + communication + overhead), and to recompute the whole prompt */
  restPrefillSeconds: number;
  recomputeSeconds: number;
  devicesPerNode: number;
  hostMemoryBytes?: number;
}

export function kvOffloadFigures(fig: Figures, a: KvOffloadArgs): string[] {
  const warnings: string[] = [];
  const link = a.hostLink.bandwidth.value! * HOST_LINK_EFFICIENCY.value;
  for (const t of a.tiers) {
    const id = `kvOffload.${t.tier}`;
    const name = t.tier === 'cpu' ? 'host DRAM' : 'NVMe';
    const tokens = a.kvBytesPerTokenPerDevice > 0 ? Math.floor(t.bytesPerDevice / a.kvBytesPerTokenPerDevice) : 0;
    term(fig, { id: `${id}.capacityTokens`, label: `KV tokens the ${name} tier holds (per replica)`, unit: 'tokens', value: tokens, formula: 'tier bytes per device / KV bytes per token per device', inputs: { bytesPerDevice: t.bytesPerDevice, kvBytesPerTokenPerDevice: a.kvBytesPerTokenPerDevice }, source: '--kv-offload; LMCache max_local_cpu_size / max_local_disk_size are per worker (one per device)' });
    const rate = t.tier === 'cpu' ? link : Math.min(link, NVME_READ.value);
    const hitBytes = a.hitTokens * a.kvBytesPerTokenPerDevice;
    const load = term(fig, { id: `${id}.loadSeconds`, label: `Copy of a hit's KV from ${name}`, unit: 's', value: hitBytes / rate, formula: t.tier === 'cpu' ? 'hitTokens x kvBytesPerTokenPerDevice / (host link x efficiency)' : 'hitTokens x kvBytesPerTokenPerDevice / min(NVMe read, host link x efficiency)', inputs: { hitTokens: a.hitTokens, bytes: hitBytes, link: a.hostLink.name, linkBandwidth: a.hostLink.bandwidth.value!, efficiency: HOST_LINK_EFFICIENCY.value, ...(t.tier === 'nvme' ? { nvmeRead: NVME_READ.value } : {}) }, source: `${a.hostLink.bandwidth.source}; ${HOST_LINK_EFFICIENCY.source}${t.tier === 'nvme' ? `; ${NVME_READ.source}` : ''}` });
    const ttft = term(fig, { id: `${id}.ttftOnHit`, label: `TTFT of a hit served from ${name}`, unit: 's', value: load + a.restPrefillSeconds, formula: 'loadSeconds + prefill of the uncached tokens (roofline + communication + overhead)', inputs: { loadSeconds: load, restPrefillSeconds: a.restPrefillSeconds }, source: 'LMCache retrieves the hit before the engine prefills the rest (vLLM KV connector get_num_new_matched_tokens / start_load_kv)' });
    term(fig, { id: `${id}.speedup`, label: `TTFT gain of a ${name} hit over recomputing (one request alone)`, unit: 'ratio', value: a.recomputeSeconds / ttft, formula: 'TTFT recomputing the whole prompt / ttftOnHit (below 1: recomputing is faster); one request on an idle replica: requests in flight beside it share the steps and shrink the gain (LMCache\'s 4-client runs gain 3.5x where this gives 9x: docs/accuracy.md)', inputs: { recomputeSeconds: a.recomputeSeconds, ttftOnHit: ttft }, source: 'LMCache (Liu et al. 2024, CacheGen; LMCache docs): loading KV beats recomputing it when the link outpaces prefill' });
    if (a.recomputeSeconds < ttft) warnings.push(`--kv-offload ${t.tier}: loading a hit's KV from ${name} (${(ttft * 1e3).toPrecision(3)} ms) is slower than prefilling the prompt again (${(a.recomputeSeconds * 1e3).toPrecision(3)} ms)`);
  }
  const cpu = a.tiers.find((t) => t.tier === 'cpu');
  if (cpu && a.hostMemoryBytes !== undefined && cpu.bytesPerDevice * a.devicesPerNode > a.hostMemoryBytes) {
    warnings.push(`--kv-offload cpu: ${a.devicesPerNode} devices x ${(cpu.bytesPerDevice / 2 ** 30).toFixed(0)} GiB is more than the node's ${(a.hostMemoryBytes / 2 ** 30).toFixed(0)} GiB of system memory`);
  }
  return warnings;
}

/** KV offload as resolved from --kv-offload: the tiers, and the host link they reach the device over. */
export interface KvOffload {
  tiers: KvOffloadTier[];
  hostLink: Link;
  /** system memory per node, when the hardware preset states it */
  hostMemoryBytes?: number;
  source: string;
}

/**
 * The arguments of kvOffloadFigures for an estimate: a hit serves the cached prefix (with
 * --prefix-tokens / --cache-hit-rate) or, without one, the whole prompt but its last token (a
 * returning conversation); the rest of that one request's prompt is prefilled by the step model.
 */
export function kvOffloadArgs(input: EstimateInput, step: StepModel, tf: TokenFlops): KvOffloadArgs {
  const o = input.kvOffload!;
  const m = input.model;
  const w = input.workload;
  const hit = input.prefixCache ? cachedPromptTokens(input) : w.inputTokens - 1;
  const one = { ...w, batch: 1 };
  const seconds = (cached: number) => {
    const work = latencyWork(step, m, one, { prefill: prefillFlops(m, tf, 1, w.inputTokens, cached).total, decodePerToken: 0 }, false, cached).prefillWork;
    return step.phaseSeconds(work) + step.overheadSeconds;
  };
  const layout = layoutOf(input);
  return {
    tiers: o.tiers, hostLink: o.hostLink,
    kvBytesPerTokenPerDevice: kvBytesPerToken(m, input.kv) * kvHeadShare(m, layout.tp) * (stageLayers(m, layout.pp) / m.layers),
    hitTokens: hit, restPrefillSeconds: seconds(hit), recomputeSeconds: seconds(0),
    devicesPerNode: input.gpusPerNode ?? input.hardware.devicesPerNode,
    ...(o.hostMemoryBytes !== undefined ? { hostMemoryBytes: o.hostMemoryBytes } : {}),
  };
}
