import type { HardwareSpec } from '../inputs/hardware.js';
import { describeShape, summarizeModel, type ModelSpec, type ModelSummary } from '../inputs/model.js';
import { activationFormat, FORMATS } from '../inputs/precision.js';
import { applyMemoryBands, applyTrainingBands } from './bands.js';
import { CALIBRATION } from './calibration.js';
import { hardwareClass, type Calibration, type HardwareClass, type TrainingParams } from './efficiency.js';
import { groupLink } from './parallel.js';
import { secondsInHour, toGiB } from '../units.js';
import { carbonTerm, type Carbon } from './carbon.js';
import { distillFigures, teacherMemoryBytes, type DistillInput } from './distill.js';
import { attentionFlopsPerContextToken, matmulParams } from './flops.js';
import { deviceMemoryFigures, layerSplit } from './memory.js';
import { paramsFigures } from './params.js';
import { resolvePeak } from './peak.js';
import { notMeaningful, sum, term, type Figures } from './terms.js';
import {
  activationBytes,
  ADAM_8BIT_BLOCK,
  linearGroups,
  LORA_TARGETS,
  loraParams,
  NF4_DQ_BITS,
  OPTIMIZER_SOURCE,
  PRECISION_BYTES,
  type LoraTarget,
  type Method,
  trainsAll,
  type Optimizer,
  type Recompute,
  type TrainPrecision,
  type ZeroStage,
} from './training-memory.js';

export * from './training-memory.js';

/** Everything a training estimate needs, resolved and in base units. */
export interface TrainInput {
  model: ModelSpec;
  hardware: HardwareSpec;
  /** devices in the job: tp x pp x cp x data-parallel ranks */
  count: number;
  precision: TrainPrecision;
  method: Method;
  optimizer: Optimizer;
  zero: ZeroStage;
  recompute: Recompute;
  sequenceParallel: boolean;
  tp: number;
  pp: number;
  cp: number;
  /** tokens per sequence */
  seqLen: number;
  /** sequences per device per forward/backward pass */
  microBatch: number;
  /** sequences per optimizer step, all data-parallel ranks and accumulation steps together */
  globalBatch: number;
  /** model chunks per pipeline stage (interleaved 1F1B, Megatron --num-layers-per-virtual-pipeline-stage); absent = 1 */
  virtualStages?: number;
  /** tokens to train on; absent = compute-optimal (full) or unknown (LoRA/QLoRA) */
  tokens?: number;
  lora: { rank: number; targets: LoraTarget[] };
  /** model FLOPs utilisation override (--mfu) */
  mfu?: number;
  /** share of a whole run's wall-clock spent in training steps (--goodput); absent = WHOLE_RUN_GOODPUT */
  goodput?: number;
  price?: { usdPerHour: number; source: string };
  /** average power per device, W (--power-watts); default TDP */
  powerWatts?: number;
  /** grid carbon intensity and PUE (--region / --grid-gco2-per-kwh, --pue); absent = no carbon figure */
  carbon?: Carbon;
  /** --method distill: the teacher, where it runs, and the serving comparison (distill.ts) */
  distill?: DistillInput;
}

export interface Suggestion {
  change: string;
  perDeviceBytes: number;
  fits: boolean;
}

export interface TrainEstimate {
  schemaVersion: 1;
  input: {
    model: ModelSummary;
    hardware: { id: string; name: string; count: number; usdPerDeviceHour: number | null };
    training: {
      method: Method; precision: TrainPrecision; compute: string; optimizer: Optimizer; zero: ZeroStage; recompute: Recompute;
      sequenceParallel: boolean; tp: number; pp: number; cp: number; dp: number;
      seqLen: number; microBatch: number; globalBatch: number; gradientAccumulation: number;
      tokens: number | null; tokensDefaulted: boolean; lora: { rank: number; targets: LoraTarget[] } | null;
    };
  };
  figures: Figures;
  fits: boolean;
  suggestions: Suggestion[];
  warnings: string[];
}

/** Compute-optimal tokens per parameter (Hoffmann et al. 2022, "Chinchilla", Table 3: about 20). */
export const CHINCHILLA_TOKENS_PER_PARAM = 20;

/**
 * Whether a model is trained through a vocabulary-wide output head: decoders are (next-token
 * logits); encoders and embedders (BERT-style encoders, bge, gte, a decoder trunk served as an
 * embedder) are trained on pooled vectors (contrastive / bi-encoder fine-tuning, Sentence-
 * Transformers, FlagEmbedding) and their presets carry no MLM head.
 */
export const hasLmHead = (m: ModelSpec): boolean => !m.encoder && !m.task;

/**
 * Training utilisation when the calibration carries none (a calibration fitted before training
 * was fitted, or a hand-made one): round values, unfitted, and the figures say so. The shipped
 * calibration (calibration.ts) carries fitted values.
 */
export const TRAINING_DEFAULTS: TrainingParams = {
  byClass: { gpu: { utilMax: 0.5 } },
  fp8Factor: 0.6,
  moeFactor: 0.7,
  bubbleScale: 0.5,
  dpOverlap: 0.5,
};

/**
 * Share of a whole pretraining run's wall-clock spent in training steps (goodput): the rest goes
 * to restarts after failures, checkpointing and evaluation. Not fitted: Meta's Llama 3 405B run
 * kept "higher than 90% effective training time" through 466 job interruptions (419 unexpected,
 * 78% of them hardware) in a 54-day snapshot on 16,384 H100 (Llama 3 paper, arXiv 2407.21783,
 * sec. 3.3.4). It scales only the whole-run figures (train.secondsWithGoodput,
 * train.deviceHoursWithGoodput, train.usdWithGoodput); train.seconds and train.deviceHours are
 * the steps alone. --goodput sets another share.
 */
export const WHOLE_RUN_GOODPUT = {
  value: 0.9,
  source: 'Llama 3 paper (arXiv 2407.21783) sec. 3.3.4: higher than 90% effective training time over a 54-day snapshot with 466 job interruptions on 16,384 H100',
} as const;

/**
 * What one optimizer step does, independent of the fitted utilisation: FLOPs, devices, the
 * pipeline bubble and the data-parallel traffic. trainingStepTime() times it; train() builds it
 * and writes the figures; the calibration fit (scripts/accuracy-lib.ts) re-times it.
 */
