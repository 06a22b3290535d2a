import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

const HINT = /--context sets the tokens the KV cache holds per sequence, not the prompt: the prompt is still 1024 tokens \(TTFT and prefill are for it\); --input-tokens sets the prompt length/;

// Issue 18: `sweep --over context=8k..128k` showed the same TTFT at every point without a hint.
describe('--context is not the prompt', () => {
  it('a sweep over --context with the prompt at its default says so once', async () => {
    const r = await cli(['sweep', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--over', 'context=8k..128k']);
    expect(r.stderr.match(new RegExp(HINT.source, 'g'))).toHaveLength(1);
  });

  it.each([
    ['estimate --context 32k', ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--context', '32k'], true],
    ['plan --context 32k', ['plan', '--model', 'llama-3.1-8b', '--qps', '1', '--hardware', 'h100-sxm', '--context', '32k'], true],
    ['--input-tokens given', ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--context', '32k', '--input-tokens', '30000'], false],
    ['a sweep over --input-tokens', ['sweep', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--over', 'input-tokens=1k..8k', '--context', '16k'], false],
    ['no --context', ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm'], false],
  ])('%s: hint %s', async (_name, args, hinted) => {
    const r = await cli(args as string[]);
    expect(r.code, r.stderr).toBe(0);
    expect(HINT.test(r.stderr)).toBe(hinted);
  });
});
