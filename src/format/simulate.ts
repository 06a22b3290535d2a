import type { Figures } from '../estimate/terms.js';
import type { SimulationDocument, SimulationInputSummary, SimulationSweepDocument, TargetResult } from '../inputs/resolve-simulate.js';
import type { ChartData } from './chart.js';
import { formatFigure, formatValue, grouped } from './human.js';
import { renderGrid, makeChalk } from './table.js';

/**
 * `llm-size simulate` for people: a percentile grid, throughput and goodput, the engine state
 * over time as sparklines, target verdicts; and for a --qps sweep, a table of points and
 * latency-against-load charts (terminal: chart.ts; SVG: svg.ts). Pure: documents in, strings out.
 */

const METRICS = [
  ['ttft', 'TTFT'],
  ['tpot', 'TPOT'],
  ['itl', 'ITL'],
  ['e2e', 'E2E'],
] as const;

/** e.g. "attention DP: 8 groups in step, each up to 128 seqs, 1,151 tokens a step" */
function attentionGroupsLine(g: NonNullable<SimulationInputSummary['scheduler']['perAttentionGroup']>): string {
  const limits = [g.maxNumSeqs === null ? '' : `${grouped(g.maxNumSeqs)} seqs`, g.maxNumBatchedTokens === null ? '' : `${grouped(g.maxNumBatchedTokens)} tokens a step`].filter(Boolean);
  return `attention DP: ${g.groups} groups in step${limits.length ? `, each up to ${limits.join(', ')}` : ''}`;
}

function header(i: SimulationInputSummary, load: string): string[] {
  const p = i.parallel;
  const groups = p.dpAttention ?? 1;
  const layout = `tp ${p.tp}${p.pp > 1 ? ` pp ${p.pp}` : ''}${p.ep > 1 ? ` ep ${p.ep}` : ''}${groups > 1 ? ` dp-attn ${groups}` : ''}`;
  const s = i.scheduler;
  return [
    `${i.model.name} on ${p.replicas > 1 ? `${p.replicas} replicas of ` : ''}${i.hardware.count} x ${i.hardware.name} (${layout}), ${i.precision.weights}/${i.precision.kv}, engine ${i.engine}`,
    `scheduler: ${s.policy}, ${s.maxNumSeqs ?? 'no'} max sequences, ${s.maxNumBatchedTokens === null ? 'no token budget' : `${grouped(s.maxNumBatchedTokens)} tokens per step`}${s.chunkedPrefill ? ', chunked prefill' : ''}${s.stepsPerSchedule ? `, ${s.stepsPerSchedule} decode steps per schedule` : ''}`,
    ...(s.perAttentionGroup ? [attentionGroupsLine(s.perAttentionGroup)] : []),
    `traffic: input ${i.traffic.inputTokens}, output ${i.traffic.outputTokens}${i.traffic.workload ? ` (workload ${i.traffic.workload})` : ''}; ${load}; ${grouped(i.requests)} requests, seed ${i.seed}`,
  ];
}

/** Eight-level bars of a series, max-pooled to `width` columns. */
export function sparkline(values: number[], width: number, unicode: boolean): string {
  if (!values.length) return '';
  const glyphs = unicode ? ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] : ['_', '.', '-', '=', '+', '*', '#', '@'];
  const cols = Math.min(width, values.length);
  const max = Math.max(...values);
  const out: string[] = [];
  for (let c = 0; c < cols; c++) {
    const from = Math.floor((c * values.length) / cols);
    const to = Math.max(from + 1, Math.floor(((c + 1) * values.length) / cols));
    let v = 0;
    for (let k = from; k < to; k++) v = Math.max(v, values[k]);
    out.push(glyphs[max > 0 ? Math.min(7, Math.round((v / max) * 7)) : 0]);
  }
  return out.join('');
}

const verdictLine = (t: TargetResult): string => `${t.met ? 'meets' : 'MISSES'} ${t.metric.toUpperCase()} p${t.percentile} <= ${formatValue(t.seconds, 's')}: ${formatValue(t.actual, 's')}`;