export interface TrainingStepWork {
  tokensPerStep: number;
  count: number;
  peakFlopsPerSecond: number;
  /** model FLOPs per token (6N + attention) and executed FLOPs (recomputation included) */
  modelFlopsPerToken: number;
  executedFlopsPerToken: number;
  cls: HardwareClass;
  fp8: boolean;
  moe: boolean;
  /** 1F1B / interleaved bubble fraction (Narayanan et al. 2021) and whether the schedule was stated */
  bubble: number;
  scheduleStated: boolean;
  /** bytes each device sends per step for data parallelism (gradient reduction, ZeRO-3 gathers) and the link */
  dpBytesPerDevice: number;
  dpBandwidth: number;
  dpLink: string;
}

export interface TrainingStepTime {
  /** utilisation of the executed FLOPs while computing */
  util: number;
  computeSeconds: number;
  bubbleSeconds: number;
  /** data-parallel traffic not hidden behind compute */
  dpSeconds: number;
  stepSeconds: number;
  /** model FLOPs over the whole step / dense peak */
  mfu: number;
}

/**
 * One step's time: compute at the fitted utilisation (per hardware class, times the fp8 and MoE
 * shares), plus the pipeline bubble (scaled by bubbleScale when the schedule is not stated),
 * plus the share of the data-parallel traffic compute does not hide. `mfu` (--mfu) fixes the
 * model FLOPs utilisation of the compute instead.
 *
 * @example trainingStepTime(work, { byClass: { gpu: { utilMax: 0.5 } }, ... }).computeSeconds
 *   = tokensPerStep x executedFlopsPerToken / (count x peak x 0.5)
 */
export function trainingStepTime(w: TrainingStepWork, p: TrainingParams, mfu?: number): TrainingStepTime {
  const cls = p.byClass[w.cls] ?? p.byClass.gpu;
  const util = mfu !== undefined ? (mfu * w.executedFlopsPerToken) / w.modelFlopsPerToken : Math.min(1, (cls.utilMax * (w.fp8 ? p.fp8Factor : 1) * (w.moe ? p.moeFactor : 1)));
  const computeSeconds = (w.tokensPerStep * w.executedFlopsPerToken) / (w.count * w.peakFlopsPerSecond * util);
  const bubbleSeconds = computeSeconds * w.bubble * (w.scheduleStated ? 1 : p.bubbleScale);
  // The traffic runs beside the backward pass and the next forward (bucketed gradient reduction,
  // FSDP prefetch): a share dpOverlap of the compute time can hide it, the rest is exposed.
  const dpSeconds = w.dpBandwidth > 0 ? Math.max(0, w.dpBytesPerDevice / w.dpBandwidth - p.dpOverlap * computeSeconds) : 0;
  const stepSeconds = computeSeconds + bubbleSeconds + dpSeconds;
  return { util, computeSeconds, bubbleSeconds, dpSeconds, stepSeconds, mfu: (w.tokensPerStep * w.modelFlopsPerToken) / (stepSeconds * w.count * w.peakFlopsPerSecond) };
}

/**
 * The fitted utilisation of a device's class (utilMax, before the fp8 and MoE shares): for callers
 * that time other training work on the same device (distillation's teacher, distill.ts).
 */
export function trainingUtilisation(hw: HardwareSpec, calibration: Calibration = CALIBRATION): { family: string; value: number; source: string; approximate?: boolean } {
  const t = calibration.training ?? TRAINING_DEFAULTS;
  const cls = hardwareClass(hw);
  const own = t.byClass[cls];
  return {
    family: `${own ? cls : 'gpu'} class`,
    value: (own ?? t.byClass.gpu).utilMax,
    source: calibration.training ? `training utilisation fitted on the validation suite's runs (src/estimate/calibration.ts; ${calibration.source})` : 'unfitted round default (training.ts TRAINING_DEFAULTS)',
    ...(own && calibration.training ? {} : { approximate: true }),
  };
}

/** Data-parallel ranks: devices / (tp x pp x cp). */
export const dataParallel = (i: Pick<TrainInput, 'count' | 'tp' | 'pp' | 'cp'>): number => i.count / (i.tp * i.pp * i.cp);

interface MemoryResult {
  perDeviceBytes: number;
  capacityBytes: number;
  fits: boolean;
  trainable: number;
}

/**
 * Memory terms: weights, gradients and optimizer states for the whole model (before
 * sharding), then per device after TP/PP and ZeRO, plus activations and runtime overhead.
 */
