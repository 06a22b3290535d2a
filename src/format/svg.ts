import { formatValue } from './human.js';
import type { ChartData, Curve } from './chart.js';

/**
 * `sweep --format svg`: the sweep's charts as one standalone SVG 1.1 document (no scripts, no
 * external fonts or stylesheets), for reports. Memory per device stacked by component with the
 * device capacity marked, then one line chart per curve. Pure: data in, string out.
 */

const PART_COLORS = ['#4c78a8', '#b279a2', '#f58518', '#9d9d9d', '#54a24b'];
const SERIES_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

export const escapeXml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;');

const n = (x: number): string => String(Math.round(x * 10) / 10);

const WIDTH = 880;
const PANEL = 280;
const MARGIN = { left: 90, right: 30, top: 40, bottom: 60 };

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${n(x)}" y="${n(y)}" ${attrs}>${escapeXml(content)}</text>`;
}

/** Memory panel: one stacked bar per point, a capacity tick over each bar. */
function memoryPanel(data: ChartData, top: number): string {
  const out: string[] = [];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL - MARGIN.top - MARGIN.bottom;
  const y0 = top + MARGIN.top + plotH;
  const totals = data.points.map((p) => p.parts.reduce((a, q) => a + q.bytes, 0));
  const max = Math.max(...data.points.map((p, i) => Math.max(p.capacityBytes, totals[i])));
  const slot = plotW / Math.max(1, data.points.length);
  const barW = Math.max(2, slot * 0.6);
  out.push(`<g class="panel" id="memory">`);
  out.push(text(MARGIN.left, top + 22, 'Memory per device by component (red tick = device capacity)', 'class="title"'));
  out.push(axes(top, plotH, max, 'B'));
  data.points.forEach((p, i) => {
    const x = MARGIN.left + slot * i + (slot - barW) / 2;
    let used = 0;
    p.parts.forEach((q, k) => {
      const h = (q.bytes / max) * plotH;
      out.push(`<rect class="part" data-series="${escapeXml(q.name)}" x="${n(x)}" y="${n(y0 - (used / max) * plotH - h)}" width="${n(barW)}" height="${n(h)}" fill="${PART_COLORS[k % PART_COLORS.length]}"><title>${escapeXml(`${q.name}: ${formatValue(q.bytes, 'B')}`)}</title></rect>`);
      used += q.bytes;
    });
    const cy = y0 - (p.capacityBytes / max) * plotH;
    out.push(`<line class="capacity" x1="${n(x - 4)}" x2="${n(x + barW + 4)}" y1="${n(cy)}" y2="${n(cy)}" stroke="#d62728" stroke-width="2"><title>${escapeXml(`capacity ${formatValue(p.capacityBytes, 'B')}`)}</title></line>`);
    out.push(text(x + barW / 2, y0 + 16, label(p.x, p.group, data), 'text-anchor="middle" class="tick"'));
  });
  const names = data.points[0]?.parts.map((q) => q.name) ?? [];
  names.forEach((name, k) => {
    const lx = MARGIN.left + k * 170;
    out.push(`<rect x="${lx}" y="${n(y0 + 30)}" width="12" height="12" fill="${PART_COLORS[k % PART_COLORS.length]}"/>`);
    out.push(text(lx + 16, y0 + 41, name, 'class="legend"'));
  });
  out.push('</g>');
  return out.join('\n');
}

const label = (x: string, group: string, data: ChartData): string => (data.over.length > 1 ? `${x} / ${group}` : x);

/** y axis from 0 to max with five gridlines, labelled in the unit. */
function axes(top: number, plotH: number, max: number, unit: Curve['unit']): string {
  const out: string[] = [];
  const y0 = top + MARGIN.top + plotH;
  for (let k = 0; k <= 4; k++) {
    const y = y0 - (k / 4) * plotH;
    out.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${n(y)}" y2="${n(y)}" stroke="#e0e0e0"/>`);
    out.push(text(MARGIN.left - 6, y + 4, formatValue((max * k) / 4, unit), 'text-anchor="end" class="tick"'));
  }
  out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${top + MARGIN.top}" y2="${n(y0)}" stroke="#333"/>`);
  return out.join('\n');
}

