/**
 * Build step: validates every built-in preset with the zod schemas and writes them, in base
 * units, to dist/presets.jsonl, so that a CLI run reads one file and loads neither YAML nor
 * zod. A broken built-in preset fails the build (exit 1), reported with file, line and field:
 * shipping without it would silently drop a device or model. (A user's own presets, --presets,
 * are read at run time, where a broken one is reported and left out.)
 *
 * Usage: node dist/scripts/build-presets.js [presets directory] [output file] (defaults: the
 * repository's presets/ and dist/presets.jsonl; test/build-presets.test.ts passes its own).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadEngineFiles } from '../src/inputs/engine.js';
import { loadApiPriceFiles } from '../src/inputs/api-prices.js';
import { loadGridFiles } from '../src/inputs/grid.js';
import { loadPresetPaths } from '../src/inputs/load-presets.js';
import { formatIssue } from '../src/inputs/validate.js';
import { packPresets } from '../src/inputs/preset-store.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const presetsDir = process.argv[2] ?? `${root}presets`;
const outFile = process.argv[3] ?? `${root}dist/presets.jsonl`;
const loaded = loadPresetPaths([`${presetsDir}/hardware`, `${presetsDir}/models`]);
for (const issue of loaded.issues) console.error(`preset skipped: ${formatIssue(issue)}`);
// Engine profiles (presets/engines) have their own schema (src/inputs/engine.ts).
const engines = loadEngineFiles([`${presetsDir}/engines`]);
for (const issue of engines.issues) console.error(`preset skipped: ${formatIssue(issue)}`);
loaded.issues.push(...engines.issues);
// Grid carbon-intensity presets (presets/grid) for --region (src/inputs/grid.ts).
const grid = loadGridFiles([`${presetsDir}/grid`]);
for (const issue of grid.issues) console.error(`preset skipped: ${formatIssue(issue)}`);
// Per-token API prices of open models (presets/api) for plan --compare-api (src/inputs/api-prices.ts).
const api = loadApiPriceFiles([`${presetsDir}/api`]);
for (const issue of api.issues) console.error(`preset skipped: ${formatIssue(issue)}`);
if (loaded.issues.length || grid.issues.length || api.issues.length) {
  console.error(`build failed: ${loaded.issues.length + grid.issues.length + api.issues.length} problem(s) in the built-in presets (above); fix or remove those files`);
  process.exit(1);
}
for (const set of api.sets) {
  if (!loaded.models.some((m) => m.id === set.id)) {
    console.error(`presets/api: no model preset "${set.id}"`);
    process.exit(1);
  }
}
const seen = new Map<string, string>();
// an engine's versions share its id and aliases: check each engine once
const engineNames = engines.engines.filter((e, i, all) => all.findIndex((x) => x.id === e.id) === i);
for (const e of [...loaded.hardware, ...loaded.models, ...engineNames]) {
  for (const name of [e.id, ...e.aliases].map((n) => n.toLowerCase())) {
    if (seen.has(name)) {
      console.error(`preset name "${name}" used by both ${seen.get(name)} and ${e.id}`);
      process.exit(1);
    }
    seen.set(name, e.id);
  }
}
// region names live in their own namespace (--region), but must be unique among themselves
const regionNames = new Set<string>();
for (const r of grid.regions) {
  for (const name of [r.id, ...r.aliases].map((n) => n.toLowerCase())) {
    if (regionNames.has(name)) {
      console.error(`grid region name "${name}" used twice`);
      process.exit(1);
    }
    regionNames.add(name);
  }
}
// JSON Lines with an index by id and alias, so a run parses only the entries it uses (src/inputs/preset-store.ts).
writeFileSync(outFile, packPresets({ hardware: loaded.hardware, models: loaded.models, engines: engines.engines, grid: grid.regions, apiPrices: api.sets }));
console.error(`presets: ${loaded.hardware.length} hardware, ${loaded.models.length} models, ${engines.engines.length} engines, ${grid.regions.length} grid regions, API prices of ${api.sets.length} models -> ${outFile}`);
