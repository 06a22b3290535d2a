import { describe, expect, it } from 'vitest';
import { builtInCatalog } from '../src/inputs/presets.js';
import { CALIBRATION } from '../src/estimate/calibration.js';
import { rooflineSeconds } from '../src/estimate/efficiency.js';
import { cliJson } from './helpers.js';

/**
 * CPUs as hardware (presets/hardware, kind cpu; docs/levers.md): bandwidth is DRAM channels x
 * transfer rate x 8 bytes, peaks are cores x base clock x operations per cycle per core, each
 * factor from the vendor's page or optimisation guide.
 */
const hw = (id: string) => builtInCatalog().hardware.find((h) => h.id === id)!;
const fig = (d: any, id: string): number => d.figures[id].value;

describe('cpu presets', () => {
  it.each([
    ['epyc-9654', 12, 4800, 460.8e9],
    ['epyc-9755', 12, 6000, 576e9],
    ['xeon-8480', 8, 4800, 307.2e9],
    ['xeon-6980p', 12, 6400, 614.4e9],
    ['graviton4', 12, 5600, 537.6e9],
    ['altra-max-m128', 8, 3200, 204.8e9],
    ['ryzen-9-9950x', 2, 5600, 89.6e9],
    ['core-ultra-9-285k', 2, 6400, 102.4e9],
  ])('%s: %d channels x %d MT/s x 8 B = %d B/s', (id, channels, mts, bandwidth) => {
    const h = hw(id);
    expect(h.kind).toBe('cpu');
    expect(h.memoryChannels).toMatchObject({ count: channels, megaTransfersPerSecond: mts });
    expect(h.memoryBandwidth.value).toBeCloseTo(channels * mts * 1e6 * 8, 0);
    expect(h.memoryBandwidth.value).toBeCloseTo(bandwidth, 0);
  });

  it.each([
    // AMX: 1,024 BF16 / 2,048 INT8 operations per cycle per core (Intel AMX documentation)
    ['xeon-8480', 'bf16', 56 * 2.0e9 * 1024],
    ['xeon-8480', 'int8', 56 * 2.0e9 * 2048],
    ['xeon-6980p', 'bf16', 128 * 2.0e9 * 1024],
    // Zen 4: 16 FP32 FMA per cycle (two 256-bit pipes), BF16 twice that
    ['epyc-9654', 'fp32', 96 * 2.4e9 * 32],
    ['epyc-9654', 'bf16', 96 * 2.4e9 * 64],
    // Zen 5 desktop: 512-bit pipes, 32 FP32 FMA per cycle
    ['ryzen-9-9950x', 'fp32', 16 * 4.3e9 * 64],
    // Arrow Lake: 8 Lion Cove P-cores at 3.7 GHz + 16 Skymont E-cores at 3.2 GHz, 16 FP32 FMA per cycle each (AVX2,
    // no AVX-512): no BF16 dot product, so BF16 runs at the FP32 rate; AVX-VNNI int8 four times it
    ['core-ultra-9-285k', 'fp32', (8 * 3.7e9 + 16 * 3.2e9) * 32],
    ['core-ultra-9-285k', 'bf16', (8 * 3.7e9 + 16 * 3.2e9) * 32],
    ['core-ultra-9-285k', 'int8', (8 * 3.7e9 + 16 * 3.2e9) * 128],
  ] as const)('%s %s peak = cores x base clock x ops per cycle', (id, cls, peak) => {
    expect(hw(id).compute[cls]!.value! / peak).toBeCloseTo(1, 3);
  });
});

describe('CPU-only inference', () => {
  it('--gpu epyc-9654 runs on llama.cpp, its decode memory time the bytes at the DRAM bandwidth', async () => {
    const d = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'epyc-9654', '--precision', 'q4_k_m']);
    expect(d.input.engine).toBe('llamacpp');
    const bytes = d.figures['latency.decodeMemory'].inputs.bytes;
    expect(fig(d, 'latency.decodeMemory')).toBeCloseTo(bytes / (460.8e9 * fig(d, 'efficiency.decodeMbu')), 12);
    expect(d.fits).toBe(true);
  });
});

describe('CPU efficiency (src/estimate/efficiency.ts mfuAt)', () => {
  it('a CPU computes at its mfuMax whatever the tokens per step, so a token-generation step is bound by DRAM', async () => {
    const cpu = CALIBRATION.params.byClass.cpu ?? CALIBRATION.params.byClass.gpu;
    const d = await cliJson(['estimate', '--model', 'phi-4', '--gpu', 'epyc-9654', '--precision', 'q8_0', '--input-tokens', '1', '--output-tokens', '128']);
    // no saturating curve in tokens per step on a CPU: mfu = mfuMax at one token per step
    expect(fig(d, 'efficiency.decodeMfu')).toBe(cpu.mfuMax);
    const compute = d.figures['latency.decodeCompute'];
    // one token's FLOPs over the bf16 vector peak (96 cores x 2.4 GHz x 64 FLOP/cycle = 14.75 TFLOP/s) at mfuMax
    expect(compute.inputs.peakFlopsPerSecond / (96 * 2.4e9 * 64)).toBeCloseTo(1, 3);
    expect(compute.value).toBeCloseTo(compute.inputs.flops / (compute.inputs.peakFlopsPerSecond * cpu.mfuMax), 12);
    expect(d.figures['latency.decodeRoofline'].inputs.bound).toBe('memory');
    // the roofline of the two times (efficiency.ts rooflineSeconds: their imperfect overlap), + the step overhead
    const roofline = rooflineSeconds(fig(d, 'latency.decodeCompute'), fig(d, 'latency.decodeMemory'), CALIBRATION.params.rooflineExponent);
    expect(fig(d, 'latency.tpot')).toBeCloseTo(roofline + fig(d, 'latency.decodeOverhead'), 12);
    // the memory time is most of it: the compute time adds under 10% to it
    expect(roofline / fig(d, 'latency.decodeMemory')).toBeLessThan(1.1);
  });
});

describe('host blocks of GPU servers', () => {
  it.each([
    ['h100-sxm', 'PCIe 5.0 x16', 63e9, 'xeon-8480'],
    ['rtx-4090', 'PCIe 4.0 x16', 31.5e9, 'ryzen-9-9950x'],
    ['gb200', 'NVLink-C2C', 450e9, undefined],
  ])('%s: %s at %d B/s per direction, host CPU %s', (id, link, bandwidth, preset) => {
    const h = hw(id).host!;
    expect(h.link.name).toBe(link);
    expect(h.link.bandwidth.value).toBe(bandwidth);
    expect(h.cpu.preset).toBe(preset);
    if (preset) expect(hw(preset).kind).toBe('cpu');
  });
});
