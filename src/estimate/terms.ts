import type { Unit } from '../units.js';

/**
 * A named term of an estimate: every number says what it is, how it was computed, from what,
 * and on whose authority. Totals list their `parts`, so a breakdown can never disagree with
 * its total.
 */
export interface Figure {
  id: string;
  label: string;
  value: number;
  unit: Unit;
  formula: string;
  inputs: Record<string, number | string | boolean>;
  source: string;
  /** ids of the figures this one sums */
  parts?: string[];
  /** true where the value rests on an assumed shape or a heuristic rather than exact arithmetic */
  approximate?: boolean;
  /** uncertainty band, where one is known */
  low?: number;
  high?: number;
}

export type Figures = Record<string, Figure>;

/** What a new term states: every field of a Figure but its parts and band. */
export type TermSpec = Omit<Figure, 'parts' | 'low' | 'high'>;

/**
 * Adds a term and returns its value. Non-finite values are a bug in the estimator, not
 * something to print: they throw here, at the source.
 *
 * @example term(fig, { id: 'memory.kvCache', label: 'KV cache', unit: 'B', value: batch * perSequence,
 *   formula: 'batch x kvCachePerSequence', inputs: { batch, perSequence }, source: 'vLLM KV cache spec' })
 */
export function term(figures: Figures, spec: TermSpec): number {
  const { id, value, approximate } = spec;
  if (!Number.isFinite(value)) throw new Error(`internal: figure ${id} is ${value} (${spec.formula})`);
  const f: Figure = { id, label: spec.label, unit: spec.unit, value, formula: spec.formula, inputs: spec.inputs, source: spec.source };
  if (approximate) f.approximate = true;
  figures[id] = f;
  if (value > (MEANINGFUL_LIMITS.get(f.unit) ?? Infinity)) notePastMeaningful(figures, f);
  return value;
}

/** Adds copies of figures built earlier (a model's prepared figures, params.ts), as term() would add them. */
export function addFigures(figures: Figures, from: readonly Figure[]): void {
  for (const f of from) {
    const copy = { ...f };
    figures[copy.id] = copy;
    if (copy.value > (MEANINGFUL_LIMITS.get(copy.unit) ?? Infinity)) notePastMeaningful(figures, copy);
  }
}

/** Adds a total equal to the sum of existing figures (its `parts`), and returns it. */
export function sum(figures: Figures, spec: { id: string; label: string; unit: Unit; parts: string[]; source?: string }): number {
  const { id, label, unit, parts, source = 'sum of its parts' } = spec;
  let value = 0;
  const inputs: Figure['inputs'] = {};
  let approximate = false;
  for (const part of parts) {
    const f = figures[part];
    if (!f) throw new Error(`internal: ${id} sums missing figure ${part}`);
    value += f.value;
    inputs[part] = f.value;
    approximate ||= f.approximate === true;
  }
  const f: Figure = { id, label, value, unit, formula: parts.join(' + '), inputs, source, parts };
  if (approximate) f.approximate = true;
  figures[id] = f;
  if (value > (MEANINGFUL_LIMITS.get(unit) ?? Infinity)) notePastMeaningful(figures, f);
  return value;
}

/**
 * Past these a figure is finite but describes no deployment anyone runs (a trillion dollars, a
 * thousand years): inputs at the far ends of their domains (src/inputs/domains.ts) can produce
 * one, e.g. a cost per token at one request in eleven days. Such a figure is kept (totals still
 * equal their parts) and flagged with a warning instead of being printed as an answer.
 */
export const MEANINGFUL_AT_MOST: Partial<Record<Unit, number>> = { USD: 1e12, 'USD/h': 1e12, s: 3.2e10, J: 1e21, FLOP: 1e35 };

/** MEANINGFUL_AT_MOST as a map: term() looks every figure's unit up in it. */
const MEANINGFUL_LIMITS = new Map(Object.entries(MEANINGFUL_AT_MOST) as [Unit, number][]);

/**
 * The figures past MEANINGFUL_AT_MOST, noted by term() and sum() as they add them (every figure
 * goes through one of them), so the check costs nothing when there are none: a scan of every
 * figure of every estimate cost a third of an estimate's time in a plan search.
 */
const pastMeaningful = new WeakMap<Figures, Figure[]>();

function notePastMeaningful(figures: Figures, f: Figure): void {
  const noted = pastMeaningful.get(figures);
  if (noted) noted.push(f);
  else pastMeaningful.set(figures, [f]);
}

/** Warnings for the figures past MEANINGFUL_AT_MOST ("not meaningful"), one line per unit at most. */
export function notMeaningful(figures: Figures): string[] {
  const list = pastMeaningful.get(figures);
  if (!list) return [];
  const byUnit = new Map<Unit, Figure[]>();
  // in the figures' order; a figure replaced since it was noted counts as it is now
  const noted = new Set(list);
  for (const f of Object.values(figures)) {
    const limit = MEANINGFUL_AT_MOST[f.unit];
    if (noted.has(f) && limit !== undefined && f.value > limit) byUnit.set(f.unit, [...(byUnit.get(f.unit) ?? []), f]);
  }
  return [...byUnit].map(([unit, fs]) => `${fs.map((f) => f.id).join(', ')} ${fs.length === 1 ? 'is' : 'are'} over ${MEANINGFUL_AT_MOST[unit]} ${unit}: not meaningful (the inputs are at the far end of what this tool sizes; check the load, price and efficiency given)`);
}
