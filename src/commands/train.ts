import { Command } from 'commander';
import { UserError } from '../errors.js';
import {
  dataParallel,
  LORA_DEFAULTS,
  LORA_TARGETS,
  METHODS,
  OPTIMIZERS,
  RECOMPUTE,
  train,
  TRAIN_PRECISIONS,
  type LoraTarget,
  type TrainEstimate,
  type TrainInput,
  type ZeroStage,
} from '../estimate/training.js';
import { renderExplain } from '../format/explain.js';
import { formatFigure, formatValue } from '../format/human.js';
import { formatOption, renderOutput, type FigureSection, type OutputFormat } from '../format/render.js';
import { choice, positiveInt, type Named } from '../spec/options.js';
import { parseCount } from '../units.js';
import { resolveEstimate } from '../spec/resolve.js';
import { addModelOptions, collectRaw } from './estimate.js';
import type { Context } from './context.js';

/** The figures `train` shows to people (table and markdown), by section. */
export const TRAIN_SECTIONS: FigureSection[] = [
  { title: 'Parameters', ids: ['params.total', 'params.trainable'] },
  { title: 'Compute', ids: ['train.tokens', 'train.flopsPerToken', 'train.flops', 'train.peakFlopsPerSecond', 'train.utilisation', 'train.mfu', 'train.pipelineBubble'] },
  { title: 'Time and cost', ids: ['train.stepSeconds', 'train.tokensPerSecondPerDevice', 'train.steps', 'train.seconds', 'train.deviceHours', 'train.usd', 'train.energy'] },
  { title: 'Model states (whole model, before sharding)', ids: ['memory.weights', 'memory.gradients', 'memory.optimizerStates', 'memory.bytesPerTrainableParam'] },
  { title: 'Memory per device', ids: ['memory.perDevice.weights', 'memory.perDevice.gradients', 'memory.perDevice.optimizerStates', 'memory.perDevice.gatherBuffers', 'memory.perDevice.activations', 'memory.perDevice.overhead', 'memory.perDevice', 'memory.capacityPerDevice'] },
];

/** Flags only `train` has, as they appear on opts (camelCase). */
const TRAIN_FLAGS = ['tokens', 'seqLen', 'microBatch', 'globalBatch', 'method', 'loraRank', 'loraTargets', 'optimizer', 'zero', 'recompute', 'tp', 'pp', 'cp', 'sequenceParallel'] as const;

