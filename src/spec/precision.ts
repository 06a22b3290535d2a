/**
 * Precision is a named format, not a bit count: fp8 and int8 are both 8 bits but run on
 * different units at different peaks. Bits per element are derived from the format's layout
 * (element bits plus its share of scales and zero points), never stored as a byte integer.
 */

/** The peak a matrix product runs at, keyed like a hardware profile's `compute` table. */
export const COMPUTE_CLASSES = ['fp32', 'tf32', 'bf16', 'fp16', 'fp8', 'int8', 'fp4', 'int4'] as const;
export type ComputeClass = (typeof COMPUTE_CLASSES)[number];

export interface Format {
  id: string;
  label: string;
  /** bits of one element, before scales */
  elementBits: number;
  /** elements that share one scale (0 = none or negligible, e.g. per-tensor) */
  groupSize: number;
  /** bits of each group's scale (and zero point) */
  scaleBits: number;
  /**
   * What matrix products run at when weights are in this format with 16-bit activations.
   * Weight-only formats dequantize to the activation type ('activation'); W8A8 and fp8
   * formats use their own peak.
   */
  compute: ComputeClass | 'activation';
  /** usable for the KV cache */
  kv: boolean;
  source: string;
}

/** Bits per element including the share of scales: elementBits + scaleBits / groupSize. */
export const bitsPerElement = (f: Format): number => f.elementBits + (f.groupSize > 0 ? f.scaleBits / f.groupSize : 0);
/** Bytes per element, a float (int4 with group-128 fp16 scales: 0.515625). */
export const bytesPerElement = (f: Format): number => bitsPerElement(f) / 8;

const ieee = 'IEEE 754 / OCP 8-bit floating point spec (fp8 e4m3)';

export const FORMATS = {
  fp32: { id: 'fp32', label: 'FP32', elementBits: 32, groupSize: 0, scaleBits: 0, compute: 'tf32', kv: true, source: 'IEEE 754 binary32; matrix products on tensor cores use TF32 (PyTorch allow_tf32 default for cuDNN)' },
  bf16: { id: 'bf16', label: 'BF16', elementBits: 16, groupSize: 0, scaleBits: 0, compute: 'bf16', kv: true, source: 'bfloat16: 1 sign, 8 exponent, 7 mantissa bits' },
  fp16: { id: 'fp16', label: 'FP16', elementBits: 16, groupSize: 0, scaleBits: 0, compute: 'fp16', kv: true, source: 'IEEE 754 binary16' },
  fp8: { id: 'fp8', label: 'FP8 (e4m3, per-tensor scale)', elementBits: 8, groupSize: 0, scaleBits: 0, compute: 'fp8', kv: true, source: `${ieee}; one fp32 scale per tensor is negligible (vLLM fp8 checkpoints)` },
  int8: { id: 'int8', label: 'INT8 (W8A8, per-channel scales)', elementBits: 8, groupSize: 0, scaleBits: 0, compute: 'int8', kv: true, source: 'SmoothQuant W8A8 (Xiao et al. 2023); per-channel fp32 scales are negligible' },
  int4: { id: 'int4', label: 'INT4 (weight-only, group 128, fp16 scales)', elementBits: 4, groupSize: 128, scaleBits: 16, compute: 'activation', kv: true, source: 'weight-only int4 with one fp16 scale per 128 weights, as in AWQ (Lin et al. 2024) symmetric; dequantized to 16-bit for matrix products' },
} as const satisfies Record<string, Format>;

export type FormatId = keyof typeof FORMATS;
export const FORMAT_IDS = Object.keys(FORMATS) as FormatId[];

/**
 * The activation (and default KV) type for a weight format: fp32 weights run in fp32,
 * fp16 in fp16, everything else in bf16 (what vLLM picks for quantized checkpoints).
 */
export function activationFormat(weights: Format): Format {
  if (weights.id === 'fp32') return FORMATS.fp32;
  if (weights.id === 'fp16') return FORMATS.fp16;
  return FORMATS.bf16;
}

/** The compute class matrix products run at, given weight and activation formats. */
export function computeClass(weights: Format, activations: Format): ComputeClass {
  return weights.compute === 'activation' ? (activations.compute as ComputeClass) : weights.compute;
}
