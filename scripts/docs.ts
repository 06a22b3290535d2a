/**
 * `npm run docs`: reruns every example transcript in README.md and docs/*.md (a fenced block
 * starting with `$ llm-size ...`) and writes what it prints below it. test/docs.test.ts fails
 * when a page shows something a fresh run no longer prints. Format: scripts/docs-lib.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { docFiles, transcriptText, transcripts } from './docs-lib.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
for (const file of docFiles(root)) {
  const text = readFileSync(`${root}${file}`, 'utf8');
  let out = '';
  let at = 0;
  let changed = 0;
  for (const t of transcripts(file, text)) {
    const fresh = await transcriptText(t.command);
    if (fresh !== t.shown) changed++;
    out += text.slice(at, t.start) + fresh;
    at = t.end;
  }
  out += text.slice(at);
  if (changed) {
    writeFileSync(`${root}${file}`, out);
    console.log(`${file}: ${changed} example(s) rewritten`);
  }
}
