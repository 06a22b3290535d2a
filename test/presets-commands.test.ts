import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli, cliJson, expectBadInput } from './helpers.js';

const fixtures = fileURLToPath(new URL('./fixtures/user-presets/', import.meta.url));
const gib = 2 ** 30;

describe('presets list', () => {
  it('lists at least 35 hardware profiles across NVIDIA, AMD, Google, Intel and Apple, each value sourced (issue 4 acceptance)', async () => {
    const out = await cliJson(['presets', 'list', 'hardware']);
    expect(out.hardware.length).toBeGreaterThanOrEqual(35);
    expect(new Set(out.hardware.map((h: any) => h.vendor))).toEqual(new Set(['nvidia', 'amd', 'google', 'intel', 'apple', 'qualcomm', 'ampere', 'aws']));
    expect(out.models).toBeUndefined();
    for (const hw of out.hardware) {
      for (const s of [hw.memoryBytes, hw.memoryBandwidth, hw.tdpWatts, ...Object.values<any>(hw.compute)]) expect(s.source.length, hw.id).toBeGreaterThan(0);
      for (const p of hw.prices) expect(p.source.length, `${hw.id} price`).toBeGreaterThan(0);
    }
  });

  it.each([
    ['--vendor amd', ['--vendor', 'amd'], (h: any) => h.vendor === 'amd'],
    ['--vendor AMD (any case)', ['--vendor', 'AMD'], (h: any) => h.vendor === 'amd'],
    ['--kind tpu', ['--kind', 'tpu'], (h: any) => h.kind === 'tpu'],
    // 80 GiB = 85,899,345,920 B: the H100 (nvidia-smi 81,559 MiB = 79.65 GiB) falls just below it
    ['--min-memory 80GiB', ['--min-memory', '80GiB'], (h: any) => h.memoryBytes.value >= 80 * gib],
    ['--min-memory 141 GB (decimal)', ['--min-memory', '141 GB'], (h: any) => h.memoryBytes.value >= 141e9],
  ])('%s keeps exactly the matching profiles', async (_name, flags, keep) => {
    const all = (await cliJson(['presets', 'list', 'hardware'])).hardware;
    const out = (await cliJson(['presets', 'list', 'hardware', ...(flags as string[])])).hardware;
    expect(out.length).toBeGreaterThan(0);
    expect(out.map((h: any) => h.id).sort()).toEqual(all.filter(keep).map((h: any) => h.id).sort());
  });

  it('lists models with exact parameter counts', async () => {
    const out = await cliJson(['presets', 'list', 'models', '--search', 'llama-3.1-8b']);
    // 8,030,261,248: Meta Llama 3.1 8B published count (shared/reference/models.yaml)
    expect(out.models.find((m: any) => m.id === 'llama-3.1-8b').params).toBe(8_030_261_248);
  });

  it('prints a table by default, memory in GiB', async () => {
    const r = await cli(['presets', 'list', 'hardware', '--vendor', 'amd']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mi300x .*AMD Instinct MI300X/);
    expect(r.stdout).toMatch(/GiB/);
  });

  it.each([
    ['unknown vendor', ['presets', 'list', 'hardware', '--vendor', 'amdd'], /--vendor: unknown value "amdd"; did you mean amd/],
    ['unit-less memory', ['presets', 'list', 'hardware', '--min-memory', '80'], /--min-memory: invalid value "80": expected a number with a unit/],
    ['wrong-dimension memory', ['presets', 'list', 'hardware', '--min-memory', '80 GB/s'], /"GB\/s" is a bandwidth unit, expected bytes/],
    ['hardware filter on models', ['presets', 'list', 'models', '--vendor', 'amd'], /filter hardware/],
    ['unknown preset to show', ['presets', 'show', 'h101'], /unknown preset "h101"; did you mean h100/],
  ])('%s exits 2 with one line', async (_name, args, message) => {
    await expectBadInput(args, message);
  });
});

