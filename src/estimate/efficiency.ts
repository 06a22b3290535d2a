import type { HardwareSpec } from '../inputs/hardware.js';

/**
 * How close a step gets to the roofline, as a function of the situation rather than one
 * constant per device. Pure; the parameters come from a calibration (src/estimate/calibration.ts,
 * fitted on the validation suite by scripts/calibrate.ts; method in docs/accuracy.md).
 *
 * - Matrix products reach a smaller share of the dense peak when few tokens go through them:
 *   the GEMM tiles are mostly empty and fixed costs do not amortize. A saturating curve,
 *   mfu(T) = mfuMax x T / (T + mfuHalfTokens), T = tokens per step (the shape of measured GEMM
 *   efficiency against M in NVIDIA's "Matrix Multiplication Background" guide, and of
 *   LLM-Viewer's / aiconfigurator's profiled GEMM tables).
 * - Memory-bound steps reach a smaller share of the bandwidth when each device reads little per
 *   step: a small model or a wide tensor-parallel split leaves short kernels whose ramp-up and
 *   tail dominate. mbu(B) = mbuMax x B / (B + mbuHalfBytes), B = bytes read per device per step.
 * - Every step pays launch and scheduling costs per layer (kernel launches, even with CUDA
 *   graphs; sampling and the scheduler at the end of the step): overhead = stepOverheadSeconds
 *   + layerOverheadSeconds x layers.
 * - Tensor-parallel all-reduces reach a fraction of the link bandwidth (NCCL's bus bandwidth
 *   for mid-sized messages is below the link peak: nccl-tests PERFORMANCE.md): commEfficiency.
 *
 * Parameters are per hardware class at most (datacenter GPU, SoC with unified memory, TPU),
 * never per device, model or case. A class without fitted data uses the GPU values and says so.
 */

export const HARDWARE_CLASSES = ['gpu', 'soc', 'tpu'] as const;
export type HardwareClass = (typeof HARDWARE_CLASSES)[number];

export interface ClassParams {
  /** asymptotic fraction of the dense peak reached by large matrix products */
  mfuMax: number;
  /** asymptotic fraction of the memory bandwidth reached by large reads */
  mbuMax: number;
}

export interface EfficiencyParams {
  byClass: Partial<Record<HardwareClass, ClassParams>> & { gpu: ClassParams };
  /** tokens per step at which mfu is half of mfuMax */
  mfuHalfTokens: number;
  /** bytes read per device per step at which mbu is half of mbuMax */
  mbuHalfBytes: number;
  /** fixed seconds per step (sampling, scheduling) */
  stepOverheadSeconds: number;
  /** seconds per layer per step (kernel launches) */
  layerOverheadSeconds: number;
  /** fraction of the link bandwidth a tensor-parallel all-reduce reaches */
  commEfficiency: number;
}

export interface Calibration {
  params: EfficiencyParams;
  /** what the figures' `source` says */
  source: string;
  /**
   * Multiplicative uncertainty bands per kind of figure: measured / predicted lies in
   * [low, high] for the stated share of the suite's cases (leave-one-out residuals).
   */
  bands: Partial<Record<BandKind, { low: number; high: number }>>;
}

/**
 * training: measured / predicted training throughput (train.tokensPerSecondPerDevice, MFU);
 * kvCapacity: measured / predicted KV-cache capacity an engine allocates (engine start-up logs,
 * validation/cases/kv-capacity.yaml), applied to memory.kvCapacityTokens, memory.kvCapacity and
 * capacity.maxConcurrency where the engine sizes its pool from a memory budget
 */
export type BandKind = 'prefill' | 'decode' | 'throughput' | 'training' | 'kvCapacity';

/** Which parameter class a device belongs to. */
export function hardwareClass(hw: Pick<HardwareSpec, 'vendor' | 'kind'>): HardwareClass {
  if (hw.kind === 'tpu') return 'tpu';
  if (hw.kind === 'soc') return 'soc';
  return 'gpu';
}

export interface Situation {
  /** tokens through the matrix products in one step (prefill: batch x prompt; decode: batch) */
  tokensPerStep: number;
  /** bytes each device reads from memory in one step (weights and KV cache) */
  bytesPerDevicePerStep: number;
  layers: number;
}

export interface PhaseEfficiency {
  mfu: number;
  mbu: number;
  mfuMax: number;
  mbuMax: number;
  overheadSeconds: number;
  commEfficiency: number;
  /** the class whose parameters were used, and whether it had fitted data */
  cls: HardwareClass;
  fittedClass: boolean;
}

/**
 * @example phaseEfficiency(p, gpu, { tokensPerStep: 8, bytesPerDevicePerStep: 16e9, layers: 32 })
 *   with mfuMax 0.6, mfuHalfTokens 8: mfu = 0.6 x 8 / 16 = 0.3
 */
export function phaseEfficiency(p: EfficiencyParams, hw: Pick<HardwareSpec, 'vendor' | 'kind'>, s: Situation): PhaseEfficiency {
  const wanted = hardwareClass(hw);
  const own = p.byClass[wanted];
  const c = own ?? p.byClass.gpu;
  const tokens = Math.max(1, s.tokensPerStep);
  const bytes = Math.max(1, s.bytesPerDevicePerStep);
  return {
    mfu: (c.mfuMax * tokens) / (tokens + p.mfuHalfTokens),
    mbu: (c.mbuMax * bytes) / (bytes + p.mbuHalfBytes),
    mfuMax: c.mfuMax,
    mbuMax: c.mbuMax,
    overheadSeconds: p.stepOverheadSeconds + p.layerOverheadSeconds * s.layers,
    commEfficiency: p.commEfficiency,
    cls: own ? wanted : 'gpu',
    fittedClass: own !== undefined,
  };
}
