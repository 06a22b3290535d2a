import { unknownChoice } from '../errors.js';
import { packageRoot } from '../paths.js';
import { allNames, type Catalog, type ModelPreset } from './catalog.js';
import type { GridRegion } from './grid.js';
import type { HardwareSpec } from './hardware.js';
import { findPreset, openPresetFile } from './preset-store.js';

/**
 * Built-in presets, validated and converted to base units at build time
 * (scripts/build-presets.ts -> dist/presets.jsonl), so a run loads no YAML or zod and parses
 * only the entries it uses (preset-store.ts). Loaded on first use, never at import time.
 */
let builtIn: Catalog | undefined;

export function builtInCatalog(): Catalog {
  builtIn ??= openPresetFile(new URL('dist/presets.jsonl', packageRoot()));
  return builtIn;
}

export function findHardware(catalog: Catalog, name: string): HardwareSpec {
  const found = findPreset<HardwareSpec>(catalog, 'hardware', name);
  if (!found) throw unknownChoice('hardware preset (--gpu)', name, allNames(catalog.hardware));
  return found;
}

export function findModel(catalog: Catalog, name: string): ModelPreset {
  const found = findPreset<ModelPreset>(catalog, 'models', name);
  if (!found) throw unknownChoice('model preset (--model)', name, allNames(catalog.models));
  return found;
}


export function findRegion(catalog: Catalog, name: string): GridRegion {
  const found = findPreset<GridRegion>(catalog, 'grid', name);
  if (!found) throw unknownChoice('grid region (--region; llm-size presets list regions)', name, allNames(catalog.grid ?? []));
  return found;
}
