import { describe, expect, it } from 'vitest';
import { cli, cliJson, expectBadInput } from './helpers.js';

const fixture = new URL('./fixtures/llama-3.1-8b.config.json', import.meta.url).pathname;

describe('estimate: Llama-3.1-8B on H100 SXM (issue 2 acceptance)', () => {
  // 8,030,261,248 params (published); x 2 bytes (bf16) = 16,060,522,496 B, the published
  // model.safetensors.index.json total_size. KV per token: 32 layers x 2 x 8 KV heads x 128 x 2 B = 131,072 B.
  it.each([
    ['--model preset', ['--model', 'llama-3.1-8b']],
    ['--hf-config', ['--hf-config', fixture]],
  ])('%s gives the exact figures', async (_how, args) => {
    const out = await cliJson(['estimate', ...args, '--gpu', 'h100-sxm']);
    expect(out.schemaVersion).toBe(1);
    expect(out.figures['params.total'].value).toBe(8_030_261_248);
    expect(out.figures['memory.weights'].value).toBe(16_060_522_496);
    expect(out.figures['memory.kvCachePerToken'].value).toBe(131_072);
    expect(out.figures['memory.weights'].unit).toBe('B');
  });

  it('JSON carries every promised figure id with value, unit, label, formula, inputs and source', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm']);
    for (const id of ['params.total', 'memory.weights', 'memory.kvCache', 'memory.kvCachePerToken', 'memory.activations', 'memory.overhead', 'memory.total', 'memory.perDevice', 'flops.prefill', 'flops.decodePerToken', 'latency.ttft', 'latency.tpot', 'latency.e2e', 'throughput.outputTokensPerSecond', 'cost.usdPerHour', 'cost.usdPerMillionOutputTokens', 'cost.usdPerMillionInputTokens']) {
      const f = out.figures[id];
      expect(f, id).toBeDefined();
      expect(typeof f.value, id).toBe('number');
      expect(f.formula.length, id).toBeGreaterThan(0);
      expect(f.source.length, id).toBeGreaterThan(0);
    }
    expect(out.fits).toBe(true);
    expect(Array.isArray(out.warnings)).toBe(true);
  });

  it('totals equal their breakdowns', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--batch', '8']);
    for (const f of Object.values<any>(out.figures)) {
      if (!f.parts) continue;
      const sum = f.parts.reduce((a: number, id: string) => a + out.figures[id].value, 0);
      expect(f.value, f.id).toBeCloseTo(sum, 6);
    }
  });

  it('KV cache for batch x context is batch x context x per-token bytes', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--batch', '4', '--context', '8k']);
    expect(out.figures['memory.kvCache'].value).toBe(4 * 8192 * 131_072);
  });

  it('fp8 KV halves the KV cache; int4 weights use 4 bits plus a 16-bit scale per 128, embeddings and head stay bf16', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--precision', 'int4', '--kv-precision', 'fp8']);
    expect(out.figures['memory.kvCachePerToken'].value).toBe(65_536);
    // embedding + lm_head: 2 x 128,256 x 4,096 = 1,050,673,152 params at 2 B; norms (32 x 2 + 1) x 4,096 at 2 B; the rest at 4.125 bits
    const embeddings = 2 * 128_256 * 4096;
    const norms = 65 * 4096;
    expect(out.figures['memory.weights'].value).toBeCloseTo((embeddings + norms) * 2 + (8_030_261_248 - embeddings - norms) * (4 + 16 / 128) / 8, 0);
    expect(out.input.precision.compute).toBe('bf16');
  });

  it('a deployment that does not fit exits 0 and says so', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-70b', '--gpu', 'l4']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/DOES NOT FIT/);
    const out = await cliJson(['estimate', '--model', 'llama-3.1-70b', '--gpu', 'l4']);
    expect(out.fits).toBe(false);
  });

  it('--params marks KV figures approximate and warns about the assumed shape', async () => {
    const r = await cli(['estimate', '--params', '70b', '--gpu', 'h100-sxm', '--count', '2', '--format', 'json']);
    const out = JSON.parse(r.stdout);
    expect(out.figures['params.total'].value).toBe(70e9);
    expect(out.figures['memory.weights'].value).toBe(140e9);
    expect(out.figures['memory.kvCachePerToken'].approximate).toBe(true);
    expect(r.stderr).toMatch(/assume a Llama-like shape/);
  });

  it('architecture flags reproduce the preset', async () => {
    const out = await cliJson(['estimate', '--layers', '32', '--hidden', '4096', '--heads', '32', '--kv-heads', '8', '--ffn', '14336', '--vocab', '128256', '--gpu', 'h100-sxm']);
    expect(out.figures['params.total'].value).toBe(8_030_261_248);
  });

  it('--explain prints formulas and sources', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--explain']);
    expect(r.stdout).toMatch(/memory.kvCachePerToken = 128 KiB/);
    expect(r.stdout).toMatch(/formula: layers x 2 x kvHeads x headDim x bytes/);
  });

  it('the table labels memory in GiB', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm']);
    expect(r.stdout).toMatch(/Weights\s+│\s+14\.96 GiB/);
  });
});

