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
 * For the layer kinds an engine's profile does not count (presets/engines `kernels.launches`; a
 * validation case's `engineKernels`): vLLM V1's, counted from its source (the extras over a dense
 * Llama layer). `launchCounts` says which applied.
 */
export const DEFAULT_LAUNCHES: Launches = {
  mla: { value: 6, source: 'vLLM V1 MLA decode (vllm/model_executor/layers/mla.py, attention/backends/mla/common.py): q_a and kv_a RMSNorms, the W_UK and W_UV batched products, the q concatenation and the backend\'s split-KV metadata/combine beyond a GQA layer\'s norm, rotary, cache write and attention' },
  moe: { value: 4, source: 'vLLM V1 FusedMoE (vllm/model_executor/layers/fused_moe/fused_moe.py fused_experts_impl): router GEMM, topk_softmax, moe_align_block_size and moe_sum beyond a dense MLP\'s activation' },
  sharedExpert: { value: 1, source: 'vLLM V1: the shared experts\' output added to the routed experts\' (deepseek_v2.py DeepseekV2MoE.forward)' },
  quantizedLinear: { value: 0, source: 'vLLM V1 compiles the model with custom ops off: QuantFP8 runs as torch ops that Inductor fuses into the RMSNorm or SiLU-and-mul before each fp8 GEMM (vllm/model_executor/layers/quantization/input_quant_fp8.py; CompilationConfig custom_ops "none" under Inductor)' },
};

/** Linear layers a layer kind runs through (merged QKV and gate/up as engines merge them). */
const LINEARS = { attention: 2, mla: 4, mlaNoQLora: 3, mlp: 2, moe: 2, shared: 2 } as const;

/** The counts a step uses: the engine profile's, and vLLM V1's for the kinds it does not count. */
export function launchCounts(engine: EstimateInput['engine']): Launches {
  return { ...DEFAULT_LAUNCHES, ...engine?.kernels?.launches };
}

/** The counts and where they come from, for `--explain` (e.g. "mla 48, moe 22, sharedExpert 4, quantizedLinear 1: SGLang 0.4 kernels.launches"). */
export function describeLaunches(engine: EstimateInput['engine']): string {
  const own = engine?.kernels?.launches ?? {};
  const l = launchCounts(engine);
  const kinds = (['mla', 'moe', 'sharedExpert', 'quantizedLinear'] as const).filter((k) => l[k] !== undefined);
  const counts = kinds.map((k) => `${k} ${l[k]!.value}`).join(', ');
  const fromProfile = kinds.filter((k) => own[k] !== undefined);
  const where = fromProfile.length === kinds.length ? `${engine!.name} ${engine!.version} kernels.launches` : fromProfile.length === 0 ? 'vLLM V1 counts (launches.ts DEFAULT_LAUNCHES)' : `${engine!.name} ${engine!.version} kernels.launches, vLLM V1 counts for ${kinds.filter((k) => own[k] === undefined).join(', ')}`;
  return `${counts}: ${where}`;
}

/**
 * Extra kernel launches of one step of the model under the engine (the count `kernelSeconds`
 * multiplies): per layer, its mixer's and MLP's counts, plus one per linear layer where fp8
 * activations are quantized in a kernel of their own.
 * @example DeepSeek-V3 (58 MoE + 3 dense layers, fp8-block) under sglang@0.4 (mla 48, moe 22,
 * sharedExpert 4, quantizedLinear 1): 58 x (48 + 4 + 22 + 2 + 4 + 2) + 3 x (48 + 4 + 2) = 4,918
 */
export function extraLaunchesPerStep(input: Pick<EstimateInput, 'model' | 'engine' | 'weights'>): number {
  const l = launchCounts(input.engine);
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