const flag = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** argv -> TrainInput: model and hardware through the shared resolver, training flags here. */
async function resolveTrain(opts: Record<string, unknown>, ctx: Context): Promise<{ input: TrainInput; warnings: string[] }> {
  const { raw, origins } = await collectRaw(opts);
  const named = (key: (typeof TRAIN_FLAGS)[number]): Named => ({ value: opts[key] as Named['value'], where: flag(key) });
  const has = (key: (typeof TRAIN_FLAGS)[number]) => opts[key] !== undefined;
  const method = has('method') ? choice(named('method'), METHODS) : 'full';
  const precision = raw.precision !== undefined ? choice({ value: raw.precision, where: origins.precision ?? '--precision' }, TRAIN_PRECISIONS) : 'bf16';
  delete raw.precision;
  // --count is every device of the job here (tp x pp x cp x dp), not one serving replica:
  // the layout is resolved below, the shared resolver sees a single device.
  const layout = (key: 'count' | 'tp' | 'pp'): number => (raw[key] !== undefined ? positiveInt({ value: raw[key], where: origins[key] ?? flag(key) }) : 1);
  const count = layout('count');
  const tp = layout('tp');
  const pp = layout('pp');
  for (const key of ['count', 'tp', 'pp', 'ep', 'replicas'] as const) delete raw[key];
  const { input: base, warnings } = resolveEstimate(raw, origins, await ctx.catalog());
  if (method === 'qlora' && precision !== 'bf16') warnings.push(`--method qlora computes in bf16 on a 4-bit base; --precision ${precision} is ignored`);

  const cp = has('cp') ? positiveInt(named('cp')) : 1;
  if (count % (tp * pp * cp) !== 0) throw new UserError(`--count ${count} is not a multiple of --tp x --pp x --cp = ${tp * pp * cp}; devices = tp x pp x cp x data-parallel ranks`);
  if (pp > base.model.layers) throw new UserError(`--pp ${pp} exceeds the model's ${base.model.layers} layers`);
  const dp = dataParallel({ count, tp, pp, cp });
  const seqLen = has('seqLen') ? positiveInt(named('seqLen'), true) : 2048;
  if (seqLen % cp !== 0) throw new UserError(`--seq-len ${seqLen} is not divisible by --cp ${cp}`);
  const microBatch = has('microBatch') ? positiveInt(named('microBatch')) : 1;
  const globalBatch = has('globalBatch') ? positiveInt(named('globalBatch')) : microBatch * dp;
  if (globalBatch % (microBatch * dp) !== 0) throw new UserError(`--global-batch ${globalBatch} is not a multiple of --micro-batch x data-parallel ranks = ${microBatch} x ${dp}; accepted: ${microBatch * dp}, ${2 * microBatch * dp}, ...`);
  if (pp > 1 && !has('globalBatch')) warnings.push(`--pp ${pp} without --global-batch: one micro-batch per step leaves a pipeline bubble of ${pp - 1}x the compute; pass --global-batch`);

  const zero = (has('zero') ? Number(choice({ value: String(opts.zero), where: '--zero' }, ['0', '1', '2', '3'])) : 0) as ZeroStage;
  // QLoRA trains with gradient checkpointing on (artidoro/qlora qlora.py --gradient_checkpointing
  // default True; Dettmers et al. 2023 sec. 4): full recomputation of each layer.
  const recompute = has('recompute') ? choice(named('recompute'), RECOMPUTE) : method === 'qlora' ? 'full' : 'selective';
  const optimizer = has('optimizer') ? choice(named('optimizer'), OPTIMIZERS) : 'adamw';
  const sequenceParallel = has('sequenceParallel') ? opts.sequenceParallel === true : tp > 1;

  const defaults = method === 'full' ? LORA_DEFAULTS.lora : LORA_DEFAULTS[method];
  const rank = has('loraRank') ? positiveInt(named('loraRank')) : defaults.rank;
  let targets: LoraTarget[] = defaults.targets;
  if (has('loraTargets')) {
    const list = String(opts.loraTargets).split(',').map((t) => t.trim().replace(/_proj$/, '')).filter(Boolean);
    targets = list.includes('all') ? [...LORA_TARGETS] : list.map((t) => choice({ value: t, where: '--lora-targets' }, LORA_TARGETS));
    if (!targets.length) throw new UserError(`--lora-targets: invalid value "${opts.loraTargets}"; expected a comma-separated list of ${LORA_TARGETS.join(', ')} or all`);
  }
  if (method === 'full' && (has('loraRank') || has('loraTargets'))) warnings.push('--lora-rank and --lora-targets apply to --method lora or qlora; ignored for full training');
  if (base.model.gatedMlp === false && targets.includes('gate')) warnings.push(`${base.model.name} has no gate projection; the gate target adds nothing`);

  let tokens: number | undefined;
  if (has('tokens')) {
    tokens = parseCount(String(opts.tokens));
    if (!Number.isFinite(tokens) || tokens < 1) throw new UserError(`--tokens: invalid value "${opts.tokens}"; expected a token count such as 1t, 300b or 2e12`);
  }
  return {
    input: {
      model: base.model, hardware: base.hardware, count, precision, method, optimizer, zero, recompute, sequenceParallel,
      tp, pp, cp, seqLen, microBatch, globalBatch, tokens, lora: { rank, targets: [...new Set(targets)] },
      mfu: base.mfu, price: base.price, powerWatts: base.powerWatts,
    },
    warnings,
  };
}

