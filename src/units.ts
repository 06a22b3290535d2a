/**
 * The one place that knows units. Inside llm-size every quantity is in a base unit:
 * bytes (B), seconds (s), FLOP, FLOP/s, bytes/s, watts (W), USD and plain counts.
 * Conversions happen here and in formatters, nowhere else.
 *
 * Decimal prefixes are powers of 10 (vendor figures: GB/s, TFLOP/s); binary prefixes are
 * powers of 2 (memory as engines see it: GiB).
 */

export const bytesInKiB = 1024;
export const bytesInMiB = 1024 ** 2;
export const bytesInGiB = 1024 ** 3;
export const secondsInMillisecond = 1e-3;
export const secondsInHour = 3600;
export const secondsInDay = 86_400;
/** A month of 730 hours (8,760 / 12), the convention cloud price sheets bill by. */
export const hoursInMonth = 730;
export const hoursInYear = 8_760;
export const tokensInMillion = 1e6;
export const joulesInKwh = 3.6e6;
export const wattsInKw = 1000;
export const gramsInKg = 1000;

/** Base unit of each figure. Counts and fractions are unit-less. */
export type Unit =
  | 'B'
  | 's'
  | 'FLOP'
  | 'FLOP/s'
  | 'B/s'
  | 'W'
  | 'J'
  | 'USD'
  | 'USD/h'
  | 'tokens'
  | 'tokens/s'
  | 'requests/s'
  | 'sequences/s'
  | 'params'
  /** kilograms of CO2-equivalent */
  | 'kgCO2e'
  | 'count'
  | 'fraction'
  /** a ratio of two like quantities (a speedup), printed "1.8x" */
  | 'ratio'
  /** tokens one engine step yields per sequence (speculative decoding) */
  | 'tokens/step';

export type Dimension = 'bytes' | 'bandwidth' | 'compute' | 'time' | 'power' | 'price' | 'money';

const decimal: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };
const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** unit text -> [dimension, factor to base unit] */
const unitTable: Record<string, [Dimension, number]> = (() => {
  const table: Record<string, [Dimension, number]> = {};
  for (const [p, f] of Object.entries(decimal)) {
    table[`${p}B`] = ['bytes', f];
    table[`${p}B/s`] = ['bandwidth', f];
    table[`${p}FLOP/s`] = ['compute', f];
    table[`${p}FLOPS`] = ['compute', f];
    table[`${p}OP/s`] = ['compute', f];
    table[`${p}OPS`] = ['compute', f];
    table[`${p}W`] = ['power', f];
  }
  for (const [p, f] of Object.entries(binary)) {
    table[`${p}B`] = ['bytes', f];
    table[`${p}B/s`] = ['bandwidth', f];
  }
  table['kB'] = ['bytes', 1e3];
  table['kW'] = ['power', 1e3];
  table['s'] = ['time', 1];
  table['ms'] = ['time', 1e-3];
  table['us'] = ['time', 1e-6];
  table['µs'] = ['time', 1e-6];
  table['ns'] = ['time', 1e-9];
  table['min'] = ['time', 60];
  table['h'] = ['time', 3600];
  table['USD/h'] = ['price', 1];
  table['USD'] = ['money', 1];
  return table;
})();

export const unitsByDimension = (dimension: Dimension): string[] =>
  Object.entries(unitTable)
    .filter(([, [d]]) => d === dimension)
    .map(([u]) => u);

export type QuantityResult = { ok: true; value: number } | { ok: false; reason: string };

/**
 * Parses "3.35 TB/s", "80 GiB", "989.5 TFLOP/s", "700 W", "2 ms" into base units.
 * @example parseQuantity('80 GiB', 'bytes') // { ok: true, value: 85899345920 }
 */
export function parseQuantity(text: string, dimension: Dimension): QuantityResult {
  const match = /^\s*([+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([A-Za-zµ/]+)\s*$/.exec(text);
  if (!match) {
    return { ok: false, reason: `expected a number with a unit (e.g. ${example[dimension]})` };
  }
  const unit = Object.hasOwn(unitTable, match[2]) ? unitTable[match[2]] : undefined;
  if (!unit) return { ok: false, reason: `unknown unit "${match[2]}"; accepted: ${unitsByDimension(dimension).join(', ')}` };
  if (unit[0] !== dimension) {
    return { ok: false, reason: `"${match[2]}" is a ${unit[0]} unit, expected ${dimension} (e.g. ${example[dimension]})` };
  }
  return { ok: true, value: Number(match[1]) * unit[1] };
}

const example: Record<Dimension, string> = {
  bytes: '80 GiB',
  bandwidth: '3.35 TB/s',
  compute: '989.5 TFLOP/s',
  time: '2 ms',
  power: '700 W',
  price: '2.5 USD/h',
  money: '1599 USD',
};

const countSuffix: Record<string, number> = { k: 1e3, m: 1e6, b: 1e9, t: 1e12 };

/**
 * Parses counts people type: "7b", "70e9", "405000000000", "8k", "1.5M", "128_000".
 * Returns NaN for anything else (callers turn that into a user error).
 * @example parseCount('7b') // 7e9
 */
export function parseCount(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmbtKMBT]?)\s*$/.exec(text.replaceAll('_', '').replaceAll(',', ''));
  if (!match) return NaN;
  return Number(match[1]) * (match[2] ? countSuffix[match[2].toLowerCase()] : 1);
}

/**
 * Token counts: like parseCount, but "k" means 1024 when the user writes a power-of-two
 * context ("32k" = 32,768, "128k" = 131,072), the way model cards and engines use it.
 */
export function parseTokens(text: string): number {
  const match = /^\s*(\d+)\s*[kK]\s*$/.exec(text);
  if (match) return Number(match[1]) * 1024;
  return parseCount(text);
}

/** Durations such as "500ms", "1s", "0.05" (seconds). NaN when not a duration. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|us|min)?\s*$/.exec(text);
  if (!match) return NaN;
  const factor = { ms: 1e-3, s: 1, us: 1e-6, min: 60 }[match[2] ?? 's']!;
  return Number(match[1]) * factor;
}

export const toGiB = (bytes: number): number => bytes / bytesInGiB;
