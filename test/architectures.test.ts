import { describe, expect, it } from 'vitest';
import { paramsFigures } from '../src/estimate/params.js';
import type { Figures } from '../src/estimate/terms.js';
import { importHfConfig } from '../src/inputs/hf/index.js';
import { builtInCatalog } from '../src/inputs/presets.js';
import { UserError } from '../src/errors.js';
import { cliJson, expectBadInput } from './helpers.js';

/**
 * Layer kinds (src/estimate/layers.ts) on the models that need them, and the rule that a config
 * whose structure a reader does not model is bad input, never a silent misread.
 */
const preset = (id: string) => builtInCatalog().models.find((p) => p.id === id)!;
const params = (id: string) => {
  const fig: Figures = {};
  paramsFigures(fig, preset(id).model);
  return fig;
};

describe('Qwen3-Next-80B-A3B: 36 Gated DeltaNet + 12 gated-attention layers, all MoE', () => {
  // By hand from the config (modeling_qwen3_next.py): embedding and head 2 x 151936 x 2048;
  // 12 gated attention layers of 2048 x 8192 (q + gate) + 2 x 2048 x 512 (k, v) + 4096 x 2048 (o)
  // + 2 x 256 (q/k norms) = 27,263,488; 36 DeltaNet layers of 2048 x 12288 (qkvz) + 2048 x 64 (ba)
  // + 8192 x 4 (conv) + 64 + 128 + 4096 x 2048 = 33,718,464; 48 MoE layers of 2048 x 512 (router)
  // + 513 x 3 x 2048 x 512 (routed + shared experts) + 2048 (shared gate) = 1,614,809,088; norms
  // 48 x 2 x 2048 + 2048.
  const byHand = 2 * 151936 * 2048 + 12 * 27_263_488 + 36 * 33_718_464 + 48 * 1_614_809_088 + 48 * 2 * 2048 + 2048;

  it('params.total equals the HF count of the same architecture without MTP, and with params.mtp the count of the released checkpoint', () => {
    const fig = params('qwen3-next-80b-a3b');
    expect(byHand).toBe(79_674_391_296);
    // HF Hub totals tabulated in a public GitHub MoE-audit markdown: Qwen/Qwen3-Coder-Next
    // 79,674,391,296 (no MTP module); Qwen/Qwen3-Next-80B-A3B-Instruct 81,324,862,720
    expect(fig['params.total'].value).toBe(79_674_391_296);
    expect(fig['params.total'].value + fig['params.mtp'].value).toBe(81_324_862_720);
  });

  it('about 80B total and 3B active (3.87B with the embedding and head; NVIDIA NIM card: "Active Parameters: 3.9B")', () => {
    const fig = params('qwen3-next-80b-a3b');
    expect(fig['params.total'].value / 1e9).toBeCloseTo(79.7, 1);
    // total - 48 MoE layers x (512 - 10) idle experts x 3 x 2048 x 512
    expect(fig['params.active'].value).toBe(79_674_391_296 - 48 * 502 * 3 * 2048 * 512);
  });

  it('KV per token comes from the 12 full-attention layers only; the 36 DeltaNet layers keep a per-sequence state', async () => {
    const j = await cliJson(['estimate', '--model', 'qwen3-next-80b-a3b', '--gpu', 'h100-sxm', '--count', '4', '--context', '262144', '--engine', 'vllm']);
    // 12 layers x 2 (K, V) x 2 KV heads x 256 x 2 bytes
    expect(j.figures['memory.kvCachePerToken'].value).toBe(12 * 2 * 2 * 256 * 2);
    expect(j.figures['memory.kvCachePerSequence'].value).toBe(12 * 2 * 2 * 256 * 2 * 262144);
    // vLLM MambaStateShapeCalculator.gated_delta_net_state_shape: conv (2 x 16 x 128 + 32 x 128)
    // x (4 - 1), temporal 32 x 128 x 128, both bf16 (mamba_cache_dtype / mamba_ssm_cache_dtype auto)
    expect(j.figures['memory.statePerSequence'].value).toBe(36 * ((2 * 16 * 128 + 32 * 128) * 3 + 32 * 128 * 128) * 2);
    expect(j.figures['memory.state'].value).toBe(j.figures['memory.statePerSequence'].value);
  });

  it('at 256k context one sequence holds a quarter of what a dense 48-layer model of the same attention holds', async () => {
    const hybrid = await cliJson(['estimate', '--model', 'qwen3-next-80b-a3b', '--context', '262144']);
    const dense = await cliJson(['estimate', '--layers', '48', '--hidden', '2048', '--heads', '16', '--kv-heads', '2', '--head-dim', '256', '--ffn', '5120', '--vocab', '151936', '--context', '262144']);
    const perSequence = (j: any) => j.figures['memory.kvCachePerSequence'].value + (j.figures['memory.statePerSequence']?.value ?? 0);
    expect(perSequence(dense)).toBe(48 * 2048 * 262144); // 25.8 GB
    expect(perSequence(hybrid)).toBeLessThan(0.26 * perSequence(dense)); // 6.48 GB
  });

  it('SGLang keeps the state in its own pool (fp32 SSM state, mamba_full_memory_ratio 0.9): concurrency is the smaller of the two pools', async () => {
    const j = await cliJson(['estimate', '--model', 'qwen3-next-80b-a3b', '--gpu', 'h100-sxm', '--count', '4', '--context', '262144', '--engine', 'sglang']);
    // SGLang hybrid_gdn_params: conv bf16, temporal float32
    expect(j.figures['memory.statePerSequence'].value).toBe(36 * ((2 * 16 * 128 + 32 * 128) * 3 * 2 + 32 * 128 * 128 * 4));
    const pool = j.figures['memory.kvCapacity'].value;
    expect(j.figures['memory.stateCapacity'].value).toBeCloseTo((pool * 0.9) / 1.9, 0);
    const slots = Math.floor(j.figures['memory.stateCapacity'].value / (j.figures['memory.perDevice.state'].value));
    expect(j.figures['capacity.stateSlots'].value).toBe(slots);
    const byKv = Math.floor((pool - j.figures['memory.stateCapacity'].value) / ((j.figures['memory.kvCachePerSequence'].value * 0.5))); // 2 KV heads on 4 ranks: half on each
    expect(j.figures['capacity.maxConcurrency'].value).toBe(Math.min(slots, byKv));
  });

  it('reads layer_types when the config lists it, and rejects a kind it does not know', () => {
    const config = { ...preset('qwen3-next-80b-a3b').config, layer_types: Array.from({ length: 48 }, (_, i) => (i % 2 ? 'full_attention' : 'linear_attention')) };
    const { model } = importHfConfig(config, 'config.json');
    expect(model.layerKinds!.filter((k) => k.mixer.kind === 'full').flatMap((k) => k.layers)).toHaveLength(24);
    expect(() => importHfConfig({ ...config, layer_types: Array(48).fill('sliding_attention') }, 'config.json')).toThrow(/layer_types" entry 0 is "sliding_attention"/);
  });
});

describe('no silent misreads', () => {
  it('an unknown family with MoE and SSM keys exits 2 naming them, the supported families and the flags', async () => {
    await expectBadInput(['estimate', '--hf-config', 'test/fixtures/configs/unknown-moe-ssm.config.json'], /model_type "future_hybrid" is not a known family .*"num_experts", "num_experts_per_tok", "moe_intermediate_size", "mamba_d_state", "mamba_n_heads", "layer_types".*supported families: .*qwen3_next.*--layers --hidden/);
  });

  it('an unknown family whose keys are all ones the generic decoder reads is read, with a warning', () => {
    const { warnings, model } = importHfConfig({ model_type: 'my_llama', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, rms_norm_eps: 1e-5, rope_theta: 500000, bos_token_id: 1 }, 'config.json');
    expect(model.layers).toBe(32);
    expect(warnings.join()).toMatch(/not a known family/);
  });

  it.each([
    // a Llama file with experts is not a Llama
    ['llama with num_local_experts', { model_type: 'llama', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, vocab_size: 32000, num_local_experts: 8 }, /llama reader does not model key "num_local_experts"/],
    // Mistral's window is read; an attention chunk is not
    ['mistral with attention_chunk_size', { model_type: 'mistral', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, vocab_size: 32000, attention_chunk_size: 8192 }, /"attention_chunk_size"/],
  ])('a known family whose config has a structural key its reader ignores exits 2: %s', (_name, config, message) => {
    expect(() => importHfConfig(config, 'config.json')).toThrow(UserError);
    expect(() => importHfConfig(config, 'config.json')).toThrow(message);
  });

  it('keys that switch nothing on (null, false, empty) and routing knobs are not structural', () => {
    const { model } = importHfConfig({ model_type: 'llama', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, vocab_size: 32000, sliding_window: null, num_local_experts: 0, router_aux_loss_coef: 0.01, layer_types: [] }, 'config.json');
    expect(model.layers).toBe(32);
  });
});