/** The human table: sections of figures, the fit verdict, and what would make it fit. */
async function renderTrainTable(e: TrainEstimate, color: boolean): Promise<string> {
  const { renderRows, makeChalk } = await import('../format/table.js');
  const c = makeChalk(color);
  const f = e.figures;
  const t = e.input.training;
  const header = [
    `${c.bold(e.input.model.name)}: ${t.method === 'full' ? 'full training' : `${t.method.toUpperCase()} r=${t.lora!.rank} (${t.lora!.targets.join(', ')})`} on ${e.input.hardware.count} x ${c.bold(e.input.hardware.name)}`,
    `${t.precision} mixed (${t.compute} peak), ${t.optimizer}, ZeRO ${t.zero}, recompute ${t.recompute}; tp ${t.tp}, pp ${t.pp}, cp ${t.cp}, dp ${t.dp}${t.sequenceParallel ? ', sequence parallel' : ''}; seq ${t.seqLen}, micro-batch ${t.microBatch}, global batch ${t.globalBatch}`,
  ];
  const rows: [string, string][] = [];
  for (const s of TRAIN_SECTIONS) {
    const present = s.ids.filter((id) => f[id]);
    if (!present.length) continue;
    rows.push([c.bold(s.title), '']);
    for (const id of present) rows.push([`  ${f[id].label}`, formatFigure(f[id])]);
  }
  const verdict = e.fits
    ? c.green(`FITS: ${formatFigure(f['memory.perDevice'])} of ${formatFigure(f['memory.capacityPerDevice'])} per device`)
    : c.red(`DOES NOT FIT: needs ${formatFigure(f['memory.perDevice'])} per device, has ${formatFigure(f['memory.capacityPerDevice'])}`);
  const hints = e.suggestions.map((s) => `  ${s.change}: ${formatValue(s.perDeviceBytes, 'B')} per device${s.fits ? ' (fits)' : ' (still does not fit)'}`);
  return `${header.join('\n')}\n${renderRows(rows, color)}\n${verdict}\n${hints.length ? `to make it fit:\n${hints.join('\n')}\n` : ''}${Object.values(f).some((x) => x.approximate) ? '~ marks approximate figures; --explain shows every formula\n' : ''}`;
}

export function trainCommand(ctx: Context): Command {
  const cmd = new Command('train')
    .description('training and fine-tuning: FLOPs, time, device-hours, cost, energy and memory per device')
    .addHelpText('after', `
--count is every device of the job: tp x pp x cp x data-parallel ranks.

Examples:
  llm-size train --model llama-3.1-8b --gpu h100 --count 64 --tokens 1t --global-batch 1024
  llm-size train --model llama-3.1-70b --gpu h100 --count 8 --zero 3 --recompute full --tokens 1b
  llm-size train --model llama-2-7b --gpu rtx-4090 --method qlora --micro-batch 4 --format json
  llm-size train --params 7b --gpu a100-80gb --count 8 --zero 3 --explain`);
  addModelOptions(cmd)
    .option('--tokens <count>', 'tokens to train on (1t, 2e12); default for full training: 20 per parameter (Chinchilla)')
    .option('--seq-len <tokens>', 'tokens per sequence (default 2048; 8k = 8192)')
    .option('--micro-batch <n>', 'sequences per device per forward/backward pass (default 1)')
    .option('--global-batch <n>', 'sequences per optimizer step (default micro-batch x data-parallel ranks)')
    .option('--method <method>', `${METHODS.join(' | ')} (default full)`)
    .option('--lora-rank <r>', 'LoRA rank (default 8 for lora, 64 for qlora)')
    .option('--lora-targets <list>', `adapted modules, comma-separated: ${LORA_TARGETS.join(',')} or all (default q,v for lora, all for qlora)`)
    .option('--optimizer <name>', `${OPTIMIZERS.join(' | ')} (default adamw)`)
    .option('--zero <stage>', 'ZeRO / FSDP stage 0-3: 1 shards optimizer states, 2 also gradients, 3 also weights (default 0)')
    .option('--recompute <mode>', `activation recomputation: ${RECOMPUTE.join(' | ')} (default selective, as FlashAttention does; full for qlora)`)
    .option('--cp <n>', 'context-parallel degree (default 1)')
    .option('--sequence-parallel', 'shard norm and dropout activations across TP ranks (default on when --tp > 1)')
    .option('--no-sequence-parallel', 'keep them replicated')
    .addOption(formatOption())
    .option('--explain', 'print every figure with its formula, inputs and source');
  // --tp and --pp may already come with the shared model options
  if (!cmd.options.some((o) => o.long === '--tp')) cmd.option('--tp <n>', 'tensor-parallel degree (default 1)');
  if (!cmd.options.some((o) => o.long === '--pp')) cmd.option('--pp <n>', 'pipeline-parallel degree (default 1)');
  cmd.action(async (opts: Record<string, unknown>) => {
      const { input, warnings } = await resolveTrain(opts, ctx);
      const result = train(input);
      result.warnings.unshift(...warnings);
      const title = `${result.input.model.name} training on ${result.input.hardware.count} x ${result.input.hardware.name}`;
      ctx.out(await renderOutput(opts.format as OutputFormat, { document: result, figures: result.figures, sections: TRAIN_SECTIONS, title, table: (color) => renderTrainTable(result, color) }, ctx.color));
      if (opts.explain) ctx.out(renderExplain(result.figures));
      for (const w of result.warnings) ctx.warn(w);
    });
  return cmd;
}
