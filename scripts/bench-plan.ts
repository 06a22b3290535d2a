/**
 * `npm run bench:plan`: times a catalogue-wide `llm-size plan` for Llama-3.1-70B (every
 * hardware preset with a price x devices per replica x TP/PP x weight and KV format), in
 * process, after one warm-up run; prints the median of the timed runs and how many
 * configurations each searched. Every priced preset is searched: no --hardware filter.
 */
import { performance } from 'node:perf_hooks';
import { run } from '../src/cli.js';

// Every preset with a published price, and every preset at one uniform --price (so all of the
// catalogue is in the search space).
const cases = [
  ['plan', '--model', 'llama-3.1-70b', '--qps', '20', '--ttft', '1s', '--tpot', '50ms', '--format', 'json'],
  ['plan', '--model', 'llama-3.1-70b', '--qps', '20', '--ttft', '1s', '--tpot', '50ms', '--price', '2', '--format', 'json'],
];
const runs = Number(process.env.BENCH_RUNS ?? 5);

async function once(args: string[]): Promise<{ ms: number; searched: number; evaluated: number; rows: number }> {
  let stdout = '';
  const start = performance.now();
  const code = await run(args, { out: (s) => (stdout += s), err: () => {}, env: { NO_COLOR: '1' }, isTty: false });
  const ms = performance.now() - start;
  if (code !== 0) throw new Error(`plan exited ${code}`);
  const doc = JSON.parse(stdout) as { configurationsSearched: number; configurationsEvaluated: number; rows: unknown[] };
  return { ms, searched: doc.configurationsSearched, evaluated: doc.configurationsEvaluated, rows: doc.rows.length };
}

for (const args of cases) {
  await once(args);
  const times: number[] = [];
  let last = { searched: 0, evaluated: 0, rows: 0 };
  for (let i = 0; i < runs; i++) {
    const r = await once(args);
    times.push(r.ms);
    last = r;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(`llm-size ${args.join(' ')}`);
  console.log(`  median ${median.toFixed(0)} ms over ${runs} runs (min ${times[0].toFixed(0)}, max ${times[times.length - 1].toFixed(0)}); ${last.searched} configurations in the search, ${last.evaluated} estimated, ${last.rows} rows`);
}
