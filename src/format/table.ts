import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { Estimate } from '../estimate/index.js';
import type { Figures } from '../estimate/terms.js';
import { formatFigure } from './human.js';
import { estimateSections, visibleIds } from './sections.js';

export const makeChalk = (color: boolean): ChalkInstance => new Chalk({ level: color ? 1 : 0 });

/** A two-column table of label and value (cli-table3), styled only when colour is on. */
export function renderRows(rows: [string, string][], color: boolean, head?: [string, string]): string {
  const table = new Table({
    head: head ?? [],
    style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
    colAligns: ['left', 'right'],
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  table.push(...rows);
  return table.toString();
}

/** A table with a header row and one row per item; numbers right-aligned by the caller's text. */
export function renderGrid(head: string[], rows: string[][], color: boolean): string {
  const table = new Table({
    head,
    style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
    colAligns: head.map((_, i) => (rows.some((r) => /^[-~$]?[\d.,]+/.test(r[i] ?? '')) ? 'right' : 'left')),
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  table.push(...rows);
  return table.toString();
}


/** The estimate as a human-readable table (memory in GiB, labelled). */
export function renderEstimateTable(e: Estimate, color: boolean): string {
  const c = makeChalk(color);
  const f: Figures = e.figures;
  const i = e.input;
  const header = [
    `${c.bold(i.model.name)} on ${i.hardware.count} x ${c.bold(i.hardware.name)}`,
    i.model.task
      ? `${i.model.task === 'rerank' ? 'reranker' : 'embedding model'}: weights ${i.precision.weights}, compute ${i.precision.compute}; batch ${i.workload.batch} x ${i.workload.inputTokens} tokens, one forward pass (no KV cache, no decode)`
      : `weights ${i.precision.weights}, KV ${i.precision.kv}, compute ${i.precision.compute}; batch ${i.workload.batch}, input ${i.workload.inputTokens}, output ${i.workload.outputTokens}, context ${i.workload.context} tokens`,
  ];
  const rows: [string, string][] = [];
  for (const section of estimateSections(e)) {
    const present = visibleIds(section, f);
    if (!present.length) continue;
    rows.push([c.bold(section.title), '']);
    for (const id of present) {
      let label = f[id].label;
      if (id === 'latency.ttft') label += ` (${e.bounds.prefill}-bound)`;
      if (id === 'latency.tpot' && e.bounds.decode) label += ` (${e.bounds.decode}-bound)`;
      if (id === 'latency.forward') label += ` (${e.bounds.prefill}-bound)`;
      rows.push([`  ${label}`, formatFigure(f[id])]);
    }
  }
  const verdict = e.fits
    ? c.green(`FITS: ${formatFigure(f['memory.perDevice'])} of ${formatFigure(f['memory.capacityPerDevice'])} per device`)
    : c.red(`DOES NOT FIT: needs ${formatFigure(f['memory.perDevice'])} per device, has ${formatFigure(f['memory.capacityPerDevice'])}`);
  return `${header.join('\n')}\n${renderRows(rows, color)}\n${verdict}\n${Object.values(f).some((x) => x.approximate) ? '~ marks approximate figures; --explain shows every formula\n' : ''}`;
}
