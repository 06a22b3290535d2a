import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Catalog, Entry, ModelPreset } from './catalog.js';
import type { HardwareSpec } from './hardware.js';
import { importHfConfig } from './hf/index.js';
import { hardwareFileSchema, modelFileSchema, toHardwareSpec, type ModelFile } from './schema.js';
import { formatIssue, parseFile, type FileIssue } from './validate.js';

/**
 * Reads preset files (YAML or JSON) from a directory tree: files under a `hardware/` folder or
 * with `kind`/`vendor` keys are hardware, files with a `config:` block are models. Used by the
 * build (built-ins) and at run time for user presets (--presets, LLM_SIZE_PRESETS).
 */
export interface LoadedPresets extends Catalog {
  issues: FileIssue[];
  files: string[];
  /** the file each preset came from, keyed "hardware:<id>" or "model:<id>" */
  fileOf: Record<string, string>;
}

export function presetFiles(path: string): string[] {
  const stat = statSync(path);
  if (stat.isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? presetFiles(join(path, e.name)) : /\.(ya?ml|json)$/.test(e.name) ? [join(path, e.name)] : []));
}

/** Which schema a file is for, from its content. */
function kindOf(text: string): 'hardware' | 'model' {
  return /^config\s*:|"config"\s*:/m.test(text) ? 'model' : 'hardware';
}

export function modelPresetFrom(f: ModelFile, file: string): ModelPreset {
  const { model, warnings } = importHfConfig(f.config, file, f.id, f.name);
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

export function loadPresetPaths(paths: string[]): LoadedPresets {
  const out: LoadedPresets = { hardware: [], models: [], issues: [], files: [], fileOf: {} };
  for (const file of paths.flatMap(presetFiles)) {
    out.files.push(file);
    const text = readFileSync(file, 'utf8');
    if (kindOf(text) === 'model') {
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
  for (const { path, where } of paths) {
    if (!existsSync(path)) throw new UserError(`${where}: no such file or directory "${path}"`);
  }
  const loaded = loadPresetPaths(paths.map((p) => p.path));
  if (loaded.issues.length) {
    const more = loaded.issues.length > 1 ? ` (and ${loaded.issues.length - 1} more; run llm-size presets validate ${paths.map((p) => p.path).join(' ')})` : '';
    throw new UserError(`invalid user preset: ${formatIssue(loaded.issues[0])}${more}`);
  }
  const merge = <T extends Entry>(kind: 'hardware' | 'model', user: T[], builtins: T[]): T[] => {
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
  return { ...builtIn, hardware: merge('hardware', loaded.hardware, builtIn.hardware), models: merge('model', loaded.models, builtIn.models) };
}
