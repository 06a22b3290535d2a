import { UserError } from '../../errors.js';
import { makeModel, type ModelSpec } from '../model.js';
import { asEncoder, encoderParts, servedHead } from './encoder.js';
import type { ConfigReader, Names } from './reader.js';

/**
 * BERT, RoBERTa and XLM-RoBERTa (transformers configuration_bert.py, modeling_bert.py,
 * modeling_roberta.py, modeling_xlm_roberta.py): word, learned position and token-type
 * embeddings with a LayerNorm; post-norm layers of separate q/k/v/o projections and a GELU MLP,
 * every Linear with a bias and two LayerNorms; a pooler (dense h x h) in the base model.
 * Rerankers (*ForSequenceClassification): BERT keeps the pooler and adds Linear(h, labels);
 * RoBERTa/XLM-R drop the pooler (add_pooling_layer=False) for RobertaClassificationHead.
 *
 * @example bert-base-uncased: 30522 x 768 + 512 x 768 + 2 x 768 + 1536 + 12 x 7,087,872
 *   + pooler 590,592 = 109,482,240
 */
export function bert(r: ConfigReader, names: Names): ModelSpec {
  const hidden = r.int('hidden_size');
  const heads = r.int('num_attention_heads');
  const roberta = names.family === 'roberta' || names.family === 'xlm-roberta';
  const positionType = r.str('position_embedding_type', 'absolute');
  if (positionType !== 'absolute') throw new UserError(`${r.file}: position_embedding_type "${positionType}" is not supported (only "absolute": relative-key position tables are not counted)`);
  const positions = r.optInt('max_position_embeddings', 512);
  const head = servedHead(r);
  // RoBERTa position ids start after padding_idx (create_position_ids_from_input_ids:
  // padding_idx + 1 + position), so 514 rows hold 512 tokens and bge-m3's 8194 hold 8192.
  const padding = roberta ? r.optInt('pad_token_id', 1) + 1 : 0;
  const m = makeModel({
    ...names,
    layers: r.int('num_hidden_layers'),
    hidden,
    heads,
    headDim: hidden / heads,
    ffn: r.int('intermediate_size'),
    vocab: r.int('vocab_size'),
    gatedMlp: false,
    norm: 'layer',
    qkvBias: true,
    outBias: true,
    mlpBias: true,
    learnedPositions: positions,
    maxContext: positions - padding,
    dtype: r.str('torch_dtype', 'float32'),
  });
  const encoder = encoderParts({
    typeVocab: r.optInt('type_vocab_size', 2),
    pooler: !(roberta && head.task === 'rerank'),
    classifier: { labels: head.labels, dense: roberta ? 'dense' : 'none' },
  });
  return asEncoder(m, encoder, head.task);
}
