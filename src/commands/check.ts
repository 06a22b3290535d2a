import { dirname, resolve as resolvePath } from 'node:path';
import { Command } from 'commander';
import type { Estimate } from '../estimate/index.js';
import { didYouMean, UserError } from '../errors.js';
import { readUserFile, YAML_OPTIONS } from '../inputs/files.js';
import { formatValue } from '../format/human.js';
import { formatOption, renderOutput, type Cell, type OutputFormat, type Rows } from '../format/render.js';
import { ESTIMATE_KEYS, fetchHubFor, type EstimateKey, type Origins, type RawOptions } from '../inputs/resolve.js';
import { estimateFromRaw } from '../inputs/resolve-disagg.js';
import { PERCENTILE_TARGET_KEYS, SIMULATE_KEYS, type SimulateKey, type SimulateRawOptions } from '../inputs/resolve-simulate.js';
import type { Figures } from '../estimate/terms.js';
import { parseDuration, parseQuantity, parseTokens, parseCount, type Unit } from '../units.js';
import type { Context } from './context.js';

/**
 * `llm-size check <deployments.yaml>`: a CI gate. Each named deployment holds the keys of a
 * spec file (model, gpu, count, batch, inputTokens ...) and an `assert:` block; every assertion
 * is checked against a fresh estimate. Exit 0 when all pass, 1 when any fails, 2 when the file
 * is invalid (file, line and field).
 *
 *   deployments:
 *     chat-8b:
 *       model: llama-3.1-8b
 *       gpu: h100-sxm
 *       batch: 16
 *       assert: { fits: true, ttft: "<= 800ms", tpot: "<= 40ms", headroom: ">= 10%" }
 */

/** ttftP50 ... e2eP99: a simulated percentile, e.g. ttftP99: "<= 1s". */
const PERCENTILE_ASSERTIONS = Object.fromEntries(
  PERCENTILE_TARGET_KEYS.map((key) => {
    const [, metric, p] = /^(ttft|tpot|itl|e2e)P(\d+)$/.exec(key)!;
    return [key, { figure: `latency.${metric}.p${p}`, unit: 's' as const, help: `simulated ${metric.toUpperCase()} p${p}, e.g. "<= 1s"` }];
  }),
) as Record<(typeof PERCENTILE_TARGET_KEYS)[number], { figure: string; unit: 's'; help: string }>;

/** Named assertions and the figure each compares; any figure id (`latency.e2e`) works too. */
export const ASSERTIONS = {
  fits: { figure: 'fits', unit: null, help: 'true or false' },
  ttft: { figure: 'latency.ttft', unit: 's', help: 'time to first token, e.g. "<= 800ms"' },
  tpot: { figure: 'latency.tpot', unit: 's', help: 'time per output token, e.g. "<= 40ms"' },
  e2e: { figure: 'latency.e2e', unit: 's', help: 'end-to-end time per request, e.g. "<= 20s"' },
  usdPerMillionOutputTokens: { figure: 'cost.usdPerMillionOutputTokens', unit: 'USD', help: 'e.g. "<= 1.5"' },
  usdPerMillionInputTokens: { figure: 'cost.usdPerMillionInputTokens', unit: 'USD', help: 'e.g. "<= 0.2"' },
  usdPerHour: { figure: 'cost.usdPerHour', unit: 'USD/h', help: 'deployment cost per hour, e.g. "<= 25"' },
  outputTokensPerSecond: { figure: 'throughput.outputTokensPerSecond', unit: 'tokens/s', help: 'e.g. ">= 2000"' },
  requestsPerSecond: { figure: 'throughput.requestsPerSecond', unit: 'requests/s', help: 'e.g. ">= 5"' },
  memoryPerDevice: { figure: 'memory.perDevice', unit: 'B', help: 'e.g. "<= 70GiB"' },
  headroom: { figure: 'memory.headroom', unit: 'fraction', help: 'free memory per device: share of capacity (">= 10%") or bytes (">= 8GiB")' },
  maxBatch: { figure: 'capacity.maxBatch', unit: 'count', help: 'e.g. ">= 64"' },
  maxContext: { figure: 'capacity.maxContext', unit: 'tokens', help: 'e.g. ">= 32k"' },
  // simulated (the deployment also needs qps or concurrency; `llm-size simulate` runs the same)
  ...PERCENTILE_ASSERTIONS,
  goodput: { figure: 'goodput.fraction', unit: 'fraction', help: 'simulated share of requests meeting every target the deployment names (ttftP99: ...), e.g. ">= 95%"' },
} as const satisfies Record<string, { figure: string; unit: Unit | null; help: string }>;

