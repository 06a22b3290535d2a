import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostileHub, type HostileHub } from '../scripts/fuzz/hub.js';
import { REPRODUCTIONS } from '../scripts/fuzz/reproductions.js';
import { DOMAINS, outsideDomain } from '../src/inputs/domains.js';
import { oneLine, quote, UserError } from '../src/errors.js';
import { fileReason, MAX_FILE_BYTES } from '../src/inputs/files.js';
import { MEANINGFUL_AT_MOST, notMeaningful } from '../src/estimate/terms.js';
import * as lib from '../src/index.js';
import { internalError } from '../src/cli.js';
import { cli, expectBadInput, localHttpServer } from './helpers.js';

/**
 * Issue 11: every reproduction of the hardening table exits 0 or 2 with one line and no stack
 * trace. Each row is one reproduction as filed; bad input is exit 2 naming the flag, the value
 * and the bound of its domain (src/inputs/domains.ts).
 */
describe('issue 11 reproductions: values outside their domain are one-line exit 2', () => {
  it.each(REPRODUCTIONS.map((r) => [r.name, r.argv, r.message] as const))('%s', async (_name, args, message) => {
    await expectBadInput(args, message);
  });

  it('--precision constructor in a --hf-config run is an unknown format, not NaN weights', async () => {
    await expectBadInput(['estimate', '--hf-config', new URL('./fixtures/llama-3.1-8b.config.json', import.meta.url).pathname, '--precision', 'constructor'], /--precision: unknown value "constructor"/);
  });
});

describe('issue 11 reproductions: messages are one line', () => {
  it('a flag value with a newline is shown escaped', async () => {
    await expectBadInput(['estimate', '--model', 'llama\n3'], /unknown model preset \(--model\) "llama\\n3"/);
  });

  it('an unknown preset id with a terminal escape is shown escaped', async () => {
    await expectBadInput(['estimate', '--model', 'x\u001b[31m'], /"x\\u001b\[31m"/);
  });

  it('an unknown flag with a newline is one line', async () => {
    await expectBadInput(['estimate', '--mod\nel', 'x'], /unknown option '--mod\\nel'/);
  });

  it.each([
    ['a line break', 'a\nb', '"a\\nb"'],
    ['a terminal escape', '\u001b[2J', '"\\u001b[2J"'],
    ['a Unicode line separator', 'a\u2028b', '"a\\u2028b"'],
    ['a C1 control (NEL)', 'a\u0085b', '"a\\u0085b"'],
    ['a BigInt', 5n, '5n (a BigInt)'],
  ])('quote escapes %s', (_name, value, shown) => {
    expect(quote(value)).toBe(shown);
  });

  it('a UserError is one line whatever its message holds', () => {
    expect(new UserError('a\nb\rc').message).toBe('a\\nb\\rc');
    expect(oneLine('tab\there')).toBe('tab\\there');
  });
});

describe('issue 11 reproductions: help', () => {
  it.each([[[]], [['presets']]])('llm-size %j prints help on stdout and exits 0, as --help does', async (args) => {
    const r = await cli(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: llm-size/);
    expect(r.stderr).toBe('');
  });
});

describe('issue 11 reproductions: stdout is one document with --explain', () => {
  it.each([
    ['train', ['train', '--model', 'opt-66b', '--explain', '--format', 'json']],
    ['plan', ['plan', '--model', 'mistral-7b-v0.3', '--qps', '1', '--hardware', 'h100-sxm', '--explain', '--format', 'json']],
    ['estimate', ['estimate', '--model', 'llama-3.1-8b', '--explain', '--format', 'json']],
  ])('%s --explain --format json prints one JSON document and says why on stderr', async (_name, args) => {
    const r = await cli(args);
    expect(r.code).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(r.stderr).toMatch(/--explain adds text to table output only/);
  });
});

describe('domains', () => {
  it.each(Object.entries(DOMAINS))('%s: min and max are finite, min >= 0, and the bounds are inside', (_name, d) => {
    expect(Number.isFinite(d.min) && Number.isFinite(d.max)).toBe(true);
    expect(d.min).toBeGreaterThanOrEqual(0);
    expect(outsideDomain(d.min, d)).toBeUndefined();
    expect(outsideDomain(d.max, d)).toBeUndefined();
    expect(outsideDomain(d.max * 2, d)).toBe('above');
    expect(outsideDomain(Number.NaN, d)).toBe('invalid');
    expect(outsideDomain(-1, d)).toBe('invalid');
  });
});

// ---- files ----

