import { UserError } from '../../errors.js';
import { makeModel, type LayerKind, type Mixer, type Mlp, type ModelSpec } from '../model.js';
import { kindsOf, nonMoeLayers, perLayerList, readDecoder } from './decoder.js';
import type { ConfigReader, FamilyReader } from './reader.js';

/**
 * State-space and hybrid families: Jamba (Mamba + attention, MoE every other layer), Nemotron-H
 * (a pattern of Mamba-2, attention, MLP and MoE blocks), Granite 4.0-H (Mamba-2 + attention,
 * MoE with a shared MLP), Falcon-H1 (attention and Mamba-2 side by side in every layer) and
 * Mamba-2 itself. Field names and defaults follow transformers' configuration_<family>.py.
 */

/**
 * Jamba (configuration_jamba.py, modeling_jamba.py): layer i is attention when
 * i % attn_layer_period == attn_layer_offset, else Mamba; its feed-forward is a MoE of
 * num_experts when i % expert_layer_period == expert_layer_offset, else a dense MLP. Mamba:
 * inner = mamba_expand x hidden, dt_rank "auto" = ceil(hidden / 16), with dt/B/C RMSNorms.
 */
export const jamba: FamilyReader = (r, n) => {
  const base = readDecoder(r, n);
  const layers = base.layers;
  const attnPeriod = r.optInt('attn_layer_period', 8);
  const attnOffset = r.optInt('attn_layer_offset', 4);
  const expertPeriod = r.optInt('expert_layer_period', 2);
  const expertOffset = r.optInt('expert_layer_offset', 1);
  const experts = r.optInt('num_experts', 16);
  const dtRank = r.has('mamba_dt_rank') && r.config.mamba_dt_rank !== 'auto' ? r.int('mamba_dt_rank') : Math.ceil(base.hidden / 16);
  r.ignore('mamba_dt_rank');
  const mamba: Mixer = { kind: 'mamba', inner: r.optInt('mamba_expand', 2) * base.hidden, stateSize: r.optInt('mamba_d_state', 16), convKernel: r.optInt('mamba_d_conv', 4), dtRank, projBias: r.bool('mamba_proj_bias', false), convBias: r.bool('mamba_conv_bias', true), dtNorms: true };
  const layerKinds = kindsOf(layers, (i) => ({
    mixer: i % attnPeriod === attnOffset ? { kind: 'full' } : mamba,
    mlp: experts > 1 && i % expertPeriod === expertOffset ? { kind: 'moe' } : { kind: 'dense', ffn: base.ffn },
  }));
  return { ...base, layerKinds, moe: experts > 1 ? { experts, topK: r.optInt('num_experts_per_tok', 2), expertFfn: base.ffn, sharedExperts: 0, sharedFfn: 0, denseLayers: nonMoeLayers(layerKinds), bias: false } : undefined };
};

/** A Mamba-2 mixer from the given field names (Nemotron-H, Granite, Falcon-H1, Mamba-2 spell them differently). */
function mamba2Mixer(r: ConfigReader, f: { heads: string; headDim: string; state: string; groups: string; conv: string; projBias: string; convBias: string; norm?: string }, hidden: number, expandKey?: string): Mixer {
  const heads = r.int(f.heads);
  const headDim = r.has(f.headDim) && r.config[f.headDim] !== 'auto' ? r.int(f.headDim) : (r.optInt(expandKey ?? 'expand', 2) * hidden) / heads;
  r.ignore(f.headDim);
  return { kind: 'mamba2', heads, headDim, stateSize: r.optInt(f.state, 128), groups: r.optInt(f.groups, 1), convKernel: r.optInt(f.conv, 4), projBias: r.bool(f.projBias, false), convBias: r.bool(f.convBias, true), gatedNorm: f.norm ? r.bool(f.norm, true) : true };
}

/**
 * Nemotron-H (configuration_nemotron_h.py): hybrid_override_pattern has one character per
 * block: M a Mamba-2 mixer, * attention, - a non-gated (relu2) MLP, E a MoE; each block is one
 * RMSNorm and its mixer. vLLM keeps the SSM state in float32 for this family
 * (NemotronHForCausalLMConfig), or the config's mamba_ssm_cache_dtype.
 */
