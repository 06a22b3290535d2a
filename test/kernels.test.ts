import { describe, expect, it } from 'vitest';
import { loadPresets } from 'llm-size';
import { formatKernel } from '../src/estimate/kernels.js';
import { findEngine } from '../src/inputs/engine-choice.js';
import { cli, cliJson, expectBadInput } from './helpers.js';

/**
 * Format support by architecture (presets/engines supports.byArchitecture, src/estimate/kernels.ts):
 * which kernel an engine version runs a weight format with on a device, as its source decides
 * by compute capability (vLLM get_min_capability, Marlin fallbacks; SGLang; the TensorRT-LLM
 * support matrix). Each row names the source line it follows (also in the profile).
 */

const catalog = await loadPresets();
const hw = (id: string) => catalog.hardware.find((h) => h.id === id)!;
const engine = (name: string) => findEngine(catalog, name);
const kernelOf = (e: string, device: string, format: string) => {
  const k = formatKernel(engine(e), hw(device), format);
  return k.ok ? k.kernel : 'unsupported';
};

describe('every NVIDIA and AMD accelerator preset names its architecture (what engine kernels key on)', () => {
  // CPUs (kind cpu: AMD EPYC and Ryzen) run llama.cpp's CPU backend, which keys on no GPU architecture
  const accelerators = catalog.hardware.filter((h) => (h.vendor === 'nvidia' || h.vendor === 'amd') && h.kind !== 'cpu');
  it('the list is the catalogue\'s NVIDIA and AMD accelerators, not empty (an empty list would check nothing)', () => {
    expect(accelerators.map((h) => h.id)).toEqual(expect.arrayContaining(['h100-sxm', 't4', 'rtx-4090', 'mi300x', 'b200']));
  });
  it.each(accelerators.map((h) => [h.id, h]))('%s', (_id, h) => {
    // a source is a citation, not a placeholder: at least a few words or a URL
    expect(h.architecture?.source).toEqual(expect.stringMatching(/\S{3,}.*\S{3,}/));
    if (h.vendor === 'nvidia') expect(h.architecture!.id).toMatch(/^sm_\d{2,3}$/);
    else expect(h.architecture!.id).toMatch(/^gfx[0-9a-f]+$/);
  });
  it('compute capability is major x 10 + minor (vLLM DeviceCapability.to_int): H100 90, T4 75, RTX 5090 120, B300 103', () => {
    expect([hw('h100-sxm'), hw('t4'), hw('rtx-5090'), hw('b300')].map((h) => h.architecture!.capability)).toEqual([90, 75, 120, 103]);
  });
});

describe('which kernel an engine runs a format with, by architecture', () => {
  it.each([
    // vLLM fp8.py: W8A8 on sm_89+ (supports_fp8 = has_device_capability(89)), FP8 Marlin weight-only below
    ['vllm@0.21', 'h100-sxm', 'fp8', 'native'],
    ['vllm@0.21', 'l4', 'fp8', 'native'],
    ['vllm@0.21', 'a100-80gb', 'fp8', 'weight-only'],
    // v0.30.0: Fp8Config.get_min_capability 75 and is_fp8_marlin_supported = has_device_capability(75)
    ['vllm@0.21', 't4', 'fp8', 'weight-only'],
    // the 0.10-0.15 releases: Fp8Config.get_min_capability 80, Marlin from Ampere
    ['vllm@0.19', 't4', 'fp8', 'unsupported'],
    ['vllm@0.19', 'a100-80gb', 'fp8', 'weight-only'],
    ['vllm@0.21', 'v100-sxm2-32gb', 'fp8', 'unsupported'],
    // ROCm: FP8 'requires CDNA3+ (gfx942/gfx950)'
    ['vllm@0.21', 'mi300x', 'fp8', 'native'],
    ['vllm@0.21', 'mi250x', 'fp8', 'unsupported'],
    // mxfp4.py Mxfp4Config.get_min_capability 80 (vllm-project/vllm#23203: sm_75 refused)
    ['vllm@0.21', 't4', 'mxfp4', 'unsupported'],
    ['vllm@0.21', 'a100-80gb', 'mxfp4', 'native'],
    ['vllm@0.21', 'mi355x', 'mxfp4', 'native'],
    // NVFP4: CUTLASS FP4 on sm_100 and sm_120; NVFP4 Marlin weight-only below
    ['vllm@0.21', 'b200', 'nvfp4', 'native'],
    ['vllm@0.21', 'rtx-5090', 'nvfp4', 'native'],
    ['vllm@0.21', 'h100-sxm', 'nvfp4', 'weight-only'],
    // SGLang ModelOptFp4Config.get_min_capability 100: no fallback on Hopper
    ['sglang', 'h100-sxm', 'nvfp4', 'unsupported'],
    ['sglang', 'b200', 'nvfp4', 'native'],
    ['sglang', 'a100-80gb', 'fp8', 'weight-only'],
    // AWQ: AWQConfig.get_min_capability 75 (not Volta); GPTQ 60
    ['vllm@0.21', 'v100-sxm2-32gb', 'awq-int4', 'unsupported'],
    ['vllm@0.21', 'v100-sxm2-32gb', 'gptq-int4', 'native'],
    // TensorRT-LLM support matrix: Ampere and later; FP8 on Ada and Hopper, not Ampere; FP4 on Blackwell
    ['trtllm', 't4', 'bf16', 'unsupported'],
    ['trtllm', 'a100-80gb', 'fp8', 'unsupported'],
    ['trtllm', 'h100-sxm', 'fp8', 'native'],
    ['trtllm', 'h100-sxm', 'nvfp4', 'unsupported'],
    ['trtllm', 'b200', 'nvfp4', 'native'],
  ])('%s on %s: %s runs %s', (e, device, format, expected) => {
    expect(kernelOf(e, device, format)).toBe(expected);
  });
});

