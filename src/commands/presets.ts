import { Argument, Command } from 'commander';
import { quote, unknownChoice, UserError } from '../errors.js';
import { paramsFigures } from '../estimate/params.js';
import { formatOption, renderOutput, type Column, type OutputFormat, type Rows } from '../format/render.js';
import { wrapText } from '../format/width.js';
import { allNames, findEntry, type Catalog, type ModelPreset } from '../inputs/catalog.js';
import type { HardwareSpec } from '../inputs/hardware.js';
import { choice } from '../inputs/options.js';
import type { FileIssue } from '../inputs/validate.js';
import { parseQuantity } from '../units.js';
import type { Context } from './context.js';
import { packageRoot } from '../paths.js';
import { defaultPrice } from '../inputs/price.js';
import { presetPathsFrom, presetsOption } from './preset-paths.js';

/**
 * `llm-size presets list|show|validate`, and the `--presets <dir>` option every command that
 * reads presets takes. YAML and zod load only in `validate` (and when user presets are given).
 */

const KINDS = ['hardware', 'models', 'regions'] as const;
type Kind = (typeof KINDS)[number];
/** What `presets list` shows without a kind (regions only on request). */
const DEFAULT_KINDS: Kind[] = ['hardware', 'models'];

// ---- list ----

const HARDWARE_COLUMNS: Column[] = [
  { key: 'id', label: 'id' },
  { key: 'name', label: 'name' },
  { key: 'vendor', label: 'vendor' },
  { key: 'memoryBytes', label: 'memory', unit: 'B' },
  { key: 'memoryBandwidth', label: 'bandwidth', unit: 'B/s' },
  { key: 'bf16', label: 'bf16 dense', unit: 'FLOP/s' },
  { key: 'fp8', label: 'fp8 dense', unit: 'FLOP/s' },
  { key: 'fp4', label: 'fp4 dense', unit: 'FLOP/s' },
  { key: 'tdpWatts', label: 'TDP', unit: 'W' },
  { key: 'usdPerHour', label: 'USD/h', unit: 'USD/h' },
  { key: 'priceProvider', label: 'price from' },
];

const MODEL_COLUMNS: Column[] = [
  { key: 'id', label: 'id' },
  { key: 'name', label: 'name' },
  { key: 'family', label: 'family' },
  { key: 'params', label: 'params', unit: 'params' },
  { key: 'activeParams', label: 'active', unit: 'params' },
  { key: 'maxContext', label: 'max context', unit: 'tokens' },
];

const REGION_COLUMNS: Column[] = [
  { key: 'id', label: 'id' },
  { key: 'name', label: 'name' },
  { key: 'gco2PerKwh', label: 'gCO2e/kWh' },
  { key: 'year', label: 'year' },
];

const hardwareRow = (hw: HardwareSpec, price = defaultPrice(hw)) => ({
  id: hw.id,
  name: hw.name,
  vendor: hw.vendor,
  memoryBytes: hw.memoryBytes.value,
  memoryBandwidth: hw.memoryBandwidth.value,
  bf16: hw.compute.bf16?.value ?? null,
  fp8: hw.compute.fp8?.value ?? null,
  fp4: hw.compute.fp4?.value ?? null,
  tdpWatts: hw.tdpWatts.value,
  usdPerHour: price?.value ?? null,
  // the default price's basis: one provider's dated price, or the median of several
  priceProvider: price ? `${price.kind === 'purchase' ? 'owned: ' : ''}${price.prices.length === 1 ? `${price.prices[0]!.provider} ${price.prices[0]!.date}` : `median of ${price.prices.length} ${price.kind}`}` : null,
});

/** A model preset as listed: the architecture summary plus its exact parameter counts. */
function modelSummary(m: ModelPreset) {
  const params = paramsFigures({}, m.model);
  return { id: m.id, aliases: m.aliases, name: m.name, family: m.model.family, hfRepo: m.hfRepo ?? null, source: m.source, params: params.total, activeParams: params.active, maxContext: m.model.maxContext };
}

interface ListFilters {
  vendor?: string;
  kind?: string;
  minMemoryBytes?: number;
  search?: string;
}

function filterHardware(hardware: HardwareSpec[], f: ListFilters): HardwareSpec[] {
  return hardware
    .filter((hw) => (f.vendor ? hw.vendor === f.vendor : true))
    .filter((hw) => (f.kind ? hw.kind === f.kind : true))
    .filter((hw) => (f.minMemoryBytes !== undefined ? (hw.memoryBytes.value ?? 0) >= f.minMemoryBytes : true))
    .filter((hw) => matches(hw, f.search))
    .sort((a, b) => a.vendor.localeCompare(b.vendor) || a.id.localeCompare(b.id));
}