const tmp = mkdtempSync(join(tmpdir(), 'llm-size-hardening-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const path = join(tmp, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
};
const labGpu = readFileSync(new URL('./fixtures/user-presets/good/lab-gpu.yaml', import.meta.url), 'utf8');

describe('issue 11 reproductions: files are read by one reader, errors are exit 2 naming the path', () => {
  it('a --presets folder with a symlink loop (ELOOP) and a link back to itself', async () => {
    const dir = join(tmp, 'loop');
    mkdirSync(dir);
    writeFileSync(join(dir, 'lab-gpu.yaml'), labGpu);
    symlinkSync(dir, join(dir, 'again'));
    symlinkSync(join(dir, 'self.yaml'), join(dir, 'self.yaml'));
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--presets', dir], /invalid user preset: .*self\.yaml:1: \(file\): cannot read: too many levels of symbolic links/);
  });

  it('a folder walked through a link back to itself is read once (no endless recursion)', async () => {
    const dir = join(tmp, 'loop-ok');
    mkdirSync(dir);
    writeFileSync(join(dir, 'lab-gpu.yaml'), labGpu);
    symlinkSync(dir, join(dir, 'again'));
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'lab-gpu', '--presets', dir, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a directory where a file is expected (EISDIR)', async () => {
    mkdirSync(join(tmp, 'spec-dir.yaml'));
    await expectBadInput(['estimate', '--spec', join(tmp, 'spec-dir.yaml')], /--spec: cannot read file ".*spec-dir\.yaml": is a directory, not a file/);
  });

  it('a file gone between listing and reading (ENOENT, as a dangling link)', async () => {
    const dir = join(tmp, 'dangling');
    mkdirSync(dir);
    symlinkSync(join(tmp, 'removed.yaml'), join(dir, 'removed.yaml'));
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--presets', dir], /removed\.yaml:1: \(file\): cannot read: no such file or directory/);
  });

  it('a YAML alias bomb ("Excessive alias count")', async () => {
    const levels = Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`);
    const bomb = write('bomb.yaml', `a: &a ["x","x","x","x","x","x","x","x","x"]\n${levels.join('\n')}\n`);
    await expectBadInput(['estimate', '--spec', bomb], /bomb\.yaml: not valid YAML or JSON: Excessive alias count/);
  });

  it('a YAML document nested too deeply', async () => {
    await expectBadInput(['estimate', '--spec', write('deep.yaml', `${'['.repeat(5000)}${']'.repeat(5000)}\n`)], /deep\.yaml: not valid YAML or JSON: nested more than 64 levels deep/);
  });

  it('an unresolved tag (!custom) is an error, and Node prints no YAMLWarning', async () => {
    const warnings: string[] = [];
    const listener = (w: Error) => warnings.push(w.name);
    process.on('warning', listener);
    await expectBadInput(['estimate', '--spec', write('tag.yaml', 'model: llama-3.1-8b\nbatch: !custom 8\n')], /tag\.yaml: not valid YAML or JSON: Unresolved tag: !custom/);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', listener);
    expect(warnings).toEqual([]);
  });

  it(`a file over the size limit (${MAX_FILE_BYTES / 1024 / 1024} MB)`, async () => {
    const big = write('big.yaml', `model: llama-3.1-8b\n#${'x'.repeat(MAX_FILE_BYTES)}\n`);
    await expectBadInput(['estimate', '--spec', big], /--spec: cannot read file ".*big\.yaml": larger than 10 MB, the most this tool reads/);
  });

  it('a config.json that is no usable architecture (zero layers) names the field', async () => {
    const config = JSON.parse(readFileSync(new URL('./fixtures/llama-3.1-8b.config.json', import.meta.url), 'utf8'));
    await expectBadInput(['estimate', '--hf-config', write('zero.json', JSON.stringify({ ...config, num_hidden_layers: 0 }))], /zero\.json: field "num_hidden_layers" must be a positive integer, got 0|zero\.json: field "num_hidden_layers"/);
  });
});

describe('issue 11 reproductions: presets validate and --presets agree', () => {
  it('a copy of presets/engines/vllm-0.21.yaml in a user folder is an engine profile to both', async () => {
    const dir = join(tmp, 'engine-copy');
    mkdirSync(dir);
    copyFileSync(new URL('../presets/engines/vllm-0.21.yaml', import.meta.url), join(dir, 'vllm.yaml'));
    const validate = await cli(['presets', 'validate', dir, '--format', 'json']);
    expect(validate.code, validate.stdout).toBe(0);
    expect(JSON.parse(validate.stdout).files[0].kind).toBe('engine');
    const used = await cli(['estimate', '--model', 'llama-3.1-8b', '--presets', dir, '--format', 'json']);
    expect(used.code, used.stderr).toBe(0);
    expect(used.stderr).toMatch(/notice: engine preset "vllm" from .*vllm\.yaml overrides the built-in one/);
  });
});

// ---- the Hub ----

describe('issue 11 reproductions: a hostile Hub is exit 2 with one line, in time', () => {
  let hub: HostileHub;
  let cache: string;
  beforeAll(async () => {
    hub = await startHostileHub();
    cache = mkdtempSync(join(tmpdir(), 'llm-size-hub-'));
  });
  afterAll(async () => {
    await hub.close();
    rmSync(cache, { recursive: true, force: true });
  });
  const env = () => ({ HF_ENDPOINT: hub.endpoint, XDG_CACHE_HOME: cache, HF_HUB_DOWNLOAD_TIMEOUT: '0.5' });

  it.each([
    ['a body that never finishes (timeout)', 'slow/model', /--hf: fetching config\.json of slow\/model@main: no complete answer within 0\.5 s/],
    ['an aborted body ("TypeError: terminated")', 'abort/model', /--hf: fetching config\.json of abort\/model@main: the connection closed before the answer was complete/],
    ['a 100 MB body', 'big/model', /--hf: config\.json of big\/model@main is larger than 5 MB/],
    ['a gzip bomb', 'gzip/model', /--hf: config\.json of gzip\/model@main is larger than 5 MB/],
    ['a redirect loop', 'loop/model', /--hf: cannot reach .* \(too many redirects \(a redirect loop\)\)/],
    ['malformed JSON', 'bad/model', /--hf: config\.json of bad\/model@main from .* is not valid JSON/],
  ])('%s', async (_name, ref, message) => {
    await expectBadInput(['estimate', '--hf', ref, '--gpu', 'h100-sxm'], message, env());
  });
});

describe('issue 11 reproductions: a bad Hub answer never enters or replaces the cache', () => {
  let answer = '';
  const server = localHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(answer));
  let cache: string;
  beforeAll(() => {
    cache = mkdtempSync(join(tmpdir(), 'llm-size-poison-'));
  });
  afterAll(() => rmSync(cache, { recursive: true, force: true }));
  const good = readFileSync(new URL('./fixtures/llama-3.1-8b.config.json', import.meta.url), 'utf8');

  it.each([
    ['null', 'null', /expected a JSON object/],
    ['[]', '[]', /expected a JSON object/],
    ['a string', '"config"', /expected a JSON object/],
    ['num_hidden_layers: -5', JSON.stringify({ ...JSON.parse(good), num_hidden_layers: -5 }), /num_hidden_layers/],
  ])('%s is exit 2, and --offline still finds the good copy', async (_name, bad, message) => {
    const env = { HF_ENDPOINT: server(), XDG_CACHE_HOME: cache };
    answer = good;
    expect((await cli(['estimate', '--hf', 'org/model', '--gpu', 'h100-sxm', '--format', 'json'], env)).code).toBe(0);
    answer = bad;
    await expectBadInput(['estimate', '--hf', 'org/model', '--gpu', 'h100-sxm'], message, env);
    const offline = await cli(['estimate', '--hf', 'org/model', '--offline', '--gpu', 'h100-sxm', '--format', 'json'], env);
    expect(offline.code, offline.stderr).toBe(0);
    expect(JSON.parse(offline.stdout).figures['params.total'].value).toBe(8_030_261_248);
  });
});

