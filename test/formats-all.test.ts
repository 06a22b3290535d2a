import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { OUTPUT_FORMATS } from '../src/format/render.js';
import { validateJson } from '../src/inputs/output-schema.js';
import { cli } from './helpers.js';

/**
 * Issue #8, "Each format works for estimate, plan, train and presets list, and json validates
 * against the published schema": every command x every format exits 0 and prints output its
 * format's reader accepts, and json validates against the schema `llm-size schema output` prints.
 */

/** RFC 4180 fields of a CSV text (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += ch;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows;
}

/** The commands of the issue, each with the schema definition its json must satisfy (none: presets list). */
const COMMANDS: [name: string, argv: string[], def: string | undefined][] = [
  ['estimate', ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--batch', '8'], 'estimate'],
  ['plan', ['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--tpot', '50ms', '--hardware', 'h100-sxm,l4'], 'plan'],
  ['simulate', ['simulate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--qps', '5', '--requests', '200'], 'simulate'],
  ['simulate sweep', ['simulate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--qps', '2,4', '--requests', '200'], 'simulateSweep'],
  ['train', ['train', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--count', '8', '--zero', '3', '--tokens', '1b'], 'train'],
  ['presets list hardware', ['presets', 'list', 'hardware'], undefined],
  ['presets list models', ['presets', 'list', 'models'], undefined],
];

const CASES = COMMANDS.flatMap(([name, argv, def]) => OUTPUT_FORMATS.map((format) => [name, format, argv, def] as const));

describe('every format for estimate, plan, train and presets list', () => {
  let schema: unknown;
  const printedSchema = async () => (schema ??= JSON.parse((await cli(['schema', 'output'])).stdout));

  it.each(CASES)('%s --format %s exits 0 with parseable output', async (_name, format, argv, def) => {
    const r = await cli([...argv, '--format', format]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
    switch (format) {
      case 'json': {
        const doc = JSON.parse(r.stdout);
        expect(doc.schemaVersion).toBe(1);
        const printed = await printedSchema();
        expect(validateJson(printed, doc)).toEqual([]);
        if (def) expect(validateJson({ $ref: `#/$defs/${def}` }, doc, printed)).toEqual([]);
        break;
      }
      case 'yaml': {
        const json = await cli([...argv, '--format', 'json']);
        expect(parseYaml(r.stdout)).toEqual(JSON.parse(json.stdout));
        break;
      }
      case 'csv': {
        const rows = parseCsv(r.stdout);
        expect(rows.length).toBeGreaterThan(1); // a header and at least one row
        const width = rows[0].length;
        expect(width).toBeGreaterThan(1);
        for (const row of rows) expect(row.length).toBe(width);
        break;
      }
      case 'markdown': {
        const lines = r.stdout.split('\n').filter((l) => l.startsWith('|'));
        expect(lines.length).toBeGreaterThan(2); // header, rule, at least one row
        const rule = lines.findIndex((l) => /^\|(\s*:?-{3,}:?\s*\|)+$/.test(l));
        expect(rule).toBe(1);
        const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
        for (const l of lines) {
          expect(l.endsWith('|'), l).toBe(true);
          expect(cells(l)).toBe(cells(lines[0]));
        }
        break;
      }
      case 'table':
        // for people: no JSON, at least a line per figure or row
        expect(() => JSON.parse(r.stdout)).toThrow();
        expect(r.stdout.split('\n').length).toBeGreaterThan(3);
        break;
    }
  });
});

describe('presets show --format json validates against the published schema', () => {
  it.each(['h100-sxm', 'llama-3.1-8b'])('presets show %s', async (id) => {
    const printed = JSON.parse((await cli(['schema', 'output'])).stdout);
    const r = await cli(['presets', 'show', id, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.preset.id).toBe(id);
    expect(validateJson({ $ref: '#/$defs/presetsShow' }, doc, printed)).toEqual([]);
    expect(validateJson(printed, doc)).toEqual([]);
  });
});
