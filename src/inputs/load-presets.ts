import { quote, UserError } from '../errors.js';
import type { Catalog, Entry, ModelPreset } from './catalog.js';
import { engineFileSchema, toEngineSpec, type EngineSpec } from './engine.js';
import { presetFiles, readFileText } from './files.js';
import { apiPriceFileSchema, type ApiPriceSet } from './api-prices.js';
import { gridFileSchema, toGridRegions, type GridRegion } from './grid.js';
import type { HardwareSpec } from './hardware.js';
import { importHfConfig } from './hf/index.js';
import { hardwareFileSchema, modelFileSchema, toHardwareSpec, type ModelFile } from './schema.js';
import { formatIssue, parseFile, type FileIssue } from './validate.js';

/**
 * Reads preset files (YAML or JSON) from a directory tree: hardware, models and serving-engine
 * profiles, told apart by `presetKind`. Used by the build (built-ins), `presets validate` and at
 * run time for user presets (--presets, LLM_SIZE_PRESETS), so the three always agree on what a
 * file is and whether it is valid.
 */
export interface LoadedPresets extends Catalog {
  engines: EngineSpec[];
  grid: GridRegion[];
  apiPrices: ApiPriceSet[];
  issues: FileIssue[];
  files: string[];
  /** the file each preset came from, keyed "hardware:<id>", "model:<id>" or "engine:<id>" */
  fileOf: Record<string, string>;
}

export { presetFiles } from './files.js';

export type PresetKind = 'hardware' | 'model' | 'engine' | 'grid' | 'api';

/**
 * Which schema a preset file is for: a file under an `engines/` folder or with a `kvCache:`
 * block is a serving-engine profile, one under `grid/` or with a `regions:` list grid carbon
 * intensities, one with `usdPerMillionInput` per-token API prices of a model,
 * one with a `config:` block a model, anything else hardware.
 */
export function presetKind(file: string, text: string): PresetKind {
  if (/usdPerMillionInput/.test(text)) return 'api';
  if (/(^|[\\/])grid[\\/]/.test(file) || /^regions\s*:|"regions"\s*:/m.test(text)) return 'grid';
  if (/(^|[\\/])engines[\\/]/.test(file) || /^kvCache\s*:|"kvCache"\s*:/m.test(text)) return 'engine';
  return /^config\s*:|"config"\s*:/m.test(text) ? 'model' : 'hardware';
}

export function modelPresetFrom(f: ModelFile, file: string): ModelPreset {
  const imported = importHfConfig(f.config, file, f.id, f.name);
  const { warnings } = imported;
  // A decoder trunk served as an embedder or reranker (Qwen3-Embedding): the preset says so.
  const model = f.task ? { ...imported.model, task: f.task } : imported.model;
  return {
    id: f.id,
    aliases: f.aliases,
    name: f.name,
    hfRepo: f.hfRepo,
    source: f.source,
    published: f.published,
    model,
    config: f.config,
    warnings,
  };
}

export function loadPresetPaths(paths: string[], where = '--presets'): LoadedPresets {
  const out: LoadedPresets = { hardware: [], models: [], engines: [], grid: [], apiPrices: [], issues: [], files: [], fileOf: {} };
  for (const file of paths.flatMap((p) => presetFiles(p, where))) {
    out.files.push(file);
    const read = readFileText(file);
    if (!read.ok) {
      // a file removed since the listing, a dangling link, a link loop: an issue of that file
      out.issues.push({ file, line: 1, field: '(file)', message: `cannot read: ${read.reason}` });
      continue;
    }
    const text = read.text;
    const kind = presetKind(file, text);
    if (kind === 'api') {
      const parsed = parseFile(file, text, apiPriceFileSchema);
      if (!parsed.ok) {
        out.issues.push(...parsed.issues);
        continue;
      }
      out.apiPrices.push({ id: parsed.value.model, aliases: [], prices: parsed.value.prices });
      out.fileOf[`api:${parsed.value.model}`] = file;
    } else if (kind === 'grid') {
      const parsed = parseFile(file, text, gridFileSchema);
      if (!parsed.ok) {
        out.issues.push(...parsed.issues);
        continue;
      }
      for (const region of toGridRegions(parsed.value)) {
        out.grid.push(region);
        out.fileOf[`grid:${region.id}`] = file;
      }
    } else if (kind === 'engine') {
      const parsed = parseFile(file, text, engineFileSchema);
      if (!parsed.ok) {
        out.issues.push(...parsed.issues);
        continue;
      }
      out.engines.push(toEngineSpec(parsed.value));
      out.fileOf[`engine:${parsed.value.id}`] = file;
    } else if (kind === 'model') {
      const parsed = parseFile(file, text, modelFileSchema);
      if (!parsed.ok) {
        out.issues.push(...parsed.issues);
        continue;
      }
      try {
        out.models.push(modelPresetFrom(parsed.value, file));
        out.fileOf[`model:${parsed.value.id}`] = file;
      } catch (e) {
        out.issues.push({ file, line: 1, field: 'config', message: (e as Error).message });
      }
    } else {
      const parsed = parseFile(file, text, hardwareFileSchema);
      if (!parsed.ok) {
        out.issues.push(...parsed.issues);
        continue;
      }
      try {
        out.hardware.push(toHardwareSpec(parsed.value) satisfies HardwareSpec);
        out.fileOf[`hardware:${parsed.value.id}`] = file;
      } catch (e) {
        out.issues.push({ file, line: 1, field: '(file)', message: (e as Error).message });
      }
    }
  }
  return out;
}

