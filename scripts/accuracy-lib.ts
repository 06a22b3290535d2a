/**
 * The validation suite (validation/cases/*.yaml; format in validation/README.md): loading,
 * predicting each measurement with the library's estimator, the calibration fit (coordinate
 * descent re-timing each case's steps with the step model, src/estimate/step.ts) and leave-one-out cross-validation refitted
 * from scratch. Used by scripts/accuracy.ts and
 * scripts/calibrate.ts; pure apart from loadSuite / loadCatalog.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parse } from 'yaml';
import { isForwardOnly } from '../src/inputs/model.js';
import { estimate, estimateWithStep, type Estimate } from '../src/estimate/index.js';
import { estimateForwardWithStep } from '../src/estimate/forward.js';
import { speculativeSeconds } from '../src/estimate/speculative.js';
import type { PhaseWork, StepModel } from '../src/estimate/step.js';
import type { BandKind, Calibration, EfficiencyParams, HardwareClass, TrainingParams } from '../src/estimate/efficiency.js';
import { hardwareClass } from '../src/estimate/efficiency.js';
import type { EstimateInput } from '../src/estimate/input.js';
import { dataParallel, WHOLE_RUN_GOODPUT, LORA_DEFAULTS, LORA_TARGETS, METHODS, train, TRAIN_PRECISIONS, TRAINING_DEFAULTS, trainingStepTime, trainWithWork, type LoraTarget, type Method, type TrainEstimate, type TrainInput, type TrainingStepWork, type TrainPrecision } from '../src/estimate/training.js';
import { findEntry, type Catalog } from '../src/inputs/catalog.js';
import { findEngine } from '../src/inputs/engine-choice.js';
import type { EngineOptions } from '../src/estimate/engine.js';
import { loadEngineFiles, type EngineSpec } from '../src/inputs/engine.js';
import { loadPresetPaths } from '../src/inputs/load-presets.js';
import { activationFormat, FORMATS, type Format } from '../src/inputs/precision.js';
import { parseQuantity, secondsInHour } from '../src/units.js';
import type { AllToAllMode } from '../src/estimate/expert-parallel.js';
import { LEVER_KEYS, resolveLevers, type LeverKey } from '../src/inputs/resolve-levers.js';

export const KINDS = ['memory', 'decode', 'prefill', 'throughput', 'training'] as const;
export type Kind = (typeof KINDS)[number];

/** What a measurement measured, and the estimator figure that predicts it. */
export const METRICS = {
  ttft: { unit: 's', figure: 'latency.ttft', rate: false },
  tpot: { unit: 's', figure: 'latency.tpot', rate: false },
  e2e: { unit: 's', figure: 'latency.e2e', rate: false },
  decodeTokensPerSecond: { unit: 'tokens/s', figure: 'throughput.decodeTokensPerSecond', rate: true },
  inputTokensPerSecond: { unit: 'tokens/s', figure: 'throughput.inputTokensPerSecond', rate: true },
  outputTokensPerSecond: { unit: 'tokens/s', figure: 'throughput.outputTokensPerSecond', rate: true },
  outputTokensPerSecondPerDevice: { unit: 'tokens/s', figure: 'throughput.outputTokensPerSecondPerDevice', rate: true },
  /** per device of the replica (attention DP and wide EP deployments report per node: divide by its devices) */
  inputTokensPerSecondPerDevice: { unit: 'tokens/s', figure: 'throughput.inputTokensPerSecondPerDevice', rate: true },
  decodeTokensPerSecondPerDevice: { unit: 'tokens/s', figure: 'throughput.decodeTokensPerSecondPerDevice', rate: true },
  /**
   * The work of one forward pass (scripts/measure/measure.py: CUDA-graph replay minus the same
   * layers at tiny widths, i.e. minus the per-kernel floor): roofline + communication, no overhead.
   */
  prefillWorkSeconds: { unit: 's', figure: ['latency.prefillRoofline', 'latency.prefillComm'], rate: false },
  decodeWorkSeconds: { unit: 's', figure: ['latency.decodeRoofline', 'latency.decodeComm'], rate: false },
  weightBytes: { unit: 'B', figure: 'memory.weights', rate: false },
  weightBytesPerDevice: { unit: 'B', figure: 'memory.perDevice.weights', rate: false },
  /** torch.cuda.max_memory_allocated: tensors only, no CUDA context or runtime overhead */
  allocatedPeakBytes: { unit: 'B', figure: ['memory.perDevice.weights', 'memory.perDevice.kvCache', 'memory.perDevice.activations'], rate: false },
  /** vLLM "GPU KV cache size: N tokens" (= "# GPU blocks" x block_size), SGLang "#tokens": under the case's engine profile */
  kvCapacityTokens: { unit: 'tokens', figure: 'memory.kvCapacityTokens', rate: false },
  /** vLLM "KV Cache: N GiB" / "Available KV cache memory", SGLang "K size + V size", per device */
  kvCapacityBytes: { unit: 'B', figure: 'memory.kvCapacity', rate: false },
  /**
   * a KV-offload hit's TTFT gain as sources report it: TTFT recomputing the prompt / TTFT loading its
   * KV from host memory (LMCache's warm-up vs query round), kvOffload.cpu.speedup
   */
  kvOffloadCpuSpeedup: { unit: 'ratio', figure: 'kvOffload.cpu.speedup', rate: true },
  /** llama.cpp "KV self size": the KV cache of one replica over all its devices, for the case's batch (n_parallel) x context (n_ctx) */
  kvCacheBytes: { unit: 'B', figure: 'memory.kvCache', rate: false },
  // Training (train() in src/estimate/training.ts)
  trainingTokensPerSecondPerDevice: { unit: 'tokens/s', figure: 'train.tokensPerSecondPerDevice', rate: true },
  /** model FLOPs over the whole step (bubble included) / dense peak */
  mfu: { unit: 'fraction', figure: 'train.mfu', rate: true },
  /** executed FLOPs (recomputation included) over the whole step / dense peak */
  hfu: { unit: 'fraction', figure: 'train.flopsPerSecondPerDevice', per: 'train.peakFlopsPerSecond', rate: true },
  achievedFlopsPerDevice: { unit: 'FLOP/s', figure: 'train.flopsPerSecondPerDevice', rate: true },
  /** the training steps of a run in device-hours: train.deviceHours for the layout's `tokens` */
  trainingDeviceHours: { unit: 'h', figure: 'train.deviceHours', rate: false },
  /**
   * a whole run in device-hours as model cards report it ("the total GPU time required for
   * training"): the steps plus the time outside them, train.deviceHoursWithGoodput (goodput not
   * fitted: training.ts WHOLE_RUN_GOODPUT)
   */
  trainingDeviceHoursWholeRun: { unit: 'h', figure: 'train.deviceHoursWithGoodput', rate: false },
  /** training peak of torch.cuda.max_memory_allocated: model states, activations and ZeRO-3 buffers per device, no CUDA context */
  trainingAllocatedPeakBytes: { unit: 'B', figure: 'memory.perDevice', minus: 'memory.perDevice.overhead', rate: false },
} as const;
export type Metric = keyof typeof METRICS;

