/**
 * Start-up benchmark: `llm-size estimate` on a preset against `node -e 0`, each run N times
 * alternately, reporting the median wall time of each and their ratio. A benchmark, not a test:
 * `npm run bench` (after a build).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.env.BENCH_RUNS ?? 30);
const bin = fileURLToPath(new URL('../../bin/llm-size.js', import.meta.url));
const commands: Record<string, string[]> = {
  'node -e 0': ['-e', '0'],
  'llm-size estimate (table)': [bin, 'estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm'],
  'llm-size estimate (json)': [bin, 'estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--format', 'json'],
};

const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(commands)) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    times[name].push(Number(process.hrtime.bigint() - start) / 1e6);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(times['node -e 0']);
console.log(`${runs} runs each, median wall time (ms):`);
for (const [name, xs] of Object.entries(times)) {
  console.log(`  ${name.padEnd(28)} ${median(xs).toFixed(1).padStart(7)} ms   ${(median(xs) / base).toFixed(2)}x node`);
}
