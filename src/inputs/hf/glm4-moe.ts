import type { ModelSpec } from '../model.js';
import { readDecoder } from './decoder.js';
import type { FamilyReader } from './reader.js';

/**
 * GLM-4.5 / GLM-4.5-Air / GLM-4.6 (transformers configuration_glm4_moe.py, modeling_glm4_moe.py):
 * GQA attention with q/k/v biases (attention_bias) and optional per-head q/k norms
 * (use_qk_norm), partial rotary; the first first_k_dense_replace layers dense, the rest MoE with
 * n_routed_experts of moe_intermediate_size, n_shared_experts shared ones and a router whose
 * e_score_correction_bias is a saved buffer (Glm4MoeTopkRouter); num_nextn_predict_layers MTP
 * layers, each with its own embedding and head copies (the HF count of GLM-4.5-Air minus that of
 * the same architecture without MTP is exactly one such layer: test/architectures.test.ts).
 */
export const glm4Moe: FamilyReader = (r, n) => {
  const base = readDecoder(r, n);
  const bias = r.bool('attention_bias', false);
  const experts = r.optInt('n_routed_experts', 128);
  const expertFfn = r.optInt('moe_intermediate_size', 1408);
  r.ignore('partial_rotary_factor');
  const m: ModelSpec = {
    ...base,
    // Glm4MoeAttention: q/k/v_proj take attention_bias, o_proj has none
    qkvBias: bias,
    outBias: false,
    qkNorm: r.bool('use_qk_norm', false),
    moe: { experts, topK: r.optInt('num_experts_per_tok', 8), expertFfn, sharedExperts: r.optInt('n_shared_experts', 1), sharedFfn: expertFfn, denseLayers: Math.min(base.layers, r.optInt('first_k_dense_replace', 1)), bias: false },
    moeExtras: { routerCorrectionBias: true, sharedExpertGate: false },
    mtpLayers: r.optInt('num_nextn_predict_layers', 0),
  };
  return m;
};
