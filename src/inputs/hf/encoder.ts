import { UserError } from '../../errors.js';
import type { EncoderParts, ModelSpec } from '../model.js';
import type { ConfigReader } from './reader.js';

/**
 * What the encoder readers share: which head a checkpoint's `architectures` names, and the
 * checks that keep a config this tool would misread from being read at all.
 */

/** The architecture class the config names (the first of `architectures`), or '' when absent. */
export const architectureOf = (r: ConfigReader): string => r.strings('architectures')?.[0] ?? '';

/**
 * num_labels as transformers derives it (configuration_utils.py PretrainedConfig: len(id2label)
 * when id2label is given, else num_labels, default 2).
 */
export function numLabels(r: ConfigReader): number {
  const id2label = r.object('id2label');
  if (id2label) return Object.keys(id2label).length;
  return r.optInt('num_labels', 2);
}

/**
 * The served head: a *ForSequenceClassification checkpoint is a reranker (cross-encoder) with
 * its classification head; anything else (*Model, *ForMaskedLM, *ForPreTraining, none) is
 * loaded as the base model for embeddings, the way sentence-transformers and TEI load it
 * (AutoModel), so MLM heads are not counted.
 */
export function servedHead(r: ConfigReader): { task: 'embedding' | 'rerank'; labels: number } {
  const arch = architectureOf(r);
  if (/ForSequenceClassification$/.test(arch)) return { task: 'rerank', labels: numLabels(r) };
  if (/For(TokenClassification|QuestionAnswering|MultipleChoice|CausalLM)$/.test(arch)) {
    throw new UserError(`${r.file}: architectures "${arch}" is not supported for an encoder (supported: *Model and *ForMaskedLM as embedding models, *ForSequenceClassification as rerankers)`);
  }
  return { task: 'embedding', labels: 0 };
}

/** Encoder fields with their defaults. */
export const encoderParts = (p: Partial<EncoderParts> & Pick<EncoderParts, 'typeVocab'>): EncoderParts => ({
  embeddingNorm: true,
  finalNorm: false,
  firstLayerAttentionNormless: false,
  pooler: false,
  classifier: { labels: 0, dense: 'none' },
  ...p,
});

/** Encoders carry no output head and no KV cache; this marks the spec so. */
export const asEncoder = (m: ModelSpec, encoder: EncoderParts, task: 'embedding' | 'rerank'): ModelSpec => ({ ...m, tiedEmbeddings: false, encoder, task });
