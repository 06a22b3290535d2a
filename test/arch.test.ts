import { describe, expect, it } from 'vitest';
import { attentionFlopsPerContextToken } from '../src/estimate/flops.js';
import { expertsTouched } from '../src/estimate/latency.js';
import { paramsFigures } from '../src/estimate/params.js';
import type { Figures } from '../src/estimate/terms.js';
import { importHfConfig } from '../src/inputs/hf/index.js';
import { cli, cliJson } from './helpers.js';

const figures = (config: Record<string, unknown>) => {
  const fig: Figures = {};
  const { model, warnings } = importHfConfig(config, 'config.json');
  paramsFigures(fig, model);
  return { fig, model, warnings };
};

// Gemma 3 27B as published (google/gemma-3-27b-it config.json): text_config writes only the
// fields that differ from Gemma3TextConfig defaults; vision_config is SigLIP.
const gemma3Multimodal = {
  architectures: ['Gemma3ForConditionalGeneration'],
  model_type: 'gemma3',
  torch_dtype: 'bfloat16',
  text_config: { head_dim: 128, hidden_size: 5376, intermediate_size: 21504, model_type: 'gemma3_text', num_attention_heads: 32, num_hidden_layers: 62, num_key_value_heads: 16, query_pre_attn_scalar: 168, rope_scaling: { factor: 8.0, rope_type: 'linear' }, sliding_window: 1024 },
  vision_config: { hidden_size: 1152, image_size: 896, intermediate_size: 4304, model_type: 'siglip_vision_model', num_attention_heads: 16, num_hidden_layers: 27, patch_size: 14, vision_use_head: false },
};

describe('config.json families not covered by a preset count parameters exactly', () => {
  it.each([
    // Gemma 3 27B multimodal: 27,432,406,640 (keras-hub gemma3_presets.py 'medgemma_instruct_27b'
    // metadata.params, identical architecture; shared/reference/models.yaml)
    ['Gemma 3 27B (text + SigLIP vision tower)', gemma3Multimodal, 27_432_406_640],
    // OPT-125m: 125,239,296 (sum of parameter numel printed for facebook/opt-125m in a public
    // pruning tutorial); by hand: embeddings 50272 x 768 + (2048 + 2) x 768 positions,
    // 12 x 7,087,872 per layer, final LayerNorm 1,536
    ['OPT-125m', { model_type: 'opt', hidden_size: 768, ffn_dim: 3072, num_hidden_layers: 12, num_attention_heads: 12, vocab_size: 50272, max_position_embeddings: 2048, enable_bias: true, do_layer_norm_before: true, word_embed_proj_dim: 768 }, 125_239_296],
    // Falcon-7B (tiiuae/falcon-7b config.json: multi_query, parallel_attn, one LayerNorm per layer,
    // tied head), by hand from modeling_falcon.py: qkv 4544 x (4544 + 2 x 64) + dense 4544^2 +
    // MLP 2 x 4544 x 18176 + LayerNorm 2 x 4544 = 207,070,080 per layer; x 32 + 65024 x 4544 + 9088
    ['Falcon-7B', { model_type: 'falcon', hidden_size: 4544, num_attention_heads: 71, num_hidden_layers: 32, vocab_size: 65024, multi_query: true, new_decoder_architecture: false, parallel_attn: true, bias: false, alibi: false }, 6_921_720_704],
    // Qwen1.5-MoE-A2.7B (qwen2_moe): 60 routed experts of 1408, a shared expert of 5632 with its
    // sigmoid gate, q/k/v biases; by hand 24 x 570,560,512 + 2 x 151936 x 2048 + 2048 = 14,315,784,192
    // (model card: "14.3B parameters in total and 2.7B activated")
    ['Qwen1.5-MoE-A2.7B', { model_type: 'qwen2_moe', hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 24, num_attention_heads: 16, num_key_value_heads: 16, vocab_size: 151936, num_experts: 60, num_experts_per_tok: 4, moe_intermediate_size: 1408, shared_expert_intermediate_size: 5632, decoder_sparse_step: 1, tie_word_embeddings: false }, 14_315_784_192],
  ])('%s has the published or hand-computed parameter count', (_name, config, expected) => {
    expect(figures(config).fig['params.total'].value).toBe(expected);
  });

  it('Gemma 3 multimodal: the SigLIP tower and projector are counted apart and excluded from active parameters', () => {
    const { fig, model } = figures(gemma3Multimodal);
    // 27,432,406,640 - 27,009,346,304 (text-only, models.yaml text_only_derived) = 423,060,336
    expect(fig['params.vision'].value).toBe(423_060_336);
    expect(fig['params.active'].value).toBe(27_009_346_304);
    // layer i is global when (i + 1) % 6 == 0: 10 of 62 layers global, 52 slide over 1024 tokens
    expect(model.slidingWindow).toEqual({ window: 1024, localLayers: 52 });
  });
});

