import Table from 'cli-table3';
import { describe, expect, it } from 'vitest';
import { plainTable } from '../src/format/table.js';

// plainTable draws the uncoloured, unwrapped tables scripts and files get without cli-table3's
// code; it must draw exactly what cli-table3 draws with the same options (src/format/table.ts).
const viaCliTable3 = (head: string[], rows: string[][], colAligns: ('left' | 'right')[]): string => {
  const table = new Table({ head, style: { head: [], border: [] }, colAligns, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  table.push(...rows);
  return table.toString();
};

/** A deterministic pseudo-random source (mulberry32), so every run tests the same tables. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('plainTable draws what cli-table3 draws', () => {
  const next = random(20);
  const word = () => Array.from({ length: Math.floor(next() * 14) }, () => ' abcxyzABC019.,$~-()%/'[Math.floor(next() * 22)]).join('');
  const cases = Array.from({ length: 200 }, (_, k) => {
    const n = 1 + Math.floor(next() * 5);
    const head = next() < 0.5 ? [] : Array.from({ length: n }, word);
    const rows = Array.from({ length: Math.floor(next() * 6) + (head.length ? 0 : 1) }, () => Array.from({ length: n }, word));
    const colAligns = Array.from({ length: n }, () => (next() < 0.5 ? 'left' : 'right') as 'left' | 'right');
    return [k, head, rows, colAligns] as const;
  });
  it.each(cases)('random table %i', (_k, head, rows, colAligns) => {
    expect(plainTable(head, rows, colAligns)).toBe(viaCliTable3(head, rows, colAligns));
  });

  it.each([
    ['an empty table', [], [], ['left']],
    ['label and value rows', [], [['Parameters', '8.03 B'], ['  Weights', '14.96 GiB (15.0-15.0)']], ['left', 'right']],
    ['a head over empty cells', ['Rank', 'Hardware'], [['', ''], ['1', 'h100-sxm']], ['right', 'left']],
  ] as const)('%s', (_name, head, rows, colAligns) => {
    expect(plainTable([...head], rows.map((r) => [...r]), [...colAligns])).toBe(viaCliTable3([...head], rows.map((r) => [...r]), [...colAligns]));
  });

  it.each([
    ['colour codes', [], [['\u001b[1mbold\u001b[22m', '1']]],
    ['a second line', [], [['a\nb', '1']]],
    ['wide characters', [], [['日本', '1']]],
    ['ragged rows', [], [['a', 'b'], ['c']]],
  ] as const)('leaves %s to cli-table3', (_name, head, rows) => {
    expect(plainTable([...head], rows.map((r) => [...r]), ['left', 'right'])).toBeUndefined();
  });
});