/**
 * Built-in presets plus user presets from `paths` (--presets, LLM_SIZE_PRESETS). A user preset
 * whose id is already taken (built in, or by an earlier path) replaces it, and `notice` says
 * so; user presets come first, so their aliases win too. An invalid user preset is a user
 * error naming its file, line and field.
 */
export function withUserPresets(builtIn: Catalog, paths: { path: string; where: string }[], notice: (text: string) => void): Catalog {
  const loaded: LoadedPresets = { hardware: [], models: [], engines: [], grid: [], apiPrices: [], issues: [], files: [], fileOf: {} };
  for (const { path, where } of paths) {
    const one = loadPresetPaths([path], where);
    for (const key of ['hardware', 'models', 'engines', 'grid', 'apiPrices', 'issues', 'files'] as const) (loaded[key] as unknown[]).push(...one[key]);
    Object.assign(loaded.fileOf, one.fileOf);
  }
  if (loaded.issues.length) {
    const more = loaded.issues.length > 1 ? ` (and ${loaded.issues.length - 1} more; run llm-size presets validate ${paths.map((p) => p.path).join(' ')})` : '';
    throw new UserError(`invalid user preset: ${formatIssue(loaded.issues[0])}${more}`);
  }
  if (!loaded.files.length) {
    throw new UserError(`${paths[0].where}: no preset files (.yaml, .yml, .json) under ${paths.map((p) => quote(p.path)).join(', ')}`);
  }
  const merge = <T extends Entry>(kind: PresetKind, user: T[], builtins: T[]): T[] => {
    const byId = new Map<string, T>();
    for (const entry of user) {
      const file = loaded.fileOf[`${kind}:${entry.id}`];
      if (byId.has(entry.id)) notice(`${kind} preset "${entry.id}" from ${file} replaces the one defined earlier`);
      else if (builtins.some((b) => b.id === entry.id)) notice(`${kind} preset "${entry.id}" from ${file} overrides the built-in one`);
      byId.set(entry.id, entry);
    }
    // An override keeps the names people type for the built-in (`--gpu h100` still finds it),
    // unless another user preset claims one.
    const claimed = new Set(user.flatMap((e) => [e.id, ...e.aliases].map((n) => n.toLowerCase())));
    const merged = [...byId.values()].map((entry) => {
      const replaced = builtins.find((b) => b.id === entry.id);
      if (!replaced) return entry;
      const inherited = replaced.aliases.filter((a) => !claimed.has(a.toLowerCase()));
      return { ...entry, aliases: [...entry.aliases, ...inherited] };
    });
    return [...merged, ...builtins.filter((b) => !byId.has(b.id))];
  };
  return {
    ...builtIn,
    hardware: merge('hardware', loaded.hardware, builtIn.hardware),
    models: merge('model', loaded.models, builtIn.models),
    engines: merge('engine', loaded.engines, builtIn.engines ?? []),
    grid: merge('grid', loaded.grid, builtIn.grid ?? []),
    apiPrices: merge('api', loaded.apiPrices, builtIn.apiPrices ?? []),
  };
}