describe('mixture of experts', () => {
  it.each([
    // Mixtral-8x7B: non-expert params + 2 of 8 experts per layer = 12,879,925,248 (models.yaml derived_active; paper "13B active")
    ['mixtral-8x7b', 46_702_792_704, 12_879_925_248],
    // Qwen3-30B-A3B: model card "30.5B total, 3.3B activated"
    ['qwen3-30b-a3b', 30_532_122_624, 3_353_032_704],
    // Qwen3-235B-A22B: 22,190,763,520 (models.yaml derived_active; card "22B activated")
    ['qwen3-235b-a22b', 235_093_634_560, 22_190_763_520],
  ])('%s: total %d, active %d', async (model, total, active) => {
    const out = await cliJson(['estimate', '--model', model, '--gpu', 'h200']);
    expect(out.figures['params.total'].value).toBe(total);
    expect(out.figures['params.active'].value).toBe(active);
  });

  it.each([
    [8, 2, 1, 2],
    [8, 2, 2, 8 * (1 - (6 / 8) ** 2)],
    [128, 4, 1, 4],
    [128, 4, 1000, 128 * (1 - (124 / 128) ** 1000)],
  ])('E=%d experts, top-%d, %d tokens touch E(1-(1-k/E)^b) = %d experts', (e, k, b, expected) => {
    expect(expertsTouched(e, k, b)).toBeCloseTo(expected, 9);
  });

  it('MoE decode bytes per step grow with the batch as more experts are touched, up to all of them', async () => {
    const bytes = async (batch: number) => (await cliJson(['estimate', '--model', 'mixtral-8x7b', '--gpu', 'h200', '--batch', String(batch), '--input-tokens', '128', '--output-tokens', '2'])).figures['latency.decodeMemory'].inputs.bytes as number;
    const [b1, b4, b64] = [await bytes(1), await bytes(4), await bytes(64)];
    // routed experts: 32 layers x 8 experts x 3 x 4096 x 14336 params x 2 B; batch 1 touches 2 of 8
    const allExperts = 32 * 8 * 3 * 4096 * 14336 * 2;
    expect(b4).toBeGreaterThan(b1);
    expect(b64).toBeGreaterThan(b4);
    // weights read at batch 1 = all weights - embedding - 6/8 of the routed experts (+ a little KV)
    const weights = 93_405_585_408;
    const embedding = 32000 * 4096 * 2;
    expect(b1).toBeGreaterThan(weights - embedding - allExperts * (6 / 8));
    expect(b1).toBeLessThan(weights - embedding - allExperts * (6 / 8) + 1.1 * 130 * 131_072);
  });

  it('DeepSeek-V3: dense leading layers, shared expert, noaux_tc correction bias, and the MTP module on its own figure', async () => {
    const out = await cliJson(['estimate', '--model', 'deepseek-v3', '--gpu', 'h200', '--count', '8']);
    // 671,026,404,352 (models.yaml derived, without the bias) + 58 MoE layers x 256 e_score_correction_bias
    expect(out.figures['params.total'].value).toBe(671_026_404_352 + 58 * 256);
    // models.yaml derived_with_mtp - derived = 13,463,426,048, plus the MTP layer's own 256-entry bias
    expect(out.figures['params.mtp'].value).toBe(684_489_830_400 - 671_026_404_352 + 256);
    // DeepSeek-V3 report: 671B total, 37B activated (both embeddings counted here)
    expect(out.figures['params.active'].value).toBe(37_552_282_624 + 58 * 256);
  });
});

describe('multi-head latent attention', () => {
  it('DeepSeek-V3 caches (kv_lora_rank + qk_rope_head_dim) x layers x 2 B = 70,272 B per token at bf16', async () => {
    const out = await cliJson(['estimate', '--model', 'deepseek-v3', '--gpu', 'h200', '--count', '8']);
    expect(out.figures['memory.kvCachePerToken'].value).toBe((512 + 64) * 61 * 2);
    expect(out.figures['memory.kvCachePerToken'].value).toBe(70_272);
    // modelled as MHA with 128 KV heads of 192 (k) it would be 61 x 2 x 128 x 192 x 2 B = 5,996,544 B
    expect(out.figures['memory.kvCachePerToken'].value).toBeLessThan((61 * 2 * 128 * 192 * 2) / 80);
  });

  it('decode attention follows the absorbed form: per key, per head, scores over latent + rope and values over the latent', () => {
    const { model } = importHfConfig(deepseekV3Like, 'config.json');
    // 2 FLOPs x 128 heads x (512 + 64 + 512)
    expect(attentionFlopsPerContextToken(model, 'decode')).toBe(2 * 128 * (512 + 64 + 512));
    // prefill uses the expanded heads: 2 x 128 x (128 + 64 + 128)
    expect(attentionFlopsPerContextToken(model, 'prefill')).toBe(2 * 128 * (128 + 64 + 128));
  });
});

