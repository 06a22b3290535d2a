import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { co2eKg } from '../src/estimate/carbon.js';
import { OUTPUT_SCHEMA, validateJson } from '../src/inputs/output-schema.js';
import { cli, cliJson, expectBadInput } from './helpers.js';

describe('carbon: energy x PUE x grid intensity', () => {
  it('1 kWh at 400 g/kWh with PUE 1.2 is 0.48 kg (by hand)', () => {
    expect(co2eKg(3.6e6, { gco2PerKwh: 400, pue: 1.2, source: '', pueSource: '' })).toBeCloseTo(0.48, 12);
  });

  it('estimate --region gcp-us-central1 --pue 1.1: per request and per million output tokens from the energy figures', async () => {
    const e = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--region', 'gcp-us-central1', '--pue', '1.1']);
    const f = e.figures;
    // Google Cloud region-carbon-info 2024.csv: us-central1 (Iowa) 412.72 gCO2eq/kWh
    const kgPerJoule = (1.1 / 3.6e6) * (412.72 / 1000);
    expect(f['energy.co2eKg'].value).toBeCloseTo(f['energy.joulesPerRequest'].value * kgPerJoule, 15);
    expect(f['energy.co2eKgPerMillionOutputTokens'].value).toBeCloseTo(f['energy.joulesPerMillionOutputTokens'].value * kgPerJoule, 12);
    expect(f['energy.co2eKgPerMillionInputTokens'].value).toBeCloseTo(f['energy.joulesPerMillionInputTokens'].value * kgPerJoule, 12);
    expect(f['energy.co2eKg'].unit).toBe('kgCO2e');
    expect(f['energy.co2eKg'].source).toMatch(/us-central1.*2024/);
    expect(validateJson(OUTPUT_SCHEMA, e)).toEqual([]);
  });

  it('--grid-gco2-per-kwh gives the intensity directly; PUE defaults to 1 (devices only)', async () => {
    const f = (await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--grid-gco2-per-kwh', '100'])).figures;
    expect(f['energy.co2eKg'].value).toBeCloseTo((f['energy.joulesPerRequest'].value / 3.6e6) * 0.1, 15);
    expect(f['energy.co2eKg'].inputs.pue).toBe(1);
  });

  it('no intensity, no carbon figures; --pue alone warns', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--pue', '1.2', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).figures['energy.co2eKg']).toBeUndefined();
    expect(r.stderr).toMatch(/--pue scales the carbon figures/);
  });

  it('train: train.co2eKg = train.energy x PUE x intensity (US average 2022, 390 g/kWh)', async () => {
    const t = await cliJson(['train', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--count', '64', '--zero', '3', '--tokens', '1t', '--region', 'us', '--pue', '1.2']);
    // EIA 2022: 1,650 Mt CO2 / 4,230,672 GWh = 390 g/kWh
    expect(t.figures['train.co2eKg'].value).toBeCloseTo((t.figures['train.energy'].value / 3.6e6) * 1.2 * 0.39, 6);
  });

  it('a spec file takes region and pue', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-size-carbon-'));
    const spec = join(dir, 'spec.yaml');
    writeFileSync(spec, 'model: llama-3.1-8b\ngpu: h100\nregion: gcp-europe-north1\npue: 1.1\n');
    const f = (await cliJson(['estimate', '--spec', spec])).figures;
    expect(f['energy.co2eKg'].inputs.gco2PerKwh).toBe(39.32);
  });

  it('presets list regions lists dated intensities and validates against the schema', async () => {
    const doc = await cliJson(['presets', 'list', 'regions']);
    expect(doc.regions.find((r: { id: string }) => r.id === 'world')).toMatchObject({ gco2PerKwh: 480, year: 2023 });
    expect(doc.regions.length).toBeGreaterThanOrEqual(40);
    for (const r of doc.regions) expect(r.source).not.toBe('');
    expect(validateJson(OUTPUT_SCHEMA, doc)).toEqual([]);
  });

  it.each([
    [['--region', 'atlantis'], /unknown grid region .*"atlantis"/],
    [['--region', 'us', '--grid-gco2-per-kwh', '300'], /give --region or --grid-gco2-per-kwh, not both/],
    [['--grid-gco2-per-kwh', '-3', '--pue', '1.1'], /--grid-gco2-per-kwh: invalid value "-3"/],
    [['--grid-gco2-per-kwh', 'lots'], /--grid-gco2-per-kwh: invalid value "lots"/],
    [['--region', 'us', '--pue', '0.9'], /--pue: 0.9 is below 1, the energy of the IT load itself \(at least 1\)/],
    [['--region', 'us', '--pue', 'NaN'], /--pue: invalid value "NaN"/],
  ])('bad input %j is exit 2 naming the flag', async (flags, message) => {
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100', ...flags], message);
  });
});
