import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrivalTimes, lengthSampler, meanTokens, seededRandom, type LengthDistribution } from '../src/estimate/workload.js';
import { lengthDistribution, readTrace, WORKLOADS, WORKLOAD_IDS } from '../src/inputs/traffic.js';
import { cli, cliJson, expectBadInput } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'llm-size-traffic-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const parse = (value: string, side: 'input' | 'output' = 'output') => lengthDistribution({ value, where: '--output-tokens' }, side, new Map());

const sampleMean = (d: LengthDistribution, n = 200_000, seed = 7) => {
  const draw = lengthSampler(d, seededRandom(seed));
  let total = 0;
  for (let i = 0; i < n; i++) total += draw();
  return total / n;
};

describe('length distributions', () => {
  it.each([
    ['1024', { kind: 'fixed', value: 1024 }],
    ['32k', { kind: 'fixed', value: 32768 }],
    ['uniform:128..2048', { kind: 'uniform', min: 128, max: 2048 }],
    ['uniform:1k..2k', { kind: 'uniform', min: 1024, max: 2048 }],
    ['lognormal:mean=1024,sd=600', { kind: 'lognormal', mean: 1024, sd: 600, min: 1, max: 10_000_000 }],
    ['lognormal:mean=1200,sd=1500,max=8k', { kind: 'lognormal', mean: 1200, sd: 1500, min: 1, max: 8192 }],
    ['zipf:s=1.1,min=16,max=8192', { kind: 'zipf', s: 1.1, min: 16, max: 8192 }],
  ])('%s parses', (text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it.each([
    // (128 + 2048) / 2
    [{ kind: 'uniform', min: 128, max: 2048 } as const, 1088],
    // P(k) ~ 1/k on 1..3: (1 + 1 + 1) / (1 + 1/2 + 1/3) = 3 / (11/6) = 18/11
    [{ kind: 'zipf', s: 1, min: 1, max: 3 } as const, 18 / 11],
    [{ kind: 'fixed', value: 300 } as const, 300],
  ])('mean of %o is %f by hand', (d, expected) => {
    expect(meanTokens(d)).toBeCloseTo(expected, 9);
  });

  it('an unclamped log-normal keeps its stated mean', () => {
    expect(meanTokens(parse('lognormal:mean=1024,sd=600'))).toBeCloseTo(1024, 2);
  });

  it.each(['uniform:128..2048', 'lognormal:mean=1024,sd=600', 'lognormal:mean=1200,sd=1500,max=4000', 'lognormal:mean=400,sd=900,min=100,max=2000', 'zipf:s=1.1,min=16,max=8192'])('%s: 200,000 draws average within 1%% of the computed mean', (text) => {
    const d = parse(text);
    expect(sampleMean(d) / meanTokens(d)).toBeCloseTo(1, 1);
    expect(Math.abs(sampleMean(d) / meanTokens(d) - 1)).toBeLessThan(0.01);
  });

  it('draws are whole tokens within the bounds, and a seed repeats them', () => {
    const d = parse('lognormal:mean=1200,sd=1500,min=10,max=4000');
    const a = lengthSampler(d, seededRandom(42));
    const b = lengthSampler(d, seededRandom(42));
    const c = lengthSampler(d, seededRandom(43));
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs.every((x) => Number.isInteger(x) && x >= 10 && x <= 4000)).toBe(true);
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
  });

  it.each([
    ['lognormal:mean=5', /lognormal needs mean= and sd=/],
    ['uniform:10..5', /ends before it starts/],
    ['zipf:s=1', /zipf needs s=/],
    ['zipf:s=1,max=1e9', /max must be a whole number of tokens from 1 to 10000000/],
    ['zipf:s=1,max=4000000', /a zipf law spans at most 2097152 lengths/],
    ['gauss:mean=4', /unknown distribution "gauss"/],
    ['lognormal:mean=100,sd=-1', /sd must be/],
    ['0', /expected a number of tokens/],
    ['uniform:0..5', /the low end must be a whole number/],
  ])('%s is bad input', async (value, message) => {
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--output-tokens', value], message);
  });
});

describe('arrivals', () => {
  const gaps = (t: Float64Array) => Array.from(t.slice(1), (x, i) => x - t[i]);
  const stats = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
    return { mean: m, cv: sd / m };
  };
  it.each([
    ['poisson', { kind: 'poisson' } as const, 1],
    ['gamma cv 2', { kind: 'gamma', cv: 2 } as const, 2],
    ['gamma cv 0.5', { kind: 'gamma', cv: 0.5 } as const, 0.5],
  ])('%s: mean gap 1/qps and the stated coefficient of variation', (_, a, cv) => {
    const s = stats(gaps(arrivalTimes(a, 10, 100_001, seededRandom(3))));
    expect(Math.abs(s.mean / 0.1 - 1)).toBeLessThan(0.02);
    expect(Math.abs(s.cv / cv - 1)).toBeLessThan(0.04);
  });

  it('constant arrivals are evenly spaced', () => {
    expect(Array.from(arrivalTimes({ kind: 'constant' }, 4, 3, seededRandom(1)))).toEqual([0, 0.25, 0.5]);
  });

  it('a trace replays its times, rescaled to --qps, and repeats after its span', () => {
    const trace = { kind: 'trace', times: [0, 1, 3], file: 't' } as const;
    expect(Array.from(arrivalTimes(trace, undefined, 5, seededRandom(1)))).toEqual([0, 1, 3, 4.5, 5.5]);
    // 2 gaps in 3 s is 2/3 requests/s; at 2 requests/s the times shrink 3x
    expect(Array.from(arrivalTimes(trace, 2, 3, seededRandom(1)))).toEqual([0, 1 / 3, 1]);
  });
});

