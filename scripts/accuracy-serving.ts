/**
 * Serving-percentile cases of the validation suite: published benchmark runs that report
 * latency percentiles at a request rate or a number of clients (validation/cases with a
 * `simulation:` block; format in validation/README.md), predicted by `llm-size simulate`
 * (src/estimate/simulation.ts) through the same option resolution as the CLI. Nothing is fitted
 * on them - the simulator re-times the shipped calibration's step model - so every error here is
 * out of sample. Kept apart from accuracy-lib.ts, whose loadSuite leaves these cases out; used
 * by scripts/accuracy.ts for its own section of docs/accuracy.md.
 */
import type { Catalog } from '../src/inputs/catalog.js';
import type { Raw } from '../src/inputs/options.js';
import { runSimulate, SIMULATE_KEYS, type SimulateKey, type SimulateRawOptions, type SimulationDocument } from '../src/inputs/resolve-simulate.js';
import { caseFiles, median, parseMeasured } from './accuracy-lib.js';

/** What a serving measurement measured, and the simulated figure that predicts it. */
export const SERVING_METRICS: Record<string, { figure: string; unit: 's' | 'tokens/s' | 'requests/s' }> = {
  ...Object.fromEntries(
    (['ttft', 'tpot', 'itl', 'e2e'] as const).flatMap((m) =>
      (['Mean', 'P50', 'P90', 'P95', 'P99'] as const).map((s) => [`${m}${s}`, { figure: `latency.${m}.${s.toLowerCase()}`, unit: 's' as const }]),
    ),
  ),
  requestsPerSecond: { figure: 'throughput.requestsPerSecond', unit: 'requests/s' },
  outputTokensPerSecond: { figure: 'throughput.outputTokensPerSecond', unit: 'tokens/s' },
};

export interface ServingMeasurement {
  id: string;
  caseId: string;
  file: string;
  metric: string;
  measured: number;
  published: string;
  modelled: string;
  /** `llm-size simulate` options, camelCase as in a spec file */
  options: SimulateRawOptions;
  trust: 'high' | 'medium' | 'low';
  source: string;
  unpredictable?: string;
  /**
   * A miss the simulator does not model, with its likely cause: predicted and counted in every
   * error figure like the rest, listed in the report, and the one exemption from the tests'
   * factor-of-two bound (docs/simulate.md 'Known misses').
   */
  knownMiss?: string;
}

/** Case keys that become simulate options (hardware is --gpu; layout is --tp / --pp). */
const DEPLOYMENT_KEYS = ['model', 'count', 'engine', 'precision', 'kvPrecision'] as const;

const asRaw = (v: unknown): Raw => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : (v as Raw));

/** The simulate options of a case (and a measurement's overrides; `null` removes an option). */
function optionsOf(c: Record<string, unknown>, raw: Record<string, unknown>, where: string): SimulateRawOptions {
  const o: Record<string, Raw> = {};
  for (const key of DEPLOYMENT_KEYS) if (c[key] !== undefined) o[key] = asRaw(c[key]);
  if (c.hardware !== undefined) o.gpu = asRaw(c.hardware);
  const layout = c.layout as { tp?: number; pp?: number } | undefined;
  if (layout) {
    delete o.count;
    if (layout.tp !== undefined) o.tp = String(layout.tp);
    if (layout.pp !== undefined) o.pp = String(layout.pp);
  }
  const sim = { ...(c.simulation as Record<string, unknown>), ...((raw.simulation as Record<string, unknown> | undefined) ?? {}) };
  for (const [key, value] of Object.entries(sim)) {
    if (!(SIMULATE_KEYS as readonly string[]).includes(key)) throw new Error(`${where}: unknown simulation option "${key}" (accepted: llm-size simulate options, camelCase)`);
    if (value === null) delete o[key];
    else o[key] = asRaw(value);
  }
  return o as SimulateRawOptions;
}

