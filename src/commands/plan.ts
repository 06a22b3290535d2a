import { Command, Option } from 'commander';
import { explain, explainOption } from './context.js';
import { formatSeconds, formatValue } from '../format/human.js';
import { formatOption, renderOutput, type OutputFormat, type Rows } from '../format/render.js';
import { fetchHubFor } from '../inputs/resolve.js';
import { PLAN_KEYS, runPlan } from '../inputs/resolve-plan.js';
import { LATENCY_METRICS, PERCENTILES } from '../inputs/resolve-simulate.js';
import { WORKLOAD_IDS } from '../inputs/traffic.js';
import type { Context } from './context.js';
import type { PlanRow } from '../estimate/plan.js';
import type { PriceKind } from '../inputs/hardware.js';
import { addEfficiencyOptions, addEngineOptions, addModelOptions, collectRaw } from './estimate.js';

/** A row priced as owned hardware: its hourly price amortizes a purchase (cost.capexUsd). */
const owned = (r: { estimate: { figures: Record<string, unknown> } }): boolean => r.estimate.figures['cost.capexUsd'] !== undefined;

/**
 * The kind of a row's price where it is not the kind the plan ranks by: (owned) for an
 * amortized purchase, (marketplace) for an offer where no cloud lists a price.
 */
const kindTag = (r: PlanRow, asked: PriceKind): string => {
  const kind = r.input.price?.kind;
  if (owned(r)) return asked === 'purchase' ? '' : ' (owned)';
  return kind && kind !== asked ? ` (${kind})` : '';
};

/** What the prices of a plan are, in a line: the kind it ranks by. */
const PRICE_LINES: Record<PriceKind, string> = {
  'on-demand': 'on-demand rents (the median of the providers\' list prices; a marketplace offer where no cloud lists one)',
  'reserved-1y': '1-year reserved rents',
  'reserved-3y': '3-year reserved rents',
  spot: 'spot rents (interruptible)',
  marketplace: 'marketplace offers',
  purchase: 'owned hardware: the purchase amortized, plus electricity and colocation',
};

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
  llm-size plan --model mixtral-8x7b --qps 5 --e2e 10s --precision fp8 --max-devices 16 --format json
  llm-size plan --model llama-3.1-70b --qps 20 --ttft-p99 1s --tpot-p90 50ms --output-tokens lognormal:mean=1200,sd=1500