/** One measured value with everything needed to predict it. */
export interface Measurement {
  id: string;
  caseId: string;
  file: string;
  kind: Kind;
  metric: Metric;
  measured: number;
  published: string;
  modelled: string;
  model: string;
  hardware: string;
  count: number;
  engine: string;
  precision: string;
  kvPrecision?: string;
  batch: number | 'max';
  /** the batch is copies of one prompt decoded greedily (SGLang bench_one_batch's synthetic inputs): Workload.identicalSequences */
  identicalPrompts?: boolean;
  maxBatch?: number;
  kvMemoryFraction?: number;
  inputTokens: number;
  outputTokens: number;
  trust: 'high' | 'medium' | 'low';
  source: string;
  /** the case's notes (known reasons for a miss, conditions) */
  notes?: string;
  unpredictable?: string;
  /** training layout as published (kind: training) */
  training?: TrainingLayout;
  /** the engine's memory fraction as launched (vLLM gpu_memory_utilization, SGLang mem_fraction_static); absent = the profile's default */
  engineFraction?: number;
  /** tokens of the engine's activation-profiling pass as launched (vLLM max_num_batched_tokens); absent = the profile's */
  profileTokens?: number;
  /** the engine's kernels as built or launched for this run, where they differ from the profile's (EngineSpec kernels) */
  engineKernels?: EngineSpec['kernels'];
  /** serving layout as published (llama.cpp multi-GPU splits layers: pp = count); absent = count-way tensor parallelism */
  layout?: { tp?: number; pp?: number; ep?: number; dpAttention?: number; redundantExperts?: number; imbalance?: number; allToAll?: string };
  /** serving levers as spec-file keys (docs/levers.md: speculative, acceptedLength, prefixTokens, gpuLayers ...) */
  levers?: Record<string, string | number | boolean>;
  /**
   * the measured value is a ratio, as the source reports a lever's effect: the metric with the
   * case's levers over the same deployment and workload without them (e.g. LoRA throughput / base
   * throughput, cached / uncached run time); predicted as the same ratio of two estimates
   */
  relative?: boolean;
  /** KV cases: the launch's max_model_len (llama.cpp n_ctx); absent = inputTokens + outputTokens */
  context?: number;
  /** KV cases: max_num_seqs as launched, CUDA graphs off, KV block size */
  maxNumSeqs?: number;
  enforceEager?: boolean;
  blockSize?: number;
}

/** A training case's layout, as the case file states it (validation/README.md). */
export interface TrainingLayout {
  tp?: number;
  pp?: number;
  cp?: number;
  dp?: number;
  ep?: number;
  microBatch?: number;
  globalBatch?: number;
  globalBatchTokens?: number;
  seqLen?: number;
  virtualPipeline?: number;
  /** fsdp-full = ZeRO-3 */
  sharding?: string;
  /** true = full recomputation, false = none; absent = selective (FlashAttention recomputes the attention core) */
  activationCheckpointing?: boolean;
  /** full (default) | lora | qlora (src/estimate/training-memory.ts METHODS) */
  method?: string;
  /** LoRA rank and adapted modules; absent = the method's default (training.ts LORA_DEFAULTS) */
  loraRank?: number;
  loraTargets?: string[];
  /** tokens of the whole run (device-hours cases) */
  tokens?: number;
}

/** "36 ms", "12.55 GiB", "19694 tokens/s", "147e12 FLOP/s" or a bare number -> base units. */
export function parseMeasured(text: string | number, where: string): number {
  if (typeof text === 'number') return text;
  const rate = /^\s*([0-9.e+-]+)\s*tokens\/s\s*$/.exec(text);
  if (rate) return Number(rate[1]);
  for (const dim of ['time', 'bytes', 'compute'] as const) {
    const q = parseQuantity(text, dim);
    if (q.ok) return q.value;
  }
  throw new Error(`${where}: cannot read measured value "${text}"`);
}

const CASE_KEYS = ['model', 'hardware', 'count', 'engine', 'precision', 'kvPrecision', 'batch', 'identicalPrompts', 'maxBatch', 'kvMemoryFraction', 'inputTokens', 'outputTokens', 'unpredictable', 'training', 'engineFraction', 'profileTokens', 'layout', 'context', 'maxNumSeqs', 'enforceEager', 'blockSize', 'engineKernels', 'levers', 'relative'] as const;

/** The validation case files under `dir` (every YAML file, in name order) with their cases. */
export function caseFiles(dir: string): { file: string; cases: Record<string, unknown>[] }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .map((file) => ({ file, cases: (parse(readFileSync(file, 'utf8')) as { cases?: Record<string, unknown>[] }).cases ?? [] }));
}

/** Reads every case file under `dir` and flattens cases into measurements (overrides applied). */
export function loadSuite(dir: string): Measurement[] {
  const out: Measurement[] = [];
  for (const { file, cases } of caseFiles(dir)) {
    for (const c of cases) {
      // serving-percentile cases (a `simulation:` block) are predicted by simulate, not fitted: scripts/accuracy-serving.ts
      if (c.simulation) continue;
      for (const [i, raw] of ((c.measurements as Record<string, unknown>[]) ?? []).entries()) {
        const merged: Record<string, unknown> = { ...c };
        for (const key of CASE_KEYS) if (raw[key] !== undefined) merged[key] = raw[key];
        const id = (raw.id as string | undefined) ?? (i === 0 ? (c.id as string) : `${c.id as string}#${i}`);
        const metric = raw.metric as Metric;
        if (!(metric in METRICS)) throw new Error(`${file}: ${id}: unknown metric "${metric}" (accepted: ${Object.keys(METRICS).join(', ')})`);
        const kind = raw.kind as Kind;
        if (!KINDS.includes(kind)) throw new Error(`${file}: ${id}: unknown kind "${kind}"`);
        out.push({
          id,
          caseId: c.id as string,
          file,
          kind,
          metric,
          measured: parseMeasured(raw.measured as string, `${file}: ${id}`),
          published: String(raw.published ?? ''),
          modelled: String(raw.modelled ?? ''),
          model: String(merged.model),
          hardware: String(merged.hardware),
          count: Number(merged.count ?? 1),
          engine: String(merged.engine ?? 'unknown'),
          precision: String(merged.precision ?? 'bf16'),
          kvPrecision: merged.kvPrecision === undefined ? undefined : String(merged.kvPrecision),
          batch: merged.batch === 'max' ? 'max' : Number(merged.batch ?? 1),
          ...(merged.identicalPrompts === true ? { identicalPrompts: true } : {}),
          maxBatch: merged.maxBatch === undefined ? undefined : Number(merged.maxBatch),
          kvMemoryFraction: merged.kvMemoryFraction === undefined ? undefined : Number(merged.kvMemoryFraction),
          inputTokens: Number(merged.inputTokens ?? 0),
          outputTokens: Number(merged.outputTokens ?? 1),
          trust: (c.trust as Measurement['trust']) ?? 'low',
          source: String(c.source ?? ''),
          notes: raw.notes !== undefined ? String(raw.notes) : c.notes !== undefined ? String(c.notes) : undefined,
          unpredictable: merged.unpredictable === undefined ? undefined : String(merged.unpredictable),
          training: merged.training as TrainingLayout | undefined,
          engineFraction: merged.engineFraction === undefined ? undefined : Number(merged.engineFraction),
          profileTokens: merged.profileTokens === undefined ? undefined : Number(merged.profileTokens),
          layout: merged.layout as Measurement['layout'],
          levers: merged.levers as Measurement['levers'],
          relative: merged.relative === true ? true : undefined,
          context: merged.context === undefined ? undefined : Number(merged.context),
          maxNumSeqs: merged.maxNumSeqs === undefined ? undefined : Number(merged.maxNumSeqs),
          enforceEager: merged.enforceEager === undefined ? undefined : merged.enforceEager === true,
          blockSize: merged.blockSize === undefined ? undefined : Number(merged.blockSize),
          engineKernels: merged.engineKernels as Measurement['engineKernels'],
        });
      }
    }
  }
  return out;
}

