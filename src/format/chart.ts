import { Chalk } from 'chalk';
import { formatValue } from './human.js';
import type { Unit } from '../units.js';

/**
 * Terminal charts for `sweep`: memory per device stacked by component against the device's
 * capacity, and latency / throughput curves. Pure: data in, string out. With `unicode` off (stdout
 * is not a terminal) the charts use plain ASCII and no escape codes, so a log or a pipe stays
 * readable.
 */

/** One swept point as the charts see it. `group` is the second swept value ('' with one). */
export interface ChartPoint {
  /** value of the first swept input, as typed ("8", "32k", "h200") */
  x: string;
  group: string;
  parts: { name: string; bytes: number }[];
  capacityBytes: number;
  fits: boolean;
  /** curves: name -> value (latency.ttft, latency.tpot, throughput ...) */
  values: Record<string, number | null>;
}

export interface Curve {
  id: string;
  title: string;
  unit: Unit;
}

export interface ChartData {
  /** the swept inputs, first then (optional) second: "batch", "context" */
  over: string[];
  points: ChartPoint[];
  curves: Curve[];
}

export interface ChartStyle {
  unicode: boolean;
  color: boolean;
  /** columns for the bars and plots */
  width?: number;
}

const BAR_GLYPHS = { unicode: ['█', '▓', '▒', '░', '▚'], ascii: ['#', '=', '+', '.', '%'] };
const BAR_COLORS = ['blue', 'magenta', 'yellow', 'gray', 'cyan'] as const;
const SERIES_GLYPHS = { unicode: ['●', '◆', '▲', '■', '✚', '○', '◇', '△'], ascii: ['*', 'o', '+', 'x', '#', '@', '%', '&'] };
const SERIES_COLORS = ['cyan', 'magenta', 'yellow', 'green', 'blue', 'red', 'white', 'gray'] as const;

const pointLabel = (p: ChartPoint, over: string[]): string => (over.length > 1 ? `${over[0]}=${p.x} ${over[1]}=${p.group}` : `${over[0]}=${p.x}`);

