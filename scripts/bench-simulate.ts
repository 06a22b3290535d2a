/**
 * `npm run bench:simulate`: times `llm-size simulate` in process at 10,000 and 100,000 requests
 * (targets: under 1 s and under 10 s) for three loads - a light one where requests mostly run
 * alone (the most steps per request), a busy chat load with length distributions and bursty
 * arrivals, and a closed loop that keeps the batch full - after one warm-up run; prints the
 * median of the timed runs with the steps each simulated.
 */
import { performance } from 'node:perf_hooks';
import { run } from '../src/cli.js';

const loads: [string, string[]][] = [
  ['8B on one H100, 2 req/s, 1024 in / 256 out (mostly one request at a time)', ['--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--qps', '2']],
  ['70B on 4 H100, 4 req/s, chat lengths, gamma arrivals cv 2', ['--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--tp', '4', '--qps', '4', '--workload', 'chat', '--arrival', 'gamma:cv=2']],
  ['8B on one H100, 256 clients (closed loop, full batches)', ['--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--concurrency', '256']],
];
const sizes = [10_000, 100_000];
const runs = Number(process.env.BENCH_RUNS ?? 3);

async function once(args: string[]): Promise<{ ms: number; steps: number }> {
  let stdout = '';
  let stderr = '';
  const start = performance.now();
  const code = await run(['simulate', ...args, '--format', 'json'], { out: (s) => (stdout += s), err: (s) => (stderr += s), env: { NO_COLOR: '1' }, isTty: false });
  const ms = performance.now() - start;
  if (code !== 0) throw new Error(`simulate exited ${code}: ${stderr}`);
  const doc = JSON.parse(stdout) as { figures: Record<string, { value: number }> };
  return { ms, steps: doc.figures['simulation.steps'].value };
}

for (const [name, args] of loads) {
  for (const n of sizes) {
    const a = [...args, '--requests', String(n)];
    await once(a);
    const times: number[] = [];
    let steps = 0;
    for (let i = 0; i < runs; i++) {
      const r = await once(a);
      times.push(r.ms);
      steps = r.steps;
    }
    times.sort((x, y) => x - y);
    const median = times[Math.floor(times.length / 2)];
    const target = n <= 10_000 ? 1000 : 10_000;
    console.log(`${name}, ${n.toLocaleString('en-US')} requests: median ${median.toFixed(0)} ms over ${runs} runs (min ${times[0].toFixed(0)}, max ${times[times.length - 1].toFixed(0)}); ${steps.toLocaleString('en-US')} engine steps; target < ${target / 1000} s: ${median < target ? 'met' : 'MISSED'}`);
  }
}
