import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commands, docFiles, parseInvocation, runInvocation, transcriptText, transcripts } from '../scripts/docs-lib.js';

// The README's and docs' examples cannot go stale: transcripts are rewritten by `npm run docs`
// and compared here with a fresh run; every other `llm-size` command in a sh block must run.
const root = fileURLToPath(new URL('..', import.meta.url));
const pages = docFiles(root).map((file) => ({ file, text: readFileSync(`${root}${file}`, 'utf8') }));

describe('docs examples', () => {
  it('the README keeps the two commands CI runs', () => {
    const readme = pages.find((p) => p.file === 'README.md')!.text;
    expect(readme).toMatch(/^npm install && npx llm-size estimate --model \S+ --gpu \S+$/m);
    expect(readme).toMatch(/^npm test$/m);
  });

  it('every docs page is linked from the README', () => {
    const readme = pages.find((p) => p.file === 'README.md')!.text;
    for (const { file } of pages.slice(1)) expect(readme, file).toContain(`(${file})`);
  });

  const shown = pages.flatMap((p) => transcripts(p.file, p.text));
  it.each(shown.map((t) => [`${t.file}: $ ${t.command}`, t] as const))('%s prints what the page shows (run `npm run docs` to refresh)', async (_name, t) => {
    expect(t.shown).toBe(await transcriptText(t.command));
  });

  const listed = pages.flatMap((p) => commands(p.file, p.text));
  it.each(listed.map((c) => [`${c.file}:${c.line}: ${c.command}`, c] as const))('%s runs', async (_name, c) => {
    const { code, text } = await runInvocation(parseInvocation(c.command)!);
    expect(code, text).toBe(c.expectedCode);
  });
});
