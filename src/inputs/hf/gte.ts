import { UserError } from '../../errors.js';
import { makeModel, type ModelSpec } from '../model.js';
import { asEncoder, encoderParts, servedHead } from './encoder.js';
import type { ConfigReader, Names } from './reader.js';

/**
 * gte v1.5 / gte-multilingual, model_type "new" (Alibaba-NLP/new-impl modeling.py): word and
 * token-type embeddings (type_vocab_size, 0 for the English models) with a LayerNorm, rotary
 * positions; post-norm layers with qkv_proj (hidden x 3 hidden + bias), o_proj (+ bias), a
 * gated MLP whose up_gate_proj (hidden x 2 intermediate) has no bias and whose down_proj has
 * one, and two norms (layer_norm_type); no pooler in the embedding model.
 */
export function gte(r: ConfigReader, names: Names): ModelSpec {
  const hidden = r.int('hidden_size');
  const heads = r.int('num_attention_heads');
  const positionType = r.str('position_embedding_type', 'rope');
  if (positionType !== 'rope') throw new UserError(`${r.file}: position_embedding_type "${positionType}" is not supported for model_type "new" (only "rope")`);
  const normType = r.str('layer_norm_type', 'layer_norm');
  const head = servedHead(r);
  const m = makeModel({
    ...names,
    layers: r.int('num_hidden_layers'),
    hidden,
    heads,
    headDim: hidden / heads,
    ffn: r.int('intermediate_size'),
    vocab: r.int('vocab_size'),
    gatedMlp: true,
    norm: normType === 'rms_norm' ? 'rms' : 'layer',
    qkvBias: true,
    outBias: true,
    mlpBias: true,
    mlpDownBiasOnly: true,
    fusedQkv: r.bool('pack_qkv', true),
    maxContext: r.optInt('max_position_embeddings', 8192),
    dtype: r.str('torch_dtype', 'float32'),
  });
  const encoder = encoderParts({ typeVocab: r.optInt('type_vocab_size', 0), classifier: { labels: head.labels, dense: 'none' } });
  return asEncoder(m, encoder, head.task);
}
