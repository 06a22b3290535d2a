import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { quote, UserError } from '../errors.js';

/**
 * The one reader for paths a user names: spec files, config.json files, preset folders and
 * files, `check` files, the Hub cache. Whatever goes wrong (no such file, a directory, a
 * symlink loop, no permission, a file too large, a FIFO that would block) is a user error
 * naming `where` (the flag or field) and the path; so are YAML and JSON that cannot be read,
 * including YAML resource limits (alias bombs, deep nesting) and tags it does not know.
 */

/** The largest YAML or JSON file read: presets, specs and config.json files are a few kB. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Most files a preset folder may hold (a folder of presets, not a home directory). */
export const MAX_PRESET_FILES = 10_000;
/** Deepest nesting a YAML or JSON document may have. */
export const MAX_DEPTH = 64;

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many levels of symbolic links (a link loop)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
  EINVAL: 'not a valid path',
};

/** Why a file system call failed, in words. */
export function fileReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return (code && Object.hasOwn(REASONS, code) ? REASONS[code] : undefined) ?? `cannot be read (${code ?? (e as Error)?.message ?? 'unknown error'})`;
}

/**
 * A file's text, or why it cannot be read (in words). Stats first: opening a FIFO would block,
 * and a directory or a device is not a file; reads at most the limit, whatever stat said (a
 * file may grow, /proc files say 0).
 */
