import type { Mixer, Mlp, ModelSpec } from '../model.js';
import { kindsOf, nonMoeLayers, perLayerList, readDecoder } from './decoder.js';
import type { FamilyReader } from './reader.js';

/**
 * Qwen3-Next (transformers configuration_qwen3_next.py, modeling_qwen3_next.py): layers alternate
 * Gated DeltaNet linear attention and gated full attention (layer_types, by default every
 * full_attention_interval-th layer is full attention); every layer's MLP is a sparse MoE with
 * one shared expert and its sigmoid gate unless mlp_only_layers or decoder_sparse_step say
 * dense. Full attention's q_proj also produces the output gate (2 x heads x head_dim), with
 * per-head q/k norms. The checkpoint carries one MTP layer (mtp.fc, two pre-fc norms, one full
 * attention + MoE layer, a norm; vLLM qwen3_next_mtp.py) sharing the embedding and head.
 */
export const qwen3Next: FamilyReader = (r, n) => {
  const base = readDecoder(r, n);
  const layers = base.layers;
  const interval = r.optInt('full_attention_interval', 4);
  const types = perLayerList(r, 'layer_types', layers, ['linear_attention', 'full_attention']) ?? Array.from({ length: layers }, (_, i) => ((i + 1) % interval === 0 ? 'full_attention' : 'linear_attention'));
  const linear: Mixer = {
    kind: 'gated-deltanet',
    keyHeads: r.optInt('linear_num_key_heads', 16),
    valueHeads: r.optInt('linear_num_value_heads', 32),
    keyHeadDim: r.optInt('linear_key_head_dim', 128),
    valueHeadDim: r.optInt('linear_value_head_dim', 128),
    convKernel: r.optInt('linear_conv_kernel_dim', 4),
  };
  const experts = r.optInt('num_experts', 512);
  const step = r.optInt('decoder_sparse_step', 1);
  const only = new Set(r.ints('mlp_only_layers'));
  const dense: Mlp = { kind: 'dense', ffn: base.ffn };
  const layerKinds = kindsOf(layers, (i) => ({
    mixer: types[i] === 'full_attention' ? { kind: 'full' } : linear,
    // Qwen3NextDecoderLayer: MoE when not in mlp_only_layers and num_experts > 0 and (i + 1) % decoder_sparse_step == 0
    mlp: !only.has(i) && experts > 0 && step > 0 && (i + 1) % step === 0 ? { kind: 'moe' } : dense,
  }));
  const sharedFfn = r.optInt('shared_expert_intermediate_size', 512);
  r.ignore('use_sliding_window', 'sliding_window', 'max_window_layers', 'partial_rotary_factor');
  const m: ModelSpec = {
    ...base,
    qkNorm: true,
    attentionOutputGate: true,
    layerKinds,
    moe: experts > 0 ? { experts, topK: r.optInt('num_experts_per_tok', 10), expertFfn: r.optInt('moe_intermediate_size', 512), sharedExperts: sharedFfn > 0 ? 1 : 0, sharedFfn, denseLayers: nonMoeLayers(layerKinds), bias: false } : undefined,
    moeExtras: { routerCorrectionBias: false, sharedExpertGate: sharedFfn > 0 },
    mtpLayers: r.optInt('num_nextn_predict_layers', 1),
    mtpSharesEmbeddings: true,
  };
  return m;
};
