import { ConfigReader, type HfConfig } from './reader.js';

/**
 * quantization_config -> a weight-format name (src/inputs/precision.ts formatByName) and the
 * modules it leaves unquantized. Methods as transformers names them (quantizers/auto.py).
 */
export function readQuantization(r: ConfigReader, warnings: string[]): { format?: string; keep: string[] } {
  const q = r.object('quantization_config');
  if (!q) return { keep: [] };
  const qr = new ConfigReader(q, r.file, 'quantization_config.');
  // MLX checkpoints (mlx_lm.convert): quantization and quantization_config = { group_size, bits, mode }, no quant_method (mlx_lm/utils.py quantize_model)
  if (!qr.has('quant_method') && r.object('quantization')) {
    const mode = qr.str('mode', 'affine');
    const b = qr.optInt(['bits'], 4);
    const g = qr.optInt(['group_size'], 64);
    if (mode === 'affine' && (b === 4 || b === 8) && [32, 64, 128].includes(g)) return { format: g === 64 ? `mlx-int${b}` : `mlx-int${b}-g${g}`, keep: [] };
    if (mode === 'mxfp4') return { format: 'mxfp4', keep: [] };
    warnings.push(`${r.file}: MLX quantization (mode ${mode}, ${b} bits, group ${g}) is not read; weights default to bf16 (pass --precision mlx-int4 or mlx-int8)`);
    return { keep: [] };
  }
  const method = qr.str('quant_method', 'unknown').toLowerCase();
  const keep = [...(qr.strings('modules_to_not_convert') ?? []), ...(qr.strings('ignore') ?? []), ...(qr.strings('llm_int8_skip_modules') ?? [])];
  const bits = qr.optInt(['bits', 'w_bit'], 4);
  const group = q.group_size === -1 || q.q_group_size === -1 ? 0 : qr.optInt(['group_size', 'q_group_size'], 128);
  const grouped = (name: string) => `${name}-g${group}`;
  switch (method) {
    case 'fp8':
      return { format: qr.has('weight_block_size') ? 'fp8-block' : 'fp8', keep };
    case 'mxfp4':
      return { format: 'mxfp4', keep };
    case 'gptq':
      return { format: bits === 8 ? grouped('gptq-int8') : grouped('gptq-int4'), keep };
    case 'awq':
      return { format: grouped('awq-int4'), keep };
    case 'bitsandbytes':
      return { format: qr.bool('load_in_8bit', false) ? 'bnb-int8' : 'bnb-nf4', keep };
    case 'modelopt': {
      const algo = qr.str('quant_algo', '').toUpperCase();
      if (algo.includes('NVFP4')) return { format: 'nvfp4', keep };
      if (algo.includes('FP8')) return { format: 'fp8', keep };
      break;
    }
    case 'compressed-tensors': {
      if (qr.str('format', '').includes('nvfp4')) return { format: 'nvfp4', keep };
      const groups = qr.object('config_groups');
      const first = groups ? (Object.values(groups)[0] as HfConfig | undefined) : undefined;
      const weights = first && typeof first.weights === 'object' ? (first.weights as HfConfig) : undefined;
      if (weights) {
        const wb = weights.num_bits;
        if (weights.type === 'float' && wb === 8) return { format: weights.strategy === 'block' ? 'fp8-block' : 'fp8', keep };
        if (weights.type === 'int' && wb === 8 && first?.input_activations) return { format: 'int8', keep };
        if (weights.type === 'int' && (wb === 4 || wb === 8)) {
          const g = typeof weights.group_size === 'number' && weights.group_size > 0 ? weights.group_size : 128;
          return { format: `gptq-int${wb}-g${g}`, keep };
        }
      }
      break;
    }
  }
  warnings.push(`${r.file}: quantization_config quant_method "${method}" is not read; weights default to bf16 (pass --precision to choose)`);
  return { keep };
}

