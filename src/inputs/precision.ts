/**
 * Precision is a named format, not a bit count: fp8 and int8 are both 8 bits but run on
 * different units at different peaks. Bits per element are derived from the format's layout
 * (element bits plus its share of scales and zero points), never stored as a byte integer.
 */

/** The peak a matrix product runs at, keyed like a hardware profile's `compute` table. */
export const COMPUTE_CLASSES = ['fp32', 'tf32', 'bf16', 'fp16', 'fp8', 'int8', 'fp4', 'int4'] as const;
export type ComputeClass = (typeof COMPUTE_CLASSES)[number];

/** Which tensors a weight format applies to; the rest stay at the activation type (16-bit). */
export type FormatScope =
  /** every tensor (plain fp32 / bf16 / fp16) */
  | 'all'
  /** the linear layers of attention, MLPs and experts; embeddings, output head, norms, biases and routers stay 16-bit */
  | 'linear'
  /** a llama.cpp GGUF file type: per-tensor types as llama.cpp assigns them (src/estimate/weights.ts) */
  | 'gguf'
  /** every matrix: linear layers, token embeddings and the output head (MLX nn.quantize takes every Linear and Embedding); norms, biases and routers stay 16-bit */
  | 'matrices';

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
  /** which tensors take this format (default 'all') */
  scope?: FormatScope;
  /** the group size may be chosen with a -g<N> suffix (gptq-int4-g64) */
  groupSuffix?: boolean;
  /** the llama.cpp GGUF file type a checkpoint in this format converts to, keeping its blocks (gpt-oss mxfp4 -> mxfp4_moe) */
  ggufFile?: string;
  source: string;
}

/** Bits per element including the share of scales: elementBits + scaleBits / groupSize. */
export const bitsPerElement = (f: Format): number => f.elementBits + (f.groupSize > 0 ? f.scaleBits / f.groupSize : 0);
/** Bytes per element, a float (int4 with group-128 fp16 scales: 0.515625). */
export const bytesPerElement = (f: Format): number => bitsPerElement(f) / 8;

const ieee = 'IEEE 754 / OCP 8-bit floating point spec (fp8 e4m3)';
const ggml = 'ggml/src/ggml-common.h block layouts';
const mlx = 'MLX affine quantization (mlx.core.quantize; mlx_lm.convert --quantize defaults q_group_size 64, q_bits 4, mlx_lm/utils.py quantize_model @ mlx-lm 0.32.0; nn.quantize takes every Linear and Embedding, so embeddings and lm_head are quantized too); dequantized inside the quantized matmul, 16-bit compute'