describe('traces', () => {
  it('reads a BurstGPT-style CSV, leaving out failed requests', () => {
    const path = file('burst.csv', 'Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n5,ChatGPT,472,18,490,Conversation log\n45,ChatGPT,1087,0,1087,Conversation log\n118,GPT-4,417,217,634,Conversation log\n');
    const t = readTrace(path, '--input-tokens');
    expect(t.input).toEqual({ column: 'Request tokens', values: [472, 417] });
    expect(t.output).toEqual({ column: 'Response tokens', values: [18, 217] });
    expect(t.times).toMatchObject({ column: 'Timestamp', values: [0, 113], reading: 'seconds' });
    expect(t.skipped).toBe(1);
  });

  it('reads a Mooncake JSONL trace with its timestamps in milliseconds', () => {
    const path = file('mooncake.jsonl', '{"timestamp": 0, "input_length": 6758, "output_length": 500, "hash_ids": [0, 1]}\n{"timestamp": 3000, "input_length": 2290, "output_length": 316, "hash_ids": [0]}\n');
    const t = readTrace(path, '--input-tokens');
    expect(t.times).toMatchObject({ values: [0, 3], reading: 'milliseconds (the Mooncake trace format)' });
    expect(t.input!.values).toEqual([6758, 2290]);
  });

  it('estimate with a trace uses its mean request and says so', async () => {
    const path = file('vidur.csv', 'arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,374,44\n4.3,396,109\n');
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--input-tokens', `trace:${path}`, '--output-tokens', `trace:${path}`, '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    // (374 + 396) / 2 = 385; (44 + 109) / 2 = 76.5 -> 77
    expect(doc.input.workload).toMatchObject({ inputTokens: 385, outputTokens: 77, context: 462 });
    expect(r.stderr).toMatch(/figures are for the mean request, 385 in \/ 77 out/);
  });

  it.each([
    ['a missing file', () => '/nonexistent/trace.csv', /cannot read file/],
    ['no length column', () => file('nolen.csv', 'a,b\n1,2\n'), /no column of request lengths/],
    ['a negative length', () => file('neg.csv', 'input_tokens,output_tokens\n-3,5\n'), /is not a token count/],
    ['decreasing times', () => file('back.csv', 'timestamp,input_tokens,output_tokens\n5,1,1\n2,1,1\n'), /arrival times must not decrease/],
    ['broken JSON', () => file('broken.jsonl', '{"input_length": 3\n'), /not a JSON object/],
  ])('%s is bad input', async (_, path, message) => {
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--input-tokens', `trace:${path()}`], message);
  });
});

describe('workload presets', () => {
  it.each(WORKLOAD_IDS)('%s parses and cites a source', (id) => {
    const w = WORKLOADS[id];
    expect(w.source.length).toBeGreaterThan(40);
    expect(parse(w.inputTokens, 'input').kind).not.toBe('fixed');
    expect(parse(w.outputTokens).kind).not.toBe('fixed');
  });

  it('chat keeps the Azure conversation trace means: 1,155 in / 211 out', async () => {
    const doc = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--workload', 'chat']);
    expect(doc.input.workload).toMatchObject({ inputTokens: 1155, outputTokens: 211 });
  });

  it('a flag overrides the preset on its side only', async () => {
    const doc = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--workload', 'chat', '--output-tokens', '500']);
    expect(doc.input.workload).toMatchObject({ inputTokens: 1155, outputTokens: 500 });
  });

  it('fixed numbers give exactly the figures they always did', async () => {
    const a = await cliJson(['estimate', '--model', 'llama-3.1-8b']);
    const b = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--input-tokens', '1024', '--output-tokens', '256']);
    expect(b.figures).toEqual(a.figures);
    expect(b.warnings).toEqual(a.warnings);
  });
});
