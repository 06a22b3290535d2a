import { Command } from 'commander';
import { UserError, unknownChoice } from '../errors.js';
import { estimate } from '../estimate/index.js';
import type { EstimateInput } from '../estimate/input.js';
import { launchCommands, pricedHardware, searchPlans, type PlanRequest, type PlanRow, type Targets } from '../estimate/plan.js';
import { renderExplain } from '../format/explain.js';
import { formatSeconds, formatValue } from '../format/human.js';
import { formatOption, renderOutput, type OutputFormat, type Rows } from '../format/render.js';
import { positiveInt, positiveNumber } from '../spec/options.js';
import { FORMATS, formatByName, FORMAT_NAMES_HELP, KV_FORMAT_IDS, type Format } from '../spec/precision.js';
import { choosePrice } from '../spec/price.js';
import { findHardware } from '../spec/presets.js';
import { ESTIMATE_KEYS, resolveEstimate, type RawOptions } from '../spec/resolve.js';
import { parseDuration } from '../units.js';
import type { Context } from './context.js';
import { addModelOptions, collectRaw } from './estimate.js';

/** Keys of the model and workload that `plan` passes through to the estimator unchanged. */
const MODEL_KEYS = ['model', 'params', 'hfConfig', 'layers', 'hidden', 'heads', 'kvHeads', 'headDim', 'ffn', 'vocab', 'tiedEmbeddings', 'presets'] as const;
const DEFAULT_WEIGHTS = ['bf16', 'fp8', 'int4'];

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const list = (v: unknown): string[] => String(v).split(',').map((x) => x.trim()).filter(Boolean);

function duration(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const s = parseDuration(String(value));
  if (!Number.isFinite(s) || s <= 0) throw new UserError(`${flag}: invalid value ${JSON.stringify(value)}; expected a duration such as 500ms, 1s or 0.05`);
  return s;
}

