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

/**
 * The one rule for `--explain` with `--format`: the human table gets the explanation after it;
 * json, yaml, csv and markdown are one document each, and json, yaml and csv already carry every
 * figure's formula, inputs and source, so stdout stays exactly that one document and a note
 * says so. Returns the text to print after the output ('' for none) and the note, if any.
 */
export function explainAfter(format: string, figures: Figures | undefined): { text: string; note?: string } {
  if (!figures) return { text: '' };
  if (format === 'table') return { text: renderExplain(figures) };
  return { text: '', note: `--explain adds text to table output only; --format ${format} ${format === 'markdown' ? 'is one table' : "already carries each figure's formula, inputs and source"}` };
}
