import { everyLayerWindow, readDecoder } from './decoder.js';
import type { FamilyReader } from './reader.js';

/** configuration_llama.py */
export const llama: FamilyReader = (r, n) => readDecoder(r, n);

/** configuration_mistral.py: sliding_window on every layer when set. */
export const mistral: FamilyReader = (r, n) => everyLayerWindow(r, readDecoder(r, n));

/** configuration_mixtral.py: intermediate_size is per expert; router nn.Linear(hidden, experts) without bias. */
export const mixtral: FamilyReader = (r, n) => {
  const m = everyLayerWindow(r, readDecoder(r, n));
  return { ...m, moe: { experts: r.int('num_local_experts'), topK: r.int('num_experts_per_tok'), expertFfn: m.ffn, sharedExperts: 0, sharedFfn: 0, denseLayers: 0, bias: false } };
};