/** Reads the cases with a `simulation` block under `dir` and flattens them into measurements. */
export function loadServingSuite(dir: string): ServingMeasurement[] {
  const out: ServingMeasurement[] = [];
  for (const { file, cases } of caseFiles(dir)) {
    for (const c of cases) {
      if (!c.simulation) continue;
      for (const [i, raw] of ((c.measurements as Record<string, unknown>[]) ?? []).entries()) {
        const id = (raw.id as string | undefined) ?? (i === 0 ? (c.id as string) : `${c.id as string}#${i}`);
        const metric = String(raw.metric);
        if (!(metric in SERVING_METRICS)) throw new Error(`${file}: ${id}: unknown serving metric "${metric}" (accepted: ${Object.keys(SERVING_METRICS).join(', ')})`);
        const unpredictable = raw.unpredictable ?? c.unpredictable;
        const knownMiss = raw.knownMiss ?? c.knownMiss;
        out.push({
          id,
          caseId: c.id as string,
          file,
          metric,
          measured: parseMeasured(raw.measured as string, `${file}: ${id}`),
          published: String(raw.published ?? ''),
          modelled: String(raw.modelled ?? ''),
          options: optionsOf(c, raw, `${file}: ${id}`),
          trust: (c.trust as ServingMeasurement['trust']) ?? 'low',
          source: String(c.source ?? ''),
          unpredictable: unpredictable === undefined ? undefined : String(unpredictable),
          knownMiss: knownMiss === undefined ? undefined : String(knownMiss),
        });
      }
    }
  }
  return out;
}

export interface ServingRow {
  m: ServingMeasurement;
  predicted?: number;
  /** why it was not predicted */
  skipped?: string;
}

/**
 * Predicts every measurement; measurements with the same options share one simulation. A case
 * whose preset is missing, or that the simulator refuses, is reported with the reason.
 */
export function evaluateServing(suite: ServingMeasurement[], catalog: Catalog): ServingRow[] {
  const runs = new Map<string, SimulationDocument | string>();
  return suite.map((m) => {
    if (m.unpredictable) return { m, skipped: m.unpredictable };
    const key = JSON.stringify(m.options);
    if (!runs.has(key)) {
      try {
        const origins = Object.fromEntries(Object.keys(m.options).map((k) => [k, `${m.caseId}: ${k}`])) as Partial<Record<SimulateKey, string>>;
        runs.set(key, runSimulate(m.options, origins, catalog).document as SimulationDocument);
      } catch (e) {
        runs.set(key, (e as Error).message);
      }
    }
    const run = runs.get(key)!;
    if (typeof run === 'string') return { m, skipped: run };
    const f = run.figures[SERVING_METRICS[m.metric].figure];
    return f ? { m, predicted: f.value } : { m, skipped: `no figure ${SERVING_METRICS[m.metric].figure}` };
  });
}

/** The group a metric's error is summarised in: TTFT median, TTFT tail (p90-p99), ... */
export function servingGroup(metric: string): string {
  const def = SERVING_METRICS[metric];
  if (!def.figure.startsWith('latency.')) return 'throughput';
  const [, m, s] = def.figure.split('.');
  return `${m.toUpperCase()} ${s === 'mean' || s === 'p50' ? 'mean and median' : 'tail (p90-p99)'}`;
}

