import { makeModel, type ModelSpec } from '../model.js';
import { asEncoder, encoderParts, servedHead } from './encoder.js';
import type { ConfigReader, Names } from './reader.js';

/**
 * ModernBERT (transformers configuration_modernbert.py, modeling_modernbert.py; Warner et al.
 * 2024): token embeddings (no position table: rotary) and a norm; pre-norm layers with a fused
 * Wqkv, Wo and a GeGLU MLP (Wi: hidden x 2 x intermediate, Wo), biases off by default
 * (attention_bias, mlp_bias false; norm_bias false makes the LayerNorms weight-only); layer 0's
 * attn_norm is an Identity; final_norm. Every global_attn_every_n_layers-th layer (from 0)
 * attends globally, the others over a local window of local_attention tokens.
 *
 * @example ModernBERT-base: embeddings 50368 x 768 + norm 768, 22 layers x (Wqkv 768 x 2304 + Wo 768 x 768
 *   + Wi 768 x 2304 + Wo 1152 x 768) = 110,297,088, 43 layer norms and final_norm x 768 = 149,014,272
 */
export function modernbert(r: ConfigReader, names: Names): ModelSpec {
  const hidden = r.optInt('hidden_size', 768);
  const heads = r.optInt('num_attention_heads', 12);
  const layers = r.optInt('num_hidden_layers', 22);
  const normBias = r.bool('norm_bias', false);
  const attentionBias = r.bool('attention_bias', false);
  const every = r.optInt('global_attn_every_n_layers', 3);
  const head = servedHead(r);
  const m = makeModel({
    ...names,
    layers,
    hidden,
    heads,
    headDim: hidden / heads,
    ffn: r.optInt('intermediate_size', 1152),
    vocab: r.optInt('vocab_size', 50368),
    gatedMlp: true,
    // a LayerNorm without bias counts like RMSNorm (one weight vector)
    norm: normBias ? 'layer' : 'rms',
    qkvBias: attentionBias,
    outBias: attentionBias,
    mlpBias: r.bool('mlp_bias', false),
    fusedQkv: true,
    maxContext: r.optInt('max_position_embeddings', 8192),
    dtype: r.str('torch_dtype', 'float32'),
  });
  const globalLayers = every > 0 ? Math.ceil(layers / every) : layers;
  const local = layers - globalLayers;
  const encoder = encoderParts({
    typeVocab: 0,
    finalNorm: true,
    firstLayerAttentionNormless: true,
    classifier: { labels: head.labels, dense: 'dense-norm' },
  });
  return asEncoder({ ...m, ...(local > 0 ? { slidingWindow: { window: r.optInt('local_attention', 128), localLayers: local } } : {}) }, encoder, head.task);
}
