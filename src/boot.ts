/**
 * Start-up: loads the CLI bundle (dist/bundle/cli.cjs, scripts/bundle.ts) so that a run
 * compiles as little as it can. Built into dist/bundle/boot.cjs, which bin/llm-size.js requires.
 *
 * - The build runs the bundle once on the common commands and keeps V8's code cache of it
 *   (cli-<V8 version>-<arch>.cache): a run then deserialises bytecode instead of parsing and
 *   compiling about 300 KB of JavaScript. V8 checks the cache against its version, flags and
 *   the source, and on any mismatch compiles as usual: a stale cache costs time, never a wrong
 *   answer.
 * - Node 22.1 and later also keep their own compile cache (module.enableCompileCache): turned on
 *   here, it covers what the build's cache does not (a runtime the package was not built with,
 *   and what loads later: zod, yaml).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

/** What the bundle exports (src/cli.ts). */
export interface Bundle {
  main: () => Promise<void>;
  run: typeof import('./cli.js').run;
}

/** How the bundle was loaded. */
export type BootPath = 'code-cache' | 'compile-cache' | 'compile';

export const BUNDLE_FILE = 'cli.cjs';

/**
 * The code caches the build keeps, each made by running these commands once: `cli` for every
 * command, and one for `plan`, whose search runs far more of the bundle than an estimate (a
 * cache that holds it is about a sixth larger, and an estimate would pay to load it).
 */
export const CODE_CACHE_RUNS: Record<string, string[][]> = {
  cli: [
    ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--format', 'json'],
    ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm'],
  ],
  plan: [['plan', '--model', 'llama-3.1-70b', '--ttft', '1s', '--tpot', '50ms', '--qps', '20', '--format', 'json']],
};

/** A code cache for this runtime: V8 accepts a cache made by its own version on its own architecture only. */
export function codeCacheFile(dir: string, versions: NodeJS.ProcessVersions = process.versions, arch: string = process.arch, name = 'cli'): string {
  return join(dir, `${name}-${versions.v8}-${arch}.cache`);
}

/** Which way to load: the build's code cache where there is one for this runtime, else Node's compile cache where it exists, else a plain compile. */
export function bootPath(hasCodeCache: boolean, hasCompileCache: boolean): BootPath {
  return hasCodeCache ? 'code-cache' : hasCompileCache ? 'compile-cache' : 'compile';
}

/** Node 22.1+: turns on the compile cache and says whether it is on. */
function enableCompileCache(): boolean {
  const enable = (module as { enableCompileCache?: () => { status: number } }).enableCompileCache;
  if (!enable) return false;
  try {
    // status: 0 failed, 1 enabled, 2 already enabled, 3 disabled by NODE_DISABLE_COMPILE_CACHE
    const { status } = enable();
    return status === 1 || status === 2;
  } catch {
    return false;
  }
}

function readOrUndefined(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Compiles the bundle as a CommonJS module body (as Node's own loader wraps it) and runs it. */
function compileBundle(file: string, cachedData: Buffer | undefined): { exports: Bundle; script: Script } {
  // ASCII (scripts/bundle.ts escapes the rest): latin1 reads it without UTF-8 decoding
  const source = readFileSync(file, 'latin1');
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const mod = { exports: {} as Bundle };
  (script.runInThisContext() as (...args: unknown[]) => void).call(mod.exports, mod.exports, createRequire(file), mod, file, join(file, '..'));
  return { exports: mod.exports, script };
}

/**
 * Loads the bundle in `dir` the fastest way this runtime allows (see bootPath). `rejected`: V8
 * turned the code cache down (other flags, a changed bundle) and compiled as usual.
 */
export function loadBundle(dir: string, command: string | undefined = process.argv[2]): { bundle: Bundle; path: BootPath; rejected: boolean } {
  const file = join(dir, BUNDLE_FILE);
  const compileCache = enableCompileCache();
  // the command's own cache where the build keeps one (CODE_CACHE_RUNS), else the common one
  const own = command !== undefined && command !== 'cli' && Object.hasOwn(CODE_CACHE_RUNS, command) ? readOrUndefined(codeCacheFile(dir, process.versions, process.arch, command)) : undefined;
  const cachedData = own ?? readOrUndefined(codeCacheFile(dir));
  const path = bootPath(cachedData !== undefined, compileCache);
  if (path === 'compile-cache') return { bundle: createRequire(file)(file) as Bundle, path, rejected: false };
  const { exports, script } = compileBundle(file, cachedData);
  return { bundle: exports, path, rejected: script.cachedDataRejected === true };
}

/** bin/llm-size.js: load and run the CLI. */
export function boot(dir: string): void {
  void loadBundle(dir).bundle.main();
}

/**
 * Build step (scripts/bundle.ts, in a fresh process without flags, as a run): compiles the
 * bundle, runs each argv of one cache (CODE_CACHE_RUNS) through it with output discarded, so
 * the functions those commands use are compiled, and writes V8's code cache of the lot.
 */
export async function writeCodeCache(dir: string, name: string, runs: string[][] = CODE_CACHE_RUNS[name]): Promise<{ file: string; bytes: number }> {
  const { exports, script } = compileBundle(join(dir, BUNDLE_FILE), undefined);
  for (const argv of runs) {
    const code = await exports.run(argv, { out: () => {}, err: () => {}, env: { NO_COLOR: '1' }, isTty: false });
    if (code !== 0) throw new Error(`code cache: llm-size ${argv.join(' ')} exited ${code}`);
  }
  const data = script.createCachedData();
  const file = codeCacheFile(dir, process.versions, process.arch, name);
  writeFileSync(file, data);
  return { file, bytes: data.length };
}