const matches = (e: { id: string; name: string; aliases: string[] }, search?: string): boolean =>
  !search || [e.id, e.name, ...e.aliases].some((s) => s.toLowerCase().includes(search.toLowerCase()));

function readFilters(opts: Record<string, unknown>, catalog: Catalog): ListFilters {
  const f: ListFilters = { search: typeof opts.search === 'string' ? opts.search : undefined };
  const vendors = [...new Set(catalog.hardware.map((h) => h.vendor))].sort();
  const kinds = [...new Set(catalog.hardware.map((h) => h.kind))].sort();
  if (opts.vendor !== undefined) f.vendor = choice({ value: String(opts.vendor), where: '--vendor' }, vendors);
  if (opts.kind !== undefined) f.kind = choice({ value: String(opts.kind), where: '--kind' }, kinds);
  if (opts.minMemory !== undefined) {
    const parsed = parseQuantity(String(opts.minMemory), 'bytes');
    if (!parsed.ok) throw new UserError(`--min-memory: invalid value "${opts.minMemory}": ${parsed.reason}`);
    f.minMemoryBytes = parsed.value;
  }
  return f;
}

async function list(ctx: Context, kind: Kind | undefined, opts: Record<string, unknown>): Promise<void> {
  const catalog = await ctx.catalog();
  const filters = readFilters(opts, catalog);
  const hardwareOnly = filters.vendor !== undefined || filters.kind !== undefined || filters.minMemoryBytes !== undefined;
  if ((kind === 'models' || kind === 'regions') && hardwareOnly) throw new UserError('--vendor, --kind and --min-memory filter hardware; use: llm-size presets list hardware');
  const kinds: Kind[] = kind ? [kind] : hardwareOnly ? ['hardware'] : DEFAULT_KINDS;
  const hardware = kinds.includes('hardware') ? filterHardware(catalog.hardware, filters) : undefined;
  const models = kinds.includes('models') ? catalog.models.filter((m) => matches(m, filters.search)).sort((a, b) => a.id.localeCompare(b.id)).map(modelSummary) : undefined;
  const regions = kinds.includes('regions') ? (catalog.grid ?? []).filter((r) => matches(r, filters.search)) : undefined;
  const format = opts.format as OutputFormat;

  if (format === 'json' || format === 'yaml') {
    ctx.out(await renderOutput(format, { document: { schemaVersion: 1, ...(hardware && { hardware }), ...(models && { models }), ...(regions && { regions }) } }, ctx.color, ctx.width()));
    return;
  }
  if (format === 'csv' && kinds.length > 1) throw new UserError('--format csv lists one kind at a time: llm-size presets list hardware (or models) --format csv');
  const heading = (title: string, count: number) => (format === 'table' && kinds.length > 1 ? `${title} (${count})\n` : '');
  const blocks: string[] = [];
  if (hardware) {
    const rows: Rows = { columns: HARDWARE_COLUMNS, rows: hardware.map((hw) => hardwareRow(hw)) };
    blocks.push(heading('Hardware', hardware.length) + (await renderOutput(format, { document: null, rows, title: `Hardware (${hardware.length}; dense peaks, median on-demand price)` }, ctx.color, ctx.width())));
  }
  if (models) {
    const rows: Rows = { columns: MODEL_COLUMNS, rows: models.map(({ aliases: _a, hfRepo: _h, source: _s, ...row }) => row) };
    blocks.push(heading('Models', models.length) + (await renderOutput(format, { document: null, rows, title: `Models (${models.length})` }, ctx.color, ctx.width())));
  }
  if (regions) {
    const rows: Rows = { columns: REGION_COLUMNS, rows: regions.map((r) => ({ id: r.id, name: r.name, gco2PerKwh: r.gco2PerKwh, year: r.year })) };
    blocks.push(await renderOutput(format, { document: null, rows, title: `Grid carbon intensity (${regions.length} regions; --region)` }, ctx.color, ctx.width()));
  }
  ctx.out(blocks.join('\n'));
}

// ---- show ----

