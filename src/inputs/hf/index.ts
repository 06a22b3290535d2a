import { UserError } from '../../errors.js';
import { modelProblem } from '../domains.js';
import { bert } from './bert.js';
import { genericLayoutConflicts, readDecoder } from './decoder.js';
import { deepseek, deepseekV32 } from './deepseek.js';
import { ernie45Moe } from './ernie.js';
import { glm4Moe } from './glm4-moe.js';
import { falconH1, graniteMoeHybrid, jamba, mamba2, nemotronH } from './hybrid.js';
import { llama4 } from './llama4.js';
import { olmo2 } from './olmo.js';
import { qwen25Vl } from './qwen-vl.js';
import { smollm3 } from './smollm3.js';
import { minimaxM2, minimaxText01 } from './minimax.js';
import { falcon } from './falcon.js';
import { gemma, gemma2, gemma3 } from './gemma.js';
import { gemma3n } from './gemma3n.js';
import { gpt2 } from './gpt2.js';
import { gptOss } from './gpt-oss.js';
import { gte } from './gte.js';
import { llama, mistral, mixtral } from './llama.js';
import { modernbert } from './modernbert.js';
import { mpt } from './mpt.js';
import { nomicBert } from './nomic-bert.js';
import { opt } from './opt.js';
import { phi } from './phi.js';
import { phi3 } from './phi3.js';
import { qwen2, qwen2Moe, qwen3, qwen3Moe } from './qwen.js';
import { qwen3Next } from './qwen3-next.js';
import { readQuantization } from './quantization.js';
import { unreadStructuralKeys } from './structure.js';
import { ConfigReader, type FamilyReader, type HfConfig, type HfImport, type Names } from './reader.js';

/** config.json names of ModelSpec fields, for messages (Llama-style; families vary). */
const HF_FIELD_NAMES: Record<string, string> = {
  layers: 'num_hidden_layers', hidden: 'hidden_size', heads: 'num_attention_heads', kvHeads: 'num_key_value_heads', headDim: 'head_dim',
  ffn: 'intermediate_size', vocab: 'vocab_size', maxContext: 'max_position_embeddings', experts: 'num_experts', topK: 'num_experts_per_tok',
  expertFfn: 'moe_intermediate_size', slidingWindow: 'sliding_window', kvLoraRank: 'kv_lora_rank', qLoraRank: 'q_lora_rank',
};

/**
 * Hugging Face config.json -> ModelSpec. One reader per family (one file each in this folder),
 * registered here by the model_type transformers writes; the shared mapping (ConfigReader, the
 * generic decoder, quantization_config) lives in reader.ts, decoder.ts and quantization.ts.
 * A new family is a new file and one line in FAMILIES.
 */

export { ConfigReader } from './reader.js';
export type { FamilyReader, HfConfig, HfImport, Names } from './reader.js';

/** model_type -> reader. */
const FAMILIES: Record<string, FamilyReader> = {
  llama,
  mistral,
  mixtral,
  qwen2,
  qwen2_moe: qwen2Moe,
  qwen3,
  qwen3_moe: qwen3Moe,
  qwen3_next: qwen3Next,
  qwen2_5_vl: qwen25Vl,
  llama4,
  llama4_text: llama4,
  jamba,
  nemotron_h: nemotronH,
  granitemoehybrid: graniteMoeHybrid,
  falcon_h1: falconH1,
  mamba2,
  ernie4_5_moe: ernie45Moe,
  olmo2,
  smollm3,
  deepseek_v2: deepseek,
  deepseek_v3: deepseek,
  // Kimi K2 (moonshotai/Kimi-K2-Instruct config.json model_type kimi_k2): the DeepSeek-V3 layout
  kimi_k2: deepseek,
  deepseek_v32: deepseekV32,
  glm4_moe: glm4Moe,
  minimax_m2: minimaxM2,
  minimax: minimaxText01,
  minimax_text_01: minimaxText01,
  minimax_m1: minimaxText01,
  gemma,
  gemma2,
  gemma3,
  gemma3_text: gemma3,
  gemma3n,
  gemma3n_text: gemma3n,
  phi,
  phi3,
  gpt_oss: gptOss,
  falcon,
  RefinedWeb: falcon,
  RefinedWebModel: falcon,
  gpt2,
  opt,
  mpt,
  // encoders (src/inputs/hf/encoder.ts): bidirectional attention, no KV cache, no decoding
  bert,
  roberta: bert,
  'xlm-roberta': bert,
  modernbert,
  nomic_bert: nomicBert,
  new: gte,
};