export const nemotronH: FamilyReader = (r, n) => {
  const pattern = r.str('hybrid_override_pattern', '');
  const list = pattern ? [...pattern] : perLayerList(r, 'layers_block_type', r.int('num_hidden_layers'), ['mamba', 'attention', 'mlp', 'moe'])?.map((t) => ({ mamba: 'M', attention: '*', mlp: '-', moe: 'E' })[t]!);
  if (!list) throw new UserError(`${r.file}: missing required field "hybrid_override_pattern" (or "layers_block_type")`);
  const bad = list.findIndex((c) => !'M*-E'.includes(c));
  if (bad >= 0) throw new UserError(`${r.file}: field "hybrid_override_pattern" character ${bad} is "${list[bad]}"; Nemotron-H blocks are M (Mamba-2), * (attention), - (MLP), E (MoE)`);
  const layers = r.optInt('num_hidden_layers', list.length);
  if (layers !== list.length) throw new UserError(`${r.file}: field "hybrid_override_pattern" has ${list.length} blocks but num_hidden_layers is ${layers}`);
  const hidden = r.int('hidden_size');
  const heads = r.int('num_attention_heads');
  const mixer = mamba2Mixer(r, { heads: 'mamba_num_heads', headDim: 'mamba_head_dim', state: 'ssm_state_size', groups: 'n_groups', conv: 'conv_kernel', projBias: 'use_bias', convBias: 'use_conv_bias' }, hidden);
  const ffn = r.int('intermediate_size');
  const experts = r.optInt('n_routed_experts', 0);
  const layerKinds = kindsOf(layers, (i): { mixer: Mixer; mlp: Mlp } => {
    switch (list[i]) {
      case 'M':
        return { mixer, mlp: { kind: 'none' } };
      case '*':
        return { mixer: { kind: 'full' }, mlp: { kind: 'none' } };
      case 'E':
        return { mixer: { kind: 'none' }, mlp: { kind: 'moe' } };
      default:
        return { mixer: { kind: 'none' }, mlp: { kind: 'dense', ffn } };
    }
  });
  if (list.includes('E') && experts === 0) throw new UserError(`${r.file}: field "hybrid_override_pattern" has MoE blocks (E) but "n_routed_experts" is missing`);
  const moeFfn = r.optInt('moe_intermediate_size', ffn);
  const attentionBias = r.bool('attention_bias', false);
  r.ignore('expand', 'mamba_ssm_cache_dtype', 'sliding_window', 'num_logits_to_keep');
  const m: ModelSpec = makeModel({
    ...n,
    layers,
    hidden,
    heads,
    kvHeads: r.optInt('num_key_value_heads', heads),
    headDim: r.optInt(['attention_head_dim', 'head_dim'], hidden / heads),
    ffn,
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', false),
    // NemotronHMLP: up_proj and down_proj with relu2, no gate
    gatedMlp: false,
    qkvBias: attentionBias,
    outBias: attentionBias,
    mlpBias: r.bool('mlp_bias', false),
    maxContext: r.optInt('max_position_embeddings', 4096),
    dtype: r.str('torch_dtype', 'bfloat16'),
    layerKinds,
    recurrentStateFormat: r.str('mamba_ssm_cache_dtype', 'float32') === 'float32' ? 'fp32' : undefined,
  });
  if (experts > 0) {
    const shared = r.optInt('n_shared_experts', 0);
    m.moe = { experts, topK: r.int('num_experts_per_tok'), expertFfn: moeFfn, sharedExperts: shared, sharedFfn: r.optInt('moe_shared_expert_intermediate_size', moeFfn), denseLayers: nonMoeLayers(layerKinds), bias: false };
    m.moeExtras = { routerCorrectionBias: true, sharedExpertGate: false };
  }
  return m;
};

/**
 * Granite 4.0-H (configuration_granitemoehybrid.py, modeling_granitemoehybrid.py): layer_types
 * lists mamba or attention per layer; every layer's feed-forward is a MoE of num_local_experts
 * (experts of intermediate_size, router without bias) plus a shared gated MLP of
 * shared_intermediate_size, or only the shared MLP when there are no experts. Mamba-2 mixers
 * with a gated RMSNorm; position_embedding_type nope means no rotary (no size change).
 */
