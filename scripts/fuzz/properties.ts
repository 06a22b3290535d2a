import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { commandTree, run } from '../../src/cli.js';
import { UserError } from '../../src/errors.js';
import { renderJson } from '../../src/format/json.js';
import * as lib from '../../src/index.js';
import { builtInCatalog } from '../../src/inputs/presets.js';
import { FORMAT_IDS } from '../../src/inputs/precision.js';
import { badNumbers, contractViolations, type RunResult } from './contract.js';
import { makeCorpus, mutationArb, type Corpus } from './corpus.js';
import { argvArb, commandPaths, valueArb, type Pools } from './generate.js';

/**
 * The fuzz properties: the in-process CLI on generated command lines, on mutated files, and
 * the library on generated options. `npm test` runs them with a fixed seed and budget
 * (test/fuzz.test.ts); `npm run fuzz` runs more and also spawns the binary (scripts/fuzz.ts).
 */

export interface Fuzz {
  corpus: Corpus;
  pools: Pools;
  env: Record<string, string | undefined>;
  argv: fc.Arbitrary<string[]>;
  /** the in-process CLI with the fuzz environment */
  cli: (argv: string[]) => Promise<RunResult>;
}

/** Builds the corpus, the pools of names and the argv generator from the real command tree. */
export async function setup(hubEndpoint: string): Promise<Fuzz> {
  const corpus = makeCorpus();
  const catalog = builtInCatalog();
  const tree = await commandTree();
  const choices = commandPaths(tree).flatMap(({ cmd }) => cmd.options.flatMap((o) => o.argChoices ?? []));
  const names = [...new Set([...catalog.models.map((m) => m.id), ...catalog.hardware.map((h) => h.id), ...(catalog.engines ?? []).map((e) => e.id), ...(catalog.grid ?? []).map((g) => g.id), ...FORMAT_IDS, ...choices])];
  const pools: Pools = { names, models: catalog.models.map((m) => m.id), paths: corpus.paths, hubRefs: ['ok/model', 'null/model', 'array/model', 'negative/model', 'bad/model', 'slow/model', 'abort/model', 'big/model', 'loop/model', 'gzip/model', 'missing/model', 'ok/model@v1'] };
  // the Hub is a local hostile server, its cache a folder of the corpus: no run touches the network
  const env = { NO_COLOR: '1', HF_ENDPOINT: hubEndpoint, HF_HUB_DOWNLOAD_TIMEOUT: '0.5', XDG_CACHE_HOME: join(corpus.dir, 'cache'), HOME: corpus.dir };
  const cli = async (argv: string[]): Promise<RunResult> => {
    let stdout = '';
    let stderr = '';
    const code = await run(intoFolder(argv, corpus.dir), { out: (s) => (stdout += s), err: (s) => (stderr += s), env, isTty: false });
    return { code, stdout, stderr };
  };
  return { corpus, pools, env, argv: argvArb(tree, pools), cli };
}

/** Flags that write a file: their values are pointed into the fuzz folder, never the working directory or the corpus. */
const WRITES = ['--output'];

/** argv with every file a flag would write moved under `dir`/out (the name kept, made safe). */
export function intoFolder(argv: string[], dir: string): string[] {
  const safe = (v: string) => join(dir, 'out', v.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60) || 'empty');
  mkdirSync(join(dir, 'out'), { recursive: true });
  return argv.map((a, i) => {
    if (i > 0 && WRITES.includes(argv[i - 1])) return safe(a);
    const eq = WRITES.find((w) => a.startsWith(`${w}=`));
    return eq ? `${eq}=${safe(a.slice(eq.length + 1))}` : a;
  });
}

const fail = (what: string, violations: string[], r?: RunResult): never => {
  throw new Error(`${what}\n  ${violations.join('\n  ')}${r ? `\n  exit ${r.code}\n  stderr: ${r.stderr.slice(0, 600)}` : ''}`);
};

/** Every generated command line keeps the contract. */
export function cliProperty(f: Fuzz): fc.IAsyncPropertyWithHooks<[string[]]> {
  return fc.asyncProperty(f.argv, async (argv) => {
    const r = await f.cli(argv);
    const v = contractViolations(argv, r);
    if (v.length) fail(`llm-size ${JSON.stringify(argv)}`, v, r);
  });
}

let fileCount = 0;

