import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
// The package entry point (package.json "exports" -> dist/src/index.js), as users import it.
import { estimate, fetchHub, loadPresets, plan, train, type Catalog, type EstimateOptions, type PlanOptions, type TrainOptions } from 'llm-size';
import { cli, cliJson, expectBadInput, localHttpServer } from './helpers.js';

/**
 * Seams between commands, library and data: the CLI prints what the library returns; --hf works
 * in every command that takes a model and in the library through one async step; train and plan
 * take their own keys in --spec files; engine profiles' scheduler limits reach estimate and plan.
 */

// Llama-3.1-8B: 8,030,261,248 parameters (Meta model card; test/presets-models.test.ts).
const LLAMA_8B_PARAMS = 8_030_261_248;
const llamaConfig = readFileSync(new URL('./fixtures/llama-3.1-8b.config.json', import.meta.url), 'utf8');

const requests: string[] = [];

// A Hugging Face-like server on 127.0.0.1 (HF_ENDPOINT), never the internet.
const hub = localHttpServer((req, res) => {
  requests.push(req.url ?? '');
  if (req.url === '/meta-llama/Llama-3.1-8B/resolve/main/config.json') res.writeHead(200, { 'content-type': 'application/json' }).end(llamaConfig);
  else res.writeHead(404).end('Entry not found');
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llm-size-integration-'));
  requests.length = 0;
  return () => rmSync(dir, { recursive: true, force: true });
});
const hubEnv = () => ({ HF_ENDPOINT: hub(), XDG_CACHE_HOME: join(dir, 'cache') });

