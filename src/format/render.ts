import { Option } from 'commander';
import type { Figure, Figures } from '../estimate/terms.js';
import type { Unit } from '../units.js';
import { formatFigure, formatValue } from './human.js';
import { renderJson } from './json.js';
import { visibleIds } from './sections.js';

/**
 * One output mechanism for every command. A command builds an `Output` (the machine document,
 * plus its figures or its rows) and `renderOutput` turns it into the chosen format:
 *
 *   table     friendly rounding (memory in GiB), for people at a terminal (the default)
 *   json      the document, exact values in base units (the stable contract)
 *   yaml      the same document as YAML
 *   csv       one row per figure (id,label,value,unit,...) or one row per item of a list
 *   markdown  a paste-ready table for docs and pull requests, friendly rounding
 *
 * Usage from a command:
 *   cmd.addOption(formatOption());
 *   ctx.out(await renderOutput(opts.format, { document: result, figures: result.figures }, ctx.color));
 */
export const OUTPUT_FORMATS = ['table', 'json', 'yaml', 'csv', 'markdown'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The `--format` option every command shares; `extra` adds command-specific formats (sweep: svg). */
export function formatOption(extra: readonly string[] = []): Option {
  const choices = [...OUTPUT_FORMATS, ...extra];
  return new Option('--format <format>', 'output format').choices(choices).default('table');
}

export interface FigureSection {
  title: string;
  ids: string[];
  /** ids left out when their value is 0 (e.g. communication on one device) */
  hideWhenZero?: string[];
}

export type Cell = string | number | boolean | null;

/** A column of a list result; `unit` says how to round a number for people (csv stays exact). */
export interface Column {
  key: string;
  label: string;
  unit?: Unit;
}

export interface Rows {
  columns: Column[];
  rows: Record<string, Cell>[];
}

export interface Output {
  /** what json and yaml print: exact values, base units */
  document: unknown;
  /** a figure result (estimate, train, plan): csv has one row per figure */
  figures?: Figures;
  /** which figures people see (table, markdown), in sections; default: every figure */
  sections?: FigureSection[];
  /** a list result (presets list, sweep, check): csv and markdown have one row per item */
  rows?: Rows;
  /** the same list as people read it (table, markdown), when it differs from the exact `rows` */
  humanRows?: Rows;
  /** a heading line for markdown */
  title?: string;
  /** the human table, fitted to `width` columns (Infinity: whole lines); default: a generic table of the figures or the rows */
  table?: (color: boolean, width: number) => string | Promise<string>;
}

/** Renders `output` in `format`. json/yaml need `document`; the other formats need figures or rows. */
export async function renderOutput(format: OutputFormat, output: Output, color: boolean, width = Infinity): Promise<string> {
  switch (format) {
    case 'json':
      return renderJson(output.document);
    case 'yaml': {
      const { stringify } = await import('yaml');
      // round-trip through the JSON checker so non-finite numbers are caught the same way
      return stringify(JSON.parse(renderJson(output.document)), { lineWidth: 0 });
    }
    case 'csv':
      return output.rows ? rowsCsv(output.rows) : figuresCsv(requireFigures(output));
    case 'markdown':
      return (output.title ? `**${escapeMarkdown(output.title)}**\n\n` : '') + (output.rows ? rowsMarkdown(output.humanRows ?? output.rows) : figuresMarkdown(requireFigures(output), output.sections));
    case 'table': {
      if (output.table) return output.table(color, width);
      const { renderGrid, renderRows } = await import('./table.js');
      const rows = output.humanRows ?? output.rows;
      if (rows) return `${renderGrid(rows.columns.map((c) => c.label), rows.rows.map((r) => rows.columns.map((c) => humanCell(r[c.key], c.unit))), color, width)}\n`;
      return `${renderRows(figureLines(requireFigures(output), output.sections).map(([label, value]) => [label, value]), color, undefined, width)}\n`;
    }
  }
}

function requireFigures(output: Output): Figures {
  if (!output.figures) throw new Error('internal: output has neither figures nor rows');
  return output.figures;
}

/** A cell as people read it: rounded numbers with units, yes/no, "-" for nothing. */
export function humanCell(value: Cell | undefined, unit?: Unit): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return unit ? formatValue(value, unit) : String(value);
  return value;
}

/** [label, value] lines of the figures, section titles first (indented members). */
function figureLines(figures: Figures, sections?: FigureSection[]): [string, string][] {
  if (!sections) return Object.values(figures).map((f) => [f.label, formatFigure(f)]);
  const lines: [string, string][] = [];
  for (const s of sections) {
    const present = visibleIds(s, figures);
    if (!present.length) continue;
    lines.push([s.title, '']);
    for (const id of present) lines.push([`  ${figures[id].label}`, formatFigure(figures[id])]);
  }
  return lines;
}

// ---- CSV (RFC 4180: quote fields holding a comma, quote or line break; CRLF-free) ----

const csvField = (v: Cell | undefined): string => {
  const text = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};
const csvLine = (cells: (Cell | undefined)[]): string => cells.map(csvField).join(',');

export const FIGURE_CSV_COLUMNS = ['id', 'label', 'value', 'unit', 'approximate', 'formula', 'source'] as const;

/** One row per figure, exact values in base units. */
export function figuresCsv(figures: Figures): string {
  const lines = [csvLine([...FIGURE_CSV_COLUMNS])];
  for (const f of Object.values(figures)) lines.push(csvLine(FIGURE_CSV_COLUMNS.map((k) => (k === 'approximate' ? f.approximate === true : (f[k as keyof Figure] as Cell)))));
  return `${lines.join('\n')}\n`;
}

/** One row per item; the header is the column keys, numbers exact (units in base units). */
export function rowsCsv(rows: Rows): string {
  const lines = [csvLine(rows.columns.map((c) => c.key))];
  for (const r of rows.rows) lines.push(csvLine(rows.columns.map((c) => r[c.key])));
  return `${lines.join('\n')}\n`;
}

// ---- Markdown (GitHub-flavoured tables) ----

const escapeMarkdown = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function markdownTable(head: string[], body: string[][], align: ('left' | 'right')[]): string {
  const line = (cells: string[]) => `| ${cells.map(escapeMarkdown).join(' | ')} |`;
  const rule = `|${align.map((a) => (a === 'right' ? '---:' : ':---')).join('|')}|`;
  return `${[line(head), rule, ...body.map(line)].join('\n')}\n`;
}

export function figuresMarkdown(figures: Figures, sections?: FigureSection[]): string {
  const body = figureLines(figures, sections).map(([label, value]) =>
    value === '' ? [`**${label}**`, ''] : [label.trim(), value],
  );
  return markdownTable(['Figure', 'Value'], body, ['left', 'right']);
}

export function rowsMarkdown(rows: Rows): string {
  const body = rows.rows.map((r) => rows.columns.map((c) => humanCell(r[c.key], c.unit)));
  // numbers (and rounded figures such as "14.96 GiB" or "$0.54") right-aligned, text left
  const numeric = (v: Cell | undefined) => typeof v === 'number' || (typeof v === 'string' && /^[-~$]?\d/.test(v));
  const align = rows.columns.map((c) => (rows.rows.length > 0 && rows.rows.every((r) => r[c.key] === null || numeric(r[c.key])) ? 'right' : 'left'));
  return markdownTable(rows.columns.map((c) => c.label), body, align);
}
