import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { estimate, type Estimate } from '../estimate/index.js';
import { didYouMean, UserError } from '../errors.js';
import { formatFigure } from '../format/human.js';
import { formatOption, renderOutput, type Cell, type Column, type OutputFormat, type Rows } from '../format/render.js';
import type { ChartData, Curve } from '../format/chart.js';
import { ESTIMATE_KEYS, fetchHubFor, resolveEstimate, type EstimateKey } from '../inputs/resolve.js';
import { parseCount, parseTokens, type Unit } from '../units.js';
import type { Context } from './context.js';
import { addEfficiencyOptions, addLeverOptions, addModelOptions, collectRaw } from './estimate.js';

/**
 * `llm-size sweep --over batch=1,2,4..256 [--over context=1k..128k]`: one estimate per
 * combination of the swept values, as a table plus terminal charts (memory stacked by
 * component against capacity; latency and throughput curves), or a standalone SVG.
 */

/** Keys whose values are token counts: "1k" = 1024, as in --context. */
const TOKEN_KEYS: readonly EstimateKey[] = ['inputTokens', 'outputTokens', 'context'];
/** Keys whose values are names (presets, formats, files): listed, never ranges. */
const NAME_KEYS: readonly string[] = ['model', 'gpu', 'precision', 'kvPrecision', 'hfConfig', 'provider'];
/** Most points one sweep computes (two swept inputs multiply). */
export const MAX_POINTS = 2000;

const camel = (key: string): string => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export interface Over {
  key: EstimateKey;
  /** the values as typed, for labels ("32k") */
  labels: string[];
  values: (number | string)[];
}

/**
 * Expands a value list: "1,2,4..256" continues the listed steps (they double: 1 ... 256);
 * "1k..128k" with no listed step doubles; "8,16,24..64" adds 8. With two listed values the
 * step doubles when doubling lands on the end exactly, else it adds. The end is always included.
 */
export function expandValues(text: string, parse: (s: string) => number): { values: number[]; error?: string } {
  const values: number[] = [];
  for (const item of text.split(',').map((s) => s.trim())) {
    if (item === '') return { values, error: 'an empty value' };
    const range = /^(.+?)\.\.(.+)$/.exec(item);
    if (!range) {
      const v = parse(item);
      if (!Number.isFinite(v) || v <= 0) return { values, error: `"${item}" is not a positive number` };
      values.push(v);
      continue;
    }
    const [start, end] = [parse(range[1]), parse(range[2])];
    if (!(start > 0) || !(end > 0) || !Number.isFinite(start) || !Number.isFinite(end)) return { values, error: `"${item}" is not a range of positive numbers` };
    if (end < start) return { values, error: `"${item}" ends before it starts` };
    const seq = [...values, start];
    let next: (v: number) => number = (v) => v * 2;
    if (seq.length >= 2) {
      const [a, b] = seq.slice(-2);
      const ratio = b / a;
      const diff = b - a;
      const before = seq.length >= 3 ? seq[seq.length - 3] : undefined;
      const geometric = ratio > 1 && (before === undefined || Math.abs(a / before - ratio) < 1e-9);
      const arithmetic = diff > 0 && (before === undefined || Math.abs(a - before - diff) < 1e-9);
      const hitsEnd = Math.abs(Math.log(end / b) / Math.log(ratio) - Math.round(Math.log(end / b) / Math.log(ratio))) < 1e-9;
      if (geometric && (before !== undefined || hitsEnd || !arithmetic)) next = (v) => v * ratio;
      else if (arithmetic) next = (v) => v + diff;
      else return { values, error: `the steps before "${item}" neither multiply nor add evenly` };
    }
    values.push(start);
    for (let v = next(start); v < end * (1 - 1e-12); v = next(v)) {
      values.push(Math.round(v * 1e9) / 1e9);
      if (values.length > MAX_POINTS) return { values, error: `more than ${MAX_POINTS} values` };
    }
    if (values[values.length - 1] !== end) values.push(end);
  }
  return { values };
}

