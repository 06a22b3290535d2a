import { describe, expect, it } from 'vitest';
import { DOMAINS, outsideDomain } from '../src/inputs/domains.js';
import { oneLine, quote, UserError } from '../src/errors.js';
import { cli, expectBadInput } from './helpers.js';

/**
 * Issue 11: every reproduction of the hardening table exits 0 or 2 with one line and no stack
 * trace. Each row is one reproduction as filed; bad input is exit 2 naming the flag, the value
 * and the bound of its domain (src/inputs/domains.ts).
 */
describe('issue 11 reproductions: values outside their domain are one-line exit 2', () => {
  it.each([
    ['--params 1e21 (V8 abort)', ['estimate', '--params', '1e21'], /--params: 1e21 is larger than any model this tool sizes \(at most 1e15\)/],
    ['--params 1e21 in plan', ['plan', '--params', '1e21', '--qps', '1'], /--params: 1e21 is larger than any model/],
    ['--params 1e21 in train', ['train', '--params', '1e21'], /--params: 1e21 is larger than any model/],
    ['--params 1e21 in sweep', ['sweep', '--params', '1e21', '--over', 'batch=1,2'], /--params: 1e21 is larger than any model/],
    ['--micro-batch 1e6k (heap exhaustion)', ['train', '--model', 'mixtral-8x7b', '--micro-batch', '1e6k'], /--micro-batch: 1e6k is a larger batch than this tool sizes \(at most 1000000\)/],
    ['--qps 1e16 (hang)', ['plan', '--model', 'llama-3.1-8b', '--hardware', 'h100-sxm,l4', '--qps', '1e16'], /--qps: 1e16 is more requests per second than this tool sizes/],
    ['--micro-batch 4294967296 (hang)', ['train', '--model', 'deepseek-v3', '--micro-batch', '4294967296'], /--micro-batch: 4294967296 is a larger batch/],
    ['--micro-batch 7b (RangeError in fitSuggestions)', ['train', '--model', 'gemma-3-4b', '--micro-batch', '7b'], /--micro-batch: 7b is a larger batch/],
    ['--mfu 5e-324', ['estimate', '--model', 'llama-3.1-8b', '--mfu', '5e-324'], /--mfu: 5e-324 is below the smallest efficiency this tool models \(at least 0\.001\)/],
    ['--mbu 5e-324', ['estimate', '--model', 'llama-3.1-8b', '--mbu', '5e-324'], /--mbu: 5e-324 is below the smallest efficiency/],
    ['--context 1e308', ['estimate', '--model', 'llama-3.1-8b', '--context', '1e308'], /--context: 1e308 is longer than any context this tool sizes/],
    ['--batch 1e308', ['estimate', '--model', 'llama-3.1-8b', '--batch', '1e308'], /--batch: 1e308 is a larger batch/],
    ['--price 1e308', ['estimate', '--model', 'llama-3.1-8b', '--price', '1e308'], /--price: 1e308 is more than any device-hour costs/],
    ['--power-watts 1e308', ['estimate', '--model', 'llama-3.1-8b', '--power-watts', '1e308'], /--power-watts: 1e308 is more power than any device draws/],
    ['--tokens 1e308', ['train', '--model', 'llama-3.1-8b', '--tokens', '1e308'], /--tokens: 1e308 is more tokens than any training run/],
    ['--seq-len 1e308', ['train', '--model', 'llama-3.1-8b', '--seq-len', '1e308'], /--seq-len: 1e308 is longer than any context/],
    ['--qps 5e-324', ['estimate', '--model', 'llama-3.1-8b', '--qps', '5e-324'], /--qps: 5e-324 is less than one request in 11 days/],
    ['--ffn 1e308', ['estimate', '--layers', '2', '--hidden', '64', '--heads', '4', '--ffn', '1e308', '--vocab', '100'], /--ffn: 1e308 is wider than any MLP/],
    ['--head-dim 1e308', ['estimate', '--layers', '2', '--hidden', '64', '--heads', '4', '--head-dim', '1e308', '--ffn', '100', '--vocab', '100'], /--head-dim: 1e308 is larger than any head dimension/],
    ['--vocab 1e308', ['estimate', '--layers', '2', '--hidden', '64', '--heads', '4', '--ffn', '100', '--vocab', '1e308'], /--vocab: 1e308 is larger than any vocabulary/],
    ['--params 1.5M (negative figures)', ['estimate', '--params', '1.5M', '--format', 'json'], /--params: 1\.5M is smaller than the smallest shape this tool assumes .*give the architecture instead/],
    ['--params 125m in train (negative figures)', ['train', '--params', '125m', '--format', 'json'], /--params: 125m is smaller than the smallest shape/],
    ['an architecture over 1e15 parameters', ['estimate', '--layers', '10000', '--hidden', '1000000', '--heads', '1000', '--ffn', '1000000', '--vocab', '1000'], /the architecture has 7\.00e\+16 parameters, larger than any model this tool sizes/],
    ['--kv-heads not dividing --heads', ['estimate', '--layers', '2', '--hidden', '64', '--heads', '4', '--kv-heads', '3', '--ffn', '100', '--vocab', '100'], /--kv-heads 3 must divide --heads 4/],
  ])('%s', async (_name, args, message) => {
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
