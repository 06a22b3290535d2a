import { didYouMean, UserError } from '../errors.js';
import { parseCount, parseTokens } from '../units.js';

/**
 * Small named parsers for option values, shared by flags and spec files. Each names where the
 * value came from (`--batch`, `deploy.yaml: batch`), the bad value and what is accepted.
 */
export type Raw = string | number | boolean | undefined;

/** A value together with the name to use for it in an error message. */
export interface Named {
  value: Raw;
  where: string;
}

function bad(n: Named, accepted: string): UserError {
  return new UserError(`${n.where}: invalid value ${JSON.stringify(n.value)}; expected ${accepted}`);
}

/** Positive integer; accepts "8", "8k" (tokens: 8192 when tokens=true), "7b". */
export function positiveInt(n: Named, tokens = false): number {
  const v = typeof n.value === 'number' ? n.value : typeof n.value === 'string' ? (tokens ? parseTokens(n.value) : parseCount(n.value)) : NaN;
  if (!Number.isInteger(v) || v <= 0) throw bad(n, tokens ? 'a positive whole number of tokens (e.g. 4096 or 32k)' : 'a positive whole number');
  return v;
}

/** Positive number of parameters: "7b", "70e9", "405000000000". */
export function paramCount(n: Named): number {
  const v = typeof n.value === 'number' ? n.value : typeof n.value === 'string' ? parseCount(n.value) : NaN;
  if (!Number.isFinite(v) || v < 1e6 || !Number.isInteger(Math.round(v))) throw bad(n, 'a parameter count such as 7b, 70e9 or 405000000000 (at least 1M)');
  return Math.round(v);
}

/** Positive finite number (prices). */
export function positiveNumber(n: Named, accepted = 'a positive number'): number {
  const v = typeof n.value === 'number' ? n.value : typeof n.value === 'string' && n.value.trim() !== '' ? Number(n.value) : NaN;
  if (!Number.isFinite(v) || v <= 0) throw bad(n, accepted);
  return v;
}

/** Fraction in (0, 1]; "55%" accepted. */
export function fraction(n: Named): number {
  const text = typeof n.value === 'string' ? n.value.trim() : n.value;
  const v = typeof text === 'string' && text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : typeof text === 'number' ? text : typeof text === 'string' && text !== '' ? Number(text) : NaN;
  if (!Number.isFinite(v) || v <= 0 || v > 1) throw bad(n, 'a fraction in (0, 1], e.g. 0.6 or 60%');
  return v;
}

export function bool(n: Named): boolean {
  if (typeof n.value === 'boolean') return n.value;
  if (n.value === 'true') return true;
  if (n.value === 'false') return false;
  throw bad(n, 'true or false');
}

export function choice<T extends string>(n: Named, accepted: readonly T[]): T {
  const v = String(n.value).toLowerCase();
  if ((accepted as readonly string[]).includes(v)) return v as T;
  throw new UserError(`${n.where}: unknown value "${n.value}"${didYouMean(v, accepted)} (accepted: ${accepted.join(', ')})`);
}
