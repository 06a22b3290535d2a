import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bootPath, codeCacheFile, CODE_CACHE_RUNS } from '../src/boot.js';
import { INTERPRETED_COMMANDS } from '../src/jit.js';
import type { Catalog } from '../src/inputs/catalog.js';
import { findPreset, openPresetFile, openPresets, packPresets } from '../src/inputs/preset-store.js';
import { builtInCatalog, findHardware, findModel } from '../src/inputs/presets.js';
import { cli } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

// Start-up: how presets are stored and found, how the bundle is loaded (src/boot.ts,
// scripts/bundle.ts), and that every fallback gives the same answer. Speed itself is measured
// by `npm run bench`, not here.

const hw = (id: string, aliases: string[] = []) => ({ id, aliases, name: id.toUpperCase() });

describe('stored presets (preset-store.ts)', () => {
  const kinds = { hardware: [hw('h100-sxm', ['H100', 'h100-80gb']), hw('a100-80gb', ['a100'])], models: [hw('llama-3.1-8b', ['Llama-3.1-8B-Instruct'])] };

  it('reads back every kind whole, in order', () => {
    const catalog = openPresets(packPresets(kinds)) as unknown as typeof kinds;
    expect(catalog.hardware).toEqual(kinds.hardware);
    expect(catalog.models).toEqual(kinds.models);
    expect(Object.keys(catalog)).toEqual(['hardware', 'models']);
  });

  it.each([['H100', 'h100-sxm'], ['h100-80gb', 'h100-sxm'], ['A100', 'a100-80gb'], ['a100-80gb', 'a100-80gb']])('finds %s by id or alias, any case, as %s', (name, id) => {
    expect(findPreset(openPresets(packPresets(kinds)), 'hardware', name)?.id).toBe(id);
  });

  it('returns the very object the kind holds (identity comparisons keep working)', () => {
    const catalog = openPresets(packPresets(kinds));
    const found = findPreset(catalog, 'hardware', 'a100');
    expect(catalog.hardware.includes(found as never)).toBe(true);
    expect(findPreset(catalog, 'hardware', 'a100')).toBe(found);
  });

  it('parses only the entry it finds: a broken neighbour is not read', () => {
    const text = packPresets(kinds);
    // same length, so every offset still holds
    const broken = text.replace('{"id":"a100-80gb"', '{"id"!"a100-80gb"');
    expect(broken).not.toBe(text);
    const catalog = openPresets(broken);
    expect(findPreset(catalog, 'hardware', 'h100')?.id).toBe('h100-sxm');
    expect(findPreset(catalog, 'models', 'llama-3.1-8b')?.id).toBe('llama-3.1-8b');
    expect(() => catalog.hardware).toThrow(SyntaxError);
  });

  it('stores ASCII and reads entries from a file by byte offset, other characters included', () => {
    const withUnicode = { ...kinds, models: [{ ...hw('qwen-µ', ['Qwen–µ']), name: 'Qwen µ × 2 — 日本 👍' }] };
    const text = packPresets(withUnicode);
    expect(/^[\x00-\x7f]*$/.test(text)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'llm-size-presets-'));
    try {
      writeFileSync(join(dir, 'p.jsonl'), text.replace('{"id"!', '{"id":').replace('{"id":"a100-80gb"', '{"id"!"a100-80gb"'));
      const catalog = openPresetFile(join(dir, 'p.jsonl'));
      expect(findPreset<{ name: string }>(catalog, 'models', 'QWEN–µ')?.name).toBe('Qwen µ × 2 — 日本 👍');
      expect(findPreset(catalog, 'hardware', 'h100')?.id).toBe('h100-sxm');
      expect(() => catalog.hardware).toThrow(SyntaxError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds nothing for an unknown name or kind', () => {
    const catalog = openPresets(packPresets(kinds));
    expect(findPreset(catalog, 'hardware', 'h200')).toBeUndefined();
    expect(findPreset(catalog, 'engines', 'vllm')).toBeUndefined();
  });

  it('a catalogue merged with user presets (a plain copy) is searched as it is, overrides included', () => {
    const stored = openPresets(packPresets(kinds));
    const merged: Catalog = { ...stored, hardware: [{ ...stored.hardware[0], name: 'mine' }, stored.hardware[1]] };
    expect(findPreset<{ name: string }>(merged, 'hardware', 'h100')?.name).toBe('mine');
  });

  it('a kind can be replaced on the catalogue before or after it is read', () => {
    const catalog = openPresets(packPresets(kinds));
    catalog.models = [];
    expect(catalog.models).toEqual([]);
    void catalog.hardware;
    catalog.hardware = [];
    expect(catalog.hardware).toEqual([]);
  });

  it('the built-in catalogue finds presets by alias as a scan of the whole kind does', () => {
    const catalog = builtInCatalog();
    const scanned: Catalog = { ...catalog };
    for (const name of ['llama-3.1-8b', 'Llama-3.1-70B', 'deepseek-v3']) expect(findModel(catalog, name)).toBe(findModel(scanned, name));
    for (const name of ['h100', 'H100-SXM', 'mi300x', 'tpu-v5e']) expect(findHardware(catalog, name)).toBe(findHardware(scanned, name));
  });
});

describe('string width (scripts/shims/string-width.cjs)', () => {
  const shim = require('../scripts/shims/string-width.cjs') as (s: unknown) => number;
  const stringWidth = require('string-width') as (s: unknown) => number;
  it.each([
    [''], ['Parameters'], ['  8.03 B'], ['~1.2 GiB (0.9-1.6)'], ['a\tb'], ['\u001b[36mcyan\u001b[39m'], ['µs × 2'], ['─│┌'], ['日本語'], ['e\u0301'], ['👍 ok'], ['1\ufe0f\u20e3'], [42], [undefined],
  ])('measures %j as string-width does', (text) => {
    expect(shim(text)).toBe(stringWidth(text));
  });
});

describe('loading the bundle (src/boot.ts)', () => {
  it.each([
    [true, false, 'code-cache'],
    [true, true, 'code-cache'],
    [false, true, 'compile-cache'],
    [false, false, 'compile'],
  ] as const)('with a code cache %s and Node compile cache %s it takes the %s path', (hasCache, hasCompileCache, path) => {
    expect(bootPath(hasCache, hasCompileCache)).toBe(path);
  });

  it('names the code cache by V8 version and architecture (V8 accepts only its own)', () => {
    expect(codeCacheFile('/p', { ...process.versions, v8: '12.4.254.21-node.33' }, 'arm64')).toBe(join('/p', 'cli-12.4.254.21-node.33-arm64.cache'));
    expect(codeCacheFile('/p', { ...process.versions, v8: '12.4.254.21-node.33' }, 'arm64', 'plan')).toBe(join('/p', 'plan-12.4.254.21-node.33-arm64.cache'));
  });

  it.each([['estimate'], ['plan'], ['train'], [undefined]])('the build leaves the code caches for this runtime, and a fresh process running %s takes one', (command) => {
    const dir = join(root, 'dist/bundle');
    for (const name of Object.keys(CODE_CACHE_RUNS)) expect(existsSync(codeCacheFile(dir, process.versions, process.arch, name))).toBe(true);
    const out = execFileSync(process.execPath, ['-e', `const r = require(${JSON.stringify(join(dir, 'boot.cjs'))}).loadBundle(${JSON.stringify(dir)}, ${JSON.stringify(command)}); console.log(r.path, r.rejected)`], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(out.trim()).toBe('code-cache false');
  });
});

describe('the JIT policy of a run (src/jit.ts)', () => {
  // Preloaded into the process: at exit, whether node:v8 (about 2 ms to load) was loaded.
  const dir = mkdtempSync(join(tmpdir(), 'llm-size-jit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const preload = join(dir, 'report.cjs');
  writeFileSync(preload, "process.on('exit', () => process.stderr.write('v8 loaded: ' + process.moduleLoadList.includes('NativeModule v8') + '\\n'));");
  const loadsV8 = (args: string[]) => {
    const r = spawnSync(process.execPath, ['-r', preload, join(root, 'bin/llm-size.js'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.status).toBe(0);
    return /v8 loaded: true/.test(r.stderr);
  };
  it('an estimate leaves V8 as it is, and pays nothing for the policy', () => {
    expect(INTERPRETED_COMMANDS.has('estimate')).toBe(false);
    expect(loadsV8(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--format', 'json'])).toBe(false);
  });
  it('plan runs its search interpreted (the flag is set through node:v8)', () => {
    expect(INTERPRETED_COMMANDS.has('plan')).toBe(true);
    expect(loadsV8(['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--tpot', '50ms', '--hardware', 'h100-sxm', '--format', 'json'])).toBe(true);
  });
});

describe('the package installed elsewhere, with and without its code cache', () => {
  // A copy of what npm installs (bin, dist, package.json) in another folder, node_modules linked.
  const dir = mkdtempSync(join(tmpdir(), 'llm-size-'));
  for (const p of ['bin', 'dist/bundle', 'dist/presets.jsonl', 'package.json']) cpSync(join(root, p), join(dir, p), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cacheFiles = () => readdirSync(join(dir, 'dist/bundle')).filter((f) => f.endsWith('.cache'));
  const argv = ['estimate', '--model', 'llama-3.1-70b', '--gpu', 'h100', '--count', '4', '--format', 'json'];
  const runIn = (bin: string, args = argv) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', NODE_OPTIONS: '' } });
  const expected = runIn(join(root, 'bin/llm-size.js'));
  // plan loads a code cache of its own (CODE_CACHE_RUNS)
  const planArgv = ['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--tpot', '50ms', '--hardware', 'h100-sxm,l40s', '--format', 'json'];
  const expectedPlan = runIn(join(root, 'bin/llm-size.js'), planArgv);

  it('gives the same answer from the copy', () => {
    expect(expected.status).toBe(0);
    const r = runIn(join(dir, 'bin/llm-size.js'));
    expect([r.status, r.stderr, r.stdout]).toEqual([0, expected.stderr, expected.stdout]);
  });

  it('gives the same answer, silently, when the code cache is corrupt', () => {
    expect(cacheFiles().length).toBe(Object.keys(CODE_CACHE_RUNS).length);
    for (const f of cacheFiles()) writeFileSync(join(dir, 'dist/bundle', f), Buffer.alloc(4096, 7));
    const r = runIn(join(dir, 'bin/llm-size.js'));
    expect([r.status, r.stderr, r.stdout]).toEqual([0, expected.stderr, expected.stdout]);
    const p = runIn(join(dir, 'bin/llm-size.js'), planArgv);
    expect([p.status, p.stderr, p.stdout]).toEqual([0, expectedPlan.stderr, expectedPlan.stdout]);
  });

  it('gives the same answer, silently, without a code cache (another Node version)', () => {
    for (const f of cacheFiles()) rmSync(join(dir, 'dist/bundle', f));
    mkdirSync(join(dir, 'dist/bundle'), { recursive: true });
    const r = runIn(join(dir, 'bin/llm-size.js'));
    expect([r.status, r.stderr, r.stdout]).toEqual([0, expected.stderr, expected.stdout]);
  });
});

describe('the built binary (one bundle, lazy parts) answers every command as the source does', () => {
  const bin = join(root, 'bin/llm-size.js');
  const good = 'test/fixtures/user-presets/good';
  it.each([
    [['--help']],
    [['--version']],
    [['estimate', '--help']],
    [['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm']],
    [['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--explain']],
    [['estimate', '--model', 'deepseek-v3', '--gpu', 'h200', '--count', '8', '--format', 'yaml']],
    [['estimate', '--model', 'llama-3.1-8b', '--format', 'csv']],
    [['estimate', '--hf-config', 'test/fixtures/llama-3.1-8b.config.json', '--gpu', 'a100']],
    [['estimate', '--spec', 'test/fixtures/deployment.yaml', '--format', 'json']],
    [['estimate', '--model', 'llama-3.1-8b', '--gpu', 'lab', '--presets', good, '--format', 'json']],
    [['estimate', '--model', 'nope-7b']],
    [['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--ttft', '1s']],
    [['train', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--count', '8', '--tokens', '1b', '--format', 'json']],
    [['check', 'examples/deployments.yaml']],
    [['sweep', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--over', 'batch=1,2,4', '--format', 'csv']],
    [['presets', 'list']],
    [['presets', 'show', 'h100']],
    [['presets', 'validate', 'presets/']],
    [['schema', 'output']],
    [['completion', 'bash']],
  ])('llm-size %j', async (argv) => {
    const source = await cli(argv);
    const built = spawnSync(process.execPath, [bin, ...argv], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH, NO_COLOR: '1' } });
    expect([built.status, built.stderr, built.stdout]).toEqual([source.code, source.stderr, source.stdout]);
  });
});
