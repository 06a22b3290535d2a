import type { Figure } from '../estimate/terms.js';
import { bytesInGiB, bytesInKiB, bytesInMiB, secondsInDay, secondsInHour, secondsInMillisecond } from '../units.js';

/**
 * Friendly rounding for tables. Memory is printed in GiB (2^30 bytes) and labelled so;
 * compute in decimal units (TFLOP). JSON never goes through here: it carries exact base units.
 */
/**
 * Thousands separators without Intl: the first toLocaleString call loads ICU data, about 15 ms
 * of a run that should start as fast as Node itself.
 * @example grouped(1234567.5, 1) // "1,234,567.5"
 */
export function grouped(x: number, fractionDigits = 0): string {
  const [whole, fraction] = Math.abs(x).toFixed(fractionDigits).split('.');
  const withCommas = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${x < 0 ? '-' : ''}${withCommas}${fraction ? `.${fraction}` : ''}`;
}

/** Three significant digits; whole numbers with separators from 1,000 up. */
const sig = (x: number, digits = 3): string => {
  if (x === 0) return '0';
  if (Math.abs(x) >= 10 ** digits) return grouped(Math.round(x));
  return String(Number(x.toPrecision(digits)));
};

const scaled = (x: number, units: [number, string][]): string => {
  for (const [factor, unit] of units) if (Math.abs(x) >= factor) return `${sig(x / factor)} ${unit}`;
  const [factor, unit] = units[units.length - 1];
  return `${sig(x / factor)} ${unit}`;
};

export function formatBytes(bytes: number): string {
  if (bytes !== 0 && Math.abs(bytes) < bytesInKiB) return `${sig(bytes)} B`;
  if (Math.abs(bytes) < bytesInMiB) return `${sig(bytes / 1024)} KiB`;
  if (Math.abs(bytes) < bytesInGiB / 10) return `${sig(bytes / bytesInMiB)} MiB`;
  return `${(bytes / bytesInGiB).toFixed(2)} GiB`;
}

export function formatSeconds(seconds: number): string {
  // training runs: days and hours rather than thousands of minutes
  if (seconds >= 2 * secondsInDay) return `${sig(seconds / secondsInDay)} days`;
  if (seconds >= 2 * secondsInHour) return `${sig(seconds / secondsInHour)} h`;
  if (seconds >= 100) return `${sig(seconds / 60)} min`;
  if (seconds >= 1) return `${sig(seconds)} s`;
  if (seconds >= 1e-3) return `${sig(seconds / secondsInMillisecond)} ms`;
  return `${sig(seconds * 1e6)} µs`;
}

export function formatValue(value: number, unit: Figure['unit']): string {
  switch (unit) {
    case 'B':
      return formatBytes(value);
    case 's':
      return formatSeconds(value);
    case 'FLOP':
      return scaled(value, [[1e21, 'ZFLOP'], [1e18, 'EFLOP'], [1e15, 'PFLOP'], [1e12, 'TFLOP'], [1e9, 'GFLOP'], [1e6, 'MFLOP'], [1, 'FLOP']]);
    case 'FLOP/s':
      return scaled(value, [[1e15, 'PFLOP/s'], [1e12, 'TFLOP/s'], [1e9, 'GFLOP/s'], [1, 'FLOP/s']]);
    case 'B/s':
      return scaled(value, [[1e12, 'TB/s'], [1e9, 'GB/s'], [1e6, 'MB/s'], [1, 'B/s']]);
    case 'params':
      return scaled(value, [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K'], [1, '']]).trim();
    case 'USD':
      if (value > 0 && value < 0.01) return `$${value.toPrecision(2)}`;
      return `$${grouped(value, value >= 1000 ? 0 : 2)}`;
    case 'USD/h':
      return `$${grouped(value, 2)}/h`;
    case 'fraction':
      return `${sig(value * 100)}%`;
    case 'ratio':
      return `${sig(value)}x`;
    case 'W':
      return `${sig(value)} W`;
    case 'J':
      return scaled(value, [[3.6e6, 'kWh'], [1e3, 'kJ'], [1, 'J']]);
    case 'kgCO2e':
      return scaled(value, [[1000, 't CO2e'], [1, 'kg CO2e'], [1e-3, 'g CO2e'], [1e-6, 'mg CO2e']]);
    case 'tokens':
    case 'count':
      return grouped(Math.round(value));
    default:
      return `${sig(value)} ${unit}`;
  }
}

/** Factor of each scaled suffix, so a band prints in the same scale as its value. */
const SUFFIX_FACTOR: Record<string, number> = {
  B: 1, KiB: bytesInKiB, MiB: bytesInMiB, GiB: bytesInGiB,
  'µs': 1e-6, ms: secondsInMillisecond, s: 1, min: 60, h: secondsInHour, days: secondsInDay,
};

/** "18.9 ms (16.5-21.0)" when a band is known; the band uses the value's scale. */
export function formatFigure(f: Figure): string {
  const main = formatValue(f.value, f.unit);
  if (f.low === undefined || f.high === undefined) return f.approximate ? `~${main}` : main;
  const suffix = main.slice(main.lastIndexOf(' ') + 1);
  const factor = SUFFIX_FACTOR[suffix];
  const bound = (x: number): string => {
    if (factor !== undefined) return sig(x / factor);
    const text = formatValue(x, f.unit);
    return text.endsWith(` ${suffix}`) ? text.slice(0, -suffix.length - 1) : text;
  };
  return `${main} (${bound(f.low)}-${bound(f.high)})`;
}
