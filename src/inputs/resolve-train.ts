import { trainingGap } from '../estimate/layers.js';
import { UserError } from '../errors.js';
import {
  dataParallel,
  LORA_DEFAULTS,
  LORA_TARGETS,
  METHODS,
  OPTIMIZERS,
  RECOMPUTE,
  TRAIN_PRECISIONS,
  type LoraTarget,
  type TrainInput,
  trainingUtilisation,
  type ZeroStage,
} from '../estimate/training.js';
import type { Catalog } from './catalog.js';
import type { HubConfig } from './hub.js';
import { bool, choice, fraction, positiveInt, quantity, type Named, type Raw } from './options.js';
import { resolveEstimate, type EstimateKey, type Origins, type RawOptions } from './resolve.js';
import { DISTILL_DATA, type DistillInput } from '../estimate/distill.js';
import type { EstimateInput } from '../estimate/input.js';

/**
 * `llm-size train` options (flags, spec-file keys, library options) -> TrainInput. Pure: the
 * model and hardware go through the shared resolver (src/inputs/resolve.ts), the training keys
 * are read here. The CLI command and the library's `train(options)` both call resolveTrain.
 */

/** Model, hardware and price keys `train` shares with `estimate`. */
export const TRAIN_SHARED_KEYS = [
  'model', 'params', 'hfConfig', 'hf', 'offline',
  'layers', 'hidden', 'heads', 'kvHeads', 'headDim', 'ffn', 'vocab', 'tiedEmbeddings',
  'precision', 'gpu', 'memory', 'prune', 'count', 'price', 'provider', 'priceKind', 'amortizeYears', 'powerWatts', 'usdPerKwh', 'hostingUsdPerKwMonth', 'gridGco2PerKwh', 'region', 'pue', 'mfu', 'tp', 'pp',
] as const satisfies readonly EstimateKey[];
/** Keys only `train` has. */
export const TRAIN_ONLY_KEYS = ['tokens', 'goodput', 'seqLen', 'microBatch', 'globalBatch', 'method', 'loraRank', 'loraTargets', 'optimizer', 'zero', 'recompute', 'cp', 'sequenceParallel', 'teacher', 'teacherGpu', 'teacherCount', 'teacherTokens', 'distillData', 'serveGpu', 'serveBatch'] as const;
/** Every option of `llm-size train`, camelCase as in a spec file. */
export const TRAIN_KEYS = [...TRAIN_SHARED_KEYS, ...TRAIN_ONLY_KEYS] as const;
export type TrainKey = (typeof TRAIN_KEYS)[number];
export type TrainRawOptions = Partial<Record<TrainKey, Raw>>;
export type TrainOrigins = Partial<Record<TrainKey, string>>;

const flag = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Resolves raw train options against a catalog. `--count` is every device of the job
 * (tp x pp x cp x data-parallel ranks), not one serving replica, so the layout is resolved
 * here and the shared resolver sees a single device. `hub` is the config.json `hf` names,
 * fetched beforehand (fetchHubFor in src/inputs/resolve.ts).
 */