Plain --ttft/--tpot/--e2e are medians. Percentile targets (--ttft-p99 ...) and length
distributions make plan serve its rows in simulation (llm-size simulate) and rank them by it.`);
  addEngineOptions(addEfficiencyOptions(addModelOptions(cmd, ['memory', 'count'])))
    .option('--hardware <ids>', 'comma list of hardware presets to consider (default: every preset with a price)')
    .option('--input-tokens <n|dist>', 'prompt tokens per request (default 1024), or a distribution (uniform:, lognormal:, zipf:, trace:; rows are then verified by simulation)')
    .option('--output-tokens <n|dist>', 'generated tokens per request (default 256), or a distribution as for --input-tokens')
    .option('--workload <preset>', `request-length preset: ${WORKLOAD_IDS.join(', ')}`)
    .option('--context <tokens>', 'tokens the KV cache holds per sequence (default input + output)')
    .option('--allow-beyond-trained', 'size a --context beyond the window the model was trained for instead of refusing it')
    .option('--qps <rate>', 'requests per second to serve')
    .option('--concurrency <n>', 'requests in flight to serve')
    .option('--ttft <duration>', 'time-to-first-token target, e.g. 500ms')
    .option('--tpot <duration>', 'time-per-output-token target, e.g. 50ms')
    .option('--e2e <duration>', 'end-to-end request time target, e.g. 10s')
    .option('--max-devices <n>', 'most devices in the whole deployment (default 64)')
    .option('--engine <id[@version]>', 'serving engine for every configuration it runs (default: the engine for each device and weight format); pin a version with @ (vllm@0.7)')
    .option('--gpus-per-node <n>', 'devices per node (default: each hardware profile\'s)')
    .option('--top <n>', 'rows to show (default 10)')
    .option('--pue <ratio>', 'owned hardware: data-centre power usage effectiveness, facility / IT energy (default 1.56: Uptime Institute 2024)')
    .addOption(new Option('--disaggregated <mode>', 'disaggregated prefill/decode pools beside the aggregated rows: auto (default with --qps: the cheaper wins), on (the disaggregated pick), off').choices(['auto', 'on', 'off']));
  for (const metric of LATENCY_METRICS) for (const p of PERCENTILES) cmd.option(`--${metric}-p${p} <duration>`, `${metric.toUpperCase()} p${p} target, checked by simulation`);
  cmd
    .option('--arrival <process>', 'how requests arrive in the simulation: poisson (default), gamma:cv=2, constant')
    .option('--requests <n>', 'requests each simulation serves (default 1,000)')
    .option('--seed <n>', 'random seed of the simulations (default 1)')
    .option('--simulate', 'verify the rows by simulation even without percentile targets or distributions')
    .addOption(formatOption())
    .option('--compare-api', 'compare the top pick with per-token API prices of the model (presets/api): break-even utilisation and the monthly volume above which self-hosting is cheaper')
    .option('--cached-input <fraction>', 'with --compare-api: share of input tokens the API bills at its cached-input price (default: the prefix cache\'s hit share, else 0)')
    .option('--cached-input-discount <share>', 'with --compare-api: discount off the input price for cached tokens where an API lists no cached price')
    .option('--speculative <method>', 'try speculative decoding beside plain decoding and keep it where it pays: eagle, eagle3, mtp, ngram, draft:<model> (default with --accepted-length: mtp where the model has MTP modules, else eagle3)')
    .option('--draft-tokens <k>', 'with speculation: tokens drafted per step (default 3; mtp: one per module)')
    .option('--acceptance <a>', 'with speculation: per-token acceptance rate, 0-1')
    .option('--accepted-length <L>', 'with speculation: mean tokens per target step (vLLM "Mean acceptance length")')
    .option('--prefix-tokens <n>', 'prefix caching: prompt tokens every request shares, stored once per replica')
    .option('--cache-hit-rate <h>', 'prefix caching: share of the prefix (or of the prompt) found cached, 0-1')
    .addOption(explainOption('every figure of the top pick'))
    .action(async (opts: Record<string, unknown>) => {
      const { raw, origins } = await collectRaw(opts, PLAN_KEYS);
      const hub = await fetchHubFor(raw, origins, ctx.env);
      const { document, request, result, ownedResult, launch, reproduce, warnings } = runPlan(raw, origins, await ctx.catalog(), hub);
      const asked = document.input.priceKind;
      const { qps, concurrency, targets } = request;
      const best = result.rows[0];
      const sim = document.simulation;
      // Simulated rows: the medians, then each percentile the targets name (from the simulation).
      const percentileColumns = (sim?.targets ?? []).filter((t) => t.percentile !== 50).map((t) => ({ key: `latency.${t.metric}.p${t.percentile}`, label: `${t.metric.toUpperCase()} p${t.percentile}`, unit: 's' as const }));
      const rows: Rows = {
        columns: [
          { key: 'rank', label: '#' }, { key: 'hardware', label: 'hardware' }, { key: 'layout', label: 'per replica' }, { key: 'replicas', label: 'replicas' },
          { key: 'formats', label: 'weights/KV' }, { key: 'concurrencyPerReplica', label: sim ? 'peak reqs' : 'reqs/replica' }, { key: 'ttft', label: sim ? 'TTFT p50' : 'TTFT', unit: 's' }, { key: 'tpot', label: sim ? 'TPOT p50' : 'TPOT', unit: 's' },
          ...percentileColumns,
          { key: 'usdPerHour', label: 'USD/h', unit: 'USD/h' }, { key: 'usdPerMillionOutputTokens', label: 'USD/M out', unit: 'USD' }, { key: 'bound', label: 'bound by' },
        ],
        rows: result.rows.map((r, i) => ({
          rank: i + 1, hardware: `${r.hardware}${kindTag(r, asked)}`, layout: `${r.devicesPerReplica} (${layoutText(r)})`, replicas: r.replicas,
          formats: `${r.weights}/${r.kv}`, concurrencyPerReplica: r.concurrencyPerReplica, ttft: r.ttftSeconds, tpot: r.tpotSeconds,
          ...Object.fromEntries(percentileColumns.map((c) => [c.key, r.estimate.figures[c.key]?.value ?? null])),
          usdPerHour: r.usdPerHour, usdPerMillionOutputTokens: r.usdPerMillionOutputTokens, bound: r.bound,
        })),
      };
      const table = async (color: boolean, width: number) => {
        const { renderGrid } = await import('../format/table.js');
        const { blockWidth, wrapCommand, wrapText } = await import('../format/width.js');
        const reproduceLine = (command: string) => (`Reproduce: ${command}`.length <= width ? `Reproduce: ${command}` : `Reproduce:\n${wrapCommand(command, width)}`);
        const targetText = sim
          ? sim.targets.map((t) => `${t.metric.toUpperCase()} p${t.percentile} ${formatSeconds(t.seconds)}`).join(', ')
          : Object.entries(targets).filter(([, v]) => v !== undefined).map(([k, v]) => `${k.toUpperCase()} ${formatSeconds(v!)}`).join(', ');
        const lines = [`${request.model.name}: ${qps !== undefined ? `${qps} requests/s` : `${concurrency} requests in flight`}, ${sim ? `${document.input.workload.inputTokens} in / ${document.input.workload.outputTokens} out on average` : `${request.inputTokens} in / ${request.outputTokens} out`}; targets ${targetText || 'none'}; engine ${document.input.engine}`];
        // the kind the rows rank by: the one asked for, or owned hardware where only owned hardware was searched
        const mainOwned = request.hardware.length > 0 && request.hardware.every((h) => h.price.purchaseUsd !== undefined);
        lines.push(`Prices: ${PRICE_LINES[mainOwned ? 'purchase' : asked]}.`);
        if (result.rows.length) {
          const full = renderGrid(rows.columns.map((c) => c.label), rows.rows.map((r) => rows.columns.map((c) => (typeof r[c.key] === 'number' && c.unit ? formatValue(r[c.key] as number, c.unit) : String(r[c.key])))), color);
          // On a narrow terminal: one column for the deployment (hardware, replicas x layout,
          // formats, requests each, and what bounds it), word-wrapped to the room left.
          lines.push(blockWidth(full) <= width ? full : renderGrid(
            ['#', 'deployment', 'TTFT', 'TPOT', 'USD/h', 'USD/M out'],
            result.rows.map((r, i) => [String(i + 1), `${r.hardware}${kindTag(r, asked)} ${r.replicas} x ${rows.rows[i]!.layout}\n${r.weights}/${r.kv}, ${r.concurrencyPerReplica} reqs each\nbound by ${r.bound}`, formatValue(r.ttftSeconds, 's'), formatValue(r.tpotSeconds, 's'), formatValue(r.usdPerHour, 'USD/h'), formatValue(r.usdPerMillionOutputTokens, 'USD')]),
            color, width,
          ));
          lines.push(`Top pick: ${best.hardwareName}, ${best.replicas} replica(s) of ${best.devicesPerReplica}; ${best.why}.`);
          // a price that amortizes a purchase (--amortize-years, or the default rule for a device no cloud rents) is owned hardware's, not a rental's
          if (owned(best)) lines.push(ownedLine(best));
          // --power-watts / --usd-per-kwh: the top pick's energy and electricity, and owned hardware's month, as estimate gives them
          const f = best.estimate.figures;
          if (request.powerWatts !== undefined || request.usdPerKwh !== undefined) {
            const parts = [
              ...(f['energy.joulesPerMillionOutputTokens'] ? [`${formatValue(f['energy.joulesPerMillionOutputTokens'].value, 'J')} per million output tokens${request.powerWatts !== undefined ? ` at ${request.powerWatts} W per device` : ''}`] : []),
              ...(f['cost.electricityUsdPerMillionOutputTokens'] ? [`electricity ${formatValue(f['cost.electricityUsdPerMillionOutputTokens'].value, 'USD')} per million output tokens at ${request.usdPerKwh} USD/kWh`] : []),
              ...(f['cost.ownedUsdPerMonth'] ? [`owned: ${formatValue((f['cost.amortizedUsdPerMonth'] ?? f['cost.usdPerMonth']).value, 'USD')} a month of amortized purchase + ${formatValue(f['cost.electricityUsdPerMonth'].value, 'USD')} of electricity${f['cost.hostingUsdPerMonth'] ? ` + ${formatValue(f['cost.hostingUsdPerMonth'].value, 'USD')} of colocation` : ''} = ${formatValue(f['cost.ownedUsdPerMonth'].value, 'USD')}`] : []),
            ];
            if (parts.length) lines.push(`Energy (top pick): ${parts.join('; ')}.`);
          }
          if (sim) {
            lines.push(`Simulated: ${sim.rowsVerified} deployment(s) served in simulation (${sim.simulations} runs), ranked by the replicas their percentiles need.`);
            if (sim.devicesAddedByPercentiles !== null && sim.medianBest && sim.targets.some((t) => t.percentile !== 50)) {
              const m = sim.medianBest;
              const added = sim.devicesAddedByPercentiles;
              const dollars = sim.usdPerHour! - m.usdPerHour;
              lines.push(`${added > 0 ? `Percentile targets add ${added} device(s)` : added < 0 ? `Percentile targets take ${-added} device(s) fewer` : 'Percentile targets add no devices'}${Math.abs(dollars) >= 0.005 ? ` and ${formatValue(Math.abs(dollars), 'USD/h')}${dollars < 0 ? ' less' : ''}` : ''}: the top pick meets them with ${sim.devices} devices at ${formatValue(sim.usdPerHour!, 'USD/h')}; the same thresholds on the median need ${m.devices} (${m.hardware}, ${m.replicas} replica(s) of ${m.devicesPerReplica}, ${m.weights}/${m.kv}, ${formatValue(m.usdPerHour, 'USD/h')})${sim.topPickMedianDevices !== null && sim.topPickMedianDevices !== sim.devices ? `; the top pick's own layout ${sim.topPickMedianDevices}` : ''}.`);
            }
          }
          lines.push(`Engine: ${best.estimate.input.engineChoice?.name} (${best.estimate.input.engineChoice?.reason}).`);
          lines.push(reproduceLine(reproduce(best)));
          lines.push('Launch (per replica; every engine that runs this device and format):');
          for (const l of launch) lines.push(wrapCommand(l.command, width));
        } else if (result.closest) {
          const { row: c, failing, maxDevices } = result.closest;
          const layout = `${c.devicesPerReplica} device(s) (tp ${c.tp}${c.pp > 1 ? ` pp ${c.pp}` : ''}), ${c.weights}/${c.kv}`;
          if (maxDevices > request.maxDevices) {
            lines.push(`Nothing meets the targets within --max-devices ${request.maxDevices}: every deployment that meets them needs more devices.`);
            lines.push(`The best found with --max-devices ${maxDevices} is ${c.hardware}, ${c.replicas} replica(s) of ${layout}: ${c.devices} devices, ${formatValue(c.usdPerHour, 'USD/h')}, ${formatValue(c.usdPerMillionOutputTokens, 'USD')} per million output tokens; ${c.why}.`);
            lines.push(reproduceLine(reproduce(c)));
          } else lines.push(`Nothing meets the targets. Closest: ${c.hardware}, ${layout}: ${failing.join('; ')}.`);
        } else if (result.configurationsSearched === 0) {
          // nothing to estimate: no engine profile runs the searched formats on these devices
          lines.push(`Nothing to search: no engine profile runs ${request.weights.map((w) => w.id).join(', ')} weights on ${request.hardware.map((h) => h.spec.id).join(', ')} (presets/engines: supports; --precision, --hardware or --engine ideal for the bare memory balance).`);
        } else if (result.configurationsFitting === 0) {
          lines.push(`Nothing fits: no accelerator in the search holds the model on up to ${Math.min(request.maxDevices, 64)} devices per replica (--max-devices ${request.maxDevices}).`);
        } else lines.push(`Nothing meets the targets: ${result.configurationsFitting} configuration(s) fit, but none carries the load within the targets.`);
        // owned hardware, ranked apart from the rentals (document.owned): each device's best row, or why it has none
        if (ownedResult && document.owned) {
          lines.push(`Owned hardware, ranked apart from the rents (${document.owned.hardware.join(', ')}: no public rental price; buying is another decision): USD per hour of every hour, the purchase amortized plus electricity and colocation:`);
          const best = ownedResult.rows.filter((r, i) => ownedResult.rows.findIndex((x) => x.hardware === r.hardware) === i);
          for (const r of best) lines.push(`  ${r.hardware} ${r.replicas} x ${r.devicesPerReplica} (${layoutText(r)}), ${r.weights}/${r.kv}: ${formatValue(r.usdPerHour, 'USD/h')}, ${formatValue(r.usdPerMillionOutputTokens, 'USD')} per million output tokens; ${formatValue(r.estimate.figures['cost.capexUsd']?.value ?? 0, 'USD')} to buy`);
          for (const h of document.owned.byHardware) if (!best.some((r) => r.hardware === h.hardware)) lines.push(`  ${h.hardware}: ${h.text}`);
          if (best[0]) lines.push(`  ${ownedLine(best[0])}`);
        }
        const api = document.compareApi;
        if (api) {
          const { grouped } = await import('../format/human.js');
          const formatCount = (x: number) => (x >= 1e9 ? `${+(x / 1e9).toPrecision(3)} billion` : x >= 1e6 ? `${+(x / 1e6).toPrecision(3)} million` : grouped(Math.round(x)));
          const perM = (v: number) => (v >= 1000 ? formatValue(v, 'USD') : `$${+v.toFixed(3)}`);
          lines.push(`Against API prices of ${api.model} (USD per million tokens): the top pick costs ${formatValue(api.selfHostUsdPerMonth, 'USD')} a month and carries ${formatCount(api.requestsPerMonthAtLoad)} requests (${formatCount(api.tokensPerMonthAtLoad)} tokens) a month at the planned load${api.cachedInputShare ? `; ${+(api.cachedInputShare * 100).toFixed(1)}% of input tokens at the cached price` : ''}.`);
          lines.push(renderGrid(
            ['provider', 'in / out', 'dated', 'API at this load', 'break-even', 'self-hosting cheaper above'],
            api.rows.map((r) => [r.provider, `${perM(r.usdPerMillionInput)} / ${perM(r.usdPerMillionOutput)}${r.usdPerMillionCachedInput !== null ? `\ncached ${perM(r.usdPerMillionCachedInput)}` : ''}`, r.date, `${formatValue(r.apiUsdPerMonthAtLoad, 'USD')}/month`, `${+(r.breakEvenUtilisation * 100).toPrecision(3)}% of load`, r.selfHostingCanBeCheaper ? `${formatCount(r.breakEvenTokensPerMonth)} tokens/month` : 'never at this size (the API costs less even fully used)']),
            color, width,
          ));
        }
        // the hardware the user named: each one's best row, or why it has none
        if (request.hardwareNamed && result.byHardware.length > 1) {
          lines.push('By hardware:');
          for (const h of result.byHardware) lines.push(`  ${h.hardware} (${formatValue(h.usdPerDeviceHour, 'USD/h')} per device): ${h.text}`);
        }
        // what each kind of layout came to (attention DP and wide EP are searched for MoE models)
        if (document.byLayout.length > 1) {
          lines.push('By layout (cheapest meeting the targets):');
          for (const f of document.byLayout) lines.push(`  ${f.family}: ${f.usdPerMillionOutputTokens !== null ? `${formatValue(f.usdPerMillionOutputTokens, 'USD')} per million output tokens, ${f.hardware} ${f.replicas} x ${f.devicesPerReplica}` : f.note === 'costlier' ? 'meets the targets, but costs more than the rows found' : f.note === 'needs-devices' ? `meets the targets only beyond --max-devices ${request.maxDevices}` : f.note === 'unestimated' ? (f.estimated ? 'none of those estimated meets the targets; the rest cost more per hour than the rows found' : 'not estimated: one replica costs more per hour than the rows found') : f.estimated ? `none meets the targets within --max-devices ${request.maxDevices}` : 'not estimated: one replica costs more per hour than the rows found'}`);
        }
        const dis = document.disaggregated;
        if (dis) {
          const b = dis.best;
          if (b) {
            const poolText = (name: string, p: NonNullable<typeof b>['prefill']) => `  ${name}: ${p.workers} x ${p.devicesPerWorker} ${p.hardware} (${layoutText(p)}), ${p.weights}/${p.kv}, ${p.batch} ${name === 'prefill' ? 'prompts per step' : 'sequences'} per worker, ${formatValue(p.usdPerHour, 'USD/h')}`;
            lines.push(`Disaggregated (${dis.mode === 'on' ? '--disaggregated on' : 'considered'}): ${b.devices} devices, P:D ${b.prefill.devices}:${b.decode.devices}; TTFT ${formatSeconds(b.ttft)} (KV transfer ${formatSeconds(b.kvTransfer.seconds)}), TPOT ${formatSeconds(b.tpot)}; ${formatValue(b.usdPerHour, 'USD/h')}, ${formatValue(b.usdPerMillionOutputTokens, 'USD')} per million output tokens`);
            lines.push(poolText('prefill', b.prefill), poolText('decode', b.decode));
          }
          lines.push(`Verdict: ${dis.why}.`);
          if (b && dis.winner === 'disaggregated') {
            lines.push(reproduceLine(b.estimateCommand));
            lines.push('Launch (one line per pool; a worker on several nodes runs its line on each):');
            for (const l of dis.launch) lines.push(wrapCommand(l.command, width));
          }
        }
        const skipped = result.configurationsSearched - result.configurationsEvaluated;
        lines.push(`${result.configurationsSearched} configurations in the search; ${result.configurationsEvaluated} estimated${skipped ? ` (the other ${skipped} cost more per hour than the rows found)` : ''}, ${result.configurationsFitting} of them fit.`);
        return `${wrapText(lines.join('\n'), width, '    ')}\n`;
      };
      const title = `plan: ${request.model.name}`;
      ctx.out(await renderOutput(opts.format as OutputFormat, { document, rows, title, table }, ctx.color, ctx.width()));
      if (opts.explain) explain(ctx, String(opts.format), best?.estimate.figures, opts.explain);
      for (const w of warnings) ctx.warn(w);
    });
  return cmd;
}

/** Under an owned row: what its hourly price holds, and what buying it costs up front. */
function ownedLine(r: PlanRow): string {
  const f = r.estimate.figures;
  const years = r.input.price?.amortizeYears;
  const parts = f['cost.ownedUsdPerDeviceHour']
    ? `${formatValue(f['cost.amortizedUsdPerDeviceHour']!.value, 'USD/h')} purchase amortized over ${years} year(s) + ${formatValue(f['cost.electricityUsdPerDeviceHour']!.value, 'USD/h')} electricity + ${formatValue(f['cost.hostingUsdPerDeviceHour']!.value, 'USD/h')} colocation per device`
    : `the purchase amortized over ${years} year(s)`;
  return `Priced as owned hardware: ${parts}; ${formatValue(f['cost.capexUsd']?.value ?? 0, 'USD')} to buy its ${r.devices} device(s) up front; networking, staff and the cost of capital are not in it: not a rental price.`;
}

export { estimateCommandFor } from '../inputs/resolve-plan.js';

/** A layout in words: tp 8 ep 8, or dp-attn 32 ep 32 for attention data parallelism. */
export const layoutText = (r: { tp: number; pp: number; ep: number; dpAttention: number }): string =>
  `${r.dpAttention > 1 ? `dp-attn ${r.dpAttention}${r.tp / r.dpAttention > 1 ? ` tp ${r.tp / r.dpAttention}` : ''}` : `tp ${r.tp}`}${r.pp > 1 ? ` pp ${r.pp}` : ''}${r.ep > 1 ? ` ep ${r.ep}` : ''}`;
