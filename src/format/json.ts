/** JSON output: base units, exact values, stable keys. Non-finite numbers are a bug. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, (key, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`internal: non-finite number at "${key}"`);
    return v;
  }, 2)}\n`;
}
