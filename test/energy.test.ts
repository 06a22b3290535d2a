import { describe, expect, it } from 'vitest';
import { energyFigures, MEMORY_BOUND_POWER_FRACTION, powerFractionOfTdp } from '../src/estimate/energy.js';
import type { EstimateInput } from '../src/estimate/input.js';
import type { Figures } from '../src/estimate/terms.js';
import { findEntry } from '../src/inputs/catalog.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { cli, cliJson } from './helpers.js';

const h100 = findEntry(builtInCatalog().hardware, 'h100-sxm')!;
const m2 = findEntry(builtInCatalog().hardware, 'm2-ultra')!;

/** Figures the energy estimator reads, with round numbers so the results are easy by hand. */
function figures(): Figures {
  const f = (id: string, value: number) => ({ id, label: id, value, unit: 's' as const, formula: '', inputs: {}, source: '' });
  return {
    'flops.prefill': { ...f('flops.prefill', 0.5 * 989.5e12 * 0.1), unit: 'FLOP' }, // half the H100 bf16 peak for 0.1 s
    'flops.decodePerToken': { ...f('flops.decodePerToken', 0), unit: 'FLOP' },
    'latency.prefillRoofline': f('latency.prefillRoofline', 0.1),
    'latency.decodeRoofline': f('latency.decodeRoofline', 0.01),
  };
}

const input = (over: Partial<EstimateInput> = {}) =>
  ({ workload: { batch: 4, inputTokens: 1000, outputTokens: 101, context: 1101 }, count: 2, hardware: h100, ...over }) as EstimateInput;
const lat = { ttft: 0.1, tpot: 0.01, e2e: 0.1 + 100 * 0.01, bounds: { prefill: 'compute', decode: 'memory' } as const };

describe('energy', () => {
  it.each([
    [0, 300 / 700],
    [0.5, 300 / 700 + (400 / 700) * 0.5],
    [1, 1],
    [3, 1],
  ])('utilisation %d draws %d of TDP', (u, fraction) => {
    expect(powerFractionOfTdp(u)).toBeCloseTo(fraction, 12);
  });

  it('charges prefill power to input tokens and decode power to output tokens (by hand)', () => {
    const fig = figures();
    expect(energyFigures(fig, input({ usdPerKwh: 0.2 }), lat, 989.5e12)).toBe(true);
    // H100 TDP 700 W. Decode: u = 0 -> 300 W. Prefill: u = 0.5 / count 2 = 0.25 -> 300 + 400 x 0.25 = 400 W.
    expect(fig['energy.decodePowerPerDevice'].value).toBeCloseTo(300, 9);
    expect(fig['energy.prefillPowerPerDevice'].value).toBeCloseTo(400, 9);
    // output: 300 W x 2 devices x 0.01 s / 4 sequences x 1e6 = 1.5e6 J per million output tokens
    expect(fig['energy.joulesPerMillionOutputTokens'].value).toBeCloseTo(1.5e6, 3);
    // input: 400 W x 2 x 0.1 s / (4 x 1000) x 1e6 = 20,000 J per million input tokens
    expect(fig['energy.joulesPerMillionInputTokens'].value).toBeCloseTo(20_000, 6);
    // request: 2 x (400 x 0.1 + 300 x 1.0) / 4 = 170 J
    expect(fig['energy.joulesPerRequest'].value).toBeCloseTo(170, 9);
    // electricity: 1.5e6 J / 3.6e6 J per kWh x 0.2 USD = 0.08333 USD per million output tokens
    expect(fig['cost.electricityUsdPerMillionOutputTokens'].value).toBeCloseTo(1.5e6 / 3.6e6 * 0.2, 12);
    expect(fig['energy.decodePowerPerDevice'].approximate).toBe(true);
    expect(fig['energy.decodePowerPerDevice'].source).toContain(MEMORY_BOUND_POWER_FRACTION.source);
  });

  it('--power-watts replaces the TDP heuristic and is exact', () => {
    const fig = figures();
    energyFigures(fig, input({ powerWatts: 500 }), lat, 989.5e12);
    expect(fig['energy.prefillPowerPerDevice'].value).toBe(500);
    expect(fig['energy.joulesPerMillionOutputTokens'].value).toBeCloseTo((500 * 2 * 0.01 * 1e6) / 4, 6);
    expect(fig['energy.joulesPerMillionOutputTokens'].approximate).toBeUndefined();
    expect(fig['cost.electricityUsdPerMillionOutputTokens']).toBeUndefined();
  });

  it('adds nothing when neither TDP nor --power-watts is known (Apple publishes no TDP)', () => {
    expect(m2.tdpWatts.value).toBeNull();
    const fig = figures();
    expect(energyFigures(fig, input({ hardware: m2 }), lat, 27.2e12)).toBe(false);
    expect(Object.keys(fig).filter((k) => k.startsWith('energy'))).toEqual([]);
  });
});

describe('energy on the command line', () => {
  it('reports energy and, with --usd-per-kwh, electricity cost', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--usd-per-kwh', '0.12']);
    const j = out.figures['energy.joulesPerMillionOutputTokens'];
    expect(j.unit).toBe('J');
    expect(out.figures['cost.electricityUsdPerMillionOutputTokens'].value).toBeCloseTo((j.value / 3.6e6) * 0.12, 12);
    // decode at batch 1 leaves the tensor cores nearly idle: close to the 300 W floor, below TDP
    expect(out.figures['energy.decodePowerPerDevice'].value).toBeGreaterThanOrEqual(300);
    expect(out.figures['energy.decodePowerPerDevice'].value).toBeLessThan(700);
  });

  it('warns when no power figure is known and electricity is asked for', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.2-1b', '--gpu', 'm2-ultra', '--usd-per-kwh', '0.3']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no TDP known for Apple M2 Ultra.*--power-watts/);
  });

  it.each([
    ['--power-watts', 'lots', /--power-watts: invalid value "lots"; expected average power per device in watts/],
    ['--usd-per-kwh', '-1', /--usd-per-kwh: invalid value "-1"/],
  ])('%s %s is bad input', async (flag, value, message) => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', flag, value]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
