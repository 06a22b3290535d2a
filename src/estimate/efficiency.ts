import type { EngineSpec } from '../inputs/engine.js';
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
 * - Every step pays a host time (the engine's scheduler, sampler and launch loop between two GPU
 *   steps: hostStepSeconds per engine family, fitted, else the profile's prior, else the pooled
 *   stepOverheadSeconds) and launch costs per layer and per extra kernel: overhead = host
 *   + layerOverheadSeconds x layers + kernelSeconds x extraLaunches.
 * - Tensor-parallel all-reduces reach a fraction of the link bandwidth (NCCL's bus bandwidth
 *   for mid-sized messages is below the link peak: nccl-tests PERFORMANCE.md): commEfficiency.
 *
 * Parameters are per hardware class at most (datacenter GPU, SoC with unified memory, TPU),
 * never per device, model or case. A class without fitted data uses the GPU values and says so.
 */

export const HARDWARE_CLASSES = ['gpu', 'rocm-gpu', 'soc', 'tpu', 'cpu'] as const;
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
  /** fixed seconds per step (sampling, scheduling) for engines without a fitted host time of their own (hostStepSeconds) */
  stepOverheadSeconds: number;
  /**
   * fixed host seconds per step by engine family (engine profile id: llamacpp, vllm, sglang, trtllm),
   * fitted where the suite has cases of the family: the work between two GPU steps, which differs by
   * engine (vLLM's Python scheduler, sampler and detokenizer against llama.cpp's C++ loop replaying a
   * CUDA graph); a family without a fitted value takes its profile's prior (kernels.hostStepSeconds),
   * else stepOverheadSeconds (hostStepOf)
   */
  hostStepSeconds?: Record<string, number>;
  /** seconds per layer per step (kernel launches) */
  layerOverheadSeconds: number;
  /**
   * seconds per kernel a step launches beyond its dense layers' (routing, top-k, token alignment
   * and combine of mixture-of-experts blocks, absorbed-MLA projections and copies, fp8 activation
   * quantization), counted per engine version and layer kind (src/estimate/launches.ts); absent = 0
   */
  kernelSeconds?: number;
  /** fraction of the link bandwidth a tensor-parallel all-reduce reaches */
  commEfficiency: number;
  /**
   * bytes of one expert weight matrix per device at which its grouped GEMM reaches half the
   * dense efficiencies (expertEfficiency); absent = experts run like dense matrices
   */
  expertHalfBytes?: number;
  /**
   * how sharply a phase's compute and memory times combine (rooflineSeconds): the exponent p of
   * (compute^p + memory^p)^(1/p); absent = the plain roofline max(compute, memory)
   */
  rooflineExponent?: number;
}

/**
 * The roofline of one phase with an imperfect overlap of its compute and its memory traffic:
 * (compute^p + memory^p)^(1/p), p = rooflineExponent (fitted, efficiency.ts calibration); the
 * plain roofline max(compute, memory) (Williams et al. 2009) is the limit p -> infinity and the
 * sum (no overlap at all) is p = 1. Far from the ridge point one time dominates and the result is
 * the roofline; near it (a prompt of a few hundred tokens, a large decode batch) neither time
 * hides the other: a GEMM's tiles wait on memory between bursts of math, and the layers' memory-
 * bound kernels (norms, activations, attention over the cache) run between the GEMMs instead of
 * under them. NVIDIA's Matrix Multiplication Background User's Guide (docs.nvidia.com/deeplearning/
 * performance/dl-performance-matrix-multiplication, "Math And Memory Bounds" and "Typical Tile
 * Dimensions In cuBLAS And Performance") measures GEMM throughput rising gradually through the
 * ridge point, not meeting the two limits at a corner.
 *
 * @example rooflineSeconds(3e-3, 4e-3, 2) // 5e-3 (a 3-4-5 triangle); rooflineSeconds(3e-3, 4e-3, undefined) // 4e-3
 */
export function rooflineSeconds(computeSeconds: number, memorySeconds: number, exponent: number | undefined): number {
  const hi = Math.max(computeSeconds, memorySeconds);
  if (exponent === undefined || !(hi > 0)) return hi;
  const lo = Math.min(computeSeconds, memorySeconds);
  if (!(lo > 0)) return hi;
  // hi x (1 + (lo / hi)^p)^(1/p) through exp and log, half the time of two Math.pow calls (the fit calls it millions of times)
  return hi * Math.exp(Math.log1p(Math.exp(exponent * Math.log(lo / hi))) / exponent);
}

