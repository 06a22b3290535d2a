import type { OwnedCost } from './owned.js';
import type { ImageTokens } from './images.js';
import type { HardwareSpec, PriceKind } from '../inputs/hardware.js';
import type { ModelSpec } from '../inputs/model.js';
import type { EngineSpec } from '../inputs/engine.js';
import type { EngineOptions } from './engine.js';
import type { Format } from '../inputs/precision.js';
import type { Carbon } from './carbon.js';
import type { SparsityPattern, StructuredPruning } from './pruning.js';
import type { Parallel } from './parallel.js';
import type { AllToAllMode } from './expert-parallel.js';
import type { Speculative } from './speculative.js';
import type { PrefixCache } from './prefix.js';
import type { LoraServing } from './lora-serving.js';
import type { KvOffload } from './kv-offload.js';
import type { WeightOffload } from './offload.js';
import type { Traffic } from './workload.js';

/** What one request looks like and how many run together. Token counts. */
export interface Workload {
  /** concurrent sequences */
  batch: number;
  inputTokens: number;
  outputTokens: number;
  /** tokens the KV cache must hold per sequence (default input + output) */
  context: number;
  /**
   * every sequence of the batch is the same prompt decoded greedily (benchmarks that batch copies
   * of one prompt: SGLang bench_one_batch's synthetic inputs): their tokens route to the same
   * experts, so a step reads the experts of one sequence's tokens; absent = distinct sequences
   */
  identicalSequences?: boolean;
}

/** The images each request carries (--images, --image-size) and what one of them becomes. */
export interface ImageWorkload {
  count: number;
  width: number;
  height: number;
  perImage: ImageTokens;
}

/** Everything an estimate needs, resolved and in base units. */
export interface EstimateInput {
  model: ModelSpec;
  weights: Format;
  kv: Format;
  activations: Format;
  workload: Workload;
  /** images per request, already counted in workload.inputTokens */
  images?: ImageWorkload;
  hardware: HardwareSpec;
  /** devices per replica (tp x pp); alone, tensor parallelism over `count` devices */
  count: number;
  /** tensor / pipeline / expert parallelism and replicas (parallel.ts); absent = `count`-way tensor parallelism */
  parallel?: Parallel;
  /** devices per node (--gpus-per-node); absent = the hardware profile's */
  gpusPerNode?: number;
  /** serving engine whose memory budget sizes the KV cache (engine.ts); absent = ideal */
  engine?: EngineSpec;
  /** launch options of the engine (--gpu-memory-utilization, --max-num-batched-tokens, --max-num-seqs, --enforce-eager, --block-size); absent = its defaults */
  engineOptions?: EngineOptions;
  /** why this engine: the user's --engine, or the default for the hardware and format */
  engineReason?: string;
  /**
   * Steady traffic (--concurrency or --qps): continuous batching, one request's prefill
   * interleaved with the running decode batch; `batch` is then the concurrency per replica.
   */
  load?: { qps?: number; concurrency?: number; replicasGiven?: boolean };
  /**
   * USD per device-hour, with where it came from; absent = unknown. For owned hardware
   * (--price-kind purchase) the hourly price amortizes `purchaseUsd` per device over `amortizeYears`.
   */
  price?: { usdPerHour: number; source: string; purchaseUsd?: number; amortizeYears?: number; kind?: PriceKind; owned?: OwnedCost };
  /** overrides of the hardware profile's roofline efficiencies (fractions) */
  mfu?: number;
  mbu?: number;
  /** average board power per device, W (--power-watts); absent = TDP x a per-phase fraction (energy.ts) */
  powerWatts?: number;
  /** electricity price for owned hardware, USD per kWh (--usd-per-kwh) */
  usdPerKwh?: number;
  /** grid carbon intensity and PUE (--region / --grid-gco2-per-kwh, --pue); absent = no carbon figures */
  carbon?: Carbon;
  /**
   * Request lengths as distributions (--input-tokens lognormal:..., --workload chat): `workload`
   * then holds the mean request, which the figures are for; the simulator samples these.
   */
  traffic?: Traffic;
  /**
   * Pruning (src/estimate/pruning.ts): the model and weights above are the pruned ones; the
   * baseline is what they were, estimated beside them (baseline.* figures).
   */
  pruning?: { sparsity?: SparsityPattern; structured?: StructuredPruning; baseline: { model: ModelSpec; weights: Format } };
  /** speculative decoding (--speculative, src/estimate/speculative.ts); absent = plain decoding */
  speculative?: Speculative;
  /**
   * How expert parallelism runs (src/estimate/expert-parallel.ts): the all-to-all kernels
   * (--all-to-all; absent = auto) and a max / mean routed-token load per rank that overrides
   * the estimated one (--expert-imbalance).
   */
  expertParallel?: { allToAll?: AllToAllMode; imbalance?: number };
  /** prefix caching (--prefix-tokens, --cache-hit-rate; src/estimate/prefix.ts); absent = none */
  prefixCache?: PrefixCache;
  /** multi-LoRA serving (--lora-adapters, --lora-rank, --lora-targets; src/estimate/lora-serving.ts) */
  lora?: LoraServing;
  /** KV offload tiers (--kv-offload cpu:<GiB>,nvme:<GiB>; src/estimate/kv-offload.ts) */
  kvOffload?: KvOffload;
  /** llama.cpp weights in system memory (--gpu-layers, --cpu-moe, --n-cpu-moe; src/estimate/offload.ts) */
  weightOffload?: WeightOffload;
  /** the host CPU of a GPU (the preset's host.cpu.preset or --host-cpu), for the -ngl the verdict suggests */
  hostCpu?: HardwareSpec;
}