/** Built-in presets read straight from presets/, tolerating files that do not load yet. */
export function loadCatalog(root: string): { catalog: Catalog; issues: string[] } {
  const loaded = loadPresetPaths([join(root, 'presets/hardware'), join(root, 'presets/models')]);
  const engines = loadEngineFiles([join(root, 'presets/engines')]);
  return { catalog: { hardware: loaded.hardware, models: loaded.models, engines: engines.engines }, issues: [...loaded.issues, ...engines.issues].map((i) => `${i.file}: ${i.message}`) };
}

/** A serving measurement resolves to an estimator input, a training one to a training input. */
export type Resolution = { ok: true; input: EstimateInput; train?: undefined; baseline?: EstimateInput } | { ok: true; train: TrainInput; input?: undefined; baseline?: undefined } | { ok: false; reason: string };
type Resolved = Extract<Resolution, { ok: true }>;

const KV_METRICS: Metric[] = ['kvCapacityTokens', 'kvCapacityBytes', 'kvCacheBytes'];

/**
 * The case's engine as launched: the profile it names (`vllm@0.7` pins a version; presets/engines)
 * and the launch options the case states (engineFraction = --gpu-memory-utilization /
 * --mem-fraction-static, profileTokens = --max-num-batched-tokens, maxNumSeqs, enforceEager,
 * blockSize); absent, the profile's defaults for the device apply.
 */
function engineAsLaunched(m: Measurement, catalog: Catalog): { engine: EngineSpec; options: EngineOptions } | undefined {
  let engine: EngineSpec;
  try {
    engine = findEngine(catalog, m.engine);
  } catch {
    return undefined;
  }
  const options: EngineOptions = {
    ...(m.engineFraction !== undefined ? { gpuMemoryUtilization: m.engineFraction } : {}),
    ...(m.profileTokens !== undefined ? { maxNumBatchedTokens: m.profileTokens } : {}),
    ...(m.maxNumSeqs !== undefined ? { maxNumSeqs: m.maxNumSeqs } : {}),
    ...(m.enforceEager !== undefined ? { enforceEager: m.enforceEager } : {}),
    ...(m.blockSize !== undefined ? { blockSize: m.blockSize } : {}),
  };
  if (m.engineKernels) engine = { ...engine, kernels: { ...engine.kernels, ...m.engineKernels } };
  return { engine, options };
}

/**
 * A training measurement -> train() input, with the published layout: tp/pp/cp (devices =
 * tp x pp x cp x dp), micro and global batch (or tokens per batch / seqLen, rounded to whole
 * micro-batches of every data-parallel rank), interleaved virtual stages, FSDP full sharding as
 * ZeRO-3, activation checkpointing as full recomputation (absent: selective, the CLI default).
 */
function resolveTraining(m: Measurement, catalog: Catalog, model: NonNullable<ReturnType<typeof findEntry<Catalog['models'][number]>>>, hardware: Catalog['hardware'][number]): Resolution {
  if (!(TRAIN_PRECISIONS as readonly string[]).includes(m.precision)) return { ok: false, reason: `training precision "${m.precision}" (accepted: ${TRAIN_PRECISIONS.join(', ')})` };
  const t = m.training ?? {};
  const tp = t.tp ?? 1;
  const pp = t.pp ?? 1;
  const cp = t.cp ?? 1;
  if (m.count % (tp * pp * cp) !== 0) return { ok: false, reason: `count ${m.count} is not a multiple of tp x pp x cp = ${tp * pp * cp}` };
  const dp = dataParallel({ count: m.count, tp, pp, cp });
  if (t.dp !== undefined && t.dp !== dp) return { ok: false, reason: `published layout is inconsistent: tp ${tp} x pp ${pp} x cp ${cp} x dp ${t.dp} != ${m.count} devices` };
  const seqLen = t.seqLen ?? 2048;
  const microBatch = t.microBatch ?? 1;
  const perStep = microBatch * dp;
  const globalBatch = t.globalBatch ?? (t.globalBatchTokens ? Math.max(1, Math.round(t.globalBatchTokens / seqLen / perStep)) * perStep : perStep);
  if (globalBatch % perStep !== 0) return { ok: false, reason: `global batch ${globalBatch} is not a multiple of micro-batch x dp = ${perStep}` };
  void catalog;
  const method = (t.method ?? 'full') as Method;
  if (!(METHODS as readonly string[]).includes(method)) return { ok: false, reason: `training method "${t.method}" (accepted: ${METHODS.join(', ')})` };
  const loraDefault = method === 'full' || method === 'distill' ? LORA_DEFAULTS.lora : LORA_DEFAULTS[method];
  const targets = (t.loraTargets ?? loraDefault.targets) as LoraTarget[];
  if (targets.some((x) => !(LORA_TARGETS as readonly string[]).includes(x))) return { ok: false, reason: `LoRA targets ${targets.join(', ')} (accepted: ${LORA_TARGETS.join(', ')})` };
  return {
    ok: true,
    train: {
      model: model.model, hardware, count: m.count, precision: m.precision as TrainPrecision, method, optimizer: 'adamw',
      zero: t.sharding === 'fsdp-full' ? 3 : 0, recompute: t.activationCheckpointing === true ? 'full' : t.activationCheckpointing === false ? 'none' : 'selective',
      sequenceParallel: tp > 1, tp, pp, cp, seqLen, microBatch, globalBatch, virtualStages: t.virtualPipeline, lora: { rank: t.loraRank ?? loraDefault.rank, targets }, ...(t.tokens ? { tokens: t.tokens } : {}),
    },
  };
}

const formatOf = (id: string): Format | undefined => (FORMATS as Record<string, Format>)[id];

/**
 * Measurement -> estimator input, or why it cannot be predicted yet. A "max" batch is the
 * largest batch whose KV cache at inputTokens + outputTokens per sequence fits in
 * kvMemoryFraction of the memory left after weights, activations and runtime overhead, capped
 * at maxBatch (the engine's own limit), found from the estimator's own memory figures.
 */
