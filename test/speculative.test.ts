import { describe, expect, it } from 'vitest';
import { CALIBRATION } from '../src/estimate/calibration.js';
import { rooflineSeconds } from '../src/estimate/efficiency.js';
import { tokensPerStep } from '../src/estimate/speculative.js';
import { cliJson, expectBadInput } from './helpers.js';

/**
 * Speculative decoding (src/estimate/speculative.ts, docs/levers.md). Expected values are
 * computed here from the cited formulas: Leviathan et al. 2023 eq. 1 for tokens per step, the
 * roofline of the verification pass over batch x (k + 1) tokens, and the drafters' sizes from
 * their published architectures.
 */
const fig = (d: any, id: string): number => {
  if (!d.figures[id]) throw new Error(`no figure ${id}`);
  return d.figures[id].value;
};
const base = ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'ideal'];

describe('tokens per step (Leviathan et al. 2023, eq. 1)', () => {
  it.each([
    // (1 - a^(k+1)) / (1 - a)
    [3, 0.8, (1 - 0.8 ** 4) / (1 - 0.8)], // 2.952
    [1, 0.85, 1.85], // DeepSeek-V3 MTP: one module, 85% acceptance
    [5, 0.5, (1 - 0.5 ** 6) / 0.5], // 1.96875
    [4, 1, 5], // every draft accepted: k + 1
  ])('k %d, a %d -> %d tokens', (draftTokens, acceptance, expected) => {
    expect(tokensPerStep({ draftTokens, acceptance })).toBeCloseTo(expected, 12);
  });

  it('takes the mean accepted length as given', () => {
    expect(tokensPerStep({ draftTokens: 3, acceptedLength: 2.6 })).toBe(2.6);
  });
});

describe('speculative step', () => {
  it('n-gram lookup with L = 2 halves the time per token of a memory-bound batch of one', async () => {
    // At batch 1 a dense model's verification of k + 1 = 4 tokens reads the same bytes as a
    // plain decode step (weights once, the sequence's KV once) and stays memory-bound; n-gram
    // drafting has no device work, so the step costs the plain step and yields 2 tokens. Its 4x
    // FLOPs add to the memory time only through the roofline's overlap (rooflineSeconds): under 1%.
    const plain = await cliJson(base);
    const spec = await cliJson([...base, '--speculative', 'ngram', '--accepted-length', '2']);
    const verify = spec.figures['speculative.verify'];
    expect(fig(spec, 'speculative.draft')).toBe(0);
    expect(verify.inputs.memorySeconds).toBeCloseTo(fig(plain, 'latency.decodeMemory'), 12);
    expect(verify.value).toBeCloseTo(rooflineSeconds(verify.inputs.computeSeconds, verify.inputs.memorySeconds, CALIBRATION.params.rooflineExponent), 12);
    expect(verify.value / fig(plain, 'latency.decodeRoofline')).toBeGreaterThanOrEqual(1);
    expect(verify.value / fig(plain, 'latency.decodeRoofline')).toBeLessThan(1.01);
    expect(fig(spec, 'latency.tpot') / (fig(plain, 'latency.tpot') / 2)).toBeCloseTo(1, 2);
    expect(fig(spec, 'speculative.speedup')).toBeCloseTo(2, 1);
    expect(fig(spec, 'speculative.baselineTpot')).toBe(fig(plain, 'latency.tpot'));
  });

  it('a compute-bound verification costs batch x (k + 1) tokens of decode FLOPs at the calibrated mfu', async () => {
    const batch = 512;
    const k = 3;
    const d = await cliJson([...base, '--batch', String(batch), '--speculative', 'ngram', '--draft-tokens', String(k), '--accepted-length', '1.5']);
    // every sequence at the mean context: verification FLOPs = b (k+1) x decode FLOPs per token
    const flops = batch * (k + 1) * fig(d, 'flops.decodePerToken');
    const tokens = batch * (k + 1);
    const { byClass, mfuHalfTokens } = CALIBRATION.params;
    const mfu = (byClass.gpu.mfuMax * tokens) / (tokens + mfuHalfTokens);
    const peak = 989.4e12; // H100 SXM dense BF16 (presets/hardware/h100-sxm.yaml)
    const verify = d.figures['speculative.verify'];
    expect(verify.label).toMatch(/compute-bound/);
    expect(verify.inputs.computeSeconds / (flops / (peak * mfu))).toBeCloseTo(1, 2);
    // the pass is the roofline of that compute time and its memory time (efficiency.ts rooflineSeconds)
    expect(verify.value).toBeCloseTo(rooflineSeconds(verify.inputs.computeSeconds, verify.inputs.memorySeconds, CALIBRATION.params.rooflineExponent), 12);
  });

  it('the gain shrinks as the batch grows and reverses once verification is compute-bound', async () => {
    const at = async (batch: number, length: string) => fig(await cliJson([...base, '--batch', String(batch), '--speculative', 'eagle3', '--accepted-length', length]), 'speculative.speedup');
    const speedups = [await at(1, '2.2'), await at(128, '2.2'), await at(512, '2.2')];
    expect(speedups[0]).toBeGreaterThan(1.5);
    expect(speedups[1]).toBeLessThan(speedups[0]);
    expect(speedups[2]).toBeLessThan(speedups[1]);
    expect(await at(512, '1.3')).toBeLessThan(1);
  });
});

