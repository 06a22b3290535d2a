/**
 * Build step: bundles the CLI into dist/bundle/ so that a run loads a few files instead of
 * dozens of ES modules (each costs about a millisecond or two to resolve and link on a small
 * machine). Each command stays its own chunk (cli.ts imports commands on demand), and zod and
 * yaml stay external, loaded only by the commands that need them. The library entry
 * (dist/src/index.js) is not bundled.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
// chunk names carry content hashes: clear the old ones so the folder holds one build
rmSync(`${root}dist/bundle`, { recursive: true, force: true });
await build({
  entryPoints: [`${root}dist/src/cli.js`],
  outdir: `${root}dist/bundle`,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['zod', 'yaml'],
  // commander and cli-table3 are CommonJS: give the ESM bundle a require for their node: imports
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
