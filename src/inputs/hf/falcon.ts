import { makeModel, type ModelSpec } from '../model.js';
import type { ConfigReader, Names } from './reader.js';

/** Falcon (configuration_falcon.py, modeling_falcon.py); legacy RefinedWeb keys accepted. */
export function falcon(r: ConfigReader, names: Names): ModelSpec {
  const hidden = r.int('hidden_size', 'n_embd');
  const heads = r.int('num_attention_heads', 'n_head');
  const newArch = r.bool('new_decoder_architecture', r.str('model_type', '') === 'RefinedWeb');
  const multiQuery = r.bool('multi_query', true);
  // modeling_falcon.py FalconAttention: num_kv_heads if new_decoder_architecture or not multi_query, else 1
  const kvHeads = newArch || !multiQuery ? r.optInt(['num_kv_heads', 'n_head_kv'], heads) : 1;
  if (!newArch && multiQuery) r.ignore('num_kv_heads', 'n_head_kv');
  const parallel = r.bool('parallel_attn', true);
  const bias = r.bool('bias', false);
  // FalconDecoderLayer: new architecture has ln_attn and ln_mlp (num_ln_in_parallel_attn, default 2);
  // the old one with parallel attention a single input_layernorm.
  const norms = newArch ? r.optInt('num_ln_in_parallel_attn', 2) : parallel ? 1 : 2;
  return makeModel({
    ...names,
    layers: r.int('num_hidden_layers', 'n_layer'),
    hidden,
    heads,
    kvHeads,
    headDim: hidden / heads,
    ffn: r.optInt('ffn_hidden_size', 4 * hidden),
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', true),
    gatedMlp: false,
    norm: 'layer',
    normsPerLayer: norms,
    qkvBias: bias,
    outBias: bias,
    mlpBias: bias,
    fusedQkv: true,
    parallelAttention: parallel,
    maxContext: r.optInt('max_position_embeddings', 2048),
    dtype: r.str('torch_dtype', 'bfloat16'),
  });
}