export function trainingMemoryFigures(fig: Figures, input: TrainInput, totalParams: number): MemoryResult {
  const { model: m, hardware: hw, method, precision } = input;
  const pb = PRECISION_BYTES[precision];
  const dp = dataParallel(input);
  const shardGroup = dp * input.cp;
  const groups = linearGroups(m);
  const linearTotal = Object.values(groups).reduce((a, g) => a + g.params, 0);
  const full = trainsAll(method);

  // Trainable parameters
  let trainable: number;
  if (full) {
    trainable = term(fig, { id: 'params.trainable', label: 'Trainable parameters', unit: 'params', value: totalParams, formula: 'params.total (full fine-tuning / pretraining)', inputs: { total: totalParams }, source: 'every parameter is trained' });
  } else {
    const lora = loraParams(m, input.lora.rank, input.lora.targets);
    trainable = term(fig, { id: 'params.trainable', label: `Trainable parameters (LoRA r=${input.lora.rank} on ${input.lora.targets.join(', ')})`, unit: 'params', value: lora.params, formula: 'rank x sum over adapted matrices of (dIn + dOut)', inputs: { rank: input.lora.rank, targets: input.lora.targets.join(','), adaptedMatrices: lora.matrices }, source: 'LoRA (Hu et al. 2021) sec. 4.1: W + BA with B (dOut x r) and A (r x dIn); base weights frozen', approximate: m.shapeAssumed });
  }

  // Weights (whole model)
  if (method === 'qlora') {
    const quantized = Math.min(totalParams, linearTotal);
    const kept = totalParams - quantized;
    term(fig, { id: 'memory.weights.base', label: 'Frozen base weights (NF4, double quantization)', unit: 'B', value: (quantized * NF4_DQ_BITS) / 8 + kept * 2, formula: 'linearParams x 4.127 bits / 8 + (embeddings, head, norms) x 2 B', inputs: { linearParams: quantized, bitsPerWeight: NF4_DQ_BITS, keptParams: kept }, source: 'QLoRA (Dettmers et al. 2023) sec. 3: NF4 blocks of 64, 8-bit scales, double quantization; bitsandbytes quantizes Linear layers only (embeddings and lm_head stay 16-bit)', approximate: m.shapeAssumed });
    term(fig, { id: 'memory.weights.adapters', label: 'LoRA adapters (bf16)', unit: 'B', value: trainable * 2, formula: 'trainable x 2 B', inputs: { trainable }, source: 'QLoRA sec. 3: 16-bit (bf16) adapters' });
  } else if (method === 'lora') {
    term(fig, { id: 'memory.weights.base', label: `Frozen base weights (${precision === 'fp32' ? 'fp32' : '16-bit'})`, unit: 'B', value: totalParams * pb.weights, formula: 'params.total x bytes', inputs: { params: totalParams, bytes: pb.weights }, source: pb.source });
    term(fig, { id: 'memory.weights.adapters', label: 'LoRA adapters', unit: 'B', value: trainable * pb.weights, formula: 'trainable x bytes', inputs: { trainable, bytes: pb.weights }, source: pb.source });
  } else {
    term(fig, { id: 'memory.weights.base', label: 'Model weights', unit: 'B', value: totalParams * pb.weights, formula: 'params.total x bytes', inputs: { params: totalParams, bytes: pb.weights }, source: pb.source });
  }
  const weights = sum(fig, { id: 'memory.weights', label: 'Weights', unit: 'B', parts: full ? ['memory.weights.base'] : ['memory.weights.base', 'memory.weights.adapters'] });

  // Gradients and optimizer states: trainable parameters only.
  const gradientBytes = method === 'qlora' ? 2 : pb.gradients;
  const gradients = term(fig, { id: 'memory.gradients', label: 'Gradients', unit: 'B', value: trainable * gradientBytes, formula: 'trainable x bytes', inputs: { trainable, bytes: gradientBytes }, source: method === 'qlora' ? 'QLoRA: bf16 adapter gradients' : pb.source });
  // QLoRA trains the bf16 adapters directly (qlora.py casts LoRA modules to bf16; paged 32-bit AdamW), no master copy.
  const masterBytes = method === 'qlora' ? 0 : pb.master;
  let stateBytes: number;
  let stateFormula: string;
  const inputs: Figures[string]['inputs'] = { trainable, masterBytes };
  switch (input.optimizer) {
    case 'adamw':
      stateBytes = 8 * trainable;
      stateFormula = 'trainable x (master + 8)';
      break;
    case 'adamw-8bit':
      stateBytes = trainable * (2 + (2 * 4) / ADAM_8BIT_BLOCK);
      stateFormula = 'trainable x (master + 2 + 2 x 4 / 2048)';
      break;
    case 'sgd':
      stateBytes = 4 * trainable;
      stateFormula = 'trainable x (master + 4)';
      break;
    case 'adafactor': {
      // factored second moment: a row and a column per matrix; vectors keep a full second moment
      if (full) {
        const edges = Object.values(groups).reduce((a, g) => a + g.edges, 0);
        const embeddingEdges = (m.vocab + m.hidden) * (m.tiedEmbeddings ? 1 : 2);
        const vectors = Math.max(0, totalParams - linearTotal - m.vocab * m.hidden * (m.tiedEmbeddings ? 1 : 2));
        stateBytes = 4 * (edges + embeddingEdges + vectors);
        Object.assign(inputs, { matrixEdges: edges + embeddingEdges, vectorParams: vectors });
      } else {
        const lora = loraParams(m, input.lora.rank, input.lora.targets);
        stateBytes = 4 * (lora.params / input.lora.rank + 2 * input.lora.rank * lora.matrices);
        Object.assign(inputs, { adapterEdges: lora.params / input.lora.rank + 2 * input.lora.rank * lora.matrices });
      }
      stateFormula = 'trainable x master + 4 x (sum over matrices of rows + columns + vector params)';
      break;
    }
  }
  const optimizerStates = term(fig, { id: 'memory.optimizerStates', label: 'Optimizer states (incl. any fp32 master copy)', unit: 'B', value: trainable * masterBytes + stateBytes, formula: stateFormula, inputs, source: `${OPTIMIZER_SOURCE[input.optimizer]}; master copy: ${masterBytes ? pb.source : method === 'qlora' ? 'none (QLoRA trains bf16 adapters directly, artidoro/qlora qlora.py)' : 'none in fp32 training'}` });
  sum(fig, { id: 'memory.modelStates', label: 'Weights + gradients + optimizer states (before sharding)', unit: 'B', parts: ['memory.weights', 'memory.gradients', 'memory.optimizerStates'] });
  term(fig, { id: 'memory.bytesPerTrainableParam', label: 'Model-state bytes per trainable parameter', unit: 'B', value: (weights - (full ? 0 : fig['memory.weights.base'].value) + gradients + optimizerStates) / trainable, formula: '(trainable weights + gradients + optimizer states) / trainable', inputs: { trainable }, source: 'ZeRO (Rajbhandari et al. 2020) sec. 3.1: 2 + 2 + 12 = 16 bytes for mixed-precision Adam' });

  // Per device: TP and PP split the model evenly (embeddings and head too, vocab-parallel);
  // ZeRO stage 1 shards optimizer states, 2 also gradients, 3 (FSDP FULL_SHARD) also
  // weights, over the data-parallel (x context-parallel) ranks (Rajbhandari et al. 2020 sec. 5;
  // Megatron-Core shards over DP x CP).
  const modelShard = input.tp * input.pp;
  const z = input.zero;
  const zeroSource = 'Tensor/pipeline split (Narayanan et al. 2021); ZeRO partitioning (Rajbhandari et al. 2020 sec. 5: P_os, P_os+g, P_os+g+p)';
  const approxSplit = input.pp > 1;
  const perDeviceWeights = weights / modelShard / (z >= 3 ? shardGroup : 1);
  term(fig, { id: 'memory.perDevice.weights', label: 'Weights per device', unit: 'B', value: perDeviceWeights, formula: `weights / (tp x pp)${z >= 3 ? ' / (dp x cp)' : ''}`, inputs: { weights, tp: input.tp, pp: input.pp, dp, cp: input.cp, zero: z }, source: zeroSource, approximate: approxSplit });
  term(fig, { id: 'memory.perDevice.gradients', label: 'Gradients per device', unit: 'B', value: gradients / modelShard / (z >= 2 ? shardGroup : 1), formula: `gradients / (tp x pp)${z >= 2 ? ' / (dp x cp)' : ''}`, inputs: { gradients, tp: input.tp, pp: input.pp, dp, cp: input.cp, zero: z }, source: zeroSource, approximate: approxSplit });
  term(fig, { id: 'memory.perDevice.optimizerStates', label: 'Optimizer states per device', unit: 'B', value: optimizerStates / modelShard / (z >= 1 ? shardGroup : 1), formula: `optimizerStates / (tp x pp)${z >= 1 ? ' / (dp x cp)' : ''}`, inputs: { optimizerStates, tp: input.tp, pp: input.pp, dp, cp: input.cp, zero: z }, source: zeroSource, approximate: approxSplit });
  const parts = ['memory.perDevice.weights', 'memory.perDevice.gradients', 'memory.perDevice.optimizerStates'];
  if (z >= 3 && shardGroup > 1) {
    // ZeRO-3 / FSDP all-gathers a layer's weights before using it and prefetches the next.
    const layerWeights = weights / m.layers / modelShard;
    term(fig, { id: 'memory.perDevice.gatherBuffers', label: 'ZeRO-3 gathered layers (current + prefetched)', unit: 'B', value: 2 * layerWeights, formula: '2 x weights / layers / (tp x pp)', inputs: { weights, layers: m.layers }, source: 'DeepSpeed ZeRO-3 / PyTorch FSDP: unsharded parameters of the running and the prefetched layer', approximate: true });
    parts.push('memory.perDevice.gatherBuffers');
  }

  const act = activationBytes(m, { seqLen: input.seqLen, microBatch: input.microBatch, tp: input.tp, cp: input.cp, sequenceParallel: input.sequenceParallel, recompute: input.recompute, bytes: pb.activations, lmHead: hasLmHead(m) });
  term(fig, { id: 'memory.activations.layers', label: `Activations of the layers (recompute ${input.recompute})`, unit: 'B', value: act.layersBytes, formula: act.formula, inputs: { layers: m.layers, seqLen: input.seqLen, microBatch: input.microBatch, hidden: m.hidden, heads: m.heads, ffn: m.ffn, tp: input.tp, cp: input.cp, sequenceParallel: input.sequenceParallel, bytes: pb.activations }, source: 'Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models", sec. 4 and Table 2', approximate: m.shapeAssumed });
  term(fig, { id: 'memory.activations.output', label: hasLmHead(m) ? 'Activations of the output layer (fp32 logits)' : 'Activations of the output layer (fp32 hidden states; no LM head)', unit: 'B', value: act.outputBytes, formula: hasLmHead(m) ? '4 x s/cp x b x (hidden + vocab) / tp' : '4 x s/cp x b x hidden / tp (an encoder or embedder is trained on pooled vectors: no vocabulary logits)', inputs: { seqLen: input.seqLen, microBatch: input.microBatch, hidden: m.hidden, ...(hasLmHead(m) ? { vocab: m.vocab } : {}), tp: input.tp, cp: input.cp }, source: 'Korthikanti et al. 2022 sec. 4.3: output layer and cross-entropy, 4sbh/t (1 + v/h)' });
  sum(fig, { id: 'memory.activations', label: 'Activations per device (one micro-batch)', unit: 'B', parts: ['memory.activations.layers', 'memory.activations.output'], source: 'Korthikanti et al. 2022 Table 2; 1F1B pipelining keeps L layers\' worth on the first stage' });
  term(fig, { id: 'memory.perDevice.activations', label: 'Activations per device', unit: 'B', value: act.totalBytes, formula: 'memory.activations', inputs: {}, source: 'see memory.activations', approximate: m.shapeAssumed });
  parts.push('memory.perDevice.activations');
  if (input.distill?.colocated && input.distill.data === 'logits') {
    // The teacher's bf16 weights sit beside the student's (split the same way, sharded with ZeRO-3),
    // and its fp32 logits for one micro-batch feed the distillation loss.
    const t = teacherMemoryBytes(input.distill.teacher, { tp: input.tp, pp: input.pp, shardDp: z >= 3 ? shardGroup : 1 }, input.microBatch, input.seqLen);
    term(fig, { id: 'memory.perDevice.teacherWeights', label: `Teacher weights per device (${input.distill.teacher.name}, bf16)`, unit: 'B', value: t.weights, formula: `teacher params x 2 / (tp x pp)${z >= 3 ? ' / (dp x cp)' : ''}`, inputs: { tp: input.tp, pp: input.pp, zero: z }, source: 'the teacher runs forward on the same devices (co-located distillation)', approximate: true });
    term(fig, { id: 'memory.perDevice.teacherLogits', label: 'Teacher logits per device (fp32, one micro-batch)', unit: 'B', value: t.logits, formula: 'microBatch x seqLen x vocab x 4 / tp', inputs: { microBatch: input.microBatch, seqLen: input.seqLen, vocab: input.distill.teacher.vocab, tp: input.tp }, source: 'Hinton et al. 2015: the soft targets are the teacher\'s full output distribution per token', approximate: true });
    parts.push('memory.perDevice.teacherWeights', 'memory.perDevice.teacherLogits');
  }
  const overhead = hw.runtimeOverheadBytes.value ?? 0;
  term(fig, { id: 'memory.perDevice.overhead', label: 'Runtime overhead (context, workspaces)', unit: 'B', value: overhead, formula: 'runtimeOverhead', inputs: { runtimeOverhead: overhead }, source: hw.runtimeOverheadBytes.source, approximate: true });
  parts.push('memory.perDevice.overhead');
  const perDevice = sum(fig, { id: 'memory.perDevice', label: 'Memory per device', unit: 'B', parts });
  const capacity = deviceMemoryFigures(fig, hw, perDevice);
  return { perDeviceBytes: perDevice, capacityBytes: capacity, fits: perDevice <= capacity, trainable };
}

