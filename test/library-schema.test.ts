import { describe, expect, it } from 'vitest';
import * as lib from '../src/index.js';
import { commandTree } from '../src/cli.js';
import { UserError } from '../src/errors.js';
import { ESTIMATE_INPUT_FIELDS, TRAIN_INPUT_FIELDS } from '../src/inputs/library-schema.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { ESTIMATE_KEYS, resolveEstimate, type RawOptions } from '../src/inputs/resolve.js';
import { PLAN_KEYS } from '../src/inputs/resolve-plan.js';
import { RAG_KEYS } from '../src/inputs/resolve-rag.js';
import { SIMULATE_KEYS } from '../src/inputs/resolve-simulate.js';
// simulate refuses the serving levers (docs/levers.md) in spec files and options and offers no flag for them
import { LEVER_KEYS } from '../src/inputs/resolve-levers.js';
import { resolveTrain, TRAIN_KEYS } from '../src/inputs/resolve-train.js';

/**
 * The library's inputs are checked by the same domains as the CLI's (issue 11): the options
 * objects of estimate, train, plan, rag and simulate are the commands' own keys, and the
 * resolved inputs of estimateFromInput / trainFromInput are checked field by field, every field
 * of EstimateInput and TrainInput (src/inputs/library-schema.ts: a field added to either type
 * without a schema does not compile, and an unknown field is refused).
 */
const catalog = builtInCatalog();
const resolved = (raw: RawOptions) => resolveEstimate(raw, {}, catalog).input;

// A resolved input with every optional part the CLI can produce: distributions, carbon,
// speculative decoding, images, pruning, an engine with launch options, a load and a price.
const rich = () => resolved({ model: 'qwen2.5-vl-7b', gpu: 'h100-sxm', count: 2, engine: 'vllm', gpuMemoryUtilization: 0.85, maxNumSeqs: 64, blockSize: 32, inputTokens: 'lognormal:mean=900,sd=300', outputTokens: 'uniform:50..400', images: 2, imageSize: '640x480', gridGco2PerKwh: 390, pue: 1.2, speculative: 'ngram', draftTokens: 3, acceptance: 0.6, sparsity: '2:4', qps: 2, price: 2.5, powerWatts: 500 });

