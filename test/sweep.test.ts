import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/cli.js';
import { expandValues, parseOver } from '../src/commands/sweep.js';
import { OUTPUT_SCHEMA, validateJson } from '../src/inputs/output-schema.js';
import { parseCount, parseTokens } from '../src/units.js';
import { cli, cliJson } from './helpers.js';

const base = ['sweep', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm'];

/** Runs the CLI as if stdout were a terminal with colour. */
async function tty(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await run(args, { out: (s) => (stdout += s), err: () => {}, env: { FORCE_COLOR: '1' }, isTty: true });
  return { code, stdout };
}

/** A minimal well-formedness check: every tag closes, in order, and the root is <svg>. */
function checkXml(text: string): string[] {
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  const seen: string[] = [];
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, , selfClose] = m;
    if (close) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else if (!selfClose) stack.push(name);
    seen.push(name);
  }
  expect(stack).toEqual([]);
  expect(body.startsWith('<svg')).toBe(true);
  expect(body.replace(/<[^>]*>/g, '')).not.toMatch(/[<>]/);
  return seen;
}

describe('value lists and ranges', () => {
  it.each([
    ['1,2,4..256', parseCount, [1, 2, 4, 8, 16, 32, 64, 128, 256]],
    ['1k..128k', parseTokens, [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]],
    ['1,2,3..8', parseCount, [1, 2, 3, 4, 5, 6, 7, 8]],
    ['8,16,24..64', parseCount, [8, 16, 24, 32, 40, 48, 56, 64]],
    ['2,4..32', parseCount, [2, 4, 8, 16, 32]], // doubling lands on 32 exactly
    ['10,20..50', parseCount, [10, 20, 30, 40, 50]], // doubling would miss 50: adds 10
    ['1..100', parseCount, [1, 2, 4, 8, 16, 32, 64, 100]], // the end is always included
    ['1,8,64', parseCount, [1, 8, 64]],
  ])('%s', (text, parse, expected) => {
    expect(expandValues(text, parse)).toEqual({ values: expected });
  });

  it.each([
    ['batch=0,1', /--over batch: "0" is not a positive number/],
    ['batch=8..1', /--over batch: "8\.\.1" ends before it starts/],
    ['batchs=1,2', /--over: unknown input "batchs"; did you mean batch/],
    ['batch', /--over: invalid value "batch"; expected key=values/],
    ['gpu=h100..h200', /--over gpu: list the values/],
    ['batch=1,3,4..64', /neither multiply nor add evenly/],
  ])('%s is refused', (text, message) => {
    expect(() => parseOver(text)).toThrow(message);
  });

  it('token inputs read k as 1024 and keep short labels', () => {
    expect(parseOver('context=8k,32k')).toEqual({ key: 'context', values: [8192, 32768], labels: ['8k', '32k'] });
    expect(parseOver('input-tokens=512,1k').key).toBe('inputTokens');
  });
});