export const FORMATS = {
  fp32: { id: 'fp32', label: 'FP32', elementBits: 32, groupSize: 0, scaleBits: 0, compute: 'tf32', kv: true, source: 'IEEE 754 binary32; matrix products on tensor cores use TF32 (PyTorch allow_tf32 default for cuDNN)' },
  bf16: { id: 'bf16', label: 'BF16', elementBits: 16, groupSize: 0, scaleBits: 0, compute: 'bf16', kv: true, source: 'bfloat16: 1 sign, 8 exponent, 7 mantissa bits' },
  fp16: { id: 'fp16', label: 'FP16', elementBits: 16, groupSize: 0, scaleBits: 0, compute: 'fp16', kv: true, source: 'IEEE 754 binary16' },
  fp8: { id: 'fp8', label: 'FP8 (e4m3, per-tensor scale)', elementBits: 8, groupSize: 0, scaleBits: 0, compute: 'fp8', kv: true, scope: 'linear', source: `${ieee}; one fp32 scale per tensor is negligible; embeddings and lm_head stay 16-bit (vLLM Fp8LinearMethod; llm-compressor FP8 recipes ignore lm_head)` },
  'fp8-block': { id: 'fp8-block', label: 'FP8 (e4m3, 128x128 block scales)', elementBits: 8, groupSize: 128 * 128, scaleBits: 32, compute: 'fp8', kv: false, scope: 'linear', source: `${ieee}; one fp32 weight_scale_inv per 128x128 block (DeepSeek-V3 quantization_config weight_block_size [128, 128]; vLLM fp8.py block quantization)` },
  int8: { id: 'int8', label: 'INT8 (W8A8, per-channel scales)', elementBits: 8, groupSize: 0, scaleBits: 0, compute: 'int8', kv: true, scope: 'linear', source: 'SmoothQuant W8A8 (Xiao et al. 2023); per-channel fp32 scales are negligible; embeddings and lm_head stay 16-bit' },
  int4: { id: 'int4', label: 'INT4 (weight-only, group 128, fp16 scales)', elementBits: 4, groupSize: 128, scaleBits: 16, compute: 'activation', kv: true, scope: 'linear', source: 'weight-only int4 with one fp16 scale per 128 weights, as in AWQ (Lin et al. 2024) symmetric; dequantized to 16-bit for matrix products; embeddings and lm_head stay 16-bit' },
  'gptq-int4': { id: 'gptq-int4', label: 'GPTQ INT4 (group 128)', elementBits: 4, groupSize: 128, scaleBits: 16 + 4, compute: 'activation', kv: false, scope: 'linear', groupSuffix: true, source: 'GPTQ (Frantar et al. 2023) as stored by AutoGPTQ/GPTQModel: packed 4-bit qweight, one fp16 scale and one packed 4-bit zero point per group and output column; vLLM gptq_marlin dequantizes to 16-bit; embeddings, lm_head, norms stay 16-bit' },
  'gptq-int8': { id: 'gptq-int8', label: 'GPTQ INT8 (group 128)', elementBits: 8, groupSize: 128, scaleBits: 16 + 8, compute: 'activation', kv: false, scope: 'linear', groupSuffix: true, source: 'GPTQ 8-bit: packed int8 qweight, fp16 scale and 8-bit zero point per group and output column (AutoGPTQ); weight-only, 16-bit compute (vLLM gptq_marlin)' },
  'awq-int4': { id: 'awq-int4', label: 'AWQ INT4 (group 128)', elementBits: 4, groupSize: 128, scaleBits: 16 + 4, compute: 'activation', kv: false, scope: 'linear', groupSuffix: true, source: 'AWQ (Lin et al. 2024) GEMM layout (AutoAWQ): packed 4-bit qweight, fp16 scales and packed 4-bit qzeros per group and output column; vLLM awq_marlin dequantizes to 16-bit; embeddings and lm_head stay 16-bit' },
  'bnb-nf4': { id: 'bnb-nf4', label: 'bitsandbytes NF4 (double quantization)', elementBits: 4, groupSize: 64, scaleBits: 8 + 32 / 256, compute: 'activation', kv: false, scope: 'linear', source: 'QLoRA (Dettmers et al. 2023) sec. 3: NF4 blocks of 64 with an absmax constant, double-quantized to 8 bits with one fp32 constant per 256 blocks = 4 + 8/64 + 32/(64 x 256) bits; bitsandbytes Linear4bit dequantizes to 16-bit; lm_head and embeddings are skipped (transformers get_keys_to_not_convert)' },
  'bnb-int8': { id: 'bnb-int8', label: 'bitsandbytes LLM.int8()', elementBits: 8, groupSize: 0, scaleBits: 0, compute: 'int8', kv: false, scope: 'linear', source: 'LLM.int8() (Dettmers et al. 2022): int8 weights with one fp32 scale per row (negligible), row-wise int8 activations with fp16 outlier columns; lm_head and embeddings stay 16-bit' },
  mxfp4: { id: 'mxfp4', label: 'MXFP4 (e2m1, e8m0 scale per 32)', elementBits: 4, groupSize: 32, scaleBits: 8, compute: 'activation', kv: false, scope: 'linear', ggufFile: 'mxfp4_moe', source: 'OCP Microscaling Formats (MX) v1.0: 32 fp4 e2m1 elements share one 8-bit e8m0 scale = 4.25 bits (gpt-oss checkpoints: *_blocks + *_scales); vLLM runs MXFP4 weights against 16-bit activations (mxfp4.py Marlin/Triton MoE)' },
  nvfp4: { id: 'nvfp4', label: 'NVFP4 (e2m1, fp8 scale per 16)', elementBits: 4, groupSize: 16, scaleBits: 8, compute: 'fp4', kv: false, scope: 'linear', source: 'NVIDIA NVFP4 (TensorRT Model Optimizer): 16 fp4 e2m1 elements share one fp8 e4m3 scale = 4.5 bits, plus one fp32 scale per tensor (negligible); activations quantized to fp4 too (W4A4) on Blackwell' },
  'mlx-int4': { id: 'mlx-int4', label: 'MLX 4-bit (affine, group 64)', elementBits: 4, groupSize: 64, scaleBits: 16 + 16, compute: 'activation', kv: false, scope: 'matrices', groupSuffix: true, source: `${mlx}: 4-bit codes with one scale and one bias per group of 64 in the model's 16-bit type = 4 + 32/64 = 4.5 bits` },
  'mlx-int8': { id: 'mlx-int8', label: 'MLX 8-bit (affine, group 64)', elementBits: 8, groupSize: 64, scaleBits: 16 + 16, compute: 'activation', kv: false, scope: 'matrices', groupSuffix: true, source: `${mlx}: 8-bit codes with one scale and one bias per group of 64 = 8.5 bits` },
  q4_0: { id: 'q4_0', label: 'GGUF Q4_0', elementBits: 4, groupSize: 32, scaleBits: 16, compute: 'activation', kv: true, scope: 'gguf', source: `${ggml}: block_q4_0 = fp16 scale + 32 x 4 bits = 18 bytes per 32 weights (4.5 bits); output.weight Q6_K and norms F32 (llama.cpp src/llama-quant.cpp llama_tensor_get_type); llama.cpp runs prefill matrix products at about the 16-bit tensor rate: dequantized to f16 for cuBLAS before mid-2024, and since in MMQ's int8 MMA against q8_1 activations, whose per-block unpacking and scaling keep it near that rate (ggml-cuda/mmq.cuh; llama.cpp PR #7676: Q4_0 pp512 10,359 t/s on an RTX 4090; PR #4766: F16 pp512 11,048 t/s on the same card)` },
  q4_k_m: { id: 'q4_k_m', label: 'GGUF Q4_K_M', elementBits: 4, groupSize: 256, scaleBits: 128, compute: 'activation', kv: false, scope: 'gguf', source: `${ggml}: block_q4_K = 2 fp16 + 12 scale bytes + 128 bytes per 256 weights (4.5 bits); _M mix per llama.cpp src/llama-quant.cpp: output Q6_K, attn_v and ffn_down Q6_K on use_more_bits layers, attn_qkv Q5_K, norms F32` },
  q5_k_m: { id: 'q5_k_m', label: 'GGUF Q5_K_M', elementBits: 5, groupSize: 256, scaleBits: 128, compute: 'activation', kv: false, scope: 'gguf', source: `${ggml}: block_q5_K = 176 bytes per 256 weights (5.5 bits); _M mix per llama.cpp src/llama-quant.cpp: output Q6_K, attn_v and ffn_down Q6_K on use_more_bits layers, attn_qkv Q6_K` },
  q6_k: { id: 'q6_k', label: 'GGUF Q6_K', elementBits: 6, groupSize: 256, scaleBits: 144, compute: 'activation', kv: false, scope: 'gguf', source: `${ggml}: block_q6_K = 128 + 64 + 16 scale bytes + fp16 = 210 bytes per 256 weights (6.5625 bits); norms F32` },
  q8_0: { id: 'q8_0', label: 'GGUF Q8_0', elementBits: 8, groupSize: 32, scaleBits: 16, compute: 'activation', kv: true, scope: 'gguf', source: `${ggml}: block_q8_0 = fp16 scale + 32 int8 = 34 bytes per 32 weights (8.5 bits); output Q8_0; norms F32` },
  // Not the checkpoint's mxfp4: the same MXFP4 experts, but every other matrix at Q8_0 instead of
  // the checkpoint's bf16 (gpt-oss-20b: 12.10 GB of tensors against 13.76 GB of safetensors).
  mxfp4_moe: { id: 'mxfp4_moe', label: 'GGUF MXFP4_MOE (MXFP4 experts, Q8_0 elsewhere)', elementBits: 4, groupSize: 32, scaleBits: 8, compute: 'activation', kv: false, scope: 'gguf', source: `${ggml}: block_mxfp4 = one e8m0 scale byte + 32 x 4-bit e2m1 = 17 bytes per 32 weights (4.25 bits); llama.cpp file type MXFP4_MOE (LLAMA_FTYPE_MOSTLY_MXFP4_MOE = 38, since b6096 'llama : add gpt-oss'): 3-D expert tensors MXFP4, other matrices (token embedding and output included) Q8_0, 1-D tensors and the router F32 (src/llama-quant.cpp llama_tensor_get_type @ b10470); convert_hf_to_gguf.py repacks gpt-oss's MXFP4 experts verbatim (GptOssModel.repack_mxfp4 @ b6096); ggml-org/gpt-oss-20b-GGUF gpt-oss-20b-mxfp4.gguf loads as "type f32: 289, q8_0: 98, mxfp4: 72 tensors; file size = 11.27 GiB (4.63 BPW)"` },
} as const satisfies Record<string, Format>;