describe('bad input exits 2 with one clear line and nothing on stdout', () => {
  it.each([
    ['negative count', ['--model', 'llama-3.1-8b', '--batch', '-3'], /--batch: invalid value "-3"; expected a positive whole number/],
    ['zero count', ['--model', 'llama-3.1-8b', '--count', '0'], /--count: invalid value "0"/],
    ['non-numeric count', ['--model', 'llama-3.1-8b', '--input-tokens', 'lots'], /--input-tokens: invalid value "lots"/],
    ['unknown model preset', ['--model', 'llama-3.1-9b'], /unknown model preset \(--model\) "llama-3.1-9b"; did you mean llama-3.1-8b/],
    ['unknown gpu', ['--model', 'llama-3.1-8b', '--gpu', 'h101'], /unknown hardware preset \(--gpu\) "h101"; did you mean h100/],
    ['unknown precision', ['--model', 'llama-3.1-8b', '--precision', 'fp9'], /--precision: unknown value "fp9".*accepted: fp32, bf16, fp16, fp8, fp8-block, int8, int4/],
    ['missing config field', ['--hf-config', new URL('./fixtures/missing-field.config.json', import.meta.url).pathname], /missing-field.config.json: missing required field "num_hidden_layers"/],
    ['malformed config', ['--hf-config', new URL('./fixtures/malformed.config.json', import.meta.url).pathname], /cannot read .* as JSON/],
    ['malformed spec file', ['--spec', new URL('./fixtures/bad-spec.yaml', import.meta.url).pathname], /bad-spec.yaml: unknown field "gpus"; did you mean gpu/],
    ['bad value in spec file', ['--spec', new URL('./fixtures/bad-value-spec.yaml', import.meta.url).pathname], /bad-value-spec.yaml: batch: invalid value "many"/],
  ])('%s', async (_name, args, message) => {
    await expectBadInput(['estimate', ...args], message);
  });
});

describe('a spec file holds a whole deployment', () => {
  it('reads model, workload and hardware; flags override it', async () => {
    const spec = new URL('./fixtures/deployment.yaml', import.meta.url).pathname;
    const out = await cliJson(['estimate', '--spec', spec]);
    expect(out.input.hardware.id).toBe('a100-80gb');
    expect(out.input.workload).toEqual({ batch: 16, inputTokens: 2048, outputTokens: 512, context: 4096 });
    const overridden = await cliJson(['estimate', '--spec', spec, '--batch', '2']);
    expect(overridden.input.workload.batch).toBe(2);
  });
});

describe('usage errors from the command parser are one line too', () => {
  it.each([
    ['a misspelt command', ['estimat', '--model', 'llama-3.1-8b'], /^llm-size: error: unknown command 'estimat'; did you mean estimate\?\n$/],
    ['a misspelt option', ['estimate', '--modle', 'llama-3.1-8b'], /^llm-size: error: unknown option '--modle'; did you mean --model\?\n$/],
    ['a format outside the choices', ['estimate', '--model', 'llama-3.1-8b', '--format', 'xml'], /^llm-size: error: .*'xml' is invalid\. Allowed choices are table, json, yaml, csv, markdown\.\n$/],
  ])('%s', async (_name, args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});
