import { describe, expect, it } from 'vitest';
import { wrapLine } from '../src/format/width.js';
import { cli, cliJson, expectBadInput } from './helpers.js';

/** Output consistency: what the figures say matches what the engine budgets and verdicts use. */

const GiB = 2 ** 30;
const MiB = 2 ** 20;

describe('device memory is the memory the budget uses, labelled usable vs marketed (table and JSON)', () => {
  it('H100 SXM: 79.19 GiB as CUDA reports it (presets/hardware/h100-sxm.yaml memory.usable), not nvidia-smi\'s 81,559 MiB; sold as 80 GB', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm']);
    const cap = out.figures['memory.capacityPerDevice'];
    expect(cap.value).toBeCloseTo(79.19 * GiB, 0);
    expect(cap.label).toBe('Device memory, usable (sold as 80 GB)');
    expect(cap.inputs).toMatchObject({ totalBytes: 81559 * MiB, marketedBytes: 80e9 });
    // the same capacity vLLM's budget takes its fraction of (requested = 0.9 x capacity)
    expect(out.figures['memory.engine.requested'].inputs.capacity).toBe(cap.value);
    expect(out.figures['memory.headroom'].value).toBeCloseTo(cap.value - out.figures['memory.perDevice'].value, 0);
    const table = await cli(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm']);
    expect(table.stdout).toMatch(/Device memory, usable \(sold as 80 GB\) +│ +79\.19 GiB/);
  });

  it('T4: no CUDA figure in the preset, so the driver\'s 15,360 MiB (15 GiB: ECC takes the rest of the 16 GB sold)', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.2-1b', '--gpu', 't4']);
    expect(out.figures['memory.capacityPerDevice'].value).toBe(15 * GiB);
    expect(out.figures['memory.capacityPerDevice'].label).toBe('Device memory (sold as 16 GB)');
  });

  it('train and forward-only models judge fits against the same usable memory', async () => {
    const t = await cliJson(['train', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--count', '8', '--tokens', '1b']);
    expect(t.figures['memory.capacityPerDevice'].value).toBeCloseTo(79.19 * GiB, 0);
    const e = await cliJson(['estimate', '--model', 'bge-m3', '--gpu', 'h100-sxm']);
    expect(e.figures['memory.capacityPerDevice'].value).toBeCloseTo(79.19 * GiB, 0);
  });
});

describe('the verdict\'s byte limits are whole bytes', () => {
  it('DeepSeek-V3 on 8 x H100: needed rounds the weights per device up, available rounds down', async () => {
    const out = await cliJson(['estimate', '--model', 'deepseek-v3', '--gpu', 'h100', '--count', '8']);
    expect(out.verdict.status).toBe('weights-do-not-fit');
    expect(out.verdict.limit.unit).toBe('B');
    expect(out.verdict.limit.needed).toBe(Math.ceil(out.figures['memory.perDevice.weights'].value));
    expect(Number.isInteger(out.verdict.limit.available)).toBe(true);
  });
});

describe('the verdict\'s fix and its alternatives line up', () => {
  it('"Fix:" and " or:" share a column and their wrapped lines sit under the change (COLUMNS=80)', async () => {
    const r = await cli(['estimate', '--model', 'deepseek-v3', '--gpu', 'h100', '--count', '8'], { COLUMNS: '80' });
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Fix: '));
    expect(at).toBeGreaterThan(0);
    const block = lines.slice(at, lines.findIndex((l, i) => i > at && !/^( or: | {5}\S)/.test(l)));
    expect(block.length).toBeGreaterThan(1);
    for (const line of block.slice(1)) expect(line).toMatch(/^( or: | {5}\S)/);
    expect(block.some((l) => l.startsWith(' or: '))).toBe(true);
  });

  it('wrapping keeps a line\'s leading spaces and indents its continuation beyond them', () => {
    expect(wrapLine('  or: one two three', 12, '  ')).toBe('  or: one\n    two\n    three');
    expect(wrapLine('short', 12, '  ')).toBe('short');
  });
});

describe('dollar amounts of 1,000 and more print with thousands separators', () => {
  it.each([
    [1041.6, 'USD/h', '$1,041.60/h'],
    [999.5, 'USD/h', '$999.50/h'],
    [24528, 'USD', '$24,528'],
    [11500, 'USD', '$11,500'],
  ] as const)('%s %s -> %s', async (value, unit, text) => {
    const { formatValue } = await import('../src/format/human.js');
    expect(formatValue(value, unit)).toBe(text);
  });

  it('plan: 8 H100 at --price 130.2 cost 8 x 130.2 = $1,041.60/h; presets show prints the $11,500 purchase price', async () => {
    const r = await cli(['plan', '--model', 'llama-3.1-70b', '--qps', '20', '--ttft', '1s', '--tpot', '50ms', '--hardware', 'h100-sxm', '--price', '130.2']);
    expect(r.stdout).toMatch(/\$1,041\.60\/h/);
    expect(r.stdout).not.toMatch(/\$\d{4,}/);
    const show = await cli(['presets', 'show', 'h100-sxm']);
    expect(show.stdout).toMatch(/purchase +ccir +\$11,500 /);
  });
});

describe('plan\'s layouts are ones an engine runs and a node holds', () => {
  it('70B on RTX 4090s: no replica spans more than a node of 8 cards (presets/hardware/rtx-4090.yaml devicesPerNode), llama.cpp layer splits stay within it, and no pipeline of 64 stages', async () => {
    const doc = await cliJson(['plan', '--model', 'llama-3.1-70b', '--qps', '1', '--ttft', '10s', '--tpot', '200ms', '--hardware', 'rtx-4090', '--price', 'rtx-4090=0.5', '--precision', 'q4_k_m,int4', '--top', '30']);
    expect(doc.rows.length).toBeGreaterThan(0);
    for (const r of doc.rows) {
      expect(r.devicesPerReplica).toBeLessThanOrEqual(8);
      expect(r.pp).toBeLessThanOrEqual(80);
    }
    // vLLM splits by tensor parallelism within the node (tp 2, 4, 8), llama.cpp by layers
    expect(doc.rows.some((r: { weights: string; tp: number }) => r.weights === 'int4' && r.tp > 1)).toBe(true);
  });

  it.each([
    // ggml/include/ggml-cuda.h GGML_CUDA_MAX_DEVICES 16
    ['llama.cpp past 16 GPUs', ['--gpu', 'rtx-4090', '--count', '32', '--precision', 'q4_k_m'], /--count 32: llama\.cpp runs at most 16 devices per replica \(.*GGML_CUDA_MAX_DEVICES 16/],
    // llama-server splits over its own host's GPUs
    ['llama.cpp past one node', ['--gpu', 'rtx-4090', '--count', '16', '--precision', 'q4_k_m'], /--count 16: llama\.cpp runs a replica within one node .* holds 8 \(--gpus-per-node sets the node size\)/],
  ])('estimate: %s is exit 2 naming the limit', async (_name, args, message) => {
    await expectBadInput(['estimate', '--model', 'llama-3.1-70b', ...args], message);
  });

  it('placementProblem: hardware with no link between nodes holds a replica within a node; H100 nodes over InfiniBand hold 64 devices', async () => {
    const { loadPresets } = await import('llm-size');
    const { placementProblem } = await import('../src/estimate/parallel.js');
    const catalog = await loadPresets();
    const hw = (id: string) => catalog.hardware.find((h) => h.id === id)!;
    expect(placementProblem(hw('rtx-5090'), { tp: 1, pp: 2 }, undefined)).toMatch(/lists no link between nodes of 1 device; a replica of 2 would span 2 nodes/);
    expect(placementProblem(hw('rtx-5090'), { tp: 1, pp: 2 }, undefined, 2)).toBeUndefined();
    expect(placementProblem(hw('h100-sxm'), { tp: 8, pp: 8 }, undefined)).toBeUndefined();
  });
});

describe('no flag is accepted and then ignored', () => {
  it('plan --power-watts / --usd-per-kwh: the top pick\'s owned month is the amortized purchase plus electricity and colocation, as estimate gives it', async () => {
    const doc = await cliJson(['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--tpot', '50ms', '--hardware', 'h100-sxm', '--amortize-years', '3', '--power-watts', '400', '--usd-per-kwh', '0.12', '--disaggregated', 'off']);
    const f = doc.top.figures;
    const devices = doc.top.devices;
    // H100 SXM purchase 11,500 USD (presets/hardware/h100-sxm.yaml, ccir 2026-07-22) over 3 x 8,760 h, 730 h a month
    expect(f['cost.amortizedUsdPerMonth'].value).toBeCloseTo((11500 / (3 * 8760)) * 730 * devices, 6);
    // 400 W x 10.2/5.6 (the server, DGX H100) = 0.728571 kW x PUE 1.56 x 730 h x 0.12 USD/kWh = 99.56 USD a device-month
    const serverKw = (400 * 10.2) / 5.6 / 1000;
    expect(f['cost.electricityUsdPerMonth'].value).toBeCloseTo(serverKw * 1.56 * 730 * 0.12 * devices, 6);
    expect(serverKw * 1.56 * 730 * 0.12).toBeCloseTo(99.564, 3);
    // colocation: 0.728571 kW x 184.06 USD per kW-month = 134.10 USD a device-month
    expect(f['cost.hostingUsdPerMonth'].value).toBeCloseTo(serverKw * 184.06 * devices, 6);
    expect(f['cost.ownedUsdPerMonth'].value).toBeCloseTo(f['cost.amortizedUsdPerMonth'].value + f['cost.electricityUsdPerMonth'].value + f['cost.hostingUsdPerMonth'].value, 6);
    expect(f['cost.usdPerMonth'].value).toBeCloseTo(f['cost.ownedUsdPerMonth'].value, 6);
    expect(doc.top.estimateCommand).toMatch(/--power-watts 400 --usd-per-kwh 0\.12/);
    const table = await cli(['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--tpot', '50ms', '--hardware', 'h100-sxm', '--amortize-years', '3', '--power-watts', '400', '--usd-per-kwh', '0.12', '--disaggregated', 'off']);
    expect(table.stdout).toMatch(/Energy \(top pick\): .* at 400 W per device; electricity \$[\d.]+ per million output tokens at 0\.12 USD\/kWh; owned: \$[\d,.]+ a month of amortized purchase \+ \$[\d,.]+ of electricity \+ \$[\d,.]+ of colocation = \$[\d,.]+/);
  });

  it('rag passes the generator\'s engine launch options on (--gpu-memory-utilization)', async () => {
    const out = await cliJson(['rag', '--corpus-tokens', '1e6', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--gpu-memory-utilization', '0.8']);
    expect(out.figures['memory.engine.fraction'].value).toBe(0.8);
  });

  it.each([
    ['train has no KV cache, so no --kv-precision', ['train', '--model', 'llama-3.1-8b', '--kv-precision', 'fp8'], /unknown option '--kv-precision'/],
    ['plan chooses the devices: no --count', ['plan', '--model', 'llama-3.1-8b', '--qps', '1', '--count', '4'], /unknown option '--count'/],
    ['plan chooses the devices: no --memory', ['plan', '--model', 'llama-3.1-8b', '--qps', '1', '--memory', '16GB'], /unknown option '--memory'/],
    ['--cached-input without --compare-api', ['plan', '--model', 'llama-3.1-8b', '--qps', '1', '--cached-input', '0.5'], /--cached-input: applies to the API comparison; pass --compare-api with it/],
    ['--gpu beside --hardware', ['plan', '--model', 'llama-3.1-8b', '--qps', '1', '--hardware', 'l4', '--gpu', 'h100'], /--gpu: plan searches the --hardware list \(l4\); give --hardware or --gpu, not both/],
    ['--rerank-candidates without --rerank', ['rag', '--corpus-tokens', '1e6', '--model', 'llama-3.1-8b', '--rerank-candidates', '20'], /--rerank-candidates: applies with --rerank <model>/],
  ])('%s: exit 2', async (_name, args, message) => {
    await expectBadInput(args, message);
  });
});

describe('rag\'s context error names what set the overflowing length', () => {
  it('a prompt of --top-k 400 x --chunk-tokens 1024 + 32 query tokens + 256 output = 409,888 tokens past Llama 3.1 8B\'s 131,072: the retrieval flags, not --input-tokens', async () => {
    await expectBadInput(['rag', '--corpus-tokens', '1e9', '--model', 'llama-3.1-8b', '--gpu', 'l4', '--top-k', '400', '--chunk-tokens', '1024'], /^llm-size: the RAG prompt \(--system-tokens \+ --top-k x --chunk-tokens \+ --query-tokens\) \+ --output-tokens: a context of 409888 tokens is beyond the 131072/);
  });
  it('estimate still names --input-tokens + --output-tokens', async () => {
    await expectBadInput(['estimate', '--model', 'llama-3.1-8b', '--input-tokens', '200k'], /^llm-size: --input-tokens \+ --output-tokens: a context of 205056 tokens/);
  });
});

describe('train on an encoder: forward and backward over every token, bidirectional attention, no LM head, within its positions', () => {
  it('BERT-base at its 512 positions: 6 x 85,646,592 matmul params + 3 x 4 x 768 x 12 layers x 512 keys = 570,502,656 FLOPs per token', async () => {
    // 109,482,240 parameters (bert-base-uncased); embeddings 30,522 x 768 + 512 x 768 + 2 x 768 = 23,835,648 are lookups
    const out = await cliJson(['train', '--model', 'bert-base-uncased', '--gpu', 'h100-sxm', '--tokens', '1b', '--recompute', 'none']);
    expect(out.figures['params.total'].value).toBe(109_482_240);
    expect(out.figures['train.flopsPerToken'].value).toBe(6 * (109_482_240 - 23_835_648) + 3 * 4 * 768 * 12 * 512);
    // the output layer keeps fp32 hidden states of the 512 tokens, no 30,522-wide logits
    expect(out.figures['memory.activations.output'].value).toBe(4 * 512 * 768);
    expect(out.warnings.join('\n')).toMatch(/BERT-base \(uncased\) is an encoder: .* bidirectional attention .* no LM head, no decoding; masked-language-model pretraining's prediction head .* is not counted/);
  });

  it.each([
    ['a sequence past its positions', ['--seq-len', '2048'], /--seq-len 2048: BERT-base \(uncased\) is an encoder of 512 positions/],
    ['logit distillation', ['--method', 'distill', '--teacher', 'llama-3.1-8b'], /--method distill: BERT-base \(uncased\) is an encoder, trained on pooled vectors without a vocabulary head/],
  ])('%s is exit 2', async (_name, args, message) => {
    await expectBadInput(['train', '--model', 'bert-base-uncased', '--gpu', 'h100-sxm', ...args], message);
  });
});

describe('simulate --explain takes a figure id as the other commands do', () => {
  it('--explain latency.ttft.p99 prints that figure\'s tree; a figure it has not is exit 2', async () => {
    const r = await cli(['simulate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--qps', '2', '--requests', '50', '--explain', 'latency.ttft.p99']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^latency\.ttft\.p99 = [\d.]+ ms {2}Time to first token, p99$/m);
    expect(r.stdout).not.toMatch(/^latency\.tpot\.p50 = /m);
    await expectBadInput(['simulate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--qps', '2', '--requests', '50', '--explain', 'nosuch'], /--explain: no figure "nosuch"/);
    const all = await cli(['simulate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--qps', '2', '--requests', '50', '--explain']);
    expect(all.stdout).toMatch(/^latency\.tpot\.p50 = /m);
  });
});
