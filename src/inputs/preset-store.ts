import { findEntry, type Catalog, type Entry } from './catalog.js';

/**
 * How the built-in presets are stored (dist/presets.jsonl, written by scripts/build-presets.ts):
 * JSON Lines, so that a run parses only the entries it uses. The first line is an index, for
 * each kind (hardware, models, engines, grid ...) the entries in catalogue order as
 * [id, aliases, start, end]; every later line is one entry, at [start, end) counted in
 * characters from the start of the second line. `estimate --model llama-3.1-8b --gpu h100-sxm`
 * parses the index and two entries instead of the whole catalogue (about 280 KB, most of it
 * models' config.json); `presets list` and `plan` read a kind whole, on first use.
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
      const json = JSON.stringify(e);
      lines.push(json);
      const row: IndexRow = [e.id, e.aliases, at, at + json.length];
      at += json.length + 1;
      return row;
    });
  }
  return `${JSON.stringify(index)}\n${lines.join('\n')}\n`;
}

/** Name -> position lookups of a stored catalogue, per kind; kept beside the catalogue object. */
const lookups = new WeakMap<object, (kind: string, name: string) => Entry | undefined>();

/**
 * A catalogue over stored text (packPresets): each kind is a property that parses its entries
 * when first read, and findPreset() finds one entry by id or alias while parsing only it. The
 * same entry object comes back either way, so identity comparisons hold.
 */
export function openPresets(text: string): Catalog {
  const newline = text.indexOf('\n');
  const index = JSON.parse(text.slice(0, newline)) as StoredIndex;
  const body = newline + 1;
  const catalog: Record<string, unknown> = {};
  const parsed: Record<string, Entry[]> = {};
  const names: Record<string, Map<string, number>> = {};
  const entry = (kind: string, i: number): Entry => {
    const row = index[kind][i];
    return (parsed[kind][i] ??= JSON.parse(text.slice(body + row[2], body + row[3])) as Entry);
  };
  for (const kind of Object.keys(index)) {
    parsed[kind] = new Array<Entry>(index[kind].length);
    // The first read parses the kind whole and leaves a plain array in place of the getter.
    Object.defineProperty(catalog, kind, {
      enumerable: true,
      configurable: true,
      get() {
        const all = index[kind].map((_, i) => entry(kind, i));
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