describe('llm-size sweep (issue 8 acceptance)', () => {
  it('json has one point per value, with exact figures, and validates against the schema', async () => {
    const out = await cliJson([...base, '--over', 'batch=1,2,4..256']);
    expect(validateJson({ $ref: '#/$defs/sweep' }, out, OUTPUT_SCHEMA)).toEqual([]);
    expect(out.points.map((p: any) => p.at.batch)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
    expect(out.units['memory.perDevice']).toBe('B');
    // each point equals a direct estimate at that batch
    const direct = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--batch', '64']);
    const point = out.points.find((p: any) => p.at.batch === 64);
    for (const id of ['memory.perDevice', 'latency.tpot', 'throughput.outputTokensPerSecond']) expect(point.figures[id]).toBe(direct.figures[id].value);
    // KV cache grows linearly with batch: 131,072 B per token x 1,280 tokens x batch
    expect(point.figures['memory.perDevice.kvCache']).toBe(64 * 1280 * 131_072);
  });

  it('two inputs give the cross product; gpu takes preset names', async () => {
    const out = await cliJson([...base.slice(0, 3), '--over', 'gpu=h100-sxm,h200', '--over', 'context=2k,8k']);
    expect(out.points.map((p: any) => [p.at.gpu, p.at.context])).toEqual([['h100-sxm', 2048], ['h200', 2048], ['h100-sxm', 8192], ['h200', 8192]]);
    expect(out.points.map((p: any) => p.hardware)).toEqual(['h100-sxm', 'h200', 'h100-sxm', 'h200']);
  });

  it('in a terminal: the table, then a stacked memory chart against capacity and the curves, in Unicode and colour', async () => {
    const r = await tty([...base, '--over', 'batch=1,2,4..256']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/│ batch │/);
    expect(r.stdout).toMatch(/Memory per device \(┃ = device capacity\)/);
    expect(r.stdout).toMatch(/batch=256 .*█.*▓.*┃/);
    expect(r.stdout).toMatch(/Time per output token vs batch/);
    expect(r.stdout).toMatch(/Output tokens per second vs batch/);
    expect(r.stdout).toMatch(/●/);
    expect(r.stdout).toMatch(/\x1b\[/);
  });

  it('not a terminal: the same charts in plain ASCII, no escape codes', async () => {
    const r = await cli([...base, '--over', 'batch=1,2,4..256']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Memory per device \(\| = device capacity\)/);
    expect(r.stdout).toMatch(/batch=256 #+=+/);
    expect(r.stdout).not.toMatch(/\x1b\[|█|●/);
  });

  it('a point that does not fit is marked in the table and the chart', async () => {
    const r = await cli(['sweep', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--count', '4', '--over', 'context=1k,128k', '--batch', '4']);
    // 70B bf16 over 4 devices: ~33 GiB of weights each; KV 327,680 B per token (80 layers x 2 x
    // 8 x 128 x 2 B), a quarter per device: 4 x 128k tokens add 40 GiB, past vLLM's budget of
    // about 30 GiB; 4 x 1k tokens 0.3 GiB
    expect(r.stdout).toMatch(/1k\s+│ yes/);
    expect(r.stdout).toMatch(/128k\s+│ NO/);
    expect(r.stdout).toMatch(/context=128k .*does not fit/);
  });

  it('--format svg writes a standalone SVG with the memory parts, capacity and each curve', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-size-sweep-'));
    const file = join(dir, 'sweep.svg');
    const r = await cli([...base, '--over', 'batch=1,2,4..256', '--format', 'svg', '--output', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const svg = readFileSync(file, 'utf8');
    const tags = checkXml(svg);
    expect(svg).toMatch(/<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(tags.filter((t) => t === 'line' || t === 'rect').length).toBeGreaterThan(9 * 4);
    // 9 points x 4 memory parts, 9 capacity ticks, 3 curves
    expect(svg.match(/class="part"/g)).toHaveLength(36);
    expect(svg.match(/class="capacity"/g)).toHaveLength(9);
    for (const s of ['weights', 'KV cache', 'activations', 'overhead', 'Time to first token', 'Time per output token', 'Output tokens per second']) expect(svg).toContain(`data-series="${s}"`);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('svg to stdout when no --output is given', async () => {
    const r = await cli([...base, '--over', 'batch=1,8', '--format', 'svg']);
    checkXml(r.stdout);
  });

  it.each([
    [['--over', 'batch=1,2', '--batch', '4'], /--over batch and --batch both given/],
    [[], /--over is required/],
    [['--over', 'batch=1,2', '--over', 'context=1k,2k', '--over', 'count=1,2'], /at most two inputs/],
  ])('bad input %j exits 2', async (args, message) => {
    const r = await cli([...base, ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('csv has one row per point with exact values', async () => {
    const r = await cli([...base, '--over', 'batch=1,2', '--format', 'csv']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0].split(',').slice(0, 3)).toEqual(['batch', 'fits', 'memory.perDevice.weights']);
    // 8,030,261,248 params x 2 B (bf16)
    expect(lines[1].split(',').slice(0, 3)).toEqual(['1', 'true', '16060522496']);
  });
});