/** Per-device bytes of a variant of the input (for suggestions). */
function perDeviceOf(input: TrainInput, totalParams: number): number {
  return trainingMemoryFigures({}, input, totalParams).perDeviceBytes;
}

/**
 * When the job does not fit: the smallest single changes that make it fit, each with its new
 * per-device memory; the largest step of a change is listed (fits: false) when none fits, and a
 * combination when no single change does.
 */
export function fitSuggestions(input: TrainInput, totalParams: number, capacity: number): Suggestion[] {
  const out: Suggestion[] = [];
  const tryIt = (change: string, variant: TrainInput) => {
    const bytes = perDeviceOf(variant, totalParams);
    return { change, perDeviceBytes: bytes, fits: bytes <= capacity };
  };
  const ladder = (candidates: [string, TrainInput][]) => {
    let last: Suggestion | undefined;
    for (const [change, variant] of candidates) {
      last = tryIt(change, variant);
      if (last.fits) break;
    }
    if (last) out.push(last);
  };
  const shardGroup = dataParallel(input) * input.cp;
  if (input.zero < 3 && shardGroup > 1) {
    ladder(([1, 2, 3] as ZeroStage[]).filter((z) => z > input.zero).map((z) => [`--zero ${z}`, { ...input, zero: z }]));
  }
  const stronger: Record<Recompute, Recompute[]> = { none: ['selective', 'full'], selective: ['full'], full: [] };
  ladder(stronger[input.recompute].map((r) => [`--recompute ${r}`, { ...input, recompute: r }]));
  if (input.microBatch > 1) {
    // The largest smaller micro-batch that fits (memory grows with it): a binary search, so the
    // work is log2(micro-batch) estimates however large the micro-batch is.
    const at = (b: number) => tryIt(`--micro-batch ${b}`, { ...input, microBatch: b });
    let best = at(1);
    for (let lo = 1, hi = input.microBatch - 1; best.fits && lo < hi; ) {
      const mid = Math.ceil((lo + hi) / 2);
      const here = at(mid);
      if (here.fits) [lo, best] = [mid, here];
      else hi = mid - 1;
    }
    out.push(best);
  }
  const moreDevices = (base: TrainInput, prefix: string) => {
    if (base.zero === 0) return;
    const unit = base.tp * base.pp * base.cp;
    const candidates: [string, TrainInput][] = [];
    for (let dp = dataParallel(base) * 2; dp * unit <= 1 << 20; dp *= 2) candidates.push([`${prefix}--count ${dp * unit}`, { ...base, count: dp * unit }]);
    ladder(candidates);
  };
  moreDevices(input, '');
  if (!out.some((s) => s.fits)) {
    const all: TrainInput = { ...input, zero: 3, recompute: 'full', microBatch: 1 };
    const prefix = [input.zero !== 3 && '--zero 3', input.recompute !== 'full' && '--recompute full', input.microBatch !== 1 && '--micro-batch 1', ''].filter((x) => x !== false).join(' ');
    const here = tryIt(prefix.trim(), all);
    if (here.fits) out.push(here);
    else moreDevices(all, prefix);
  }
  return out;
}

