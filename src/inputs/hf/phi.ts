import { UserError } from '../../errors.js';
import { makeModel, type ModelSpec } from '../model.js';
import { readRopeScaling } from './decoder.js';
import type { ConfigReader, Names } from './reader.js';

/**
 * Phi-1, Phi-1.5 and Phi-2 (transformers configuration_phi.py, modeling_phi.py PhiForCausalLM):
 * one LayerNorm (weight and bias) per layer in front of attention and MLP, which run in parallel
 * on it (PhiDecoderLayer: attn_outputs + feed_forward_hidden_states + residual); q, k, v and the
 * output projection `dense` with biases; a plain MLP fc1 -> gelu_new -> fc2 with biases; a final
 * LayerNorm and an lm_head with a bias. Rotary positions on partial_rotary_factor of each head
 * change no size. Defaults are PhiConfig's (Phi-1.5's shape).
 *
 * @example Phi-2: 51200 x 2560 + 32 x (4 x 2560^2 + 4 x 2560 + 2 x 2560 x 10240 + 10240 + 2560
 *   + 2 x 2560) + 2 x 2560 + 51200 x 2560 + 51200 = 2,779,683,840
 */
export function phi(r: ConfigReader, names: Names): ModelSpec {
  const hidden = r.optInt('hidden_size', 2048);
  const heads = r.optInt('num_attention_heads', 32);
  // PhiAttention q_layernorm / k_layernorm (LayerNorms over head_dim): no released checkpoint sets it
  if (r.bool('qk_layernorm', false)) throw new UserError(`${r.file}: field "qk_layernorm" true is not modelled by the phi reader (no released Phi-1/1.5/2 checkpoint sets it); describe the model with --layers --hidden --heads --ffn --vocab or a --spec file`);
  const maxPositions = r.optInt('max_position_embeddings', 2048);
  const ropeScaling = readRopeScaling(r, maxPositions);
  return makeModel({
    ...names,
    ...(ropeScaling ? { ropeScaling } : {}),
    layers: r.optInt('num_hidden_layers', 24),
    hidden,
    heads,
    kvHeads: r.optInt('num_key_value_heads', heads),
    headDim: hidden / heads,
    ffn: r.optInt('intermediate_size', 8192),
    vocab: r.optInt('vocab_size', 51200),
    tiedEmbeddings: r.bool('tie_word_embeddings', false),
    gatedMlp: false,
    norm: 'layer',
    normsPerLayer: 1,
    qkvBias: true,
    outBias: true,
    mlpBias: true,
    lmHeadBias: true,
    parallelAttention: true,
    maxContext: ropeScaling ? ropeScaling.scaledContext : maxPositions,
    dtype: r.str('torch_dtype', 'float16'),
  });
}
