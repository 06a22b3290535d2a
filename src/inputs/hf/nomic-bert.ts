import { UserError } from '../../errors.js';
import { makeModel, type ModelSpec } from '../model.js';
import { asEncoder, encoderParts, servedHead } from './encoder.js';
import type { ConfigReader, Names } from './reader.js';

/**
 * nomic_bert (nomic-ai contrastors modeling_hf_nomic_bert.py, a GPT2Config subclass: n_embd,
 * n_layer, n_head, n_inner, n_positions): word and token-type embeddings with emb_ln (rotary
 * positions, no table); post-norm layers with a fused Wqkv (bias qkv_proj_bias), out_proj
 * (same bias flag), a SwiGLU MLP fc11/fc12/fc2 (biases mlp_fc1_bias, mlp_fc2_bias) and two
 * LayerNorms; no pooler.
 *
 * @example nomic-embed-text-v1.5: 30528 x 768 + 2 x 768 + 1536 + 12 x 9,440,256 = 136,731,648
 */
export function nomicBert(r: ConfigReader, names: Names, warnings: string[]): ModelSpec {
  if (r.optInt('num_experts', 0) > 0) throw new UserError(`${r.file}: nomic_bert with num_experts (nomic-embed-text-v2-moe) is not supported: its MoE layers would be read as dense`);
  const hidden = r.int('n_embd', 'hidden_size');
  const heads = r.int('n_head', 'num_attention_heads');
  const activation = r.str('activation_function', 'swiglu');
  const gated = /glu$/.test(activation);
  const qkvBias = r.bool('qkv_proj_bias', true);
  const fc1Bias = r.bool('mlp_fc1_bias', true);
  const fc2Bias = r.bool('mlp_fc2_bias', true);
  if (fc1Bias && !fc2Bias) warnings.push(`${r.file}: mlp_fc1_bias without mlp_fc2_bias: the down-projection bias is counted too`);
  const head = servedHead(r);
  const m = makeModel({
    ...names,
    layers: r.int('n_layer', 'num_hidden_layers'),
    hidden,
    heads,
    headDim: hidden / heads,
    ffn: r.optInt('n_inner', 4 * hidden),
    // contrastors NomicBertEmbeddings: the word embedding is padded to a multiple of pad_vocab_size_multiple
    vocab: Math.ceil(r.int('vocab_size') / r.optInt('pad_vocab_size_multiple', 1)) * r.optInt('pad_vocab_size_multiple', 1),
    gatedMlp: gated,
    norm: r.bool('use_rms_norm', false) ? 'rms' : 'layer',
    qkvBias,
    outBias: qkvBias,
    mlpBias: fc1Bias || fc2Bias,
    mlpDownBiasOnly: !fc1Bias && fc2Bias,
    fusedQkv: true,
    maxContext: r.optInt(['n_positions', 'max_position_embeddings'], 2048),
    dtype: r.str('torch_dtype', 'float32'),
  });
  const encoder = encoderParts({ typeVocab: r.optInt('type_vocab_size', 2), classifier: { labels: head.labels, dense: 'none' } });
  return asEncoder(m, encoder, head.task);
}
