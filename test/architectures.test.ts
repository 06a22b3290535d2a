import { readFileSync } from 'node:fs';
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

  it('vLLM pages the state: the attention block is raised to 272 tokens (TP4) and each DeltaNet layer\'s state padded to one page', async () => {
    const j = await cliJson(['estimate', '--model', 'qwen3-next-80b-a3b', '--gpu', 'h100-sxm', '--count', '4', '--context', '262144', '--engine', 'vllm']);
    // per rank: attention page per token per layer 2 x 1 KV head (2 over 4 ranks, replicated) x 256 x 2 B = 1024;
    // DeltaNet state per layer ((2 x 16 x 128 + 32 x 128) / 4 x 3 + 8 x 128 x 128) x 2 B = 274,432;
    // vllm/model_executor/models/config.py: block = 16 x cdiv(274432, 16 x 1024) = 272, page 272 x 1024 = 278,528 (1.49% padding)
    expect(j.figures['memory.statePaged'].value).toBe(36 * 272 * 1024);
    expect(j.figures['memory.statePaged'].inputs.blockTokens).toBe(272);
    expect(j.figures['memory.kvCapacityTokens'].value % 272).toBe(0);
    // 36 state pages per sequence = 3 blocks of the 12 attention layers' pool (vLLM's 1 attention + 3 Mamba groups of 12)
    expect(j.figures['capacity.stateBlocks'].value).toBe(3);
    const kvPerSequence = Math.ceil(262144 / 272) * 272 * 12 * 1024;
    expect(j.figures['capacity.maxConcurrency'].value).toBe(Math.floor(j.figures['memory.kvCapacity'].value / (kvPerSequence + 36 * 272 * 1024)));
  });

  it('pagedState reproduces vLLM\'s block for Qwen3-Next on one device (544 tokens) and leaves a model without attention alone', async () => {
    const { pagedState } = await import('../src/estimate/state-pages.js');
    const one = pagedState({ statePageBytes: (8192 * 3 + 32 * 128 * 128) * 2, stateLayers: 36, attnBytesPerTokenPerLayer: 2 * 2 * 256 * 2, alignTokens: 16, defaultBlockTokens: 16 });
    expect(one).toEqual({ blockTokens: 544, pageBytes: 544 * 2048, stateBytesPerSequence: 36 * 544 * 2048, padding: (544 * 2048 - 1_097_728) / 1_097_728 });
    // a --block-size above the needed one is kept (vLLM overrides only a smaller one)
    expect(pagedState({ statePageBytes: 1_097_728, stateLayers: 36, attnBytesPerTokenPerLayer: 2048, alignTokens: 16, requestedBlockTokens: 1024, defaultBlockTokens: 16 }).blockTokens).toBe(1024);
    expect(pagedState({ statePageBytes: 1000, stateLayers: 4, attnBytesPerTokenPerLayer: 0, alignTokens: 16, defaultBlockTokens: 16 }).stateBytesPerSequence).toBe(4000);
  });

  it('SGLang --max-mamba-cache-size sets the state slots (the KV pool gets the rest) and --mamba-full-memory-ratio the split; vLLM refuses both', async () => {
    const args = ['estimate', '--model', 'qwen3-next-80b-a3b', '--gpu', 'h100-sxm', '--count', '4', '--context', '32768', '--engine', 'sglang'];
    const plain = await cliJson(args);
    const perSequence = plain.figures['memory.perDevice.state'].value; // batch 1: one sequence's state per device
    const slots = await cliJson([...args, '--max-mamba-cache-size', '100']);
    expect(slots.figures['capacity.stateSlots'].value).toBe(100);
    expect(slots.figures['memory.stateCapacity'].value).toBe(100 * perSequence);
    expect(slots.figures['memory.kvCapacityTokens'].value).toBeGreaterThan(plain.figures['memory.kvCapacityTokens'].value);
    const ratio = await cliJson([...args, '--mamba-full-memory-ratio', '0.5']);
    expect(ratio.figures['memory.stateCapacity'].value).toBeCloseTo((ratio.figures['memory.kvCapacity'].value * 0.5) / 1.5, 0);
    await expectBadInput(['estimate', '--model', 'qwen3-next-80b-a3b', '--gpu', 'h100-sxm', '--count', '4', '--engine', 'vllm', '--max-mamba-cache-size', '100'], /--max-mamba-cache-size: .*keeps recurrent state in the KV pool/);
    await expectBadInput([...args, '--mamba-full-memory-ratio', '0'], /--mamba-full-memory-ratio/);
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

  it('a multimodal file of a family not read yet names its towers instead of a missing field', () => {
    const config = { model_type: 'future_omni', text_config: { model_type: 'future_omni_text', hidden_size: 2048, num_hidden_layers: 35 }, vision_config: { model_type: 'future_omni_vision' }, audio_config: { model_type: 'future_omni_audio' } };
    expect(() => importHfConfig(config, 'config.json')).toThrow(/model_type "future_omni" is not a known family .*"text_config", "vision_config", "audio_config"/);
  });

  it('an unknown family whose keys are all ones the generic decoder reads is read, with a warning', () => {
    const { warnings, model } = importHfConfig({ model_type: 'my_llama', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, rms_norm_eps: 1e-5, hidden_act: 'silu', rope_theta: 500000, bos_token_id: 1 }, 'config.json');
    expect(model.layers).toBe(32);
    expect(warnings.join()).toMatch(/not a known family/);
  });

  // Phi-2's own config.json under another model_type: no structural key, but LayerNorm, a plain
  // GELU MLP and (implied) biases; read as a gated RMSNorm Llama it would be 3.6B, not 2.78B.
  const renamedPhi2 = () => ({ ...preset('phi-2').config, model_type: 'my_phi' });

  it('an unknown family whose norm or MLP keys contradict the Llama layout exits 2 naming the keys (a renamed Phi-2)', async () => {
    expect(() => importHfConfig(renamedPhi2(), 'config.json')).toThrow(/model_type "my_phi" is not a known family, and the generic decoder reader .* would misread it: "layer_norm_eps" \(a LayerNorm.*"hidden_act": "gelu_new" \(the generic reader assumes a gated SiLU MLP.*supported families: .*phi.*--layers --hidden/);
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'llm-size-')), 'config.json');
    writeFileSync(file, JSON.stringify(renamedPhi2()));
    await expectBadInput(['estimate', '--hf-config', file], /"layer_norm_eps".*"hidden_act": "gelu_new"/);
  });

  it.each([
    ['the norm type unstated (no rms_norm_eps)', { rms_norm_eps: undefined }, /no "rms_norm_eps" \(the norm type is not stated/],
    ['the MLP gating unstated (no hidden_act)', { hidden_act: undefined }, /no "hidden_act" \(the MLP's gating is not stated/],
    ['a GELU MLP', { hidden_act: 'gelu' }, /"hidden_act": "gelu"/],
    ['biases switched on by a key the generic reader does not read', { use_bias: true }, /"use_bias": true \(biases the generic reader does not place\)/],
    ['no_bias false (biases everywhere)', { no_bias: false }, /"no_bias": false/],
    ['q/k norms', { qk_layernorm: true }, /"qk_layernorm": true/],
  ])('an unknown family with %s exits 2', (_name, change, message) => {
    const config: Record<string, unknown> = { model_type: 'my_llama', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, vocab_size: 128256, rms_norm_eps: 1e-5, hidden_act: 'silu', ...change };
    expect(() => importHfConfig(config, 'config.json')).toThrow(UserError);
    expect(() => importHfConfig(config, 'config.json')).toThrow(message);
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

describe('Gemma 3n: per-layer embeddings, AltUp, LAuReL, KV shared across the last layers, MobileNet-V5 and USM towers', () => {
  // By hand from transformers modeling_gemma3n.py (h 2048, 8 heads and 2 KV heads of 256, AltUp
  // n = 4, LAuReL r = 64, per-layer inputs p = 256 over a 262,144-row table, vocab 262,400 tied):
  //   per layer: q 2048 x 2048 + k, v 2048 x 512 + o 2048 x 2048 + q/k norms 2 x 256 = 10,486,272;
  //   GeGLU 3 x 2048 x f; 4 norms 8,192; AltUp 2h + h x n + n^2 + n^3 = 12,368; LAuReL
  //   2 x 2048 x 64 + 2048 = 264,192; per-layer input 2 x 2048 x 256 + 2048 = 1,050,624
  //   once: embed 262,400 x 2048; PLE 262,144 x L x 256; per_layer_model_projection 2048 x L x 256;
  //   its norm 256; altup (un)embed projections 2 x 3 x 2048^2; final norm 2048
  const layer = (f: number) => 10_486_272 + 3 * 2048 * f + 8192 + 12_368 + 264_192 + 1_050_624;
  const text = (L: number, f: number) => L * layer(f) + 262_400 * 2048 + 262_144 * L * 256 + 2048 * L * 256 + 256 + 6 * 2048 * 2048 + 2048;
  // USM audio encoder (h 1536, 8 heads, 12 blocks, kernel 5): convs 1 x 128 x 9 + 128 and 128 x 32 x 9 + 32,
  // input_proj (32 channels x 32 bins) x 1536; per block 24 h^2 + 9 h (norms) + 5 h (depthwise) + 192
  // (per_dim_scale); embed_audio 128 x 1536 + 2 x 1536 + 1536 x 2048
  const audio = 1152 + 128 + 36_864 + 32 + 1024 * 1536 + 12 * (24 * 1536 ** 2 + 14 * 1536 + 192) + 128 * 1536 + 2 * 1536 + 1536 * 2048;
  // embed_vision 128 x 2048 + 2 x 2048 + 2048 x 2048, and timm mobilenetv5_300m_enc: 294,284,096
  // (not in config.json: a public Keras Hub script's EXPECTED_V5_PARAMETERS)
  const vision = 294_284_096 + 128 * 2048 + 2 * 2048 + 2048 * 2048;

  it.each([
    // Keras Hub gemma3n_presets.py metadata params: gemma3n_e2b 5,439,595,456 and gemma3n_e4b 7,850,135,376
    // (the HF model pages round them to 5.44B and 7.85B)
    ['gemma-3n-e2b', 30, 8192, 5_439_595_456],
    ['gemma-3n-e4b', 35, 16_384, 7_850_135_376],
  ])('%s: text (%d layers, MLP %d) + audio + embedders counted from the config, with the MobileNet-V5 count, give the published %d', (id, L, f, published) => {
    const fig = params(id);
    expect(text(L, f) + audio + vision).toBe(published);
    expect(fig['params.total'].value).toBe(published);
    expect(Math.abs(fig['params.total'].value / published - 1)).toBeLessThan(0.001);
    // a text token uses neither tower: active = the text model (E2B 4.46B, E4B 6.87B)
    expect(fig['params.active'].value).toBe(text(L, f));
    expect(fig['params.audio'].value).toBe(audio);
    expect(fig['params.vision'].value).toBe(vision);
    expect(fig['params.vision'].approximate).toBe(true);
    expect(fig['params.perLayerEmbedding'].value).toBe(262_144 * L * 256);
  });

  it('the effective size: without the towers and the two embedding tables E2B has 1.91B and E4B 3.98B parameters (Gemma 3n docs; google/gemma3n-slicing-configs)', () => {
    for (const [id, effective] of [['gemma-3n-e2b', 1.91e9], ['gemma-3n-e4b', 3.98e9]] as const) {
      const fig = params(id);
      const rest = fig['params.active'].value - fig['params.perLayerEmbedding'].value - fig['params.embedding'].value;
      // the text model without its two embedding tables (the lookups), to the docs' three digits
      expect(Math.abs(rest / effective - 1)).toBeLessThan(0.003);
    }
  });

  it('KV: only the first 20 layers keep a cache (the last 10 of E2B read it), sliding layers at most 512 tokens', async () => {
    const j = await cliJson(['estimate', '--model', 'gemma-3n-e2b', '--gpu', 'l4', '--context', '32768']);
    // layers 0-19: 4 full (4, 9, 14, 19) and 16 sliding; 2 x 2 KV heads x 256 x 2 B = 2048 B per token per layer
    expect(j.figures['memory.kvCachePerToken'].value).toBe(20 * 2048);
    expect(j.figures['memory.kvCachePerSequence'].value).toBe(2048 * (4 * 32768 + 16 * 512));
    expect(j.input.model.shape).toMatch(/^30 layers \(16 sliding attention \(512\) \+ 4 full attention \+ 8 sliding attention \(512\) on shared KV \+ 2 full attention on shared KV\)/);
  });

  it('memory holds the per-layer embeddings and says they may live off the accelerator; a decode step does not read them', async () => {
    const { cli } = await import('./helpers.js');
    const r = await cli(['estimate', '--model', 'gemma-3n-e2b', '--gpu', 'l4', '--format', 'json']);
    const j = JSON.parse(r.stdout);
    expect(j.figures['memory.perLayerEmbeddings'].value).toBe(262_144 * 30 * 256 * 2);
    expect(r.stderr).toMatch(/per-layer embeddings on the device .* PLE caching \(LiteRT\) keeps them off the accelerator/);
    // decode FLOPs per token: 2 x matrix parameters (text without the two lookup tables, with the
    // tied head 262,400 x 2048) + 4 x 8 heads x 256 per key on all 30 layers (the 10 on shared KV
    // attend too) at the mean context 1024 + 256 / 2 = 1152: 6 full layers x 1152 + 24 sliding x 512
    const matmul = text(30, 8192) - 262_144 * 30 * 256 - 262_400 * 2048 + 262_400 * 2048;
    expect(j.figures['flops.decodePerToken'].value).toBe(2 * matmul + 4 * 8 * 256 * (6 * 1152 + 24 * 512));
  });

  it('reads a text-only config (gemma3n_text) and refuses a vision encoder whose size it does not know', () => {
    const full = preset('gemma-3n-e4b').config as Record<string, any>;
    const { model } = importHfConfig({ ...full.text_config, model_type: 'gemma3n_text' }, 'config.json');
    expect(paramsFigures({}, model).total).toBe(text(35, 16_384));
    expect(() => importHfConfig({ ...full, vision_config: { ...full.vision_config, architecture: 'mobilenetv5_base' } }, 'config.json')).toThrow(/vision_config\.architecture" is "mobilenetv5_base"/);
    expect(() => importHfConfig({ ...full, text_config: { ...full.text_config, num_kv_shared_layers: 35 } }, 'config.json')).toThrow(/num_kv_shared_layers" 35 leaves no layer/);
  });
});

describe('phi (Phi-1.5, Phi-2): LayerNorm, parallel attention and a plain GELU MLP, all with biases', () => {
  // modeling_phi.py by hand: embed V x h; per layer q, k, v, dense (4 h^2 + 4 h), fc1 and fc2
  // (2 h f + f + h), one LayerNorm (2 h); final LayerNorm 2 h; lm_head V x h + V (bias).
  const byHand = (V: number, h: number, f: number, L: number) => V * h + L * (4 * h * h + 4 * h + 2 * h * f + f + h + 2 * h) + 2 * h + V * h + V;

  it('Phi-2: 2,779,683,840, the HF count of microsoft/phi-2', () => {
    expect(byHand(51200, 2560, 10240, 32)).toBe(2_779_683_840);
    expect(params('phi-2')['params.total'].value).toBe(2_779_683_840);
    expect(params('phi-2')['params.lmHead'].value).toBe(51200 * 2560 + 51200);
    expect(params('phi-2')['params.norms'].value).toBe((32 + 1) * 2 * 2560);
  });

  it('Phi-1.5 (PhiConfig defaults: 24 x 2048, FFN 8192): 1,418,270,720 (the card\'s 1.3B; HF shows 1.42B)', () => {
    const { model } = importHfConfig({ architectures: ['PhiForCausalLM'], model_type: 'phi', hidden_act: 'gelu_new', hidden_size: 2048, intermediate_size: 8192, layer_norm_eps: 1e-5, max_position_embeddings: 2048, num_attention_heads: 32, num_hidden_layers: 24, num_key_value_heads: null, partial_rotary_factor: 0.5, qk_layernorm: false, tie_word_embeddings: false, vocab_size: 51200 }, 'config.json');
    expect(byHand(51200, 2048, 8192, 24)).toBe(1_418_270_720);
    expect(paramsFigures({}, model).total).toBe(1_418_270_720);
  });

  it('qk_layernorm true is refused rather than counted without its LayerNorms', () => {
    expect(() => importHfConfig({ ...preset('phi-2').config, qk_layernorm: true }, 'config.json')).toThrow(/"qk_layernorm" true is not modelled/);
  });
});

describe('families of 2025-2026 import with their published parameter counts', () => {
  // Each preset's published.params is checked for every preset in presets-models.test.ts; these
  // rows add the counts the checkpoints carry beyond params.total, and the families without an
  // exact published count (by hand, with the card's rounded figure).
  it.each([
    // HF Hub count 685,355,329,792 of deepseek-ai/DeepSeek-V3.2 (public GitHub MoE-audit markdown) = main + MTP layer
    ['deepseek-v3.2', 671_877_944_064, 685_355_329_792],
    // HF Hub count 110,468,824,832 of zai-org/GLM-4.5-Air (MoE-audit markdown; kvfit registry) = main + MTP layer with embedding and head copies
    ['glm-4.5-air', 106_852_251_264, 110_468_824_832],
  ])('%s: params.total %d, and with params.mtp the HF count of the checkpoint %d', (id, total, withMtp) => {
    const fig = params(id);
    expect(fig['params.total'].value).toBe(total);
    expect(fig['params.total'].value + fig['params.mtp'].value).toBe(withMtp);
  });

  it('DeepSeek-V3.2 = DeepSeek-V3 + 61 lightning indexers (wq_b 1536 x 64 x 128, wk 7168 x 128, LayerNorm 2 x 128, weights_proj 7168 x 64)', () => {
    const indexer = 1536 * 64 * 128 + 7168 * 128 + 2 * 128 + 7168 * 64;
    expect(indexer).toBe(13_959_424);
    expect(params('deepseek-v3.2')['params.total'].value - params('deepseek-v3')['params.total'].value).toBe(61 * indexer);
  });

  it('Kimi K2 (kimi_k2, DeepSeek-V3 layout) is within 3,416 parameters (3e-9) of its HF count 1,026,408,235,864', () => {
    const total = params('kimi-k2')['params.total'].value;
    expect(total).toBe(1_026_408_232_448);
    expect(Math.abs(total / 1_026_408_235_864 - 1)).toBeLessThan(1e-8);
  });

  it.each([
    // Jamba-v0.1 by hand (modeling_jamba.py; equal to the safetensors total_size 103,140,646,656 B / 2
    // of the same architecture, presets/models/jamba-v0.1.yaml published.params): 28 Mamba layers of 105,308,448 (in_proj 4096 x 16384,
    // conv 8192 x 4 + 8192, x_proj 8192 x 288, dt_proj 256 x 8192 + 8192, A_log 8192 x 16, D 8192,
    // dt/B/C norms 288, out_proj 8192 x 4096), 4 attention layers of 41,943,040, 16 dense MLPs of
    // 3 x 4096 x 14336, 16 MoE of 16 such + router 4096 x 16, norms, embedding and head 65536 x 4096.
    ['jamba-v0.1', 28 * 105_308_448 + 4 * 41_943_040 + 16 * 176_160_768 + 16 * (16 * 176_160_768 + 65_536) + 32 * 2 * 4096 + 4096 + 2 * 65536 * 4096, 52e9],
    // Falcon-H1-7B: 44 x (attention 11,010,048 + Mamba-2 29,976,136 + MLP 3 x 3072 x 12288 + 2 norms) + final norm + 2 x 130048 x 3072
    ['falcon-h1-7b', 44 * (11_010_048 + 29_976_136 + 113_246_208 + 2 * 3072) + 3072 + 2 * 130048 * 3072, 7.59e9],
    // Mamba-Codestral (equal to its BF16 tensor payload 14,570,807,296 B / 2, published.params): 64 x (norm 4096 + in_proj 4096 x 18560 + conv 10240 x 5 + 3 x 128 + gated norm 8192 + out 8192 x 4096) + norm_f + 2 x 32768 x 4096
    ['mamba-codestral-7b', 64 * (4096 + 4096 * 18560 + 10240 * 5 + 384 + 8192 + 8192 * 4096) + 4096 + 2 * 32768 * 4096, 7.3e9],
  ])('%s has the count by hand (%d) and rounds to the card\'s %d', (id, byHand, card) => {
    expect(params(id)['params.total'].value).toBe(byHand);
    expect(Math.abs(byHand / card - 1)).toBeLessThan(0.01);
  });

  it('ERNIE 4.5 21B-A3B: params.total is the HF Hub safetensors total of the same architecture (ERNIE-4.5-21B-A3B-Thinking), whose F32 tensors are the 27 routers and their correction biases', () => {
    // HF API safetensors {F32: 4,425,408, BF16: 21,821,012,480, total: 21,825,437,888} (presets/models/ernie-4.5-21b-a3b.yaml published.params)
    expect(27 * (2560 * 64 + 64)).toBe(4_425_408);
    expect(params('ernie-4.5-21b-a3b')['params.total'].value).toBe(4_425_408 + 21_821_012_480);
  });

  it('Nemotron-H-56B-Base-8K reads its real config.json (hybrid_override_pattern, time_step_limit [0.0, Infinity] as Python writes it)', async () => {
    const j = await cliJson(['estimate', '--hf-config', 'test/fixtures/configs/nemotron-h-56b-base-8k.config.json', '--gpu', 'h200', '--count', '4', '--context', '8192']);
    expect(j.input.model.shape).toMatch(/^118 layers \(54 Mamba-2 \+ 54 MLP-only \+ 10 full attention\)/);
    // 10 attention layers x 2 x 8 KV heads x 128 x 2 bytes
    expect(j.figures['memory.kvCachePerToken'].value).toBe(10 * 2 * 8 * 128 * 2);
    // conv (256 x 64 + 2 x 8 x 256) x 3 in bf16 + SSM 256 x 64 x 256 in fp32 (vLLM NemotronHForCausalLMConfig), 54 layers
    expect(j.figures['memory.statePerSequence'].value).toBe(54 * ((256 * 64 + 2 * 8 * 256) * 3 * 2 + 256 * 64 * 256 * 4));
    // the card's 56B
    expect(Math.abs(j.figures['params.total'].value / 56e9 - 1)).toBeLessThan(0.01);
  });
});

describe('presets whose config is the Hub config.json verbatim', () => {
  // Each preset's config block is the model's config.json as a public repository copies it (the
  // preset's notes name the repository, path and commit); from it, params.total is the published count.
  it.each([
    // HuggingFaceTB/SmolLM3-3B model.safetensors.index.json total_parameters 3,075,098,624 (total_size 6,150,197,248 B / 2)
    ['smollm3-3b', 3_075_098_624],
    // sum of numel over Qwen2_5_VLForConditionalGeneration.from_pretrained('Qwen2.5-VL-7B-Instruct') (public fine-tuning note), 676,550,144 of them in model.visual
    ['qwen2.5-vl-7b', 8_292_166_656],
    // HF Hub count of MiniMaxAI/MiniMax-M1-80k and -40k (public MoE-audit markdown); config.json from github:MiniMax-AI/MiniMax-M1
    ['minimax-m1', 456_089_655_296],
  ])('%s: params.total %d from the verbatim file', (id, count) => {
    expect(readFileSync(`presets/models/${id}.yaml`, 'utf8')).not.toMatch(/RECONSTRUCTED/);
    expect(params(id)['params.total'].value).toBe(count);
  });

  it('MiniMax-M1: the official safetensors index total_size is that count in bf16 with the 80 routers (6144 x 32) in float32', () => {
    // github:MiniMax-AI/MiniMax-M1 model.safetensors.index.json metadata.total_size 912,210,767,872 B
    expect(2 * params('minimax-m1')['params.total'].value + 2 * 80 * 6144 * 32).toBe(912_210_767_872);
  });

  it('MiniMax-M1: shared_moe_mode is read only as "no shared MLP" (shared_intermediate_size 0); a shared MLP is refused, and minimax_text_01 reads the same shapes', () => {
    const config = preset('minimax-m1').config as Record<string, unknown>;
    expect(config.shared_moe_mode).toBe('sigmoid');
    expect(() => importHfConfig({ ...config, shared_intermediate_size: 9216 }, 'config.json')).toThrow(/"shared_intermediate_size" > 0/);
    const { shared_moe_mode: _mode, ...text01 } = config;
    const m = importHfConfig({ ...text01, model_type: 'minimax_text_01', architectures: ['MiniMaxText01ForCausalLM'] }, 'config.json').model;
    expect(paramsFigures({}, m).total).toBe(456_089_655_296);
  });
});

describe('layer kinds: KV, state and attention per kind', () => {
  it('Llama 4 Scout: 36 chunked-attention layers hold at most 8192 tokens, the 12 NoPE layers the whole context', async () => {
    const j = await cliJson(['estimate', '--model', 'llama-4-scout', '--gpu', 'h200', '--count', '8', '--context', '131072']);
    const perLayer = 2 * 8 * 128 * 2;
    expect(j.figures['memory.kvCachePerSequence'].value).toBe(perLayer * (12 * 131072 + 36 * 8192));
    expect(j.input.model.shape).toMatch(/36 chunked attention \(8192\) \+ 12 full attention/);
  });

  it('Llama 4 Maverick: MoE on the odd layers (moe_layers default from interleave_moe_layer_step 2), dense MLPs of 16384 on the others', () => {
    const m = preset('llama-4-maverick').model;
    expect(m.moe!.denseLayers).toBe(24);
    expect(m.layerKinds!.filter((k) => k.mlp.kind === 'moe').flatMap((k) => k.layers).slice(0, 3)).toEqual([1, 3, 5]);
  });

  it('DeepSeek-V3.2 caches the MLA latent and the indexer keys (132 B fp8 + scale), and decode attends to at most 2048 keys', async () => {
    const j = await cliJson(['estimate', '--model', 'deepseek-v3.2', '--gpu', 'h200', '--count', '8', '--input-tokens', '100000', '--output-tokens', '1000']);
    expect(j.figures['memory.kvCachePerToken'].value).toBe(61 * ((512 + 64) * 2 + 128 + 4));
    const v3 = await cliJson(['estimate', '--model', 'deepseek-v3', '--gpu', 'h200', '--count', '8', '--input-tokens', '100000', '--output-tokens', '1000']);
    // at 100k context the sparse model's decode FLOPs per token are far below the dense MLA's
    expect(j.figures['flops.decodePerToken'].value).toBeLessThan(0.5 * v3.figures['flops.decodePerToken'].value);
  });

  it('Mamba-Codestral holds no KV cache: its per-sequence memory is the same at 4k and at 256k', async () => {
    const short = await cliJson(['estimate', '--model', 'mamba-codestral-7b', '--context', '4096']);
    const long = await cliJson(['estimate', '--model', 'mamba-codestral-7b', '--context', '262144']);
    expect(short.figures['memory.kvCachePerToken'].value).toBe(0);
    expect(long.figures['memory.statePerSequence'].value).toBe(short.figures['memory.statePerSequence'].value);
    // 64 layers x (conv (8192 + 2 x 8 x 128) x 3 + SSM 128 x 64 x 128) x 2 bytes
    expect(long.figures['memory.statePerSequence'].value).toBe(64 * ((8192 + 2 * 8 * 128) * 3 + 128 * 64 * 128) * 2);
  });

  it('MiniMax-M1: 70 lightning layers keep a 64 x 128 x 128 state, the 10 softmax layers keep KV', async () => {
    const j = await cliJson(['estimate', '--model', 'minimax-m1', '--gpu', 'h200', '--count', '8']);
    expect(j.figures['memory.kvCachePerToken'].value).toBe(10 * 2 * 8 * 128 * 2);
    expect(j.figures['memory.statePerSequence'].value).toBe(70 * 64 * 128 * 128 * 2);
  });

  it('Falcon-H1 runs attention and Mamba-2 in every layer: 44 layers hold KV and 44 keep state, with two norms per layer', async () => {
    const j = await cliJson(['estimate', '--model', 'falcon-h1-7b']);
    expect(j.figures['memory.kvCachePerToken'].value).toBe(44 * 2 * 2 * 128 * 2);
    expect(j.figures['params.norms'].value).toBe((44 * 2 + 1) * 3072);
  });

  it('train refuses recurrent layers and DSA with exit 2 naming them', async () => {
    await expectBadInput(['train', '--model', 'jamba-v0.1', '--gpu', 'h100-sxm', '--count', '8', '--tokens', '1e9'], /28 Mamba layers/);
    await expectBadInput(['train', '--model', 'deepseek-v3.2', '--gpu', 'h100-sxm', '--count', '64', '--tokens', '1e9'], /sparse MLA/);
  });
});

describe('images become prompt tokens by each model\'s processor rules (--images 4 --image-size 1024x1024)', () => {
  it.each([
    // Qwen2VLImageProcessor smart_resize: round(1024 / 28) = 37 -> 1036 x 1036, 74 x 74 patches of 14,
    // one token per 2 x 2: 1369 <|image_pad|> + <|vision_start|> <|vision_end|> = 1371 per image
    ['qwen2.5-vl-7b', 4 * 1371],
    // Llama 4 get_best_fit: 4 x 4 tiles of 336 is the least upscaling (1.3125) within 16 tiles; 16 tiles
    // + a global tile of 144 tokens (24 x 24 patches, pixel shuffle 0.5), 3 x 4 x-separators + 4
    // y-separators, <|image_start|> <|image|> <|image_end|>: 1 + 17 x 144 + 16 + 1 + 1 = 2467 per image
    ['llama-4-scout', 4 * 2467],
  ])('%s: the prompt grows by %d tokens', async (model, tokens) => {
    const plain = await cliJson(['estimate', '--model', model, '--gpu', 'h200', '--count', '4']);
    const j = await cliJson(['estimate', '--model', model, '--gpu', 'h200', '--count', '4', '--images', '4', '--image-size', '1024x1024']);
    expect(j.figures['workload.imageTokens'].value).toBe(tokens);
    expect(j.input.workload.inputTokens).toBe(plain.input.workload.inputTokens + tokens);
    expect(j.figures['flops.prefillVision'].value).toBeGreaterThan(0);
    expect(j.figures['flops.prefill'].value).toBeGreaterThan(plain.figures['flops.prefill'].value + j.figures['flops.prefillVision'].value);
    expect(j.figures['memory.encoderCache'].value).toBeGreaterThan(0);
  });

  it('Gemma 3 (multimodal config): 256 soft tokens + <start_of_image> <end_of_image> per image, whatever its size', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'llm-size-')), 'config.json');
    writeFileSync(file, JSON.stringify({ architectures: ['Gemma3ForConditionalGeneration'], model_type: 'gemma3', torch_dtype: 'bfloat16', mm_tokens_per_image: 256, text_config: { head_dim: 128, hidden_size: 5376, intermediate_size: 21504, model_type: 'gemma3_text', num_attention_heads: 32, num_hidden_layers: 62, num_key_value_heads: 16, query_pre_attn_scalar: 168, rope_scaling: { factor: 8.0, rope_type: 'linear' }, sliding_window: 1024 }, vision_config: { hidden_size: 1152, image_size: 896, intermediate_size: 4304, model_type: 'siglip_vision_model', num_attention_heads: 16, num_hidden_layers: 27, patch_size: 14, vision_use_head: false } }));
    const j = await cliJson(['estimate', '--hf-config', file, '--gpu', 'h200', '--images', '4', '--image-size', '1024x1024']);
    expect(j.figures['workload.imageTokens'].value).toBe(4 * 258);
  });

  it.each([
    // smart_resize: round(1080 / 28) = 39 -> 1092, round(1920 / 28) = 69 -> 1932; 78 x 138 patches / 4 = 2691 + 2
    ['qwen2.5-vl-7b', '1920x1080', 2693],
    // no canvas of <= 16 tiles covers 1920 x 1080, so the least downscaling: 5 x 3 tiles (0.875);
    // 15 + 1 global tile of 144, 4 x 3 + 3 separators, 3 special tokens
    ['llama-4-scout', '1920x1080', 1 + 16 * 144 + 15 + 1 + 1],
    // a small image: 300 x 200 -> Llama 4 one tile (no global tile): 1 + 144 + 1 + 1
    ['llama-4-scout', '300x200', 147],
  ])('%s at %s: %d tokens per image', async (model, size, tokens) => {
    const j = await cliJson(['estimate', '--model', model, '--gpu', 'h200', '--count', '4', '--images', '1', '--image-size', size]);
    expect(j.figures['workload.imageTokens'].value).toBe(tokens);
  });

  it('a model without a vision encoder, or images without a size, is bad input', async () => {
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--images', '2', '--image-size', '512x512'], /--images: .* has no vision encoder/);
    await expectBadInput(['estimate', '--model', 'qwen2.5-vl-7b', '--images', '2'], /--image-size/);
    await expectBadInput(['estimate', '--model', 'qwen2.5-vl-7b', '--images', '2', '--image-size', 'big'], /--image-size: "big" is not an image size/);
  });
});

describe('context extension (rope_scaling)', () => {
  it('beyond the native window it warns with the scaling; beyond the trained window it is exit 2 unless --allow-beyond-trained', async () => {
    const { cli } = await import('./helpers.js');
    const within = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--context', '32k', '--format', 'json']);
    expect(within.code).toBe(0);
    expect(within.stderr).toMatch(/beyond Llama 3.1 8B's native window of 8192 tokens: it relies on rope_scaling llama3 \(factor 8, up to 131072 tokens\)/);
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--context', '200000'], /--context: a context of 200000 tokens is beyond the 131072 .* rope_scaling llama3 x8\); pass --allow-beyond-trained/);
    const allowed = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--context', '200000', '--allow-beyond-trained', '--format', 'json']);
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(/exceeds the model's maximum of 131072/);
  });

  it.each([
    // DeepSeek-V3: YaRN x40 over 4096 = 163840 (max_position_embeddings)
    ['deepseek-v3', 'yarn', 40, 4096, 163840],
    // Gemma 3: linear x8, no original window in the file: 131072 / 8
    ['gemma-3-27b', 'linear', 8, 16384, 131072],
    // Llama 3.2: llama3 x32 over 8192, the file's 131072 is the window it reaches
    ['llama-3.2-1b', 'llama3', 32, 8192, 131072],
  ])('%s reads rope_scaling %s x%d: native %d, trained window %d', (id, type, factor, native, scaled) => {
    const m = preset(id).model;
    expect(m.ropeScaling).toEqual({ type, factor, originalContext: native, scaledContext: scaled });
    expect(m.maxContext).toBe(scaled);
  });

  it('Qwen3 with the YaRN block its card describes (factor 4 over 32768) reaches 131072 beyond max_position_embeddings 40960', () => {
    const config = { ...preset('qwen3-8b').config, rope_scaling: { rope_type: 'yarn', factor: 4.0, original_max_position_embeddings: 32768 } };
    expect(importHfConfig(config, 'config.json').model.maxContext).toBe(131072);
  });
});
