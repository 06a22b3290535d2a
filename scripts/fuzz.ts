/**
 * `npm run fuzz -- --runs 20000 [--processes 500] [--seed 1] [--timeout-ms 2000] [--max-rss-mb 200]`
 *
 * The long fuzz run of issue 11: the in-process properties of `npm test` (command lines from the
 * real command tree, mutated files, library calls) with `--runs` command lines (files and
 * library calls scale with it), then `--processes` command lines run as the real binary
 * (bin/llm-size.js), each within a time limit and a peak-memory limit. Exits 1 and prints the
 * failing cases when any run breaks the contract (scripts/fuzz/contract.ts).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { packageRoot } from '../src/paths.js';
import { contractViolations } from './fuzz/contract.js';
import { startHostileHub } from './fuzz/hub.js';
import { cliProperty, fileProperty, intoFolder, libraryProperty, setup } from './fuzz/properties.js';
import { REPRODUCTIONS } from './fuzz/reproductions.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: expected a number, got ${args[i + 1]}`);
  return v;
};
const runs = arg('runs', 2000);
const processes = arg('processes', Math.min(1000, Math.ceil(runs / 20)));
const seed = arg('seed', 1);
const timeoutMs = arg('timeout-ms', 2000);
const maxRssMb = arg('max-rss-mb', 200);

const root = fileURLToPath(packageRoot());
const bin = `${root}bin/llm-size.js`;
const preload = `${root}dist/scripts/fuzz/rss.js`;

interface Spawned {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  rssMb: number | undefined;
  timedOut: boolean;
}

/** Runs the binary on argv with the fuzz environment; kills it past the time limit. */
function spawnCli(argv: string[], env: Record<string, string | undefined>): Promise<Spawned> {
  return new Promise((resolve) => {
    const started = performance.now();
    // in the fuzz folder: a file a run writes (sweep --output) lands there, not in the repository
    const child = spawn(process.execPath, ['--import', preload, bin, ...intoFolder(argv, f.corpus.dir)], { cwd: f.corpus.dir, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let rss = '';
    let timedOut = false;
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (rss += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal: timedOut ? null : signal, stdout, stderr, ms: performance.now() - started, rssMb: rss ? Number(rss) / 1024 : undefined, timedOut });
    });
  });
}

const started = performance.now();
const hub = await startHostileHub();
const f = await setup(hub.endpoint);
const failures: string[] = [];
const report = (name: string, result: { numRuns: number; failed: boolean; errorInstance?: unknown; counterexample?: unknown }, n: number) => {
  console.log(`${name}: ${result.numRuns} of ${n} runs${result.failed ? ', FAILED' : ', contract kept'}`);
  if (result.failed) {
    failures.push(`${name}: ${String((result.errorInstance as Error)?.message ?? result.counterexample)}`);
    console.log(failures[failures.length - 1]);
  }
};

const inProcess = performance.now();
report('in-process command lines', await fc.check(cliProperty(f), { seed, numRuns: runs, endOnFailure: true }), runs);
const fileRuns = Math.ceil(runs / 10);
report('mutated files', await fc.check(fileProperty(f), { seed, numRuns: fileRuns, endOnFailure: true }), fileRuns);
const libraryRuns = Math.ceil(runs / 4);
report('library calls', await fc.check(libraryProperty(f), { seed, numRuns: libraryRuns, endOnFailure: true }), libraryRuns);
console.log(`in-process: ${((performance.now() - inProcess) / 1000).toFixed(1)} s`);

// The real binary: the same generator, other cases; time and peak memory per process.
const spawned = performance.now();
// issue 11's reproductions first (each must now be a one-line exit 2, within the limits), then
// generated lines; a process argument cannot hold a NUL byte (the OS ends the string there)
const lines = [...REPRODUCTIONS.map((r) => r.argv), ...fc.sample(f.argv, { seed: seed + 1, numRuns: processes }).filter((argv) => !argv.some((a) => a.includes('\0')))];
let slowest = 0;
let largest = 0;
const slow: { ms: number; argv: string[] }[] = [];
const concurrency = 2;
for (let i = 0; i < lines.length; i += concurrency) {
  const batch = lines.slice(i, i + concurrency);
  const results = await Promise.all(batch.map((argv) => spawnCli(argv, f.env)));
  results.forEach((r, j) => {
    const argv = batch[j];
    slowest = Math.max(slowest, r.ms);
    slow.push({ ms: r.ms, argv });
    slow.sort((x, y) => y.ms - x.ms).splice(3);
    largest = Math.max(largest, r.rssMb ?? 0);
    const v = contractViolations(argv, r);
    const reproduction = REPRODUCTIONS.find((x) => x.argv === argv);
    if (reproduction && (r.code !== 2 || !reproduction.message.test(r.stderr))) v.push(`reproduction "${reproduction.name}": expected exit 2 matching ${reproduction.message}`);
    if (r.timedOut) v.push(`ran past ${timeoutMs} ms`);
    if (r.rssMb !== undefined && r.rssMb > maxRssMb) v.push(`peak memory ${r.rssMb.toFixed(0)} MB > ${maxRssMb} MB`);
    if (r.rssMb === undefined && !r.timedOut && r.code !== null) v.push('no peak-memory reading (the process ended without its exit handler)');
    if (v.length) failures.push(`process: llm-size ${JSON.stringify(argv)}\n  ${v.join('\n  ')}\n  stderr: ${r.stderr.slice(0, 400)}`);
  });
}
console.log(`processes: ${lines.length} runs of bin/llm-size.js (${REPRODUCTIONS.length} reproductions of issue 11, then generated lines) in ${((performance.now() - spawned) / 1000).toFixed(1)} s; slowest ${slowest.toFixed(0)} ms, largest peak RSS ${largest.toFixed(0)} MB (limits ${timeoutMs} ms, ${maxRssMb} MB)`);

for (const s of slow) console.log(`  ${s.ms.toFixed(0)} ms: llm-size ${s.argv.map((a) => JSON.stringify(a)).join(' ')}`);

await hub.close();
rmSync(f.corpus.dir, { recursive: true, force: true });
console.log(`total: ${((performance.now() - started) / 1000).toFixed(1)} s, seed ${seed}`);
if (failures.length) {
  console.log(`\n${failures.length} failure(s):\n\n${failures.join('\n\n')}`);
  process.exitCode = 1;
}
