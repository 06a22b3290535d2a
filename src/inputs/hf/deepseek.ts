import type { Mixer, ModelSpec } from '../model.js';
import { kindsOf, readDecoder } from './decoder.js';
import type { ConfigReader, Names } from './reader.js';

/** DeepSeek-V2/V3 (configuration_deepseek_v3.py): MLA, shared + routed experts, dense leading layers, MTP. */
export function deepseek(r: ConfigReader, names: Names): ModelSpec {
  const base = readDecoder(r, names);
  const qkNope = r.int('qk_nope_head_dim');
  const qkRope = r.int('qk_rope_head_dim');
  const layers = base.layers;
  const firstDense = Math.min(layers, r.optInt('first_k_dense_replace', 0));
  const freq = r.optInt('moe_layer_freq', 1);
  let dense = 0;
  // modeling_deepseek_v3.py: MoE when layer_idx >= first_k_dense_replace and layer_idx % moe_layer_freq == 0
  for (let i = 0; i < layers; i++) if (i < firstDense || freq === 0 || i % freq !== 0) dense++;
  const experts = r.optInt('n_routed_experts', 0);
  return {
    ...base,
    kvHeads: base.heads,
    headDim: qkNope + qkRope,
    mla: { qLoraRank: r.optInt('q_lora_rank', 0), kvLoraRank: r.int('kv_lora_rank'), qkNopeHeadDim: qkNope, qkRopeHeadDim: qkRope, vHeadDim: r.int('v_head_dim') },
    moe: experts > 0 ? { experts, topK: r.int('num_experts_per_tok'), expertFfn: r.int('moe_intermediate_size'), sharedExperts: r.optInt('n_shared_experts', 0), sharedFfn: r.int('moe_intermediate_size'), denseLayers: dense, bias: false } : undefined,
    moeExtras: { routerCorrectionBias: r.str('topk_method', 'greedy') === 'noaux_tc', sharedExpertGate: false },
    mtpLayers: r.optInt('num_nextn_predict_layers', 0),
  };
}


/**
 * DeepSeek-V3.2 (-Exp) (deepseek-ai inference/model.py; vLLM deepseek_v2.py with
 * DeepseekV32IndexerCache): the DeepSeek-V3 layout whose MLA attends to the index_topk keys a
 * lightning indexer (index_n_heads x index_head_dim) selects, on every layer; the indexer keeps
 * an fp8 key cache of its own (layers.ts indexerBytesPerToken).
 */
export function deepseekV32(r: ConfigReader, names: Names): ModelSpec {
  const m = deepseek(r, names);
  const mixer: Mixer = { kind: 'sparse-mla', indexHeads: r.int('index_n_heads'), indexHeadDim: r.int('index_head_dim'), topK: r.int('index_topk') };
  const dense = m.moe ? m.moe.denseLayers : m.layers;
  return { ...m, layerKinds: kindsOf(m.layers, (i) => ({ mixer, mlp: i < dense ? { kind: 'dense', ffn: m.ffn } : { kind: 'moe' } })) };
}
