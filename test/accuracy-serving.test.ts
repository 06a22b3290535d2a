import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog, loadSuite, predictResolved, resolveMeasurement } from '../scripts/accuracy-lib.js';
import { CALIBRATION } from '../src/estimate/calibration.js';
import { evaluateServing, loadServingSuite, SERVING_METRICS, servingGroup, servingReport } from '../scripts/accuracy-serving.js';

const casesDir = fileURLToPath(new URL('../validation/cases', import.meta.url));
const root = fileURLToPath(new URL('../', import.meta.url));

describe('serving-percentile cases (validation/cases/serving-percentiles.yaml)', () => {
  const suite = loadServingSuite(casesDir);
  const rows = evaluateServing(suite, loadCatalog(root).catalog);

  it('hold at least six published benchmark runs, each measurement with source, trust and a known metric', () => {
    expect(new Set(suite.map((m) => m.caseId)).size).toBeGreaterThanOrEqual(6);
    for (const m of suite) {
      expect(m.source, m.id).not.toBe('');
      expect(['high', 'medium', 'low'], m.id).toContain(m.trust);
      expect(Object.keys(SERVING_METRICS), m.id).toContain(m.metric);
      expect(Number.isFinite(m.measured) && m.measured > 0, m.id).toBe(true);
    }
    const ids = suite.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('are read as simulate options; a measurement overrides them and null removes one', () => {
    const first = suite.find((m) => m.id === 'azure-nd96asr-llama33-70b-tp8-vllm-sharegpt-q1-ttftP99')!;
    expect(first.options).toMatchObject({ model: 'llama-3.3-70b', gpu: 'a100-40gb', tp: '8', pp: '1', engine: 'vllm', qps: '1', requests: '200', seed: '0', maxNumBatchedTokens: '2048' });
    expect(first.options.count).toBeUndefined();
    const burst = suite.find((m) => m.id === 'azure-nd96asr-llama33-70b-tp8-vllm-sharegpt-qinf-tpotP50')!;
    expect(burst.options).toMatchObject({ concurrency: '200' });
    expect(burst.options.qps).toBeUndefined();
  });

  it('stay out of the fitted suite (accuracy-lib loadSuite)', () => {
    const fitted = new Set(loadSuite(casesDir).map((m) => m.id));
    for (const m of suite) expect(fitted.has(m.id), m.id).toBe(false);
  });

  it('every measurement not marked unpredictable is simulated, within a factor of two unless it is a known miss (which must still miss by more than 1.5x, or lose its note)', () => {
    for (const r of rows) {
      if (r.m.unpredictable) continue;
      expect(r.skipped, r.m.id).toBeUndefined();
      const miss = Math.abs(Math.log(r.predicted! / r.m.measured));
      if (r.m.knownMiss) expect(miss, `${r.m.id} is marked a known miss`).toBeGreaterThan(Math.log(1.5));
      else expect(miss, r.m.id).toBeLessThan(Math.log(2));
    }
    expect(rows.filter((r) => r.predicted !== undefined).length).toBeGreaterThanOrEqual(60);
  });

  it('NIM at one client: the simulator reproduces the estimator\'s own case (TTFT and ITL within 2% of estimate), and the measured mean lies in the estimator\'s band', () => {
    const { catalog } = loadCatalog(root);
    const fitSuite = loadSuite(casesDir);
    for (const [id, own] of [['nim180-2xh100-llama33-70b-fp8-tp2-5000x500-clients-c1-ttftMean', 'nim180-2xh100-llama33-70b-fp8-tp2-5000x500-c1'], ['nim180-2xh100-llama33-70b-fp8-tp2-5000x500-clients-c1-itlMean', 'nim180-2xh100-llama33-70b-fp8-tp2-5000x500-c1-itl']] as const) {
      const r = rows.find((x) => x.m.id === id)!;
      const m = fitSuite.find((x) => x.id === own)!;
      const resolved = resolveMeasurement(m, catalog);
      if (!resolved.ok) throw new Error(resolved.reason);
      const e = predictResolved(resolved, m.metric, CALIBRATION);
      expect(Math.abs(r.predicted! / e.value - 1), id).toBeLessThan(0.02);
      expect(r.m.measured, id).toBeGreaterThanOrEqual(e.low!);
      expect(r.m.measured, id).toBeLessThanOrEqual(e.high!);
    }
  });

  it('the report groups errors by figure and run, and lists what is not predictable with the reason', () => {
    expect(servingGroup('ttftP99')).toBe('TTFT tail (p90-p99)');
    expect(servingGroup('tpotP50')).toBe('TPOT mean and median');
    expect(servingGroup('outputTokensPerSecond')).toBe('throughput');
    const text = servingReport(rows).join('\n');
    expect(text).toMatch(/^## Serving percentiles \(simulate\)/);
    expect(text).toMatch(/\| nim180-2xh100-llama33-70b-fp8-tp2-5000x500-clients \| 24 \|/);
    expect(text).toMatch(/Not predictable:[\s\S]*prefix caching on/);
  });
});
