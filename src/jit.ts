/**
 * How V8 compiles a run: a policy for the CLI process, never used by the library's estimators.
 *
 * V8 first interprets a function (Ignition, with Sparkplug's baseline code) and optimizes the
 * hot ones with TurboFan on a background thread. `plan`'s analytic search is a short burst
 * over much distinct code: about 400 configurations, each through the memory, step and latency
 * functions once or a few times, in a run of about 100 ms. TurboFan compiles some 40 of those
 * functions there (the largest, memory.ts memoryFigures and step.ts stepModel, take about 35 ms
 * each on the compiler thread: `node --trace-opt`), mostly after the search has stopped needing
 * them, and the run pays for it: on the 2-core benchmark machine (Node 20.20.2, 15 interleaved
 * runs) `plan --model llama-3.1-70b --qps 20 --ttft 1s --tpot 50ms` took a median 175-188 ms
 * with TurboFan and 153-163 ms without, Qwen3-235B-A22B 344-351 ms and 280-299 ms; estimate
 * (about 17 ms of work) is the same either way. A simulation is the opposite case (one small
 * loop for a long time: a 20,000-request `simulate` took 225 ms with TurboFan and 342 ms
 * without), so a plan that goes on to simulate its rows turns TurboFan back on first.
 *
 * V8 reads the flag each time it considers optimizing a function, so setting it mid-run takes
 * effect from then on (Node keeps V8's flags writable after start-up for v8.setFlagsFromString).
 * Set after the bundle is loaded (cli.ts main): V8 takes a code cache only under the flags it
 * was made with. node:v8 is loaded only then: it costs about 2 ms, which an estimate does not pay.
 */
import { createRequire } from 'node:module';

const setFlagsFromString = (flags: string): void => (createRequire(import.meta.url)('node:v8') as typeof import('node:v8')).setFlagsFromString(flags);

/** Commands whose whole run is such a burst: the CLI process (cli.ts main) runs them interpreted. */
export const INTERPRETED_COMMANDS: ReadonlySet<string> = new Set(['plan']);

/** From now on, no TurboFan: interpreted and baseline code only. */
export function interpretOnly(): void {
  setFlagsFromString('--no-opt');
}

/** From now on, TurboFan as by default: before a long loop (a simulation). */
export function optimizeHotCode(): void {
  setFlagsFromString('--opt');
}
