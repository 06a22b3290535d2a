import { describe, expect, it } from 'vitest';
import { estimate } from '../src/estimate/index.js';
import { resolvePeak } from '../src/estimate/peak.js';
import { findEntry } from '../src/inputs/catalog.js';
import type { HardwareSpec } from '../src/inputs/hardware.js';
import { makeModel } from '../src/inputs/model.js';
import { activationFormat, FORMAT_IDS, FORMATS } from '../src/inputs/precision.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { cli, cliJson } from './helpers.js';

const catalog = builtInCatalog();
const hw = (name: string): HardwareSpec => {
  const found = findEntry(catalog.hardware, name);
  if (!found) throw new Error(`no preset ${name}`);
  return found;
};

describe('the hardware catalogue', () => {
  // Ids the issue names, and the aliases people type.
  it.each([
    'v100-sxm2-32gb', 't4', 'a10g', 'l4', 'l40s', 'a100-40gb', 'a100-80gb', 'a100-80gb-pcie', 'h100-sxm', 'h100-pcie', 'h100-nvl', 'h200', 'h800', 'b200', 'gb200', 'b300',
    'rtx-3090', 'rtx-4090', 'rtx-5090', 'rtx-6000-ada', 'jetson-agx-orin', 'mi250x', 'mi300x', 'mi325x', 'mi355x',
    'tpu-v4', 'tpu-v5e', 'tpu-v5p', 'tpu-v6e', 'tpu-v7', 'gaudi2', 'gaudi3', 'm2-ultra', 'm3-max', 'm4-max',
  ])('has %s', (id) => {
    expect(catalog.hardware.some((h) => h.id === id)).toBe(true);
  });

  it.each([
    ['h100', 'h100-sxm'],
    ['a100', 'a100-80gb'],
    ['H100', 'h100-sxm'],
  ])('alias %s finds %s', (alias, id) => {
    expect(hw(alias).id).toBe(id);
  });

  it('every profile has a source on every value and capacity, bandwidth and a 16/32-bit peak known', () => {
    for (const h of catalog.hardware) {
      const sourced = [h.memoryBytes, h.memoryBandwidth, h.tdpWatts, h.runtimeOverheadBytes, h.efficiency.mfu, h.efficiency.mbu, h.efficiency.stepOverheadSeconds, ...Object.values(h.compute)];
      for (const s of sourced) expect(s!.source.trim().length, h.id).toBeGreaterThan(0);
      expect(h.memoryBytes.value, h.id).toBeGreaterThan(0);
      expect(h.memoryBandwidth.value, h.id).toBeGreaterThan(0);
      expect(['bf16', 'fp16', 'fp32', 'tf32'].some((c) => h.compute[c as 'bf16']?.value), h.id).toBe(true);
    }
  });

  it('no profile quotes a with-sparsity peak as dense: fp8 at most 2x bf16, fp4 at most 4x fp8', () => {
    // Dense tensor peaks double per halving of precision (H100: bf16 989.5, fp8 1979 TFLOP/s);
    // a with-sparsity figure would be 2x more. fp32 here is the non-tensor rate (H100: 67).
    for (const h of catalog.hardware) {
      const bf16 = h.compute.bf16?.value ?? h.compute.fp16?.value;
      const fp8 = h.compute.fp8?.value;
      // datasheets round each figure: Gaudi 2 865 / 432, L40S 733 / 362.05 (NVIDIA L40S datasheet)
      if (bf16 && fp8) expect(fp8 / bf16, h.id).toBeLessThanOrEqual(2.05);
      const fp4 = h.compute.fp4?.value;
      // B300: fp4 13.5 vs fp8 4.5 PFLOP/s dense; RTX 5090: fp4 1676 vs fp8 419 (fp32-accumulate rate, GeForce runs it at half speed; NVIDIA GB202 whitepaper)
      if (fp8 && fp4) expect(fp4 / fp8, h.id).toBeLessThanOrEqual(4.0001);
    }
  });
});

