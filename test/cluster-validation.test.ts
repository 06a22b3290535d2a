import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadCatalog, loadSuite, predictResolved, resolveMeasurement } from '../scripts/accuracy-lib.js';
import { CALIBRATION } from '../src/estimate/calibration.js';

// validation/cases/cluster-scale.yaml: SGLang's DeepSeek-V3 deployment on 96 x H100 with PD
// disaggregation, DP attention and EP (lmsys.org/blog/2025-05-05-large-scale-ep: 52.3k input and
// 22.3k output tokens/s per node; per-phase 57,674 / 54,543 / 50,302 input tokens/s per node at
// 1K / 2K / 4K prompts) and the same setup for Kimi K2 on 128 x H200 (24k output tokens/s per node).
const root = fileURLToPath(new URL('..', import.meta.url));
const { catalog } = loadCatalog(root);
const cases = loadSuite(`${root}validation/cases`).filter((m) => m.file.endsWith('cluster-scale.yaml') && !m.unpredictable);

describe('cluster-scale validation: published per-node throughput within the suite\'s band', () => {
  it('has the 96 x H100 prefill and decode cases', () => {
    expect(cases.map((m) => m.id)).toEqual(expect.arrayContaining(['sglang-lsep-96xh100-prefill-2k', 'sglang-lsep-96xh100-decode-2k']));
  });

  // The bands are the 5th-95th percentile of the held-out residuals (about 90% coverage,
  // docs/accuracy.md). Known miss outside them: DeepSeek's prefill profile runs two micro-batches
  // that overlap the all-to-all with compute, which the step model charges in series (-27%).
  const OUTSIDE = new Set(['deepseek-profile-h800-prefill-4k']);
  it.each(cases.map((m) => [m.id, m] as const))('%s', (_id, m) => {
    const r = resolveMeasurement(m, catalog);
    if (!r.ok) throw new Error(r.reason);
    const p = predictResolved(r, m.metric, CALIBRATION);
    expect(p.low, 'the figure carries a band').toBeDefined();
    if (OUTSIDE.has(m.id)) {
      expect(m.measured > p.high! || m.measured < p.low!, 'a known miss: update OUTSIDE once the model covers it').toBe(true);
      return;
    }
    expect(m.measured).toBeGreaterThanOrEqual(p.low!);
    expect(m.measured).toBeLessThanOrEqual(p.high!);
  });
});