export type FormatId = keyof typeof FORMATS;
export const FORMAT_IDS = Object.keys(FORMATS) as FormatId[];
/** Formats accepted for the KV cache (fp16/bf16, fp8, int8, int4, and llama.cpp q8_0/q4_0 cache types). */
export const KV_FORMAT_IDS = FORMAT_IDS.filter((f) => FORMATS[f].kv);

/**
 * GGUF block types a file type's tensors take (ggml/src/ggml-common.h). bits = elementBits +
 * scaleBits / groupSize: q4_0 18 B / 32, q4_1 20 B / 32, q5_0 22 B / 32, q5_1 24 B / 32,
 * q8_0 34 B / 32, q4_K 144 B / 256, q5_K 176 B / 256, q6_K 210 B / 256, mxfp4 17 B / 32.
 */
const ggufType = (id: string, elementBits: number, groupSize: number, scaleBits: number): Format => ({ id, label: `GGUF ${id.toUpperCase()}`, elementBits, groupSize, scaleBits, compute: 'int8', kv: false, scope: 'gguf', source: ggml });
export const GGUF_TYPES = {
  f32: { ...FORMATS.fp32, id: 'f32', label: 'F32' } as Format,
  q4_0: ggufType('q4_0', 4, 32, 16),
  q4_1: ggufType('q4_1', 4, 32, 32),
  q5_0: ggufType('q5_0', 5, 32, 16),
  q5_1: ggufType('q5_1', 5, 32, 32),
  q8_0: ggufType('q8_0', 8, 32, 16),
  q4_K: ggufType('q4_K', 4, 256, 128),
  q5_K: ggufType('q5_K', 5, 256, 128),
  q6_K: ggufType('q6_K', 6, 256, 144),
  // block_mxfp4: uint8 e8m0 scale + 16 bytes of e2m1 nibbles per 32 (17 B / 32); dequantized inside the matmul kernels
  mxfp4: { ...ggufType('mxfp4', 4, 32, 8), label: 'GGUF MXFP4' },
} as const;
export type GgufType = keyof typeof GGUF_TYPES;

