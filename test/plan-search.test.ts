import { describe, expect, it } from 'vitest';
import { estimate, estimateWithStep, probeByEstimate, probeServing } from '../src/estimate/index.js';
import { prefillFlops, tokenFlops } from '../src/estimate/flops.js';
import { latencySeconds } from '../src/estimate/latency.js';
import { planConfigs, searchPlans, type PlanResult } from '../src/estimate/plan.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { runPlan, type PlanRawOptions } from '../src/inputs/resolve-plan.js';
import { resolveEstimate } from '../src/inputs/resolve.js';

// The plan search's shortcuts must not change its answer: the latency curve it re-times from one
// estimate's step model equals full estimates to the last bit, and its rows equal those of the
// reference search that runs the full estimator everywhere and prunes nothing.

const catalog = builtInCatalog();

describe('a deployment re-timed at another batch (latency.ts latencySeconds) equals a full estimate there', () => {
  const models = ['llama-3.1-8b', 'llama-3.1-70b', 'deepseek-v3', 'mixtral-8x7b', 'gemma-2-9b', 'qwen3-next-80b-a3b', 'gpt-oss-120b'].filter((id) => catalog.models.some((m) => m.id === id));
  const cases = models.flatMap((model) =>
    [
      { gpu: 'h100-sxm', count: '8' },
      { gpu: 'mi300x', count: '1' },
      { gpu: 'a100-80gb', count: '4', pp: '2' },
    ].flatMap((hw) => [1, 3, 64, 1000].flatMap((batch) => [true, false].map((loaded) => ({ model, ...hw, batch, loaded })))),
  );
  it('covers models of every attention kind', () => expect(models.length).toBeGreaterThanOrEqual(5));

  it.each(cases)('$model on $count x $gpu (pp $pp), batch $batch, under load $loaded', ({ model, gpu, count, pp, batch, loaded }) => {
    const raw = { model, gpu, count, ...(pp ? { pp, tp: String(Number(count) / Number(pp)) } : {}), ...(loaded ? { concurrency: String(batch) } : { batch: String(batch) }) };
    const { input } = resolveEstimate(pp ? { ...raw, count: undefined } : raw, {}, catalog);
    const { estimate: full } = estimateWithStep(input);
    // the step model of the same deployment at one sequence, as plan takes it from its first estimate
    const one = estimateWithStep({ ...input, workload: { ...input.workload, batch: 1 }, ...(loaded ? { load: { concurrency: 1, replicasGiven: true } } : {}) });
    const f = full.figures;
    const t = tokenFlops(input.model, f['params.active'].value, f['params.embedding'].value);
    const prefill = prefillFlops(input.model, t, input.workload.batch, input.workload.inputTokens).total;
    expect(prefill).toBe(f['flops.prefill'].value);
    const l = latencySeconds(one.step, input.model, input.workload, { prefill, decodePerToken: f['flops.decodePerToken'].value }, loaded);
    expect([l.ttft, l.tpot, l.e2e]).toEqual([f['latency.ttft'].value, f['latency.tpot'].value, f['latency.e2e'].value]);
  });
});

describe("a search's evaluation of a configuration (index.ts probeServing) equals its full estimate", () => {
  // every configuration plan searches for these requests, at one request and at a batch, with
  // and without load: dense, MoE with expert and attention data parallelism, hybrid, speculative
  // decoding, a prefix cache, quantized weights and KV on every device of the catalogue
  const requests: [string, PlanRawOptions][] = [
    ['70B', { model: 'llama-3.1-70b', qps: '20', ttft: '1s', tpot: '50ms', price: '2' }],
    ['DeepSeek-V3', { model: 'deepseek-v3', qps: '5', ttft: '2s', tpot: '100ms', price: '2' }],
    ['Qwen3-Next, hybrid', { model: 'qwen3-next-80b-a3b', qps: '5', tpot: '50ms', price: '2' }],
    ['8B with EAGLE-3 and a prefix cache', { model: 'llama-3.1-8b', qps: '5', tpot: '50ms', price: '2', speculative: 'eagle3', acceptedLength: '3', prefixTokens: '512', cacheHitRate: '0.8' }],
  ].filter(([, raw]) => catalog.models.some((m) => m.id === raw.model)) as [string, PlanRawOptions][];
  it.each(requests)('%s', (_name, raw) => {
    const { request } = runPlan({ ...raw, disaggregated: 'off' }, {}, catalog);
    const configs = planConfigs(request);
    expect(configs.length).toBeGreaterThan(100);
    let fitting = 0;
    for (const { input } of configs) {
      for (const variant of [input, { ...input, workload: { ...input.workload, batch: 7 }, load: { concurrency: 7, replicasGiven: true } }, { ...input, load: undefined }]) {
        const fast = probeServing(variant);
        const full = probeByEstimate(variant);
        expect([fast.fits, fast.maxConcurrency, fast.latency, fast.flops.prefill, fast.flops.decodePerToken]).toEqual([full.fits, full.maxConcurrency, full.latency, full.flops.prefill, full.flops.decodePerToken]);
        if (full.fits) fitting++;
      }
    }
    expect(fitting).toBeGreaterThan(0);
  });
});

