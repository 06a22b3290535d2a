import { closeSync, openSync, readSync } from 'node:fs';
import { findEntry, type Catalog, type Entry } from './catalog.js';

/**
 * How the built-in presets are stored (dist/presets.jsonl, written by scripts/build-presets.ts):
 * JSON Lines, so that a run reads and parses only the entries it uses. The first line is an
 * index, for each kind (hardware, models, engines, grid ...) the entries in catalogue order as
 * [id, aliases, start, end]; every later line is one entry, at [start, end) counted from the
 * start of the second line. The text is ASCII (JSON escapes the rest), so those are byte offsets
 * too: `estimate --model llama-3.1-8b --gpu h100-sxm` reads the index and two entries from the
 * file instead of the whole catalogue (about 500 KB, most of it prices and models' config.json);
 * `presets list` and `plan` read a kind whole, on first use.
 */

type IndexRow = [id: string, aliases: string[], start: number, end: number];
type StoredIndex = Record<string, IndexRow[]>;

/** The stored text of a catalogue: `kinds` maps each kind to its entries, in order. */
export function packPresets(kinds: Record<string, Entry[]>): string {
  const index: StoredIndex = {};
  const lines: string[] = [];
  let at = 0;
  for (const [kind, entries] of Object.entries(kinds)) {
    index[kind] = entries.map((e) => {
      const json = asciiJson(e);
      lines.push(json);
      const row: IndexRow = [e.id, e.aliases, at, at + json.length];
      at += json.length + 1;
      return row;
    });
  }
  return `${asciiJson(index)}\n${lines.join('\n')}\n`;
}

/** JSON with every character past ASCII escaped (\uXXXX): offsets in characters are offsets in bytes. */
const asciiJson = (value: unknown): string => JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Name -> position lookups of a stored catalogue, per kind; kept beside the catalogue object. */
const lookups = new WeakMap<object, (kind: string, name: string) => Entry | undefined>();

/**
 * A catalogue over stored text (packPresets): each kind is a property that parses its entries
 * when first read, and findPreset() finds one entry by id or alias while parsing only it. The
 * same entry object comes back either way, so identity comparisons hold.
 */
export function openPresets(text: string): Catalog {
  const newline = text.indexOf('\n');
  return catalogOver(text.slice(0, newline), (start, end) => text.slice(newline + 1 + start, newline + 1 + end));
}

/** A catalogue over a stored file (packPresets): the index read at once, each entry read from the file when first used. */
export function openPresetFile(path: string | URL): Catalog {
  const fd = openSync(path, 'r');
  try {
    // the index: the first line
    let header = '';
    for (let at = 0, newline = -1; newline < 0; ) {
      const chunk = Buffer.alloc(32768);
      const n = readSync(fd, chunk, 0, chunk.length, at);
      if (n === 0) throw new Error(`${String(path)}: no index line`);
      header += chunk.toString('latin1', 0, n);
      at += n;
      newline = header.indexOf('\n');
      if (newline >= 0) header = header.slice(0, newline);
    }
    const body = header.length + 1;
    return catalogOver(header, (start, end) => {
      const entry = openSync(path, 'r');
      try {
        const bytes = Buffer.alloc(end - start);
        readSync(entry, bytes, 0, bytes.length, body + start);
        return bytes.toString('latin1');
      } finally {
        closeSync(entry);
      }
    });
  } finally {
    closeSync(fd);
  }
}

function catalogOver(header: string, read: (start: number, end: number) => string): Catalog {
  const index = JSON.parse(header) as StoredIndex;
  const catalog: Record<string, unknown> = {};
  const parsed: Record<string, Entry[]> = {};
  const names: Record<string, Map<string, number>> = {};
  // `kindText`: the kind's entries read at once (they are stored one after another), from `from`
  const entry = (kind: string, i: number, kindText?: string, from = 0): Entry => {
    const [, , start, end] = index[kind][i];
    return (parsed[kind][i] ??= JSON.parse(kindText === undefined ? read(start, end) : kindText.slice(start - from, end - from)) as Entry);
  };
  for (const kind of Object.keys(index)) {
    parsed[kind] = new Array<Entry>(index[kind].length);
    // The first read parses the kind whole and leaves a plain array in place of the getter.
    Object.defineProperty(catalog, kind, {
      enumerable: true,
      configurable: true,
      get() {
        const rows = index[kind];
        const from = rows.length ? rows[0][2] : 0;
        const text = rows.length ? read(from, rows[rows.length - 1][3]) : '';
        const all = rows.map((_, i) => entry(kind, i, text, from));
        Object.defineProperty(catalog, kind, { value: all, enumerable: true, writable: true, configurable: true });
        return all;
      },
      set(value: unknown) {
        Object.defineProperty(catalog, kind, { value, enumerable: true, writable: true, configurable: true });
      },
    });
  }
  lookups.set(catalog, (kind, name) => {
    const rows = index[kind];
    if (!rows) return undefined;
    // Case-insensitive, ids and aliases alike, as findEntry (build-presets.ts rejects a name used twice).
    names[kind] ??= new Map(rows.flatMap(([id, aliases], i) => [id, ...aliases].map((n) => [n.toLowerCase(), i] as const)));
    const i = names[kind].get(name.toLowerCase());
    return i === undefined ? undefined : entry(kind, i);
  });
  return catalog as unknown as Catalog;
}

/**
 * The entry of `kind` named `name` (id or alias, any case): through the index of a stored
 * catalogue, which parses that entry alone, or by scanning the kind of any other catalogue (one
 * merged with user presets is a plain object).
 */
export function findPreset<T extends Entry>(catalog: Catalog, kind: keyof Catalog, name: string): T | undefined {
  const lookup = lookups.get(catalog);
  if (lookup) return lookup(kind, name) as T | undefined;
  return findEntry((catalog[kind] ?? []) as unknown as T[], name);
}
