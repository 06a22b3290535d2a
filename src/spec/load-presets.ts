import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog, ModelPreset } from './catalog.js';
import type { HardwareSpec } from './hardware.js';
import { importHfConfig } from './hf.js';
import { hardwareFileSchema, modelFileSchema, toHardwareSpec, type ModelFile } from './schema.js';
import { parseFile, type FileIssue } from './validate.js';

/**
 * Reads preset files (YAML or JSON) from a directory tree: files under a `hardware/` folder or
 * with `kind`/`vendor` keys are hardware, files with a `config:` block are models. Used by the
 * build (built-ins) and at run time for user presets (--presets, LLM_SIZE_PRESETS).
 */
export interface LoadedPresets extends Catalog {
  issues: FileIssue[];
  files: string[];
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
  const out: LoadedPresets = { hardware: [], models: [], issues: [], files: [] };
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
      } catch (e) {
        out.issues.push({ file, line: 1, field: '(file)', message: (e as Error).message });
      }
    }
  }
  return out;
}
