/**
 * `npm run bench` (after a build): start-up and estimator speed, the figures issue 20 asks for.
 *
 * 1. Wall time of the built binary against `node -e 0` (the runtime's own floor) for a JSON
 *    estimate, the default table and a catalogue-wide plan for a 70B model: the commands run in
 *    turn, round after round (so a busy machine slows all of them alike), and each reports its
 *    median and its ratio to node's median.
 * 2. The in-process estimator on one core, for Llama-3.1-70B over a grid of configurations
 *    (devices x batch): configurations per second as plan's search evaluates them
 *    (probeServing: fit, KV capacity, step model and latency, equal to the full estimate's
 *    figures), full estimates with all their figures as plan's rows and sweep build them (no
 *    search for fixes), and as `estimate` runs it (a configuration that does not fit also gets
 *    its verdict's search for the change that makes it fit).
 *
 * BENCH_RUNS sets the rounds (default 30); BENCH_SECONDS the estimator's time (default 3).
 * A benchmark, not a test: nothing here asserts a time.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { estimate, probeServing, type EstimateInput } from '../src/estimate/index.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { resolveEstimate } from '../src/inputs/resolve.js';

const runs = Number(process.env.BENCH_RUNS ?? 30);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const bin = fileURLToPath(new URL('../../bin/llm-size.js', import.meta.url));
const commands: [name: string, args: string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['estimate --format json', [bin, 'estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--format', 'json']],
  ['estimate (table)', [bin, 'estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm']],
  ['plan 70B --format json', [bin, 'plan', '--model', 'llama-3.1-70b', '--ttft', '1s', '--tpot', '50ms', '--qps', '20', '--format', 'json']],
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const times = commands.map(() => [] as number[]);
for (let i = 0; i < runs; i++) {
  commands.forEach(([name, args], j) => {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    times[j].push(Number(process.hrtime.bigint() - start) / 1e6);
  });
}
const base = median(times[0]);
console.log(`Node ${process.version}, ${runs} interleaved rounds, median wall time:`);
commands.forEach(([name], j) => {
  const m = median(times[j]);
  console.log(`  ${name.padEnd(24)} ${m.toFixed(1).padStart(7)} ms  ${(m / base).toFixed(2)}x node -e 0`);
});

// In process: one resolved input per configuration (resolving is not the estimator's work),
// then estimate() round-robin over them; per-model data the estimator prepares is reused.
const catalog = builtInCatalog();
const inputs: EstimateInput[] = [];
for (const count of [1, 2, 4, 8]) {
  for (let batch = 1; batch <= 256; batch *= 2) {
    inputs.push(resolveEstimate({ model: 'llama-3.1-70b', gpu: 'h100-sxm', count: String(count), batch: String(batch) }, {}, catalog).input);
  }
}
/** Evaluations per CPU-second over the grid, after a warm-up: `evaluate` returns a latency of the configuration. */
function rate(evaluate: (input: EstimateInput) => number): { perSecond: number; micros: number; wallMicros: number } {
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += evaluate(inputs[i % inputs.length]); // warm-up
  let n = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < 1000; i++, n++) sink += evaluate(inputs[n % inputs.length]);
  }
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpuStart);
  const cpu = (used.user + used.system) / 1e6;
  if (!Number.isFinite(sink)) throw new Error('estimates are not finite');
  // CPU time: what one core spends, whatever else the machine runs (wall time shows the sharing)
  return { perSecond: n / cpu, micros: (1e6 * cpu) / n, wallMicros: (1e6 * wall) / n };
}
const perSecond = (r: { perSecond: number }) => Math.round(r.perSecond).toLocaleString('en-US').padStart(7);
const each = (r: { micros: number; wallMicros: number }) => `${r.micros.toFixed(1)} us CPU, ${r.wallMicros.toFixed(1)} us wall each`;
console.log(`In process, one core, Llama-3.1-70B over ${inputs.length} configurations (1-8 x H100 SXM, batch 1-256):`);
// As plan's search evaluates a configuration: fit, capacity, step model, latency (index.ts probeServing).
const search = rate((input) => probeServing(input).latency.e2e);
console.log(`  ${perSecond(search)} configurations per CPU-second as plan's search evaluates them (${each(search)})`);
// As plan's rows and sweep build them: every figure, no search for the change that would make it fit.
const full = rate((input) => estimate(input, undefined, { fixes: false }).figures['latency.e2e'].value);
console.log(`  ${perSecond(full)} full estimates per CPU-second, every figure built (${each(full)})`);
// As `estimate` runs it: a configuration that does not fit also gets its verdict's fixes.
const single = rate((input) => estimate(input).figures['latency.e2e'].value);
console.log(`  ${perSecond(single)} with the verdict's search for fixes (${each(single)})`);