async function show(ctx: Context, name: string, opts: Record<string, unknown>): Promise<void> {
  const catalog = await ctx.catalog();
  const hw = findEntry(catalog.hardware, name);
  const model = hw ? undefined : findEntry(catalog.models, name);
  if (!hw && !model) throw unknownChoice('preset', name, [...allNames(catalog.hardware), ...allNames(catalog.models)]);
  const format = opts.format as OutputFormat;
  // one preset is a nested document, not a table: csv would not be one parseable document
  if (format === 'csv') throw new UserError('--format csv: presets show prints one preset, a nested document; use --format json or yaml (presets list --format csv lists presets as rows)');
  const { renderHardwareShow, renderModelShow } = await import('../format/presets.js');
  if (hw) {
    const document = { schemaVersion: 1, kind: 'hardware', preset: hw };
    ctx.out(format === 'json' || format === 'yaml' ? await renderOutput(format, { document }, ctx.color, ctx.width()) : wrapText(renderHardwareShow(hw), ctx.width(), '    '));
    return;
  }
  const m = model!;
  const params = paramsFigures({}, m.model);
  const document = { schemaVersion: 1, kind: 'model', preset: { ...modelSummary(m), published: m.published ?? null, model: m.model, config: m.config } };
  ctx.out(format === 'json' || format === 'yaml' ? await renderOutput(format, { document }, ctx.color, ctx.width()) : wrapText(renderModelShow(m, params), ctx.width(), '    '));
}

// ---- validate ----

interface FileReport {
  file: string;
  valid: boolean;
  kind: 'hardware' | 'model' | 'engine' | 'grid' | null;
  id: string | null;
  issues: FileIssue[];
  notes: string[];
}

/** 1-based line of the first line in `text` that mentions `word` as a whole word, else 1. */
function lineOf(text: string, word: string): number {
  const re = new RegExp(`(^|[^\\w.-])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\w.-])`);
  const index = text.split('\n').findIndex((l) => re.test(l));
  return index + 1 || 1;
}

async function validate(ctx: Context, paths: string[], opts: Record<string, unknown>): Promise<void> {
  const given = paths.length ? paths.map((path) => ({ path, where: 'presets validate' })) : presetPathsFrom(ctx.env, opts.presets);
  if (!given.length) throw new UserError('presets validate: give the files or directories to check (e.g. llm-size presets validate presets/), or set --presets / LLM_SIZE_PRESETS');
  const { loadPresetPaths, presetFiles } = await import('../inputs/load-presets.js');
  const { readFileText } = await import('../inputs/files.js');
  const { builtInCatalog } = await import('../inputs/presets.js');
  const files: string[] = [];
  for (const { path, where } of given) {
    const found = presetFiles(path, where);
    if (!found.length) throw new UserError(`${where}: no preset files (.yaml, .yml, .json) under ${quote(path)}`);
    files.push(...found);
  }

  const builtIn = builtInCatalog();
  // the package's own presets/ folder: its files are the built-ins, so they override nothing
  const { existsSync, realpathSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const builtInDir = fileURLToPath(new URL('presets/', packageRoot()));
  const realBuiltIn = existsSync(builtInDir) ? realpathSync(builtInDir) : builtInDir;
  const isBuiltInFile = (file: string) => {
    try {
      return realpathSync(file).startsWith(realBuiltIn);
    } catch {
      return false;
    }
  };
  const owner = new Map<string, { id: string; version?: string; label: string }>(); // lower-case name -> its entry
  const reports: FileReport[] = [];
  for (const file of [...new Set(files)]) {
    const read = readFileText(file);
    const text = read.ok ? read.text : '';
    const loaded = loadPresetPaths([file], 'presets validate');
    const entry = loaded.hardware[0] ?? loaded.models[0] ?? loaded.engines[0] ?? loaded.grid[0];
    const kind = loaded.hardware.length ? 'hardware' : loaded.models.length ? 'model' : loaded.engines.length ? 'engine' : loaded.grid.length ? 'grid' : null;
    const report: FileReport = { file, valid: loaded.issues.length === 0, kind, id: entry?.id ?? null, issues: loaded.issues, notes: [] };
    if (entry) {
      // an engine's versions share its id and aliases (presets/engines/vllm-0.19.yaml, vllm-0.21.yaml): one name, one engine
      const version = kind === 'engine' ? (entry as { version?: string }).version : undefined;
      for (const name of [entry.id, ...entry.aliases]) {
        const other = owner.get(name.toLowerCase());
        const clash = other && (kind !== 'engine' || other.id !== entry.id || other.version === version);
        if (clash) {
          report.issues.push({ file, line: lineOf(text, name), field: name === entry.id ? 'id' : 'aliases', message: `"${name}" is already used by ${other.label}; ids and aliases must be unique${kind === 'engine' ? ' (versions of one engine share them)' : ''}` });
          report.valid = false;
        } else if (!other) owner.set(name.toLowerCase(), { id: entry.id, version, label: `${entry.id}${version ? `@${version}` : ''} (${file})` });
      }
      const builtIns: { id: string }[] = kind === 'hardware' ? builtIn.hardware : kind === 'model' ? builtIn.models : kind === 'engine' ? (builtIn.engines ?? []) : (builtIn.grid ?? []);
      if (!isBuiltInFile(file) && builtIns.some((b) => b.id === entry.id)) report.notes.push(`overrides the built-in ${kind} preset "${entry.id}"`);
      for (const w of loaded.models[0]?.warnings ?? []) report.notes.push(w);
    }
    reports.push(report);
  }

  const invalid = reports.filter((r) => !r.valid);
  if (invalid.length) ctx.exitCode = 1;
  const format = opts.format as OutputFormat;
  if (format === 'json' || format === 'yaml') {
    const document = { schemaVersion: 1, valid: invalid.length === 0, files: reports.map((r) => ({ ...r, issues: r.issues.map(({ line, field, message }) => ({ line, field, message })) })) };
    ctx.out(await renderOutput(format, { document }, ctx.color, ctx.width()));
    return;
  }
  if (format === 'csv' || format === 'markdown') {
    // one row per issue (a valid file: one row without one), so the output is one table
    const columns: Column[] = ['file', 'valid', 'kind', 'id', 'line', 'field', 'message'].map((key) => ({ key, label: key }));
    const rows = reports.flatMap((r) => (r.issues.length ? r.issues : [undefined]).map((i) => ({ file: r.file, valid: r.valid, kind: r.kind, id: r.id, line: i?.line ?? null, field: i?.field ?? null, message: i?.message ?? null })));
    ctx.out(await renderOutput(format, { document: null, rows: { columns, rows } }, ctx.color));
    return;
  }
  const { formatIssue } = await import('../inputs/validate.js');
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`${r.valid ? 'ok  ' : 'FAIL'}  ${r.file}${r.id ? `  (${r.kind} ${r.id})` : ''}`);
    for (const issue of r.issues) lines.push(`      ${formatIssue(issue)}`);
    for (const note of r.notes) lines.push(`      note: ${note}`);
  }
  const errors = invalid.reduce((n, r) => n + r.issues.length, 0);
  lines.push(`${reports.length} file${reports.length === 1 ? '' : 's'} checked: ${reports.length - invalid.length} valid, ${invalid.length} invalid${errors ? ` (${errors} error${errors === 1 ? '' : 's'})` : ''}`);
  ctx.out(`${lines.join('\n')}\n`);
}

