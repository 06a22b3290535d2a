import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

const good = fileURLToPath(new URL('./fixtures/user-presets/good', import.meta.url));
const broken = fileURLToPath(new URL('./fixtures/user-presets/broken', import.meta.url));

const estimateJson = async (args: string[], env: Record<string, string> = {}) => {
  const r = await cli(['estimate', '--model', 'llama-3.1-8b', ...args, '--format', 'json'], env);
  return { ...r, out: r.code === 0 ? JSON.parse(r.stdout) : undefined };
};

describe('user presets are used by estimate (issue 4 acceptance)', () => {
  it.each([
    ['--presets', ['--presets', good], {}],
    ['LLM_SIZE_PRESETS', [], { LLM_SIZE_PRESETS: good }],
    ['LLM_SIZE_PRESETS with several paths', [], { LLM_SIZE_PRESETS: `${good}/lab-gpu.yaml:${good}/h100-negotiated.json` }],
  ])('a private device from %s', async (_how, args, env) => {
    const r = await estimateJson(['--gpu', 'lab', ...args], env);
    expect(r.code).toBe(0);
    expect(r.out.input.hardware.id).toBe('lab-gpu');
    // 48 GiB as written in the fixture
    expect(r.out.figures['memory.capacityPerDevice'].value).toBe(48 * 2 ** 30);
    expect(r.out.figures['cost.usdPerHour'].value).toBe(1.5);
  });

  it('a user preset with a built-in id overrides it, keeps its aliases and says so on stderr', async () => {
    const r = await estimateJson(['--gpu', 'h100', '--presets', good]);
    expect(r.code).toBe(0);
    expect(r.out.input.hardware.name).toMatch(/negotiated/);
    expect(r.out.figures['cost.usdPerHour'].value).toBe(1.23);
    expect(r.stderr).toMatch(/notice: hardware preset "h100-sxm" from .*h100-negotiated\.json overrides the built-in one/);
  });

  it('--quiet silences the notice', async () => {
    const r = await cli(['--quiet', 'estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--presets', good]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('presets list shows user presets next to the built-ins', async () => {
    const r = await cli(['presets', 'list', 'hardware', '--format', 'json'], { LLM_SIZE_PRESETS: good });
    const ids = JSON.parse(r.stdout).hardware.map((h: any) => h.id);
    expect(ids).toContain('lab-gpu');
    expect(ids.filter((id: string) => id === 'h100-sxm')).toHaveLength(1);
  });

  it.each([
    ['an invalid user preset', ['--presets', broken], {}, /invalid user preset: .*\.yaml:\d+: .*run llm-size presets validate/],
    ['a missing --presets directory', ['--presets', '/no/such/dir'], {}, /--presets: no such file or directory "\/no\/such\/dir"/],
    ['a missing LLM_SIZE_PRESETS directory', [], { LLM_SIZE_PRESETS: '/no/such/dir' }, /LLM_SIZE_PRESETS: no such file or directory/],
  ])('%s is bad input: exit 2, one line', async (_name, args, env, message) => {
    const r = await estimateJson(args as string[], env as Record<string, string>);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