/** Mutated spec files, config.json files, check files and preset folders keep the contract. */
export function fileProperty(f: Fuzz): fc.IAsyncPropertyWithHooks<[{ flag: string; text: string; ext: string }]> {
  const arb = fc.oneof(...f.corpus.seeds.map((s) => mutationArb(s.text).map((text) => ({ flag: s.flag, text, ext: s.ext }))));
  return fc.asyncProperty(arb, async ({ flag, text, ext }) => {
    const dir = join(f.corpus.dir, `mutated-${fileCount++}`);
    mkdirSync(dir);
    const file = join(dir, `file.${ext}`);
    writeFileSync(file, text);
    const runs: string[][] =
      flag === '--spec' ? [['estimate', '--spec', file, '--format', 'json'], ['train', '--spec', file, '--format', 'yaml']]
      : flag === '--hf-config' ? [['estimate', '--hf-config', file, '--format', 'json'], ['train', '--hf-config', file, '--format', 'csv']]
      : flag === 'check' ? [['check', file, '--format', 'json']]
      : [['presets', 'validate', dir, '--format', 'json'], ['presets', 'list', 'hardware', '--presets', dir, '--format', 'csv']];
    const results: RunResult[] = [];
    for (const argv of runs) {
      const r = await f.cli(argv);
      const v = contractViolations(argv, r);
      if (v.length) fail(`llm-size ${JSON.stringify(argv)} on\n${text.slice(0, 800)}`, v, r);
      results.push(r);
    }
    // presets validate and --presets agree on whether the folder is valid
    if (flag === '--presets' && (results[0].code === 0) !== (results[1].code === 0)) {
      fail(`presets validate and --presets disagree on\n${text.slice(0, 800)}`, [`validate exit ${results[0].code}, --presets exit ${results[1].code}: ${results[1].stderr.slice(0, 300)}`]);
    }
  });
}

/** Values a library caller can pass that no command line can: wrong types, BigInt, objects. */
const libraryValue = (p: Pools): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: valueArb(p), weight: 6 },
    { arbitrary: fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt(), fc.constant(Symbol('x')), fc.constant(() => 1), fc.constant([1]), fc.constant({ a: 1 }), fc.constant(-0), fc.constant(Number.NaN)), weight: 2 },
  );

/** The functions the library exports, each fuzzed by libraryProperty. */
export const LIBRARY_FUNCTIONS = ['estimate', 'train', 'plan', 'rag', 'simulate', 'loadPresets', 'fetchHub', 'estimateFromInput', 'trainFromInput', 'renderOutput'] as const;

/** The library's exported functions: each returns a finite, non-negative document or throws a one-line UserError. */
export function libraryProperty(f: Fuzz): fc.IAsyncPropertyWithHooks<[string, unknown]> {
  const keys = ['model', 'params', 'gpu', 'batch', 'context', 'inputTokens', 'outputTokens', 'precision', 'kvPrecision', 'count', 'tp', 'pp', 'qps', 'concurrency', 'price', 'mfu', 'tokens', 'microBatch', 'zero', 'hardware', 'tpot', 'layers', 'hidden', 'heads', 'ffn', 'vocab', 'engine', 'nope'];
  const options = fc.oneof(
    { arbitrary: fc.dictionary(fc.constantFrom(...keys), libraryValue(f.pools), { maxKeys: 5 }).map((o) => ({ model: 'llama-3.1-8b', ...o })), weight: 8 },
    { arbitrary: libraryValue(f.pools), weight: 2 },
  );
  // every function src/index.ts exports (a test checks this list against the module)
  const call = fc.constantFrom(...LIBRARY_FUNCTIONS);
  return fc.asyncProperty(call, options, async (name, options) => {
    let result: unknown;
    try {
      const o = options as never;
      if (name === 'estimate') result = lib.estimate(o);
      else if (name === 'train') result = lib.train(o);
      else if (name === 'plan') result = lib.plan(typeof options === 'object' && options ? { qps: 1, hardware: 'h100-sxm', ...(options as object) } as never : o);
      else if (name === 'rag') result = lib.rag(o);
      else if (name === 'simulate') result = lib.simulate(typeof options === 'object' && options ? { requests: 50, ...(options as object) } as never : o);
      else if (name === 'loadPresets') result = await lib.loadPresets(o);
      else if (name === 'fetchHub') result = await lib.fetchHub(o, { env: f.env });
      else if (name === 'estimateFromInput') result = lib.estimateFromInput(o);
      else if (name === 'trainFromInput') result = lib.trainFromInput(o);
      else result = await lib.renderOutput(o, o, false);
    } catch (e) {
      if (!(e instanceof UserError)) fail(`${name}(${String(JSON.stringify(options, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)))}) threw ${(e as Error)?.name}`, [String((e as Error)?.stack ?? e).split('\n').slice(0, 4).join(' | ')]);
      if ((e as Error).message.includes('\n')) fail(`${name}: multi-line UserError`, [(e as Error).message]);
      return;
    }
    if (name === 'loadPresets' || name === 'renderOutput' || name === 'fetchHub' || result === undefined) return;
    let json: string;
    try {
      json = renderJson(result);
    } catch (e) {
      return fail(`${name} returned a document with a non-finite number`, [(e as Error).message]);
    }
    const bad = badNumbers(JSON.parse(json));
    if (bad.length) fail(`${name} returned negative figures`, bad);
  });
}