export function resolveTrain(rawIn: TrainRawOptions, origins: TrainOrigins, catalog: Catalog, hub?: HubConfig): { input: TrainInput; warnings: string[] } {
  const raw: TrainRawOptions = { ...rawIn };
  const named = (key: TrainKey): Named => ({ value: raw[key], where: origins[key] ?? flag(key) });
  const has = (key: TrainKey) => raw[key] !== undefined;
  const method = has('method') ? choice(named('method'), METHODS) : 'full';
  const precision = has('precision') ? choice(named('precision'), TRAIN_PRECISIONS) : 'bf16';
  const layout = (key: 'count' | 'tp' | 'pp'): number => (has(key) ? positiveInt(named(key), 'devices') : 1);
  const count = layout('count');
  const tp = layout('tp');
  const pp = layout('pp');

  // Model, hardware, price, mfu: the estimate resolver on one device, bf16 (precision is a
  // training mode here, read above).
  const shared: RawOptions = {};
  for (const key of TRAIN_SHARED_KEYS) if (!['precision', 'count', 'tp', 'pp'].includes(key) && has(key)) shared[key] = raw[key];
  const { input: base, warnings } = resolveEstimate(shared, origins as Origins, catalog, hub);
  if (method === 'qlora' && precision !== 'bf16') warnings.push(`--method qlora computes in bf16 on a 4-bit base; --precision ${precision} is ignored`);

  const cp = has('cp') ? positiveInt(named('cp'), 'devices') : 1;
  if (count % (tp * pp * cp) !== 0) throw new UserError(`--count ${count} is not a multiple of --tp x --pp x --cp = ${tp * pp * cp}; devices = tp x pp x cp x data-parallel ranks`);
  const gap = trainingGap(base.model);
  if (gap) throw new UserError(gap);
  if (pp > base.model.layers) throw new UserError(`--pp ${pp} exceeds the model's ${base.model.layers} layers`);
  const dp = dataParallel({ count, tp, pp, cp });
  // An encoder trains on inputs within its positions (a learned position table has no row past
  // its last, a RoPE encoder is trained to its window): the default is the shorter of 2048 and
  // that, and longer is bad input. Decoders default to 2048 and warn past their window.
  const encoder = base.model.encoder !== undefined;
  const seqLen = has('seqLen') ? positiveInt(named('seqLen'), 'tokens') : encoder ? Math.min(2048, base.model.maxContext) : 2048;
  if (encoder && seqLen > base.model.maxContext) throw new UserError(`${named('seqLen').where} ${seqLen}: ${base.model.name} is an encoder of ${base.model.maxContext} positions (max_position_embeddings); train it on sequences of at most ${base.model.maxContext} tokens`);
  if (seqLen % cp !== 0) throw new UserError(`--seq-len ${seqLen} is not divisible by --cp ${cp}`);
  const microBatch = has('microBatch') ? positiveInt(named('microBatch'), 'batch') : 1;
  const globalBatch = has('globalBatch') ? positiveInt(named('globalBatch'), 'globalBatch') : microBatch * dp;
  if (globalBatch % (microBatch * dp) !== 0) throw new UserError(`--global-batch ${globalBatch} is not a multiple of --micro-batch x data-parallel ranks = ${microBatch} x ${dp}; accepted: ${microBatch * dp}, ${2 * microBatch * dp}, ...`);
  if (pp > 1 && !has('globalBatch')) warnings.push(`--pp ${pp} without --global-batch: one micro-batch per step leaves a pipeline bubble of ${pp - 1}x the compute; pass --global-batch`);

  const zero = (has('zero') ? Number(choice({ value: String(raw.zero), where: named('zero').where }, ['0', '1', '2', '3'])) : 0) as ZeroStage;
  // QLoRA trains with gradient checkpointing on (artidoro/qlora qlora.py --gradient_checkpointing
  // default True; Dettmers et al. 2023 sec. 4): full recomputation of each layer.
  const recompute = has('recompute') ? choice(named('recompute'), RECOMPUTE) : method === 'qlora' ? 'full' : 'selective';
  const optimizer = has('optimizer') ? choice(named('optimizer'), OPTIMIZERS) : 'adamw';
  // Megatron-LM turns sequence parallelism on with tensor parallelism (Korthikanti et al. 2022).
  const sequenceParallel = has('sequenceParallel') ? bool(named('sequenceParallel')) : tp > 1;

  const defaults = method === 'full' || method === 'distill' ? LORA_DEFAULTS.lora : LORA_DEFAULTS[method];
  const rank = has('loraRank') ? positiveInt(named('loraRank'), 'loraRank') : defaults.rank;
  let targets: LoraTarget[] = defaults.targets;
  if (has('loraTargets')) {
    const where = named('loraTargets').where;
    const list = String(raw.loraTargets).split(',').map((t) => t.trim().replace(/_proj$/, '')).filter(Boolean);
    targets = list.includes('all') ? [...LORA_TARGETS] : list.map((t) => choice({ value: t, where }, LORA_TARGETS));
    if (!targets.length) throw new UserError(`${where}: invalid value "${raw.loraTargets}"; expected a comma-separated list of ${LORA_TARGETS.join(', ')} or all`);
  }
  if ((method === 'full' || method === 'distill') && (has('loraRank') || has('loraTargets'))) warnings.push('--lora-rank and --lora-targets apply to --method lora or qlora; ignored for full training');
  const distillKeys = (['teacher', 'teacherGpu', 'teacherCount', 'teacherTokens', 'distillData', 'serveGpu', 'serveBatch'] as const).filter(has);
  if (method !== 'distill' && distillKeys.length) throw new UserError(`${distillKeys.map((k) => named(k).where).join(', ')}: for --method distill (the method is ${method})`);
  if (base.model.gatedMlp === false && targets.includes('gate')) warnings.push(`${base.model.name} has no gate projection; the gate target adds nothing`);

  let tokens: number | undefined;
  if (has('tokens')) tokens = quantity(named('tokens'), 'trainingTokens');
  if (method === 'distill' && (base.model.encoder || base.model.task)) throw new UserError(`${named('method').where} distill: ${base.model.name} is ${base.model.encoder ? 'an encoder' : 'an embedding model'}, trained on pooled vectors without a vocabulary head; logit distillation needs a generator student (accepted methods for it: full, lora, qlora)`);
  const goodput = has('goodput') ? fraction(named('goodput')) : undefined;
  const distill = method === 'distill' ? resolveDistill(raw, named, has, { base, count, shared, origins: origins as Origins, catalog }) : undefined;
  return {
    input: {
      model: base.model, hardware: base.hardware, count, precision, method, optimizer, zero, recompute, sequenceParallel,
      tp, pp, cp, seqLen, microBatch, globalBatch, tokens, lora: { rank, targets: [...new Set(targets)] },
      mfu: base.mfu, price: base.price, powerWatts: base.powerWatts, carbon: base.carbon,
      ...(goodput !== undefined ? { goodput } : {}),
      ...(distill ? { distill } : {}),
    },
    warnings,
  };
}

