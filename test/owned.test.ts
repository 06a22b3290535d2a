import { describe, expect, it } from 'vitest';
import { ownedCost, OWNED_DEFAULT_HOSTING_USD_PER_KW_MONTH, OWNED_DEFAULT_PUE, OWNED_DEFAULT_USD_PER_KWH } from '../src/estimate/owned.js';
import { cli, cliJson, expectBadInput } from './helpers.js';

// Owned hardware against rents (issue 18 follow-up): an amortized purchase without its running
// costs was ranked first against on-demand rents (GB300 "(owned)" at 1.96 USD/h on top of every
// default plan). An owned price now carries electricity and colocation, and owned hardware is
// ranked apart from the rentals.
describe('owned hardware: purchase amortized + electricity + colocation', () => {
  it('GB300 by hand: 51,389 USD over 3 years, 1,400 W, the defaults', () => {
    const o = ownedCost(51389, 3, { value: 1400, source: 'test' });
    // 51,389 / 26,280 h = 1.955441 USD/h
    expect(o.amortizedUsdPerHour).toBeCloseTo(1.955441, 6);
    // server: 1,400 W x 10,200 / 5,600 (DGX H100: 10.2 kW for 8 x 700 W) = 2,550 W
    // electricity: 2.55 kW x PUE 1.56 x 0.0895 USD/kWh = 0.356031 USD/h
    expect(o.powerUsdPerHour).toBeCloseTo(2.55 * 1.56 * 0.0895, 12);
    expect(o.powerUsdPerHour).toBeCloseTo(0.356031, 6);
    // colocation: 2.55 kW x 184.06 USD per kW-month / 730 h = 0.642949 USD/h
    expect(o.hostingUsdPerHour).toBeCloseTo(0.642949, 6);
    expect(o.usdPerHour).toBeCloseTo(1.955441 + 0.356031 + 0.642949, 5);
    // the defaults are the cited figures
    expect([OWNED_DEFAULT_PUE.value, OWNED_DEFAULT_USD_PER_KWH.value, OWNED_DEFAULT_HOSTING_USD_PER_KW_MONTH.value]).toEqual([1.56, 0.0895, 184.06]);
  });

  it('your own premises: --pue 1, --hosting-usd-per-kw-month 0, --usd-per-kwh 0.30 (an RTX 4090 at home)', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'rtx-4090', '--amortize-years', '2', '--pue', '1', '--hosting-usd-per-kw-month', '0', '--usd-per-kwh', '0.30']);
    const f = out.figures;
    // 1,599 / 17,520 h = 0.091267; 450 W x 10.2/5.6 = 0.819643 kW x 0.30 = 0.245893 USD/h; no rent
    expect(f['cost.amortizedUsdPerDeviceHour'].value).toBeCloseTo(1599 / 17520, 12);
    expect(f['cost.electricityUsdPerDeviceHour'].value).toBeCloseTo(0.245893, 6);
    expect(f['cost.hostingUsdPerDeviceHour'].value).toBe(0);
    expect(f['cost.usdPerHour'].value).toBeCloseTo(1599 / 17520 + 0.245893, 6);
    // no warning that --pue needs a grid intensity: it prices the owned device here
    expect(out.warnings.join('\n')).not.toMatch(/--pue scales the carbon figures/);
  });

  it('--power-watts replaces the TDP in the running costs', async () => {
    const f = (await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'rtx-4090', '--amortize-years', '3', '--power-watts', '300'])).figures;
    // 300 W x 10.2/5.6 = 0.546429 kW x 1.56 x 0.0895 = 0.076292 USD/h
    expect(f['cost.electricityUsdPerDeviceHour'].value).toBeCloseTo(0.076292, 6);
  });

  it('a bad colocation price is exit 2 naming the flag', async () => {
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'rtx-4090', '--amortize-years', '3', '--hosting-usd-per-kw-month', '-5'], /--hosting-usd-per-kw-month/);
  });
});

