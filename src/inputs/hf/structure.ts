import type { HfConfig } from './reader.js';

/**
 * No silent misreads: the keys of a config.json that change a model's structure (experts,
 * linear attention, SSM layers, layer patterns, windows, MLA, cross-attention, towers) and
 * that the family's reader did not read. A reader that meets one it does not model must not
 * answer as if it were absent; importHfConfig turns these into exit 2.
 */

/** Name fragments of keys that change the structure: sizes, layer kinds, experts, state, towers. */
const STRUCTURAL = /expert|moe|router|mamba|ssm|conv|linear_|layer_type|block_type|hybrid|pattern|sliding|window|chunk|lora_rank|nope|rope_head|v_head|cross_att|encoder|vision|audio|d_state|state_size|dt_rank|time_step_rank|attn_layer|attn_type|full_attention|interleave|no_rope|nextn|mtp|^index_|shared|dense|sparse|altup|laurel|per_layer|kv_shared|topk|top_k|num_local|parallel|n_layer|num_layers|intermediate|multiple_of|expand|d_inner|num_heads|head_dim|kv_channels|ffn|^mlp|n_head|n_embd|d_model|hidden_size|vocab|position_embeddings|kv_heads|group/i;

/**
 * Keys whose name looks structural but whose value changes no size or kind: routing and
 * training knobs, kernel choices, initialisation, token ids.
 */
const HARMLESS = new Set([
  'router_aux_loss_coef', 'output_router_logits', 'router_jitter_noise', 'router_z_loss_coef', 'moe_aux_loss_coeff', 'router_bias',
  'n_group', 'topk_group', 'topk_method', 'routed_scaling_factor', 'norm_topk_prob', 'scoring_func', 'ep_size', 'moe_router_activation_func',
  'use_mamba_kernels', 'mamba_chunk_size', 'time_step_rank', 'chunk_size', 'time_step_min', 'time_step_max', 'time_step_floor', 'time_step_limit', 'time_step_init_scheme', 'time_step_scale',
  'mamba_dt_rank_floor', 'rescale_prenorm_residual', 'residual_in_fp32', 'mamba_hidden_act', 'mlp_hidden_act', 'hidden_act', 'hidden_activation',
  'pretraining_tp', 'rope_local_base_freq', 'attn_logit_softcapping', 'final_logit_softcapping', 'query_pre_attn_scalar', 'partial_rotary_factor',
  'use_qk_norm_in_mamba', 'mamba_ssm_cache_dtype', 'mamba_rms_norm', 'layer_norm_epsilon', 'moe_layer_start_index_deprecated',
  'init_config', 'dense_seq_output', 'original_max_position_embeddings', 'initializer_range', 'classifier_dropout', 'use_cache', 'transformers_version', 'architectures', 'auto_map', 'model_type', 'torch_dtype', 'dtype',
]);

/** A value that switches nothing on: null, false, 0, an empty list or object. */
const neutral = (v: unknown): boolean => v === null || v === undefined || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/**
 * Structural keys of `config` the reader left unread (`used` holds what it read, nested keys as
 * "text_config.key"); nested objects the reader read wholesale count as read.
 */
export function unreadStructuralKeys(config: HfConfig, used: ReadonlySet<string>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    const path = prefix + key;
    if (used.has(path)) {
      const nested = value !== null && typeof value === 'object' && !Array.isArray(value);
      if (nested && [...used].some((u) => u.startsWith(`${path}.`))) out.push(...unreadStructuralKeys(value as HfConfig, used, `${path}.`));
      continue;
    }
    if (HARMLESS.has(key) || key.endsWith('_token_id') || key.endsWith('_token_index') || /dropout|_eps$|initializer|^_/.test(key)) continue;
    if (neutral(value)) continue;
    if (STRUCTURAL.test(key) || (value !== null && typeof value === 'object' && !Array.isArray(value) && /_config$/.test(key))) out.push(path);
  }
  return out;
}