/**
 * --method distill: the teacher (a preset), where it runs (co-located on the student's devices
 * unless --teacher-gpu or --teacher-count give its own), what it produces (--distill-data logits
 * or synthetic), and the serving comparison (--serve-gpu, --serve-batch). src/estimate/distill.ts.
 */
function resolveDistill(raw: TrainRawOptions, named: (key: TrainKey) => Named, has: (key: TrainKey) => boolean, ctx: { base: EstimateInput; count: number; shared: RawOptions; origins: Origins; catalog: Catalog }): DistillInput {
  if (!has('teacher')) throw new UserError('--method distill needs --teacher <model preset> (the model whose outputs the student learns from)');
  const { base, count, shared, catalog } = ctx;
  const carry: RawOptions = {};
  for (const key of ['gridGco2PerKwh', 'region', 'pue', 'powerWatts'] as const) if (shared[key] !== undefined) carry[key] = shared[key];
  const origins: Origins = { ...ctx.origins, model: named('teacher').where, gpu: has('teacherGpu') ? named('teacherGpu').where : ctx.origins.gpu };
  const colocated = !has('teacherGpu') && !has('teacherCount');
  const teacherGpu = has('teacherGpu') ? String(raw.teacherGpu) : base.hardware.id;
  const teacherBase = resolveEstimate({ ...carry, model: raw.teacher, gpu: teacherGpu, batch: 64, inputTokens: 512, outputTokens: 512, ...(has('teacherGpu') ? {} : shared.price !== undefined ? { price: shared.price } : {}) }, origins, catalog).input;
  const teacher = teacherBase.model;
  if (teacher.task) throw new UserError(`${named('teacher').where}: ${teacher.name} is ${teacher.task === 'rerank' ? 'a reranker' : 'an embedding model'}; a teacher for --method distill is a generator`);
  const teacherCount = has('teacherCount') ? positiveInt(named('teacherCount'), 'devices') : count;
  const data = has('distillData') ? choice(named('distillData'), DISTILL_DATA) : 'logits';
  const teacherTokens = has('teacherTokens') ? quantity(named('teacherTokens'), 'trainingTokens') : undefined;
  const serveGpu = has('serveGpu') ? String(raw.serveGpu) : base.hardware.id;
  const serveBatch = has('serveBatch') ? positiveInt(named('serveBatch'), 'batch') : 32;
  const serveOrigins: Origins = { ...ctx.origins, gpu: has('serveGpu') ? named('serveGpu').where : ctx.origins.gpu, batch: named('serveBatch').where };
  const studentRaw: RawOptions = { ...shared, gpu: serveGpu, batch: serveBatch };
  delete studentRaw.price;
  if (serveGpu === base.hardware.id && shared.price !== undefined) studentRaw.price = shared.price;
  const serveStudent = resolveEstimate(studentRaw, serveOrigins, catalog).input;
  const serveTeacher = resolveEstimate({ ...carry, model: raw.teacher, gpu: serveGpu, batch: serveBatch, ...(studentRaw.price !== undefined ? { price: studentRaw.price } : {}) }, { ...serveOrigins, model: named('teacher').where }, catalog).input;
  const family = trainingUtilisation(teacherBase.hardware);
  return {
    teacher, data, teacherTokens, colocated, teacherHardware: teacherBase.hardware, teacherCount,
    teacherPrice: colocated ? base.price : teacherBase.price,
    teacherUtilisation: { value: base.mfu !== undefined && colocated ? base.mfu : family.value, source: base.mfu !== undefined && colocated ? '--mfu' : `${family.family}: ${family.source}`, approximate: family.approximate },
    generation: teacherBase,
    serveStudent,
    serveTeacher: { ...serveTeacher, workload: serveStudent.workload },
    carbon: base.carbon,
  };
}
