import { describe, expect, it } from 'vitest';
import { cliJson } from './helpers.js';

/**
 * plan with the serving levers (docs/levers.md): it tries speculative decoding beside plain
 * decoding on every deployment and keeps it only where it pays (cheaper, or as cheap and
 * faster); a prefix cache applies to every deployment; launch lines carry the engines' flags.
 */
const plan = ['plan', '--model', 'llama-3.1-8b', '--hardware', 'h100-sxm,l40s', '--top', '3'];

describe('plan picks speculative decoding where it pays', () => {
  it('at a light load an EAGLE-3 head with L = 2.5 wins, and the launch lines say so', async () => {
    const d = await cliJson([...plan, '--qps', '2', '--tpot', '30ms', '--accepted-length', '2.5']);
    expect(d.top.speculative).toBe('eagle3');
    const vllm = d.top.launch.find((l: any) => l.engine.startsWith('vllm')).command;
    expect(vllm).toContain(`--speculative-config '{"method":"eagle3","model":"<EAGLE-3 head for the model>","num_speculative_tokens":3}'`);
    const sglang = d.top.launch.find((l: any) => l.engine.startsWith('sglang')).command;
    expect(sglang).toContain('--speculative-algorithm EAGLE3');
    expect(sglang).toContain('--speculative-num-steps 3');
    expect(sglang).toContain('--speculative-num-draft-tokens 4');
    expect(d.top.estimateCommand).toContain('--speculative eagle3 --draft-tokens 3 --accepted-length 2.5');
    expect(d.top.why).toMatch(/speculative decoding \(eagle3\) \d\.\d\dx faster per token/);
  });

  it('at a heavy load where verification is compute-bound, plain decoding is cheaper and wins', async () => {
    const d = await cliJson(['plan', '--model', 'llama-3.1-8b', '--hardware', 'h100-sxm', '--concurrency', '2000', '--tpot', '100ms', '--accepted-length', '1.6', '--top', '3']);
    expect(d.top.speculative).toBeNull();
    expect(d.top.launch.find((l: any) => l.engine.startsWith('vllm')).command).not.toContain('--speculative-config');
  });
});

describe('plan with prefix caching', () => {
  it('sizes every deployment with the cache, launches vLLM with --enable-prefix-caching and bills the cached share at the API', async () => {
    const d = await cliJson([...plan, '--qps', '2', '--tpot', '50ms', '--prefix-tokens', '800', '--compare-api']);
    expect(d.top.figures['prefix.cachedTokens'].value).toBe(800); // 50 blocks of 16
    expect(d.top.launch.find((l: any) => l.engine.startsWith('vllm')).command).toContain('--enable-prefix-caching');
    expect(d.compareApi.cachedInputShare).toBeCloseTo(800 / 1024, 12);
  });

  it('--cached-input-discount prices cached tokens where an API lists no cached price', async () => {
    const d = await cliJson([...plan, '--qps', '2', '--tpot', '50ms', '--prefix-tokens', '800', '--compare-api', '--cached-input-discount', '0.5']);
    const row = d.compareApi.rows.find((r: any) => r.provider === 'openrouter');
    // (1024 x (1 - s) x 0.05 + 1024 x s x 0.05 x 0.5 + 256 x 0.08) / 1e6 with s = 800 / 1024
    const s = 800 / 1024;
    expect(row.apiUsdPerRequest).toBeCloseTo((1024 * (1 - s) * 0.05 + 1024 * s * 0.025 + 256 * 0.08) / 1e6, 15);
  });
});
