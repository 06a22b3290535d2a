import type { EngineSpec } from '../inputs/engine.js';
import type { EstimateInput } from './input.js';
import { layerGroups } from './layers.js';

/**
 * Kernels a step launches beyond those of plain dense layers (attention + gated MLP), by layer
 * kind, as an engine version's source launches them per layer (CUDA-graph replay): the router,
 * top-k selection, token alignment and combine of a mixture-of-experts block; the extra
 * projections, norms, batched matrix products and copies of absorbed multi-head latent attention;
 * one activation-quantization kernel per linear layer where fp8 weights take dynamic activation
 * scales. Each costs a fixed time whatever its size (launch, ramp-up, a few dependent memory
 * round trips): `kernelSeconds`, fitted (efficiency.ts). The dense layers' own launches are in
 * layerOverheadSeconds.
 */
export type Launches = NonNullable<NonNullable<EngineSpec['kernels']>['launches']>;

/**
 * Where the engine's profile (or a case's engine as launched) gives no counts: vLLM V1's, counted
 * from its source (the extras over a dense Llama layer).
 */
export const DEFAULT_LAUNCHES: Launches = {
  mla: { value: 6, source: 'vLLM V1 MLA decode (vllm/model_executor/layers/mla.py, attention/backends/mla/common.py): q_a and kv_a RMSNorms, the W_UK and W_UV batched products, the q concatenation and the backend\'s split-KV metadata/combine beyond a GQA layer\'s norm, rotary, cache write and attention' },
  moe: { value: 4, source: 'vLLM V1 FusedMoE (vllm/model_executor/layers/fused_moe/fused_moe.py fused_experts_impl): router GEMM, topk_softmax, moe_align_block_size and moe_sum beyond a dense MLP\'s activation' },
  sharedExpert: { value: 1, source: 'vLLM V1: the shared experts\' output added to the routed experts\' (deepseek_v2.py DeepseekV2MoE.forward)' },
  quantizedLinear: { value: 0, source: 'vLLM V1 compiles the model with custom ops off: QuantFP8 runs as torch ops that Inductor fuses into the RMSNorm or SiLU-and-mul before each fp8 GEMM (vllm/model_executor/layers/quantization/input_quant_fp8.py; CompilationConfig custom_ops "none" under Inductor)' },
};

/** Linear layers a layer kind runs through (merged QKV and gate/up as engines merge them). */
const LINEARS = { attention: 2, mla: 4, mlaNoQLora: 3, mlp: 2, moe: 2, shared: 2 } as const;

/** Extra kernel launches of one step of the model under the engine (the count `kernelSeconds` multiplies). */
export function extraLaunchesPerStep(input: Pick<EstimateInput, 'model' | 'engine' | 'weights'>): number {
  const l = input.engine?.kernels?.launches ?? DEFAULT_LAUNCHES;
  const m = input.model;
  const q = input.weights.compute === 'fp8' ? l.quantizedLinear?.value ?? 0 : 0;
  const shared = m.moe && m.moe.sharedExperts > 0 ? 1 : 0;
  let n = 0;
  for (const g of layerGroups(m)) {
    const k = g.mixer.kind;
    const mixer = k === 'mla' || k === 'sparse-mla' ? (l.mla?.value ?? 0) + q * (m.mla?.qLoraRank ? LINEARS.mla : LINEARS.mlaNoQLora) : k === 'none' ? 0 : q * LINEARS.attention;
    const mlp = g.mlp.kind === 'moe' ? (l.moe?.value ?? 0) + q * LINEARS.moe + shared * ((l.sharedExpert?.value ?? 0) + q * LINEARS.shared) : g.mlp.kind === 'dense' ? q * LINEARS.mlp : 0;
    n += g.count * (mixer + mlp);
  }
  return n;
}