export function resolveMeasurement(m: Measurement, catalog: Catalog): Resolution {
  if (m.unpredictable) return { ok: false, reason: m.unpredictable };
  if (m.relative) {
    // a lever's effect as a ratio: the deployment with the levers over the same one without them
    if (!m.levers) return { ok: false, reason: 'relative: true needs the levers whose effect the ratio measures' };
    if (m.kind === 'training' || m.training) return { ok: false, reason: 'relative: true is for serving levers, not training runs' };
    const withLevers = resolveMeasurement({ ...m, relative: undefined }, catalog);
    const without = resolveMeasurement({ ...m, relative: undefined, levers: undefined }, catalog);
    if (!withLevers.ok) return withLevers;
    if (!without.ok) return without;
    return { ok: true, input: withLevers.input!, baseline: without.input! };
  }
  const model = findEntry(catalog.models, m.model);
  if (!model) return { ok: false, reason: `no model preset "${m.model}"` };
  const hardware = findEntry(catalog.hardware, m.hardware);
  if (!hardware) return { ok: false, reason: `no hardware preset "${m.hardware}"` };
  // training runs, and memory measured during training (LoRA / QLoRA fine-tuning), go through train()
  if (m.kind === 'training' || m.training) return resolveTraining(m, catalog, model, hardware);
  // The engine as launched, where a profile exists: its memory budget sizes the KV cache and its
  // kernels (EngineSpec kernels) change how a step is timed; KV-capacity cases need one.
  const launched = engineAsLaunched(m, catalog);
  if (!launched && KV_METRICS.includes(m.metric)) return { ok: false, reason: `no engine profile "${m.engine}" (presets/engines)` };
  if (!launched && m.engineKernels) return { ok: false, reason: `engineKernels given but no engine profile "${m.engine}" (presets/engines)` };
  const weights = formatOf(m.precision);
  if (!weights) return { ok: false, reason: `no precision format "${m.precision}"` };
  const kv = m.kvPrecision ? formatOf(m.kvPrecision) : activationFormat(weights);
  if (!kv) return { ok: false, reason: `no KV-cache format "${m.kvPrecision}"` };
  let parallel: EstimateInput['parallel'];
  if (m.layout) {
    const { tp = 1, pp = 1, ep = 1, dpAttention, redundantExperts } = m.layout;
    if (tp * pp !== m.count) return { ok: false, reason: `layout tp ${tp} x pp ${pp} != ${m.count} devices` };
    parallel = { tp, pp, ep, replicas: 1, ...(dpAttention ? { dpAttention } : {}), ...(redundantExperts ? { redundantExperts } : {}) };
  }
  const base: EstimateInput = {
    model: model.model,
    weights,
    kv,
    activations: activationFormat(weights),
    workload: { batch: 1, inputTokens: m.inputTokens, outputTokens: m.outputTokens, context: m.context ?? m.inputTokens + m.outputTokens, ...(m.identicalPrompts ? { identicalSequences: true } : {}) },
    hardware,
    count: m.count,
    ...(parallel ? { parallel } : {}),
    ...(m.layout?.imbalance !== undefined || m.layout?.allToAll !== undefined ? { expertParallel: { ...(m.layout.imbalance !== undefined ? { imbalance: m.layout.imbalance } : {}), ...(m.layout.allToAll !== undefined ? { allToAll: m.layout.allToAll as AllToAllMode } : {}) } } : {}),
    ...(launched ? { engine: launched.engine, engineOptions: launched.options } : {}),
  };
  if (m.levers) {
    // the levers as the CLI resolves them (src/inputs/resolve-levers.ts), named after the case
    const raw = m.levers;
    const unknown = Object.keys(raw).filter((k) => !(LEVER_KEYS as readonly string[]).includes(k));
    if (unknown.length) return { ok: false, reason: `unknown lever keys ${unknown.join(', ')} (accepted: ${LEVER_KEYS.join(', ')})` };
    try {
      Object.assign(base, resolveLevers(raw as Partial<Record<LeverKey, string | number | boolean>>, (k) => ({ value: raw[k], where: `${m.id}: levers.${k}` }), { model: model.model, catalog, layout: parallel ?? { tp: m.count, pp: 1, ep: 1, replicas: 1 }, forwardOnly: false, inputTokens: m.inputTokens, hardware, engine: launched?.engine ?? findEntry(catalog.engines ?? [], m.engine), warnings: [] }));
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message : String(e) };
    }
  }
  if (m.batch !== 'max') return { ok: true, input: { ...base, workload: { ...base.workload, batch: m.batch } } };
  let batch = 1;
  for (let i = 0; i < 3; i++) {
    const f = estimate({ ...base, workload: { ...base.workload, batch } }).figures;
    const free = f['memory.capacityPerDevice'].value - f['memory.perDevice.weights'].value - f['memory.perDevice.overhead'].value - f['memory.perDevice.activations'].value;
    const kvPerSequence = f['memory.perDevice.kvCache'].value / batch;
    batch = Math.max(1, Math.min(m.maxBatch ?? Infinity, Math.floor(((m.kvMemoryFraction ?? 1) * free) / kvPerSequence)));
  }
  return { ok: true, input: { ...base, workload: { ...base.workload, batch } } };
}

export interface Prediction {
  value: number;
  low?: number;
  high?: number;
}

/** The figure (or sum of figures, or ratio to a figure) a metric compares with. */
export function readMetric(e: Pick<Estimate | TrainEstimate, 'figures'>, metric: Metric): Prediction {
  const def = METRICS[metric];
  const spec = def.figure;
  const ids = Array.isArray(spec) ? spec : [spec];
  let value = 0;
  let low = 0;
  let high = 0;
  for (const id of ids) {
    const f = e.figures[id];
    if (!f) throw new Error(`internal: metric ${metric} needs figure ${id}`);
    value += f.value;
    low += f.low ?? f.value;
    high += f.high ?? f.value;
  }
  if ('minus' in def) {
    const d = e.figures[def.minus];
    if (!d) throw new Error(`internal: metric ${metric} needs figure ${def.minus}`);
    value -= d.value;
    low -= d.low ?? d.value;
    high -= d.high ?? d.value;
  }
  if ('per' in def) {
    const d = e.figures[def.per];
    if (!d) throw new Error(`internal: metric ${metric} needs figure ${def.per}`);
    value /= d.value;
    low /= d.value;
    high /= d.value;
  }
  return low === value && high === value ? { value } : { value, low, high };
}

export function predict(input: EstimateInput, metric: Metric, calibration: Calibration): Prediction {
  return readMetric(estimate(input, calibration), metric);
}

/** Predicts a resolved measurement: serving through estimate(), training through train(); a relative one as the ratio of its two estimates. */
export function predictResolved(r: Resolved, metric: Metric, calibration: Calibration): Prediction {
  if (r.train) return readMetric(train(r.train, calibration), metric);
  if (r.baseline) return { value: predict(r.input, metric, calibration).value / predict(r.baseline, metric, calibration).value };
  return predict(r.input, metric, calibration);
}

/** Which band a measurement's residual informs, and its sign convention. */
/** A ratio (a lever's effect: `relative`, or a ratio metric such as kvOffloadCpuSpeedup), not a time, rate or quantity. */
export const isRatio = (m: Pick<Measurement, 'metric' | 'relative'>): boolean => m.relative === true || METRICS[m.metric].unit === 'ratio';

/**
 * Ratios and the measurements of the predicted-only levers (weight offload's tokens/s: hasUnfittedLevers)
 * inform no band: the shipped bands are fitted quantities too (scripts/calibrate.ts), and those cases
 * must stay unseen by every fitted number.
 */
export const bandKind = (m: Pick<Measurement, 'kind' | 'metric' | 'relative' | 'levers'>): BandKind | undefined =>
  isRatio(m) || hasUnfittedLevers(m) ? undefined : KV_METRICS.includes(m.metric) ? 'kvCapacity' : m.kind === 'prefill' || m.kind === 'decode' || m.kind === 'throughput' || m.kind === 'training' ? m.kind : undefined;

/**
 * Residual as log(measured / predicted) of the band's own quantity: a time for prefill and
 * decode (a rate metric there is inverted), a rate for throughput, the allocated pool for KV capacity.
 */
export function bandResidual(m: Pick<Measurement, 'kind' | 'metric' | 'measured'>, predicted: number): number {
  const r = Math.log(m.measured / predicted);
  const isRate = METRICS[m.metric].rate;
  if (KV_METRICS.includes(m.metric)) return r; // a quantity: measured / predicted as is
  return m.kind === 'throughput' || m.kind === 'training' ? (isRate ? r : -r) : isRate ? -r : r;
}

// ---------------------------------------------------------------------------------------------
// Fitting

/** A serving fit case: a resolved measurement whose prediction depends on the efficiency model. */
export interface FitCase {
  m: Measurement;
  input: EstimateInput;
  cls: HardwareClass;
  /** the deployment's step model and its steps' work, built once; absent = predict through estimate() */
  step?: { model: StepModel; prefill: PhaseWork; decode: PhaseWork };
  /** weight in the fit's objective (publicationWeights); absent = 1 */
  weight?: number;
}

