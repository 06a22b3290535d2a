import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The package entry point, resolved through package.json "exports" (self-reference) to the
// built dist/src/index.js, exactly what `import ... from 'llm-size'` gets after npm install.
import { estimate, estimateFromInput, loadPresets, OUTPUT_SCHEMA, plan, simulate, train, trainFromInput, UserError, type Estimate, type EstimateOptions, type PlanDocument, type PlanOptions, type SimulateOptions, type SimulationDocument, type TrainEstimate, type TrainInput, type TrainOptions } from 'llm-size';
import { validateJson } from '../src/inputs/output-schema.js';
import { cliJson } from './helpers.js';

describe('library API from the package entry point', () => {
  it('estimate() takes the CLI options and returns the exact figures', () => {
    const options: EstimateOptions = { model: 'llama-3.1-8b', gpu: 'h100-sxm', batch: 4, context: '8k' };
    const e: Estimate = estimate(options);
    // 8,030,261,248 params (Meta model card) x 2 B (bf16) = 16,060,522,496 B
    expect(e.figures['memory.weights'].value).toBe(16_060_522_496);
    // KV: 32 layers x 2 x 8 KV heads x 128 x 2 B = 131,072 B per token; x 4 x 8192 tokens
    expect(e.figures['memory.kvCache'].value).toBe(4 * 8192 * 131_072);
    expect(e.fits).toBe(true);
    expect(e.schemaVersion).toBe(1);
  });

  it('bad options throw a UserError naming the option', () => {
    expect(() => estimate({ model: 'llama-3.1-8b', batch: 'lots' })).toThrow(UserError);
    expect(() => estimate({ model: 'llama-3.1-8b', batch: 'lots' })).toThrow(/options\.batch: invalid value "lots"/);
    expect(() => estimate({ modle: 'x' } as EstimateOptions)).toThrow(/unknown option "modle"/);
  });

  it('loadPresets() returns the built-ins, and estimateFromInput runs on resolved specs', async () => {
    const catalog = await loadPresets();
    const h100 = catalog.hardware.find((h) => h.id === 'h100-sxm')!;
    const llama = catalog.models.find((m) => m.id === 'llama-3.1-8b')!;
    expect(catalog.models.length).toBeGreaterThan(0);
    const viaCatalog = estimate({ model: 'llama-3.1-8b', gpu: 'h100-sxm' }, { catalog });
    const { FORMATS } = await import('llm-size');
    const pure = estimateFromInput({ model: llama.model, weights: FORMATS.bf16, kv: FORMATS.bf16, activations: FORMATS.bf16, workload: { batch: 1, inputTokens: 1024, outputTokens: 256, context: 1280 }, hardware: h100, count: 1, price: { usdPerHour: 1, source: 'test' } });
    expect(pure.figures['memory.weights'].value).toBe(viaCatalog.figures['memory.weights'].value);
    expect(pure.figures['latency.tpot'].value).toBe(viaCatalog.figures['latency.tpot'].value);
  });

  it('loadPresets(paths) adds user presets read from YAML files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-size-api-'));
    const h100 = readFileSync(new URL('../presets/hardware/h100-sxm.yaml', import.meta.url), 'utf8');
    writeFileSync(join(dir, 'my-gpu.yaml'), h100.replace(/^id: .*$/m, 'id: my-gpu').replace(/^aliases: .*$/m, 'aliases: []'));
    const catalog = await loadPresets([dir]);
    const e = estimate({ model: 'llama-3.1-8b', gpu: 'my-gpu' }, { catalog });
    expect(e.input.hardware.id).toBe('my-gpu');
    writeFileSync(join(dir, 'broken.yaml'), 'id: broken\nkind: gpu\n');
    await expect(loadPresets([dir])).rejects.toThrow(/broken\.yaml:\d+: /);
  });

  it('publishes the output JSON Schema', () => {
    expect(OUTPUT_SCHEMA.$defs.estimate).toBeDefined();
  });
});