/** A figure only a simulation gives: percentiles, goodput, the simulated engine state. */
export const isSimulated = (figureId: string): boolean => /^latency\.(ttft|tpot|itl|e2e)\.(p\d+|mean)$/.test(figureId) || figureId.startsWith('goodput.') || figureId.startsWith('simulation.');
export type AssertionName = keyof typeof ASSERTIONS;
const ASSERTION_NAMES = Object.keys(ASSERTIONS) as AssertionName[];

export const COMPARISONS = ['<=', '>=', '==', '<', '>'] as const;
export type Comparison = (typeof COMPARISONS)[number];

export interface AssertionResult {
  assertion: string;
  figure: string;
  op: Comparison;
  expected: number | boolean;
  actual: number | boolean;
  /** base unit of expected and actual; null for fits */
  unit: Unit | null;
  passed: boolean;
}

export interface DeploymentResult {
  name: string;
  passed: boolean;
  assertions: AssertionResult[];
}

export interface CheckResult {
  schemaVersion: 1;
  file: string;
  passed: boolean;
  deployments: DeploymentResult[];
}

/** A threshold as written: "<= 800ms" -> { op: '<=', text: '800ms' }. */
export function parseThreshold(text: string): { op: Comparison; text: string } | undefined {
  const match = /^\s*(<=|>=|==|=|<|>)\s*(\S.*?)\s*$/.exec(text);
  if (!match) return undefined;
  return { op: (match[1] === '=' ? '==' : match[1]) as Comparison, text: match[2] };
}

/**
 * A threshold value in the figure's base unit. Times and sizes need their unit ("800ms",
 * "70GiB"): a bare 800 could be seconds or milliseconds. Returns a reason when it cannot.
 */
export function thresholdValue(text: string, unit: Unit): { value: number } | { reason: string } {
  const t = text.trim();
  const ok = (value: number) => (Number.isFinite(value) ? { value } : { reason: `"${text}" is not a number${hint[unit] ? ` (e.g. ${hint[unit]})` : ''}` });
  switch (unit) {
    case 's':
      if (!/[a-z]$/i.test(t)) return { reason: `"${text}" needs a time unit (ms, s, us, min), e.g. 800ms` };
      return ok(parseDuration(t));
    case 'B': {
      const q = parseQuantity(t, 'bytes');
      return q.ok ? { value: q.value } : { reason: `"${text}": ${q.reason}` };
    }
    case 'USD':
    case 'USD/h':
      return ok(Number(t.replace(/^\$/, '').replace(/\/h$/, '')));
    case 'fraction':
      return ok(t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t));
    case 'tokens':
      return ok(parseTokens(t));
    default:
      return ok(t === '' ? NaN : Number.isFinite(Number(t)) ? Number(t) : parseCount(t));
  }
}

const hint: Partial<Record<Unit, string>> = { USD: '1.5', 'USD/h': '25', fraction: '10%', tokens: '32k', count: '64', 'tokens/s': '2000' };

const compare = (actual: number, op: Comparison, expected: number): boolean =>
  op === '<=' ? actual <= expected : op === '<' ? actual < expected : op === '>=' ? actual >= expected : op === '>' ? actual > expected : actual === expected;

/** Where in the file a field is, for error messages. */
type Locate = (path: (string | number)[]) => string;