/** A fit case with its steps' work prepared for fast re-timing (serving cases without --qps). */
export function fitCase(m: Measurement, input: EstimateInput): FitCase {
  // under load, and with a serving lever, which changes the step's shape (speculation, prefix
  // cache, offload), predict through estimate()
  if (input.load || input.prefixCache || input.lora || input.kvOffload || input.weightOffload) return { m, input, cls: hardwareClassOf(input) };
  // forward-only models (encoders: estimateForward): one pass, timed like a prefill step
  if (isForwardOnly(input.model)) {
    const { step, work } = estimateForwardWithStep(input);
    return { m, input, cls: hardwareClassOf(input), step: { model: step, prefill: work, decode: work } };
  }
  const { step, work } = estimateWithStep(input);
  return { m, input, cls: hardwareClassOf(input), step: { model: step, ...work } };
}

/**
 * The metric from the two steps re-timed under `params` (step.ts): the same arithmetic as latency.ts
 * (ttft, tpot, e2e) and cost.ts (throughput), without building the figures. evaluate() checks
 * it against estimate() for every case, so the two cannot drift apart silently.
 */
export function fastPredict(c: FitCase, params: EfficiencyParams): number {
  if (!c.step) return predict(c.input, c.m.metric, { params, source: 'fit', bands: {} }).value;
  const { workload: w, count } = c.input;
  const { model: step, prefill, decode } = c.step;
  const overhead = step.overheadFor(params);
  const ttft = step.phaseSeconds(prefill, params) + overhead;
  // speculative decoding: a step verifies k + 1 tokens per sequence and yields tokensPerStep (latency.ts)
  const tpot = step.speculative ? speculativeSeconds(step.speculative, w.batch, w.inputTokens + w.outputTokens / 2, params).perToken : step.phaseSeconds(decode, params) + overhead;
  switch (c.m.metric) {
    case 'ttft': return ttft;
    case 'tpot': return tpot;
    case 'prefillWorkSeconds': return step.phaseSeconds(prefill, params);
    case 'decodeWorkSeconds': return step.phaseSeconds(decode, params);
    case 'e2e': return ttft + (w.outputTokens - 1) * tpot;
    case 'decodeTokensPerSecond': return w.batch / tpot;
    case 'decodeTokensPerSecondPerDevice': return w.batch / tpot / count;
    case 'inputTokensPerSecondPerDevice': return (w.batch * w.inputTokens) / ttft / count;
    case 'inputTokensPerSecond': return (w.batch * w.inputTokens) / ttft;
    case 'outputTokensPerSecond': return (w.batch * w.outputTokens) / (ttft + (w.outputTokens - 1) * tpot);
    case 'outputTokensPerSecondPerDevice': return (w.batch * w.outputTokens) / (ttft + (w.outputTokens - 1) * tpot) / count;
    default: return predict(c.input, c.m.metric, { params, source: 'fit', bands: {} }).value;
  }
}

/** A training fit case: a training run with its step's work prepared (trainWithWork). */
export interface TrainFitCase {
  m: Measurement;
  train: TrainInput;
  cls: HardwareClass;
  work: TrainingStepWork;
}

export function trainFitCase(m: Measurement, input: TrainInput): TrainFitCase {
  const { work } = trainWithWork(input);
  return { m, train: input, cls: work.cls, work };
}

/** The training metric from the step re-timed under `p` (training.ts trainingStepTime), as train() computes it. */
export function fastTrainPredict(c: TrainFitCase, p: TrainingParams): number {
  const w = c.work;
  const t = trainingStepTime(w, p, c.train.mfu);
  switch (c.m.metric) {
    case 'trainingTokensPerSecondPerDevice': return w.tokensPerStep / t.stepSeconds / w.count;
    case 'mfu': return t.mfu;
    case 'hfu': return (w.tokensPerStep * w.executedFlopsPerToken) / (t.stepSeconds * w.count * w.peakFlopsPerSecond);
    case 'achievedFlopsPerDevice': return (w.tokensPerStep * w.executedFlopsPerToken) / (t.stepSeconds * w.count);
    case 'trainingDeviceHours': return ((c.train.tokens! / w.tokensPerStep) * t.stepSeconds * w.count) / secondsInHour;
    case 'trainingDeviceHoursWholeRun': return ((c.train.tokens! / w.tokensPerStep) * t.stepSeconds * w.count) / (c.train.goodput ?? WHOLE_RUN_GOODPUT.value) / secondsInHour;
    default: return predictResolved({ ok: true, train: c.train }, c.m.metric, { params: STARTING_PARAMS, training: p, source: 'fit', bands: {} }).value;
  }
}

/** One fitted number: where it lives in the parameter object, its range, and whether to search it in log space. */
export interface ParamSpec<P> {
  name: string;
  get: (p: P) => number;
  set: (p: P, v: number) => void;
  min: number;
  max: number;
  log: boolean;
}

/**
 * Deterministic coordinate descent: each parameter in turn is set to the best of a grid over its
 * range (log-spaced where marked), then refined on finer grids around the best point; sweeps
 * repeat until the objective stops improving. The same routine fits the serving and the
 * training parameters; leave-one-out refits run it from the same starting point.
 */
export function coordinateDescent<P>(start: P, specs: ParamSpec<P>[], objectiveOf: (p: P) => number, sweeps = 6, gridPoints = 13, levels = 3): { params: P; objective: number } {
  const params = structuredClone(start);
  let best = objectiveOf(params);
  for (let sweep = 0; sweep < sweeps; sweep++) {
    const before = best;
    for (const s of specs) {
      let lo = s.min;
      let hi = s.max;
      for (let level = 0; level < levels; level++) {
        for (let k = 0; k < gridPoints; k++) {
          const t = k / (gridPoints - 1);
          const v = s.log ? Math.exp(Math.log(lo) + t * (Math.log(hi) - Math.log(lo))) : lo + t * (hi - lo);
          const old = s.get(params);
          s.set(params, v);
          const o = objectiveOf(params);
          if (o < best - 1e-12) best = o;
          else s.set(params, old);
        }
        const v = s.get(params);
        if (s.log) {
          const w = Math.pow(hi / lo, 1 / (gridPoints - 1));
          lo = Math.max(s.min, v / w);
          hi = Math.min(s.max, v * w);
        } else {
          const w = (hi - lo) / (gridPoints - 1);
          lo = Math.max(s.min, v - w);
          hi = Math.min(s.max, v + w);
        }
      }
    }
    if (before - best < 1e-6) break;
  }
  return { params, objective: best };
}