export function readFileText(file: string): { ok: true; text: string } | { ok: false; reason: string } {
  if (typeof file !== 'string' || file === '' || file.includes('\0')) return { ok: false, reason: REASONS.EINVAL };
  const tooLarge = `larger than ${MAX_FILE_BYTES / 1024 / 1024} MB, the most this tool reads`;
  let fd: number | undefined;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) return { ok: false, reason: REASONS.EISDIR };
    if (!stat.isFile()) return { ok: false, reason: 'not a regular file' };
    if (stat.size > MAX_FILE_BYTES) return { ok: false, reason: tooLarge };
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(Math.min(MAX_FILE_BYTES + 1, stat.size + 65_536));
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > MAX_FILE_BYTES) return { ok: false, reason: tooLarge };
    return { ok: true, text: buffer.toString('utf8', 0, length) };
  } catch (e) {
    return { ok: false, reason: fileReason(e) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A file the user named, as text; anything unreadable is a user error naming `where` and the path. */
export function readUserFile(file: string, where: string): string {
  const read = readFileText(file);
  if (!read.ok) throw new UserError(`${where}: cannot read file ${quote(String(file))}: ${read.reason}`);
  return read.text;
}

/** How deep a parsed document nests (objects and arrays), stopping once past `limit`. */
function depthOver(value: unknown, limit: number, depth = 0): boolean {
  if (depth > limit) return true;
  if (typeof value !== 'object' || value === null) return false;
  for (const v of Object.values(value)) if (depthOver(v, limit, depth + 1)) return true;
  return false;
}

const PY_SPECIALS: Record<string, number> = { '\u0000Infinity': Infinity, '\u0000-Infinity': -Infinity, '\u0000NaN': NaN };

/**
 * JSON as Python's json module writes it: the bare tokens Infinity, -Infinity and NaN outside
 * strings are valid there (config.json files of Mamba models carry time_step_limit [0.0,
 * Infinity]) and become those numbers here; everything else is plain JSON.parse.
 */
export function parsePythonJson(text: string): unknown {
  if (!/NaN|Infinity/.test(text)) return JSON.parse(text);
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const token = ['-Infinity', 'Infinity', 'NaN'].find((t) => text.startsWith(t, i));
    if (token) {
      out += `"\\u0000${token}"`;
      i += token.length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out, (_key, value) => (typeof value === 'string' && value in PY_SPECIALS ? PY_SPECIALS[value] : value));
}

/** JSON text as a value; malformed or too deeply nested JSON is a user error naming the file. */
export function parseUserJson(text: string, file: string, where: string): unknown {
  let value: unknown;
  try {
    value = parsePythonJson(text);
  } catch (e) {
    throw new UserError(`${where}: cannot read ${quote(file)} as JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (depthOver(value, MAX_DEPTH)) throw new UserError(`${where}: cannot read ${quote(file)} as JSON: nested more than ${MAX_DEPTH} levels deep`);
  return value;
}

/** A JSON file the user named (--hf-config). */
export const readUserJson = (file: string, where: string): unknown => parseUserJson(readUserFile(file, where), file, where);

/**
 * Whether flow collections ([ and {) nest deeper than MAX_DEPTH, scanned before parsing: the
 * yaml parser recurses once per level, so a page of brackets would overflow its stack. (Block
 * nesting needs indentation per level, which the file size limit bounds.) Brackets inside
 * quoted strings count too: a spec or preset file has no reason to hold 64 of them in a row.
 */
export function bracketsTooDeep(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) {
      if (++depth > MAX_DEPTH) return true;
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return false;
}

/**
 * Options every YAML parse of a user file takes: aliases limited (an alias bomb expands
 * exponentially; the yaml package's own default is 100), unknown tags an error rather than a
 * warning Node prints on stderr, duplicate keys an error.
 */
export const YAML_OPTIONS = { maxAliasCount: 100, logLevel: 'silent', uniqueKeys: true, prettyErrors: false } as const;

/** One problem of a YAML document: a message and the offset it is at. */
export interface YamlProblem {
  message: string;
  offset: number;
}

/**
 * A parsed YAML document's problems that make it unreadable: syntax errors, then warnings
 * (an unresolved tag such as `!custom`: the yaml package would keep it as a string and Node
 * would print a warning), then resource limits hit while building the value.
 */
export function yamlProblems(doc: { errors: { message: string; pos: [number, number] }[]; warnings: { message: string; pos: [number, number] }[] }): YamlProblem[] {
  return [...doc.errors, ...doc.warnings].map((e) => ({ message: e.message.split('\n')[0], offset: e.pos[0] }));
}

/**
 * The value of a YAML document, or why it cannot be built: an alias bomb ("Excessive alias
 * count"), nesting past MAX_DEPTH, a stack overflow on a pathological document.
 */
export function yamlValue(doc: { toJS: (options?: { maxAliasCount?: number }) => unknown }): { ok: true; value: unknown } | { ok: false; message: string } {
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: YAML_OPTIONS.maxAliasCount });
  } catch (e) {
    const message = e instanceof RangeError ? `nested too deeply (${e.message})` : (e as Error)?.message ?? String(e);
    return { ok: false, message: message.split('\n')[0] };
  }
  if (depthOver(value, MAX_DEPTH)) return { ok: false, message: `nested more than ${MAX_DEPTH} levels deep` };
  return { ok: true, value };
}

/**
 * The preset files (.yaml, .yml, .json) under a path the user named: the file itself, or every
 * such file in the folder tree, in name order. Symbolic links to folders are followed once
 * each (by real path), so a link loop ends instead of recursing forever; what cannot be read is
 * a user error naming `where` and the path.
 */
export function presetFiles(path: string, where = '--presets'): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    throw new UserError(`${where}: ${fileReason(e)} ${quote(path)}`);
  }
  if (!stat.isDirectory()) return [path];
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string): void => {
    let real: string;
    let entries;
    try {
      real = realpathSync(dir);
      if (seen.has(real)) return;
      seen.add(real);
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (e) {
      throw new UserError(`${where}: cannot read folder ${quote(dir)}: ${fileReason(e)}`);
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        try {
          isDir = statSync(full).isDirectory();
        } catch {
          // a dangling link or a link loop: a file that cannot be read, reported when read
          isDir = false;
          if (!/\.(ya?ml|json)$/.test(e.name)) continue;
        }
      }
      if (isDir) walk(full);
      else if (/\.(ya?ml|json)$/.test(e.name)) out.push(full);
      if (out.length > MAX_PRESET_FILES) throw new UserError(`${where}: more than ${MAX_PRESET_FILES} preset files under ${quote(path)}; name a folder of presets`);
    }
  };
  walk(path);
  return out;
}

