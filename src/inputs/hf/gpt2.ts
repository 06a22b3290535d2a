import { makeModel, type ModelSpec } from '../model.js';
import type { ConfigReader, Names } from './reader.js';

/** GPT-2 (configuration_gpt2.py: n_embd, n_layer, n_head, n_inner, n_positions; Conv1D with biases). */
export function gpt2(r: ConfigReader, names: Names): ModelSpec {
  const hidden = r.int('n_embd', 'hidden_size');
  const heads = r.int('n_head', 'num_attention_heads');
  const positions = r.optInt(['n_positions', 'max_position_embeddings'], 1024);
  return makeModel({
    ...names,
    layers: r.int('n_layer', 'num_hidden_layers'),
    hidden,
    heads,
    headDim: hidden / heads,
    ffn: r.optInt('n_inner', 4 * hidden),
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', true),
    gatedMlp: false,
    norm: 'layer',
    qkvBias: true,
    outBias: true,
    mlpBias: true,
    fusedQkv: true,
    learnedPositions: positions,
    maxContext: positions,
    dtype: r.str('torch_dtype', 'float32'),
  });
}