function paramSpecs(classes: HardwareClass[], cases: FitCase[] = []): ParamSpec<EfficiencyParams>[] {
  const specs: ParamSpec<EfficiencyParams>[] = [];
  // A class's mfuMax is fitted only where one of its cases times a prompt or a high-batch step (kind
  // prefill or throughput): a token-generation case at batch 1 is bound by memory, its compute time a
  // few percent of the step, and under the softened roofline (rooflineSeconds) the fit would push an
  // mfuMax nothing else constrains to its bound only to shave that share off (the CPU class, whose
  // cases are three llama-bench tg rates: 0.95, a CPU prompt at 95% of its vector peak). Unfitted, it
  // keeps its starting value, and docs/accuracy.md does not list it among the fitted parameters.
  const timesCompute = (cls: HardwareClass) => cases.some((c) => c.cls === cls && c.m.kind !== 'decode');
  for (const cls of classes) {
    if (timesCompute(cls)) specs.push({ name: `${cls}.mfuMax`, get: (p) => p.byClass[cls]!.mfuMax, set: (p, v) => (p.byClass[cls]!.mfuMax = v), min: 0.1, max: 0.95, log: false });
    specs.push({ name: `${cls}.mbuMax`, get: (p) => p.byClass[cls]!.mbuMax, set: (p, v) => (p.byClass[cls]!.mbuMax = v), min: 0.2, max: 0.98, log: false });
  }
  specs.push(
    { name: 'mfuHalfTokens', get: (p) => p.mfuHalfTokens, set: (p, v) => (p.mfuHalfTokens = v), min: 1, max: 8192, log: true },
    { name: 'mbuHalfBytes', get: (p) => p.mbuHalfBytes, set: (p, v) => (p.mbuHalfBytes = v), min: 1e6, max: 2e10, log: true },
    { name: 'stepOverheadSeconds', get: (p) => p.stepOverheadSeconds, set: (p, v) => (p.stepOverheadSeconds = v), min: 0, max: 0.02, log: false },
    { name: 'layerOverheadSeconds', get: (p) => p.layerOverheadSeconds, set: (p, v) => (p.layerOverheadSeconds = v), min: 0, max: 5e-4, log: false },
    { name: 'commEfficiency', get: (p) => p.commEfficiency, set: (p, v) => (p.commEfficiency = v), min: 0.05, max: 1, log: false },
    // the overlap of a phase's compute and memory time (efficiency.ts rooflineSeconds): from p = 1
    // (their sum) to p = 64, within 1.1% of the plain roofline max(compute, memory) at the ridge point
    { name: 'rooflineExponent', get: (p) => p.rooflineExponent ?? ROOFLINE_EXPONENT_MAX, set: (p, v) => (p.rooflineExponent = v), min: 1, max: ROOFLINE_EXPONENT_MAX, log: true },
  );
  // A host time per step of its own for each engine family whose profile states a prior and with
  // HOST_FAMILY_MIN_CASES cases that read the step overhead; the other engines share
  // stepOverheadSeconds (efficiency.ts hostStepOf).
  for (const family of hostFamilies(cases)) specs.push({ name: `hostStepSeconds.${family}`, get: (p) => p.hostStepSeconds?.[family] ?? p.stepOverheadSeconds, set: (p, v) => ((p.hostStepSeconds ??= {})[family] = v), min: 0, max: 0.02, log: false });
  // Fitted only where some case launches kernels beyond its dense layers' and reads the step overhead.
  if (cases.some((c) => (c.step?.model.extraLaunches ?? 0) > 0 && !c.m.metric.endsWith('WorkSeconds'))) specs.push({ name: 'kernelSeconds', get: (p) => p.kernelSeconds ?? 0, set: (p, v) => (p.kernelSeconds = v), min: 0, max: 2e-5, log: false });
  if (cases.some((c) => c.input.model.moe)) specs.push({ name: 'expertHalfBytes', get: (p) => p.expertHalfBytes ?? 1e4, set: (p, v) => (p.expertHalfBytes = v), min: 1e4, max: 1e9, log: true });
  return specs;
}

/** The largest roofline exponent the fit tries: 2^(1/64) = 1.011, the plain roofline within 1.1% where compute and memory times are equal. */
export const ROOFLINE_EXPONENT_MAX = 64;

/** Cases of an engine family needed before it gets a host time of its own (fewer: the pooled value). */
export const HOST_FAMILY_MIN_CASES = 5;

/** Engine families (profile ids) whose profile states a prior host time and with enough fit cases that read the step overhead, sorted. */
export function hostFamilies(cases: FitCase[]): string[] {
  const counts = new Map<string, number>();
  for (const c of cases) {
    // a family opts in with a sourced prior in its profile (kernels.hostStepSeconds): without one, a
    // free host time per family absorbs whatever else its cases miss (MoE at scale, long contexts)
    const id = c.input.engine?.kernels?.hostStepSeconds ? c.input.engine.id : undefined;
    if (id && !c.m.metric.endsWith('WorkSeconds')) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n >= HOST_FAMILY_MIN_CASES).map(([id]) => id).sort();
}

export const STARTING_PARAMS: EfficiencyParams = {
  byClass: { gpu: { mfuMax: 0.6, mbuMax: 0.8 } },
  mfuHalfTokens: 64,
  mbuHalfBytes: 1e8,
  stepOverheadSeconds: 0.001,
  layerOverheadSeconds: 2e-5,
  kernelSeconds: 0,
  commEfficiency: 0.7,
  expertHalfBytes: 1e4,
};

/** Mean absolute log error of the cases under these parameters (the fit's objective). */
export function objective(cases: FitCase[], params: EfficiencyParams): number {
  let total = 0;
  let weights = 0;
  for (const c of cases) {
    const w = c.weight ?? 1;
    total += w * Math.abs(Math.log(fastPredict(c, params) / c.m.measured));
    weights += w;
  }
  return total / weights;
}

/**
 * Weights that keep one publication from outvoting the rest: each case counts 1 / sqrt(n) where n
 * is the number of fitted cases from its publication (a table of 40 rows weighs as much as about
 * six single-case sources, not forty).
 */
export function publicationWeights<T extends { m: Measurement; weight?: number }>(cases: T[]): T[] {
  const counts = new Map<string, number>();
  for (const c of cases) counts.set(publicationOf(c.m), (counts.get(publicationOf(c.m)) ?? 0) + 1);
  for (const c of cases) c.weight = 1 / Math.sqrt(counts.get(publicationOf(c.m))!);
  return cases;
}

/** Classes with a case get their own parameters (starting from gpu's); the others fall back to gpu. */
function withClasses<T>(byClass: Partial<Record<HardwareClass, T>> & { gpu: T }, classes: HardwareClass[]): HardwareClass[] {
  for (const cls of classes) byClass[cls] ??= structuredClone(byClass.gpu);
  for (const cls of Object.keys(byClass) as HardwareClass[]) if (cls !== 'gpu' && !classes.includes(cls)) delete byClass[cls];
  return [...new Set(['gpu' as HardwareClass, ...classes])].filter((c) => byClass[c]);
}

/** Fits the serving efficiency model (coordinateDescent over paramSpecs) on the cases. */
export function fit(cases: FitCase[], start: EfficiencyParams = STARTING_PARAMS, sweeps = 6, gridPoints = 13, levels = 3): { params: EfficiencyParams; objective: number } {
  const params = structuredClone(start);
  const classes = withClasses(params.byClass, [...new Set(cases.map((c) => c.cls))].sort());
  return coordinateDescent(params, paramSpecs(classes, cases), (p) => objective(cases, p), sweeps, gridPoints, levels);
}

export const TRAINING_START: TrainingParams = structuredClone(TRAINING_DEFAULTS);

function trainingSpecs(classes: HardwareClass[], cases: TrainFitCase[]): ParamSpec<TrainingParams>[] {
  const specs: ParamSpec<TrainingParams>[] = classes.map((cls) => ({ name: `${cls}.utilMax`, get: (p) => p.byClass[cls]!.utilMax, set: (p, v) => (p.byClass[cls]!.utilMax = v), min: 0.1, max: 1, log: false }));
  // A share is fitted only where some case exercises it (else it would stay at its start, unfitted).
  if (cases.some((c) => c.work.fp8)) specs.push({ name: 'fp8Factor', get: (p) => p.fp8Factor, set: (p, v) => (p.fp8Factor = v), min: 0.2, max: 1.2, log: false });
  if (cases.some((c) => c.work.moe)) specs.push({ name: 'moeFactor', get: (p) => p.moeFactor, set: (p, v) => (p.moeFactor = v), min: 0.2, max: 1.2, log: false });
  if (cases.some((c) => !c.work.scheduleStated && c.work.bubble > 0)) specs.push({ name: 'bubbleScale', get: (p) => p.bubbleScale, set: (p, v) => (p.bubbleScale = v), min: 0, max: 1, log: false });
  if (cases.some((c) => c.work.dpBytesPerDevice > 0)) specs.push({ name: 'dpOverlap', get: (p) => p.dpOverlap, set: (p, v) => (p.dpOverlap = v), min: 0, max: 1, log: false });
  return specs;
}