/** One simulation as a table. */
export function renderSimulationTable(doc: SimulationDocument, color: boolean, unicode: boolean): string {
  const c = makeChalk(color);
  const f = doc.figures;
  const load = doc.input.load.qps !== null ? `${doc.input.load.qps} requests/s (${doc.input.traffic.arrival})` : doc.input.load.concurrency !== null ? `${doc.input.load.concurrency} clients (closed loop)` : `arrivals ${doc.input.traffic.arrival}`;
  const lines = header(doc.input, load).map((l, i) => (i === 0 ? c.bold(l) : l));
  const cell = (id: string) => (f[id] ? formatValue(f[id].value, f[id].unit) : '-');
  lines.push(renderGrid(['latency', 'p50', 'p90', 'p95', 'p99', 'mean'], METRICS.map(([m, name]) => [name, cell(`latency.${m}.p50`), cell(`latency.${m}.p90`), cell(`latency.${m}.p95`), cell(`latency.${m}.p99`), cell(`latency.${m}.mean`)]), color));
  const line = (id: string, label?: string) => (f[id] ? `${label ?? f[id].label}: ${formatFigure(f[id])}` : undefined);
  const facts = [
    `throughput: ${formatFigure(f['throughput.requestsPerSecond'])}, ${formatFigure(f['throughput.outputTokensPerSecond'])}${f['cost.usdPerMillionOutputTokens'] ? `, ${formatFigure(f['cost.usdPerMillionOutputTokens'])} per million output tokens` : ''}`,
    f['goodput.fraction'] ? `goodput: ${(f['goodput.fraction'].value * 100).toFixed(1)}% of requests meet every target (${formatFigure(f['goodput.requestsPerSecond'])})` : undefined,
    `engine: peak ${grouped(f['simulation.peakRunning'].value)} running per replica, ${grouped(f['simulation.peakWaiting'].value)} waiting, KV cache ${(f['simulation.peakKvUsed'].value * 100).toFixed(0)}% at most of ${formatFigure(f['memory.kvCapacityTokens'])} tokens; ${grouped(f['simulation.preemptions'].value)} preemptions; ${grouped(f['simulation.steps'].value)} steps in ${formatFigure(f['simulation.durationSeconds'])}`,
    line('simulation.none'),
  ].filter(Boolean) as string[];
  lines.push(...facts);
  const s = doc.series;
  if (s.time.length > 1) {
    const span = `0 .. ${formatValue(s.time[s.time.length - 1], 's')}`;
    const width = 48;
    lines.push(`over time (${span}):`);
    lines.push(`  waiting  ${sparkline(s.waiting, width, unicode)} max ${grouped(Math.max(...s.waiting))}`);
    lines.push(`  running  ${sparkline(s.running, width, unicode)} max ${grouped(Math.max(...s.running))}`);
    lines.push(`  KV used  ${sparkline(s.kvUsedFraction, width, unicode)} max ${(Math.max(...s.kvUsedFraction) * 100).toFixed(0)}%`);
  }
  for (const t of doc.targets) lines.push(t.met ? c.green(verdictLine(t)) : c.red(verdictLine(t)));
  return `${lines.join('\n')}\n`;
}

/** A --qps sweep as the charts see it: one series per percentile, one chart per metric. */
export function sweepChartData(doc: SimulationSweepDocument): ChartData {
  const points = doc.points.flatMap((pt) =>
    (['p50', 'p90', 'p95', 'p99'] as const).map((p) => ({
      x: String(+pt.qps.toPrecision(4)),
      group: p,
      parts: [],
      capacityBytes: 0,
      fits: true,
      values: Object.fromEntries((['ttft', 'tpot', 'e2e'] as const).map((m) => [`latency.${m}`, pt.figures[`latency.${m}.${p}`]?.value ?? null])),
    })),
  );
  return {
    over: ['requests/s', 'percentile'],
    points,
    curves: [
      { id: 'latency.ttft', title: 'Time to first token', unit: 's' },
      { id: 'latency.tpot', title: 'Time per output token', unit: 's' },
      { id: 'latency.e2e', title: 'End-to-end time', unit: 's' },
    ],
  };
}

/** A --qps sweep: a table of points, then the latency-against-load charts. */
export async function renderSweepTable(doc: SimulationSweepDocument, color: boolean, unicode: boolean, width = Infinity): Promise<string> {
  const c = makeChalk(color);
  const lines = header(doc.input, `${doc.points.length} offered loads from ${doc.points[0].qps} to ${doc.points[doc.points.length - 1].qps} requests/s (${doc.input.traffic.arrival})`).map((l, i) => (i === 0 ? c.bold(l) : l));
  const v = (f: Figures, id: string) => (f[id] ? formatValue(f[id].value, f[id].unit) : '-');
  const anyGoodput = doc.points.some((p) => p.figures['goodput.fraction']);
  const head = ['req/s', 'TTFT p50', 'TTFT p99', 'TPOT p50', 'TPOT p99', 'E2E p99', 'done/s', 'tokens/s', ...(anyGoodput ? ['goodput'] : [])];
  lines.push(renderGrid(head, doc.points.map((p) => [
    String(+p.qps.toPrecision(4)), v(p.figures, 'latency.ttft.p50'), v(p.figures, 'latency.ttft.p99'), v(p.figures, 'latency.tpot.p50'), v(p.figures, 'latency.tpot.p99'), v(p.figures, 'latency.e2e.p99'),
    String(+p.figures['throughput.requestsPerSecond'].value.toPrecision(3)), grouped(p.figures['throughput.outputTokensPerSecond'].value),
    ...(anyGoodput ? [p.figures['goodput.fraction'] ? `${(p.figures['goodput.fraction'].value * 100).toFixed(0)}%` : '-'] : []),
  ]), color, width));
  const withTargets = doc.points.filter((p) => p.met !== null);
  if (withTargets.length) {
    const best = [...withTargets].reverse().find((p) => p.met);
    lines.push(best ? c.green(`highest load meeting every target: ${best.qps} requests/s`) : c.red('no load in the sweep meets every target'));
  }
  const { renderCurve } = await import('./chart.js');
  const data = sweepChartData(doc);
  lines.push('');
  for (const curve of data.curves) lines.push(renderCurve(data, curve, { unicode, color, width: 48 }));
  return `${lines.join('\n')}\n`;
}