describe('drafter memory', () => {
  it('EAGLE-3 head of Llama-3.1-8B: fc (3h x h) + a layer with 2h-wide q/k/v + a 32,000-token head, in bf16', async () => {
    const h = 4096;
    const q = 32 * 128;
    const kv = 8 * 128;
    const layer = 2 * h * (q + 2 * kv) + q * h + 3 * h * 14336 + 2 * h; // 243,277,824
    const params = 3 * h * h + layer + 32000 * h; // 424,681,472
    const d = await cliJson([...base, '--speculative', 'eagle3', '--acceptance', '0.7']);
    expect(fig(d, 'memory.speculative.weights')).toBe(params * 2);
    // its KV: one layer of 8 KV heads x 128 x 2 (K, V) x 2 bytes per token
    expect(fig(d, 'memory.speculative.kvCache')).toBe(1 * (1024 + 256) * 2 * 8 * 128 * 2);
  });

  it('EAGLE-1 head shares the target head: fc (2h x h) + one decoder layer', async () => {
    const h = 4096;
    const layer = h * (4096 + 2 * 1024) + 4096 * h + 3 * h * 14336 + 2 * h; // 218,112,000
    const d = await cliJson([...base, '--speculative', 'eagle', '--acceptance', '0.7']);
    expect(fig(d, 'memory.speculative.weights')).toBe((2 * h * h + layer) * 2);
  });

  it('a draft model adds its own weights and KV, and takes KV blocks from the same budget', async () => {
    const target = ['estimate', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--count', '4', '--engine', 'ideal'];
    const plain = await cliJson(target);
    const draft = await cliJson(['estimate', '--model', 'llama-3.2-1b', '--gpu', 'h100-sxm', '--engine', 'ideal']);
    const spec = await cliJson([...target, '--speculative', 'draft:llama-3.2-1b', '--acceptance', '0.75']);
    expect(fig(spec, 'memory.speculative.weights')).toBe(fig(draft, 'memory.weights'));
    expect(fig(spec, 'memory.speculative.kvCache')).toBe(fig(draft, 'memory.kvCache'));
    expect(fig(spec, 'memory.total')).toBeCloseTo(fig(plain, 'memory.total') + fig(draft, 'memory.weights') + fig(draft, 'memory.kvCache'), 0);
    expect(fig(spec, 'memory.kvCapacityTokens')).toBeLessThan(fig(plain, 'memory.kvCapacityTokens'));
  });

  it('DeepSeek-V3 MTP loads the MTP module (params.mtp) and defaults to one draft token at 85% acceptance', async () => {
    const d = await cliJson(['estimate', '--model', 'deepseek-v3', '--gpu', 'h200', '--count', '8', '--speculative', 'mtp']);
    expect(fig(d, 'speculative.tokensPerStep')).toBeCloseTo(1.85, 12);
    expect(d.figures['speculative.tokensPerStep'].inputs.draftTokens).toBe(1);
    // about one byte per parameter (fp8 blocks), more for the bf16 embedding and head copies
    const perParam = fig(d, 'memory.speculative.weights') / fig(d, 'params.mtp');
    expect(perParam).toBeGreaterThan(1);
    expect(perParam).toBeLessThan(1.5);
    expect(d.warnings.join('\n')).toMatch(/acceptance 0.85 assumed/);
  });
});

describe('speculative flags', () => {
  it.each([
    [['--speculative', 'mtp'], /ships no multi-token-prediction module/],
    [['--acceptance', '0.7'], /--acceptance needs --speculative/],
    [['--speculative', 'eagle'], /give --acceptance <a>.*or --accepted-length <L>/],
    [['--speculative', 'eagle', '--accepted-length', '5'], /more than the 4 tokens a step of 3 draft tokens can yield/],
    [['--speculative', 'eagle', '--acceptance', '0.7', '--accepted-length', '2'], /not both/],
    [['--speculative', 'medusa', '--acceptance', '0.7'], /unknown value "medusa".*accepted: eagle, eagle3, mtp, ngram, draft:<model>/],
    [['--speculative', 'draft:nope', '--acceptance', '0.7'], /unknown model preset/],
    [['--speculative', 'eagle', '--acceptance', '1.5'], /more than 100%/],
    [['--speculative', 'eagle', '--draft-tokens', '65', '--acceptance', '0.5'], /at most 64/],
  ])('%j is exit 2', async (flags, message) => {
    await expectBadInput([...base, ...flags], message);
  });

  it('is refused by simulate rather than ignored', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/llm-size-spec-');
    writeFileSync(`${dir}/s.yaml`, 'model: llama-3.1-8b\nspeculative: eagle3\nacceptance: 0.7\n');
    await expectBadInput(['simulate', '--spec', `${dir}/s.yaml`, '--qps', '1'], /simulate does not model the serving levers/);
  });
});
