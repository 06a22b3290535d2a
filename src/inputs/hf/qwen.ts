import { qwenWindow, readDecoder } from './decoder.js';
import type { ConfigReader, FamilyReader } from './reader.js';

/**
 * Qwen2-MoE / Qwen3-MoE layer pattern (modeling_qwen3_moe.py Qwen3MoeDecoderLayer): layer i is
 * sparse unless listed in mlp_only_layers or (i + 1) % decoder_sparse_step != 0.
 */
function qwenDenseLayers(r: ConfigReader, layers: number): number {
  const step = r.optInt('decoder_sparse_step', 1);
  const only = new Set(r.ints('mlp_only_layers'));
  let dense = 0;
  for (let i = 0; i < layers; i++) if (only.has(i) || step === 0 || (i + 1) % step !== 0) dense++;
  return dense;
}


/** configuration_qwen2.py: q/k/v projections carry biases, o_proj does not. */
export const qwen2: FamilyReader = (r, n) => qwenWindow(r, { ...readDecoder(r, n), qkvBias: true, outBias: false });

/** configuration_qwen2_moe.py: routed experts, one shared expert with a sigmoid gate. */
export const qwen2Moe: FamilyReader = (r, n) => {
  const m = qwenWindow(r, { ...readDecoder(r, n), qkvBias: true, outBias: false });
  const sharedFfn = r.optInt('shared_expert_intermediate_size', 0);
  return { ...m, moe: { experts: r.int('num_experts'), topK: r.int('num_experts_per_tok'), expertFfn: r.int('moe_intermediate_size'), sharedExperts: sharedFfn > 0 ? 1 : 0, sharedFfn, denseLayers: qwenDenseLayers(r, m.layers), bias: false }, moeExtras: { routerCorrectionBias: false, sharedExpertGate: sharedFfn > 0 } };
};

/** configuration_qwen3.py: per-head q_norm/k_norm, explicit head_dim, attention_bias false. */
export const qwen3: FamilyReader = (r, n) => qwenWindow(r, { ...readDecoder(r, n), qkNorm: true });

export const qwen3Moe: FamilyReader = (r, n) => {
  const m = qwenWindow(r, { ...readDecoder(r, n), qkNorm: true });
  return { ...m, moe: { experts: r.int('num_experts'), topK: r.int('num_experts_per_tok'), expertFfn: r.int('moe_intermediate_size'), sharedExperts: 0, sharedFfn: 0, denseLayers: qwenDenseLayers(r, m.layers), bias: false } };
};