/** Horizontal stacked bars of memory per device, one per point, with the capacity marked. */
export function renderMemoryBars(data: ChartData, style: ChartStyle): string {
  const c = new Chalk({ level: style.color ? 1 : 0 });
  const width = style.width ?? 48;
  const glyphs = style.unicode ? BAR_GLYPHS.unicode : BAR_GLYPHS.ascii;
  const mark = style.unicode ? '┃' : '|';
  const totals = data.points.map((p) => p.parts.reduce((a, q) => a + q.bytes, 0));
  const scale = Math.max(...data.points.map((p, i) => Math.max(p.capacityBytes, totals[i])));
  const col = (bytes: number) => Math.round((bytes / scale) * width);
  const labels = data.points.map((p) => pointLabel(p, data.over));
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const names = data.points[0]?.parts.map((q) => q.name) ?? [];

  const lines = [c.bold(`Memory per device (${mark} = device capacity)`)];
  data.points.forEach((p, i) => {
    const cells: string[] = [];
    let used = 0;
    p.parts.forEach((q, k) => {
      // cumulative rounding, so the bar's length is the rounded total
      const end = col(used + q.bytes);
      for (let j = col(used); j < end; j++) cells.push(c[BAR_COLORS[k % BAR_COLORS.length]](glyphs[k % glyphs.length]));
      used += q.bytes;
    });
    const capacityCol = Math.min(col(p.capacityBytes), width);
    while (cells.length <= capacityCol) cells.push(' ');
    cells[capacityCol] = p.fits ? c.green(mark) : c.red(mark);
    const verdict = p.fits ? '' : c.red(style.unicode ? '  ✗ does not fit' : '  does not fit');
    lines.push(`${labels[i].padEnd(labelWidth)} ${cells.join('')}${' '.repeat(Math.max(0, width + 1 - cells.length))} ${formatValue(totals[i], 'B')} / ${formatValue(p.capacityBytes, 'B')}${verdict}`);
  });
  lines.push(`${' '.repeat(labelWidth)} ${names.map((n, k) => `${c[BAR_COLORS[k % BAR_COLORS.length]](glyphs[k % glyphs.length])} ${n}`).join('  ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * A line plot of one figure against the first swept input, one series per value of the second.
 * Points are evenly spaced (swept values are usually powers of two), y is linear from 0.
 */
export function renderCurve(data: ChartData, curve: Curve, style: ChartStyle, height = 8): string {
  const c = new Chalk({ level: style.color ? 1 : 0 });
  const xs = [...new Set(data.points.map((p) => p.x))];
  const groups = [...new Set(data.points.map((p) => p.group))];
  const glyphs = style.unicode ? SERIES_GLYPHS.unicode : SERIES_GLYPHS.ascii;
  const dot = style.unicode ? '·' : '.';
  const values = data.points.map((p) => p.values[curve.id]).filter((v): v is number => typeof v === 'number');
  if (!values.length) return '';
  const max = Math.max(...values) || 1;
  const step = xs.length > 1 ? Math.max(3, Math.floor((style.width ?? 48) / (xs.length - 1))) : 1;
  const plotWidth = (xs.length - 1) * step + 1;
  const grid: string[][] = Array.from({ length: height }, () => Array.from({ length: plotWidth }, () => ' '));
  const rowOf = (v: number) => height - 1 - Math.round((v / max) * (height - 1));

  groups.forEach((g, s) => {
    const colorOf = c[SERIES_COLORS[s % SERIES_COLORS.length]];
    const ys = xs.map((x) => data.points.find((p) => p.x === x && p.group === g)?.values[curve.id] ?? null);
    // straight segments between neighbouring points, drawn lightly, then the points on top
    for (let i = 0; i + 1 < xs.length; i++) {
      const a = ys[i];
      const b = ys[i + 1];
      if (a === null || b === null) continue;
      for (let k = 1; k < step; k++) {
        const r = rowOf(a + ((b - a) * k) / step);
        if (grid[r][i * step + k] === ' ') grid[r][i * step + k] = colorOf(dot);
      }
    }
    ys.forEach((y, i) => {
      if (y !== null) grid[rowOf(y)][i * step] = colorOf(glyphs[s % glyphs.length]);
    });
  });

  const top = formatValue(max, curve.unit);
  const bottom = '0';
  const axisWidth = Math.max(top.length, bottom.length);
  const lines = [c.bold(`${curve.title} vs ${data.over[0]}`)];
  grid.forEach((row, r) => {
    const label = r === 0 ? top : r === height - 1 ? bottom : '';
    lines.push(`${label.padStart(axisWidth)} ${style.unicode ? '┤' : '|'}${row.join('')}`);
  });
  lines.push(`${' '.repeat(axisWidth)} ${style.unicode ? '└' : '+'}${(style.unicode ? '─' : '-').repeat(plotWidth)}`);
  // x labels where they fit, always the first and the last
  const axis = Array.from({ length: plotWidth + 12 }, () => ' ');
  let free = 0;
  xs.forEach((x, i) => {
    const at = i * step;
    if (at < free && i !== xs.length - 1) return;
    for (let k = 0; k < x.length; k++) axis[at + k] = x[k];
    free = at + x.length + 1;
  });
  lines.push(`${' '.repeat(axisWidth + 2)}${axis.join('').trimEnd()}`);
  if (groups.length > 1) lines.push(`${' '.repeat(axisWidth + 2)}${groups.map((g, s) => `${c[SERIES_COLORS[s % SERIES_COLORS.length]](glyphs[s % glyphs.length])} ${data.over[1]}=${g}`).join('  ')}`);
  return `${lines.join('\n')}\n`;
}

/** Every chart of a sweep, separated by blank lines. */
export function renderSweepCharts(data: ChartData, style: ChartStyle): string {
  return [renderMemoryBars(data, style), ...data.curves.map((curve) => renderCurve(data, curve, style))].filter(Boolean).join('\n');
}
