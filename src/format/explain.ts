import type { Figures } from '../estimate/terms.js';
import { formatFigure } from './human.js';

/** --explain: every figure with its formula, the numbers put into it, and its source. */
export function renderExplain(figures: Figures): string {
  const lines: string[] = [];
  for (const f of Object.values(figures)) {
    lines.push(`${f.id} = ${formatFigure(f)}  (${f.value} ${f.unit})${f.approximate ? '  [approximate]' : ''}`);
    lines.push(`  ${f.label}`);
    lines.push(`  formula: ${f.formula}`);
    const inputs = Object.entries(f.inputs).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toPrecision(6) : v}`);
    if (inputs.length) lines.push(`  inputs:  ${inputs.join(', ')}`);
    lines.push(`  source:  ${f.source}`);
  }
  return `${lines.join('\n')}\n`;
}
