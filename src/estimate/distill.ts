import type { HardwareSpec } from '../inputs/hardware.js';
import type { ModelSpec } from '../inputs/model.js';
import { secondsInHour } from '../units.js';
import { carbonTerm, type Carbon } from './carbon.js';
import { attentionFlopsPerContextToken, matmulParams } from './flops.js';
import { estimate } from './index.js';
import type { EstimateInput } from './input.js';
import { layerSplit } from './memory.js';
import { layoutProblem } from './parallel.js';
import { paramsFigures } from './params.js';
import { resolvePeak } from './peak.js';
import { FORMATS } from '../inputs/precision.js';
import { sum, term, type Figures } from './terms.js';

/**
 * Knowledge distillation (Hinton et al. 2015): a student trained on a teacher's outputs. The
 * cost is the student's training (train.* figures, as full training) plus the teacher's work:
 *  - logits: one forward pass of the teacher over every training token, 2 FLOPs per matrix
 *    parameter (its output head over the vocabulary included) plus attention (Kaplan et al. 2020
 *    sec. 2.1), run at the training utilisation of the teacher's devices; on the student's own
 *    devices (co-located, the default) its bf16 weights and fp32 logits take memory there too;
 *  - synthetic: the teacher generates the training tokens, at its serving throughput
 *    (`estimate` at a batch).
 * The student and teacher are then each served (`estimate` on the serving device, as few
 * tensor-parallel devices as hold them), so the saving per million output tokens and the volume
 * that pays the distillation back are visible.
 */

export const DISTILL_DATA = ['logits', 'synthetic'] as const;
export type DistillData = (typeof DISTILL_DATA)[number];

export interface DistillInput {
  teacher: ModelSpec;
  data: DistillData;
  /** tokens the teacher processes; absent = the student's training tokens */
  teacherTokens?: number;
  /** where the teacher runs: co-located on the student's devices, or its own */
  colocated: boolean;
  teacherHardware: HardwareSpec;
  teacherCount: number;
  teacherPrice?: { usdPerHour: number; source: string };
  /** training utilisation of the teacher's devices (the training table of training.ts) */
  teacherUtilisation: { value: number; source: string; approximate?: boolean };
  /** the teacher as served for synthetic data generation (batch, lengths, engine) */
  generation: EstimateInput;
  /** the student and the teacher as served after distillation, one device each to start */
  serveStudent: EstimateInput;
  serveTeacher: EstimateInput;
  carbon?: Carbon;
}

/** Forward FLOPs per token of a model over sequences of `seqLen`: 2 x matrix parameters + attention at the mean causal key count. */
export function forwardFlopsPerToken(m: ModelSpec, seqLen: number): { flops: number; matmul: number; attention: number } {
  const p = paramsFigures({}, m);
  const matmul = matmulParams(m, p.active, p.embedding);
  const { full, local, window } = layerSplit(m);
  // causal: position t attends to t keys, (s + 1) / 2 on average; local layers at most `window`
  const keys = full * ((seqLen + 1) / 2) + local * Math.min((seqLen + 1) / 2, window);
  const attention = attentionFlopsPerContextToken(m, 'prefill') * keys;
  return { flops: 2 * matmul + attention, matmul, attention };
}

/** Per-device teacher memory when co-located: bf16 weights split like the student's, fp32 logits of one micro-batch. */
export function teacherMemoryBytes(teacher: ModelSpec, split: { tp: number; pp: number; shardDp: number }, microBatch: number, seqLen: number): { weights: number; logits: number } {
  const params = paramsFigures({}, teacher).total;
  return {
    weights: (params * 2) / (split.tp * split.pp * split.shardDp),
    logits: (microBatch * seqLen * teacher.vocab * 4) / split.tp,
  };
}

/** The fewest tensor-parallel devices (1, 2, 4, 8) that hold a model for serving, and the estimate there. */
function servedOnFewest(input: EstimateInput) {
  let last: ReturnType<typeof estimate> | undefined;
  for (const tp of [1, 2, 4, 8]) {
    const parallel = { tp, pp: 1, ep: 1, replicas: 1 };
    if (layoutProblem(input.model, parallel)) continue;
    last = estimate({ ...input, count: tp, parallel });
    if (last.fits) return { estimate: last, devices: tp };
  }
  return { estimate: last!, devices: last?.input.hardware.count ?? 1 };
}

/**
 * Adds distill.* figures to a student's training figures: the teacher's FLOPs, time, device-hours
 * and cost, the totals, and the student and teacher served side by side with the payback volume.
 */
