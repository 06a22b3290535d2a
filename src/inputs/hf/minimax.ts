import { UserError } from '../../errors.js';
import type { Mixer, ModelSpec } from '../model.js';
import { kindsOf, readDecoder } from './decoder.js';
import type { FamilyReader } from './reader.js';

/**
 * MiniMax-M2 (transformers configuration_minimax_m2.py / the repo's modeling_minimax_m2.py):
 * GQA attention without biases, q/k RMSNorm over all heads (qk_norm_type per_layer: q_norm of
 * heads x head_dim, k_norm of kv heads x head_dim), every layer a MoE of num_local_experts of
 * intermediate_size with a sigmoid router and its e_score_correction_bias (use_routing_bias),
 * no shared expert. The MTP modules (use_mtp) are not in the released checkpoint: its HF count
 * equals this reader's count without them (test/architectures.test.ts).
 */
export const minimaxM2: FamilyReader = (r, n) => {
  const base = readDecoder(r, n);
  const qkNorm = r.bool('use_qk_norm', true);
  const perLayer = r.str('qk_norm_type', 'per_layer') === 'per_layer';
  if (r.optInt('shared_intermediate_size', 0) > 0) throw new UserError(`${r.file}: field "shared_intermediate_size" > 0: a MiniMax-M2 with shared experts is not modelled; describe it with a spec file`);
  r.ignore('use_mtp', 'mtp_transformer_layers', 'num_mtp_modules', 'rotary_dim', 'attn_type_list');
  return {
    ...base,
    qkNorm,
    qkNormPerLayer: perLayer,
    moe: { experts: r.int('num_local_experts'), topK: r.int('num_experts_per_tok'), expertFfn: base.ffn, sharedExperts: 0, sharedFfn: 0, denseLayers: 0, bias: false },
    moeExtras: { routerCorrectionBias: r.bool('use_routing_bias', true), sharedExpertGate: false },
  };
};

/**
 * MiniMax-Text-01 / MiniMax-M1 (the repos' modeling_minimax_text_01.py; transformers
 * modeling_minimax.py; vLLM minimax_text_01.py): layers are lightning (linear) attention or
 * softmax attention by attn_type_list (0 linear, 1 softmax; transformers writes layer_types),
 * every layer a MoE of num_local_experts. Lightning attention: qkv_proj, output_gate, an
 * RMSNorm over heads x head_dim and out_proj, with a heads x head_dim x head_dim state per
 * sequence (vLLM MambaStateShapeCalculator.linear_attention_state_shape).
 */
export const minimaxText01: FamilyReader = (r, n) => {
  const base = readDecoder(r, n);
  const layers = base.layers;
  let softmax: boolean[];
  const types = r.strings('layer_types');
  if (types) {
    if (types.length !== layers) throw new UserError(`${r.file}: field "layer_types" has ${types.length} entries but the model has ${layers} layers`);
    softmax = types.map((t) => t === 'full_attention');
  } else {
    const list = r.ints('attn_type_list');
    if (list.length !== layers) throw new UserError(`${r.file}: field "attn_type_list" needs one entry per layer (${layers}), got ${list.length}`);
    softmax = list.map((t) => t === 1);
  }
  const lightning: Mixer = { kind: 'lightning', heads: base.heads, headDim: base.headDim };
  // MiniMax-M1's modeling_minimax_m1.py adds a shared MLP blended by a sigmoid coefficient only
  // when shared_intermediate_size > 0 (the released M1 config.json has 0 and shared_moe_mode "sigmoid").
  if (r.optInt('shared_intermediate_size', 0) > 0) throw new UserError(`${r.file}: field "shared_intermediate_size" > 0: a MiniMax-M1 shared MLP is not modelled; describe it with a spec file`);
  r.ignore('shared_moe_mode');
  r.ignore('rotary_dim', 'postnorm', 'layernorm_full_attention_alpha', 'layernorm_full_attention_beta', 'layernorm_linear_attention_alpha', 'layernorm_linear_attention_beta', 'layernorm_mlp_alpha', 'layernorm_mlp_beta', 'block_size', 'shared_moe', 'attn_window_size', 'full_attn_alpha_factor', 'full_attn_beta_factor', 'linear_attn_alpha_factor', 'linear_attn_beta_factor', 'mlp_alpha_factor', 'mlp_beta_factor');
  const m: ModelSpec = {
    ...base,
    layerKinds: kindsOf(layers, (i) => ({ mixer: softmax[i] ? { kind: 'full' } : lightning, mlp: { kind: 'moe' } })),
    moe: { experts: r.int('num_local_experts'), topK: r.int('num_experts_per_tok'), expertFfn: base.ffn, sharedExperts: 0, sharedFfn: 0, denseLayers: 0, bias: false },
  };
  return m;
};
