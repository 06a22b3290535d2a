import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPresetPaths } from '../src/inputs/load-presets.js';
import { formatIssue } from '../src/inputs/validate.js';

const root = fileURLToPath(new URL('../presets/', import.meta.url));

describe('built-in presets', () => {
  const loaded = loadPresetPaths([`${root}hardware`, `${root}models`]);
  it('all validate and import without a single issue', () => {
    expect(loaded.issues.map(formatIssue)).toEqual([]);
  });
  it('no id or alias is used twice', () => {
    const names = [...loaded.hardware, ...loaded.models].flatMap((e) => [e.id, ...e.aliases].map((n) => n.toLowerCase()));
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });
});