export function planCommand(ctx: Context): Command {
  const cmd = new Command('plan')
    .description('what to deploy and how many: accelerators, layouts, formats and replicas that meet latency targets at a load, cheapest first')
    .addHelpText('after', `
--precision and --kv-precision take comma lists here (default: bf16,fp8,int4 weights; KV in the
activation type and fp8). Every row can be reproduced with the \`llm-size estimate\` command printed
for the top pick.

Examples:
  llm-size plan --model llama-3.1-70b --qps 20 --ttft 1s --tpot 50ms
  llm-size plan --model llama-3.1-8b --concurrency 64 --tpot 30ms --hardware l4,a10g,rtx-4090 --provider runpod
  llm-size plan --model mixtral-8x7b --qps 5 --e2e 10s --precision fp8 --max-devices 16 --format json`);
  addModelOptions(cmd)
    .option('--hardware <ids>', 'comma list of hardware presets to consider (default: every preset with a price)')
    .option('--input-tokens <n>', 'prompt tokens per request (default 1024)')
    .option('--output-tokens <n>', 'generated tokens per request (default 256)')
    .option('--context <tokens>', 'tokens the KV cache holds per sequence (default input + output)')
    .option('--qps <rate>', 'requests per second to serve')
    .option('--concurrency <n>', 'requests in flight to serve')
    .option('--ttft <duration>', 'time-to-first-token target, e.g. 500ms')
    .option('--tpot <duration>', 'time-per-output-token target, e.g. 50ms')
    .option('--e2e <duration>', 'end-to-end request time target, e.g. 10s')
    .option('--max-devices <n>', 'most devices in the whole deployment (default 64)')
    .option('--engine <id>', 'serving engine whose memory budget sizes the KV cache (default vllm)')
    .option('--gpus-per-node <n>', 'devices per node (default: each hardware profile\'s)')
    .option('--top <n>', 'rows to show (default 10)')
    .addOption(formatOption())
    .option('--explain', 'print every figure of the top pick with its formula, inputs and source')
    .action(async (opts: Record<string, unknown>) => {
      const { raw, origins } = await collectRaw(opts);
      const catalog = await ctx.catalog();
      if (raw.qps === undefined && raw.concurrency === undefined) throw new UserError('plan needs a load: pass --qps <requests per second> or --concurrency <requests in flight>');
      if (raw.qps !== undefined && raw.concurrency !== undefined) throw new UserError('give --qps or --concurrency, not both');

      // Model, workload, engine: resolved the way estimate resolves them.
      const hardwareIds = opts.hardware !== undefined ? list(opts.hardware) : opts.gpu !== undefined ? list(opts.gpu) : undefined;
      const hardware = hardwareIds?.map((id) => findHardware(catalog, id));
      const modelRaw: RawOptions = { gpu: hardware?.[0]?.id ?? catalog.hardware[0]?.id };
      for (const key of [...MODEL_KEYS, 'inputTokens', 'outputTokens', 'context', 'engine', 'gpusPerNode', 'mfu', 'mbu'] as const) {
        if ((ESTIMATE_KEYS as readonly string[]).includes(key) && raw[key as keyof RawOptions] !== undefined) modelRaw[key as keyof RawOptions] = raw[key as keyof RawOptions];
      }
      const { input: resolved, warnings } = resolveEstimate(modelRaw, origins, catalog);

      const weights: Format[] = (raw.precision !== undefined ? list(raw.precision) : DEFAULT_WEIGHTS).map((name) => {
        const f = formatByName(name);
        if (!f) throw unknownChoice('weight format (--precision)', name, FORMAT_NAMES_HELP);
        return f;
      });
      const kv: PlanRequest['kv'] = raw.kvPrecision !== undefined
        ? list(raw.kvPrecision).map((name) => {
            if (!(KV_FORMAT_IDS as readonly string[]).includes(name.toLowerCase())) throw unknownChoice('KV format (--kv-precision)', name, KV_FORMAT_IDS);
            return FORMATS[name.toLowerCase() as keyof typeof FORMATS];
          })
        : ['activation', FORMATS.fp8];
      const targets: Targets = { ttft: duration(opts.ttft, '--ttft'), tpot: duration(opts.tpot, '--tpot'), e2e: duration(opts.e2e, '--e2e') };
      const qps = raw.qps !== undefined ? positiveNumber({ value: raw.qps, where: '--qps' }, 'requests per second, e.g. 20') : undefined;
      const concurrency = raw.concurrency !== undefined ? positiveInt({ value: raw.concurrency, where: '--concurrency' }) : undefined;
      const maxDevices = opts.maxDevices !== undefined ? positiveInt({ value: opts.maxDevices as string, where: '--max-devices' }) : 64;
      const top = opts.top !== undefined ? positiveInt({ value: opts.top as string, where: '--top' }) : 10;

      const fixedPrice = raw.price !== undefined ? { usdPerHour: positiveNumber({ value: raw.price, where: '--price' }, 'a price in USD per device-hour, e.g. 2.49'), source: '--price' } : undefined;
      const provider = raw.provider !== undefined ? { value: raw.provider, where: '--provider' } : undefined;
      const unpriced: string[] = [];
      const priced = pricedHardware(catalog, hardware, (hw) => {
        if (fixedPrice) return fixedPrice;
        try {
          const p = choosePrice(hw, provider);
          if (!p) unpriced.push(hw.id);
          return p;
        } catch (e) {
          if (e instanceof UserError && hardware === undefined) return undefined;
          throw e;
        }
      });
      if (unpriced.length) warnings.push(`left out for want of a price (pass --price): ${unpriced.join(', ')}`);

      const request: PlanRequest = {
        model: resolved.model, inputTokens: resolved.workload.inputTokens, outputTokens: resolved.workload.outputTokens, context: resolved.workload.context,
        qps, concurrency, targets, hardware: priced, weights, kv, engine: resolved.engine!, maxDevices, gpusPerNode: resolved.gpusPerNode, top, mfu: resolved.mfu, mbu: resolved.mbu,
      };
      if (!request.engine) throw new UserError('no engine profiles in the catalogue; pass --engine');
      const result = searchPlans(request, (i) => estimate(i));
      warnings.push(...result.warnings);

      const modelArgs = MODEL_KEYS.filter((k) => raw[k as keyof RawOptions] !== undefined).map((k) => (raw[k as keyof RawOptions] === true ? `--${kebab(k)}` : `--${kebab(k)} ${raw[k as keyof RawOptions]}`));
      const reproduce = (row: PlanRow) => estimateCommandFor(row.input, modelArgs, { provider: raw.provider, price: raw.price, qps, concurrency });
      const repo = (raw.model !== undefined && catalog.models.find((m) => m.model === resolved.model)?.hfRepo) || resolved.model.name;
      const best = result.rows[0];
      const launch = best ? launchCommands(best, repo, catalog.engines ?? []) : [];
      const describeRow = (r: PlanRow) => ({
        hardware: r.hardware, weights: r.weights, kv: r.kv, tp: r.tp, pp: r.pp, ep: r.ep, devicesPerReplica: r.devicesPerReplica, replicas: r.replicas, devices: r.devices,
        concurrencyPerReplica: r.concurrencyPerReplica, ttft: r.ttftSeconds, tpot: r.tpotSeconds, e2e: r.e2eSeconds, usdPerHour: r.usdPerHour, usdPerMillionOutputTokens: r.usdPerMillionOutputTokens,
        why: r.why, bound: r.bound, estimateCommand: reproduce(r),
      });
      const document = {
        schemaVersion: 1 as const,
        input: {
          model: { id: resolved.model.id, name: resolved.model.name },
          workload: { inputTokens: request.inputTokens, outputTokens: request.outputTokens, context: request.context },
          load: { qps: qps ?? null, concurrency: concurrency ?? null },
          targets: { ttft: targets.ttft ?? null, tpot: targets.tpot ?? null, e2e: targets.e2e ?? null },
          engine: request.engine.id, maxDevices, hardware: priced.map((h) => h.spec.id), weights: weights.map((w) => w.id),
        },
        rows: result.rows.map(describeRow),
        top: best ? { ...describeRow(best), figures: best.estimate.figures, launch } : null,
        closest: result.closest ? { ...describeRow(result.closest.row), failing: result.closest.failing } : null,
        configurationsSearched: result.configurationsSearched,
        configurationsEvaluated: result.configurationsEvaluated,
        configurationsFitting: result.configurationsFitting,
        warnings,
      };
      const rows: Rows = {
        columns: [
          { key: 'rank', label: '#' }, { key: 'hardware', label: 'hardware' }, { key: 'layout', label: 'per replica' }, { key: 'replicas', label: 'replicas' },
          { key: 'formats', label: 'weights/KV' }, { key: 'concurrencyPerReplica', label: 'reqs/replica' }, { key: 'ttft', label: 'TTFT', unit: 's' }, { key: 'tpot', label: 'TPOT', unit: 's' },
          { key: 'usdPerHour', label: 'USD/h', unit: 'USD/h' }, { key: 'usdPerMillionOutputTokens', label: 'USD/M out', unit: 'USD' }, { key: 'bound', label: 'bound by' },
        ],
        rows: result.rows.map((r, i) => ({
          rank: i + 1, hardware: r.hardware, layout: `${r.devicesPerReplica} (tp ${r.tp}${r.pp > 1 ? ` pp ${r.pp}` : ''}${r.ep > 1 ? ` ep ${r.ep}` : ''})`, replicas: r.replicas,
          formats: `${r.weights}/${r.kv}`, concurrencyPerReplica: r.concurrencyPerReplica, ttft: r.ttftSeconds, tpot: r.tpotSeconds, usdPerHour: r.usdPerHour, usdPerMillionOutputTokens: r.usdPerMillionOutputTokens, bound: r.bound,
        })),
      };
      const table = async (color: boolean) => {
        const { renderGrid } = await import('../format/table.js');
        const lines = [`${resolved.model.name}: ${qps !== undefined ? `${qps} requests/s` : `${concurrency} requests in flight`}, ${request.inputTokens} in / ${request.outputTokens} out; targets ${Object.entries(targets).filter(([, v]) => v !== undefined).map(([k, v]) => `${k.toUpperCase()} ${formatSeconds(v!)}`).join(', ') || 'none'}; engine ${request.engine.name}`];
        if (result.rows.length) {
          lines.push(renderGrid(rows.columns.map((c) => c.label), rows.rows.map((r) => rows.columns.map((c) => (typeof r[c.key] === 'number' && c.unit ? formatValue(r[c.key] as number, c.unit) : String(r[c.key])))), color));
          lines.push(`Top pick: ${best.hardwareName}, ${best.replicas} replica(s) of ${best.devicesPerReplica}; ${best.why}.`);
          lines.push(`Reproduce: ${reproduce(best)}`);
          lines.push('Launch (per replica):');
          for (const l of launch) lines.push(`  ${l.command}`);
        } else if (result.closest) {
          const c = result.closest.row;
          lines.push(`Nothing meets the targets. Closest: ${c.hardware}, ${c.devicesPerReplica} device(s) (tp ${c.tp}${c.pp > 1 ? ` pp ${c.pp}` : ''}), ${c.weights}/${c.kv}: ${result.closest.failing.join('; ')}.`);
        } else lines.push('Nothing fits: no accelerator in the search holds the model within --max-devices.');
        lines.push(`${result.configurationsSearched} configurations in the search; ${result.configurationsEvaluated} estimated (the rest cost more per hour than the rows found), ${result.configurationsFitting} of them fit.`);
        return `${lines.join('\n')}\n`;
      };
      const title = `plan: ${resolved.model.name}`;
      ctx.out(await renderOutput(opts.format as OutputFormat, { document, rows, title, table }, ctx.color));
      if (opts.explain && best) ctx.out(renderExplain(best.estimate.figures));
      for (const w of warnings) ctx.warn(w);
    });
  return cmd;
}