/**
 * Training FLOPs, time, cost, energy, and memory per device, for pretraining or fine-tuning
 * `input.model` on `input.count` devices. Pure: no I/O, no globals.
 *
 * @example LLaMA-65B (80 layers, hidden 8192, vocab 32000, 65.29e9 params), 1.4e12 tokens of
 * 2048 on A100-80GB at 50% utilisation: (6 x 65.03e9 + 12 x 80 x 2048 x 8192) x 1.4e12 FLOPs
 * = 5.70e23 model FLOPs -> about 1.03e6 GPU-hours (paper: 1,022,362).
 */
export function train(input: TrainInput, calibration: Calibration = CALIBRATION): TrainEstimate {
  return trainWithWork(input, calibration).estimate;
}

/**
 * train(), together with the work of its optimizer step (TrainingStepWork): what the calibration
 * fit re-times under other training parameters (scripts/accuracy-lib.ts).
 */
export function trainWithWork(input: TrainInput, calibration: Calibration = CALIBRATION): { estimate: TrainEstimate; work: TrainingStepWork } {
  const figures: Figures = {};
  const warnings: string[] = [];
  const { model: m, hardware: hw } = input;
  if (m.shapeAssumed) warnings.push(`only the parameter count is known: attention FLOPs, activations and LoRA shapes assume a Llama-like shape (${describeShape(m)}) and are approximate`);
  const params = paramsFigures(figures, m);
  const dp = dataParallel(input);

  // ---- FLOPs per token (Kaplan et al. 2020 sec. 2.1; Narayanan et al. 2021 sec. 5.1) ----
  // Forward: 2 FLOPs per matmul parameter (output head included, input embedding a lookup)
  // plus attention 4 x heads x headDim per key (QK^T and AV); backward twice the forward:
  // 6N + 12 L s h per token, the convention of Narayanan's 96BsLh^2(1 + s/6h + V/16Lh) and
  // PaLM's MFU (Chowdhery et al. 2022 App. B). LoRA/QLoRA skip the weight gradients of frozen
  // weights: 4 per frozen parameter, 6 per adapter parameter.
  const matmul = matmulParams(m, params.active, params.embedding);
  // an encoder or embedder has no vocabulary-wide output head to leave out of full recomputation
  const lmHead = hasLmHead(m) ? m.vocab * m.hidden : 0;
  const attnPerKey = attentionFlopsPerContextToken(m, 'prefill');
  const { full, local, window } = layerSplit(m);
  const keys = full * input.seqLen + local * Math.min(input.seqLen, window);
  const memory = trainingMemoryFigures(figures, input, params.total);
  const adapters = trainsAll(input.method) ? 0 : memory.trainable;
  const linearPerToken = trainsAll(input.method) ? 6 * matmul : 4 * matmul + 6 * adapters;
  const attentionPerToken = 3 * attnPerKey * keys;
  const recomputePerToken = input.recompute === 'none' ? 0 : input.recompute === 'selective' ? attnPerKey * keys : 2 * (matmul - lmHead) + attnPerKey * keys;
  const flopsSource = 'Kaplan et al. 2020 sec. 2.1; Narayanan et al. 2021 sec. 5.1 eq. 96BsLh^2(1 + s/6h + V/16Lh); PaLM App. B (6N + 12LHQT)';
  const perTokenModel = term(figures, { id: 'train.flopsPerToken', label: 'Model FLOPs per token', unit: 'FLOP', value: linearPerToken + attentionPerToken, formula: trainsAll(input.method) ? '6 x matmulParams + 3 x attnFlopsPerKey x keys' : '4 x matmulParams (frozen: no weight gradients) + 6 x adapterParams + 3 x attnFlopsPerKey x keys', inputs: { matmulParams: matmul, adapterParams: adapters, attnFlopsPerKey: attnPerKey, keys, seqLen: input.seqLen }, source: flopsSource, approximate: m.shapeAssumed });
  const recomputeSource = input.recompute === 'full' ? 'Narayanan et al. 2021 sec. 5.1: full recomputation is one extra forward pass of the layers (factor 4 instead of 3)' : 'Korthikanti et al. 2022 sec. 5: selective recomputation reruns the attention core (QK^T, softmax, AV) in the backward pass';
  term(figures, { id: 'train.recomputeFlopsPerToken', label: `Recomputation FLOPs per token (${input.recompute})`, unit: 'FLOP', value: recomputePerToken, formula: input.recompute === 'none' ? '0' : input.recompute === 'selective' ? 'attnFlopsPerKey x keys' : '2 x (matmulParams - lmHead) + attnFlopsPerKey x keys', inputs: { matmulParams: matmul, lmHead, attnFlopsPerKey: attnPerKey, keys }, source: recomputeSource, approximate: m.shapeAssumed });
  const executedPerToken = perTokenModel + recomputePerToken;

  // ---- Peak and utilisation ----
  const format = input.method === 'qlora' ? FORMATS.bf16 : FORMATS[input.precision];
  const peak = resolvePeak(hw, format, activationFormat(format));
  if (peak.warning) warnings.push(peak.warning);
  term(figures, { id: 'train.peakFlopsPerSecond', label: `Dense ${peak.cls} peak per device`, unit: 'FLOP/s', value: peak.flopsPerSecond, formula: 'hardware profile', inputs: { device: hw.id, peakClass: peak.cls }, source: peak.source });

  // ---- The step's work (independent of the fitted utilisation) ----
  const tokensPerStep = input.globalBatch * input.seqLen;
  const microBatches = input.globalBatch / (input.microBatch * dp);
  const virtualStages = input.virtualStages ?? 1;
  const bubble = input.pp > 1 ? (input.pp - 1) / (virtualStages * microBatches) : 0;
  // Data parallelism over dp x cp ranks (Megatron reduces gradients over both): ZeRO 0-2 all-reduce
  // the gradients (2 (n-1)/n x bytes: reduce-scatter + all-gather), ZeRO-3 / FSDP reduce-scatters them
  // and all-gathers the weights in the forward and the backward pass (Rajbhandari et al. 2020 sec. 7;
  // PyTorch FSDP FULL_SHARD). Bytes per device are its tp x pp shard.
  const pb = PRECISION_BYTES[input.precision];
  const shards = input.tp * input.pp;
  const dpRanks = dp * input.cp;
  const gradBytes = (memory.trainable / shards) * pb.gradients;
  const weightShardBytes = (params.total / shards) * pb.weights;
  const ring = dpRanks > 1 ? (dpRanks - 1) / dpRanks : 0;
  const dpBytesPerDevice = input.zero >= 3 ? ring * (gradBytes + 2 * weightShardBytes) : 2 * ring * gradBytes;
  // The data-parallel group spans nodes once the job does (ranks of one tp x pp x cp position sit on
  // different nodes). When a node holds k > 1 ranks of one group (tp x pp x cp below the node size),
  // the collective is hierarchical: a reduce-scatter inside the node, then each of the k ranks
  // exchanges its 1/k over its own NIC (NCCL's rings cross a node once per rail and use every NIC;
  // nccl-tests PERFORMANCE.md: inter-node bus bandwidth is the node's aggregate network bandwidth),
  // so the group moves its bytes at k NICs' bandwidth, at most the intra-node link's.
  const { link: dpLink } = groupLink(hw, input.count);
  const perNode = Math.max(1, Math.min(dpRanks, Math.floor(hw.devicesPerNode / shards / input.cp)));
  const spansNodes = input.count > hw.devicesPerNode;
  const dpBandwidth = spansNodes && perNode > 1 ? Math.min((dpLink.bandwidth.value ?? 0) * perNode, hw.intraNode?.bandwidth.value ?? Infinity) : (dpLink.bandwidth.value ?? 0);
  const work: TrainingStepWork = {
    tokensPerStep, count: input.count, peakFlopsPerSecond: peak.flopsPerSecond, modelFlopsPerToken: perTokenModel, executedFlopsPerToken: executedPerToken,
    cls: hardwareClass(hw), fp8: peak.cls === 'fp8', moe: m.moe !== undefined, bubble, scheduleStated: input.pp === 1 || input.virtualStages !== undefined,
    dpBytesPerDevice, dpBandwidth, dpLink: spansNodes && perNode > 1 ? `${dpLink.name}, ${perNode} NICs per node (hierarchical)` : dpLink.name,
  };
  const fitted = calibration.training;
  const tparams = fitted ?? TRAINING_DEFAULTS;
  const t = trainingStepTime(work, tparams, input.mfu);
  const own = tparams.byClass[work.cls];
  const approx = input.mfu === undefined && (fitted === undefined || own === undefined);
  const fitSource = fitted ? `fitted on the validation suite's training runs (src/estimate/calibration.ts; ${calibration.source}; docs/accuracy.md)` : 'unfitted round defaults (training.ts TRAINING_DEFAULTS): this calibration carries no training fit';
  if (input.mfu === undefined && (fitted === undefined || own === undefined)) warnings.push(`${hw.name}: no fitted training data for this device class (${work.cls}); the utilisation is the gpu value or a round default (pass --mfu)`);

  // ---- Utilisation, step time and throughput ----
  if (input.mfu !== undefined) {
    if (t.util > 1) warnings.push(`--mfu ${input.mfu} with ${input.recompute} recomputation means executing ${(t.util * 100).toFixed(0)}% of the peak, which is impossible`);
    term(figures, { id: 'train.utilisation', label: 'Utilisation of executed FLOPs (HFU)', unit: 'fraction', value: t.util, formula: 'mfu x executedFlops / modelFlops', inputs: { mfu: input.mfu, executedPerToken, modelPerToken: perTokenModel }, source: '--mfu' });
  } else {
    term(figures, { id: 'train.utilisation', label: `Utilisation of executed FLOPs while computing (${own ? work.cls : 'gpu'} class${work.fp8 ? ', fp8' : ''}${work.moe ? ', MoE' : ''})`, unit: 'fraction', value: t.util, formula: `utilMax${work.fp8 ? ' x fp8Factor' : ''}${work.moe ? ' x moeFactor' : ''}`, inputs: { utilMax: (own ?? tparams.byClass.gpu).utilMax, fp8Factor: tparams.fp8Factor, moeFactor: tparams.moeFactor, deviceClass: work.cls }, source: fitSource, approximate: approx });
  }
  term(figures, { id: 'train.pipelineBubble', label: 'Pipeline bubble (fraction of compute time)', unit: 'fraction', value: bubble * (work.scheduleStated ? 1 : tparams.bubbleScale), formula: work.scheduleStated ? (virtualStages > 1 ? '(pp - 1) / (virtualStages x microBatchesPerStep)' : '(pp - 1) / microBatchesPerStep') : '(pp - 1) / microBatchesPerStep x bubbleScale (schedule not stated)', inputs: { pp: input.pp, microBatchesPerStep: microBatches, virtualStages, bubbleScale: tparams.bubbleScale }, source: `${virtualStages > 1 ? 'Narayanan et al. 2021 sec. 2.2.2: interleaved 1F1B bubble fraction (p - 1) / (v x m)' : 'Narayanan et al. 2021 sec. 2.2.1: 1F1B bubble fraction (p - 1) / m'}${work.scheduleStated ? '' : `; bubbleScale ${fitSource} (production schedules interleave stages or overlap the bubble: Llama 3 sec. 3.3.2, DeepSeek-V3 DualPipe)`}` });
  term(figures, { id: 'train.dataParallelSeconds', label: 'Exposed data-parallel communication per step', unit: 's', value: t.dpSeconds, formula: input.zero >= 3 ? 'max(0, (n-1)/n x (gradients + 2 x weights shard) / bandwidth - dpOverlap x computeSeconds)' : 'max(0, 2 (n-1)/n x gradients shard / bandwidth - dpOverlap x computeSeconds)', inputs: { ranks: dpRanks, bytesPerDevice: dpBytesPerDevice, link: work.dpLink, bandwidth: work.dpBandwidth, ranksPerNode: perNode, computeSeconds: t.computeSeconds, dpOverlap: tparams.dpOverlap }, source: `ring reduce-scatter / all-gather (Patarasuk & Yuan 2009; ZeRO, Rajbhandari et al. 2020 sec. 7); ranks sharing a node reduce inside it and use one NIC each (nccl-tests PERFORMANCE.md bus bandwidth); ${dpLink.bandwidth.source}; dpOverlap (share of the compute time that hides the traffic) ${fitSource}`, approximate: true });
  // Achieved MFU: model FLOPs over the whole step time, bubble and exposed communication included.
  term(figures, { id: 'train.mfu', label: 'Model FLOPs utilisation (MFU, whole step)', unit: 'fraction', value: t.mfu, formula: 'tokensPerStep x modelFlopsPerToken / (stepSeconds x count x peak)', inputs: { tokensPerStep, modelPerToken: perTokenModel, executedPerToken, utilisation: t.util }, source: 'MFU counts model FLOPs only, not recomputation (Chowdhery et al. 2022 App. B; Korthikanti et al. 2022 sec. 6)', approximate: approx });
  const stepSeconds = term(figures, { id: 'train.stepSeconds', label: 'Time per optimizer step', unit: 's', value: t.stepSeconds, formula: 'globalBatch x seqLen x executedFlopsPerToken / (count x peak x utilisation) x (1 + bubble) + exposed data-parallel communication', inputs: { globalBatch: input.globalBatch, seqLen: input.seqLen, executedFlopsPerToken: executedPerToken, count: input.count, peak: peak.flopsPerSecond, utilisation: t.util, computeSeconds: t.computeSeconds, bubbleSeconds: t.bubbleSeconds, dataParallelSeconds: t.dpSeconds }, source: 'compute at the utilisation above, the pipeline bubble, and the data-parallel traffic compute does not hide', approximate: approx });
  const perDeviceTps = term(figures, { id: 'train.tokensPerSecondPerDevice', label: 'Tokens per second per device', unit: 'tokens/s', value: tokensPerStep / stepSeconds / input.count, formula: 'globalBatch x seqLen / stepSeconds / count', inputs: { tokensPerStep, stepSeconds, count: input.count }, source: 'throughput of one step', approximate: approx });
  term(figures, { id: 'train.tokensPerSecond', label: 'Tokens per second (all devices)', unit: 'tokens/s', value: perDeviceTps * input.count, formula: 'tokensPerSecondPerDevice x count', inputs: { count: input.count }, source: 'throughput of one step', approximate: approx });
  term(figures, { id: 'train.flopsPerSecondPerDevice', label: 'Executed FLOP/s per device', unit: 'FLOP/s', value: perDeviceTps * executedPerToken, formula: 'tokensPerSecondPerDevice x executedFlopsPerToken', inputs: { executedPerToken }, source: 'hardware FLOPs rate, recomputation included', approximate: approx });

  // ---- Totals over the run ----
  let tokens = input.tokens;
  const tokensDefaulted = tokens === undefined && trainsAll(input.method);
  if (tokensDefaulted) {
    tokens = term(figures, { id: 'train.tokens', label: 'Training tokens (compute-optimal default)', unit: 'tokens', value: CHINCHILLA_TOKENS_PER_PARAM * params.total, formula: '20 x params.total', inputs: { params: params.total }, source: 'Hoffmann et al. 2022 ("Chinchilla") Table 3: compute-optimal training uses about 20 tokens per parameter', approximate: true });
    warnings.push(`no --tokens given: using the compute-optimal ${CHINCHILLA_TOKENS_PER_PARAM} tokens per parameter (Hoffmann et al. 2022), ${tokens.toExponential(3)} tokens`);
  } else if (tokens !== undefined) {
    term(figures, { id: 'train.tokens', label: 'Training tokens', unit: 'tokens', value: tokens, formula: '--tokens', inputs: {}, source: 'user input' });
  } else {
    warnings.push('no --tokens given: total time, device-hours and cost need the fine-tuning tokens (dataset tokens x epochs)');
  }
  if (tokens !== undefined) {
    term(figures, { id: 'train.flops.model', label: 'Model FLOPs', unit: 'FLOP', value: tokens * perTokenModel, formula: 'tokens x flopsPerToken', inputs: { tokens, flopsPerToken: perTokenModel }, source: flopsSource, approximate: m.shapeAssumed });
    term(figures, { id: 'train.flops.recompute', label: 'Recomputation FLOPs', unit: 'FLOP', value: tokens * recomputePerToken, formula: 'tokens x recomputeFlopsPerToken', inputs: { tokens, recomputeFlopsPerToken: recomputePerToken }, source: recomputeSource, approximate: m.shapeAssumed });
    sum(figures, { id: 'train.flops', label: 'Training FLOPs (model + recomputation)', unit: 'FLOP', parts: ['train.flops.model', 'train.flops.recompute'], source: flopsSource });
    // The steps alone (the throughput measured above), then a whole run: time outside the steps
    // (restarts after failures, checkpoints, evaluation) at goodput (WHOLE_RUN_GOODPUT or --goodput).
    const seconds = term(figures, { id: 'train.seconds', label: 'Wall-clock time (training steps)', unit: 's', value: (tokens / tokensPerStep) * stepSeconds, formula: 'tokens / (globalBatch x seqLen) x stepSeconds', inputs: { tokens, tokensPerStep, stepSeconds }, source: 'steps at the step time above, back to back', approximate: approx });
    term(figures, { id: 'train.steps', label: 'Optimizer steps', unit: 'count', value: tokens / tokensPerStep, formula: 'tokens / (globalBatch x seqLen)', inputs: { tokens, tokensPerStep }, source: 'definition' });
    const deviceHours = term(figures, { id: 'train.deviceHours', label: 'Device-hours (training steps)', unit: 'count', value: (seconds * input.count) / secondsInHour, formula: 'seconds x count / 3600', inputs: { seconds, count: input.count }, source: 'definition', approximate: approx });
    const goodput = term(figures, { id: 'train.goodput', label: 'Share of a whole run spent in training steps (goodput)', unit: 'fraction', value: input.goodput ?? WHOLE_RUN_GOODPUT.value, formula: input.goodput !== undefined ? '--goodput' : 'goodput', inputs: {}, source: input.goodput !== undefined ? '--goodput' : WHOLE_RUN_GOODPUT.source, approximate: input.goodput === undefined });
    term(figures, { id: 'train.secondsWithGoodput', label: 'Wall-clock time of a whole run (at goodput)', unit: 's', value: seconds / goodput, formula: 'train.seconds / goodput', inputs: { seconds, goodput }, source: 'the steps plus the time outside them (restarts, checkpoints, evaluation)', approximate: true });
    const wholeRunHours = term(figures, { id: 'train.deviceHoursWithGoodput', label: 'Device-hours of a whole run (at goodput)', unit: 'count', value: deviceHours / goodput, formula: 'train.deviceHours / goodput', inputs: { deviceHours, goodput }, source: 'the devices are held through the time outside the steps too', approximate: true });
    if (input.price) {
      term(figures, { id: 'train.usd', label: 'Cost (training steps)', unit: 'USD', value: deviceHours * input.price.usdPerHour, formula: 'deviceHours x usdPerDeviceHour', inputs: { deviceHours, usdPerDeviceHour: input.price.usdPerHour }, source: input.price.source, approximate: approx });
      term(figures, { id: 'train.usdWithGoodput', label: 'Cost of a whole run (at goodput)', unit: 'USD', value: wholeRunHours * input.price.usdPerHour, formula: 'deviceHoursWithGoodput x usdPerDeviceHour', inputs: { deviceHoursWithGoodput: wholeRunHours, usdPerDeviceHour: input.price.usdPerHour }, source: input.price.source, approximate: true });
    } else warnings.push(`no price known for ${hw.name}; pass --price <USD per device-hour> for the cost`);
    const watts = input.powerWatts ?? hw.tdpWatts.value;
    if (watts) term(figures, { id: 'train.energy', label: 'Energy (devices only)', unit: 'J', value: watts * input.count * seconds, formula: 'powerPerDevice x count x seconds', inputs: { powerPerDevice: watts, count: input.count, seconds }, source: input.powerWatts !== undefined ? '--power-watts' : `${hw.tdpWatts.source}; compute-bound training runs near TDP (board power only, no host, network or cooling)`, approximate: true });
    if (watts && input.carbon) carbonTerm(figures, input.carbon, { id: 'train.co2eKg', label: 'CO2e (location-based)', energyId: 'train.energy' });
    else if (input.carbon) warnings.push(`no TDP known for ${hw.name}; pass --power-watts <W per device> for energy and carbon`);
  }

  if (input.distill) distillFigures(figures, input.distill, { tokens, seqLen: input.seqLen, deviceHours: figures['train.deviceHours']?.value, usd: figures['train.usd']?.value }, warnings);

  // Uncertainty bands from the validation suite's training residuals (bands.ts, docs/accuracy.md).
  if (input.mfu === undefined) applyTrainingBands(figures, calibration);
  applyMemoryBands(figures);

  let suggestions: Suggestion[] = [];
  if (!memory.fits) {
    warnings.push(`does not fit: needs ${toGiB(memory.perDeviceBytes).toFixed(1)} GiB per device, ${hw.name} has ${toGiB(memory.capacityBytes).toFixed(1)} GiB`);
    suggestions = fitSuggestions(input, params.total, memory.capacityBytes);
  }
  if (input.seqLen > m.maxContext) warnings.push(`--seq-len ${input.seqLen} exceeds the model's maximum of ${m.maxContext} tokens`);
  // Encoders and embedders: what is modelled, and what is not (no confident wrong answer).
  if (!hasLmHead(m)) warnings.push(`${m.name} is ${m.encoder ? 'an encoder' : `an ${m.task === 'rerank' ? 'reranker' : 'embedder'}`}: trained as it is served (contrastive or bi-encoder fine-tuning on pooled vectors, as Sentence-Transformers and FlagEmbedding do): forward and backward over every token with ${m.encoder ? 'bidirectional' : 'its'} attention over the whole sequence, no LM head, no decoding; masked-language-model pretraining's prediction head (hidden x vocab on the masked tokens) is not counted`);
  warnings.push(...notMeaningful(figures));

  const estimate: TrainEstimate = {
    schemaVersion: 1,
    input: {
      model: summarizeModel(m),
      hardware: { id: hw.id, name: hw.name, count: input.count, usdPerDeviceHour: input.price?.usdPerHour ?? null },
      training: {
        method: input.method, precision: input.precision, compute: peak.cls, optimizer: input.optimizer, zero: input.zero, recompute: input.recompute,
        sequenceParallel: input.sequenceParallel, tp: input.tp, pp: input.pp, cp: input.cp, dp,
        seqLen: input.seqLen, microBatch: input.microBatch, globalBatch: input.globalBatch, gradientAccumulation: microBatches,
        tokens: tokens ?? null, tokensDefaulted, lora: trainsAll(input.method) ? null : input.lora,
      },
    },
    figures,
    fits: memory.fits,
    suggestions,
    warnings,
  };
  return { estimate, work };
}

/** Default LoRA targets and rank per method, with their sources. */
export const LORA_DEFAULTS: Record<'lora' | 'qlora', { rank: number; targets: LoraTarget[]; source: string }> = {
  lora: { rank: 8, targets: ['q', 'v'], source: 'Hu et al. 2021 sec. 7.1 adapt W_q and W_v; r = 8 is the PEFT LoraConfig and LitGPT default' },
  qlora: { rank: 64, targets: [...LORA_TARGETS], source: 'Dettmers et al. 2023 sec. 4 and App. B: LoRA r = 64 on every linear layer of the transformer blocks' },
};