const deepseekV3Like = { model_type: 'deepseek_v3', hidden_size: 7168, intermediate_size: 18432, num_hidden_layers: 61, num_attention_heads: 128, num_key_value_heads: 128, vocab_size: 129280, n_routed_experts: 256, n_shared_experts: 1, num_experts_per_tok: 8, moe_intermediate_size: 2048, first_k_dense_replace: 3, moe_layer_freq: 1, q_lora_rank: 1536, kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128, topk_method: 'noaux_tc', num_nextn_predict_layers: 1 };

describe('sliding-window and local/global attention', () => {
  it.each([
    // Gemma 2 9B: 42 layers, 21 local (window 4096); 2 x 8 KV heads x 256 x 2 B = 8,192 B per layer per token
    ['gemma-2-9b', 21, 42, 4096, 8192],
    // gpt-oss-120b: 36 layers alternating, 18 local (window 128); 2 x 8 x 64 x 2 B = 2,048 B
    ['gpt-oss-120b', 18, 36, 128, 2048],
    // Mistral-7B-v0.1: every layer slides over 4096; 2 x 8 x 128 x 2 B = 4,096 B
    ['mistral-7b-v0.1', 32, 32, 4096, 4096],
  ])('%s at 32k context: %d of %d layers hold at most %d tokens', async (model, local, layers, window, perLayerPerToken) => {
    // Gemma 2 was trained at 8192 tokens: 32k needs --allow-beyond-trained (the sizes are what is tested)
    const out = await cliJson(['estimate', '--model', model, '--gpu', 'h200', '--context', '32k', '--input-tokens', '32000', '--allow-beyond-trained']);
    const seq = out.figures['memory.kvCachePerSequence'];
    expect(seq.value).toBe(((layers - local) * 32768 + local * window) * perLayerPerToken);
    expect(seq.inputs.localLayers).toBe(local);
    expect(out.input.model.shape).toMatch(new RegExp(`${local} of ${layers} layers slide over ${window}`));
  });

  it('local layers attend to at most the window in prefill FLOPs too', async () => {
    const win = await cliJson(['estimate', '--model', 'mistral-7b-v0.1', '--gpu', 'h200', '--input-tokens', '16k', '--output-tokens', '1']);
    // query p attends to min(p, 4096) keys: sum = 4096 x 4097 / 2 + (16384 - 4096) x 4096, not 16384 x 16385 / 2;
    // 4 x heads x headDim FLOPs per key per layer, 32 layers
    const keysWindowed = (4096 * 4097) / 2 + (16384 - 4096) * 4096;
    expect(win.figures['flops.prefillAttention'].value).toBe(4 * 32 * 128 * 32 * keysWindowed);
  });
});

describe('config.json errors and unknown families', () => {
  it('a missing required field exits 2 naming it', async () => {
    const r = await cli(['estimate', '--hf-config', new URL('./fixtures/missing-field.config.json', import.meta.url).pathname]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/missing required field "num_hidden_layers"/);
  });

  it('an unknown model_type is read as a generic decoder with a warning listing the fields used', () => {
    const { warnings, fig } = figures({ model_type: 'brand_new', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 100, rms_norm_eps: 1e-6, hidden_act: 'silu' });
    expect(warnings[0]).toMatch(/model_type "brand_new" is not a known family .* read as a generic decoder from fields hidden_size, intermediate_size, model_type, num_attention_heads, num_hidden_layers, vocab_size$/);
    // by hand: embed 6,400 + 2 x (4 x 64^2 + 3 x 64 x 128 + 2 x 64) + 64 + head 6,400
    expect(fig['params.total'].value).toBe(6400 + 2 * (4 * 4096 + 3 * 64 * 128 + 128) + 64 + 6400);
  });

  it.each([
    ['gpt-oss-120b', 'mxfp4'],
    ['deepseek-v3', 'fp8-block'],
    ['llama-3.1-8b', 'bf16'],
  ])('%s: weights default to the checkpoint quantization_config (%s) when --precision is not given', async (model, format) => {
    const out = await cliJson(['estimate', '--model', model, '--gpu', 'h200', '--count', '8']);
    expect(out.input.precision.weights).toBe(format);
  });
});