export function trainingObjective(cases: TrainFitCase[], p: TrainingParams): number {
  let total = 0;
  for (const c of cases) total += Math.abs(Math.log(fastTrainPredict(c, p) / c.m.measured));
  return total / cases.length;
}

/** Fits the training utilisation (training.ts TrainingParams) on the training runs. */
export function fitTraining(cases: TrainFitCase[], start: TrainingParams = TRAINING_START): { params: TrainingParams; objective: number } {
  const params = structuredClone(start);
  const classes = withClasses(params.byClass, [...new Set(cases.map((c) => c.cls))].sort());
  return coordinateDescent(params, trainingSpecs(classes, cases), (p) => trainingObjective(cases, p));
}

/** Names of the fitted parameters for these cases (reported in docs/accuracy.md). */
export function fittedParameterNames(serving: FitCase[], training: TrainFitCase[]): { serving: string[]; training: string[] } {
  const sp = structuredClone(STARTING_PARAMS);
  const tp = structuredClone(TRAINING_START);
  return {
    serving: paramSpecs(withClasses(sp.byClass, [...new Set(serving.map((c) => c.cls))].sort()), serving).map((s) => s.name),
    training: trainingSpecs(withClasses(tp.byClass, [...new Set(training.map((c) => c.cls))].sort()), training).map((s) => s.name),
  };
}

/** Empirical quantile (linear interpolation), q in [0, 1]. */
export function quantile(values: number[], q: number): number {
  const v = [...values].sort((a, b) => a - b);
  if (!v.length) return NaN;
  const pos = (v.length - 1) * q;
  const i = Math.floor(pos);
  return v[i] + (v[Math.min(i + 1, v.length - 1)] - v[i]) * (pos - i);
}

export const median = (values: number[]): number => quantile(values, 0.5);

/**
 * Band quantiles: the 5th and 95th percentiles of the leave-one-out residuals of the kind. A
 * distribution-free prediction interval (Wilks 1941, tolerance limits): for exchangeable
 * residuals a new case falls between them with probability about 90%. The whole range would
 * cover (n - 1) / (n + 1) but let one outlier (an early engine build) widen every figure's band;
 * the cross-validated coverage in docs/accuracy.md checks the choice.
 */
export const BAND_QUANTILES = [0.05, 0.95] as const;

/** Multiplicative band [exp(min), exp(max)] of log residuals; undefined with fewer than 3. */
export function bandFrom(residuals: number[]): { low: number; high: number } | undefined {
  if (residuals.length < 3) return undefined;
  return { low: Math.exp(quantile(residuals, BAND_QUANTILES[0])), high: Math.exp(quantile(residuals, BAND_QUANTILES[1])) };
}

export function hardwareClassOf(input: EstimateInput): HardwareClass {
  return hardwareClass(input.hardware);
}

/**
 * The publication a measurement comes from: its source up to the first " (" or " @" (a table
 * of one document, one repository file, one thread). The by-source split keeps publications whole.
 */
export function publicationOf(m: Pick<Measurement, 'source'>): string {
  return m.source.split(/ \(| @/)[0].replace(/[;,.]+$/, '').trim();
}

/** Fold (0 or 1) of a publication: FNV-1a hash parity, fixed by the publication's name alone. */
export function sourceFold(publication: string): 0 | 1 {
  let h = 0x811c9dc5;
  for (let i = 0; i < publication.length; i++) {
    h ^= publication.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h & 1) as 0 | 1;
}

// ---------------------------------------------------------------------------------------------
// The whole evaluation: resolve, fit, leave-one-out, by-source split, bands, coverage

export interface Row {
  m: Measurement;
  /** why it was not predicted */
  skipped?: string;
  /** prediction with the given (shipped) calibration */
  inSample?: Prediction;
  /** prediction by a calibration refitted from scratch without this measurement */
  leaveOneOut?: number;
  /** prediction by a calibration fitted on the other fold of publications only */
  bySource?: number;
  /** the leave-one-out residual lies in the band built from the other measurements' residuals */
  inCrossValidatedBand?: boolean;
}

/**
 * Held-out predictions outside the band built from the other measurements' residuals
 * (inCrossValidatedBand false), worst leave-one-out error first: where the suite knows the model
 * is wrong, which the report lists with each case's notes (what was checked, why it misses).
 */
export function outsideBand(rows: Row[]): Row[] {
  const miss = (r: Row) => Math.abs(Math.log(r.leaveOneOut! / r.m.measured));
  return rows.filter((r) => r.inCrossValidatedBand === false && r.leaveOneOut !== undefined).sort((a, b) => miss(b) - miss(a));
}

export interface Evaluation {
  rows: Row[];
  fitted: { params: EfficiencyParams; objective: number; cases: number };
  fittedTraining: { params: TrainingParams; objective: number; cases: number };
  parameterNames: { serving: string[]; training: string[] };
  bands: Calibration['bands'];
  /** publications per fold of the by-source split */
  folds: [string[], string[]];
  presetIssues: string[];
}

/** Speculative decoding's lever keys: its cases are re-timed through the speculative step and fitted like plain decoding. */
const SPECULATIVE_KEYS: readonly string[] = ['speculative', 'draftTokens', 'acceptance', 'acceptedLength'];

/**
 * Measurements the serving fit uses: latency and throughput (memory involves no fitted parameter;
 * training has its own fit). Measurements of the other serving levers (prefix caching, LoRA, KV and
 * weight offload, docs/levers.md) and lever ratios are predicted, never fitted: they test the
 * levers' own formulas, so no fitted number has seen them (their steps are not re-timed by the fit's
 * fast path either).
 */
export const isFitted = (m: Measurement): boolean =>
  m.kind !== 'memory' && m.kind !== 'training' && !m.relative && !hasUnfittedLevers(m);

/** A lever other than speculative decoding (prefix caching, LoRA, KV or weight offload): predicted, never fitted. */
export const hasUnfittedLevers = (m: Pick<Measurement, 'levers'>): boolean => Object.keys(m.levers ?? {}).some((k) => !SPECULATIVE_KEYS.includes(k));

/**
 * Fits the serving efficiency model and the training utilisation on every predictable
 * measurement; refits each from scratch without each measurement in turn (leave-one-out, the
 * same fit() and starting point) to predict it out of sample; fits each on one fold of
 * publications to predict the other (by-source split); derives the bands from the leave-one-out
 * residuals. `shipped` is the calibration to report in-sample figures with (normally the
 * committed one).
 */
/** The suite resolved once: rows, the serving and training fit cases, each measurement's resolution. */
export function buildCases(suite: Measurement[], catalog: Catalog): { rows: Row[]; fitCases: FitCase[]; trainCases: TrainFitCase[]; resolved: Map<Measurement, Resolved> } {
  const rows: Row[] = [];
  const fitCases: FitCase[] = [];
  const trainCases: TrainFitCase[] = [];
  const resolved = new Map<Measurement, Resolved>();
  for (const m of suite) {
    const r = resolveMeasurement(m, catalog);
    if (!r.ok) {
      rows.push({ m, skipped: r.reason });
      continue;
    }
    resolved.set(m, r);
    rows.push({ m });
    if (isFitted(m) && r.input) fitCases.push(fitCase(m, r.input));
    if (m.kind === 'training' && r.train) trainCases.push(trainFitCase(m, r.train));
  }
  return { rows, fitCases, trainCases, resolved };
}

/**
 * One fit of the evaluation: the serving or the training fit on every case but one (leave-one-out,
 * `leaveOut` = the case's index) or on the publications outside one by-source fold. Each is a
 * fit from scratch (the same fit(), starting point and grids as the shipped calibration), so the
 * fits are independent and may run in any order, on any thread, with the same result.
 */
export type FitTask = { kind: 'serving' | 'training'; leaveOut: number } | { kind: 'serving' | 'training'; fold: 0 | 1 };
export type FitResult = { kind: 'serving'; params: EfficiencyParams } | { kind: 'training'; params: TrainingParams };

export function runFitTask(task: FitTask, fitCases: FitCase[], trainCases: TrainFitCase[]): FitResult {
  if (task.kind === 'serving') {
    const cases = 'leaveOut' in task ? fitCases.filter((_, i) => i !== task.leaveOut) : fitCases.filter((c) => sourceFold(publicationOf(c.m)) !== task.fold);
    return { kind: 'serving', params: cases.length ? fit(cases).params : STARTING_PARAMS };
  }
  const cases = 'leaveOut' in task ? trainCases.filter((_, i) => i !== task.leaveOut) : trainCases.filter((c) => sourceFold(publicationOf(c.m)) !== task.fold);
  return { kind: 'training', params: cases.length ? fitTraining(cases).params : TRAINING_START };
}

/**
 * Runs the fit tasks on `jobs` threads: this one and jobs - 1 worker threads
 * (scripts/accuracy-worker.ts), each resolving the suite itself from the files under `root` and
 * taking every jobs-th task. Results come back in the tasks' order; one thread = in order here.
 */
async function runFitTasks(tasks: FitTask[], fitCases: FitCase[], trainCases: TrainFitCase[], parallel?: { root: string; jobs: number }): Promise<FitResult[]> {
  const jobs = parallel ? Math.max(1, Math.min(parallel.jobs, tasks.length)) : 1;
  const results: FitResult[] = new Array(tasks.length);
  const shareOf = (j: number) => tasks.map((t, i) => [t, i] as const).filter(([, i]) => i % jobs === j);
  const workers: Promise<void>[] = [];
  for (let j = 1; j < jobs; j++) {
    const share = shareOf(j);
    const worker = new Worker(new URL('./accuracy-worker.js', import.meta.url), { workerData: { root: parallel!.root, tasks: share.map(([t]) => t) } });
    workers.push(new Promise<void>((resolve, reject) => {
      worker.once('message', (out: FitResult[]) => {
        share.forEach(([, i], k) => (results[i] = out[k]));
        resolve();
      });
      worker.once('error', reject);
      worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`accuracy worker exited with ${code}`))));
    }));
  }
  for (const [t, i] of shareOf(0)) results[i] = runFitTask(t, fitCases, trainCases);
  await Promise.all(workers);
  return results;
}

