import type { HardwareSpec } from '../spec/hardware.js';
import { describeShape, summarizeModel, type ModelSpec, type ModelSummary } from '../spec/model.js';
import { activationFormat, FORMATS } from '../spec/precision.js';
import { applyTrainingBands } from './bands.js';
import { CALIBRATION } from './calibration.js';
import type { Calibration } from './efficiency.js';
import { secondsInHour, toGiB } from '../units.js';
import { attentionFlopsPerContextToken, matmulParams } from './flops.js';
import { layerSplit } from './memory.js';
import { paramsFigures } from './params.js';
import { resolvePeak } from './peak.js';
import { sum, term, type Figures } from './terms.js';
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
  price?: { usdPerHour: number; source: string };
  /** average power per device, W (--power-watts); default TDP */
  powerWatts?: number;
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
 * Default training utilisation (executed FLOPs, recomputation included, over the dense peak) by
 * hardware family, from published runs. A table keyed by vendor, kind and product line, matched
 * in order; the last row is the fallback.
 */
export const TRAINING_UTILISATION: { family: string; match: (hw: HardwareSpec) => boolean; value: number; source: string; approximate?: boolean }[] = [
  {
    family: 'NVIDIA Blackwell',
    match: (hw) => hw.vendor === 'nvidia' && /\b(G?B[123]00|Blackwell)\b/i.test(hw.name),
    value: 0.4,
    source: 'no published large-scale runs found; assumed equal to Hopper (Llama 3 405B: 38-43% MFU on H100, Dubey et al. 2024 Table 4)',
    approximate: true,
  },
  {
    family: 'NVIDIA Hopper',
    match: (hw) => hw.vendor === 'nvidia' && /\b(G?H(100|200|800|20))\b/i.test(hw.name),
    value: 0.4,
    source: 'Llama 3 405B pretraining: 38-43% bf16 MFU on 8k-16k H100 (Dubey et al. 2024, "The Llama 3 Herd of Models", Table 4); MPT-7B 46.4% on 8 H100 (llm-foundry scripts/train/benchmarking/README.md); NeMo 24.07 fp8 GPT-3 175B 842 TFLOP/s = 43% of the fp8 peak',
  },
  {
    family: 'NVIDIA Ampere (A100/A800)',
    match: (hw) => hw.vendor === 'nvidia' && /\bA(100|800)\b/i.test(hw.name),
    value: 0.5,
    source: 'LLaMA 7B-65B on 2048 A100-80GB: 47-55% implied by Touvron et al. 2023 Table 15 GPU-hours; MPT-30B 55.3% MFU (llm-foundry benchmarking README); OPT-175B 147 TFLOP/s = 47% (Zhang et al. 2022 sec. 2.4); Megatron-LM 1T 163 TFLOP/s = 52% (Narayanan et al. 2021)',
  },
  {
    family: 'NVIDIA Volta',
    match: (hw) => hw.vendor === 'nvidia' && /V100/i.test(hw.name),
    value: 0.3,
    source: 'Megatron-LM on V100: 39 TFLOP/s of 125 = 30% on one GPU (Shoeybi et al. 2019, abstract)',
  },
  {
    family: 'Google TPU',
    match: (hw) => hw.vendor === 'google' && hw.kind === 'tpu',
    value: 0.46,
    source: 'PaLM 540B: 46.2% MFU on 6144 TPU v4 (Chowdhery et al. 2022 Table 3); MaxText Llama-3.1-8B 45.5% on v6e-256 (AI-Hypercomputer/maxtext docs/reference/models/tiering.md)',
  },
  {
    family: 'other accelerators',
    match: () => true,
    value: 0.35,
    source: 'no published training runs collected for this family; assumed 35%, below the best published GPU runs (pass --mfu)',
    approximate: true,
  },
];

