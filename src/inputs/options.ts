import { didYouMean, quote, UserError } from '../errors.js';
import { parseCount, parseDuration, parseTokens } from '../units.js';
import { DOMAINS, outsideDomain, showBound, type Quantity } from './domains.js';

/**
 * Small named parsers for option values, shared by flags, spec files, `check` files and library
 * options. Each names where the value came from (`--batch`, `deploy.yaml: batch`), the bad value
 * and what is accepted; every number is checked against its domain (src/inputs/domains.ts)
 * before any estimator sees it.
 */
export type Raw = string | number | boolean | undefined;

/** A value together with the name to use for it in an error message. */
export interface Named {
  value: Raw;
  where: string;
}

function bad(n: Named, accepted: string): UserError {
  return new UserError(`${n.where}: invalid value ${quote(n.value)}; expected ${accepted}`);
}

/** The text of a value as read by a domain's syntax; NaN when it is not one. */
function read(value: Raw, syntax: (typeof DOMAINS)[Quantity]['syntax']): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return NaN;
  const text = value.trim();
  switch (syntax) {
    case 'count':
      return parseCount(text);
    case 'tokens':
      return parseTokens(text);
    case 'duration':
      return parseDuration(text);
    case 'fraction':
      return text.endsWith('%') ? plainNumber(text.slice(0, -1)) / 100 : plainNumber(text);
    case 'number':
      return plainNumber(text);
  }
}

/** A decimal number as people write it ("2.49", "1e-3", "$2.49"); NaN for hex, "", "Infinity". */
const plainNumber = (text: string): number => (/^\s*\$?[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(text) ? Number(text.replace('$', '')) : NaN);

/**
 * The one reader of a number a user gives: parses `n.value` with the syntax of `quantity`'s
 * domain and checks it is inside it.
 * @example quantity({ value: '1e21', where: '--params' }, 'params')
 *   // throws "--params: 1e21 is larger than any model this tool sizes (at most 1e15)"
 */
export function quantity(n: Named, q: Quantity): number {
  const d = DOMAINS[q];
  const v = read(n.value, d.syntax);
  const problem = outsideDomain(v, d);
  if (problem === 'invalid') throw bad(n, d.expected);
  const shown = typeof n.value === 'string' ? n.value.trim() : String(n.value);
  if (problem === 'above') throw new UserError(`${n.where}: ${shown} is ${d.above} (at most ${showBound(d.max)})`);
  if (problem === 'below') throw new UserError(`${n.where}: ${shown} is ${d.below} (at least ${showBound(d.min)})`);
  return v;
}

/** A whole number in a domain (default: a device count); `true` means a token count. */
export function positiveInt(n: Named, q: Quantity | boolean = 'devices'): number {
  return quantity(n, q === true ? 'tokens' : q === false ? 'devices' : q);
}

/** Parameters: "7b", "70e9", "405000000000" (rounded to a whole count). */
export function paramCount(n: Named): number {
  return Math.round(quantity(n, 'params'));
}

/** A positive number in a domain (prices, rates, power). */
export function positiveNumber(n: Named, q: Quantity = 'amount'): number {
  return quantity(n, q);
}

/** Fraction in (0, 1]; "55%" accepted. */
export function fraction(n: Named): number {
  return quantity(n, 'fraction');
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
  throw new UserError(`${n.where}: unknown value ${quote(typeof n.value === 'string' ? n.value : String(n.value))}${didYouMean(v, accepted)} (accepted: ${accepted.join(', ')})`);
}