describe('engine defaults and the verdict propose only what runs', () => {
  it('gpt-oss-20b (MXFP4) on a T4: vLLM is refused with the capability it needs; the checkpoint itself is claimed by no engine, and the GGUF llama.cpp runs is named', async () => {
    await expectBadInput(['estimate', '--model', 'gpt-oss-20b', '--gpu', 't4', '--engine', 'vllm'], /--engine vllm: vLLM 0\.21 runs mxfp4 weights on NVIDIA compute capability 8\.0\+ or gfx942, gfx950 only; NVIDIA T4 16GB is Turing, sm_75/);
    const out = await cliJson(['estimate', '--model', 'gpt-oss-20b', '--gpu', 't4', '--precision', 'mxfp4']);
    expect(out.input.engine).toBe('ideal');
    expect(out.warnings.join('\n')).toMatch(/no engine profile runs mxfp4 weights .* vLLM 0\.21 runs mxfp4 weights on NVIDIA compute capability 8\.0\+.*llama\.cpp b10470 runs the GGUF it converts to, mxfp4_moe: --precision mxfp4_moe/);
  });

  it('TensorRT-LLM on a T4 (Turing) is exit 2 naming the engines that do run it', async () => {
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--gpu', 't4', '--engine', 'trtllm'], /TensorRT-LLM 1\.0 runs on NVIDIA compute capability 8\.0\+ only; NVIDIA T4 16GB is Turing, sm_75; engines that run bf16 weights .*: llamacpp, sglang, vllm/);
  });

  it('DeepSeek-V3 on 8 x H100: the weight-format fix is one vLLM runs natively on sm_90, and a fallback is never offered ahead of it', async () => {
    const out = await cliJson(['estimate', '--model', 'deepseek-v3', '--gpu', 'h100', '--count', '8']);
    const formats = out.verdict.fixes.filter((f: { change: string }) => f.change === 'lower-precision-weights');
    expect(formats.length).toBeGreaterThan(0);
    expect(formats[0].value).not.toBe('nvfp4');
    for (const f of formats) if (f.value === 'nvfp4') expect(f.detail).toMatch(/weight-only through NVFP4 Marlin/);
  });

  it('NVFP4 on an H100 runs at the bf16 peak (989.5 TFLOP/s dense, NVIDIA H100 datasheet) and says why; on a B200 at its FP4 peak', async () => {
    const h100 = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--precision', 'nvfp4']);
    expect(h100.input.precision.compute).toBe('bf16');
    expect(h100.figures['latency.prefillCompute'].inputs.peakFlopsPerSecond).toBe(989.5e12);
    expect(h100.warnings.join('\n')).toMatch(/vLLM 0\.21 runs nvfp4 weights on NVIDIA H100 SXM5 80GB \(Hopper, sm_90\) weight-only through NVFP4 Marlin: dequantized to bf16/);
    const b200 = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'b200', '--precision', 'nvfp4']);
    expect(b200.input.precision.compute).toBe('fp4');
    expect(b200.warnings.join('\n')).not.toMatch(/weight-only/);
  });

  it('plan launches no engine on a device its profile does not run the format on (SGLang has no NVFP4 below sm_100)', async () => {
    const r = await cli(['plan', '--model', 'llama-3.1-8b', '--hardware', 'h100-sxm', '--precision', 'nvfp4', '--qps', '1', '--price', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/vllm serve/);
    expect(r.stdout).not.toMatch(/sglang\.launch_server/);
  });
});
