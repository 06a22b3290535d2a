import { kindsOf, nonMoeLayers, readDecoder } from './decoder.js';
import type { FamilyReader } from './reader.js';

/**
 * ERNIE 4.5 MoE (transformers configuration_ernie4_5_moe.py, modeling_ernie4_5_moe.py): layer i is
 * MoE when (i + 1) % moe_layer_interval == 0 and moe_layer_start_index <= i <= moe_layer_end_index
 * (-1: the last layer), else a dense MLP of intermediate_size; the MoE has moe_num_experts of
 * moe_intermediate_size, a router without bias, moe_num_shared_experts shared experts as one MLP
 * of moe_num_shared_experts x moe_intermediate_size, and e_score_correction_bias (moe_statics).
 * use_bias puts biases on the attention and MLP projections.
 */
export const ernie45Moe: FamilyReader = (r, n) => {
  const base = readDecoder(r, n, true);
  const layers = base.layers;
  const bias = r.bool('use_bias', false);
  const start = r.optInt('moe_layer_start_index', 1);
  const endRaw = r.config.moe_layer_end_index;
  const end = typeof endRaw === 'number' && endRaw >= 0 ? endRaw : layers - 1;
  r.ignore('moe_layer_end_index', 'moe_use_aux_free', 'moe_norm_min', 'moe_capacity', 'moe_gate', 'moe_k_mod');
  const interval = r.optInt('moe_layer_interval', 1);
  const experts = r.optInt('moe_num_experts', 64);
  const expertFfn = r.optInt('moe_intermediate_size', 1536);
  const shared = r.optInt('moe_num_shared_experts', 0);
  const layerKinds = kindsOf(layers, (i) => ({ mixer: { kind: 'full' }, mlp: (i + 1) % interval === 0 && i >= start && i <= end ? { kind: 'moe' } : { kind: 'dense', ffn: base.ffn } }));
  return {
    ...base,
    qkvBias: bias,
    outBias: bias,
    mlpBias: bias,
    layerKinds,
    moe: { experts, topK: r.optInt('moe_k', 6), expertFfn, sharedExperts: shared, sharedFfn: expertFfn, denseLayers: nonMoeLayers(layerKinds), bias: false },
    moeExtras: { routerCorrectionBias: true, sharedExpertGate: false },
    mtpLayers: r.optInt('num_nextn_predict_layers', 0),
  };
};