export const graniteMoeHybrid: FamilyReader = (r, n) => {
  const base = readDecoder(r, n, false);
  const layers = base.layers;
  const types = perLayerList(r, 'layer_types', layers, ['mamba', 'attention']) ?? Array<string>(layers).fill('mamba');
  const mixer = mamba2Mixer(r, { heads: 'mamba_n_heads', headDim: 'mamba_d_head', state: 'mamba_d_state', groups: 'mamba_n_groups', conv: 'mamba_d_conv', projBias: 'mamba_proj_bias', convBias: 'mamba_conv_bias' }, base.hidden, 'mamba_expand');
  const experts = r.optInt('num_local_experts', 0);
  const shared = r.optInt('shared_intermediate_size', 0);
  r.ignore('mamba_expand', 'position_embedding_type', 'embedding_multiplier', 'logits_scaling', 'residual_multiplier', 'attention_multiplier', 'normalization_function', 'init_method');
  const mlp: Mlp = experts > 0 ? { kind: 'moe' } : { kind: 'dense', ffn: shared };
  const layerKinds = kindsOf(layers, (i) => ({ mixer: types[i] === 'attention' ? { kind: 'full' } : mixer, mlp }));
  return {
    ...base,
    ffn: experts > 0 ? base.ffn : shared,
    layerKinds,
    moe: experts > 0 ? { experts, topK: r.int('num_experts_per_tok'), expertFfn: base.ffn, sharedExperts: shared > 0 ? 1 : 0, sharedFfn: shared, denseLayers: 0, bias: false } : undefined,
  };
};

/**
 * Mamba-2 (configuration_mamba2.py, modeling_mamba2.py): every layer one RMSNorm and a Mamba-2
 * mixer (num_heads x head_dim = expand x hidden), no attention and no MLP.
 */
export const mamba2: FamilyReader = (r, n) => {
  const hidden = r.int('hidden_size');
  const mixer = mamba2Mixer(r, { heads: 'num_heads', headDim: 'head_dim', state: 'state_size', groups: 'n_groups', conv: 'conv_kernel', projBias: 'use_bias', convBias: 'use_conv_bias', norm: 'rms_norm' }, hidden);
  if (mixer.kind !== 'mamba2') throw new Error('unreachable');
  const layers = r.int('num_hidden_layers');
  r.ignore('expand', 'time_step_rank', 'norm_before_gate');
  return makeModel({
    ...n,
    layers,
    hidden,
    heads: mixer.heads,
    kvHeads: mixer.heads,
    headDim: mixer.headDim,
    ffn: mixer.heads * mixer.headDim,
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', false),
    maxContext: r.optInt('max_position_embeddings', 1_048_576),
    dtype: r.str('torch_dtype', 'bfloat16'),
    layerKinds: [{ mixer, mlp: { kind: 'none' }, layers: Array.from({ length: layers }, (_, i) => i) }],
  });
};

/**
 * Falcon-H1 (configuration_falcon_h1.py, modeling_falcon_h1.py): every layer runs attention and
 * a Mamba-2 mixer side by side on the same normed input, then a gated MLP (input_layernorm and
 * pre_ff_layernorm: two norms). The Mamba-2 part is listed as a second entry of the same layers
 * with no MLP and no norms of its own. mamba_d_ssm is the SSM width (else mamba_expand x hidden);
 * its gated RMSNorm exists only with mamba_rms_norm.
 */
export const falconH1: FamilyReader = (r, n) => {
  const base = readDecoder(r, n, false);
  const layers = base.layers;
  const heads = r.int('mamba_n_heads');
  const width = r.optInt('mamba_d_ssm', r.optInt('mamba_expand', 2) * base.hidden);
  const mixer: Mixer = { kind: 'mamba2', heads, headDim: r.optInt('mamba_d_head', width / heads), stateSize: r.optInt('mamba_d_state', 256), groups: r.optInt('mamba_n_groups', 1), convKernel: r.optInt('mamba_d_conv', 4), projBias: r.bool('mamba_proj_bias', false), convBias: r.bool('mamba_conv_bias', true), gatedNorm: r.bool('mamba_rms_norm', false) };
  r.ignore('mamba_expand', 'mamba_chunk_size', 'mamba_norm_before_gate', 'mamba_use_mlp', 'projectors_bias', 'attention_in_multiplier', 'attention_out_multiplier', 'key_multiplier', 'ssm_multipliers', 'ssm_in_multiplier', 'ssm_out_multiplier', 'mlp_multipliers', 'embedding_multiplier', 'lm_head_multiplier', 'mlp_expansion_factor');
  const all = Array.from({ length: layers }, (_, i) => i);
  const layerKinds: LayerKind[] = [
    { mixer: { kind: 'full' }, mlp: { kind: 'dense', ffn: base.ffn }, layers: all },
    { mixer, mlp: { kind: 'none' }, layers: all, norms: 0 },
  ];
  return { ...base, layerKinds };
};
