import type { HardwareSpec } from '../spec/hardware.js';
import { computeClass, type ComputeClass, type Format } from '../spec/precision.js';

/**
 * What a device does with a format it cannot compute natively, the way engines run it:
 * - fp8 weights without fp8 units (A100, V100, MI250X): weight-only fp8, dequantized to 16-bit
 *   (vLLM fp8 Marlin kernel on Ampere: "FP8 weight-only, compute in 16-bit");
 * - fp4 without fp4 units (H100): weight-only fp4 with 16-bit compute (vLLM MXFP4/NVFP4 Marlin);
 * - int8 without int8 units: weight-only int8, 16-bit compute;
 * - bf16 without bf16 units (T4, V100): run in fp16 (vLLM casts bfloat16 to float16 on
 *   compute capability < 8.0 with a warning);
 * - tf32 without tensor-float units: fp32.
 */
const FALLBACK: Record<ComputeClass, ComputeClass[]> = {
  fp32: [],
  tf32: ['fp32'],
  bf16: ['fp16', 'fp32'],
  fp16: ['bf16', 'fp32'],
  fp8: ['bf16', 'fp16'],
  int8: ['bf16', 'fp16'],
  fp4: ['fp8', 'bf16', 'fp16'],
  int4: ['int8', 'bf16', 'fp16'],
};

export interface Peak {
  cls: ComputeClass;
  flopsPerSecond: number;
  source: string;
  warning?: string;
}

/** The dense peak matrix products run at for these formats on this device. */
export function resolvePeak(hw: HardwareSpec, weights: Format, activations: Format): Peak {
  const wanted = computeClass(weights, activations);
  for (const cls of [wanted, ...FALLBACK[wanted]]) {
    const peak = hw.compute[cls];
    if (peak?.value) {
      const warning =
        cls === wanted
          ? undefined
          : `${hw.name} has no native ${wanted} matrix units: ${weights.id} weights run as ${wanted === 'bf16' || wanted === 'fp16' ? cls : `weight-only ${weights.id}, dequantized to ${cls}`} at the ${cls} peak, as engines run it there`;
      return { cls, flopsPerSecond: peak.value, source: peak.source, warning };
    }
  }
  throw new Error(`internal: ${hw.id} has no usable compute peak for ${wanted}`);
}
