import type { EngineSpec } from '../inputs/engine.js';
import { compareVersions } from '../inputs/engine-choice.js';
import type { HardwareSpec, Sourced } from '../inputs/hardware.js';
import type { ModelSpec } from '../inputs/model.js';
import type { Format } from '../inputs/precision.js';
import { once } from './once.js';
import type { Peak } from './peak.js';

/**
 * Pruning, as a change to the model and its weights; what it does to accuracy is out of scope.
 *
 * - 2:4 semi-structured sparsity: in every 4 consecutive weights of a linear layer 2 are zero.
 *   Stored compressed, the 2 kept values plus 2-bit positions of each (4 bits of metadata per 4
 *   weights, 1 bit per weight): 16-bit weights take 1 + 0.125 = 1.125 bytes instead of 2
 *   (56.25%), 8-bit ones 0.5 + 0.125 = 0.625 (62.5%) (NVIDIA Ampere architecture whitepaper,
 *   "Fine-Grained Structured Sparsity": compressed values plus 2-bit metadata indices; cuSPARSELt
 *   compressed layout; PyTorch to_sparse_semi_structured). Sparse tensor cores run the matrix
 *   products at twice the dense peak (the datasheets' "with sparsity" column) when the engine
 *   has 2:4 kernels for the weight format on that device.
 * - Structured pruning: whole layers, MLP channels or attention heads removed, a smaller model of
 *   the same family (Minitron, Muralidharan et al. 2024, sec. 2: depth, MLP width, attention
 *   heads), so every figure follows from the new shape.
 */

export const SPARSITY_PATTERNS = ['2:4'] as const;
export type SparsityPattern = (typeof SPARSITY_PATTERNS)[number];

/** Metadata bits per weight of 2:4 storage: a 2-bit position per kept value, 2 kept of 4. */
export const SPARSE24_METADATA_BITS = 1;

const SPARSE24_SOURCE = 'NVIDIA A100 Tensor Core GPU architecture whitepaper, "Fine-Grained Structured Sparsity": 2 of every 4 values kept, compressed with 2-bit indices as metadata (1 bit per weight); PyTorch to_sparse_semi_structured: fp16 56.25% and int8 62.5% of the dense size';

/**
 * The 2:4 sparse storage of a weight format: half the elements, plus 1 bit of metadata per
 * weight; scales stay per dense group. Applies to linear layers only (scope linear: embeddings,
 * output head, norms and routers stay dense, as SparseGPT / Wanda / llm-compressor 2of4 recipes
 * prune the transformer blocks' linear layers). One object per format (once.ts caches key on it).
 *
 * @example sparse24(FORMATS.bf16): 16 / 2 + 1 = 9 bits per weight = 1.125 bytes (56.25% of 2)
 */
export const sparse24: (f: Format) => Format = once((f: Format): Format => ({
  ...f,
  id: `${f.id}+2:4`,
  label: `${f.label}, 2:4 sparse`,
  elementBits: f.elementBits / 2 + SPARSE24_METADATA_BITS,
  scope: f.scope === 'gguf' ? 'gguf' : 'linear',
  kv: false,
  source: `${f.source}; 2:4: ${SPARSE24_SOURCE}`,
}));

/**
 * Whether the engine runs 2:4 sparse weights of this format on this device with sparse tensor
 * cores, and why not. Engine facts as published (to move into the engine profiles with issue 12):
 *  - TensorRT-LLM: trtllm-build --weight_sparsity (TensorRT's kSPARSE_WEIGHTS builder flag,
 *    sparse tensor cores since TensorRT 8.0 on Ampere and later);
 *  - vLLM 0.7-0.10: CUTLASS 2:4 kernels for fp8 and int8 weights on Hopper only (vllm-project/vllm
 *    PR #10995; 16-bit sparse-only models disabled in PR #12417, v0.7.1) and Marlin 2:4 for
 *    GPTQ weight-only int4/int8 (gptq_marlin_24); removed altogether in v0.19.1 (PR #36799);
 *  - SGLang and llama.cpp: no 2:4 kernels;
 *  - ideal: the roofline with the device's sparse peak.
 */