// ---- the command ----

export function presetsCommand(ctx: Context): Command {
  const cmd = new Command('presets').description('list, show and validate hardware and model presets').addHelpText('after', `
Examples:
  llm-size presets list hardware
  llm-size presets show mi300x
  llm-size presets validate ./my-presets/`);
  cmd
    .command('list')
    .description('list presets (hardware, models, or both)')
    .addArgument(new Argument('[kind]', 'hardware, models or regions (grid carbon intensity)').choices(KINDS))
    .option('--vendor <vendor>', 'hardware of one vendor (nvidia, amd, google, intel, apple)')
    .option('--kind <kind>', 'hardware of one kind (gpu, tpu, hpu, soc)')
    .option('--min-memory <size>', 'hardware with at least this much memory per device, e.g. 80GiB or 141GB')
    .option('--search <text>', 'ids, aliases or names containing this text')
    .addOption(presetsOption())
    .addOption(formatOption())
    .addHelpText('after', `
Examples:
  llm-size presets list hardware --vendor amd
  llm-size presets list hardware --min-memory 80GiB --format json
  llm-size presets list models --search qwen`)
    .action((kind: Kind | undefined, opts: Record<string, unknown>) => list(ctx, kind, opts));
  cmd
    .command('show')
    .description('every value of one preset with its unit and source')
    .argument('<id>', 'preset id or alias (h100, mi300x, llama-3.1-8b)')
    .addOption(presetsOption())
    .addOption(formatOption())
    .addHelpText('after', `
Examples:
  llm-size presets show h100-sxm
  llm-size presets show llama-3.1-8b --format json`)
    .action((id: string, opts: Record<string, unknown>) => show(ctx, id, opts));
  cmd
    .command('validate')
    .description('check preset files (YAML or JSON): every error with file, line and field; exit 1 if any file is invalid')
    .argument('[paths...]', 'files or directories (default: --presets and LLM_SIZE_PRESETS)')
    .addOption(presetsOption())
    .addOption(formatOption())
    .addHelpText('after', `
Examples:
  llm-size presets validate presets/
  llm-size presets validate my-cluster.yaml --format json`)
    .action((paths: string[], opts: Record<string, unknown>) => validate(ctx, paths, opts));
  return cmd;
}
