import { parse as parseYaml } from 'yaml';

/**
 * The contract every run of llm-size keeps, whatever the input (README, issue 11): exit 0
 * result, 1 failed check, 2 bad input as one line; never 70, a stack trace, NaN, Infinity or a
 * negative figure; stdout one parseable document for --format json, yaml and csv. Shared by the
 * in-process fuzz suite (test/fuzz.test.ts) and `npm run fuzz`, which also spawns the binary.
 */

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** the signal a spawned process died of, if any */
  signal?: string | null;
}

/** Keys whose numbers may be negative: a check's expected and actual values (headroom). */
const SIGNED_KEYS = new Set(['expected', 'actual']);

/** Prefixes a line on stderr may start with. */
const STDERR_PREFIXES = ['llm-size: ', 'warning: ', 'notice: ', 'wrote '];

/** The last value of a flag on a command line (commander: the last one wins). */
export function lastFlag(argv: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    if (argv[i] === flag && i + 1 < argv.length) value = argv[i + 1];
    else if (argv[i].startsWith(`${flag}=`)) value = argv[i].slice(flag.length + 1);
  }
  return value;
}

/**
 * Subtrees that echo a published file verbatim, not figures: `presets show`'s `config` is the
 * model's config.json as published, where negative numbers have meanings (Llama 4's
 * vision_feature_layer -1 indexes the last layer). Non-finite numbers are still flagged there.
 */
const VERBATIM_PATHS = new Set(['$.preset.config']);

/** Numbers that should not be there: negative (outside SIGNED_KEYS and VERBATIM_PATHS) or non-finite, with their path. */
export function badNumbers(value: unknown, path = '$', out: string[] = [], verbatim = false): string[] {
  if (out.length > 5) return out;
  verbatim ||= VERBATIM_PATHS.has(path);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) out.push(`${path} = ${value}`);
    else if (value < 0 && !verbatim && !SIGNED_KEYS.has(path.split('.').pop()!)) out.push(`${path} = ${value} (negative)`);
  } else if (Array.isArray(value)) value.forEach((v, i) => badNumbers(v, `${path}[${i}]`, out, verbatim));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) badNumbers(v, `${path}.${k}`, out, verbatim);
  return out;
}

/** RFC 4180 CSV -> rows of cells; throws on an unterminated quote. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\n') row.push(cell), rows.push(row), (row = []), (cell = '');
    else cell += c;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (cell !== '' || row.length) row.push(cell), rows.push(row);
  return rows;
}

/** Parses stdout as the format asked for and returns what breaks the contract in it. */
export function documentProblems(format: string, stdout: string): string[] {
  try {
    if (format === 'json') return badNumbers(JSON.parse(stdout));
    if (format === 'yaml') {
      const doc = parseYaml(stdout) as unknown;
      if (doc === undefined || doc === null) return ['yaml: empty document'];
      return badNumbers(doc);
    }
    if (format === 'csv') {
      const rows = parseCsv(stdout);
      if (!rows.length) return ['csv: no header'];
      const width = rows[0].length;
      const problems: string[] = [];
      rows.forEach((r, i) => {
        if (r.length !== width) problems.push(`csv row ${i}: ${r.length} cells, header has ${width}`);
        r.forEach((cell, j) => {
          if (/^(NaN|-?Infinity)$/.test(cell)) problems.push(`csv row ${i} ${rows[0][j]}: ${cell}`);
          else if (/^-\d/.test(cell) && Number.isFinite(Number(cell)) && !SIGNED_KEYS.has(rows[0][j])) problems.push(`csv row ${i} ${rows[0][j]}: ${cell} (negative)`);
        });
      });
      return problems;
    }
  } catch (e) {
    return [`stdout is not ${format}: ${(e as Error).message.split('\n')[0]}`];
  }
  return [];
}

/** What a run did against the contract; [] when it kept it. */
export function contractViolations(argv: readonly string[], r: RunResult): string[] {
  const v: string[] = [];
  if (r.signal) v.push(`killed by ${r.signal}`);
  if (r.code === 70) v.push('exit 70 (internal error)');
  else if (r.code !== 0 && r.code !== 1 && r.code !== 2) v.push(`exit ${r.code}`);
  if (/\n\s+at [^\n]*(\.js|\.ts|<anonymous>)/.test(r.stderr) || /\n\s+at /.test(r.stderr)) v.push('stack trace on stderr');
  const lines = r.stderr.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (!STDERR_PREFIXES.some((p) => line.startsWith(p))) {
      v.push(`stderr line without a known prefix: ${JSON.stringify(line.slice(0, 120))}`);
      break;
    }
  }
  if (r.code === 2) {
    const errors = lines.filter((l) => l.startsWith('llm-size: '));
    if (errors.length !== 1) v.push(`exit 2 with ${errors.length} error lines`);
    if (r.stdout !== '') v.push('exit 2 with output on stdout');
  }
  // a figure printed as NaN or Infinity (presets validate's report quotes the files it read, so it may hold either)
  const report = argv.includes('validate');
  if (!report && /(^|[^A-Za-z])NaN([^A-Za-z]|$)|(^|[^A-Za-z])-?Infinity(?! Fabric)/.test(r.stdout)) v.push('NaN or Infinity on stdout');
  if (r.code === 0 || r.code === 1) {
    const format = lastFlag(argv, '--format');
    const help = argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V') || argv[0] === 'help';
    if (help) return v;
    const writesFile = lastFlag(argv, '--output') !== undefined;
    if (format && ['json', 'yaml', 'csv'].includes(format) && !writesFile && r.stdout !== '') v.push(...documentProblems(format, r.stdout));
  }
  return v;
}
