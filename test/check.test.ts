import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseThreshold, thresholdValue } from '../src/commands/check.js';
import { OUTPUT_SCHEMA, validateJson } from '../src/inputs/output-schema.js';
import { cli, cliJson, expectBadInput } from './helpers.js';

const example = new URL('../examples/deployments.yaml', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'llm-size-check-'));
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('llm-size check (issue 8 acceptance)', () => {
  it('the example file in the repository passes: exit 0, every assertion PASS', async () => {
    const r = await cli(['check', example]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/FAIL/);
    expect(r.stdout).toMatch(/PASSED: 12 of 12 assertions in 3 deployments/);
  });

  it('a copy with one tightened budget fails with exit 1, naming deployment, assertion and actual figure', async () => {
    const tight = write('tight.yaml', readFileSync(example, 'utf8').replace('tpot: "<= 40ms"', 'tpot: "<= 2ms"'));
    const r = await cli(['check', tight]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED: 1 of 12 assertions: chat-8b: tpot <= 2ms \(actual [\d.]+ ms\)/);
    // the actual figure is the estimate's own tpot for that deployment
    const json = JSON.parse((await cli(['check', tight, '--format', 'json'])).stdout);
    const failed = json.deployments.flatMap((d: any) => d.assertions.map((a: any) => ({ name: d.name, ...a }))).filter((a: any) => !a.passed);
    expect(failed).toHaveLength(1);
    const direct = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--batch', '16', '--input-tokens', '2048', '--output-tokens', '512']);
    expect(failed[0]).toMatchObject({ name: 'chat-8b', assertion: 'tpot <= 2ms', figure: 'latency.tpot', op: '<=', expected: 0.002, actual: direct.figures['latency.tpot'].value, unit: 's' });
    expect(json.passed).toBe(false);
  });

  it('json output validates against the published schema', async () => {
    const json = JSON.parse((await cli(['check', example, '--format', 'json'])).stdout);
    expect(validateJson({ $ref: '#/$defs/check' }, json, OUTPUT_SCHEMA)).toEqual([]);
    expect(json.passed).toBe(true);
  });

  it('a deployment that must not fit passes when it does not fit; headroom in bytes is signed', async () => {
    // Llama 3.1 70B bf16 weights alone are 141 GB, more than one L4's 24 GB
    const file = write('nofit.yaml', 'deployments:\n  big-on-small:\n    model: llama-3.1-70b\n    gpu: l4\n    assert:\n      fits: false\n      headroom: "< 0GiB"\n      memoryPerDevice: ">= 131GB"\n');
    const r = await cli(['check', file, '--format', 'json']);
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout).deployments[0].assertions;
    expect(a.map((x: any) => x.passed)).toEqual([true, true, true]);
    expect(a[1].unit).toBe('B');
    expect(a[1].actual).toBeLessThan(0);
  });

  it('a figure id works as an assertion', async () => {
    const file = write('figure.yaml', 'deployments:\n  x:\n    model: llama-3.1-8b\n    gpu: h100-sxm\n    assert:\n      memory.weights: "== 16060522496B"\n');
    // 8,030,261,248 params x 2 B = 16,060,522,496 B exactly
    const r = await cli(['check', file]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

describe('an invalid deployments file exits 2 with file, line and field', () => {
  it.each([
    ['unknown field', 'deployments:\n  a:\n    model: llama-3.1-8b\n    gpus: h100\n    assert:\n      fits: true\n', /bad\.yaml:4: deployments\.a\.gpus: unknown field "gpus"; did you mean gpu/],
    ['bad workload value', 'deployments:\n  a:\n    model: llama-3.1-8b\n    batch: many\n    assert:\n      fits: true\n', /bad\.yaml:4: deployments\.a\.batch: invalid value "many"/],
    ['unknown model', 'deployments:\n  a:\n    model: llama-3.1-9b\n    assert:\n      fits: true\n', /bad\.yaml:3: deployments\.a\.model: unknown model preset .*did you mean llama-3\.1-8b/],
    ['unknown assertion', 'deployments:\n  a:\n    model: llama-3.1-8b\n    assert:\n      tpott: "<= 40ms"\n', /bad\.yaml:5: deployments\.a\.assert\.tpott: unknown assertion "tpott"; did you mean tpot/],
    ['time without a unit', 'deployments:\n  a:\n    model: llama-3.1-8b\n    assert:\n      tpot: "<= 40"\n', /bad\.yaml:5: deployments\.a\.assert\.tpot: "40" needs a time unit/],
    ['no comparison', 'deployments:\n  a:\n    model: llama-3.1-8b\n    assert:\n      tpot: 40ms\n', /bad\.yaml:5: deployments\.a\.assert\.tpot: expected a comparison/],
    ['unquoted ">"', 'deployments:\n  a:\n    model: llama-3.1-8b\n    assert:\n      headroom: >= 10%\n', /bad\.yaml:5: \(syntax\).*quote comparisons that start with ">"/],
    ['fits not a boolean', 'deployments:\n  a:\n    model: llama-3.1-8b\n    assert:\n      fits: yes please\n', /bad\.yaml:5: deployments\.a\.assert\.fits: expected true or false/],
    ['no assertions', 'deployments:\n  a:\n    model: llama-3.1-8b\n', /bad\.yaml:\d+: deployments\.a\.assert: no assertions/],
    ['no deployments key', 'deployment:\n  a: {}\n', /bad\.yaml:1: /],
  ])('%s', async (_name, text, message) => {
    const file = write('bad.yaml', text);
    await expectBadInput(['check', file], message);
  });

  it('a missing file exits 2', async () => {
    const r = await cli(['check', join(dir, 'absent.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read file/);
  });
});

describe('thresholds', () => {
  it.each([
    ['<= 800ms', 's', '<=', 0.8],
    ['< 1.5 s', 's', '<', 1.5],
    ['>= 10%', 'fraction', '>=', 0.1],
    ['>= 8GiB', 'B', '>=', 8 * 2 ** 30],
    ['<= 70 GB', 'B', '<=', 70e9],
    ['<= $1.5', 'USD', '<=', 1.5],
    ['>= 32k', 'tokens', '>=', 32_768],
    ['= 64', 'count', '==', 64],
    ['> 2000', 'tokens/s', '>', 2000],
  ] as const)('"%s" (%s) is %s %d', (text, unit, op, value) => {
    const t = parseThreshold(text)!;
    expect(t.op).toBe(op);
    expect(thresholdValue(t.text, unit)).toEqual({ value });
  });

  it.each([
    ['800', 's', /needs a time unit/],
    ['80', 'B', /expected a number with a unit/],
    ['lots', 'USD', /is not a number/],
  ] as const)('"%s" (%s) is refused', (text, unit, reason) => {
    expect((thresholdValue(text, unit) as { reason: string }).reason).toMatch(reason);
  });
});

describe('check: simulated percentiles and goodput (issue 17)', () => {
  const deployment = (asserts: string, extra = 'qps: 8\n    requests: 400') => write(`sim-${Math.random().toString(36).slice(2)}.yaml`, `deployments:
  chat-8b:
    model: llama-3.1-8b
    gpu: h100-sxm
    workload: chat
    ${extra}
    ttftP99: 1s
    assert:
${asserts}
`);

  it('ttftP99, tpotP90, goodput and a percentile figure id are the simulation\'s figures', async () => {
    const r = await cli(['check', deployment('      ttftP99: "<= 1s"\n      tpotP90: "<= 30ms"\n      goodput: ">= 90%"\n      latency.e2e.p50: "<= 10s"'), '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const sim = await cliJson(['simulate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--workload', 'chat', '--qps', '8', '--requests', '400', '--ttft-p99', '1s']);
    const actual = (name: string) => json.deployments[0].assertions.find((a: any) => a.assertion.startsWith(name)).actual;
    expect(actual('ttftP99')).toBe(sim.figures['latency.ttft.p99'].value);
    expect(actual('tpotP90')).toBe(sim.figures['latency.tpot.p90'].value);
    expect(actual('goodput')).toBe(sim.figures['goodput.fraction'].value);
    expect(actual('latency.e2e.p50')).toBe(sim.figures['latency.e2e.p50'].value);
  });

  it('a missed percentile fails with exit 1', async () => {
    const r = await cli(['check', deployment('      tpotP99: "<= 1ms"')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED: 1 of 1 assertions: chat-8b: tpotP99 <= 1ms/);
  });

  it('a percentile without a load is bad input naming the deployment', async () => {
    await expectBadInput(['check', deployment('      ttftP99: "<= 1s"', 'requests: 400')], /simulate needs a load/);
  });

  it('a range of loads is bad input: a check simulates one', async () => {
    await expectBadInput(['check', deployment('      ttftP99: "<= 1s"', 'qps: "1..4"')], /simulates one load/);
  });
});