export function sparse24Support(engine: EngineSpec | undefined, hw: HardwareSpec, weights: Format, cls: keyof NonNullable<HardwareSpec['sparseCompute']>): { ok: true } | { ok: false; why: string } {
  const sparsePeak = hw.sparseCompute?.[cls]?.value;
  if (!sparsePeak) return { ok: false, why: `${hw.name} lists no ${cls} peak with sparsity (no sparse tensor cores for it)` };
  const id = engine?.id ?? 'ideal';
  if (id === 'ideal') return { ok: true };
  if (id === 'trtllm') return { ok: true };
  if (id === 'vllm') {
    const hopper = /\bG?H(100|200|800|20)\b/i.test(hw.name);
    // the CUTLASS 2:4 scheme (compressed-tensors Sparse24) left vLLM in v0.19.1; profiles of later releases have none
    const cutlass = compareVersions(engine!.version, '0.19.1') < 0;
    if (/^gptq-int(4|8)/.test(weights.id)) return { ok: true };
    if ((weights.id === 'fp8' || weights.id === 'int8') && hopper && cutlass) return { ok: true };
    if (!cutlass) return { ok: false, why: `vLLM ${engine!.version} runs 2:4 sparse weights only as GPTQ weight-only (Marlin 2:4), not ${weights.id}: the CUTLASS fp8/int8 Sparse24 scheme was removed in v0.19.1 (PR #36799) and 16-bit sparse-only models disabled in v0.7.1 (PR #12417); --engine vllm@0.19 pins a release that still has it (Hopper only)` };
    return { ok: false, why: `vLLM runs 2:4 sparse weights only as fp8/int8 on Hopper (CUTLASS, PR #10995) or GPTQ weight-only (Marlin 2:4), not ${weights.id} on ${hw.name}; 16-bit sparse-only models were disabled in v0.7.1 (PR #12417) and Sparse24 removed in v0.19.1 (PR #36799)` };
  }
  return { ok: false, why: `${engine!.name} has no 2:4 sparse kernels` };
}

/**
 * The peak a sparse model's steps run at: linear FLOPs at the sparse peak, attention FLOPs at
 * the dense one (attention has no pruned weights), as one effective rate for the step.
 */
export function sparsePeak(peak: Peak, sparse: Sourced, linearFlops: number, attentionFlops: number): Peak {
  const total = linearFlops + attentionFlops;
  const seconds = linearFlops / sparse.value! + attentionFlops / peak.flopsPerSecond;
  return { ...peak, flopsPerSecond: total / seconds, source: `${sparse.source} (linear layers; attention at the dense ${peak.source})` };
}

export interface StructuredPruning {
  /** layers removed */
  layers: number;
  /** share of MLP intermediate channels removed (dense and expert MLPs) */
  ffn: number;
  /** share of attention (query) heads removed */
  heads: number;
}

/** Why this structured pruning cannot apply to the model, or undefined. */
export function pruningProblem(m: ModelSpec, p: StructuredPruning): string | undefined {
  if (m.layerKinds) return `--prune: ${m.name} has a mixed layer layout (${m.family}); pruning it is not modelled`;
  if (m.paramsOverride !== undefined) return '--prune needs the architecture (a preset, config.json or the architecture flags), not only --params';
  if (p.layers >= m.layers) return `--prune layers=${p.layers} leaves no layer of ${m.name}'s ${m.layers}`;
  if (m.mla && p.heads > 0) return `--prune heads: ${m.name} uses multi-head latent attention; head pruning of MLA is not modelled`;
  return undefined;
}

/**
 * The pruned model: `layers` fewer layers (sliding and dense-MoE layer counts scaled with them),
 * MLP widths times (1 - ffn), query heads times (1 - heads) rounded down to a multiple of the
 * KV heads so every KV group keeps the same size (Minitron prunes query heads within groups).
 *
 * @example Llama-3.1-8B, layers=8: 24 layers, 8,030,261,248 - 8 x 218,112,000 = 6,285,365,248 params
 */
export function pruneModel(m: ModelSpec, p: StructuredPruning): ModelSpec {
  const layers = m.layers - p.layers;
  const keep = (n: number, share: number) => Math.max(1, Math.round(n * (1 - share)));
  const heads = p.heads > 0 ? Math.max(m.kvHeads, Math.floor(keep(m.heads, p.heads) / m.kvHeads) * m.kvHeads) : m.heads;
  const scaled = (n: number) => Math.min(layers, Math.round((n * layers) / m.layers));
  const parts = [p.layers && `-${p.layers} layers`, p.ffn && `MLP -${Math.round(p.ffn * 100)}%`, p.heads && `heads ${m.heads} -> ${heads}`].filter(Boolean).join(', ');
  return {
    ...m,
    id: `${m.id}-pruned`,
    name: `${m.name} (pruned: ${parts})`,
    layers,
    heads,
    ffn: keep(m.ffn, p.ffn),
    ...(m.slidingWindow ? { slidingWindow: { ...m.slidingWindow, localLayers: scaled(m.slidingWindow.localLayers) } } : {}),
    ...(m.moe ? { moe: { ...m.moe, expertFfn: keep(m.moe.expertFfn, p.ffn), sharedFfn: m.moe.sharedFfn ? keep(m.moe.sharedFfn, p.ffn) : 0, denseLayers: scaled(m.moe.denseLayers) } } : {}),
  };
}