/** Checks one deployment's assertions against its estimate. */
export function checkAssertions(name: string, asserts: Record<string, unknown>, e: Estimate, locate: Locate): AssertionResult[] {
  const results: AssertionResult[] = [];
  for (const [key, raw] of Object.entries(asserts)) {
    const where = locate(['deployments', name, 'assert', key]);
    const known = Object.hasOwn(ASSERTIONS, key) ? ASSERTIONS[key as AssertionName] : undefined;
    if (key === 'fits') {
      if (typeof raw !== 'boolean') throw new UserError(`${where}: expected true or false, got ${JSON.stringify(raw)}`);
      results.push({ assertion: `fits: ${raw}`, figure: 'fits', op: '==', expected: raw, actual: e.fits, unit: null, passed: e.fits === raw });
      continue;
    }
    const figureId = known?.figure ?? key;
    const figure = Object.hasOwn(e.figures, figureId) ? e.figures[figureId] : undefined;
    if (!figure) {
      if (!known && !key.includes('.')) throw new UserError(`${where}: unknown assertion "${key}"${didYouMean(key, ASSERTION_NAMES)} (accepted: ${ASSERTION_NAMES.join(', ')}, or a figure id such as latency.e2e)`);
      throw new UserError(`${where}: this estimate has no figure "${figureId}"${didYouMean(figureId, Object.keys(e.figures))}`);
    }
    const threshold = typeof raw === 'string' ? parseThreshold(raw) : undefined;
    if (!threshold) throw new UserError(`${where}: expected a comparison such as "<= 800ms" or ">= 10%" (quote it in YAML), got ${JSON.stringify(raw)}`);
    let unit: Unit = figure.unit;
    let actual = figure.value;
    // headroom: the share of capacity left free ("10%"), or free bytes ("8GiB"); negative when
    // the deployment does not fit, so a failing gate shows by how much.
    if (key === 'headroom') {
      const free = e.figures['memory.capacityPerDevice'].value - e.figures['memory.perDevice'].value;
      const inBytes = /[a-z]$/i.test(threshold.text);
      unit = inBytes ? 'B' : 'fraction';
      actual = inBytes ? free : free / e.figures['memory.capacityPerDevice'].value;
    }
    const expected = thresholdValue(threshold.text, unit);
    if ('reason' in expected) throw new UserError(`${where}: ${expected.reason}`);
    results.push({ assertion: `${key} ${threshold.op} ${threshold.text}`, figure: key === 'headroom' ? `memory.headroom (${unit === 'B' ? 'bytes' : 'share of capacity'})` : figureId, op: threshold.op, expected: expected.value, actual, unit, passed: compare(actual, threshold.op, expected.value) });
  }
  return results;
}

/** The deployments file, validated with zod (loaded only by this command). */
async function deploymentsSchema() {
  const { z } = await import('zod');
  const scalar = z.union([z.string(), z.number(), z.boolean()]);
  const deployment = z
    .object({ assert: z.record(z.string(), z.union([z.string(), z.boolean(), z.number()])).default({}) })
    .catchall(scalar)
    .superRefine((d, ctx) => {
      for (const key of Object.keys(d)) {
        if (key !== 'assert' && !(SIMULATE_KEYS as readonly string[]).includes(key)) {
          ctx.addIssue({ code: 'custom', path: [key], message: `unknown field "${key}"${didYouMean(key, [...SIMULATE_KEYS, 'assert'])} (accepted: ${SIMULATE_KEYS.join(', ')}, assert)` });
        }
      }
      if (Object.keys(d.assert).length === 0) ctx.addIssue({ code: 'custom', path: ['assert'], message: `no assertions: add an assert block, e.g. assert: { fits: true, tpot: "<= 40ms" }` });
    });
  return z.strictObject({ deployments: z.record(z.string(), deployment).refine((d) => Object.keys(d).length > 0, 'no deployments in the file') });
}