describe('precision support per device (issue 4 acceptance)', () => {
  it('fp8 on an A100 runs weight-only at the bf16 peak and warns', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'a100-80gb', '--precision', 'fp8', '--format', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.input.precision.compute).toBe('bf16');
    // weights stay fp8 in memory (fp8 Marlin keeps fp8 weights): the same bytes as on an H100
    const h100 = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--precision', 'fp8']);
    expect(out.figures['memory.weights'].value).toBe(h100.figures['memory.weights'].value);
    expect(out.figures['memory.weights'].value).toBeLessThan(8_030_261_248 * 2 * 0.6);
    // A100 dense BF16: 312 TFLOP/s (NVIDIA A100 datasheet, 624 with sparsity)
    expect(out.figures['latency.prefillCompute'].inputs.peakFlopsPerSecond).toBe(312e12);
    expect(out.warnings.join('\n')).toMatch(/fp8 weights on NVIDIA A100 80GB SXM4 \(Ampere, sm_80\) weight-only through FP8 Marlin: dequantized to bf16/);
    expect(r.stderr).toMatch(/warning: .*fp8/);
  });

  it.each([
    // [device, weights, compute class used, why]
    ['h100-sxm', 'fp8', 'fp8', 'Hopper has fp8 tensor cores'],
    ['a100-80gb', 'int8', 'int8', 'Ampere has int8 tensor cores (W8A8)'],
    ['t4', 'bf16', 'fp16', 'Turing has no bf16: engines cast to fp16'],
    ['v100-sxm2-32gb', 'fp8', 'fp16', 'Volta: weight-only fp8, fp16 compute'],
    ['h100-sxm', 'nvfp4', 'bf16', 'Hopper has no fp4: NVFP4 Marlin weight-only, 16-bit compute'],
    ['b200', 'nvfp4', 'fp4', 'Blackwell has fp4 tensor cores'],
    ['tpu-v5e', 'fp16', 'bf16', 'TPUs compute bf16, not fp16'],
    ['tpu-v5e', 'fp32', 'bf16', 'XLA runs fp32 matmuls as bf16 passes at default precision'],
  ])('%s with %s weights computes at the %s peak (%s)', (device, weights, cls) => {
    if (!(weights in FORMATS)) return; // format not in this build
    const f = FORMATS[weights as keyof typeof FORMATS];
    expect(resolvePeak(hw(device), f, activationFormat(f)).cls).toBe(cls);
  });
});

describe('every preset x every precision x batch 1..256 gives finite, non-negative figures', () => {
  // A small Llama-like model (2 layers, hidden 512) so the sweep is quick and always fits.
  const model = makeModel({ id: 'tiny', name: 'tiny', layers: 2, hidden: 512, heads: 8, kvHeads: 2, ffn: 1536, vocab: 32_000 });
  const cases = catalog.hardware.flatMap((h) => FORMAT_IDS.map((p) => [h.id, p] as const));
  it.each(cases)('%s, %s', (id, precision) => {
    const weights = FORMATS[precision];
    const activations = activationFormat(weights);
    for (const batch of [1, 8, 256]) {
      for (const count of [1, 2]) {
        const e = estimate({ model, weights, kv: activations, activations, workload: { batch, inputTokens: 512, outputTokens: 128, context: 640 }, hardware: hw(id), count, price: { usdPerHour: 2, source: 'test' }, usdPerKwh: 0.1 });
        for (const f of Object.values(e.figures)) {
          expect(Number.isFinite(f.value), `${f.id} batch ${batch} count ${count}`).toBe(true);
          expect(f.value, `${f.id} batch ${batch} count ${count}`).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });
});

describe('--provider picks a dated price', () => {
  it('uses the named provider and says so', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--provider', 'lambda']);
    const lambda = hw('h100-sxm').prices.filter((p) => p.provider === 'lambda');
    expect(lambda.length).toBeGreaterThan(0);
    expect(out.figures['cost.usdPerHour'].value).toBe(lambda[0].usdPerHour);
    expect(out.figures['cost.usdPerHour'].source).toMatch(/^lambda .*\d{4}-\d{2}/);
  });

  it.each([
    ['an unknown provider lists the known ones', ['--gpu', 'h100-sxm', '--provider', 'nowhere'], /--provider: no price for NVIDIA H100 SXM5 80GB from "nowhere" \(providers with prices: .*aws/],
    ['--price with --provider', ['--gpu', 'h100-sxm', '--provider', 'aws', '--price', '2'], /give --price or --provider, not both/],
  ])('%s', async (_name, args, message) => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});

describe('a bf16 model on a device without bf16 (T4, V100) runs as fp16, with a note', () => {
  it.each([
    // dense fp16 tensor peaks: T4 65 TFLOP/s (NVIDIA T4 datasheet), V100 SXM2 125 TFLOP/s (V100 datasheet)
    ['t4', 'NVIDIA T4 16GB'],
    ['v100-sxm2-32gb', 'NVIDIA Tesla V100 SXM2 32GB'],
  ])('%s: compute at the fp16 peak and a warning naming the cast (vLLM casts bfloat16 to float16 below compute capability 8.0)', async (gpu, name) => {
    const out = await cliJson(['estimate', '--model', 'llama-3.2-1b', '--gpu', gpu, '--precision', 'bf16']);
    expect(out.figures['latency.prefillCompute'].inputs.peakClass).toBe('fp16');
    expect(out.figures['latency.prefillCompute'].inputs.peakFlopsPerSecond).toBe(hw(gpu).compute.fp16!.value);
    expect(out.warnings.join('\n')).toContain(`${name} has no native bf16 matrix units: bf16 matrix products run in fp16, at the fp16 peak`);
    const table = await cli(['estimate', '--model', 'llama-3.2-1b', '--gpu', gpu, '--precision', 'bf16']);
    expect(table.stdout).toMatch(/weights bf16, KV bf16, compute fp16/);
  });
});
