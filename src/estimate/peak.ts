import { once3 } from './once.js';
import type { EngineSpec } from '../inputs/engine.js';
import type { HardwareSpec } from '../inputs/hardware.js';
import { computeClass, type ComputeClass, type Format } from '../inputs/precision.js';

/**
 * What a device does with a format it cannot compute natively, the way engines run it there.
 * Each class lists, in order, the peaks to fall back to:
 * - fp8 without fp8 units (A100, V100, MI250X): weight-only fp8, dequantized to 16-bit
 *   (vLLM `fp8.py`: on GPUs without fp8 hardware support it uses the FP8 Marlin kernel,
 *   "weight-only FP8 compression", activations stay 16-bit);
 * - fp4 without fp4 units (H100, A100): weight-only fp4 with 16-bit compute (vLLM
 *   `mxfp4.py` / `modelopt.py` fall back to MXFP4 / NVFP4 Marlin below Blackwell), not fp8;
 * - int8 (W8A8) without int8 units: weight-only int8, 16-bit compute;
 * - int4 (W4A4) without int4 units: weight-only int4, 16-bit compute (AWQ/GPTQ Marlin);
 * - bf16 without bf16 units (T4, V100): run in fp16 (vLLM `config.py` _resolve_auto_dtype
 *   casts bfloat16 to float16 on compute capability < 8.0 with a warning); fp16 without fp16
 *   units (TPUs): bf16;
 * - tf32 (fp32 matrix products) without tensor-float units: fp32 units, else bf16 passes (XLA
 *   on TPU runs fp32 dot products at DEFAULT precision as single-pass bf16, jax.lax.Precision).
 */
const FALLBACK: Record<ComputeClass, ComputeClass[]> = {
  fp32: ['tf32', 'bf16', 'fp16'],
  tf32: ['fp32', 'bf16', 'fp16'],
  bf16: ['fp16', 'fp32'],
  fp16: ['bf16', 'fp32'],
  fp8: ['bf16', 'fp16', 'fp32'],
  int8: ['bf16', 'fp16', 'fp32'],
  fp4: ['bf16', 'fp16', 'fp32'],
  int4: ['bf16', 'fp16', 'fp32'],
};

export interface Peak {
  cls: ComputeClass;
  flopsPerSecond: number;
  source: string;
  warning?: string;
}

const is16Bit = (cls: ComputeClass) => cls === 'bf16' || cls === 'fp16';

/**
 * The dense peak matrix products run at for these formats on this device, and a warning when
 * that is not the format's own peak.
 * @example resolvePeak(a100, FORMATS.fp8, FORMATS.bf16) // { cls: 'bf16', flopsPerSecond: 312e12, warning: '... weight-only fp8 ...' }
 */
export const resolvePeak: (hw: HardwareSpec, weights: Format, activations: Format) => Peak = once3((hw: HardwareSpec, weights: Format, activations: Format): Peak => {
  const wanted = computeClass(weights, activations);
  for (const cls of [wanted, ...FALLBACK[wanted]]) {
    const peak = hw.compute[cls];
    if (!peak?.value) continue;
    if (cls === wanted) return { cls, flopsPerSecond: peak.value, source: peak.source };
    const why = hw.compute[wanted] ? `publishes no ${wanted} peak` : `has no native ${wanted} matrix units`;
    const how =
      is16Bit(wanted) || wanted === 'tf32' || wanted === 'fp32'
        ? `${weights.id} matrix products run in ${cls}`
        : `${weights.id} weights run weight-only, dequantized to ${cls} for the matrix products`;
    return { cls, flopsPerSecond: peak.value, source: peak.source, warning: `${hw.name} ${why}: ${how}, at the ${cls} peak` };
  }
  throw new Error(`internal: ${hw.id} has no usable compute peak for ${wanted}`);
});

/**
 * The peak an engine's 16-bit matrix products reach on this device: engines that accumulate in
 * fp16 (EngineSpec kernels.fp16Accumulate: llama.cpp's cuBLAS path, ggml-cuda
 * ggml_cuda_op_mul_mat_cublas with CUBLAS_COMPUTE_16F) reach the device's fp16-accumulate peak,
 * which GeForce cards run at twice the fp32-accumulate rate (hardware fp16Accumulate16); the rest
 * keep the peak resolvePeak found.
 */
export function enginePeak(peak: Peak, hw: HardwareSpec, engine: EngineSpec | undefined): Peak {
  const acc = engine?.kernels?.fp16Accumulate;
  if (!acc?.value || !is16Bit(peak.cls) || !hw.fp16Accumulate16?.value || hw.fp16Accumulate16.value <= peak.flopsPerSecond) return peak;
  return { ...peak, cls: 'fp16', flopsPerSecond: hw.fp16Accumulate16.value, source: `${hw.fp16Accumulate16.source}; ${acc.source}` };
}
