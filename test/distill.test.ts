import { describe, expect, it } from 'vitest';
import { CALIBRATION } from '../src/estimate/calibration.js';
import { forwardFlopsPerToken } from '../src/estimate/distill.js';
import { WHOLE_RUN_GOODPUT } from '../src/estimate/training.js';
import { findEntry } from '../src/inputs/catalog.js';
import { OUTPUT_SCHEMA, validateJson } from '../src/inputs/output-schema.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { cliJson, expectBadInput } from './helpers.js';

const model = (id: string) => findEntry(builtInCatalog().models, id)!.model;

describe('train --method distill', () => {
  it('teacher forward FLOPs per token by hand: 2 x matrix params + causal attention (Llama-3.1-8B at 8192)', () => {
    const f = forwardFlopsPerToken(model('llama-3.1-8b'), 8192);
    // matrix params = 8,030,261,248 - 525,336,576 (input embedding, a lookup); attention 4 x 32 heads x 128 x 32 layers x (8192 + 1) / 2 keys
    expect(f.matmul).toBe(8_030_261_248 - 128_256 * 4096);
    expect(f.flops).toBeCloseTo(2 * f.matmul + 4 * 32 * 128 * 32 * (8193 / 2), 0);
  });

  it('reproduces a published distillation budget within the training band: Llama 3.2 logit generation, 86k H100 GPU-hours', async () => {
    // Llama 3.2 model card (meta-llama/Llama-3.2-1B README, "Training Energy Use"): logits from
    // Llama 3.1 8B and 70B, "Logit Generation Time (GPU Hours)" total 86k on H100-80GB;
    // pre-training "on up to 9T tokens" at 8K context. Read as Llama 3.1 8B logits over the 9T tokens.
    const t = await cliJson(['train', '--method', 'distill', '--teacher', 'llama-3.1-8b', '--model', 'llama-3.2-1b', '--gpu', 'h100', '--count', '1024', '--teacher-gpu', 'h100', '--teacher-count', '1024', '--tokens', '9t', '--seq-len', '8192', '--zero', '1', '--global-batch', '1024']);
    // the card counts the whole job's GPU time: the teacher's passes at the whole-run goodput
    // (training.ts WHOLE_RUN_GOODPUT, Llama 3 paper sec. 3.3.4), as train.deviceHoursWithGoodput does
    const predicted = t.figures['distill.teacherDeviceHours'].value / WHOLE_RUN_GOODPUT.value;
    const ratio = 86_000 / predicted; // measured / predicted, as the bands are defined
    expect(ratio).toBeGreaterThanOrEqual(CALIBRATION.bands.training.low);
    expect(ratio).toBeLessThanOrEqual(CALIBRATION.bands.training.high);
    // the student's training hours (card: 370k for 1B) are several times a compute-bound
    // prediction: recorded in docs/distillation.md as outside the band, not tuned away
    expect(370_000 / t.figures['train.deviceHours'].value).toBeGreaterThan(CALIBRATION.bands.training.high);
    expect(validateJson(OUTPUT_SCHEMA, t)).toEqual([]);
  });

  it('co-located: the teacher\'s bf16 weights and fp32 logits sit on the student\'s devices; totals add up; serving student vs teacher with payback', async () => {
    const t = await cliJson(['train', '--method', 'distill', '--teacher', 'llama-3.1-8b', '--model', 'llama-3.2-1b', '--gpu', 'h100', '--count', '8', '--tokens', '10b', '--seq-len', '4096', '--zero', '1']);
    const f = t.figures;
    expect(f['memory.perDevice.teacherWeights'].value).toBe(8_030_261_248 * 2);
    expect(f['memory.perDevice.teacherLogits'].value).toBe(1 * 4096 * 128_256 * 4);
    expect(f['memory.perDevice'].parts).toContain('memory.perDevice.teacherWeights');
    expect(f['distill.totalDeviceHours'].value).toBeCloseTo(f['distill.teacherDeviceHours'].value + f['train.deviceHours'].value, 9);
    expect(f['distill.totalUsd'].value).toBeCloseTo(f['distill.teacherUsd'].value + f['train.usd'].value, 6);
    expect(f['distill.studentUsdPerMillionOutputTokens'].value).toBeLessThan(f['distill.teacherUsdPerMillionOutputTokens'].value);
    expect(f['distill.paybackMillionOutputTokens'].value).toBeCloseTo(f['distill.totalUsd'].value / f['distill.savingsUsdPerMillionOutputTokens'].value, 6);
    expect(t.input.training.method).toBe('distill');
  });

  it('synthetic data: the teacher generates the tokens at its serving throughput', async () => {
    const f = (await cliJson(['train', '--method', 'distill', '--distill-data', 'synthetic', '--teacher', 'llama-3.1-70b', '--model', 'llama-3.2-1b', '--gpu', 'h100', '--count', '8', '--tokens', '1b', '--teacher-tokens', '100m'])).figures;
    expect(f['distill.teacherTokens'].value).toBe(100e6);
    expect(f['distill.teacherFlopsPerToken']).toBeUndefined();
    expect(f['distill.teacherSeconds'].inputs.devicesPerReplica).toBeGreaterThan(1); // 70B needs several H100s
  });

  it('a pruned student of the teacher (Minitron: prune, then distill)', async () => {
    const f = (await cliJson(['train', '--method', 'distill', '--teacher', 'llama-3.1-8b', '--model', 'llama-3.1-8b', '--prune', 'layers=16', '--gpu', 'h100', '--count', '32', '--tokens', '94b', '--zero', '1'])).figures;
    expect(f['params.total'].value).toBe(8_030_261_248 - 16 * 218_112_000);
  });

  it.each([
    [['--method', 'distill'], /--method distill needs --teacher/],
    [['--teacher', 'llama-3.1-8b'], /--teacher: for --method distill \(the method is full\)/],
    [['--method', 'distill', '--teacher', 'bge-m3'], /BGE-M3 is an embedding model; a teacher for --method distill is a generator/],
    [['--method', 'distill', '--teacher', 'llama-3.1-8b', '--distill-data', 'vibes'], /--distill-data: unknown value "vibes"/],
  ])('bad input %j is exit 2', async (flags, message) => {
    await expectBadInput(['train', '--model', 'llama-3.2-1b', '--gpu', 'h100', '--tokens', '1b', ...flags], message);
  });
});
