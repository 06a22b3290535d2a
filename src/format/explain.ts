import { UserError, didYouMean } from '../errors.js';
import type { Figure, Figures } from '../estimate/terms.js';
import { formatFigure } from './human.js';
import { wrapLine } from './width.js';

const inputsText = (f: Figure): string => Object.entries(f.inputs).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toPrecision(6) : v}`).join(', ');

/** --explain: every figure with its formula, the numbers put into it, and its source. */
export function renderExplain(figures: Figures): string {
  const lines: string[] = [];
  for (const f of Object.values(figures)) {
    lines.push(`${f.id} = ${formatFigure(f)}  (${f.value} ${f.unit})${f.approximate ? '  [approximate]' : ''}`);
    lines.push(`  ${f.label}`);
    lines.push(`  formula: ${f.formula}`);
    const inputs = inputsText(f);
    if (inputs) lines.push(`  inputs:  ${inputs}`);
    lines.push(`  source:  ${f.source}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The figures a figure is made of: its parts, and each input that is another figure, named by
 * its id or by the id's last segment with the same value (cost.usdPerMillionOutputTokens takes
 * `tpot` = latency.tpot and `usdPerHour` = cost.usdPerHour).
 */
export function childrenOf(f: Figure, figures: Figures): Figure[] {
  const found: Figure[] = [];
  const add = (c: Figure | undefined) => {
    if (c && c.id !== f.id && !found.includes(c)) found.push(c);
  };
  for (const id of f.parts ?? []) add(figures[id]);
  const all = Object.values(figures);
  for (const [key, value] of Object.entries(f.inputs)) {
    if (typeof value !== 'number') continue;
    if (figures[key]) {
      add(figures[key]);
      continue;
    }
    // the same value under the same name, or a name ending in it (compute = latency.prefillCompute):
    // the figure this input was read from
    const prefix = f.id.split('.')[0];
    const suffix = key[0]!.toUpperCase() + key.slice(1);
    const named = all.filter((g) => g.value === value && (g.id.endsWith(`.${key}`) || g.id.endsWith(suffix)));
    add(named.find((g) => g.id.startsWith(`${prefix}.`)) ?? named[0]);
  }
  return found;
}

/** The figures `--explain <selector>` names: that id, or every id under a prefix (`latency` = latency.*). */
export function selectFigures(figures: Figures, selector: string): Figure[] {
  const exact = figures[selector];
  if (exact) return [exact];
  const under = Object.values(figures).filter((f) => f.id.startsWith(`${selector}.`));
  if (under.length) return under;
  const ids = Object.keys(figures);
  const prefixes = [...new Set(ids.map((id) => id.split('.')[0]!))];
  throw new UserError(`--explain: no figure "${selector}"${didYouMean(selector, [...ids, ...prefixes])} (a figure id such as latency.ttft, or a prefix: ${prefixes.join(', ')})`);
}

/**
 * --explain <figure-id or prefix>: each selected figure as a tree: its value, label, formula,
 * inputs and source, then the figures it is made of, recursively (each explained once; a later
 * mention says "above"). Lines wrap at `width`.
 */
export function renderExplainTree(figures: Figures, selector: string, width = Infinity): string {
  const lines: string[] = [];
  const shown = new Set<string>();
  const selected = selectFigures(figures, selector);
  const visit = (f: Figure, indent: string, depth: number) => {
    const head = `${indent}${f.id} = ${formatFigure(f)}  ${f.label}${f.approximate ? '  [approximate]' : ''}`;
    if (shown.has(f.id)) {
      lines.push(`${indent}${f.id} = ${formatFigure(f)}  (explained above)`);
      return;
    }
    shown.add(f.id);
    lines.push(head);
    lines.push(`${indent}  formula: ${f.formula}`);
    const inputs = inputsText(f);
    if (inputs) lines.push(`${indent}  inputs:  ${inputs}`);
    lines.push(`${indent}  source:  ${f.source}`);
    if (depth >= 12) return;
    for (const c of childrenOf(f, figures)) visit(c, `${indent}    `, depth + 1);
  };
  // with a prefix, a selected figure already shown under an earlier one is not shown again
  for (const f of selected) if (!shown.has(f.id)) visit(f, '', 0);
  return `${lines.map((l) => wrapLine(l, width, `${l.match(/^ */)![0]}    `)).join('\n')}\n`;
}

/**
 * The one rule for `--explain` with `--format`: the human table gets the explanation after it;
 * json, yaml, csv and markdown are one document each, and json, yaml and csv already carry every
 * figure's formula, inputs and source, so stdout stays exactly that one document and a note
 * says so. Returns the text to print after the output ('' for none) and the note, if any.
 * `selector` (--explain <figure-id or prefix>) explains one figure as a tree.
 */
export function explainAfter(format: string, figures: Figures | undefined, selector: string | true = true, width = Infinity): { text: string; note?: string } {
  if (!figures) return { text: '' };
  if (format === 'table') return { text: selector === true ? renderExplain(figures) : renderExplainTree(figures, selector, width) };
  return { text: '', note: `--explain adds text to table output only; --format ${format} ${format === 'markdown' ? 'is one table' : "already carries each figure's formula, inputs and source"}` };
}