describe('the CLI is a thin layer: --format json prints what the library returns', () => {
  it.each<[string, string[], () => unknown]>([
    ['estimate', ['estimate', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--count', '4', '--batch', '16', '--context', '8k'], () => estimate({ model: 'llama-3.1-70b', gpu: 'h100-sxm', count: 4, batch: 16, context: '8k' })],
    ['train', ['train', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--count', '16', '--tp', '2', '--zero', '1', '--tokens', '10b', '--seq-len', '4k', '--global-batch', '64'], () => train({ model: 'llama-3.1-8b', gpu: 'h100-sxm', count: 16, tp: 2, zero: 1, tokens: '10b', seqLen: '4k', globalBatch: 64 })],
    ['train qlora', ['train', '--model', 'llama-2-7b', '--gpu', 'rtx-4090', '--method', 'qlora', '--micro-batch', '4'], () => train({ model: 'llama-2-7b', gpu: 'rtx-4090', method: 'qlora', microBatch: 4 })],
    ['plan', ['plan', '--model', 'llama-3.1-8b', '--concurrency', '64', '--tpot', '30ms', '--hardware', 'l4,a10g,h100-sxm'], () => plan({ model: 'llama-3.1-8b', concurrency: 64, tpot: '30ms', hardware: 'l4,a10g,h100-sxm' })],
  ])('%s', async (_name, argv, library) => {
    expect(await cliJson(argv)).toEqual(JSON.parse(JSON.stringify(library())));
  });
});

describe('--hf works in every command that takes a model', () => {
  const hf = ['--hf', 'meta-llama/Llama-3.1-8B'];
  it.each<[string, () => string[], (out: string) => void]>([
    ['estimate', () => ['estimate', ...hf, '--gpu', 'h100-sxm', '--format', 'json'], (out) => expect(JSON.parse(out).figures['params.total'].value).toBe(LLAMA_8B_PARAMS)],
    ['train', () => ['train', ...hf, '--gpu', 'h100-sxm', '--count', '8', '--format', 'json'], (out) => expect(JSON.parse(out).figures['params.total'].value).toBe(LLAMA_8B_PARAMS)],
    ['sweep', () => ['sweep', ...hf, '--gpu', 'h100-sxm', '--over', 'batch=1,8', '--format', 'json'], (out) => expect(JSON.parse(out).points).toHaveLength(2)],
    ['plan', () => ['plan', ...hf, '--qps', '2', '--hardware', 'h100-sxm', '--format', 'json'], (out) => {
      const doc = JSON.parse(out);
      // bf16 weights: 2 B per parameter
      expect(doc.top.figures['memory.weights'].value).toBe(2 * LLAMA_8B_PARAMS);
      // the engines load the repo --hf names, and the reproducing command fetches it the same way
      expect(doc.top.launch[0].command).toMatch(/^vllm serve meta-llama\/Llama-3\.1-8B /);
      expect(doc.top.estimateCommand).toMatch(/^llm-size estimate --hf meta-llama\/Llama-3\.1-8B /);
    }],
    ['check', () => {
      const file = join(dir, 'deployments.yaml');
      writeFileSync(file, `deployments:\n  hub-8b:\n    hf: meta-llama/Llama-3.1-8B\n    gpu: h100-sxm\n    assert:\n      fits: true\n      params.total: "== ${LLAMA_8B_PARAMS}"\n`);
      return ['check', file, '--format', 'json'];
    }, (out) => expect(JSON.parse(out).passed).toBe(true)],
  ])('%s --hf fetches config.json once and reads it', async (_name, argv, verify) => {
    const r = await cli(argv(), hubEnv());
    expect(r.code, r.stderr).toBe(0);
    verify(r.stdout);
    expect(requests).toEqual(['/meta-llama/Llama-3.1-8B/resolve/main/config.json']);
  });

  it('a repo the Hub does not have is one line naming the field, in check too', async () => {
    const file = join(dir, 'deployments.yaml');
    writeFileSync(file, 'deployments:\n  missing:\n    hf: nobody/Nothing\n    gpu: h100-sxm\n    assert:\n      fits: true\n');
    const r = await cli(['check', file], hubEnv());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/deployments\.yaml:3: deployments\.missing\.hf: nobody\/Nothing has no config\.json at revision "main" \(HTTP 404/);
  });
});

describe('--hf in the library: fetchHub, then estimate, train or plan', () => {
  it('one fetch serves estimate, train and plan', async () => {
    const options = { hf: 'meta-llama/Llama-3.1-8B', gpu: 'h100-sxm' };
    const hub = await fetchHub(options, { env: hubEnv() });
    expect(hub?.repo).toBe('meta-llama/Llama-3.1-8B');
    expect(estimate(options, { hub }).figures['params.total'].value).toBe(LLAMA_8B_PARAMS);
    expect(train({ ...options, count: 8 }, { hub }).figures['params.total'].value).toBe(LLAMA_8B_PARAMS);
    expect(plan({ hf: options.hf, qps: 2, hardware: 'h100-sxm' }, { hub }).top?.figures['params.total'].value).toBe(LLAMA_8B_PARAMS);
    expect(requests).toHaveLength(1);
    expect(await fetchHub({ model: 'llama-3.1-8b' } as { hf?: string })).toBeUndefined();
  });

  it('hf without the fetched config, or with another repo\'s, is a UserError naming options.hf', async () => {
    expect(() => estimate({ hf: 'meta-llama/Llama-3.1-8B' })).toThrow(/options\.hf: config\.json not fetched yet/);
    const hub = await fetchHub({ hf: 'meta-llama/Llama-3.1-8B' }, { env: hubEnv() });
    expect(() => estimate({ hf: 'Qwen/Qwen3-8B' }, { hub })).toThrow(/options\.hf: "Qwen\/Qwen3-8B" does not match the fetched config\.json of meta-llama\/Llama-3\.1-8B/);
  });
});

describe('train and plan take their own keys in --spec files', () => {
  it('a train spec file with the training keys equals the same flags', async () => {
    const spec = join(dir, 'train.yaml');
    writeFileSync(spec, ['model: llama-3.1-8b', 'gpu: h100-sxm', 'count: 32', 'tokens: 20b', 'seqLen: 8k', 'microBatch: 2', 'globalBatch: 128', 'method: full',
      'optimizer: adamw-8bit', 'zero: 2', 'recompute: full', 'tp: 2', 'pp: 2', 'cp: 1', 'mfu: 0.45'].join('\n'));
    const fromFile = await cliJson(['train', '--spec', spec]);
    const fromFlags = await cliJson(['train', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--count', '32', '--tokens', '20b', '--seq-len', '8k', '--micro-batch', '2', '--global-batch', '128',
      '--method', 'full', '--optimizer', 'adamw-8bit', '--zero', '2', '--recompute', 'full', '--tp', '2', '--pp', '2', '--cp', '1', '--mfu', '0.45']);
    expect(fromFile).toEqual(fromFlags);
    expect(fromFile.input.training).toMatchObject({ tp: 2, pp: 2, dp: 8, zero: 2, recompute: 'full', seqLen: 8192, microBatch: 2, globalBatch: 128, tokens: 20e9 });
  });

  it.each([
    ['an unknown key, with the closest one', 'microbatch: 2', /train\.yaml: unknown field "microbatch"; did you mean microBatch/],
    ['an estimate-only key', 'batch: 8', /train\.yaml: unknown field "batch"; did you mean .*microBatch/],
    ['a bad value, naming the field', 'zero: 5', /train\.yaml: zero: unknown value "5".*\(accepted: 0, 1, 2, 3\)/],
    ['a bad LoRA target', 'method: lora\nloraTargets: q,x', /train\.yaml: loraTargets: unknown value "x"/],
  ])('train --spec rejects %s (exit 2, one line)', async (_name, line, message) => {
    const spec = join(dir, 'train.yaml');
    writeFileSync(spec, `model: llama-3.1-8b\ngpu: h100-sxm\n${line}\n`);
    await expectBadInput(['train', '--spec', spec], message);
  });

  it('a plan spec file holds the load, targets and hardware list', async () => {
    const spec = join(dir, 'plan.yaml');
    writeFileSync(spec, 'model: llama-3.1-8b\nqps: 5\ntpot: 50ms\nhardware: h100-sxm,l4\n');
    expect(await cliJson(['plan', '--spec', spec])).toEqual(await cliJson(['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--tpot', '50ms', '--hardware', 'h100-sxm,l4']));
  });
});

describe("engine profiles' scheduler limit (presets/engines: scheduler.maxNumSeqs, launch.flags.maxNumSeqs)", () => {
  // vLLM max_num_seqs 1024 on >= 70 GiB devices that are not A100s (vllm/engine/arg_utils.py
  // get_batch_defaults), TensorRT-LLM max_batch_size 2048, llama-server 4 slots when --parallel is
  // unset (tools/server/server.cpp @ b10470; 1 at b6000); SGLang sizes max_running_requests from
  // its KV pool (no fixed default).
  const base: EstimateOptions = { model: 'llama-3.1-8b', gpu: 'h200', inputTokens: 100, outputTokens: 28 };
  it.each<[string, number, string | undefined]>([
    ['vllm', 1024, undefined],
    ['vllm', 1025, 'launch it with --max-num-seqs 1025'],
    ['trtllm', 300, undefined],
    ['sglang', 300, undefined],
    ['llamacpp', 4, undefined],
    ['llamacpp', 5, 'launch it with --parallel 5'],
    ['llamacpp@b6000', 1, undefined],
    ['llamacpp@b6000', 2, 'launch it with --parallel 2'],
  ])('%s at batch %i', (engine, batch, expected) => {
    const e = estimate({ ...base, engine, batch });
    expect(e.fits).toBe(true);
    const warning = e.warnings.find((w) => w.includes('by default'));
    if (expected === undefined) expect(warning).toBeUndefined();
    else expect(warning).toContain(expected);
    expect(e.verdict.status).toBe(expected === undefined ? 'fits' : 'over-scheduler-limit');
  });

  it('the warning and the launch flags come from the profile, not from code', async () => {
    const builtIn = await loadPresets();
    const catalog: Catalog = {
      ...builtIn,
      engines: builtIn.engines!.map((e) => (e.id === 'vllm' ? { ...e, scheduler: { ...e.scheduler, maxNumSeqs: { value: 8, rules: [], source: 'test profile' } }, launch: { ...e.launch!, flags: { ...e.launch!.flags, maxNumSeqs: '--test-max-seqs' } } } : e)),
    };
    expect(estimate({ ...base, batch: 9 }, { catalog }).warnings.join('\n')).toMatch(/more than the 8 vLLM runs at once by default \(test profile\); the rest wait in the queue unless you launch it with --test-max-seqs 9/);
    const options: PlanOptions = { model: 'llama-3.1-8b', concurrency: 32, tpot: '50ms', hardware: 'h100-sxm' };
    const doc = plan(options, { catalog });
    expect(doc.top!.launch[0].command).toContain(`--test-max-seqs ${doc.top!.concurrencyPerReplica}`);
    // built-in profiles: each engine's own flag, set to the concurrency the row was planned for
    const launch = plan(options).top!;
    expect(launch.launch.map((l) => l.command.match(/(--max-num-seqs|--max-running-requests|--max_batch_size) (\d+)/)?.slice(1))).toEqual(
      ['--max-num-seqs', '--max-running-requests', '--max_batch_size'].map((flag) => [flag, String(launch.concurrencyPerReplica)]),
    );
  });

  it('estimate prints the warning on stderr', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'a10g', '--input-tokens', '100', '--output-tokens', '28', '--batch', '300']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: a batch of 300 sequences is more than the 256 vLLM runs at once by default .*--max-num-seqs 300/);
  });
});

describe('library options are typed like the flags', () => {
  it('TrainOptions and PlanOptions take numbers or the strings people type', () => {
    const t: TrainOptions = { model: 'llama-3.1-8b', count: '8', tokens: '1b', seqLen: '4k' };
    expect(train(t).input.training.seqLen).toBe(4096);
  });
});