describe('plan ranks rentals and owned hardware apart', () => {
  it('the default plan ranks rents only; the devices priced as owned are ranked apart with their running costs', async () => {
    const plan = await cliJson(['plan', '--model', 'llama-3.1-70b', '--qps', '20', '--ttft', '1s', '--tpot', '50ms', '--top', '5']);
    expect(plan.input.priceKind).toBe('on-demand');
    // no owned device among the ranked rows (GB300 was first here, against rents)
    expect(plan.rows.length).toBeGreaterThan(0);
    for (const r of plan.rows) {
      expect(['on-demand', 'marketplace']).toContain(r.priceKind);
      expect(r.capexUsd).toBeNull();
    }
    expect(plan.top.hardware).not.toBe('gb300');
    // every datacenter accelerator is still priced and searched
    expect(plan.input.hardware).toEqual(expect.arrayContaining(['gaudi2', 'gaudi3', 'gb300', 'mi300x', 'tpu-v5e']));
    expect(plan.owned.hardware).toEqual(['gaudi2', 'gaudi3', 'gb300']);
    const gb300 = plan.owned.rows[0];
    expect(gb300.priceKind).toBe('purchase');
    // the preset's server power, 120 kW per NVL72 rack / 72 = 1,667 W (no DGX ratio on top):
    // 1.955441 + 1.667 x 1.56 x 0.0895 (0.232747) + 1.667 x 184.06 / 730 (0.420312) = 2.608500 USD per GPU-hour
    expect(gb300.usdPerHour / gb300.devices).toBeCloseTo(1.955441 + 0.232747 + 0.420312, 5);
    expect(gb300.capexUsd).toBe(51389 * gb300.devices);
    expect(plan.owned.byHardware.map((h: any) => h.hardware)).toEqual(['gaudi2', 'gaudi3', 'gb300']);
    // Intel Gaudi has no engine profile: it was not searched, not priced out
    expect(plan.owned.byHardware.find((h: any) => h.hardware === 'gaudi2')).toMatchObject({ status: 'not-evaluated', text: expect.stringMatching(/^not searched: no engine profile runs it/) });
  });

  it('the table says which kind of price the rows rank by, and shows owned hardware apart', async () => {
    const r = await cli(['plan', '--model', 'llama-3.1-70b', '--qps', '20', '--ttft', '1s', '--tpot', '50ms', '--hardware', 'h100-sxm,gb300', '--top', '2', '--disaggregated', 'off']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Prices: on-demand rents/);
    expect(r.stdout).not.toMatch(/gb300 \(owned\) \d/);
    expect(r.stdout).toMatch(/Owned hardware, ranked apart from the rents \(gb300: no public rental price/);
    expect(r.stdout).toMatch(/ {2}gb300 \d+ x \d+ \(tp \d+\), [a-z0-9]+\/[a-z0-9]+: \$[\d.]+\/h, \$[\d.]+ per million output tokens; \$[\d,]+ to buy/);
    expect(r.stdout).toMatch(/Priced as owned hardware: \$1\.96\/h purchase amortized over 3 year\(s\) \+ \$0\.23\/h electricity \+ \$0\.42\/h colocation per device/);
  });

  it('--price-kind purchase ranks owned hardware only, together; the owned row reproduces with estimate', async () => {
    const plan = await cliJson(['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--tpot', '50ms', '--hardware', 'h100-sxm,rtx-4090', '--price-kind', 'purchase', '--pue', '1.2', '--hosting-usd-per-kw-month', '150', '--top', '3', '--disaggregated', 'off']);
    expect(plan.owned).toBeNull();
    for (const r of plan.rows) expect(r.priceKind).toBe('purchase');
    const top = plan.rows[0];
    expect(top.estimateCommand).toMatch(/--price-kind purchase --pue 1\.2 --hosting-usd-per-kw-month 150/);
    const args = top.estimateCommand.replace(/^llm-size /, '').split(' ');
    const again = await cliJson(args);
    expect(again.figures['cost.usdPerHour'].value * top.replicas).toBeCloseTo(top.usdPerHour, 9);
  });
});