// ---- the library ----

describe('issue 11 reproductions: the library throws its own error with the CLI message', () => {
  it.each([
    ['estimate({})', () => lib.estimate({}), /^no model given: pass --model/],
    ['estimate(null)', () => lib.estimate(null as never), /^estimate: options: expected an object of options/],
    ['plan(null)', () => lib.plan(null as never), /^plan: options: expected an object of options/],
    ['train({ microBatch: BigInt })', () => lib.train({ model: 'llama-3.1-8b', microBatch: 5n as never }), /^train: options\.microBatch: invalid value 5n \(a BigInt\); expected a string, a number or true\/false/],
    ['estimate({ batch: 1e308 }) says what --batch says', () => lib.estimate({ model: 'llama-3.1-8b', batch: 1e308 }), /^options\.batch: 1e\+308 is a larger batch than this tool sizes \(at most 1000000\)$/],
    ['estimate(options, null)', () => lib.estimate({ model: 'llama-3.1-8b' }, null as never), /^never/],
    ['estimateFromInput({})', () => lib.estimateFromInput({} as never), /^estimateFromInput: input\.model: /],
    ['trainFromInput(null)', () => lib.trainFromInput(null as never), /^trainFromInput: input: /],
  ])('%s', (_name, call, message) => {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    if (String(message) === '/^never/') return expect(error).toBeUndefined();
    expect(error).toBeInstanceOf(lib.UserError);
    expect((error as Error).message).toMatch(message);
  });

  it.each([
    ['loadPresets(5)', () => lib.loadPresets(5 as never), /^loadPresets: paths: expected a list of preset files or folders, got 5/],
    ['fetchHub(null)', () => lib.fetchHub(null as never), /^fetchHub: options: expected an object of options/],
    ['renderOutput("xml", ...)', () => lib.renderOutput('xml' as never, { document: {} }), /^renderOutput\.format: unknown format "xml"/],
  ])('%s', async (_name, call, message) => {
    await expect(call()).rejects.toThrow(message);
    await expect(call()).rejects.toBeInstanceOf(lib.UserError);
  });
});

