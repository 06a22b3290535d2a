import { describe, expect, it } from 'vitest';
import { compareWithApis } from '../src/estimate/api-compare.js';
import { cli, cliJson, expectBadInput } from './helpers.js';

describe('self-hosting against API prices (plan --compare-api)', () => {
  it('break-even by hand: 4 USD/h carrying 1 request/s of 1,024 in + 256 out against 1.04 / 1.04 per million', () => {
    const c = compareWithApis({ usdPerHour: 4, requestsPerSecond: 1, inputTokens: 1024, outputTokens: 256, cachedInputShare: 0 }, [
      { provider: 'together', usdPerMillionInput: 1.04, usdPerMillionOutput: 1.04, date: '2026-10-04', source: 'test' },
    ]);
    const r = c.rows[0]!;
    // one request: 1,280 tokens x 1.04 USD / 1e6 = 0.0013312 USD
    expect(r.apiUsdPerRequest).toBeCloseTo(0.0013312, 12);
    // at the load: 3,600 requests an hour = 4.79232 USD/h; 730 h = 3,498.3936 USD a month; self-hosting 2,920
    expect(r.apiUsdPerMonthAtLoad).toBeCloseTo(3498.3936, 6);
    expect(c.selfHostUsdPerMonth).toBe(2920);
    // break-even: 4 / 4.79232 = 0.834668...
    expect(r.breakEvenUtilisation).toBeCloseTo(4 / 4.79232, 12);
    // above 2,920 / 0.0013312 = 2,193,509.6 requests (x 1,280 = 2.81 billion tokens) a month
    expect(r.breakEvenRequestsPerMonth).toBeCloseTo(2193509.615, 2);
    expect(r.breakEvenTokensPerMonth).toBeCloseTo(2193509.615 * 1280, -1);
    expect(r.selfHostingCanBeCheaper).toBe(true);
  });

  it('cached input tokens at the cached price; a break-even above 1 says self-hosting never wins at this size', () => {
    const c = compareWithApis({ usdPerHour: 100, requestsPerSecond: 1, inputTokens: 1024, outputTokens: 256, cachedInputShare: 0.5 }, [
      { provider: 'deepseek', usdPerMillionInput: 0.27, usdPerMillionCachedInput: 0.07, usdPerMillionOutput: 1.1, date: '2025', source: 'test' },
    ]);
    // (512 x 0.27 + 512 x 0.07 + 256 x 1.10) / 1e6 = (138.24 + 35.84 + 281.6) / 1e6
    expect(c.rows[0]!.apiUsdPerRequest).toBeCloseTo(455.68e-6, 12);
    // 100 USD/h against 3,600 x 455.68e-6 = 1.640448 USD/h
    expect(c.rows[0]!.breakEvenUtilisation).toBeCloseTo(100 / 1.640448, 9);
    expect(c.rows[0]!.selfHostingCanBeCheaper).toBe(false);
  });

  it('plan --compare-api compares the top pick with every dated API price of the model', async () => {
    const plan = await cliJson(['plan', '--model', 'llama-3.3-70b', '--qps', '5', '--ttft', '1s', '--tpot', '50ms', '--hardware', 'h100-sxm', '--price', '2', '--compare-api']);
    const top = plan.rows[0];
    expect(top.usdPerHour).toBe(2 * top.devices);
    const together = plan.compareApi.rows.find((r: any) => r.provider === 'together');
    // by hand: usdPerHour / (5 requests/s x 3,600 x 1,280 tokens x 1.04 USD per million)
    expect(together.breakEvenUtilisation).toBeCloseTo(top.usdPerHour / (5 * 3600 * 1280 * 1.04e-6), 9);
    expect(plan.compareApi.rows.map((r: any) => r.provider)).toEqual(expect.arrayContaining(['together', 'deepinfra', 'novita', 'openrouter']));
    expect(plan.compareApi.figures['api.together.breakEvenUtilisation'].formula).toMatch(/selfHostUsdPerMonth \/ usdPerMonthAtLoad/);
    const table = await cli(['plan', '--model', 'llama-3.3-70b', '--qps', '5', '--ttft', '1s', '--tpot', '50ms', '--hardware', 'h100-sxm', '--price', '2', '--compare-api', '--top', '1']);
    expect(table.stdout).toMatch(/Against API prices of llama-3\.3-70b/);
    expect(table.stdout).toMatch(/together .* 2026-10-04 .* of load/);
  });

  it('a model without API prices is bad input naming those with prices', async () => {
    await expectBadInput(['plan', '--model', 'qwen3-8b', '--qps', '1', '--hardware', 'l4', '--compare-api'], /--compare-api: no API prices for .* \(models with prices: .*llama-3\.3-70b/);
  });
});
