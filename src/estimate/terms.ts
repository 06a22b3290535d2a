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

/**
 * Adds a term and returns its value. Non-finite values are a bug in the estimator, not
 * something to print: they throw here, at the source.
 */
export function term(
  figures: Figures,
  id: string,
  label: string,
  unit: Unit,
  value: number,
  formula: string,
  inputs: Figure['inputs'],
  source: string,
  approximate?: boolean,
): number {
  if (!Number.isFinite(value)) throw new Error(`internal: figure ${id} is ${value} (${formula})`);
  figures[id] = approximate ? { id, label, value, unit, formula, inputs, source, approximate } : { id, label, value, unit, formula, inputs, source };
  return value;
}

/** Adds a total equal to the sum of existing figures, and returns it. */
export function sum(figures: Figures, id: string, label: string, unit: Unit, parts: string[], source = 'sum of its parts'): number {
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
  figures[id] = { id, label, value, unit, formula: parts.join(' + '), inputs, source, parts };
  if (approximate) figures[id].approximate = true;
  return value;
}
