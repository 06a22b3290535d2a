import { readFileSync } from 'node:fs';
import { unknownChoice } from '../errors.js';
import { packageRoot } from '../paths.js';
import { allNames, findEntry, type Catalog, type ModelPreset } from './catalog.js';
import type { EngineSpec } from './engine.js';
import type { GridRegion } from './grid.js';
import type { HardwareSpec } from './hardware.js';

/**
 * Built-in presets, validated and converted to base units at build time
 * (scripts/build-presets.ts -> dist/presets.json), so a run pays one JSON.parse and no YAML or
 * zod. Loaded on first use, never at import time.
 */
let builtIn: Catalog | undefined;

export function builtInCatalog(): Catalog {
  builtIn ??= JSON.parse(readFileSync(new URL('dist/presets.json', packageRoot()), 'utf8')) as Catalog;
  return builtIn;
}

export function findHardware(catalog: Catalog, name: string): HardwareSpec {
  const found = findEntry(catalog.hardware, name);
  if (!found) throw unknownChoice('hardware preset (--gpu)', name, allNames(catalog.hardware));
  return found;
}

export function findModel(catalog: Catalog, name: string): ModelPreset {
  const found = findEntry(catalog.models, name);
  if (!found) throw unknownChoice('model preset (--model)', name, allNames(catalog.models));
  return found;
}

export function findEngine(catalog: Catalog, name: string): EngineSpec {
  const engines = catalog.engines ?? [];
  const found = findEntry(engines, name);
  if (!found) throw unknownChoice('engine (--engine)', name, allNames(engines));
  return found;
}

export function findRegion(catalog: Catalog, name: string): GridRegion {
  const regions = catalog.grid ?? [];
  const found = findEntry(regions, name);
  if (!found) throw unknownChoice('grid region (--region; llm-size presets list regions)', name, allNames(regions));
  return found;
}