describe('training from the package entry point', () => {
  const options: TrainOptions = { model: 'llama-3.1-8b', gpu: 'h100-sxm', count: 8, zero: 3, seqLen: '8k', tokens: '1b' };

  it('train(options) takes the CLI options and equals trainFromInput on the resolved specs', async () => {
    const catalog = await loadPresets();
    const input: TrainInput = {
      model: catalog.models.find((m) => m.id === 'llama-3.1-8b')!.model,
      hardware: catalog.hardware.find((h) => h.id === 'h100-sxm')!,
      count: 8, precision: 'bf16', method: 'full', optimizer: 'adamw', zero: 3, recompute: 'selective', sequenceParallel: false,
      tp: 1, pp: 1, cp: 1, seqLen: 8192, microBatch: 1, globalBatch: 8, tokens: 1e9, lora: { rank: 8, targets: ['q', 'v'] },
    };
    const e: TrainEstimate = train(options);
    // 8,030,261,248 parameters (Meta model card), counted from the architecture
    expect(e.figures['params.total'].value).toBe(8_030_261_248);
    expect(e.input.training).toMatchObject({ dp: 8, zero: 3, seqLen: 8192, globalBatch: 8, tokens: 1e9 });
    const pure = trainFromInput(input);
    for (const id of ['train.flops', 'train.seconds', 'memory.perDevice']) expect(e.figures[id].value, id).toBe(pure.figures[id].value);
  });

  it('bad train options throw a UserError naming the option and the closest key', () => {
    expect(() => train({ ...options, zero: 4 })).toThrow(/options\.zero: unknown value "4"/);
    expect(() => train({ ...options, microbatch: 2 } as TrainOptions)).toThrow(/unknown option "microbatch"; did you mean microBatch/);
  });
});

describe('plan from the package entry point', () => {
  it('plan(options) returns the document `llm-size plan --format json` prints', async () => {
    const options: PlanOptions = { model: 'llama-3.1-8b', qps: 5, tpot: '50ms', hardware: 'h100-sxm,l4' };
    const doc: PlanDocument = plan(options);
    const printed = await cliJson(['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--tpot', '50ms', '--hardware', 'h100-sxm,l4']);
    // the same search, the same rows; only the text of where a value came from may differ
    expect(doc.rows.map((r) => [r.hardware, r.weights, r.kv, r.replicas, r.usdPerMillionOutputTokens])).toEqual(printed.rows.map((r: any) => [r.hardware, r.weights, r.kv, r.replicas, r.usdPerMillionOutputTokens]));
    expect(doc.rows.length).toBeGreaterThan(0);
    // every row meets the 50 ms TPOT target
    for (const r of doc.rows) expect(r.tpot).toBeLessThanOrEqual(0.05);
    expect(doc.input.load).toEqual({ qps: 5, concurrency: null });
    expect(validateJson(OUTPUT_SCHEMA, doc)).toEqual([]);
  });

  it('plan without a load throws a UserError', () => {
    expect(() => plan({ model: 'llama-3.1-8b' })).toThrow(/plan needs a load/);
    expect(() => plan({ model: 'llama-3.1-8b', qps: 5, ttft: 'soon' })).toThrow(/options\.ttft: invalid value "soon"/);
  });
});

describe('simulate from the package entry point', () => {
  it('simulate(options) returns the document `llm-size simulate --format json` prints', async () => {
    const options: SimulateOptions = { model: 'llama-3.1-8b', gpu: 'h100-sxm', qps: 4, requests: 200, outputTokens: 'lognormal:mean=300,sd=200', ttftP99: '1s' };
    const doc = simulate(options) as SimulationDocument;
    const printed = await cliJson(['simulate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--qps', '4', '--requests', '200', '--output-tokens', 'lognormal:mean=300,sd=200', '--ttft-p99', '1s']);
    expect(doc.figures['latency.ttft.p99'].value).toBe(printed.figures['latency.ttft.p99'].value);
    expect(doc.targets).toEqual(printed.targets);
    expect(validateJson(OUTPUT_SCHEMA, doc)).toEqual([]);
  });

  it('bad simulate options throw a UserError naming the option', () => {
    expect(() => simulate({ model: 'llama-3.1-8b', qps: 4, requests: 0 })).toThrow(/options\.requests: invalid value 0/);
    expect(() => simulate({ model: 'llama-3.1-8b', qps: 4, ttftP99: 'soon' })).toThrow(/options\.ttftP99: invalid value "soon"/);
  });
});
