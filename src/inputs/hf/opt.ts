import { makeModel, type ModelSpec } from '../model.js';
import type { ConfigReader, Names } from './reader.js';

/** OPT (modeling_opt.py): learned positions with an offset of 2 rows, ReLU MLP, LayerNorm, biases. */
export function opt(r: ConfigReader, names: Names, warnings: string[]): ModelSpec {
  const hidden = r.int('hidden_size');
  const heads = r.int('num_attention_heads');
  const maxPositions = r.optInt('max_position_embeddings', 2048);
  const bias = r.bool('enable_bias', true);
  if (r.optInt('word_embed_proj_dim', hidden) !== hidden) warnings.push(`${r.file}: word_embed_proj_dim differs from hidden_size (OPT-350m); the project_in/project_out matrices are not counted`);
  return makeModel({
    ...names,
    layers: r.int('num_hidden_layers'),
    hidden,
    heads,
    headDim: hidden / heads,
    ffn: r.int('ffn_dim'),
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', true),
    gatedMlp: false,
    norm: 'layer',
    qkvBias: bias,
    outBias: bias,
    mlpBias: bias,
    // OPTLearnedPositionalEmbedding: num_embeddings + offset 2
    learnedPositions: maxPositions + 2,
    maxContext: maxPositions,
    dtype: r.str('torch_dtype', 'float16'),
  });
}