describe('presets show', () => {
  it('prints every hardware value with its unit and source', async () => {
    const r = await cli(['presets', 'show', 'h100']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^h100-sxm: NVIDIA H100 SXM5/);
    for (const field of ['memory.capacity', 'memory.bandwidth', 'compute.bf16', 'compute.fp8', 'interconnect.intraNode', 'tdp', 'runtimeOverhead', 'efficiency.mfu']) {
      expect(r.stdout, field).toMatch(new RegExp(`^${field.replace('.', '\\.')}\\s`, 'm'));
    }
    expect(r.stdout).toMatch(/memory\.bandwidth\s+3\.35 TB\/s\n  source: /);
    expect(r.stdout).toMatch(/compute\.bf16\s+990 TFLOP\/s dense/);
    // every value line is followed by its source
    const values = r.stdout.split('\n').filter((l) => /^(memory|compute\.[a-z0-9]+ |tdp|runtimeOverhead|efficiency)/.test(l));
    expect(r.stdout.match(/^ {2}source: /gm)!.length).toBeGreaterThanOrEqual(values.length);
  });

  it('JSON carries the profile in base units', async () => {
    const out = await cliJson(['presets', 'show', 'mi300x']);
    expect(out.kind).toBe('hardware');
    // AMD MI300X: 5.3 TB/s HBM3 (AMD datasheet) = 5.3e12 B/s
    expect(out.preset.memoryBandwidth.value).toBe(5.3e12);
  });

  it('shows a model preset with its config source', async () => {
    const r = await cli(['presets', 'show', 'llama-3.1-8b']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/params\.total\s+8\.03 B \(8,030,261,248\)/);
    expect(r.stdout).toMatch(/source: +https:\/\/huggingface\.co\//);
  });
});

describe('presets validate (issue 4 acceptance)', () => {
  it('reports each broken file with line and field and exits 1', async () => {
    const r = await cli(['presets', 'validate', `${fixtures}broken`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ok {4}.*broken\/lab-gpu\.yaml/);
    expect(r.stdout).toMatch(/broken\/unitless\.yaml:8: memory\.capacity\.value: a unit is required \(got the bare number 48\)/);
    expect(r.stdout).toMatch(/broken\/wrong-dimension\.yaml:9: memory\.bandwidth\.value: "1 TB": "TB" is a bytes unit, expected bandwidth/);
    expect(r.stdout).toMatch(/broken\/syntax\.yaml:\d+: \(syntax\): /);
    expect(r.stdout).toMatch(/4 files checked: 1 valid, 3 invalid \(3 errors\)/);
  });

  it('exits 0 on good files alone, noting an override of a built-in', async () => {
    const r = await cli(['presets', 'validate', `${fixtures}good`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 files checked: 2 valid, 0 invalid/);
    expect(r.stdout).toMatch(/note: overrides the built-in hardware preset "h100-sxm"/);
  });

  it('validates the built-in presets directory cleanly', async () => {
    const r = await cli(['presets', 'validate', fileURLToPath(new URL('../presets/', import.meta.url))]);
    expect(r.stdout).toMatch(/ 0 invalid/);
    expect(r.code).toBe(0);
  });

  it('JSON lists every file with its issues', async () => {
    const r = await cli(['presets', 'validate', `${fixtures}broken`, '--format', 'json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.valid).toBe(false);
    const unitless = out.files.find((f: any) => f.file.endsWith('unitless.yaml'));
    expect(unitless.issues).toEqual([{ line: 8, field: 'memory.capacity.value', message: expect.stringMatching(/a unit is required/) }]);
  });

  it('reports an id used by two files', async () => {
    const r = await cli(['presets', 'validate', `${fixtures}good/lab-gpu.yaml`, `${fixtures}broken/lab-gpu.yaml`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/broken\/lab-gpu\.yaml:2: id: "lab-gpu" is already used by lab-gpu/);
  });

  it.each([
    ['a missing path', ['presets', 'validate', `${fixtures}nope`], /no such file or directory/],
    ['no paths at all', ['presets', 'validate'], /give the files or directories to check/],
  ])('%s is bad input (exit 2)', async (_name, args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('schema', () => {
  it.each(['model', 'hardware', 'spec'])('%s prints a JSON Schema (draft 2020-12)', async (kind) => {
    const r = await cli(['schema', kind]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
  });

  it('describes quantities as a number with a unit of the right dimension', async () => {
    const schema = JSON.parse((await cli(['schema', 'hardware'])).stdout);
    const pattern = new RegExp(schema.properties.memory.properties.bandwidth.properties.value.pattern, 'u');
    expect.soft(pattern.test('3.35 TB/s')).toBe(true);
    expect.soft(pattern.test('unknown')).toBe(true);
    expect.soft(pattern.test('3.35')).toBe(false);
    expect.soft(pattern.test('80 GiB')).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['id', 'name', 'vendor', 'memory', 'compute', 'tdp']));
  });

  it('the spec schema names every estimate option', async () => {
    const schema = JSON.parse((await cli(['schema', 'spec'])).stdout);
    for (const key of ['model', 'gpu', 'batch', 'inputTokens', 'input-tokens', 'provider', 'usdPerKwh']) expect(schema.properties[key], key).toBeDefined();
  });

  it('rejects an unknown kind', async () => {
    const r = await cli(['schema', 'gpu']);
    expect(r.code).toBe(2);
  });
});