export function trainingUtilisation(hw: HardwareSpec): (typeof TRAINING_UTILISATION)[number] {
  return TRAINING_UTILISATION.find((row) => row.match(hw))!;
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
  const full = method === 'full';

  // Trainable parameters
  let trainable: number;
  if (full) {
    trainable = term(fig, 'params.trainable', 'Trainable parameters', 'params', totalParams, 'params.total (full fine-tuning / pretraining)', { total: totalParams }, 'every parameter is trained');
  } else {
    const lora = loraParams(m, input.lora.rank, input.lora.targets);
    trainable = term(fig, 'params.trainable', `Trainable parameters (LoRA r=${input.lora.rank} on ${input.lora.targets.join(', ')})`, 'params', lora.params, 'rank x sum over adapted matrices of (dIn + dOut)', { rank: input.lora.rank, targets: input.lora.targets.join(','), adaptedMatrices: lora.matrices }, 'LoRA (Hu et al. 2021) sec. 4.1: W + BA with B (dOut x r) and A (r x dIn); base weights frozen', m.shapeAssumed);
  }

  // Weights (whole model)
  if (method === 'qlora') {
    const quantized = Math.min(totalParams, linearTotal);
    const kept = totalParams - quantized;
    term(fig, 'memory.weights.base', 'Frozen base weights (NF4, double quantization)', 'B', (quantized * NF4_DQ_BITS) / 8 + kept * 2, 'linearParams x 4.127 bits / 8 + (embeddings, head, norms) x 2 B', { linearParams: quantized, bitsPerWeight: NF4_DQ_BITS, keptParams: kept }, 'QLoRA (Dettmers et al. 2023) sec. 3: NF4 blocks of 64, 8-bit scales, double quantization; bitsandbytes quantizes Linear layers only (embeddings and lm_head stay 16-bit)', m.shapeAssumed);
    term(fig, 'memory.weights.adapters', 'LoRA adapters (bf16)', 'B', trainable * 2, 'trainable x 2 B', { trainable }, 'QLoRA sec. 3: 16-bit (bf16) adapters');
  } else if (method === 'lora') {
    term(fig, 'memory.weights.base', `Frozen base weights (${precision === 'fp32' ? 'fp32' : '16-bit'})`, 'B', totalParams * pb.weights, 'params.total x bytes', { params: totalParams, bytes: pb.weights }, pb.source);
    term(fig, 'memory.weights.adapters', 'LoRA adapters', 'B', trainable * pb.weights, 'trainable x bytes', { trainable, bytes: pb.weights }, pb.source);
  } else {
    term(fig, 'memory.weights.base', 'Model weights', 'B', totalParams * pb.weights, 'params.total x bytes', { params: totalParams, bytes: pb.weights }, pb.source);
  }
  const weights = sum(fig, 'memory.weights', 'Weights', 'B', full ? ['memory.weights.base'] : ['memory.weights.base', 'memory.weights.adapters']);

  // Gradients and optimizer states: trainable parameters only.
  const gradientBytes = method === 'qlora' ? 2 : pb.gradients;
  const gradients = term(fig, 'memory.gradients', 'Gradients', 'B', trainable * gradientBytes, 'trainable x bytes', { trainable, bytes: gradientBytes }, method === 'qlora' ? 'QLoRA: bf16 adapter gradients' : pb.source);
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
  const optimizerStates = term(fig, 'memory.optimizerStates', 'Optimizer states (incl. any fp32 master copy)', 'B', trainable * masterBytes + stateBytes, stateFormula, inputs, `${OPTIMIZER_SOURCE[input.optimizer]}; master copy: ${masterBytes ? pb.source : method === 'qlora' ? 'none (QLoRA trains bf16 adapters directly, artidoro/qlora qlora.py)' : 'none in fp32 training'}`);
  sum(fig, 'memory.modelStates', 'Weights + gradients + optimizer states (before sharding)', 'B', ['memory.weights', 'memory.gradients', 'memory.optimizerStates']);
  term(fig, 'memory.bytesPerTrainableParam', 'Model-state bytes per trainable parameter', 'B', (weights - (full ? 0 : fig['memory.weights.base'].value) + gradients + optimizerStates) / trainable, '(trainable weights + gradients + optimizer states) / trainable', { trainable }, 'ZeRO (Rajbhandari et al. 2020) sec. 3.1: 2 + 2 + 12 = 16 bytes for mixed-precision Adam');

  // Per device: TP and PP split the model evenly (embeddings and head too, vocab-parallel);
  // ZeRO stage 1 shards optimizer states, 2 also gradients, 3 (FSDP FULL_SHARD) also
  // weights, over the data-parallel (x context-parallel) ranks (Rajbhandari et al. 2020 sec. 5;
  // Megatron-Core shards over DP x CP).
  const modelShard = input.tp * input.pp;
  const z = input.zero;
  const zeroSource = 'Tensor/pipeline split (Narayanan et al. 2021); ZeRO partitioning (Rajbhandari et al. 2020 sec. 5: P_os, P_os+g, P_os+g+p)';
  const approxSplit = input.pp > 1;
  const perDeviceWeights = weights / modelShard / (z >= 3 ? shardGroup : 1);
  term(fig, 'memory.perDevice.weights', 'Weights per device', 'B', perDeviceWeights, `weights / (tp x pp)${z >= 3 ? ' / (dp x cp)' : ''}`, { weights, tp: input.tp, pp: input.pp, dp, cp: input.cp, zero: z }, zeroSource, approxSplit);
  term(fig, 'memory.perDevice.gradients', 'Gradients per device', 'B', gradients / modelShard / (z >= 2 ? shardGroup : 1), `gradients / (tp x pp)${z >= 2 ? ' / (dp x cp)' : ''}`, { gradients, tp: input.tp, pp: input.pp, dp, cp: input.cp, zero: z }, zeroSource, approxSplit);
  term(fig, 'memory.perDevice.optimizerStates', 'Optimizer states per device', 'B', optimizerStates / modelShard / (z >= 1 ? shardGroup : 1), `optimizerStates / (tp x pp)${z >= 1 ? ' / (dp x cp)' : ''}`, { optimizerStates, tp: input.tp, pp: input.pp, dp, cp: input.cp, zero: z }, zeroSource, approxSplit);
  const parts = ['memory.perDevice.weights', 'memory.perDevice.gradients', 'memory.perDevice.optimizerStates'];
  if (z >= 3 && shardGroup > 1) {
    // ZeRO-3 / FSDP all-gathers a layer's weights before using it and prefetches the next.
    const layerWeights = weights / m.layers / modelShard;
    term(fig, 'memory.perDevice.gatherBuffers', 'ZeRO-3 gathered layers (current + prefetched)', 'B', 2 * layerWeights, '2 x weights / layers / (tp x pp)', { weights, layers: m.layers }, 'DeepSpeed ZeRO-3 / PyTorch FSDP: unsharded parameters of the running and the prefetched layer', true);
    parts.push('memory.perDevice.gatherBuffers');
  }

  const act = activationBytes(m, { seqLen: input.seqLen, microBatch: input.microBatch, tp: input.tp, cp: input.cp, sequenceParallel: input.sequenceParallel, recompute: input.recompute, bytes: pb.activations });
  term(fig, 'memory.activations.layers', `Activations of the layers (recompute ${input.recompute})`, 'B', act.layersBytes, act.formula, { layers: m.layers, seqLen: input.seqLen, microBatch: input.microBatch, hidden: m.hidden, heads: m.heads, ffn: m.ffn, tp: input.tp, cp: input.cp, sequenceParallel: input.sequenceParallel, bytes: pb.activations }, 'Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models", sec. 4 and Table 2', m.shapeAssumed);
  term(fig, 'memory.activations.output', 'Activations of the output layer (fp32 logits)', 'B', act.outputBytes, '4 x s/cp x b x (hidden + vocab) / tp', { seqLen: input.seqLen, microBatch: input.microBatch, hidden: m.hidden, vocab: m.vocab, tp: input.tp, cp: input.cp }, 'Korthikanti et al. 2022 sec. 4.3: output layer and cross-entropy, 4sbh/t (1 + v/h)');
  sum(fig, 'memory.activations', 'Activations per device (one micro-batch)', 'B', ['memory.activations.layers', 'memory.activations.output'], 'Korthikanti et al. 2022 Table 2; 1F1B pipelining keeps L layers\' worth on the first stage');
  term(fig, 'memory.perDevice.activations', 'Activations per device', 'B', act.totalBytes, 'memory.activations', {}, 'see memory.activations', m.shapeAssumed);
  parts.push('memory.perDevice.activations');
  const overhead = hw.runtimeOverheadBytes.value ?? 0;
  term(fig, 'memory.perDevice.overhead', 'Runtime overhead (context, workspaces)', 'B', overhead, 'runtimeOverhead', { runtimeOverhead: overhead }, hw.runtimeOverheadBytes.source, true);
  parts.push('memory.perDevice.overhead');
  const perDevice = sum(fig, 'memory.perDevice', 'Memory per device', 'B', parts);
  const capacity = hw.memoryBytes.value!;
  term(fig, 'memory.capacityPerDevice', 'Device memory', 'B', capacity, 'hardware memory capacity', { device: hw.id }, hw.memoryBytes.source);
  term(fig, 'memory.headroom', 'Free memory per device', 'B', Math.max(0, capacity - perDevice), 'max(0, capacity - perDevice)', { capacity, perDevice }, 'difference');
  term(fig, 'memory.shortfall', 'Missing memory per device', 'B', Math.max(0, perDevice - capacity), 'max(0, perDevice - capacity)', { capacity, perDevice }, 'difference');
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
    const sizes = Array.from({ length: input.microBatch - 1 }, (_, i) => input.microBatch - 1 - i);
    ladder(sizes.map((b) => [`--micro-batch ${b}`, { ...input, microBatch: b }]));
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
  const lmHead = m.vocab * m.hidden;
  const attnPerKey = attentionFlopsPerContextToken(m, 'prefill');
  const { full, local, window } = layerSplit(m);
  const keys = full * input.seqLen + local * Math.min(input.seqLen, window);
  const memory = trainingMemoryFigures(figures, input, params.total);
  const adapters = input.method === 'full' ? 0 : memory.trainable;
  const linearPerToken = input.method === 'full' ? 6 * matmul : 4 * matmul + 6 * adapters;
  const attentionPerToken = 3 * attnPerKey * keys;
  const recomputePerToken = input.recompute === 'none' ? 0 : input.recompute === 'selective' ? attnPerKey * keys : 2 * (matmul - lmHead) + attnPerKey * keys;
  const flopsSource = 'Kaplan et al. 2020 sec. 2.1; Narayanan et al. 2021 sec. 5.1 eq. 96BsLh^2(1 + s/6h + V/16Lh); PaLM App. B (6N + 12LHQT)';
  const perTokenModel = term(figures, 'train.flopsPerToken', 'Model FLOPs per token', 'FLOP', linearPerToken + attentionPerToken, input.method === 'full' ? '6 x matmulParams + 3 x attnFlopsPerKey x keys' : '4 x matmulParams (frozen: no weight gradients) + 6 x adapterParams + 3 x attnFlopsPerKey x keys', { matmulParams: matmul, adapterParams: adapters, attnFlopsPerKey: attnPerKey, keys, seqLen: input.seqLen }, flopsSource, m.shapeAssumed);
  const recomputeSource = input.recompute === 'full' ? 'Narayanan et al. 2021 sec. 5.1: full recomputation is one extra forward pass of the layers (factor 4 instead of 3)' : 'Korthikanti et al. 2022 sec. 5: selective recomputation reruns the attention core (QK^T, softmax, AV) in the backward pass';
  term(figures, 'train.recomputeFlopsPerToken', `Recomputation FLOPs per token (${input.recompute})`, 'FLOP', recomputePerToken, input.recompute === 'none' ? '0' : input.recompute === 'selective' ? 'attnFlopsPerKey x keys' : '2 x (matmulParams - lmHead) + attnFlopsPerKey x keys', { matmulParams: matmul, lmHead, attnFlopsPerKey: attnPerKey, keys }, recomputeSource, m.shapeAssumed);
  const executedPerToken = perTokenModel + recomputePerToken;

  // ---- Peak and utilisation ----
  const format = input.method === 'qlora' ? FORMATS.bf16 : FORMATS[input.precision];
  const peak = resolvePeak(hw, format, activationFormat(format));
  if (peak.warning) warnings.push(peak.warning);
  const family = trainingUtilisation(hw);
  let util: number;
  if (input.mfu !== undefined) {
    util = (input.mfu * executedPerToken) / perTokenModel;
    if (util > 1) warnings.push(`--mfu ${input.mfu} with ${input.recompute} recomputation means executing ${(util * 100).toFixed(0)}% of the peak, which is impossible`);
    term(figures, 'train.utilisation', 'Utilisation of executed FLOPs (HFU)', 'fraction', util, 'mfu x executedFlops / modelFlops', { mfu: input.mfu, executedPerToken, modelPerToken: perTokenModel }, '--mfu');
  } else {
    util = term(figures, 'train.utilisation', `Utilisation of executed FLOPs (${family.family} default)`, 'fraction', family.value, 'per hardware family, from published runs', { family: family.family }, family.source, family.approximate);
    if (family.approximate) warnings.push(`${hw.name}: ${family.source}`);
  }
  term(figures, 'train.peakFlopsPerSecond', `Dense ${peak.cls} peak per device`, 'FLOP/s', peak.flopsPerSecond, 'hardware profile', { device: hw.id, peakClass: peak.cls }, peak.source);

  // ---- Step time and throughput ----
  const tokensPerStep = input.globalBatch * input.seqLen;
  const microBatches = input.globalBatch / (input.microBatch * dp);
  const virtualStages = input.virtualStages ?? 1;
  const bubble = term(figures, 'train.pipelineBubble', 'Pipeline bubble (fraction of compute time)', 'fraction', input.pp > 1 ? (input.pp - 1) / (virtualStages * microBatches) : 0, virtualStages > 1 ? '(pp - 1) / (virtualStages x microBatchesPerStep)' : '(pp - 1) / microBatchesPerStep', { pp: input.pp, microBatchesPerStep: microBatches, virtualStages }, virtualStages > 1 ? 'Narayanan et al. 2021 sec. 2.2.2: interleaved 1F1B bubble fraction (p - 1) / (v x m)' : 'Narayanan et al. 2021 sec. 2.2.1: 1F1B bubble fraction (p - 1) / m');
  const approx = input.mfu === undefined && family.approximate === true;
  // Achieved MFU: model FLOPs over the whole step time, pipeline bubble included.
  term(figures, 'train.mfu', 'Model FLOPs utilisation (MFU, bubble included)', 'fraction', (util * perTokenModel) / executedPerToken / (1 + bubble), 'utilisation x modelFlops / executedFlops / (1 + bubble)', { utilisation: util, modelPerToken: perTokenModel, executedPerToken, bubble }, 'MFU counts model FLOPs only, not recomputation (Chowdhery et al. 2022 App. B; Korthikanti et al. 2022 sec. 6)', input.mfu === undefined && family.approximate);
  const stepSeconds = term(figures, 'train.stepSeconds', 'Time per optimizer step', 's', ((tokensPerStep * executedPerToken) / (input.count * peak.flopsPerSecond * util)) * (1 + bubble), 'globalBatch x seqLen x executedFlopsPerToken / (count x peak x utilisation) x (1 + bubble)', { globalBatch: input.globalBatch, seqLen: input.seqLen, executedFlopsPerToken: executedPerToken, count: input.count, peak: peak.flopsPerSecond, utilisation: util, bubble }, 'compute-bound training at the utilisation above; data-parallel communication assumed overlapped', approx);
  const perDeviceTps = term(figures, 'train.tokensPerSecondPerDevice', 'Tokens per second per device', 'tokens/s', tokensPerStep / stepSeconds / input.count, 'globalBatch x seqLen / stepSeconds / count', { tokensPerStep, stepSeconds, count: input.count }, 'throughput of one step', approx);
  term(figures, 'train.tokensPerSecond', 'Tokens per second (all devices)', 'tokens/s', perDeviceTps * input.count, 'tokensPerSecondPerDevice x count', { count: input.count }, 'throughput of one step', approx);
  term(figures, 'train.flopsPerSecondPerDevice', 'Executed FLOP/s per device', 'FLOP/s', perDeviceTps * executedPerToken, 'tokensPerSecondPerDevice x executedFlopsPerToken', { executedPerToken }, 'hardware FLOPs rate, recomputation included', approx);

  // ---- Totals over the run ----
  let tokens = input.tokens;
  const tokensDefaulted = tokens === undefined && input.method === 'full';
  if (tokensDefaulted) {
    tokens = term(figures, 'train.tokens', 'Training tokens (compute-optimal default)', 'tokens', CHINCHILLA_TOKENS_PER_PARAM * params.total, '20 x params.total', { params: params.total }, 'Hoffmann et al. 2022 ("Chinchilla") Table 3: compute-optimal training uses about 20 tokens per parameter', true);
    warnings.push(`no --tokens given: using the compute-optimal ${CHINCHILLA_TOKENS_PER_PARAM} tokens per parameter (Hoffmann et al. 2022), ${tokens.toExponential(3)} tokens`);
  } else if (tokens !== undefined) {
    term(figures, 'train.tokens', 'Training tokens', 'tokens', tokens, '--tokens', {}, 'user input');
  } else {
    warnings.push('no --tokens given: total time, device-hours and cost need the fine-tuning tokens (dataset tokens x epochs)');
  }
  if (tokens !== undefined) {
    const model = term(figures, 'train.flops.model', 'Model FLOPs', 'FLOP', tokens * perTokenModel, 'tokens x flopsPerToken', { tokens, flopsPerToken: perTokenModel }, flopsSource, m.shapeAssumed);
    term(figures, 'train.flops.recompute', 'Recomputation FLOPs', 'FLOP', tokens * recomputePerToken, 'tokens x recomputeFlopsPerToken', { tokens, recomputeFlopsPerToken: recomputePerToken }, recomputeSource, m.shapeAssumed);
    const total = sum(figures, 'train.flops', 'Training FLOPs (model + recomputation)', 'FLOP', ['train.flops.model', 'train.flops.recompute'], flopsSource);
    void model;
    const seconds = term(figures, 'train.seconds', 'Wall-clock time', 's', (total / (input.count * peak.flopsPerSecond * util)) * (1 + bubble), 'train.flops / (count x peak x utilisation) x (1 + bubble)', { flops: total, count: input.count, peak: peak.flopsPerSecond, utilisation: util, bubble }, 'compute-bound at the utilisation above', approx);
    term(figures, 'train.steps', 'Optimizer steps', 'count', tokens / tokensPerStep, 'tokens / (globalBatch x seqLen)', { tokens, tokensPerStep }, 'definition');
    const deviceHours = term(figures, 'train.deviceHours', 'Device-hours', 'count', (seconds * input.count) / secondsInHour, 'seconds x count / 3600', { seconds, count: input.count }, 'definition', approx);
    if (input.price) term(figures, 'train.usd', 'Cost', 'USD', deviceHours * input.price.usdPerHour, 'deviceHours x usdPerDeviceHour', { deviceHours, usdPerDeviceHour: input.price.usdPerHour }, input.price.source, approx);
    else warnings.push(`no price known for ${hw.name}; pass --price <USD per device-hour> for the cost`);
    const watts = input.powerWatts ?? hw.tdpWatts.value;
    if (watts) term(figures, 'train.energy', 'Energy (devices only)', 'J', watts * input.count * seconds, 'powerPerDevice x count x seconds', { powerPerDevice: watts, count: input.count, seconds }, input.powerWatts !== undefined ? '--power-watts' : `${hw.tdpWatts.source}; compute-bound training runs near TDP (board power only, no host, network or cooling)`, true);
  }

  // Uncertainty bands from the validation suite's training residuals (bands.ts, docs/accuracy.md).
  if (input.mfu === undefined) applyTrainingBands(figures, calibration);

  let suggestions: Suggestion[] = [];
  if (!memory.fits) {
    warnings.push(`does not fit: needs ${toGiB(memory.perDeviceBytes).toFixed(1)} GiB per device, ${hw.name} has ${toGiB(memory.capacityBytes).toFixed(1)} GiB`);
    suggestions = fitSuggestions(input, params.total, memory.capacityBytes);
  }
  if (input.seqLen > m.maxContext) warnings.push(`--seq-len ${input.seqLen} exceeds the model's maximum of ${m.maxContext} tokens`);

  return {
    schemaVersion: 1,
    input: {
      model: summarizeModel(m),
      hardware: { id: hw.id, name: hw.name, count: input.count, usdPerDeviceHour: input.price?.usdPerHour ?? null },
      training: {
        method: input.method, precision: input.precision, compute: peak.cls, optimizer: input.optimizer, zero: input.zero, recompute: input.recompute,
        sequenceParallel: input.sequenceParallel, tp: input.tp, pp: input.pp, cp: input.cp, dp,
        seqLen: input.seqLen, microBatch: input.microBatch, globalBatch: input.globalBatch, gradientAccumulation: microBatches,
        tokens: tokens ?? null, tokensDefaulted, lora: input.method === 'full' ? null : input.lora,
      },
    },
    figures,
    fits: memory.fits,
    suggestions,
    warnings,
  };
}

/** Default LoRA targets and rank per method, with their sources. */
export const LORA_DEFAULTS: Record<'lora' | 'qlora', { rank: number; targets: LoraTarget[]; source: string }> = {
  lora: { rank: 8, targets: ['q', 'v'], source: 'Hu et al. 2021 sec. 7.1 adapt W_q and W_v; r = 8 is the PEFT LoraConfig and LitGPT default' },
  qlora: { rank: 64, targets: [...LORA_TARGETS], source: 'Dettmers et al. 2023 sec. 4 and App. B: LoRA r = 64 on every linear layer of the transformer blocks' },
};