/** "batch=1,2,4..256" -> the key and its values; names the flag on error. */
export function parseOver(text: string): Over {
  const match = /^\s*([A-Za-z-]+)\s*=\s*(.+)$/.exec(text);
  if (!match) throw new UserError(`--over: invalid value "${text}"; expected key=values, e.g. batch=1,2,4..256 or context=1k..128k or gpu=h100-sxm,h200`);
  const key = camel(match[1]) as EstimateKey;
  if (!(ESTIMATE_KEYS as readonly string[]).includes(key)) throw new UserError(`--over: unknown input "${match[1]}"${didYouMean(key, ESTIMATE_KEYS)} (accepted: ${ESTIMATE_KEYS.join(', ')})`);
  const labels = match[2].split(',').map((s) => s.trim());
  if (NAME_KEYS.includes(key)) {
    if (labels.some((l) => l === '' || l.includes('..'))) throw new UserError(`--over ${match[1]}: list the values, e.g. ${match[1]}=a,b,c (ranges are for numbers)`);
    return { key, labels, values: labels };
  }
  const parse = TOKEN_KEYS.includes(key) ? parseTokens : (s: string) => (/^[\d.]+(e\d+)?$/.test(s) ? Number(s) : parseCount(s));
  const { values, error } = expandValues(match[2], parse);
  if (error) throw new UserError(`--over ${match[1]}: ${error} in "${match[2]}"; expected values and ranges such as 1,2,4..256 or 1k..128k`);
  return { key, values, labels: values.map((v) => shortLabel(v, TOKEN_KEYS.includes(key))) };
}

/** 32768 -> "32k" for token keys; plain numbers otherwise. */
const shortLabel = (v: number, tokens: boolean): string => (tokens && v >= 1024 && v % 1024 === 0 ? `${v / 1024}k` : String(v));

/** Figures every point carries in json (by id) and their units. */
export const SWEEP_FIGURES = [
  'memory.perDevice.weights', 'memory.perDevice.kvCache', 'memory.perDevice.activations', 'memory.perDevice.overhead',
  'memory.perDevice', 'memory.capacityPerDevice', 'capacity.maxBatch', 'capacity.maxContext',
  'latency.ttft', 'latency.tpot', 'latency.e2e',
  'throughput.outputTokensPerSecond', 'throughput.requestsPerSecond',
  'cost.usdPerHour', 'cost.usdPerMillionOutputTokens',
] as const;

/** Columns of the human table (after the swept inputs and "fits"). */
const TABLE_FIGURES = ['memory.perDevice', 'memory.capacityPerDevice', 'latency.ttft', 'latency.tpot', 'throughput.outputTokensPerSecond', 'cost.usdPerMillionOutputTokens'] as const;
const SHORT_LABELS: Record<(typeof TABLE_FIGURES)[number], string> = {
  'memory.perDevice': 'Memory/device',
  'memory.capacityPerDevice': 'Capacity',
  'latency.ttft': 'TTFT',
  'latency.tpot': 'TPOT',
  'throughput.outputTokensPerSecond': 'Output tok/s',
  'cost.usdPerMillionOutputTokens': '$/M output',
};

const CURVES: Curve[] = [
  { id: 'latency.ttft', title: 'Time to first token', unit: 's' },
  { id: 'latency.tpot', title: 'Time per output token', unit: 's' },
  { id: 'throughput.outputTokensPerSecond', title: 'Output tokens per second', unit: 'tokens/s' },
];

const MEMORY_PARTS: [string, string][] = [
  ['memory.perDevice.weights', 'weights'],
  ['memory.perDevice.kvCache', 'KV cache'],
  ['memory.perDevice.activations', 'activations'],
  ['memory.perDevice.overhead', 'overhead'],
];

interface Point {
  at: Record<string, number | string>;
  labels: string[];
  estimate: Estimate;
}