describe('derived figures past any deployment are flagged, not errors', () => {
  it('a cost per token at one request in eleven days is finite and "not meaningful", exit 0', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--qps', '1e-6', '--price', '1e6', '--output-tokens', '1', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.figures['load.usdPerMillionOutputTokens'].value).toBeGreaterThan(MEANINGFUL_AT_MOST.USD!);
    expect(out.warnings.join('\n')).toMatch(/load\.usdPerMillionOutputTokens is over 1000000000000 USD: not meaningful/);
  });

  it('everyday figures are not flagged', () => {
    expect(notMeaningful({ a: { id: 'a', label: 'a', value: 5, unit: 'USD', formula: '', inputs: {}, source: '' } })).toEqual([]);
  });
});

describe('config.json fields that size loops are bounded before the family readers run', () => {
  it.each(['llama', 'qwen2_moe', 'deepseek_v3'])('%s with num_hidden_layers 1e12 is exit 2 at once', async (family) => {
    const config = JSON.parse(readFileSync(new URL('./fixtures/llama-3.1-8b.config.json', import.meta.url), 'utf8'));
    const file = write(`layers-${family}.json`, JSON.stringify({ ...config, model_type: family, num_hidden_layers: 1e12, num_experts: 4, n_routed_experts: 4, num_experts_per_tok: 2, moe_intermediate_size: 128, qk_nope_head_dim: 64, qk_rope_head_dim: 32, kv_lora_rank: 64, v_head_dim: 64 }));
    await expectBadInput(['estimate', '--hf-config', file], /field "num_hidden_layers" 1000000000000 is more layers than any model this tool sizes \(at most 10000\)/);
  });
});

describe('issue 11 reproductions: --context shorter than --input-tokens is one line in every command', () => {
  it.each([
    ['estimate', ['estimate', '--model', 'llama-3.1-8b']],
    ['plan', ['plan', '--model', 'llama-3.1-8b', '--qps', '1', '--hardware', 'h100-sxm']],
    ['sweep', ['sweep', '--model', 'llama-3.1-8b', '--over', 'batch=1,2']],
    ['simulate', ['simulate', '--model', 'llama-3.1-8b', '--qps', '1']],
  ])('%s', async (_name, args) => {
    await expectBadInput([...args, '--context', '100', '--input-tokens', '1000'], /--context 100 is shorter than --input-tokens 1000/);
  });
});

describe('exit 70 is for bugs, and asks for a report with the command line', () => {
  it('prints one line with the command line, no stack', () => {
    const text = internalError(new Error('figure x is NaN'), ['estimate', '--model', 'a b'], {});
    expect(text).toBe("llm-size: internal error (a bug in llm-size, not in your input): Error: figure x is NaN; please report it with the command line: llm-size estimate --model 'a b'\n");
  });

  it('adds the stack with LLM_SIZE_DEBUG=1', () => {
    expect(internalError(new Error('x'), [], { LLM_SIZE_DEBUG: '1' })).toMatch(/\n\s+at /);
  });
});

describe('file errors in words', () => {
  // EACCES cannot be provoked here (tests run as root, which reads any file): the mapping is checked directly
  it.each([
    ['EACCES', 'permission denied'],
    ['ELOOP', 'too many levels of symbolic links (a link loop)'],
    ['EISDIR', 'is a directory, not a file'],
    ['ENOENT', 'no such file or directory'],
    ['EWHATEVER', 'cannot be read (EWHATEVER)'],
  ])('%s', (code, reason) => {
    expect(fileReason(Object.assign(new Error('x'), { code }))).toBe(reason);
  });
});

describe('found by npm run fuzz', () => {
  it.each([['estimate'], ['sweep']])('%s --params 1e15 (the largest count) is a result: the assumed shape widens instead of asking for 294,000 layers (was exit 70, stack overflow)', async (command) => {
    const r = await cli([command, '--params', '1e15', '--format', 'json', ...(command === 'sweep' ? ['--over', 'batch=1,2'] : [])]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect((out.input?.model ?? out.points?.[0])).toBeDefined();
  });

  it('simulate on an encoder model is one-line exit 2 (was exit 70: NaN throughput)', async () => {
    await expectBadInput(['simulate', '--model', 'modernbert-embed-base', '--format', 'json', '--qps=.5'], /ModernBERT Embed base is an encoder .*simulate schedules generating models/);
  });
});