/** What identifies a row and what it costs. */
const rowsOf = (r: PlanResult) => r.rows.map((x) => [x.hardware, x.weights, x.kv, x.tp, x.pp, x.ep, x.replicas, x.concurrencyPerReplica, x.usdPerMillionOutputTokens]);

describe('the plan search ranks as the reference search that shortcuts nothing', () => {
  // A fixed catalogue: the built-in hardware at one price (every device searched), and the
  // built-in prices; loads by rate and by concurrency; targets that bind and that do not.
  const requests: [string, PlanRawOptions][] = [
    ['70B at 20 req/s, every device at $2/h', { model: 'llama-3.1-70b', qps: '20', ttft: '1s', tpot: '50ms', price: '2' }],
    ['70B at 20 req/s, list prices', { model: 'llama-3.1-70b', qps: '20', ttft: '1s', tpot: '50ms' }],
    ['8B at 50 req/s, tight TPOT', { model: 'llama-3.1-8b', qps: '50', ttft: '500ms', tpot: '20ms', price: '2' }],
    ['8B at 64 in flight', { model: 'llama-3.1-8b', concurrency: '64', tpot: '40ms', price: '2' }],
    ['DeepSeek-V3 at 5 req/s', { model: 'deepseek-v3', qps: '5', ttft: '2s', tpot: '100ms' }],
    ['70B, nothing meets 5 ms TPOT', { model: 'llama-3.1-70b', qps: '1', tpot: '5ms', price: '2' }],
  ];
  it.each(requests)('%s', (_name, raw) => {
    const { request, result } = runPlan(raw, {}, catalog);
    const reference = searchPlans({ ...request, exhaustive: true }, (i) => estimate(i));
    expect(rowsOf(result)).toEqual(rowsOf(reference));
    expect(result.closest?.row.hardware).toBe(reference.closest?.row.hardware);
    expect(result.closest?.failing).toEqual(reference.closest?.failing);
    // the shortcuts are real: fewer full estimates than configurations
    expect(result.configurationsSearched).toBe(reference.configurationsSearched);
  });
});

describe('estimate --qps (load.ts) settles on the batch a fixed point over full estimates gives', () => {
  it.each([
    ['llama-3.1-8b', 'h100-sxm', '1', '20', undefined],
    ['llama-3.1-70b', 'h100-sxm', '4', '20', undefined],
    ['llama-3.1-70b', 'a100-80gb', '8', '5', '2'],
    ['deepseek-v3', 'h200', '8', '3', undefined],
    ['mixtral-8x7b', 'mi300x', '2', '50', '3'],
  ].filter(([model]) => catalog.models.some((m) => m.id === model)))('%s on %s x %s at %s req/s, replicas %s', (model, gpu, count, qps, replicas) => {
    const { input } = resolveEstimate({ model, gpu, count, qps, ...(replicas ? { replicas } : {}) }, {}, catalog);
    const solved = estimate(input);
    const layout = solved.input.parallel!;
    const at = (c: number) => estimate({ ...input, workload: { ...input.workload, batch: c }, parallel: layout, load: { ...input.load, concurrency: c * layout.replicas } });
    const one = at(1);
    const cap = Math.max(1, one.figures['capacity.maxConcurrency'].value);
    let c = 1;
    let e = one;
    for (let i = 0; i < 200; i++) {
      const need = Math.max(1, Math.ceil((Number(qps) / layout.replicas) * e.figures['latency.e2e'].value - 1e-9));
      if (need === c) break;
      if (need > cap) {
        c = cap;
        e = at(cap);
        break;
      }
      c = need;
      e = at(c);
    }
    expect(solved.input.workload.batch).toBe(c);
    expect(solved.figures['latency.e2e'].value).toBe(e.figures['latency.e2e'].value);
    expect(JSON.stringify(solved.figures)).toBe(JSON.stringify(e.figures));
  });
});
