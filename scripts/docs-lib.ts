/**
 * The examples in README.md and docs/*.md, so they cannot go stale:
 * - a **transcript** is a fenced block whose first line is `$ llm-size ...` (optionally after
 *   `VAR=value` assignments): the rest of the block is what that command prints (stderr, then
 *   stdout, as a terminal shows them: warnings are written as they come, stdout at the end),
 *   on a 100-column terminal (COLUMNS=100 unless the line sets it).
 *   `npm run docs` rewrites them; test/docs.test.ts fails when one differs from a fresh run.
 * - a **command** is a line of a ```sh block that runs `llm-size` (or `npx llm-size`, after
 *   `&&` too): the test runs it and expects exit 0, or the code a trailing `# exit N` states.
 *   Blocks fenced as ```sh no-run (needs the network or the reader's own files) are skipped.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../src/cli.js';

/** README.md and every page under docs/, as paths relative to the repository root. */
export function docFiles(root: string): string[] {
  return ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

/** Splits a shell word list: single and double quotes, no expansions. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let inWord = false;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = '';
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

export interface Invocation {
  /** argv after `llm-size` */
  argv: string[];
  /** VAR=value assignments before the command */
  env: Record<string, string>;
}

/** `[VAR=v ...] [npx [--yes]] llm-size args...` -> argv and env; undefined when it is not one. */
export function parseInvocation(text: string): Invocation | undefined {
  const words = shellWords(text);
  const env: Record<string, string> = {};
  while (words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  if (words[0] === 'npx') {
    words.shift();
    while (words[0]?.startsWith('-')) words.shift();
  }
  if (words[0] !== 'llm-size') return undefined;
  return { argv: words.slice(1), env };
}

/**
 * What a terminal shows for a run: exit code, and stderr then stdout (no colour, no TTY). The
 * Hub is offline and unreachable: examples never touch the network (fence --hf ones no-run).
 */
export async function runInvocation(inv: Invocation): Promise<{ code: number; text: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(inv.argv, { out: (s) => (stdout += s), err: (s) => (stderr += s), env: { NO_COLOR: '1', COLUMNS: '100', HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9', XDG_CACHE_HOME: '/nonexistent', ...inv.env }, isTty: false });
  return { code, text: stderr + stdout };
}

export interface Transcript {
  file: string;
  /** the `$ ...` line, without the `$ ` */
  command: string;
  /** the printed lines as the page has them */
  shown: string;
  /** character offsets of the shown text in the page */
  start: number;
  end: number;
}

const FENCE = /^```([^\n]*)\n([\s\S]*?)^```$/gm;

export function transcripts(file: string, text: string): Transcript[] {
  const found: Transcript[] = [];
  for (const m of text.matchAll(FENCE)) {
    const body = m[2]!;
    const first = body.match(/^\$ (.*)\n/);
    if (!first || !parseInvocation(first[1]!)) continue;
    const start = m.index! + m[0].indexOf('\n') + 1 + first[0].length;
    found.push({ file, command: first[1]!, shown: body.slice(first[0].length), start, end: start + body.length - first[0].length });
  }
  return found;
}

/** The printed text of a transcript, as it belongs in the page (trailing blank lines dropped). */
export async function transcriptText(command: string): Promise<string> {
  const { text } = await runInvocation(parseInvocation(command)!);
  return `${text.replace(/\s+$/, '')}\n`;
}

export interface DocCommand {
  file: string;
  line: number;
  command: string;
  expectedCode: number;
}

/** Every `llm-size` command in the ```sh / ```bash blocks of a page, except ```sh no-run ones. */
export function commands(file: string, text: string): DocCommand[] {
  const found: DocCommand[] = [];
  for (const m of text.matchAll(FENCE)) {
    const info = m[1]!.trim().split(/\s+/);
    if (!['sh', 'bash', 'shell'].includes(info[0]!) || info.includes('no-run')) continue;
    const firstLine = text.slice(0, m.index!).split('\n').length + 1;
    m[2]!.split('\n').forEach((raw, i) => {
      const exit = raw.match(/#\s*exit (\d+)\s*$/);
      const line = raw.replace(/\s#.*$/, '').trim();
      for (const segment of line.split('&&')) {
        // a redirection or a pipe ends the command's own words
        const command = segment.split(/\s(?:>>?|\||<)\s/)[0]!.trim();
        if (parseInvocation(command)) found.push({ file, line: firstLine + i, command, expectedCode: exit ? Number(exit[1]) : 0 });
      }
    });
  }
  return found;
}