/**
 * A weight format by name: a FORMATS id, or a grouped format with its group size as a suffix
 * (gptq-int4-g64, awq-int4-g32, gptq-int8-g128). Undefined when the name is unknown.
 */
export function formatByName(name: string): Format | undefined {
  const id = name.toLowerCase();
  if (Object.hasOwn(FORMATS, id)) return FORMATS[id as FormatId];
  const m = /^(.+)-g(\d+)$/.exec(id);
  const base: Format | undefined = m && Object.hasOwn(FORMATS, m[1]) ? FORMATS[m[1] as FormatId] : undefined;
  if (!m || !base || !base.groupSuffix) return undefined;
  const groupSize = Number(m[2]);
  // g0 = one scale per output channel (GPTQ group_size -1): negligible next to the weights.
  if (!Number.isInteger(groupSize) || (groupSize !== 0 && (groupSize < 8 || groupSize > 4096))) return undefined;
  // MLX quantizes in groups of 32, 64 or 128 only (mlx.core.quantize)
  if (base.id.startsWith('mlx-') && ![32, 64, 128].includes(groupSize)) return undefined;
  return { ...base, id, label: base.label.replace(/group \d+/, groupSize ? `group ${groupSize}` : 'per-channel'), groupSize };
}

/** Accepted weight-format names, for help text and error messages. */
export const FORMAT_NAMES_HELP = [...FORMAT_IDS, 'gptq-int4-g<N>', 'gptq-int8-g<N>', 'awq-int4-g<N>', 'mlx-int4-g<N>'];


/** config.json torch_dtype -> the stored format of unquantized tensors. */
export function formatOfDtype(dtype: string | undefined): Format {
  if (dtype === 'float32') return FORMATS.fp32;
  if (dtype === 'float16') return FORMATS.fp16;
  return FORMATS.bf16;
}

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