export function checkCommand(ctx: Context): Command {
  return new Command('check')
    .description('check named deployments against budgets (fits, ttft, tpot, cost, headroom); exit 1 when any fails')
    .argument('<deployments>', 'YAML or JSON file of named deployments, each with model, gpu, workload and assert')
    .addOption(formatOption())
    .addHelpText('after', `
Assertions (under assert:): ${ASSERTION_NAMES.join(', ')}, or any figure id (latency.e2e).
Percentiles (ttftP99, tpotP90 ...) and goodput are simulated (llm-size simulate): the deployment
then needs qps (or concurrency), and may set requests, seed, arrival and its targets (ttftP99: 1s).
Comparisons: <=, <, >=, >, == with a unit where one applies ("<= 800ms", ">= 10%", "<= 70GiB").
Quote them in YAML: a value starting with ">" is YAML syntax.

Example file:
  deployments:
    chat-8b:
      model: llama-3.1-8b
      gpu: h100-sxm
      batch: 16
      inputTokens: 2048
      outputTokens: 512
      assert:
        fits: true
        ttft: "<= 1500ms"
        tpot: "<= 40ms"
        usdPerMillionOutputTokens: "<= 1.5"
        headroom: ">= 10%"

Examples:
  llm-size check examples/deployments.yaml
  llm-size check deployments.yaml --format json > check.json

Exit codes: 0 every assertion passed, 1 an assertion failed, 2 the file is invalid.`)
    .action(async (file: string, opts: { format: OutputFormat }) => {
      const text = readUserFile(file, 'check');
      const { parseFile, formatIssue } = await import('../inputs/validate.js');
      const parsed = parseFile(file, text, await deploymentsSchema());
      if (!parsed.ok) {
        const first = parsed.issues[0];
        const quoteHint = first.field === '(syntax)' && /:\s*>/.test(text.split('\n')[first.line - 1] ?? '') ? ' (quote comparisons that start with ">", e.g. ">= 10%")' : '';
        const more = parsed.issues.length > 1 ? ` (and ${parsed.issues.length - 1} more)` : '';
        throw new UserError(`${formatIssue(first)}${quoteHint}${more}`);
      }
      const locate = await locator(file, text);
      const catalog = await ctx.catalog();
      const deployments: DeploymentResult[] = [];
      const warnings: string[] = [];
      for (const [name, d] of Object.entries(parsed.value.deployments)) {
        const { assert, ...fields } = d;
        const all: SimulateRawOptions = {};
        const raw: RawOptions = {};
        const origins: Origins = {};
        const allOrigins: Partial<Record<SimulateKey, string>> = {};
        for (const [key, value] of Object.entries(fields)) {
          // a config.json path is relative to the deployments file, not to where CI runs
          const v = key === 'hfConfig' ? resolvePath(dirname(file), String(value)) : (value as RawOptions[EstimateKey]);
          all[key as SimulateKey] = v;
          allOrigins[key as SimulateKey] = locate(['deployments', name, key]);
          if (!(ESTIMATE_KEYS as readonly string[]).includes(key)) continue;
          raw[key as EstimateKey] = v;
          origins[key as EstimateKey] = locate(['deployments', name, key]);
        }
        let e: Estimate;
        try {
          const hub = await fetchHubFor(raw, origins, ctx.env);
          // Percentile and goodput assertions need the simulation (simulate's keys, one load).
          const simulated = Object.keys(assert).some((key) => isSimulated(Object.hasOwn(ASSERTIONS, key) ? ASSERTIONS[key as AssertionName].figure : key));
          const figures: Figures = {};
          if (simulated) {
            const { runSimulate } = await import('../inputs/resolve-simulate.js');
            if (typeof all.qps === 'string' && /\.\.|,/.test(all.qps)) throw new UserError(`${allOrigins.qps}: a check deployment simulates one load; give one rate`);
            const sim = runSimulate(all, allOrigins, catalog, hub);
            if (!('figures' in sim.document)) throw new UserError(`${locate(['deployments', name])}: a check deployment simulates one load`);
            Object.assign(figures, sim.document.figures);
            warnings.push(...sim.document.warnings.map((w) => `${name}: ${w}`));
          }
          const resolved = estimateFromRaw(raw, origins, catalog, hub);
          e = resolved.estimate;
          // the estimate's own figures keep their ids; the simulation adds percentiles and goodput
          for (const [id, f] of Object.entries(figures)) if (isSimulated(id) && !e.figures[id]) e.figures[id] = f;
          // with a simulation the distribution is served: the mean-request caveat covers only the other assertions
          const meanOnly = (w: string) => w.includes('these figures are for the mean request');
          warnings.push(...[...resolved.warnings, ...e.warnings].map((w) => (simulated && meanOnly(w) ? `${w.slice(0, w.indexOf(': these figures'))}: percentiles and goodput are simulated over the distribution; the other assertions are for the mean request` : w)).map((w) => `${name}: ${w}`));
        } catch (err) {
          if (err instanceof UserError && !err.message.startsWith(file)) {
            // "unknown hardware preset (--gpu) ..." -> point at the gpu field
            const flag = /\(--([a-z-]+)\)/.exec(err.message)?.[1].replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
            throw new UserError(`${locate(flag && flag in fields ? ['deployments', name, flag] : ['deployments', name])}: ${err.message}`);
          }
          throw err;
        }
        const assertions = checkAssertions(name, assert, e, locate);
        deployments.push({ name, passed: assertions.every((a) => a.passed), assertions });
      }
      for (const w of warnings) ctx.warn(w);
      const result: CheckResult = { schemaVersion: 1, file, passed: deployments.every((d) => d.passed), deployments };
      const { rows, humanRows } = checkRows(result);
      const table = async (color: boolean, width: number) => {
        const { renderGrid, makeChalk } = await import('../format/table.js');
        const c = makeChalk(color);
        const body = humanRows.rows.map((r) => humanRows.columns.map((col) => (col.key === 'result' ? (r.result === 'PASS' ? c.green('PASS') : c.red('FAIL')) : String(r[col.key] ?? ''))));
        return `${renderGrid(humanRows.columns.map((col) => col.label), body, color, width)}\n${summary(result, c.green, c.red)}\n`;
      };
      ctx.out(await renderOutput(opts.format, { document: result, rows, humanRows, title: `llm-size check ${file}`, table }, ctx.color, ctx.width()));
      if (!result.passed) ctx.exitCode = 1;
    });
}