describe('estimateFromInput and trainFromInput check every field of their input', () => {
  it('accept what the resolver produces, with every optional part, and give what estimate(options) gives', () => {
    const input = rich();
    for (const key of ['traffic', 'carbon', 'speculative', 'images', 'pruning', 'engine', 'engineOptions', 'load', 'price'] as const) expect(input[key], key).toBeDefined();
    for (const key of Object.keys(input)) expect(ESTIMATE_INPUT_FIELDS).toContain(key);
    const e = lib.estimateFromInput(input);
    expect(e.figures['params.total'].value).toBe(8_292_166_656);
    expect(e.figures['latency.tpot'].value).toBe(lib.estimate({ model: 'qwen2.5-vl-7b', gpu: 'h100-sxm', count: 2, engine: 'vllm', gpuMemoryUtilization: 0.85, maxNumSeqs: 64, blockSize: 32, inputTokens: 'lognormal:mean=900,sd=300', outputTokens: 'uniform:50..400', images: 2, imageSize: '640x480', gridGco2PerKwh: 390, pue: 1.2, speculative: 'ngram', draftTokens: 3, acceptance: 0.6, sparsity: '2:4', qps: 2, price: 2.5, powerWatts: 500 }).figures['latency.tpot'].value);
  });

  it.each([
    ['an unknown field', (i: any) => ({ ...i, spare: 1 }), /^estimateFromInput: input: Unrecognized key: "spare"/],
    ['a length distribution outside the token domain', (i: any) => ({ ...i, traffic: { ...i.traffic, input: { kind: 'lognormal', mean: -5, sd: 1, min: 1, max: 10 } } }), /input\.traffic\.input\.mean: expected a positive whole number of tokens/],
    ['a zipf exponent of 0', (i: any) => ({ ...i, traffic: { ...i.traffic, output: { kind: 'zipf', s: 0, min: 1, max: 10 } } }), /input\.traffic\.output\.s/],
    ['a gamma arrival cv of 100', (i: any) => ({ ...i, traffic: { ...i.traffic, arrival: { kind: 'gamma', cv: 100 } } }), /input\.traffic\.arrival\.cv: expected a coefficient of variation/],
    ['a PUE below 1', (i: any) => ({ ...i, carbon: { ...i.carbon, pue: 0.5 } }), /input\.carbon\.pue: expected a power usage effectiveness/],
    ['an acceptance of 2', (i: any) => ({ ...i, speculative: { ...i.speculative, acceptance: 2 } }), /input\.speculative\.acceptance: expected a per-token acceptance rate/],
    ['both acceptance and accepted length', (i: any) => ({ ...i, speculative: { ...i.speculative, acceptedLength: 2 } }), /input\.speculative: give exactly one of acceptance and acceptedLength/],
    ['max-num-seqs 0', (i: any) => ({ ...i, engineOptions: { ...i.engineOptions, maxNumSeqs: 0 } }), /input\.engineOptions\.maxNumSeqs: expected a positive whole number \(sequences\)/],
    ['an engine option no engine has', (i: any) => ({ ...i, engineOptions: { ...i.engineOptions, swapSpace: 4 } }), /input\.engineOptions: Unrecognized key: "swapSpace"/],
    ['a memory fraction of 1.5', (i: any) => ({ ...i, engineOptions: { ...i.engineOptions, gpuMemoryUtilization: 1.5 } }), /input\.engineOptions\.gpuMemoryUtilization/],
    ['zero images', (i: any) => ({ ...i, images: { ...i.images, count: 0 } }), /input\.images\.count: expected a positive whole number \(images per request\)/],
    ['pruning every MLP channel', (i: any) => ({ ...i, pruning: { ...i.pruning, structured: { layers: 0, ffn: 1, heads: 0 } } }), /input\.pruning\.structured\.ffn/],
    ['an unknown sparsity pattern', (i: any) => ({ ...i, pruning: { ...i.pruning, sparsity: '1:8' } }), /input\.pruning\.sparsity/],
    ['a billion requests per second', (i: any) => ({ ...i, load: { qps: 1e9 } }), /input\.load\.qps: expected requests per second/],
    ['an amortisation of a million years', (i: any) => ({ ...i, price: { ...i.price, purchaseUsd: 30000, amortizeYears: 1e6 } }), /input\.price\.amortizeYears/],
  ])('refuse %s with a UserError naming the field', (_name, change, message) => {
    const bad = change(rich());
    expect(() => lib.estimateFromInput(bad)).toThrow(UserError);
    expect(() => lib.estimateFromInput(bad)).toThrow(message);
  });

  it('trainFromInput takes a resolved distillation (teacher, its serving inputs, carbon) and refuses a bad teacher count', () => {
    const { input } = resolveTrain({ model: 'llama-3.2-1b', gpu: 'h100-sxm', count: 8, tokens: '1e9', method: 'distill', teacher: 'llama-3.1-8b', teacherGpu: 'h100-sxm', teacherCount: 2, gridGco2PerKwh: 400 }, {}, catalog);
    expect(input.distill).toBeDefined();
    for (const key of Object.keys(input)) expect(TRAIN_INPUT_FIELDS).toContain(key);
    expect(lib.trainFromInput(input).figures['params.total'].value).toBe(1_235_814_400);
    expect(() => lib.trainFromInput({ ...input, distill: { ...input.distill!, teacherCount: 0 } })).toThrow(/^trainFromInput: input\.distill\.teacherCount: expected a positive whole number/);
    expect(() => lib.trainFromInput({ ...input, virtualStages: -1 })).toThrow(/input\.virtualStages/);
  });
});