export const KNOWN_FAMILIES = Object.keys(FAMILIES);

/** The keys the generic (Llama-layout) decoder reader reads (decoder.ts readDecoder). */
const GENERIC_DECODER_KEYS = ['hidden_size', 'num_attention_heads', 'num_hidden_layers', 'num_key_value_heads', 'head_dim', 'intermediate_size', 'vocab_size', 'tie_word_embeddings', 'attention_bias', 'mlp_bias', 'max_position_embeddings', 'torch_dtype', 'dtype', 'original_max_position_embeddings'];

/**
 * Reads a config.json object. A family it does not know is read as a generic Llama-style
 * decoder, with a warning that lists the fields it used, only when its config has no structural
 * key the generic reader ignores and its norm, MLP and bias keys state the Llama layout.
 */
export function importHfConfig(config: HfConfig, file: string, id = 'hf-config', name?: string): HfImport {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new UserError(`${file}: expected a JSON object`);
  const r = new ConfigReader(config, file);
  const family = r.str('model_type', 'unknown');
  const names: Names = { id, name: name ?? (typeof config._name_or_path === 'string' && config._name_or_path ? config._name_or_path : id), family };
  const warnings: string[] = [];
  const reader = Object.hasOwn(FAMILIES, family) ? FAMILIES[family] : undefined;
  // An unknown family: its structural keys are checked against what the generic decoder reads
  // before reading it, so a hybrid or multimodal file is named as such, not as a missing field.
  if (!reader) {
    const fix = `supported families: ${KNOWN_FAMILIES.join(', ')}; describe the model with --layers --hidden --heads --kv-heads --head-dim --ffn --vocab (or those keys in a --spec file)`;
    const unread = unreadStructuralKeys(config, new Set([...GENERIC_DECODER_KEYS, 'model_type', 'quantization_config', 'rope_scaling', 'rope_parameters']));
    if (unread.length) throw new UserError(`${file}: model_type "${family}" is not a known family and its config has keys the generic decoder reader does not model: ${unread.map((k) => `"${k}"`).join(', ')}; ${fix}`);
    // The generic reader is the Llama layout: the keys that decide norm, MLP gating and biases
    // must say so, or the answer would describe a gated RMSNorm decoder the file is not.
    const conflicts = genericLayoutConflicts(config);
    if (conflicts.length) throw new UserError(`${file}: model_type "${family}" is not a known family, and the generic decoder reader (the Llama layout: RMSNorm, gated SiLU MLP, biases only as attention_bias / mlp_bias say) would misread it: ${conflicts.join('; ')}; ${fix}`);
  }
  const model = reader ? reader(r, names, warnings) : readDecoder(r, names);
  const quant = readQuantization(r, warnings);
  r.ignore('rope_scaling', 'rope_parameters');
  // No silent misreads: a key that changes the structure and that this reader did not read
  // means the answer would describe another model.
  const unread = unreadStructuralKeys(config, r.used);
  if (unread.length) {
    const keys = unread.map((k) => `"${k}"`).join(', ');
    const fix = 'describe the model with --layers --hidden --heads --kv-heads --head-dim --ffn --vocab (or those keys in a --spec file)';
    if (!reader) throw new UserError(`${file}: model_type "${family}" is not a known family and its config has keys the generic decoder reader does not model: ${keys}; supported families: ${KNOWN_FAMILIES.join(', ')}; ${fix}`);
    throw new UserError(`${file}: the ${family} reader does not model ${unread.length === 1 ? 'key' : 'keys'} ${keys} of this config, so the answer would describe another model; ${fix}, or report the config`);
  }
  if (!reader) {
    warnings.push(`${file}: model_type "${family}" is not a known family (${KNOWN_FAMILIES.join(', ')}); read as a generic decoder from fields ${[...r.used].sort().join(', ')}`);
  }
  if (quant.format) model.quantization = quant.format;
  if (quant.keep.length) model.quantizationKeep = quant.keep;
  if (model.slidingWindow && model.slidingWindow.localLayers === 0) delete model.slidingWindow;
  // an architecture that cannot exist (zero layers, KV heads that do not divide the heads, more
  // parameters than any model) is bad input here, before any estimator sees it
  const problem = modelProblem(model, (field) => `field "${HF_FIELD_NAMES[field] ?? field}"`);
  if (problem) throw new UserError(`${file}: ${problem}`);
  return { model, warnings };
}
