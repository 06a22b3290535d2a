import type { ModelSpec } from '../spec/model.js';
import { sum, term, type Figures } from './terms.js';

/**
 * Parameter counts from the architecture, exactly, by summing each weight matrix, bias and
 * norm vector the way Hugging Face transformers builds the model (modeling_llama.py,
 * modeling_mistral.py, modeling_qwen2.py, modeling_mixtral.py, modeling_deepseek_v3.py).
 *
 * @example Llama-3.1-8B: 2 x 128256 x 4096 + 32 x 218,112,000 + 4096 = 8,030,261,248
 */

const SOURCE = 'Hugging Face transformers modeling_<family>.py: one term per weight, bias and norm vector';

/** Parameters of one MLP with hidden h and intermediate f. */
export function mlpParams(m: ModelSpec, f: number, bias = m.mlpBias): number {
  const matrices = m.gatedMlp ? 3 * m.hidden * f : 2 * m.hidden * f;
  const biases = bias ? (m.gatedMlp ? 2 * f : f) + m.hidden : 0;
  return matrices + biases;
}

/** Attention parameters of one layer: projections, their biases and q/k norms. */
export function attentionParamsPerLayer(m: ModelSpec): number {
  const h = m.hidden;
  if (m.mla) {
    // DeepSeek-V2/V3 (modeling_deepseek_v3.py DeepseekV3Attention): low-rank q and kv with a
    // decoupled rotary part; q_a/kv_a layernorms are part of attention.
    const { qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim } = m.mla;
    const qHead = qkNopeHeadDim + qkRopeHeadDim;
    const q = qLoraRank > 0 ? h * qLoraRank + qLoraRank + qLoraRank * m.heads * qHead : h * m.heads * qHead;
    const kvA = h * (kvLoraRank + qkRopeHeadDim) + kvLoraRank;
    const kvB = kvLoraRank * m.heads * (qkNopeHeadDim + vHeadDim);
    const o = m.heads * vHeadDim * h + (m.outBias ? h : 0);
    return q + kvA + kvB + o;
  }
  const qDim = m.heads * m.headDim;
  const kvDim = m.kvHeads * m.headDim;
  const projections = h * qDim + 2 * h * kvDim + qDim * h;
  const biases = (m.qkvBias ? qDim + 2 * kvDim : 0) + (m.outBias ? h : 0);
  const qkNorm = m.qkNorm ? 2 * m.headDim : 0;
  return projections + biases + qkNorm;
}

/** Layers whose MLP is a mixture of experts. */
export const moeLayers = (m: ModelSpec): number => (m.moe ? m.layers - m.moe.denseLayers : 0);

/** Parameters of one routed expert. */
export const expertParams = (m: ModelSpec): number => (m.moe ? mlpParams(m, m.moe.expertFfn, m.moe.bias) : 0);

/** Parameters in all MLPs: dense layers, routed and shared experts, routers. */
function mlpParamsTotal(m: ModelSpec): number {
  if (!m.moe) return m.layers * mlpParams(m, m.ffn);
  const { experts, sharedExperts, sharedFfn, denseLayers, bias } = m.moe;
  const router = m.hidden * experts + (bias ? experts : 0);
  const shared = sharedExperts > 0 ? mlpParams(m, sharedFfn * sharedExperts) : 0;
  return denseLayers * mlpParams(m, m.ffn) + moeLayers(m) * (router + experts * expertParams(m) + shared);
}

const normParams = (m: ModelSpec): number => (m.norm === 'layer' ? 2 : 1) * m.hidden;

/**
 * Adds params.* figures and returns { total, active }. With --params the count is taken as
 * given (exact) and the breakdown is omitted, since it would rest on an assumed shape.
 */
export function paramsFigures(fig: Figures, m: ModelSpec): { total: number; active: number; embedding: number } {
  const embedding = term(
    fig,
    'params.embedding',
    'Embedding parameters',
    'params',
    m.vocab * m.hidden + m.learnedPositions * m.hidden,
    'vocab x hidden + learnedPositions x hidden',
    { vocab: m.vocab, hidden: m.hidden, learnedPositions: m.learnedPositions },
    SOURCE,
    m.shapeAssumed,
  );
  if (m.paramsOverride !== undefined) {
    const total = term(fig, 'params.total', 'Parameters', 'params', m.paramsOverride, 'given (--params)', { params: m.paramsOverride }, 'user input');
    term(fig, 'params.active', 'Active parameters per token', 'params', total, 'params.total (dense)', { total }, 'user input');
    return { total, active: total, embedding };
  }
  const perLayerAttention = attentionParamsPerLayer(m);
  term(fig, 'params.attention', 'Attention parameters', 'params', m.layers * perLayerAttention, 'layers x (q, k, v, o projections + biases + q/k norms)', { layers: m.layers, perLayer: perLayerAttention }, SOURCE);
  term(fig, 'params.mlp', m.moe ? 'MLP and expert parameters' : 'MLP parameters', 'params', mlpParamsTotal(m), m.moe ? 'denseLayers x mlp(ffn) + moeLayers x (router + experts x mlp(expertFfn) + shared)' : `layers x ${m.gatedMlp ? 3 : 2} x hidden x ffn (+ biases)`, { layers: m.layers, hidden: m.hidden, ffn: m.ffn, ...(m.moe ?? {}) }, SOURCE);
  term(fig, 'params.norms', 'Norm parameters', 'params', (m.layers * m.normsPerLayer + 1) * normParams(m), `(layers x normsPerLayer + 1 final) x hidden${m.norm === 'layer' ? ' x 2 (weight and bias)' : ''}`, { layers: m.layers, normsPerLayer: m.normsPerLayer, hidden: m.hidden }, SOURCE);
  term(fig, 'params.lmHead', 'Output head parameters', 'params', m.tiedEmbeddings ? 0 : m.vocab * m.hidden, m.tiedEmbeddings ? '0 (tied to the embedding)' : 'vocab x hidden', { vocab: m.vocab, hidden: m.hidden, tied: m.tiedEmbeddings }, SOURCE);
  const total = sum(fig, 'params.total', 'Parameters', 'params', ['params.embedding', 'params.attention', 'params.mlp', 'params.norms', 'params.lmHead'], SOURCE);
  let active = total;
  if (m.moe) {
    const idle = moeLayers(m) * (m.moe.experts - m.moe.topK) * expertParams(m);
    active = term(fig, 'params.active', 'Active parameters per token', 'params', total - idle, 'total - moeLayers x (experts - topK) x expertParams', { total, moeLayers: moeLayers(m), experts: m.moe.experts, topK: m.moe.topK, expertParams: expertParams(m) }, 'Shazeer et al. 2017; Mixtral paper (Jiang et al. 2024): each token uses top-k experts');
  } else {
    term(fig, 'params.active', 'Active parameters per token', 'params', total, 'params.total (dense)', { total }, SOURCE);
  }
  return { total, active, embedding };
}
