import { z } from 'zod';
import { presetFiles, readUserFile } from './files.js';
import { parseFile, type FileIssue } from './validate.js';

/**
 * Grid carbon-intensity presets (presets/grid/*.yaml): the average grams of CO2-equivalent a
 * region's grid emits per kWh, with the year the figure describes and its source. `--region`
 * picks one; `--grid-gco2-per-kwh` gives the figure directly. Loaded with zod only at build
 * time (scripts/build-presets.ts) and by `presets validate`; runs read the JSON.
 */
export interface GridRegion {
  id: string;
  aliases: string[];
  name: string;
  /** grams CO2e per kWh drawn from the grid (the unit grid operators publish) */
  gco2PerKwh: number;
  /** the year the intensity describes */
  year: number;
  source: string;
  note?: string;
}

const slug = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'ids are lower-case slugs like "gcp-us-central1"');

export const gridFileSchema = z.strictObject({
  regions: z.array(
    z.strictObject({
      id: slug,
      aliases: z.array(z.string()).default([]),
      name: z.string().min(1),
      intensity: z.strictObject({
        value: z.number().nonnegative().max(2000, 'no grid emits more than about 1,200 gCO2e/kWh (lignite); check the unit'),
        year: z.number().int().min(1990).max(2100),
        source: z.string().min(1, 'every value needs a source'),
        note: z.string().optional(),
      }),
    }),
  ).min(1),
});

/** Reads and validates grid presets; problems come back with file, line and field. */
export function loadGridFiles(paths: string[]): { regions: GridRegion[]; issues: FileIssue[] } {
  const regions: GridRegion[] = [];
  const issues: FileIssue[] = [];
  for (const file of paths.flatMap((p) => presetFiles(p, 'presets'))) {
    const parsed = parseFile(file, readUserFile(file, 'presets'), gridFileSchema);
    if (!parsed.ok) {
      issues.push(...parsed.issues);
      continue;
    }
    regions.push(...toGridRegions(parsed.value));
  }
  return { regions, issues };
}

/** A validated grid file's regions. */
export function toGridRegions(f: z.infer<typeof gridFileSchema>): GridRegion[] {
  return f.regions.map((r) => ({ id: r.id, aliases: r.aliases, name: r.name, gco2PerKwh: r.intensity.value, year: r.intensity.year, source: r.intensity.source, ...(r.intensity.note ? { note: r.intensity.note } : {}) }));
}
