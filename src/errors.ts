/**
 * One user-error class. A UserError prints as one line and exits with its code
 * (2 for bad input, 1 for a failed check); anything else is a bug (exit 70). The message is
 * made one line here, whatever a caller put in it: a user value with a line break or a
 * terminal escape in it is shown escaped.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(oneLine(message));
    this.name = 'UserError';
  }
}

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const escapeControl = (c: string): string =>
  ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Text with every control character escaped (\n, \u001b), so it prints as one line. */
export const oneLine = (text: string): string => text.replace(CONTROL, escapeControl);

/**
 * A value the user gave, as a message shows it: quoted, with quotes, backslashes and control
 * characters escaped (JSON string syntax), so it cannot break the one-line message or the
 * terminal. Non-strings print as JSON would, and a value JSON cannot print by its type.
 * @example quote('a\nb') // '"a\\nb"'
 */
export function quote(value: unknown): string {
  if (typeof value === 'string') return oneLine(JSON.stringify(value));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return 'nothing';
  if (typeof value === 'bigint') return `${value}n (a BigInt)`;
  if (typeof value === 'function' || typeof value === 'symbol') return `a ${typeof value}`;
  try {
    const json = JSON.stringify(value);
    return oneLine(json.length > 80 ? `${json.slice(0, 77)}...` : json);
  } catch {
    return Array.isArray(value) ? 'a list' : 'an object';
  }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** The closest candidates to `input`, best first (at most `limit`). */
export function closest(input: string, candidates: readonly string[], limit = 3): string[] {
  // the distance costs length x length: a pasted page is no typo of a name
  if (input.length > 100) return [];
  const needle = input.toLowerCase();
  return candidates
    .map((c) => {
      const hay = c.toLowerCase();
      const d = hay.includes(needle) || needle.includes(hay) ? Math.abs(hay.length - needle.length) * 0.1 : distance(needle, hay);
      return { c, d };
    })
    .filter(({ c, d }) => d <= Math.max(2, c.length / 2))
    .sort((x, y) => x.d - y.d)
    .slice(0, limit)
    .map(({ c }) => c);
}

/** "did you mean a, b?" or "" */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const best = closest(input, candidates);
  return best.length ? `; did you mean ${best.join(', ')}?` : '';
}

/** Error for a value outside a fixed set of choices. */
export function unknownChoice(what: string, value: string, accepted: readonly string[]): UserError {
  const hint = didYouMean(value, accepted);
  const list = accepted.length <= 20 ? ` (accepted: ${accepted.join(', ')})` : '';
  return new UserError(`unknown ${what} ${quote(value)}${hint}${list}`);
}