/** The `llm-size estimate` command that reproduces a plan row's figures. */
export function estimateCommandFor(input: EstimateInput, modelArgs: string[], extra: { provider?: unknown; price?: unknown; qps?: number; concurrency?: number }): string {
  const p = input.parallel!;
  const parts = ['llm-size estimate', ...modelArgs, `--gpu ${input.hardware.id}`, `--tp ${p.tp}`, `--pp ${p.pp}`];
  if (p.ep > 1) parts.push(`--ep ${p.ep}`);
  parts.push(`--replicas ${p.replicas}`, `--precision ${input.weights.id}`, `--kv-precision ${input.kv.id}`, `--engine ${input.engine!.id}`);
  parts.push(extra.qps !== undefined ? `--qps ${extra.qps}` : `--concurrency ${extra.concurrency}`);
  parts.push(`--input-tokens ${input.workload.inputTokens}`, `--output-tokens ${input.workload.outputTokens}`, `--context ${input.workload.context}`);
  if (input.gpusPerNode !== undefined) parts.push(`--gpus-per-node ${input.gpusPerNode}`);
  if (input.mfu !== undefined) parts.push(`--mfu ${input.mfu}`);
  if (input.mbu !== undefined) parts.push(`--mbu ${input.mbu}`);
  if (extra.price !== undefined) parts.push(`--price ${extra.price}`);
  else if (extra.provider !== undefined) parts.push(`--provider ${extra.provider}`);
  return parts.join(' ');
}