/** A line chart of one figure against the first swept input; one series per second value. */
function curvePanel(data: ChartData, curve: Curve, top: number): string {
  const xs = [...new Set(data.points.map((p) => p.x))];
  const groups = [...new Set(data.points.map((p) => p.group))];
  const values = data.points.map((p) => p.values[curve.id]).filter((v): v is number => typeof v === 'number');
  if (!values.length) return '';
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL - MARGIN.top - MARGIN.bottom;
  const y0 = top + MARGIN.top + plotH;
  const max = Math.max(...values) || 1;
  const xAt = (i: number) => MARGIN.left + (xs.length > 1 ? (i / (xs.length - 1)) * plotW : plotW / 2);
  const yAt = (v: number) => y0 - (v / max) * plotH;
  const out = [`<g class="panel" id="${escapeXml(curve.id)}">`, text(MARGIN.left, top + 22, `${curve.title} vs ${data.over[0]}`, 'class="title"'), axes(top, plotH, max, curve.unit)];
  xs.forEach((x, i) => out.push(text(xAt(i), y0 + 16, x, 'text-anchor="middle" class="tick"')));
  groups.forEach((g, s) => {
    const color = SERIES_COLORS[s % SERIES_COLORS.length];
    const pts = xs
      .map((x, i) => ({ i, v: data.points.find((p) => p.x === x && p.group === g)?.values[curve.id] }))
      .filter((q): q is { i: number; v: number } => typeof q.v === 'number');
    const name = groups.length > 1 ? `${data.over[1]}=${g}` : curve.title;
    out.push(`<polyline class="series" data-series="${escapeXml(name)}" fill="none" stroke="${color}" stroke-width="2" points="${pts.map((q) => `${n(xAt(q.i))},${n(yAt(q.v))}`).join(' ')}"/>`);
    for (const q of pts) out.push(`<circle cx="${n(xAt(q.i))}" cy="${n(yAt(q.v))}" r="3" fill="${color}"><title>${escapeXml(`${data.over[0]}=${xs[q.i]}${groups.length > 1 ? `, ${name}` : ''}: ${formatValue(q.v, curve.unit)}`)}</title></circle>`);
    if (groups.length > 1) {
      const lx = MARGIN.left + s * 150;
      out.push(`<rect x="${lx}" y="${n(y0 + 30)}" width="12" height="12" fill="${color}"/>`);
      out.push(text(lx + 16, y0 + 41, name, 'class="legend"'));
    }
  });
  out.push('</g>');
  return out.join('\n');
}

/** The whole document. */
export function renderSweepSvg(data: ChartData, title: string): string {
  return svgDocument(title, (top) => [memoryPanel(data, top), ...data.curves.map((curve, k) => curvePanel(data, curve, top + PANEL * (k + 1)))]);
}

/** Line charts only, one per curve (simulate: latency percentiles against offered load). */
export function renderCurvesSvg(data: ChartData, title: string): string {
  return svgDocument(title, (top) => data.curves.map((curve, k) => curvePanel(data, curve, top + PANEL * k)));
}

function svgDocument(title: string, build: (top: number) => string[]): string {
  const panels = build(40).filter(Boolean);
  const height = 40 + PANEL * panels.length;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<style>.title { font-size: 14px; font-weight: bold; } .tick { font-size: 11px; fill: #555; } .legend { font-size: 12px; }</style>
<rect width="100%" height="100%" fill="white"/>
${text(MARGIN.left, 24, title, 'font-size="16" font-weight="bold"')}
${panels.join('\n')}
</svg>
`;
}
