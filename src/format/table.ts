import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { Estimate } from '../estimate/index.js';
import type { Figures } from '../estimate/terms.js';
import { formatFigure } from './human.js';
import { bandOnSecondLine, blockWidth, visibleLength, wrapLine, wrapText } from './width.js';
import { estimateSections, visibleIds } from './sections.js';

export const makeChalk = (color: boolean): ChalkInstance => new Chalk({ level: color ? 1 : 0 });

/**
 * Column widths (content, without padding) that fit `width`, for cells already split into
 * lines: undefined when the table fits as it is. Each column keeps at least its longest word;
 * above that the widest columns give way first (word-wrapped by cli-table3).
 */
function fitWidths(table: string[][], width: number): number[] | undefined {
  const n = Math.max(0, ...table.map((r) => r.length));
  const overhead = 3 * n + 1; // one space of padding each side, a border between and around
  const natural = Array.from({ length: n }, (_, i) => Math.max(1, ...table.map((r) => blockWidth(r[i] ?? ''))));
  if (!Number.isFinite(width) || natural.reduce((a, b) => a + b, 0) + overhead <= width) return undefined;
  const floor = Array.from({ length: n }, (_, i) => Math.max(1, ...table.flatMap((r) => (r[i] ?? '').split(/[\s\n]+/).map(visibleLength))));
  const widths = (cap: number) => natural.map((w, i) => Math.min(w, Math.max(cap, floor[i]!)));
  for (let cap = Math.max(...natural); cap >= 1; cap--) {
    if (widths(cap).reduce((a, b) => a + b, 0) + overhead <= width) return widths(cap);
  }
  return widths(1);
}

/**
 * The table cli-table3 draws with our options (above), for the case scripts and files get: no
 * colour, no wrapping, every cell one line of printable ASCII, every row as wide as the head.
 * Drawn directly it costs a fraction of a millisecond against about 7 ms of cli-table3 code run
 * cold (a run draws one table); anything else, or undefined here, goes to cli-table3.
 * test/table-plain.test.ts checks the two draw the same.
 */
export function plainTable(head: string[], rows: string[][], colAligns: ('left' | 'right')[]): string | undefined {
  const n = head.length || (rows[0]?.length ?? 0);
  if (n === 0) return rows.length ? undefined : '';
  const all = head.length ? [head, ...rows] : rows;
  const widths = new Array<number>(n).fill(0);
  for (const row of all) {
    if (row.length !== n) return undefined;
    for (let i = 0; i < n; i++) {
      const cell = row[i];
      if (typeof cell !== 'string' || !/^[\x20-\x7e]*$/.test(cell)) return undefined;
      if (cell.length > widths[i]) widths[i] = cell.length;
    }
  }
  if (colAligns.length < n || colAligns.some((a) => a !== 'left' && a !== 'right')) return undefined;
  const rule = (left: string, mid: string, right: string) => left + widths.map((w) => '\u2500'.repeat(w + 2)).join(mid) + right;
  const line = (row: string[]) => `\u2502${row.map((cell, i) => ` ${colAligns[i] === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])} `).join('\u2502')}\u2502`;
  return [rule('\u250c', '\u252c', '\u2510'), ...all.map(line), rule('\u2514', '\u2534', '\u2518')].join('\n');
}

/**
 * A cli-table3 table of `rows` under `head` that fits `width` (Infinity: as wide as it needs):
 * bands "(low-high)" move under their value first, then the widest columns word-wrap.
 */
function fittedTable(head: string[], rows: string[][], color: boolean, colAligns: ('left' | 'right')[], width: number): string {
  let body = rows;
  const style = { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] };
  const chars = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };
  let colWidths = fitWidths([head, ...body], width);
  if (colWidths) {
    body = rows.map((r) => r.map(bandOnSecondLine));
    colWidths = fitWidths([head, ...body], width);
  }
  const plain = !color && !colWidths ? plainTable(head, body, colAligns) : undefined;
  if (plain !== undefined) return plain;
  const table = new Table({ head, style, colAligns, chars, ...(colWidths ? { colWidths: colWidths.map((w) => w + 2), wordWrap: true } : {}) });
  table.push(...body);
  return table.toString();
}

/** A two-column table of label and value (cli-table3), styled only when colour is on, fitted to `width`. */
export function renderRows(rows: [string, string][], color: boolean, head?: [string, string], width = Infinity): string {
  return fittedTable(head ?? [], rows, color, ['left', 'right'], width);
}

/**
 * A table with a header row and one row per item; numbers right-aligned by the caller's text;
 * fitted to `width`. When even word-wrapped columns cannot fit, the columns are split over
 * several tables, one under the other, each repeating the first `keyColumns` (the row's key).
 */