export function distillFigures(fig: Figures, d: DistillInput, student: { tokens: number | undefined; seqLen: number; deviceHours: number | undefined; usd: number | undefined }, warnings: string[]): void {
  const tokens = d.teacherTokens ?? student.tokens;
  if (tokens === undefined) {
    warnings.push('--method distill: no --tokens or --teacher-tokens, so the teacher\'s work cannot be sized');
    return;
  }
  term(fig, { id: 'distill.teacherTokens', label: d.data === 'logits' ? 'Tokens the teacher scores (logits)' : 'Tokens the teacher generates', unit: 'tokens', value: tokens, formula: d.teacherTokens !== undefined ? '--teacher-tokens' : 'the student\'s training tokens', inputs: {}, source: 'user input' });
  let teacherSeconds: number;
  if (d.data === 'logits') {
    const fwd = forwardFlopsPerToken(d.teacher, student.seqLen);
    const perToken = term(fig, { id: 'distill.teacherFlopsPerToken', label: `Teacher forward FLOPs per token (${d.teacher.name})`, unit: 'FLOP', value: fwd.flops, formula: '2 x teacher matmul params (output head included) + attnFlopsPerKey x mean causal keys at seqLen', inputs: { matmulParams: fwd.matmul, attentionFlops: fwd.attention, seqLen: student.seqLen }, source: 'Kaplan et al. 2020 sec. 2.1: forward pass = 2N + attention; Hinton et al. 2015: the student learns from the teacher\'s logits on the same tokens' });
    const flops = term(fig, { id: 'distill.teacherFlops', label: 'Teacher forward FLOPs', unit: 'FLOP', value: tokens * perToken, formula: 'teacherTokens x teacherFlopsPerToken', inputs: { tokens, perToken }, source: 'product' });
    const peak = resolvePeak(d.teacherHardware, FORMATS.bf16, FORMATS.bf16);
    teacherSeconds = term(fig, { id: 'distill.teacherSeconds', label: `Teacher forward time (${d.teacherCount} x ${d.teacherHardware.name})`, unit: 's', value: flops / (d.teacherCount * peak.flopsPerSecond * d.teacherUtilisation.value), formula: 'teacherFlops / (teacherCount x bf16 peak x utilisation)', inputs: { flops, count: d.teacherCount, peak: peak.flopsPerSecond, utilisation: d.teacherUtilisation.value }, source: `${peak.source}; utilisation: ${d.teacherUtilisation.source}`, approximate: true });
  } else {
    // the teacher serves on as few devices as hold it; the teacher devices run that many replicas
    const gen = servedOnFewest(d.generation);
    const tps = gen.estimate.figures['throughput.outputTokensPerSecondPerDevice'].value;
    teacherSeconds = term(fig, { id: 'distill.teacherSeconds', label: `Teacher generation time (${d.teacherCount} x ${d.teacherHardware.name})`, unit: 's', value: tokens / (tps * d.teacherCount), formula: 'teacherTokens / (outputTokensPerSecondPerDevice x teacherCount)', inputs: { tokens, tokensPerSecondPerDevice: tps, count: d.teacherCount, devicesPerReplica: gen.devices, batch: d.generation.workload.batch }, source: `${d.teacher.name} served (estimate at batch ${d.generation.workload.batch}, ${d.generation.workload.inputTokens} in / ${d.generation.workload.outputTokens} out)`, approximate: true });
  }
  const teacherHours = term(fig, { id: 'distill.teacherDeviceHours', label: 'Teacher device-hours', unit: 'count', value: (teacherSeconds * d.teacherCount) / secondsInHour, formula: 'teacherSeconds x teacherCount / 3600', inputs: { teacherSeconds, count: d.teacherCount }, source: 'definition', approximate: true });
  if (d.teacherPrice) term(fig, { id: 'distill.teacherUsd', label: 'Teacher cost', unit: 'USD', value: teacherHours * d.teacherPrice.usdPerHour, formula: 'teacherDeviceHours x usdPerDeviceHour', inputs: { teacherHours, usdPerDeviceHour: d.teacherPrice.usdPerHour }, source: d.teacherPrice.source, approximate: true });
  if (d.teacherHardware.tdpWatts.value) {
    term(fig, { id: 'distill.teacherEnergy', label: 'Teacher energy (devices only)', unit: 'J', value: d.teacherHardware.tdpWatts.value * teacherHours * secondsInHour, formula: 'TDP x teacherDeviceHours x 3600', inputs: { tdpWatts: d.teacherHardware.tdpWatts.value, teacherHours }, source: `${d.teacherHardware.tdpWatts.source}; compute-bound work near TDP`, approximate: true });
    if (d.carbon) carbonTerm(fig, d.carbon, { id: 'distill.teacherCo2eKg', label: 'Teacher CO2e (location-based)', energyId: 'distill.teacherEnergy' });
  }
  if (student.deviceHours !== undefined) {
    term(fig, { id: 'distill.studentDeviceHours', label: 'Student training device-hours', unit: 'count', value: student.deviceHours, formula: 'train.deviceHours', inputs: {}, source: 'the student\'s training figures', approximate: true });
    sum(fig, { id: 'distill.totalDeviceHours', label: 'Distillation device-hours (teacher + student)', unit: 'count', parts: ['distill.teacherDeviceHours', 'distill.studentDeviceHours'] });
  }
  if (student.usd !== undefined && fig['distill.teacherUsd']) {
    term(fig, { id: 'distill.studentUsd', label: 'Student training cost', unit: 'USD', value: student.usd, formula: 'train.usd', inputs: {}, source: 'the student\'s training figures', approximate: true });
    sum(fig, { id: 'distill.totalUsd', label: 'Distillation cost (teacher + student)', unit: 'USD', parts: ['distill.teacherUsd', 'distill.studentUsd'] });
  }

  // ---- Serving: student and teacher side by side ----
  const s = servedOnFewest(d.serveStudent);
  const t = servedOnFewest(d.serveTeacher);
  const where = `${d.serveStudent.hardware.name}, batch ${d.serveStudent.workload.batch}, ${d.serveStudent.workload.inputTokens} in / ${d.serveStudent.workload.outputTokens} out`;
  const serve = (who: 'student' | 'teacher', e: typeof s) => {
    const name = who === 'student' ? d.serveStudent.model.name : d.teacher.name;
    term(fig, { id: `distill.${who}ServeDevices`, label: `Devices serving the ${who} (${name})`, unit: 'count', value: e.devices, formula: 'fewest tensor-parallel devices (1, 2, 4, 8) that hold it', inputs: { device: d.serveStudent.hardware.id }, source: 'estimate memory fit' });
    term(fig, { id: `distill.${who}Tpot`, label: `${who === 'student' ? 'Student' : 'Teacher'} time per output token`, unit: 's', value: e.estimate.figures['latency.tpot'].value, formula: `latency.tpot (${where})`, inputs: { devices: e.devices }, source: `estimate of ${name}`, approximate: true });
    const usd = e.estimate.figures['cost.usdPerMillionOutputTokens'];
    if (usd) term(fig, { id: `distill.${who}UsdPerMillionOutputTokens`, label: `${who === 'student' ? 'Student' : 'Teacher'} USD per million output tokens`, unit: 'USD', value: usd.value, formula: `cost.usdPerMillionOutputTokens (${where})`, inputs: { devices: e.devices }, source: `estimate of ${name}`, approximate: true });
  };
  serve('student', s);
  serve('teacher', t);
  const su = fig['distill.studentUsdPerMillionOutputTokens']?.value;
  const tu = fig['distill.teacherUsdPerMillionOutputTokens']?.value;
  if (su !== undefined && tu !== undefined) {
    const saving = term(fig, { id: 'distill.savingsUsdPerMillionOutputTokens', label: 'Serving saving per million output tokens', unit: 'USD', value: tu - su, formula: 'teacher - student USD per million output tokens', inputs: { teacher: tu, student: su }, source: 'difference', approximate: true });
    const total = fig['distill.totalUsd']?.value;
    if (total !== undefined && saving > 0) term(fig, { id: 'distill.paybackMillionOutputTokens', label: 'Output tokens that pay the distillation back (millions)', unit: 'count', value: total / saving, formula: 'distill.totalUsd / savingsUsdPerMillionOutputTokens', inputs: { totalUsd: total, saving }, source: 'break-even volume', approximate: true });
    else if (saving <= 0) warnings.push('the student costs no less to serve than the teacher on this device: distillation does not pay back in serving cost');
  }
  if (!s.estimate.fits || !t.estimate.fits) warnings.push(`serving comparison: ${!t.estimate.fits ? d.teacher.name : d.serveStudent.model.name} does not fit 8 x ${d.serveStudent.hardware.name}; its serving figures are for 8 devices that do not hold it`);
}
