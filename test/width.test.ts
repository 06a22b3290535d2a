import { describe, expect, it } from 'vitest';
import { run } from '../src/cli.js';
import { cli } from './helpers.js';

const longest = (text: string): number => Math.max(...text.split('\n').map((l) => l.length));

// Issue 18: at COLUMNS=80 the estimate table was 89 columns wide, plan 217, sweep 150.
describe('output fits the terminal', () => {
  it.each([
    ['estimate', ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm']],
    ['estimate with load and cost', ['estimate', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--tp', '2', '--qps', '5', '--amortize-years', '3', '--usd-per-kwh', '0.1']],
    ['plan', ['plan', '--model', 'llama-3.1-70b', '--qps', '20', '--ttft', '1s', '--tpot', '50ms']],
    ['plan with nothing meeting the targets', ['plan', '--model', 'llama-3.1-405b', '--qps', '50', '--ttft', '1s', '--tpot', '50ms', '--hardware', 'h100-sxm,mi300x']],
    ['sweep', ['sweep', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--over', 'batch=1,2,4..256']],
    ['sweep over two inputs', ['sweep', '--model', 'llama-3.1-8b', '--over', 'gpu=h100-sxm,l4', '--over', 'context=1k..32k']],
    ['train', ['train', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--count', '8', '--tokens', '1b']],
    ['presets list', ['presets', 'list', 'hardware']],
    ['presets show (hardware, sources wrapped)', ['presets', 'show', 'h100-sxm']],
    ['presets show (model)', ['presets', 'show', 'deepseek-v3']],
    ['simulate', ['simulate', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--qps', '5', '--requests', '200']],
    ['simulate over a load range', ['simulate', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--qps', '1..10', '--requests', '200']],
  ])('COLUMNS=80 %s prints no line longer than 80 characters, warnings included', async (_name, args) => {
    const r = await cli(args, { COLUMNS: '80' });
    expect(r.code, r.stderr).toBe(0);
    expect(longest(r.stdout)).toBeLessThanOrEqual(80);
    expect(longest(r.stderr)).toBeLessThanOrEqual(80);
  });

  it('COLUMNS=60 still fits', async () => {
    for (const args of [['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm'], ['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--tpot', '50ms', '--top', '3']]) {
      expect(longest((await cli(args, { COLUMNS: '60' })).stdout)).toBeLessThanOrEqual(60);
    }
  });

  it('--wide keeps one line per row; piped output without COLUMNS keeps full lines', async () => {
    const args = ['plan', '--model', 'llama-3.1-70b', '--qps', '20', '--ttft', '1s', '--tpot', '50ms', '--top', '2'];
    const wide = await cli([...args, '--wide'], { COLUMNS: '80' });
    const piped = await cli(args);
    expect(longest(wide.stdout)).toBeGreaterThan(120);
    expect(piped.stdout).toBe(wide.stdout);
    expect(piped.stdout).toMatch(/^Reproduce: llm-size estimate .* --context 1280$/m);
  });

  it('on a terminal the table fits the terminal width; COLUMNS overrides it', async () => {
    const at = async (env: Record<string, string>, columns: number) => {
      let out = '';
      await run(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm'], { out: (s) => (out += s), err: () => {}, env: { NO_COLOR: '1', ...env }, isTty: true, columns });
      return longest(out);
    };
    expect(await at({}, 70)).toBeLessThanOrEqual(70);
    expect(await at({ COLUMNS: '100' }, 70)).toBeGreaterThan(70);
  });

  it('a narrow plan keeps each row whole: deployment, formats and what bounds it in one cell', async () => {
    const r = await cli(['plan', '--model', 'llama-3.1-70b', '--qps', '20', '--ttft', '1s', '--tpot', '50ms', '--top', '1'], { COLUMNS: '80' });
    expect(r.stdout).toMatch(/│ # │ deployment +│ +TTFT │ +TPOT │ +USD\/h │ USD\/M out │/);
    expect(r.stdout).toMatch(/bound by/);
    // launch commands stay pasteable: broken before an option with a trailing backslash
    expect(r.stdout).toMatch(/^ {2}vllm serve \S+ .*\\$/m);
  });
});