export function renderGrid(head: string[], rows: string[][], color: boolean, width = Infinity, keyColumns = 1): string {
  const colAligns = head.map((_, i) => (rows.some((r) => /^[-~$]?[\d.,]+/.test(r[i] ?? '')) ? 'right' : 'left') as 'left' | 'right');
  const whole = fittedTable(head, rows, color, colAligns, width);
  if (blockWidth(whole) <= width || head.length <= keyColumns + 1) return whole;
  // greedy: add columns to a group while its table still fits
  const keys = Array.from({ length: keyColumns }, (_, i) => i);
  const pick = (cols: number[]) => fittedTable(cols.map((i) => head[i]!), rows.map((r) => cols.map((i) => r[i] ?? '')), color, cols.map((i) => colAligns[i]!), width);
  const tables: string[] = [];
  let group: number[] = [];
  for (let i = keyColumns; i < head.length; i++) {
    if (group.length && blockWidth(pick([...keys, ...group, i])) > width) {
      tables.push(pick([...keys, ...group]));
      group = [];
    }
    group.push(i);
  }
  tables.push(pick([...keys, ...group]));
  return tables.join('\n');
}

/** The estimate as a human-readable table (memory in GiB, labelled), fitted to `width`. */
export function renderEstimateTable(e: Estimate, color: boolean, width = Infinity): string {
  const c = makeChalk(color);
  const f: Figures = e.figures;
  const i = e.input;
  const header = [
    `${c.bold(i.model.name)} on ${i.hardware.count} x ${c.bold(i.hardware.name)}`,
    i.model.task
      ? `${i.model.task === 'rerank' ? 'reranker' : 'embedding model'}: weights ${i.precision.weights}, compute ${i.precision.compute}; batch ${i.workload.batch} x ${i.workload.inputTokens} tokens, one forward pass (no KV cache, no decode)`
      : `weights ${i.precision.weights}, KV ${i.precision.kv}, compute ${i.precision.compute}; batch ${i.workload.batch}, input ${i.workload.inputTokens}, output ${i.workload.outputTokens}, context ${i.workload.context} tokens`,
    ...(i.engineChoice && !i.model.task ? [`engine ${i.engineChoice.name}: ${i.engineChoice.reason}`] : []),
  ];
  const rows: [string, string][] = [];
  for (const section of estimateSections(e)) {
    const present = visibleIds(section, f);
    if (!present.length) continue;
    rows.push([c.bold(section.title), '']);
    for (const id of present) {
      let label = f[id].label;
      if (id === 'latency.ttft') label += ` (${boundOf(f, 'prefill', e.bounds.prefill)}-bound)`;
      if (id === 'latency.tpot' && e.bounds.decode) label += ` (${boundOf(f, 'decode', e.bounds.decode)}-bound)`;
      if (id === 'latency.forward') label += ` (${boundOf(f, 'prefill', e.bounds.prefill)}-bound)`;
      rows.push([`  ${label}`, formatFigure(f[id])]);
    }
  }
  // One verdict (src/estimate/verdict.ts): the status and binding limit, then the smallest fix.
  const v = e.verdict;
  const paint = v.status === 'fits' ? c.green : v.status === 'over-scheduler-limit' ? c.yellow : c.red;
  // the fix and its alternatives share one column: "Fix:" and " or:", continuation lines under the change
  const alternatives = v.fix ? [wrapLine(`Fix: ${v.fix.detail}`, width, '     '), ...v.fixes.slice(1, 3).map((x) => wrapLine(` or: ${x.detail}`, width, '    '))] : [];
  const verdict = paint(v.message) + (alternatives.length ? `\n${alternatives.join('\n')}` : v.status === 'fits' || v.status === 'over-scheduler-limit' ? '' : '\nNo single change tried (memory fraction, KV precision, batch, context, devices, weight precision) makes it fit');
  const text = `${header.join('\n')}\n${renderRows(rows, color, undefined, width)}\n${verdict}\n${Object.values(f).some((x) => x.approximate) ? '~ marks approximate figures; --explain shows every formula\n' : ''}`;
  return wrapText(text, width, '  ');
}

/**
 * What a step's time is mostly spent on: the roofline's bound (compute or memory), unless the
 * step's communication or its fixed overhead (kernel launches, scheduling: latency.*Overhead)
 * takes longer than the roofline (DeepSeek-V3 at batch 1 under SGLang 0.4 spends 92% of a decode
 * step launching kernels; "memory-bound" would misdirect).
 */
function boundOf(f: Estimate['figures'], phase: 'prefill' | 'decode', roofline: string): string {
  const v = (id: string) => f[`latency.${phase}${id}`]?.value ?? 0;
  const parts: [string, number][] = [[roofline, v('Roofline')], ['communication', v('Comm')], ['overhead', v('Overhead')]];
  return parts.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
}
