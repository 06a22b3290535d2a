import type { ModelSpec } from '../model.js';
import { layerTypesWindow, readDecoder } from './decoder.js';
import type { FamilyReader } from './reader.js';

/**
 * configuration_gpt_oss.py / modeling_gpt_oss.py: q/k/v/o biases, per-head sinks, MoE with
 * biases on router and experts, sliding and full attention alternating (layer_types).
 */
export const gptOss: FamilyReader = (r, n) => {
  const m = readDecoder(r, n);
  const experts = r.int('num_local_experts');
  const topK = r.int('num_experts_per_tok', 'experts_per_token');
  r.ignore('experts_per_token'); // the same count under its original name
  const spec: ModelSpec = { ...m, qkvBias: r.bool('attention_bias', true), outBias: r.bool('attention_bias', true), attentionSinks: true, moe: { experts, topK, expertFfn: m.ffn, sharedExperts: 0, sharedFfn: 0, denseLayers: 0, bias: true } };
  return layerTypesWindow(r, spec, (layers) => Math.ceil(layers / 2));
};
