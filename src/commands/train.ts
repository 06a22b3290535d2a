import { Command } from 'commander';
import { LORA_TARGETS, METHODS, OPTIMIZERS, RECOMPUTE, train, type TrainEstimate } from '../estimate/training.js';
import { explain, explainOption } from './context.js';
import { formatFigure, formatValue } from '../format/human.js';
import { formatOption, renderOutput, type FigureSection, type OutputFormat } from '../format/render.js';
import { fetchHubFor } from '../inputs/resolve.js';
import { resolveTrain, TRAIN_KEYS } from '../inputs/resolve-train.js';
import { addCarbonOptions, addModelOptions, addPruningOptions, collectRaw } from './estimate.js';
import type { Context } from './context.js';

/** The figures `train` shows to people (table and markdown), by section. */
export const TRAIN_SECTIONS: FigureSection[] = [
  { title: 'Parameters', ids: ['params.total', 'params.trainable'] },
  { title: 'Compute', ids: ['train.tokens', 'train.flopsPerToken', 'train.flops', 'train.peakFlopsPerSecond', 'train.utilisation', 'train.mfu', 'train.pipelineBubble'] },
  { title: 'Time and cost', ids: ['train.stepSeconds', 'train.tokensPerSecondPerDevice', 'train.steps', 'train.seconds', 'train.deviceHours', 'train.usd', 'train.goodput', 'train.secondsWithGoodput', 'train.deviceHoursWithGoodput', 'train.usdWithGoodput', 'train.energy', 'train.co2eKg'] },
  { title: 'Model states (whole model, before sharding)', ids: ['memory.weights', 'memory.gradients', 'memory.optimizerStates', 'memory.bytesPerTrainableParam'] },
  { title: 'Distillation: the teacher, and serving student vs teacher', ids: ['distill.teacherTokens', 'distill.teacherFlopsPerToken', 'distill.teacherFlops', 'distill.teacherSeconds', 'distill.teacherDeviceHours', 'distill.teacherUsd', 'distill.teacherCo2eKg', 'distill.totalDeviceHours', 'distill.totalUsd', 'distill.studentServeDevices', 'distill.teacherServeDevices', 'distill.studentTpot', 'distill.teacherTpot', 'distill.studentUsdPerMillionOutputTokens', 'distill.teacherUsdPerMillionOutputTokens', 'distill.savingsUsdPerMillionOutputTokens', 'distill.paybackMillionOutputTokens'] },
  { title: 'Memory per device', ids: ['memory.perDevice.weights', 'memory.perDevice.gradients', 'memory.perDevice.optimizerStates', 'memory.perDevice.gatherBuffers', 'memory.perDevice.teacherWeights', 'memory.perDevice.teacherLogits', 'memory.perDevice.activations', 'memory.perDevice.overhead', 'memory.perDevice', 'memory.capacityPerDevice'] },
];

/** The human table: sections of figures, the fit verdict, and what would make it fit. */
async function renderTrainTable(e: TrainEstimate, color: boolean, width = Infinity): Promise<string> {
  const { renderRows, makeChalk } = await import('../format/table.js');
  const c = makeChalk(color);
  const f = e.figures;
  const t = e.input.training;
  const header = [
    `${c.bold(e.input.model.name)}: ${t.method === 'full' ? 'full training' : t.method === 'distill' ? 'distillation (student trained in full)' : `${t.method.toUpperCase()} r=${t.lora!.rank} (${t.lora!.targets.join(', ')})`} on ${e.input.hardware.count} x ${c.bold(e.input.hardware.name)}`,
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
  const { wrapText } = await import('../format/width.js');
  return wrapText(`${header.join('\n')}\n${renderRows(rows, color, undefined, width)}\n${verdict}\n${hints.length ? `to make it fit:\n${hints.join('\n')}\n` : ''}${Object.values(f).some((x) => x.approximate) ? '~ marks approximate figures; --explain shows every formula\n' : ''}`, width, '  ');
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
  addPruningOptions(addCarbonOptions(addModelOptions(cmd, ['kvPrecision'])), false)
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
    .option('--mfu <fraction>', 'model FLOPs utilisation: model FLOPs / (devices x dense peak x time) (default: per hardware family from published runs)')
    .option('--goodput <fraction>', 'share of a whole run spent in training steps, for the whole-run figures (default 0.9: Llama 3 paper sec. 3.3.4)')
    .option('--teacher <preset>', '--method distill: the teacher model preset')
    .option('--teacher-gpu <preset>', '--method distill: the teacher\'s own devices (default: co-located on the student\'s)')
    .option('--teacher-count <n>', '--method distill: teacher devices (default --count)')
    .option('--teacher-tokens <count>', '--method distill: tokens the teacher scores or generates (default --tokens)')
    .option('--distill-data <kind>', '--method distill: logits (teacher forward over the training tokens, default) or synthetic (the teacher generates them)')
    .option('--serve-gpu <preset>', '--method distill: device the student and teacher are compared on when served (default --gpu)')
    .option('--serve-batch <n>', '--method distill: serving batch of that comparison (default 32)')
    .option('--cp <n>', 'context-parallel degree (default 1)')
    .option('--sequence-parallel', 'shard norm and dropout activations across TP ranks (default on when --tp > 1)')
    .option('--no-sequence-parallel', 'keep them replicated')
    .addOption(formatOption())
    .addOption(explainOption());
  // --tp and --pp may already come with the shared model options
  if (!cmd.options.some((o) => o.long === '--tp')) cmd.option('--tp <n>', 'tensor-parallel degree (default 1)');
  if (!cmd.options.some((o) => o.long === '--pp')) cmd.option('--pp <n>', 'pipeline-parallel degree (default 1)');
  cmd.action(async (opts: Record<string, unknown>) => {
      const { raw, origins } = await collectRaw(opts, TRAIN_KEYS);
      const hub = await fetchHubFor(raw, origins, ctx.env);
      const { input, warnings } = resolveTrain(raw, origins, await ctx.catalog(), hub);
      const result = train(input);
      result.warnings.unshift(...warnings);
      const title = `${result.input.model.name} training on ${result.input.hardware.count} x ${result.input.hardware.name}`;
      ctx.out(await renderOutput(opts.format as OutputFormat, { document: result, figures: result.figures, sections: TRAIN_SECTIONS, title, table: (color, width) => renderTrainTable(result, color, width) }, ctx.color, ctx.width()));
      if (opts.explain) explain(ctx, String(opts.format), result.figures, opts.explain);
      for (const w of result.warnings) ctx.warn(w);
    });
  return cmd;
}