/** Who published a run: the repository or site its source names first ('github owner/repo', a URL's host). */
export function publisherOf(source: string): string {
  const m = /^(github [^\s@]+|https?:\/\/[^/\s]+)/.exec(source.trim());
  return m ? m[1].replace(/^https?:\/\//, '') : source.split(/[\s,(]/)[0];
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const abs = (x: number): string => `${(Math.abs(x) * 100).toFixed(1)}%`;

function show(value: number, metric: string): string {
  const unit = SERVING_METRICS[metric].unit;
  if (unit === 's') return value >= 1 ? `${value.toPrecision(4)} s` : `${(value * 1e3).toPrecision(4)} ms`;
  return `${value.toPrecision(4)} ${unit}`;
}

/** The section of docs/accuracy.md on serving percentiles. */
export function servingReport(rows: ServingRow[]): string[] {
  const predicted = rows.filter((r) => r.predicted !== undefined);
  const skipped = rows.filter((r) => r.skipped);
  const err = (r: ServingRow) => r.predicted! / r.m.measured - 1;
  const lines: string[] = [];
  lines.push('## Serving percentiles (simulate)', '');
  lines.push(`Published serving benchmarks that report latency percentiles at a request rate or a number of clients (validation/cases/serving-percentiles*.yaml), predicted by \`llm-size simulate\` with the shipped calibration: ${rows.length} measurements from ${new Set(rows.map((r) => r.m.caseId)).size} benchmark runs, ${predicted.length} predicted, ${skipped.length} not predictable. Nothing is fitted on them (the simulator re-times the calibrated step model), so these errors are out of sample. Each case lists the lengths it simulates and why; the method is in docs/simulate.md.`, '');
  lines.push('| figure | measurements | median absolute error | worst |', '|---|---|---|---|');
  const groups = [...new Set(predicted.map((r) => servingGroup(r.m.metric)))];
  for (const g of groups) {
    const errs = predicted.filter((r) => servingGroup(r.m.metric) === g).map((r) => Math.abs(err(r)));
    lines.push(`| ${g} | ${errs.length} | ${abs(median(errs))} | ${abs(Math.max(...errs))} |`);
  }
  lines.push('', '| source | runs | measurements | median absolute error | worst |', '|---|---|---|---|---|');
  for (const who of [...new Set(predicted.map((r) => publisherOf(r.m.source)))]) {
    const mine = predicted.filter((r) => publisherOf(r.m.source) === who);
    const errs = mine.map((r) => Math.abs(err(r)));
    lines.push(`| ${who} | ${new Set(mine.map((r) => r.m.caseId)).size} | ${errs.length} | ${abs(median(errs))} | ${abs(Math.max(...errs))} |`);
  }
  lines.push('', '| run | measurements | median absolute error | worst |', '|---|---|---|---|');
  for (const id of [...new Set(predicted.map((r) => r.m.caseId))]) {
    const errs = predicted.filter((r) => r.m.caseId === id).map((r) => Math.abs(err(r)));
    lines.push(`| ${id} | ${errs.length} | ${abs(median(errs))} | ${abs(Math.max(...errs))} |`);
  }
  lines.push('', '| measurement | metric | measured | simulated | error | trust |', '|---|---|---|---|---|---|');
  for (const r of predicted) lines.push(`| ${r.m.id} | ${r.m.metric} | ${show(r.m.measured, r.m.metric)} | ${show(r.predicted!, r.m.metric)} | ${pct(err(r))} | ${r.m.trust} |`);
  const misses = predicted.filter((r) => r.m.knownMiss);
  if (misses.length) {
    // counted in every figure above; listed with the cause the simulator does not model
    // one line per run and cause: the measurements are in the table above
    lines.push('', 'Known misses (in the errors above; docs/simulate.md):', '', '| run | measurements | errors | why |', '|---|---|---|---|');
    const causes = new Map<string, ServingRow[]>();
    for (const r of misses) causes.set(`${r.m.caseId}\u0000${r.m.knownMiss}`, [...(causes.get(`${r.m.caseId}\u0000${r.m.knownMiss}`) ?? []), r]);
    for (const [key, list] of causes) {
      const [caseId, why] = key.split('\u0000');
      const errs = list.map(err);
      const range = list.length === 1 ? pct(errs[0]) : `${pct(Math.min(...errs))} to ${pct(Math.max(...errs))}`;
      lines.push(`| ${caseId} | ${list.length} (${[...new Set(list.map((r) => r.m.metric))].join(', ')}) | ${range} | ${why} |`);
    }
  }
  if (skipped.length) {
    // kept in the suite for the record, one line per run and reason
    lines.push('', 'Not predictable:', '', '| run | measurements | why |', '|---|---|---|');
    const groups = new Map<string, ServingRow[]>();
    for (const r of skipped) groups.set(`${r.m.caseId}\u0000${r.skipped}`, [...(groups.get(`${r.m.caseId}\u0000${r.skipped}`) ?? []), r]);
    for (const [key, list] of groups) lines.push(`| ${key.split('\u0000')[0]} | ${list.length} | ${list[0].skipped} |`);
  }
  lines.push('');
  return lines;
}