/** The formula rooflineSeconds applies, as figures print it. */
export const rooflineFormula = (exponent: number | undefined): string =>
  exponent === undefined ? 'max(compute time, memory time)' : '(compute^p + memory^p)^(1/p), p = rooflineExponent (p -> infinity: max(compute, memory); p = 1: their sum)';

/** Where the roofline's form comes from, for the figures' `source`. */
export const ROOFLINE_SOURCE = "roofline model (Williams et al. 2009); the overlap of compute and memory time near the ridge point (exponent p) is fitted on the validation suite (scripts/calibrate.ts; NVIDIA Matrix Multiplication Background User's Guide: GEMM throughput rises gradually through the ridge point)";

/**
 * Share of the dense efficiencies the routed experts' grouped GEMMs reach: s / (s + expertHalfBytes),
 * s the bytes of one expert matrix on a device. A grouped GEMM streams many small matrices, each with
 * its own tile ramp-up and tail, and pads the few tokens an expert gets to a whole tile (vLLM
 * fused_moe.py BLOCK_SIZE_M; SGLang moe_align_block_size); fine-grained experts (DeepSeek-V3: 256 of
 * 7168 x 2048, split over a TP group) suffer, Mixtral's 8 large ones barely.
 *
 * @example expertEfficiency({ ..., expertHalfBytes: 4e6 }, 12e6) // 0.75
 */
export function expertEfficiency(p: EfficiencyParams, expertMatrixBytes: number): number {
  if (!p.expertHalfBytes || expertMatrixBytes <= 0) return 1;
  return expertMatrixBytes / (expertMatrixBytes + p.expertHalfBytes);
}

/**
 * Training utilisation (src/estimate/training.ts trainingStepTime), fitted on the suite's
 * training runs like the serving model (scripts/calibrate.ts; method in docs/accuracy.md).
 */
export interface TrainingParams {
  /** fraction of the dense peak the matrix products of a training step reach, per hardware class */
  byClass: Partial<Record<HardwareClass, { utilMax: number }>> & { gpu: { utilMax: number } };
  /** share of that fraction reached at the fp8 peak (fp8 GEMMs keep casts, scaling and bf16 parts of the step) */
  fp8Factor: number;
  /** share reached by mixture-of-experts models (small expert GEMMs, routing, token permutation) */
  moeFactor: number;
  /** share of the 1F1B pipeline bubble left when the schedule is not stated (interleaving, DualPipe) */
  bubbleScale: number;
  /** share of the step's compute time that can hide data-parallel gradient / parameter traffic (the rest of the traffic is exposed) */
  dpOverlap: number;
}

export interface Calibration {
  params: EfficiencyParams;
  /** training utilisation; absent = the defaults in training.ts (unfitted, and said so) */
  training?: TrainingParams;
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
  if (hw.kind === 'cpu') return 'cpu';
  if (hw.vendor === 'amd') return 'rocm-gpu';
  return 'gpu';
}

export interface Situation {
  /** tokens through the matrix products in one step (prefill: batch x prompt; decode: batch) */
  tokensPerStep: number;
  /** bytes each device reads from memory in one step (weights and KV cache) */
  bytesPerDevicePerStep: number;
  layers: number;
  /** kernels launched beyond the dense layers' (launches.ts); absent = 0 */
  extraLaunches?: number;
  /** the engine family (profile id) and its profile's prior host time per step, for hostStepOf */
  engine?: EngineHost;
}

/** What hostStepOf reads of an engine profile: its family and its sourced prior host time per step. */
export interface EngineHost {
  id: string;
  prior?: { value: number; source: string };
}

/** Where the host time per step comes from, for `--explain`. */
export function describeHostStep(p: EfficiencyParams, engine: EngineHost | undefined): string {
  const h = hostStepOf(p, engine);
  if (h.from === 'fitted') return `fitted for the ${engine!.id} engine family on the suite's ${engine!.id} cases (calibration hostStepSeconds.${engine!.id})`;
  if (h.from === 'prior') return `${engine!.id} profile prior (kernels.hostStepSeconds; no ${engine!.id} case in the fit): ${engine!.prior!.source}`;
  return engine ? `pooled stepOverheadSeconds (no fitted value or prior for the ${engine.id} engine family)` : 'pooled stepOverheadSeconds (no engine profile)';
}