describe('the options objects are the commands\' own keys, each checked', () => {
  // Flags that shape the output or point to files of options, not the estimate: no option key.
  const OUTPUT_ONLY = ['spec', 'presets', 'format', 'explain', 'output', 'wide'];
  const KEYS = { estimate: ESTIMATE_KEYS, train: TRAIN_KEYS, plan: PLAN_KEYS, rag: RAG_KEYS, simulate: SIMULATE_KEYS } as const;
  // Every flag of a command is one of its option keys, so its resolver reads it (a flag accepted
  // and ignored is a silent fallback): train offers no --kv-precision, plan no --memory or
  // --count (it chooses devices), and rag passes the generator's engine launch options on.
  const FLAGS_NOT_KEYS: Record<keyof typeof KEYS, string[]> = { estimate: [], train: [], plan: [], rag: [], simulate: [] };
  const KEYS_NOT_FLAGS: Record<keyof typeof KEYS, string[]> = {
    estimate: [], train: [], plan: [], rag: [],
    simulate: ['batch', 'decodeWorkers', 'prefillWorkers', 'images', 'imageSize', 'allowBeyondTrained', 'gridGco2PerKwh', 'region', 'pue', 'sparsity', 'prune', ...LEVER_KEYS],
  };

  it.each(Object.keys(KEYS) as (keyof typeof KEYS)[])('%s: the library\'s keys are the command\'s flags (differences pinned)', async (name) => {
    const tree = await commandTree();
    const flags = tree.commands.find((c) => c.name() === name)!.options.map((o) => o.attributeName()).filter((f) => !OUTPUT_ONLY.includes(f));
    const keys: readonly string[] = KEYS[name];
    expect(flags.filter((f) => !keys.includes(f)).sort()).toEqual([...FLAGS_NOT_KEYS[name]].sort());
    expect(keys.filter((k) => !flags.includes(k)).sort()).toEqual([...KEYS_NOT_FLAGS[name]].sort());
  });

  it('sweep: every flag but --over is an estimate key, read by the estimate resolver at each point', async () => {
    const tree = await commandTree();
    const flags = tree.commands.find((c) => c.name() === 'sweep')!.options.map((o) => o.attributeName()).filter((f) => !OUTPUT_ONLY.includes(f) && f !== 'over');
    expect(flags.filter((f) => !(ESTIMATE_KEYS as readonly string[]).includes(f))).toEqual([]);
  });

  // Every key of estimate and train, given a value no flag could mean (a control character, a
  // negative number), is a UserError: none passes through unchecked.
  it.each([
    ['estimate', ESTIMATE_KEYS, { model: 'llama-3.1-8b' }],
    ['train', TRAIN_KEYS, { model: 'llama-3.1-8b', count: 8, tokens: '1e9' }],
    ['plan', PLAN_KEYS, { model: 'llama-3.1-8b', qps: 1, hardware: 'h100-sxm' }],
    ['rag', RAG_KEYS, { corpusTokens: '1e6', model: 'llama-3.1-8b', gpu: 'h100-sxm' }],
    ['simulate', SIMULATE_KEYS, { model: 'llama-3.1-8b', gpu: 'h100-sxm', qps: 1, requests: 20 }],
  ] as const)('%s: every key refuses a value no flag could mean (each is read by the resolver)', (name, keys, base) => {
    const loose: string[] = [];
    for (const key of keys) {
      for (const bad of ['\u0001bad', -1]) {
        try {
          (lib as any)[name]({ ...base, [key]: bad });
          loose.push(`${key}=${JSON.stringify(bad)}`);
        } catch (e) {
          if (!(e instanceof UserError)) loose.push(`${key}=${JSON.stringify(bad)}: ${(e as Error).message}`);
        }
      }
    }
    expect(loose).toEqual([]);
  });
});
