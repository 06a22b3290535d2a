import { describe, expect, it } from 'vitest';
import { tensorGroups } from '../src/estimate/params.js';
import { useMoreBits, weightParts } from '../src/estimate/weights.js';
import { importHfConfig } from '../src/inputs/hf/index.js';
import { bitsPerElement, formatByName, FORMATS, GGUF_TYPES } from '../src/inputs/precision.js';
import { cli, cliJson } from './helpers.js';

describe('bits per weight follow each format layout, scales and zero points included', () => {
  it.each([
    // ggml/src/ggml-common.h: block_q4_0 = fp16 d + 16 bytes of nibbles = 18 B per 32
    ['q4_0', 18 * 8 / 32],
    // block_q8_0 = fp16 d + 32 int8 = 34 B per 32
    ['q8_0', 34 * 8 / 32],
    // block_q4_K = 2 fp16 + 12 B scales + 128 B = 144 B per 256
    ['q4_k_m', 144 * 8 / 256],
    // block_q5_K = 176 B per 256
    ['q5_k_m', 176 * 8 / 256],
    // block_q6_K = 128 + 64 + 16 + 2 = 210 B per 256
    ['q6_k', 210 * 8 / 256],
    // OCP MX v1.0: 32 e2m1 values + one e8m0 scale
    ['mxfp4', 4 + 8 / 32],
    // NVFP4: 16 e2m1 values + one e4m3 scale (per-tensor fp32 scale negligible)
    ['nvfp4', 4 + 8 / 16],
    // GPTQ / AWQ: 4-bit weights + fp16 scale + 4-bit zero per group of 128
    ['gptq-int4', 4 + 20 / 128],
    ['awq-int4', 4 + 20 / 128],
    ['gptq-int4-g64', 4 + 20 / 64],
    ['awq-int4-g32', 4 + 20 / 32],
    ['gptq-int8', 8 + 24 / 128],
    // QLoRA NF4 with double quantization: 4 + 8/64 + 32/(64 x 256)
    ['bnb-nf4', 4 + 8 / 64 + 32 / (64 * 256)],
    // DeepSeek-V3 FP8: one fp32 weight_scale_inv per 128 x 128 block
    ['fp8-block', 8 + 32 / (128 * 128)],
    ['fp8', 8],
    ['bf16', 16],
  ])('%s: %d bits', (name, bits) => {
    expect(bitsPerElement(formatByName(name)!)).toBeCloseTo(bits, 12);
  });

  it.each([['q5_0', 22 * 8 / 32], ['q5_1', 24 * 8 / 32], ['q4_1', 20 * 8 / 32]] as const)('GGUF fallback type %s: %d bits', (t, bits) => {
    expect(bitsPerElement(GGUF_TYPES[t])).toBe(bits);
  });

  it.each(['gptq-int4-g7', 'q4_0-g64', 'gptq-int4-gx', 'fp9'])('%s is not a format', (name) => {
    expect(formatByName(name)).toBeUndefined();
  });
});

