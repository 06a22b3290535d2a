import { makeModel, type ModelSpec } from '../model.js';
import { ConfigReader, type Names } from './reader.js';

/**
 * MPT (MosaicML llm-foundry configuration_mpt.py / modeling_mpt.py): d_model, n_heads, n_layers,
 * expansion_ratio, max_seq_len; fused Wqkv (attn_config.attn_type multihead, multiquery or
 * grouped_query with kv_n_heads); GELU MLP (ffn_config.ffn_type mptglu: gated); the output head
 * is the shared wte; no_bias drops every linear and LayerNorm bias (a weight-only LayerNorm
 * counts like RMSNorm); ALiBi means no position table (modeling_mpt.py: wpe only when not alibi).
 */
export function mpt(r: ConfigReader, names: Names, warnings: string[]): ModelSpec {
  const hidden = r.int('d_model');
  const heads = r.int('n_heads');
  const attn = new ConfigReader(r.object('attn_config') ?? {}, r.file, 'attn_config.');
  const ffn = new ConfigReader(r.object('ffn_config') ?? {}, r.file, 'ffn_config.');
  const attnType = attn.str('attn_type', 'multihead_attention');
  const kvHeads = attnType === 'multiquery_attention' ? 1 : attnType === 'grouped_query_attention' ? attn.int('kv_n_heads') : heads;
  const alibi = attn.bool('alibi', false);
  if (attn.bool('qk_ln', false)) warnings.push(`${r.file}: attn_config.qk_ln LayerNorms on queries and keys are not counted`);
  const bias = !r.bool('no_bias', false);
  const maxSeqLen = r.optInt('max_seq_len', 2048);
  const expansion = r.optInt('expansion_ratio', 4);
  return makeModel({
    ...names,
    layers: r.int('n_layers'),
    hidden,
    heads,
    kvHeads,
    headDim: hidden / heads,
    ffn: ffn.optInt('ffn_hidden_size', expansion * hidden),
    vocab: r.int('vocab_size'),
    tiedEmbeddings: r.bool('tie_word_embeddings', true),
    gatedMlp: ffn.str('ffn_type', 'mptmlp') === 'mptglu',
    norm: bias ? 'layer' : 'rms',
    qkvBias: bias,
    outBias: bias,
    mlpBias: bias,
    fusedQkv: true,
    learnedPositions: !alibi && r.bool('learned_pos_emb', true) ? maxSeqLen : 0,
    maxContext: maxSeqLen,
    dtype: r.str('torch_dtype', 'bfloat16'),
  });
}

