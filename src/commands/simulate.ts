import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { UserError } from '../errors.js';
import { explainAfter, selectFigures } from '../format/explain.js';
import { formatOption, renderOutput, type OutputFormat, type Rows } from '../format/render.js';
import { fetchHubFor } from '../inputs/resolve.js';
import { LATENCY_METRICS, PERCENTILES, runSimulate, SIMULATE_KEYS, type SimulationDocument, type SimulationSweepDocument } from '../inputs/resolve-simulate.js';
import { ARRIVAL_HELP, WORKLOAD_IDS } from '../inputs/traffic.js';
import { explainOption, type Context } from './context.js';
import { addEfficiencyOptions, addModelOptions, addServingOptions, collectRaw } from './estimate.js';

/**
 * `llm-size simulate`: a discrete-event simulation of one deployment serving a stream of
 * requests (src/estimate/simulate.ts): percentile latencies, throughput, goodput, the engine's
 * queue and KV use over time; with --qps a..b, latency against offered load as a chart.
 */
export function simulateCommand(ctx: Context): Command {
  const cmd = new Command('simulate')
    .description('simulate a deployment serving a stream of requests: p50/p90/p95/p99 latencies, throughput, goodput, queue and KV use over time')
    .addHelpText('after', `
Loads: --qps 5 (Poisson arrivals; --arrival gamma:cv=2 for bursts), --qps 1..20 (a sweep of ${10}
rates, charted), --concurrency 64 (64 clients, each sending its next request when one ends), or
--arrival trace with a trace file as --input-tokens/--output-tokens (replayed as recorded).
Targets: --ttft 200ms is the median; --ttft-p99 1s, --tpot-p90 50ms ... on other percentiles.

Examples:
  llm-size simulate --model llama-3.1-8b --gpu h100-sxm --qps 10
  llm-size simulate --model llama-3.1-70b --gpu h100 --tp 4 --qps 5 --output-tokens lognormal:mean=1200,sd=1500 --ttft-p99 1s --tpot-p90 50ms
  llm-size simulate --model llama-3.1-8b --workload chat --qps 1..40 --format svg --output load.svg
  llm-size simulate --model llama-3.1-8b --input-tokens trace:burst.csv --output-tokens trace:burst.csv --arrival trace`);
  addServingOptions(addEfficiencyOptions(addModelOptions(cmd)))
    .option('--input-tokens <n|dist>', 'prompt tokens per request (default 1024), or a distribution: uniform:128..2048, lognormal:mean=1024,sd=600, zipf:s=1.1,max=8192, trace:<file>')
    .option('--output-tokens <n|dist>', 'generated tokens per request (default 256), or a distribution as for --input-tokens')
    .option('--workload <preset>', `request-length preset with its source: ${WORKLOAD_IDS.join(', ')}`)
    .option('--context <tokens>', 'the longest request the engine serves (default: the model\'s context); longer ones are cut')
    .option('--qps <rate>', 'requests per second offered: a rate (5), a list (1,2,4) or a range (1..20)')
    .option('--concurrency <n>', 'clients, each with one request in flight (closed loop, as genai-perf and NIM benchmarks run)')
    .option('--arrival <process>', `how requests arrive at the --qps rate: ${ARRIVAL_HELP} (default poisson)`)
    .option('--requests <n>', 'requests to simulate (default 1,000)')
    .option('--seed <n>', 'random seed for lengths and arrivals (default 1)')
    .option('--ttft <duration>', 'median time-to-first-token target, e.g. 500ms (goodput and verdict)')
    .option('--tpot <duration>', 'median time-per-output-token target, e.g. 50ms')
    .option('--itl <duration>', 'median inter-token latency target')
    .option('--e2e <duration>', 'median end-to-end target, e.g. 10s');
  for (const metric of LATENCY_METRICS) for (const p of PERCENTILES) cmd.option(`--${metric}-p${p} <duration>`, `${metric.toUpperCase()} p${p} target`);
  cmd
    .addOption(formatOption(['svg']))
    .option('--output <file>', 'write the output to a file instead of stdout (for --format svg)')
    .addOption(explainOption('every figure of the simulation'))
    .action(async (opts: Record<string, unknown>) => {
      const { raw, origins } = await collectRaw(opts, SIMULATE_KEYS);
      const catalog = await ctx.catalog();
      const hub = await fetchHubFor(raw, origins, ctx.env);
      const { document } = runSimulate(raw, origins, catalog, hub);
      const format = opts.format as OutputFormat | 'svg';
      const sweep = 'points' in document;
      const title = `${document.input.model.name} on ${document.input.hardware.count} x ${document.input.hardware.name}: simulated`;
      let text: string;
      if (format === 'svg') {
        if (!sweep) throw new UserError('--format svg charts latency against offered load: give --qps a range (e.g. 1..20) or a list (1,2,4,8)');
        const { sweepChartData } = await import('../format/simulate.js');
        text = (await import('../format/svg.js')).renderCurvesSvg(sweepChartData(document), `${document.input.model.name}: latency percentiles against offered load`);
      } else if (sweep) {
        const rows = sweepRows(document);
        // prose lines word-wrapped to the terminal (COLUMNS), as estimate, plan and sweep do
        const table = async (color: boolean, width: number) => (await import('../format/width.js')).wrapText(await (await import('../format/simulate.js')).renderSweepTable(document, color, ctx.isTty, width), width, '  ');
        text = await renderOutput(format, { document, rows, title, table }, ctx.color, ctx.width());
      } else {
        const single = document as SimulationDocument;
        const table = async (color: boolean, width: number) => (await import('../format/width.js')).wrapText((await import('../format/simulate.js')).renderSimulationTable(single, color, ctx.isTty), width, '  ');
        text = await renderOutput(format, { document: single, figures: single.figures, title, table }, ctx.color, ctx.width());
        // --explain [figure]: every figure, or one figure's tree, by the one rule estimate and plan follow
        if (opts.explain && format === 'table') text += explainAfter('table', single.figures, typeof opts.explain === 'string' ? opts.explain : true, ctx.width()).text;
      }
      // a figure id is checked whatever the format, so a typo is not silent
      if (typeof opts.explain === 'string') selectFigures(sweep ? (document as SimulationSweepDocument).points[0]!.figures : (document as SimulationDocument).figures, opts.explain);
      if (opts.explain && (format !== 'table' || sweep)) ctx.warn(`--explain adds text to a single simulation's table only; --format ${format} already carries each figure's formula, inputs and source`);
      if (typeof opts.output === 'string') {
        try {
          writeFileSync(opts.output, text);
        } catch (e) {
          throw new UserError(`--output: cannot write "${opts.output}": ${(e as Error).message}`);
        }
        ctx.err(`wrote ${opts.output}\n`);
      } else ctx.out(text);
      for (const w of document.warnings) ctx.warn(w);
    });
  return cmd;
}

/** A sweep as rows (csv, markdown): exact values in base units. */
function sweepRows(doc: SimulationSweepDocument): Rows {
  const ids = ['latency.ttft.p50', 'latency.ttft.p90', 'latency.ttft.p95', 'latency.ttft.p99', 'latency.tpot.p50', 'latency.tpot.p90', 'latency.tpot.p95', 'latency.tpot.p99', 'latency.itl.p50', 'latency.itl.p95', 'latency.itl.p99', 'latency.e2e.p50', 'latency.e2e.p90', 'latency.e2e.p95', 'latency.e2e.p99', 'throughput.requestsPerSecond', 'throughput.outputTokensPerSecond', 'goodput.fraction'];
  const present = ids.filter((id) => doc.points.some((p) => p.figures[id]));
  return {
    columns: [{ key: 'qps', label: 'requests/s offered', unit: 'requests/s' }, ...present.map((id) => ({ key: id, label: doc.points[0].figures[id]?.label ?? id, unit: doc.points[0].figures[id]?.unit }))],
    rows: doc.points.map((p) => ({ qps: p.qps, ...Object.fromEntries(present.map((id) => [id, p.figures[id]?.value ?? null])) })),
  };
}