/**
 * The whole evaluation. `parallel` runs the independent fits on several threads (the files under
 * `root` must be the suite and presets passed here); without it, on this thread.
 */
export async function evaluate(suite: Measurement[], catalog: Catalog, presetIssues: string[], shipped?: Calibration, parallel?: { root: string; jobs: number }): Promise<Evaluation> {
  const { rows, fitCases, trainCases, resolved } = buildCases(suite, catalog);
  const tasks: FitTask[] = [
    ...fitCases.map((_, i) => ({ kind: 'serving' as const, leaveOut: i })),
    ...trainCases.map((_, i) => ({ kind: 'training' as const, leaveOut: i })),
    ...([0, 1] as const).flatMap((fold) => [{ kind: 'serving' as const, fold }, { kind: 'training' as const, fold }]),
  ];
  const pending = runFitTasks(tasks, fitCases, trainCases, parallel);
  const full = fit(fitCases);
  const fullTraining = fitTraining(trainCases);
  const fullCal: Calibration = { params: full.params, training: fullTraining.params, source: 'fit', bands: {} };
  // The fast paths must be the model: re-timed steps equal estimate() / train() for every case.
  for (const c of fitCases) {
    const fast = fastPredict(c, full.params);
    const slow = predict(c.input, c.m.metric, fullCal).value;
    if (Math.abs(fast / slow - 1) > 1e-9) throw new Error(`internal: fast prediction of ${c.m.id} (${fast}) differs from estimate() (${slow})`);
  }
  for (const c of trainCases) {
    const fast = fastTrainPredict(c, fullTraining.params);
    const slow = predictResolved({ ok: true, train: c.train }, c.m.metric, fullCal).value;
    if (Math.abs(fast / slow - 1) > 1e-9) throw new Error(`internal: fast prediction of ${c.m.id} (${fast}) differs from train() (${slow})`);
  }
  const results = await pending;
  // Leave-one-out and by-source predictions.
  const loo = new Map<Measurement, number>();
  const bySource = new Map<Measurement, number>();
  tasks.forEach((t, k) => {
    const r = results[k];
    if ('leaveOut' in t) {
      if (r.kind === 'serving') loo.set(fitCases[t.leaveOut].m, fastPredict(fitCases[t.leaveOut], r.params));
      else loo.set(trainCases[t.leaveOut].m, fastTrainPredict(trainCases[t.leaveOut], r.params));
    } else if (r.kind === 'serving') {
      for (const c of fitCases) if (sourceFold(publicationOf(c.m)) === t.fold) bySource.set(c.m, fastPredict(c, r.params));
    } else {
      for (const c of trainCases) if (sourceFold(publicationOf(c.m)) === t.fold) bySource.set(c.m, fastTrainPredict(c, r.params));
    }
  });
  const pubs = [...new Set([...fitCases, ...trainCases].map((c) => publicationOf(c.m)))].sort();
  const folds: [string[], string[]] = [pubs.filter((p) => sourceFold(p) === 0), pubs.filter((p) => sourceFold(p) === 1)];
  const residualsByKind = new Map<BandKind, { m: Measurement; r: number }[]>();
  for (const row of rows) {
    const r = resolved.get(row.m);
    if (!r) continue;
    row.leaveOneOut = loo.get(row.m);
    row.bySource = bySource.get(row.m);
    if (row.leaveOneOut === undefined) {
      // nothing fitted (memory, KV capacity): the leave-one-out prediction is the in-sample one
      row.leaveOneOut = predictResolved(r, row.m.metric, shipped ?? fullCal).value;
      row.bySource = row.leaveOneOut;
    }
    const kind = bandKind(row.m);
    if (kind) {
      const list = residualsByKind.get(kind) ?? [];
      list.push({ m: row.m, r: bandResidual(row.m, row.leaveOneOut) });
      residualsByKind.set(kind, list);
    }
  }
  const bands: Calibration['bands'] = {};
  for (const [kind, list] of residualsByKind) {
    const band = bandFrom(list.map((x) => x.r));
    if (band) bands[kind] = band;
    // cross-validated coverage: each residual against the band of the others
    for (const x of list) {
      const b = bandFrom(list.filter((y) => y !== x).map((y) => y.r));
      const row = rows.find((r) => r.m === x.m)!;
      row.inCrossValidatedBand = b ? x.r >= Math.log(b.low) && x.r <= Math.log(b.high) : undefined;
    }
  }
  const cal: Calibration = shipped ?? { ...fullCal, bands };
  for (const row of rows) {
    const r = resolved.get(row.m);
    if (r) row.inSample = predictResolved(r, row.m.metric, cal);
  }
  return {
    rows,
    fitted: { ...full, cases: fitCases.length },
    fittedTraining: { ...fullTraining, cases: trainCases.length },
    parameterNames: fittedParameterNames(fitCases, trainCases),
    bands,
    folds,
    presetIssues,
  };
}
