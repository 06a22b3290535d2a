import type { ComputeClass } from './precision.js';

/** A sourced value in base units; `null` = unknown (marked so in the preset, never invented). */
export interface Sourced {
  value: number | null;
  source: string;
  note?: string;
}

export interface Link {
  name: string;
  /** per direction, bytes/s */
  bandwidth: Sourced;
  latency: Sourced;
}

/**
 * How a price is sold: a provider's on-demand list price, a 1- or 3-year commitment, spot or
 * preemptible capacity, a marketplace of third-party hosts (RunPod Community, Vast.ai), or the
 * purchase of the device (hourly cost by amortization, src/inputs/price.ts).
 */
export const PRICE_KINDS = ['on-demand', 'reserved-1y', 'reserved-3y', 'spot', 'marketplace', 'purchase'] as const;
export type PriceKind = (typeof PRICE_KINDS)[number];

/** A dated price from a preset: USD per device-hour, or for `purchase` USD per device. */
export interface Price {
  provider: string;
  /** cloud region or market (us-east-1, eu, us) where it applies */
  region?: string;
  kind: PriceKind;
  /** USD per device-hour (every kind but purchase) */
  usdPerHour?: number;
  /** USD per device (kind purchase) */
  purchaseUsd?: number;
  date: string;
  instance?: string;
  source: string;
}

/** A hardware profile in base units (bytes, bytes/s, FLOP/s, s, W, USD/h). */
export interface HardwareSpec {
  id: string;
  aliases: string[];
  name: string;
  vendor: 'nvidia' | 'amd' | 'google' | 'intel' | 'apple' | 'qualcomm' | 'ampere' | 'aws';
  /** cpu: a CPU socket whose DRAM is its memory (CPU-only inference, the CPU side of offload) */
  kind: 'gpu' | 'tpu' | 'hpu' | 'soc' | 'cpu';
  /**
   * The device's architecture, what engine profiles key their per-format kernels on
   * (presets/engines supports.byArchitecture): `id` is NVIDIA's sm_<compute capability> (sm_90),
   * AMD's LLVM target (gfx942) or a generation; `capability` NVIDIA's compute capability as
   * major x 10 + minor (90), the integer vLLM's get_min_capability compares against.
   * Absent (user presets) = unknown: no kernel rule is checked.
   */
  architecture?: { name: string; id: string; capability?: number; source: string };
  /** datacenter (absent), workstation, laptop, phone or embedded: the last three are not rented */
  formFactor?: 'datacenter' | 'workstation' | 'laptop' | 'phone' | 'embedded';
  memoryBytes: Sourced;
  /** total memory the driver reports to CUDA (torch.cuda.mem_get_info), what serving engines size their pools against; absent = memoryBytes */
  memoryUsableBytes?: Sourced;
  memoryBandwidth: Sourced;
  /** dense peaks per compute class, FLOP/s (ops/s for integer formats); absent = not native */
  compute: Partial<Record<ComputeClass, Sourced>>;
  intraNode?: Link;
  interNode?: Link;
  devicesPerNode: number;
  /**
   * The scale-up domain when it spans more than one node: how many devices the intra-node link
   * joins (GB200 NVL72: 72 GPUs in 18 trays of 4; a TPU v5p pod slice: up to 8,960 chips on its
   * ICI torus), its topology and source. Absent = one node (an HGX board, an MI300X platform).
   */
  domain?: { devices: number; topology: string; source: string };
  tdpWatts: Sourced;
  /** the server's power per device (a rack's draw / its devices), W, where published; owned hardware's running costs use it (src/estimate/owned.ts) */
  serverWatts?: Sourced;
  runtimeOverheadBytes: Sourced;
  /** memory sizes the device is sold with, bytes (laptops, SoCs); --memory picks one */
  memoryVariants?: number[];
  /** share of memory the OS keeps (macOS GPU wired limit); the runtime overhead is this x capacity */
  reservedFraction?: Sourced;
  /** peaks with 2:4 structured sparsity, FLOP/s (ops/s for integer formats); absent = no sparse tensor cores */
  sparseCompute?: Partial<Record<ComputeClass, Sourced>>;
  /** dense fp16 tensor peak with fp16 accumulation, FLOP/s, where above compute.fp16 (GeForce cards; schema.ts) */
  fp16Accumulate16?: Sourced;
  /** CPUs: DRAM channels and transfer rate (bandwidth = count x MT/s x 8 B) */
  memoryChannels?: { count: number; megaTransfersPerSecond: number; source: string };
  /** the host of a GPU server or desktop: CPU (a cpu preset id), system memory per node, host-device link */
  host?: { cpu: { name: string; preset?: string; sockets: number; source: string }; memoryBytes?: Sourced; link: Link };
  efficiency: { mfu: Sourced; mbu: Sourced; stepOverheadSeconds: Sourced };
  prices: Price[];
  notes?: string[];
}

/** value or throw: for figures a preset must have (capacity, bandwidth) */
export const known = (s: Sourced | undefined, what: string): number => {
  if (!s || s.value === null) throw new Error(`internal: ${what} unknown`);
  return s.value;
};
