import type { ApiPriceSet } from './api-prices.js';
import type { EngineSpec } from './engine.js';
import type { GridRegion } from './grid.js';
import type { HardwareSpec } from './hardware.js';
import type { ModelSpec } from './model.js';

/** A model preset as built: the resolved spec plus where it came from. */
export interface ModelPreset {
  id: string;
  aliases: string[];
  name: string;
  hfRepo?: string;
  source: string;
  published?: {
    params?: { value: number; source: string };
    activeParams?: { value: number; source: string };
    checkpointBytes?: { value: number | null; source: string };
  };
  model: ModelSpec;
  /** the config.json fields, verbatim */
  config: Record<string, unknown>;
  warnings: string[];
}

/** Every preset known to a run: built-ins plus user presets. */
export interface Catalog {
  hardware: HardwareSpec[];
  models: ModelPreset[];
  /** serving-engine profiles (presets/engines); absent in user preset folders */
  engines?: EngineSpec[];
  /** grid carbon-intensity regions (presets/grid), for --region; absent in user preset folders */
  grid?: GridRegion[];
  /** per-token API prices of open models (presets/api), for plan --compare-api; built-ins only */
  apiPrices?: ApiPriceSet[];
}

export interface Entry {
  id: string;
  aliases: string[];
}

/** Case-insensitive lookup by id or alias. */
export function findEntry<T extends Entry>(entries: T[], name: string): T | undefined {
  const needle = name.toLowerCase();
  return entries.find((e) => e.id === needle) ?? entries.find((e) => e.aliases.some((a) => a.toLowerCase() === needle));
}

export const allNames = (entries: Entry[]): string[] => entries.flatMap((e) => [e.id, ...e.aliases]);