export function sweepCommand(ctx: Context): Command {
  const cmd = new Command('sweep')
    .description('vary one or two inputs (batch, context, gpu ...) and chart memory, latency and throughput')
    .addHelpText('after', `
Values: a list (1,2,8), a doubling range (1k..128k), or listed steps continued to the end
(1,2,4..256 doubles; 8,16,24..64 adds 8). Token inputs read k as 1024 (32k = 32,768).

Examples:
  llm-size sweep --model llama-3.1-8b --gpu h100-sxm --over batch=1,2,4..256
  llm-size sweep --model llama-3.1-70b --count 4 --over context=1k..128k --over batch=1,8,64
  llm-size sweep --model llama-3.1-8b --batch 32 --over gpu=h100-sxm,h200,mi300x
  llm-size sweep --model llama-3.1-8b --over batch=1..256 --format svg --output sweep.svg`);
  addLeverOptions(addEfficiencyOptions(addModelOptions(cmd)))
    .option('--batch <n>', 'concurrent sequences (when not swept)')
    .option('--input-tokens <n>', 'prompt tokens per request (default 1024)')
    .option('--output-tokens <n>', 'generated tokens per request (default 256)')
    .option('--context <tokens>', 'tokens the KV cache holds per sequence (default input + output)')
    .option('--allow-beyond-trained', 'size a --context beyond the window the model was trained for instead of refusing it')
    .option('--over <key=values>', 'an input to vary, e.g. batch=1,2,4..256 (once or twice)', (v: string, prev: string[] = []) => [...prev, v])
    .addOption(formatOption(['svg']))
    .option('--output <file>', 'write the output to a file instead of stdout (for --format svg)')
    .action(async (opts: Record<string, unknown>) => {
      const overs = ((opts.over as string[] | undefined) ?? []).map(parseOver);
      if (overs.length === 0) throw new UserError('--over is required: the input to vary, e.g. --over batch=1,2,4..256');
      if (overs.length > 2) throw new UserError(`--over: at most two inputs can vary at once, got ${overs.map((o) => o.key).join(', ')}`);
      if (overs.length === 2 && overs[0].key === overs[1].key) throw new UserError(`--over ${overs[0].key} is given twice`);
      const total = overs.reduce((a, o) => a * o.values.length, 1);
      if (total > MAX_POINTS) throw new UserError(`--over: ${total} points; at most ${MAX_POINTS}`);
      const { raw, origins } = await collectRaw(opts);
      for (const o of overs) {
        if (opts[o.key] !== undefined) throw new UserError(`--over ${o.key} and --${o.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} both given; vary it or fix it, not both`);
      }
      const catalog = await ctx.catalog();
      const hub = await fetchHubFor(raw, origins, ctx.env);
      const points: Point[] = [];
      const warnings = new Set<string>();
      const second = overs[1] ?? { key: '', labels: [''], values: [''] };
      for (let j = 0; j < second.values.length; j++) {
        for (let i = 0; i < overs[0].values.length; i++) {
          const at: Record<string, number | string> = { [overs[0].key]: overs[0].values[i] };
          const here = { ...raw, [overs[0].key]: overs[0].values[i] };
          const hereOrigins = { ...origins, [overs[0].key]: `--over ${overs[0].key}` };
          if (overs[1]) {
            at[overs[1].key] = overs[1].values[j];
            here[overs[1].key] = overs[1].values[j];
            hereOrigins[overs[1].key] = `--over ${overs[1].key}`;
          }
          const resolved = resolveEstimate(here, hereOrigins, catalog, hub);
          const e = estimate(resolved.input);
          for (const w of [...resolved.warnings, ...e.warnings]) warnings.add(w);
          points.push({ at, labels: [overs[0].labels[i], second.labels[j]], estimate: e });
        }
      }

      const over = overs.map((o) => o.key);
      const document = sweepDocument(overs, points, [...warnings]);
      const chart = chartData(over, points);
      const title = `${points[0].estimate.input.model.name}: sweep over ${over.join(' and ')}`;
      const format = opts.format as OutputFormat | 'svg';
      let text: string;
      if (format === 'svg') text = (await import('../format/svg.js')).renderSweepSvg(chart, title);
      else {
        const { rows, humanRows } = sweepRows(over, points);
        const table = async (color: boolean, width: number) => {
          const { renderGrid } = await import('../format/table.js');
          const { renderSweepCharts } = await import('../format/chart.js');
          const { wrapText } = await import('../format/width.js');
          const cells = (withBands: boolean) => humanRows.rows.map((r) => humanRows.columns.map((c) => String(r[c.key] ?? '-')).map((cell) => (withBands ? cell : cell.replace(/ \([^()]*\)$/, ''))));
          const head = humanRows.columns.map((c) => c.label);
          let grid = renderGrid(head, cells(true), color, width, over.length);
          // too many columns for the bands even on second lines (the table split in two): the
          // table without them (JSON and --wide keep them)
          if (grid.includes('\n\u250c')) grid = `${renderGrid(head, cells(false), color, width, over.length)}\nbands (low-high) left out to fit ${width} columns; --wide or --format json shows them`;
          // charts: 48 columns of bars or plot, fewer on a narrow terminal (labels and totals take about 32)
          const chartWidth = Number.isFinite(width) ? Math.max(16, Math.min(48, width - 34 - 14 * (over.length - 1))) : undefined;
          return wrapText(`${title}\n${grid}\n\n${renderSweepCharts(chart, { unicode: ctx.isTty, color, width: chartWidth })}`, width, '  ');
        };
        text = await renderOutput(format, { document, rows, humanRows, title, table }, ctx.color, ctx.width());
      }
      if (typeof opts.output === 'string') {
        try {
          writeFileSync(opts.output, text);
        } catch (e) {
          throw new UserError(`--output: cannot write "${opts.output}": ${(e as Error).message}`);
        }
        ctx.err(`wrote ${opts.output}\n`);
      } else ctx.out(text);
      const list = [...warnings];
      for (const w of list.slice(0, 5)) ctx.warn(w);
      if (list.length > 5) ctx.warn(`${list.length - 5} more warnings; run estimate on one point to see them all`);
    });
  return cmd;
}

