/**
 * Build step: the CLI as one minified CommonJS bundle (dist/bundle/cli.cjs) plus its start-up
 * loader (dist/bundle/boot.cjs, src/boot.ts) and V8's code cache of the bundle, made by running
 * the common commands once. A run then reads two files and compiles almost nothing: measured
 * by `npm run bench` (scripts/bench-startup.ts).
 *
 * What a run does not need stays out of its way:
 * - our own rarely used modules (completion, schema, svg, hub, user presets, sweep ...) are
 *   modules the bundle initialises on their first import(), not at start;
 * - zod and yaml (about 500 KB between them) stay packages of their own, loaded by the few
 *   paths that need them (user presets, spec files, check, schema, presets validate);
 * - cli-table3 loads on the first table drawn with it, measures printable ASCII without
 *   string-width's emoji regex, and chalk makes its unused default instances without loading
 *   node:tty (scripts/shims/);
 * - commander's child_process (for executable subcommands, which llm-size has none of; about
 *   5 ms to load) is loaded only if commander ever reaches for it.
 * The library entry (dist/src/index.js) is not bundled.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { CODE_CACHE_RUNS } from '../src/boot.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = `${root}dist/bundle`;

/** cli-table3's string-width, with a fast path for printable ASCII (scripts/shims/string-width.cjs). */
const asciiStringWidth: Plugin = {
  name: 'ascii-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, (args) => (args.importer.includes('/node_modules/cli-table3/') ? { path: `${root}scripts/shims/string-width.cjs` } : undefined));
  },
};

/** chalk's colour detection for its unused default instances, without node:tty (scripts/shims/supports-color.mjs). */
const noDefaultColor: Plugin = {
  name: 'no-default-color',
  setup(b) {
    b.onResolve({ filter: /^#supports-color$/ }, (args) => (args.importer.includes('/node_modules/chalk/') ? { path: `${root}scripts/shims/supports-color.mjs` } : undefined));
  },
};

/** cli-table3 loaded on the first table drawn with it (scripts/shims/cli-table3.cjs), not at start. */
const lazyTable: Plugin = {
  name: 'lazy-cli-table3',
  setup(b) {
    b.onResolve({ filter: /^cli-table3$/ }, (args) => (args.importer.includes('/src/format/') ? { path: `${root}scripts/shims/cli-table3.cjs` } : undefined));
  },
};

/** node:child_process as a module that loads the real one on first use. */
const lazyChildProcess: Plugin = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (args.namespace === 'lazy' ? { path: 'node:child_process', external: true } : { path: 'child_process', namespace: 'lazy' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "let real; module.exports = new Proxy({}, { get: (_, key) => (real ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

// chunk names of earlier builds carried content hashes: clear the folder so it holds one build
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: [`${root}dist/src/cli.js`],
  outfile: `${out}/cli.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: process.env.BUNDLE_MINIFY !== "0",
  // the CommonJS way to load zod and yaml on demand: import() becomes a require
  supported: { 'dynamic-import': false },
  external: ['zod', 'yaml'],
  // src/paths.ts finds the package root from its own URL
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: 'var __bundleUrl=require("node:url").pathToFileURL(__filename).href;' },
  plugins: [lazyChildProcess, asciiStringWidth, noDefaultColor, lazyTable],
  logLevel: 'warning',
});
// The bundle in ASCII, so src/boot.ts reads it as latin1 and V8 keeps it as a one-byte string
// (half the memory of a two-byte one, no UTF-8 decoding): esbuild escapes strings but leaves
// regular expressions as written, and in a regular expression too \uXXXX is the character.
const bundleFile = `${out}/cli.cjs`;
const bundleText = readFileSync(bundleFile, 'utf8');
if (/\\[^\x00-\x7f]/.test(bundleText)) throw new Error('bundle: a backslash before a non-ASCII character; escaping it would change its meaning');
writeFileSync(bundleFile, bundleText.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

await build({
  entryPoints: [`${root}dist/src/boot.js`],
  outfile: `${out}/boot.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});

// One code cache per entry of CODE_CACHE_RUNS (src/boot.ts: the common one, and plan's), each
// made in a fresh process with no flags, as a run: V8 takes a code cache only under the flags it
// was made with, and a cache holds what its own runs compiled.
for (const name of Object.keys(CODE_CACHE_RUNS)) {
  const script = `require(${JSON.stringify(`${out}/boot.cjs`)}).writeCodeCache(${JSON.stringify(out)}, ${JSON.stringify(name)}).then((r) => console.error('code cache: ' + r.bytes + ' bytes -> ' + r.file.slice(${root.length})))`;
  const cache = spawnSync(process.execPath, ['-e', script], { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: '' } });
  // Without a cache a run still works (compiled as usual), so a failure here is reported, not fatal.
  if (cache.status !== 0) console.error(`code cache ${name}: not written (exit ${cache.status}); runs will compile the bundle`);
}