describe('GGUF weight bytes land within 2% of published file sizes', () => {
  // Published sizes are decimal GB (1e9 B) of whole .gguf files, which add metadata and the tokenizer.
  it.each([
    // TheBloke/Luna-AI-Llama2-Uncensored-GGUF README "Provided files" (a Llama-2-7B fine-tune, same shapes)
    ['llama-2-7b', 'q4_0', 3.83],
    ['llama-2-7b', 'q4_k_m', 4.08],
    ['llama-2-7b', 'q5_k_m', 4.78],
    ['llama-2-7b', 'q6_k', 5.53],
    ['llama-2-7b', 'q8_0', 7.16],
    // bartowski/LLaMA3-iterative-DPO-final-GGUF README (a Llama-3-8B fine-tune, same shapes)
    ['llama-3-8b', 'q4_k_m', 4.92],
    ['llama-3-8b', 'q5_k_m', 5.73],
    ['llama-3-8b', 'q6_k', 6.59],
    ['llama-3-8b', 'q8_0', 8.54],
    // localmodels/Llama-2-13B-ggml README (ggmlv3 files, same block layouts)
    ['llama-2-13b', 'q4_0', 7.32],
    ['llama-2-13b', 'q4_k_m', 7.87],
  ])('%s %s: %d GB', async (model, precision, gb) => {
    const out = await cliJson(['estimate', '--model', model, '--precision', precision, '--gpu', 'h100-sxm']);
    expect(Math.abs(out.figures['memory.weights'].value / (gb * 1e9) - 1)).toBeLessThan(0.02);
  });

  it('llama.cpp use_more_bits picks 16 of 32 layers: the first and last 4 and every third in between', () => {
    const picked = Array.from({ length: 32 }, (_, i) => i).filter((i) => useMoreBits(i, 32));
    expect(picked).toEqual([0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]);
  });

  it('Q4_K_M on Llama-3.1-8B: output Q6_K, attn_v and ffn_down Q6_K on 16 layers, the rest Q4_K, norms F32', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--precision', 'q4_k_m', '--gpu', 'h100-sxm']);
    const f = out.figures;
    const h = 4096;
    // Q6_K: lm_head 128256 x 4096 + 16 x (attn_v 4096 x 1024 + ffn_down 14336 x 4096)
    const q6 = 128256 * h + 16 * (h * 1024 + 14336 * h);
    expect(f['memory.weights.q6_K'].inputs.params).toBe(q6);
    expect(f['memory.weights.f32'].inputs.params).toBe((32 * 2 + 1) * h);
    expect(f['memory.weights'].value).toBe(f['memory.weights.q6_K'].value + f['memory.weights.q4_K'].value + f['memory.weights.f32'].value);
    expect(f['memory.weights.q6_K'].value).toBe((q6 * 210) / 256);
  });

  it('Mixtral (8 experts) gets Q8_0 attn_k and attn_v and Q5_K attn_output in Q4_K_M, as llama.cpp assigns', () => {
    const { model } = importHfConfig({ model_type: 'mixtral', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 32000, num_local_experts: 8, num_experts_per_tok: 2 }, 'config.json');
    const parts = weightParts(model, tensorGroups(model), FORMATS.q4_k_m, FORMATS.bf16);
    const typeOf = (id: string) => [...new Set(parts.filter((p) => p.group.id === id).map((p) => p.format.id))];
    expect(typeOf('layers.self_attn.k_proj')).toEqual(['q8_0']);
    expect(typeOf('layers.self_attn.v_proj')).toEqual(['q8_0']);
    expect(typeOf('layers.self_attn.o_proj')).toEqual(['q5_K']);
    expect(typeOf('layers.mlp.router')).toEqual(['f32']);
  });

  it('k-quants fall back when rows are not a multiple of 256 (gpt-oss hidden 2880: Q4_K -> Q5_0)', () => {
    const { model } = importHfConfig({ model_type: 'gpt_oss', hidden_size: 2880, intermediate_size: 2880, num_hidden_layers: 2, num_attention_heads: 64, num_key_value_heads: 8, head_dim: 64, vocab_size: 201088, num_local_experts: 4, num_experts_per_tok: 2, sliding_window: 128 }, 'config.json');
    const parts = weightParts(model, tensorGroups(model), FORMATS.q4_k_m, FORMATS.bf16);
    expect([...new Set(parts.filter((p) => p.group.id === 'layers.mlp.experts.up_proj').map((p) => p.format.id))]).toEqual(['q5_0']);
    // output rows of 2880 do not fit Q6_K's 256-blocks: Q8_0 (llama_tensor_get_type, nx % qk_k != 0)
    expect(parts.find((p) => p.group.id === 'lm_head')!.format.id).toBe('q8_0');
  });
});