/** The json/yaml document: exact values in base units, one entry per point. */
function sweepDocument(overs: Over[], points: Point[], warnings: string[]) {
  const units: Record<string, Unit> = {};
  for (const id of SWEEP_FIGURES) {
    const f = points.find((p) => p.estimate.figures[id])?.estimate.figures[id];
    if (f) units[id] = f.unit;
  }
  return {
    schemaVersion: 1 as const,
    over: overs.map((o) => ({ key: o.key, values: o.values })),
    units,
    points: points.map((p) => ({
      at: p.at,
      fits: p.estimate.fits,
      bounds: p.estimate.bounds,
      figures: Object.fromEntries(SWEEP_FIGURES.filter((id) => p.estimate.figures[id]).map((id) => [id, p.estimate.figures[id].value])),
      hardware: p.estimate.input.hardware.id,
    })),
    warnings,
  };
}

function sweepRows(over: string[], points: Point[]): { rows: Rows; humanRows: Rows } {
  const exactColumns: Column[] = [...over.map((k) => ({ key: k, label: k })), { key: 'fits', label: 'fits' }, ...SWEEP_FIGURES.map((id) => ({ key: id, label: id }))];
  const exact = points.map((p) => {
    const row: Record<string, Cell> = { ...p.at, fits: p.estimate.fits };
    for (const id of SWEEP_FIGURES) row[id] = p.estimate.figures[id]?.value ?? null;
    return row;
  });
  const humanColumns: Column[] = [...over.map((k) => ({ key: k, label: k })), { key: 'fits', label: 'Fits' }, ...TABLE_FIGURES.map((id) => ({ key: id, label: SHORT_LABELS[id] }))];
  const human = points.map((p) => {
    const row: Record<string, Cell> = { fits: p.estimate.fits ? 'yes' : 'NO' };
    over.forEach((k, i) => (row[k] = p.labels[i]));
    for (const id of TABLE_FIGURES) row[id] = p.estimate.figures[id] ? formatFigure(p.estimate.figures[id]) : '-';
    return row;
  });
  return { rows: { columns: exactColumns, rows: exact }, humanRows: { columns: humanColumns, rows: human } };
}

function chartData(over: string[], points: Point[]): ChartData {
  return {
    over,
    curves: CURVES,
    points: points.map((p) => ({
      x: p.labels[0],
      group: p.labels[1] ?? '',
      parts: MEMORY_PARTS.map(([id, name]) => ({ name, bytes: p.estimate.figures[id]?.value ?? 0 })),
      capacityBytes: p.estimate.figures['memory.capacityPerDevice'].value,
      fits: p.estimate.fits,
      values: Object.fromEntries(CURVES.map((c) => [c.id, p.estimate.figures[c.id]?.value ?? null])),
    })),
  };
}
