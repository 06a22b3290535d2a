import { readDecoder } from './decoder.js';
import type { FamilyReader } from './reader.js';

/**
 * OLMo 2 (transformers configuration_olmo2.py, modeling_olmo2.py): the Llama layout with RMSNorms
 * after attention and after the MLP (post_attention_layernorm, post_feedforward_layernorm: still
 * two per layer) and q/k RMSNorms over all heads (q_norm of heads x head_dim, k_norm of kv heads
 * x head_dim).
 */
export const olmo2: FamilyReader = (r, n) => ({ ...readDecoder(r, n), qkNorm: true, qkNormPerLayer: true });