describe('tensors that stay in higher precision, per format', () => {
  it.each([
    ['gptq-int4', 4 + 20 / 128],
    ['awq-int4-g64', 4 + 20 / 64],
    ['bnb-nf4', 4 + 8 / 64 + 32 / (64 * 256)],
    ['fp8', 8],
    ['nvfp4', 4.5],
  ])('%s: linear layers quantized, embeddings, output head and norms stay bf16', async (precision, bits) => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--precision', precision, '--gpu', 'h100-sxm']);
    const sixteen = 2 * 128256 * 4096 + 65 * 4096;
    expect(out.figures['memory.weights.bf16'].inputs.params).toBe(sixteen);
    expect(out.figures['memory.weights'].value).toBeCloseTo(sixteen * 2 + ((8_030_261_248 - sixteen) * bits) / 8, 0);
  });

  it('gpt-oss MXFP4 (quantization_config): only the experts are MXFP4; attention, router, embeddings and head stay bf16', async () => {
    const out = await cliJson(['estimate', '--model', 'gpt-oss-120b', '--gpu', 'h200']);
    // experts: 36 layers x 128 x 3 x 2880 x 2880 weights at 4.25 bits
    const experts = 36 * 128 * 3 * 2880 * 2880;
    expect(out.figures['memory.weights.mxfp4'].inputs.params).toBe(experts);
    expect(out.figures['memory.weights.bf16'].inputs.params).toBe(116_829_156_672 - experts);
    // = the published model.safetensors.index.json total_size, 65,248,815,744 B (presets/models/gpt-oss-120b.yaml)
    expect(out.figures['memory.weights'].value).toBe(65_248_815_744);
  });

  it('quantization_config of GPTQ, AWQ, bitsandbytes and compressed-tensors checkpoints sets the default format', () => {
    const base = { model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 100 };
    const q = (quantization_config: Record<string, unknown>) => importHfConfig({ ...base, quantization_config }, 'config.json').model.quantization;
    expect(q({ quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false })).toBe('gptq-int4-g128');
    expect(q({ quant_method: 'gptq', bits: 8, group_size: 32 })).toBe('gptq-int8-g32');
    expect(q({ quant_method: 'awq', bits: 4, group_size: 64, version: 'gemm' })).toBe('awq-int4-g64');
    expect(q({ quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4' })).toBe('bnb-nf4');
    expect(q({ quant_method: 'fp8', weight_block_size: [128, 128] })).toBe('fp8-block');
    expect(q({ quant_method: 'compressed-tensors', config_groups: { group_0: { weights: { num_bits: 8, type: 'float', strategy: 'channel' }, input_activations: { num_bits: 8, type: 'float' } } } })).toBe('fp8');
    expect(q({ quant_method: 'modelopt', quant_algo: 'NVFP4' })).toBe('nvfp4');
  });

  it('an MLX checkpoint (mlx_lm.convert: quantization and quantization_config without quant_method) is mlx-int4 / mlx-int8', () => {
    const base = { model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 100 };
    const mlx = (quantization: Record<string, unknown>) => importHfConfig({ ...base, quantization, quantization_config: quantization }, 'config.json');
    expect(mlx({ group_size: 64, bits: 4 }).model.quantization).toBe('mlx-int4');
    expect(mlx({ group_size: 64, bits: 8, mode: 'affine' }).model.quantization).toBe('mlx-int8');
    expect(mlx({ group_size: 32, bits: 4 }).model.quantization).toBe('mlx-int4-g32');
    const three = mlx({ group_size: 64, bits: 3 });
    expect(three.model.quantization).toBeUndefined();
    expect(three.warnings.join('\n')).toMatch(/MLX quantization \(mode affine, 3 bits, group 64\) is not read/);
    expect(bitsPerElement(formatByName('mlx-int4')!)).toBe(4.5);
    expect(bitsPerElement(formatByName('mlx-int8-g128')!)).toBe(8.25);
    expect(formatByName('mlx-int4-g48')).toBeUndefined();
  });
});

describe('compute precision follows what engines do', () => {
  it.each([
    ['gptq-int4', 'bf16'],
    ['awq-int4', 'bf16'],
    ['bnb-nf4', 'bf16'],
    ['mxfp4', 'bf16'],
    ['fp8', 'fp8'],
    ['fp8-block', 'fp8'],
    ['int8', 'int8'],
  ])('%s weights on H100 compute at %s', async (precision, compute) => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--precision', precision, '--gpu', 'h100-sxm']);
    expect(out.input.precision.compute).toBe(compute);
  });

  it.each(['fp16', 'bf16', 'fp8', 'int8', 'int4'])('--kv-precision %s is accepted', async (kv) => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--kv-precision', kv, '--gpu', 'h100-sxm']);
    expect(out.input.precision.kv).toBe(kv);
  });

  it('a weight-only format as KV cache, or an unknown precision, exits 2 with the accepted values', async () => {
    const kv = await cli(['estimate', '--model', 'llama-3.1-8b', '--kv-precision', 'q4_k_m', '--gpu', 'h100-sxm']);
    expect(kv.code).toBe(2);
    expect(kv.stderr).toMatch(/--kv-precision: unknown value "q4_k_m".*accepted: fp32, bf16, fp16, fp8, int8, int4/);
    const w = await cli(['estimate', '--model', 'llama-3.1-8b', '--precision', 'gptq-int3', '--gpu', 'h100-sxm']);
    expect(w.code).toBe(2);
    expect(w.stdout).toBe('');
    expect(w.stderr).toMatch(/--precision: unknown value "gptq-int3"; did you mean gptq-int4.*gptq-int4-g<N>/);
  });
});
