/**
 * One user-error class. A UserError prints as one line and exits with its code
 * (2 for bad input, 1 for a failed check); anything else is a bug (exit 70).
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'UserError';
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
  return new UserError(`unknown ${what} "${value}"${hint}${list}`);
}