/** Exact rows (csv) and rounded rows for people (table, markdown). */
function checkRows(result: CheckResult): { rows: Rows; humanRows: Rows } {
  const exact: Record<string, Cell>[] = [];
  const human: Record<string, Cell>[] = [];
  for (const d of result.deployments) {
    for (const a of d.assertions) {
      exact.push({ deployment: d.name, assertion: a.assertion, figure: a.figure, op: a.op, expected: a.expected, actual: a.actual, unit: a.unit, passed: a.passed });
      human.push({ deployment: d.name, assertion: a.assertion, actual: showValue(a.actual, a.unit), result: a.passed ? 'PASS' : 'FAIL' });
    }
  }
  return {
    rows: { columns: ['deployment', 'assertion', 'figure', 'op', 'expected', 'actual', 'unit', 'passed'].map((key) => ({ key, label: key })), rows: exact },
    humanRows: { columns: [{ key: 'deployment', label: 'Deployment' }, { key: 'assertion', label: 'Assertion' }, { key: 'actual', label: 'Actual' }, { key: 'result', label: 'Result' }], rows: human },
  };
}

const showValue = (v: number | boolean, unit: Unit | null): string => (typeof v === 'boolean' ? String(v) : unit ? formatValue(v, unit) : String(v));

function summary(result: CheckResult, ok: (s: string) => string, bad: (s: string) => string): string {
  const all = result.deployments.flatMap((d) => d.assertions.map((a) => ({ d, a })));
  const failed = all.filter(({ a }) => !a.passed);
  if (!failed.length) return ok(`PASSED: ${all.length} of ${all.length} assertions in ${result.deployments.length} deployments`);
  return bad(`FAILED: ${failed.length} of ${all.length} assertions: ${failed.map(({ d, a }) => `${d.name}: ${a.assertion} (actual ${showValue(a.actual, a.unit)})`).join('; ')}`);
}

/** "file:line: deployments.name.field" for a path in the YAML document. */
async function locator(file: string, text: string): Promise<Locate> {
  const { LineCounter, parseDocument } = await import('yaml');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter });
  return (path) => {
    for (let n = path.length; n > 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return `${file}:${lineCounter.linePos(node.range[0]).line}: ${path.join('.')}`;
    }
    return `${file}: ${path.join('.')}`;
  };
}