/** The family and prior of an engine profile (undefined: no engine profile, the pooled value). */
export function engineHostOf(engine: Pick<EngineSpec, 'id' | 'kernels'> | undefined): EngineHost | undefined {
  if (!engine) return undefined;
  const prior = engine.kernels?.hostStepSeconds;
  return prior ? { id: engine.id, prior } : { id: engine.id };
}

/**
 * Host seconds per step under an engine: the calibration's fitted value for the engine family,
 * else the profile's sourced prior, else the pooled stepOverheadSeconds; `from` says which.
 * @example hostStepOf({ ..., stepOverheadSeconds: 1e-3, hostStepSeconds: { llamacpp: 2e-4 } }, { id: 'llamacpp' }) // { seconds: 2e-4, from: 'fitted' }
 */
export function hostStepOf(p: EfficiencyParams, engine: EngineHost | undefined): { seconds: number; from: 'fitted' | 'prior' | 'pooled' } {
  const fitted = engine ? p.hostStepSeconds?.[engine.id] : undefined;
  if (fitted !== undefined) return { seconds: fitted, from: 'fitted' };
  if (engine?.prior) return { seconds: engine.prior.value, from: 'prior' };
  return { seconds: p.stepOverheadSeconds, from: 'pooled' };
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
/**
 * mfuMax x T / (T + mfuHalfTokens), T = tokens per step (at least 1), on accelerators. On a CPU
 * (hardware class cpu) the share is mfuMax whatever T: the saturating curve is tensor-core tiles
 * left mostly empty at small M, and CPUs have none; llama.cpp's CPU matrix product with one token
 * (ggml-cpu ggml_compute_forward_mul_mat: one activation column) takes each weight row through the
 * SIMD vec_dot kernel once, so the vector units are not idled by padding, and a token-generation
 * step is bound by the DRAM stream, not by compute (CPU llama-bench tg rates scale with the bytes
 * read: validation/cases/levers.yaml, Phi-4 Q4_K_M / Q6_K / Q8_0 on a 12-channel EPYC).
 */
/** The formula mfuAt applies on this hardware class, as figures print it. */
export const mfuFormula = (hardware: HardwareClass): string => (hardware === 'cpu' ? 'mfuMax (a CPU: no matrix tiles left empty at few tokens per step)' : 'mfuMax x tokensPerStep / (tokensPerStep + mfuHalfTokens)');

export const mfuAt = (c: ClassParams, p: EfficiencyParams, tokensPerStep: number, hardware?: HardwareClass): number => {
  if (hardware === 'cpu') return c.mfuMax;
  const tokens = Math.max(1, tokensPerStep);
  return (c.mfuMax * tokens) / (tokens + p.mfuHalfTokens);
};

/** mbuMax x B / (B + mbuHalfBytes), B = bytes per device per step (at least 1). */
export const mbuAt = (c: ClassParams, p: EfficiencyParams, bytesPerDevicePerStep: number): number => {
  const bytes = Math.max(1, bytesPerDevicePerStep);
  return (c.mbuMax * bytes) / (bytes + p.mbuHalfBytes);
};

export function phaseEfficiency(p: EfficiencyParams, hw: Pick<HardwareSpec, 'vendor' | 'kind'>, s: Situation): PhaseEfficiency {
  const wanted = hardwareClass(hw);
  const own = p.byClass[wanted];
  const c = own ?? p.byClass.gpu;
  return {
    mfu: mfuAt(c, p, s.tokensPerStep, wanted),
    mbu: mbuAt(c, p, s.bytesPerDevicePerStep),
    mfuMax: c.mfuMax,
    mbuMax: c.mbuMax,
    overheadSeconds: hostStepOf(p, s.engine).seconds + p.layerOverheadSeconds * s.layers + (p.kernelSeconds ?? 0) * (s.extraLaunches ?? 0),
    commEfficiency: p.commEfficiency,
    cls: own ? wanted : 'gpu',
    fittedClass: own !== undefined,
  };
}
