/**
 * The command-line reproductions of issue 11's table, each with the one line it must now print
 * (exit 2). test/hardening.test.ts runs them in-process; `npm run fuzz` runs them as processes
 * too, each within the time and memory limits (2 s, 200 MB).
 */
export const REPRODUCTIONS: { name: string; argv: string[]; message: RegExp }[] = [
  { name: '--params 1e21 (V8 abort)', argv: ['estimate', '--params', '1e21'], message: /--params: 1e21 is larger than any model this tool sizes \(at most 1e15\)/ },
  { name: '--params 1e21 in plan', argv: ['plan', '--params', '1e21', '--qps', '1'], message: /--params: 1e21 is larger than any model/ },
  { name: '--params 1e21 in train', argv: ['train', '--params', '1e21'], message: /--params: 1e21 is larger than any model/ },
  { name: '--params 1e21 in sweep', argv: ['sweep', '--params', '1e21', '--over', 'batch=1,2'], message: /--params: 1e21 is larger than any model/ },
  { name: '--micro-batch 1e6k (heap exhaustion)', argv: ['train', '--model', 'mixtral-8x7b', '--micro-batch', '1e6k'], message: /--micro-batch: 1e6k is a larger batch than this tool sizes \(at most 1000000\)/ },
  { name: '--qps 1e16 (hang)', argv: ['plan', '--model', 'llama-3.1-8b', '--hardware', 'h100-sxm,l4', '--qps', '1e16'], message: /--qps: 1e16 is more requests per second than this tool sizes/ },
  { name: '--micro-batch 4294967296 (hang)', argv: ['train', '--model', 'deepseek-v3', '--micro-batch', '4294967296'], message: /--micro-batch: 4294967296 is a larger batch/ },
  { name: '--micro-batch 7b (RangeError in fitSuggestions)', argv: ['train', '--model', 'gemma-3-4b', '--micro-batch', '7b'], message: /--micro-batch: 7b is a larger batch/ },
  { name: '--mfu 5e-324', argv: ['estimate', '--model', 'llama-3.1-8b', '--mfu', '5e-324'], message: /--mfu: 5e-324 is below the smallest efficiency this tool models \(at least 0\.001\)/ },
  { name: '--mbu 5e-324', argv: ['estimate', '--model', 'llama-3.1-8b', '--mbu', '5e-324'], message: /--mbu: 5e-324 is below the smallest efficiency/ },
  { name: '--context 1e308', argv: ['estimate', '--model', 'llama-3.1-8b', '--context', '1e308'], message: /--context: 1e308 is longer than any context this tool sizes/ },
  { name: '--batch 1e308', argv: ['estimate', '--model', 'llama-3.1-8b', '--batch', '1e308'], message: /--batch: 1e308 is a larger batch/ },
  { name: '--price 1e308', argv: ['estimate', '--model', 'llama-3.1-8b', '--price', '1e308'], message: /--price: 1e308 is more than any device-hour costs/ },
  { name: '--power-watts 1e308', argv: ['estimate', '--model', 'llama-3.1-8b', '--power-watts', '1e308'], message: /--power-watts: 1e308 is more power than any device draws/ },
  { name: '--tokens 1e308', argv: ['train', '--model', 'llama-3.1-8b', '--tokens', '1e308'], message: /--tokens: 1e308 is more tokens than any training run/ },
  { name: '--seq-len 1e308', argv: ['train', '--model', 'llama-3.1-8b', '--seq-len', '1e308'], message: /--seq-len: 1e308 is longer than any context/ },
  { name: '--qps 5e-324', argv: ['estimate', '--model', 'llama-3.1-8b', '--qps', '5e-324'], message: /--qps: 5e-324 is less than one request in 11 days/ },
  { name: '--ffn 1e308', argv: ['estimate', '--layers', '2', '--hidden', '64', '--heads', '4', '--ffn', '1e308', '--vocab', '100'], message: /--ffn: 1e308 is wider than any MLP/ },
  { name: '--head-dim 1e308', argv: ['estimate', '--layers', '2', '--hidden', '64', '--heads', '4', '--head-dim', '1e308', '--ffn', '100', '--vocab', '100'], message: /--head-dim: 1e308 is larger than any head dimension/ },
  { name: '--vocab 1e308', argv: ['estimate', '--layers', '2', '--hidden', '64', '--heads', '4', '--ffn', '100', '--vocab', '1e308'], message: /--vocab: 1e308 is larger than any vocabulary/ },
  { name: '--params 1.5M (negative figures)', argv: ['estimate', '--params', '1.5M', '--format', 'json'], message: /--params: 1\.5M is smaller than the smallest shape this tool assumes .*give the architecture instead/ },
  { name: '--params 125m in train (negative figures)', argv: ['train', '--params', '125m', '--format', 'json'], message: /--params: 125m is smaller than the smallest shape/ },
  { name: 'an architecture over 1e15 parameters', argv: ['estimate', '--layers', '10000', '--hidden', '1000000', '--heads', '1000', '--ffn', '1000000', '--vocab', '1000'], message: /the architecture has 7\.00e\+16 parameters, larger than any model this tool sizes/ },
  { name: '--kv-heads not dividing --heads', argv: ['estimate', '--layers', '2', '--hidden', '64', '--heads', '4', '--kv-heads', '3', '--ffn', '100', '--vocab', '100'], message: /--kv-heads 3 must divide --heads 4/ },
];
