import type { Figures } from '../estimate/terms.js';
import { Option } from 'commander';
import { explainAfter, selectFigures } from '../format/explain.js';
import type { Catalog } from '../inputs/catalog.js';

/** What a command may use of the outside world; cli.ts builds it, tests fake it. */
export interface Context {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  color: boolean;
  /** stdout is a terminal (sweep draws its chart with Unicode and colour only then) */
  isTty: boolean;
  /** columns the human output fits (COLUMNS, the terminal's width, or Infinity when piped or --wide; src/format/width.ts) */
  width: () => number;
  /** a warning for people: "warning: <text>" on stderr, unless --quiet */
  warn: (text: string) => void;
  /** built-in presets plus user presets, loaded on first use */
  catalog: () => Promise<Catalog>;
  exitCode: number;
}

/**
 * The `--explain [figure]` option of every figure command: alone, every figure; with a figure
 * id (latency.ttft) or a prefix (latency), that figure's tree.
 */
export const explainOption = (what = 'every figure'): Option =>
  new Option('--explain [figure]', `print ${what} with its formula, inputs and source; with a figure id (latency.ttft) or prefix (latency), that figure and what it is made of`);

/** --explain after a command's output, by the one rule of src/format/explain.ts explainAfter. */
export function explain(ctx: Context, format: string, figures: Figures | undefined, selector: unknown = true): void {
  // a selector is checked even when the format prints no explanation, so a typo is not silent
  if (figures && typeof selector === 'string') selectFigures(figures, selector);
  const { text, note } = explainAfter(format, figures, typeof selector === 'string' ? selector : true, ctx.width());
  ctx.out(text);
  if (note) ctx.warn(note);
}
