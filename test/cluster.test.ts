import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimate as estimateLibrary } from '../src/index.js';
import { expertAllToAllSeconds, expertImbalance } from '../src/estimate/expert-parallel.js';
import { hierarchicalAllReduceSeconds, type Topology } from '../src/estimate/parallel.js';
import { cli, cliJson, expectBadInput } from './helpers.js';
import { OUTPUT_SCHEMA, validateJson } from '../src/inputs/output-schema.js';

// DeepSeek-V3 config.json: 61 layers (3 dense + 58 MoE), hidden 7168, MLA kv_lora_rank 512 +
// qk_rope_head_dim 64, 256 routed experts of moe_intermediate_size 2048, top-8.
const DSV3 = { kvBytesPerToken: 61 * (512 + 64) * 2, routedParams: 58 * 256 * 3 * 7168 * 2048 };

describe('attention data parallelism', () => {
  it('per-device MLA KV of DeepSeek-V3 on 8 devices with --dp-attention is 1/8 of the TP-8 figure at the same total batch', async () => {
    const args = ['estimate', '--model', 'deepseek-v3', '--gpu', 'h200', '--count', '8', '--batch', '64', '--input-tokens', '3072', '--output-tokens', '1024'];
    const tp = await cliJson(args);
    const dp = await cliJson([...args, '--dp-attention']);
    // 64 sequences x 4096 tokens x 61 layers x 576 x 2 B: MLA's latent is on every TP rank
    const total = 64 * 4096 * DSV3.kvBytesPerToken;
    expect(tp.figures['memory.kvCache'].value).toBe(total);
    expect(dp.figures['memory.kvCache'].value).toBe(total);
    expect(tp.figures['memory.perDevice.kvCache'].value).toBe(total);
    expect(dp.figures['memory.perDevice.kvCache'].value).toBe(total / 8);
    expect(dp.input.parallel).toMatchObject({ tp: 8, ep: 1, dpAttention: 8 });
    // the KV room per device now holds sequences of one group only: more in the replica
    expect(dp.figures['capacity.maxConcurrency'].value).toBeGreaterThan(4 * tp.figures['capacity.maxConcurrency'].value);
  });

  it('--ep beyond --tp makes ep / tp attention groups share the experts (vLLM DP x TP + EP)', async () => {
    const e = await cliJson(['estimate', '--model', 'deepseek-v3', '--gpu', 'h100', '--tp', '8', '--ep', '16', '--batch', '32']);
    expect(e.input.parallel).toMatchObject({ tp: 16, ep: 16, dpAttention: 2 });
    expect(e.input.hardware.count).toBe(16);
  });

  it('redundant experts add their copies to each rank: (slots / experts) of the routed experts over ep ranks', async () => {
    const base = ['estimate', '--model', 'deepseek-v3', '--gpu', 'h100', '--nodes', '4', '--dp-attention', '--ep', '32', '--batch', '256'];
    const plain = await cliJson(base);
    const eplb = await cliJson([...base, '--redundant-experts', '32']);
    // per-device weights are the replica's weights x the device's share of the parameters
    const share = (DSV3.routedParams * 32) / 256 / 32 / plain.figures['params.total'].value;
    expect(eplb.figures['memory.perDevice.weights'].value - plain.figures['memory.perDevice.weights'].value).toBeCloseTo(plain.figures['memory.weights'].value * share, -2);
  });

  it.each([
    ['a dense model', ['--model', 'llama-3.1-70b', '--tp', '8', '--dp-attention'], /--dp-attention: attention data parallelism couples groups through the experts/],
    ['groups not dividing --tp', ['--model', 'deepseek-v3', '--tp', '8', '--dp-attention', '3'], /--dp-attention 3 does not divide --tp 8/],
    ['redundant experts without EP', ['--model', 'deepseek-v3', '--tp', '8', '--redundant-experts', '32'], /redundant experts are copies placed across expert-parallel ranks; give --ep > 1 too/],
    ['slots not dividing EP', ['--model', 'deepseek-v3', '--nodes', '9', '--dp-attention', '--ep', '72'], /--ep 72 does not divide the model's 256 experts \(--redundant-experts adds copies/],
    ['--count and --nodes disagreeing', ['--model', 'deepseek-v3', '--nodes', '2', '--count', '8'], /--count 8 and --nodes 2: 2 node\(s\) of 8 devices hold 16; give one of them/],
    ['--all-to-all without EP', ['--model', 'deepseek-v3', '--tp', '8', '--all-to-all', 'normal'], /--all-to-all: applies to expert parallelism; give --ep > 1 too/],
    ['--expert-imbalance below 1', ['--model', 'deepseek-v3', '--tp', '8', '--ep', '8', '--expert-imbalance', '0.5'], /--expert-imbalance: 0.5 is below 1/],
  ])('refuses %s with exit 2', async (_name, args, message) => {
    await expectBadInput(['estimate', ...args], message);
  });
});

describe('topology: scale-up domains and the NIC', () => {
  const link = (bandwidth: number, latency: number) => ({ name: 't', bandwidth: { value: bandwidth, source: 't' }, latency: { value: latency, source: 't' } });
  const hgx: Topology = { up: link(450e9, 3e-6), out: link(50e9, 5e-6), domain: 8, assumed: false };

  it.each([
    // within a domain: two-shot all-reduce over the scale-up link, 2 (n-1)/n x B / bw + 2 x latency (parallel.ts allReduceSeconds)
    ['8 ranks in one HGX node', 1e6, 8, (2 * 7 / 8) * (1e6 / 450e9) + 2 * 3e-6],
    // 16 ranks over 2 nodes: reduce-scatter + all-gather in each node, then the 1/8 shard across 2 nodes over the NIC
    ['16 ranks over two nodes', 1e6, 16, (2 * 7 / 8) * (1e6 / 450e9) + 2 * 3e-6 + (2 * 1 / 2) * (1e6 / 8 / 50e9) + 2 * 5e-6],
  ])('hierarchical all-reduce: %s', (_name, bytes, n, expected) => {
    expect(hierarchicalAllReduceSeconds(bytes, n, hgx)).toBeCloseTo(expected, 15);
  });

  it('GB200 NVL72: a 64-GPU group stays on NVLink (the rack is one domain), an HGX H100 group of 16 crosses InfiniBand', async () => {
    const nvl = await cliJson(['estimate', '--model', 'llama-3.1-405b', '--gpu', 'gb200', '--tp', '64', '--precision', 'fp8']);
    const hgx100 = await cliJson(['estimate', '--model', 'llama-3.1-405b', '--gpu', 'h100', '--tp', '16', '--precision', 'fp8']);
    expect(nvl.figures['latency.decodeCommTp'].inputs.link).toMatch(/NVLink 5/);
    expect(hgx100.figures['latency.decodeCommTp'].inputs.link).toMatch(/InfiniBand/);
  });

  it('a TPU pod slice is one ICI domain: 256 v5e chips never leave ICI', async () => {
    const e = await cliJson(['estimate', '--model', 'llama-3.1-70b', '--gpu', 'tpu-v5e', '--tp', '8', '--pp', '32']);
    expect(e.figures['latency.decodeCommPp'].inputs.link).toMatch(/ICI/);
  });
});

describe('expert parallelism: load imbalance and all-to-all', () => {
  // TensorRT-LLM examples/ep_load_balancer/README.md, DeepSeek-R1 with 1024 routed tokens per rank:
  // hottest rank +156% over the mean at EP32 without a balancer, +11.5% at EP36 with 288 slots (EPLB).
  it.each([
    ['EP32, no balancer', { ep: 32, experts: 256, redundant: 0, topK: 8, tokens: 4096 }, 2.564],
    ['EP36 with 32 redundant experts', { ep: 36, experts: 256, redundant: 32, topK: 8, tokens: 4608 }, 1.115],
    ['no expert parallelism', { ep: 1, experts: 256, redundant: 0, topK: 8, tokens: 4096 }, 1],
  ])('reproduces the published max / mean load: %s', (_name, args, expected) => {
    expect(expertImbalance(args).value).toBeCloseTo(expected, 2);
  });

  const link = (bandwidth: number) => ({ name: 't', bandwidth: { value: bandwidth, source: 't' }, latency: { value: 0, source: 't' } });
  const topology: Topology = { up: link(450e9), out: link(50e9), domain: 8, assumed: false };
  const base = { tokens: 32 * 128, topK: 8, hidden: 7168, ep: 32, topology, dispatchBytes: 1, combineBytes: 2, commEfficiency: 1, imbalance: 1 };

  it('low-latency sends every (token, expert) pair: 7/32 over NVLink, 24/32 over the NIC at 0.8 of it', () => {
    const vectors = 128 * 8 * 7168;
    expect(expertAllToAllSeconds({ ...base, mode: 'low-latency' }).dispatch).toBeCloseTo(vectors * (7 / 32 / 450e9 + 24 / 32 / (50e9 * 0.8)), 12);
  });

  it('normal mode sends a token once per remote node of its experts: 3 x (1 - (3/4)^8) of 4 nodes', () => {
    const rdma = (128 * 3 * (1 - 0.75 ** 8) * 7168) / (50e9 * 0.88);
    const nvlink = (128 * 8 * 7168 * 7) / 8 / 450e9;
    expect(expertAllToAllSeconds({ ...base, mode: 'normal' }).combine).toBeCloseTo(2 * Math.max(rdma, nvlink), 12);
  });
});

describe('disaggregated prefill / decode (--prefill-workers, --decode-workers)', () => {
  const args = ['estimate', '--model', 'deepseek-v3', '--gpu', 'h100', '--engine', 'sglang', '--input-tokens', '2000', '--output-tokens', '100', '--qps', '60',
    '--prefill-workers', '1:nodes=4,dp-attention,ep=32,redundant-experts=32', '--decode-workers', '1:nodes=9,dp-attention,ep=72,redundant-experts=32'];

  it('TTFT is half a prefill step in flight + the step + the KV transfer; TPOT the decode worker\'s; devices and cost add up', async () => {
    const e = await cliJson(args);
    const f = e.figures;
    expect(f['disagg.prefillDevices'].value).toBe(32);
    expect(f['disagg.decodeDevices'].value).toBe(72);
    expect(f['disagg.devices'].value).toBe(104);
    expect(f['disagg.ratio'].value).toBeCloseTo(32 / 72, 12);
    expect(f['latency.ttft'].value).toBeCloseTo(1.5 * f['disagg.prefillStep'].value + f['disagg.kvTransfer'].value, 12);
    // the prompt's KV: 2000 tokens x 61 layers x (512 + 64) x 2 B, over one DP rank's 50 GB/s NIC at commEfficiency
    expect(f['disagg.kvTransferBytes'].value).toBe(2000 * DSV3.kvBytesPerToken);
    expect(f['disagg.kvTransfer'].inputs.streams).toBe(1);
    expect(f['latency.e2e'].value).toBeCloseTo(f['latency.ttft'].value + 99 * f['latency.tpot'].value, 12);
    expect(f['cost.usdPerHour'].value).toBeCloseTo(f['cost.prefillUsdPerHour'].value + f['cost.decodeUsdPerHour'].value, 9);
    // Little's law on each pool: prompts per step keep up, sequences in decode = rate x decode time
    expect(f['disagg.prefillBatch'].value).toBeGreaterThanOrEqual(Math.ceil(60 * f['disagg.prefillStep'].value - 1e-9));
    expect(f['disagg.decodeConcurrency'].value).toBeGreaterThanOrEqual(Math.ceil(60 * 99 * f['latency.tpot'].value - 1e-9));
    expect(e.loadCarried).toBe(true);
    expect(e.disaggregated.prefill.parallel).toMatchObject({ tp: 32, ep: 32, dpAttention: 32, redundantExperts: 32 });
    expect(e.disaggregated.decode.estimate.figures['memory.perDevice.kvCache'].value).toBeGreaterThan(0);
    expect(validateJson(OUTPUT_SCHEMA.$defs.estimate, e, OUTPUT_SCHEMA)).toEqual([]);
  });

  it('the same deployment from a spec file, a check file and the library', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-size-cluster-'));
    const keys = { model: 'deepseek-v3', gpu: 'h100', engine: 'sglang', inputTokens: 2000, outputTokens: 100, qps: 60, prefillWorkers: '1:nodes=4,dp-attention,ep=32,redundant-experts=32', decodeWorkers: '1:nodes=9,dp-attention,ep=72,redundant-experts=32' };
    const spec = join(dir, 'pd.yaml');
    writeFileSync(spec, Object.entries(keys).map(([k, v]) => `${k}: "${v}"`).join('\n'));
    const fromFlags = await cliJson(args);
    const fromSpec = await cliJson(['estimate', '--spec', spec]);
    expect(fromSpec.figures['latency.ttft'].value).toBe(fromFlags.figures['latency.ttft'].value);
    expect(estimateLibrary(keys).figures['latency.tpot'].value).toBe(fromFlags.figures['latency.tpot'].value);
    const check = join(dir, 'check.yaml');
    writeFileSync(check, `deployments:\n  pd:\n${Object.entries(keys).map(([k, v]) => `    ${k}: "${v}"`).join('\n')}\n    assert: { tpot: "<= 50ms", ttft: "<= 5s" }\n`);
    const r = await cli(['check', check]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
  });

  it('says when a pool cannot keep up', async () => {
    const r = await cliJson([...args.slice(0, -4), '--prefill-workers', '1:count=8,dp-attention,ep=8', '--decode-workers', '1:count=8,dp-attention,ep=8']);
    expect(r.loadCarried).toBe(false);
    expect(r.warnings.join('\n')).toMatch(/pool: 1 worker\(s\)/);
  });

  it.each([
    ['without --qps', ['--prefill-workers', '1', '--decode-workers', '1', '--tp', '8'], /a disaggregated deployment is sized at an offered load; give --qps/],
    ['one pool only', ['--prefill-workers', '1', '--qps', '2'], /needs both --prefill-workers and --decode-workers/],
    ['an unknown layout key', ['--prefill-workers', '1:tpp=8', '--decode-workers', '1', '--qps', '2'], /--prefill-workers: invalid part "tpp=8"; did you mean tp/],
    ['with --batch', ['--prefill-workers', '1', '--decode-workers', '1', '--qps', '2', '--batch', '8'], /takes --qps and the workers of each pool/],
  ])('refuses %s with exit 2', async (_name, extra, message) => {
    await expectBadInput(['estimate', '--model', 'deepseek-v3', '--gpu', 'h200', ...extra], message);
  });
});

describe('plan: aggregated and disaggregated, attention DP and wide EP, 8-GPU nodes and NVL72', () => {
  const args = ['plan', '--model', 'deepseek-v3', '--qps', '100', '--ttft', '2s', '--tpot', '50ms', '--hardware', 'h100-sxm,h200,gb200'];

  it('a kind of layout whose configurations the search never estimated (they cost more than the rows) does not read "none meets the targets"', async () => {
    // over the whole catalogue the NVL72 layouts beyond a node are dearer than the rows found and
    // are cut by the branch and bound; on GB200 alone they meet the targets
    const all = await cliJson(['plan', '--model', 'deepseek-v3', '--qps', '100', '--ttft', '2s', '--tpot', '50ms']);
    const beyond = all.byLayout.find((f: any) => f.family === 'attention DP + expert parallel, NVLink domain beyond a node');
    expect(beyond.usdPerMillionOutputTokens).toBeNull();
    expect(beyond.note).toBe('unestimated');
    const gb200 = await cliJson(['plan', '--model', 'deepseek-v3', '--qps', '100', '--ttft', '2s', '--tpot', '50ms', '--hardware', 'gb200']);
    expect(gb200.byLayout.find((f: any) => f.family === beyond.family).usdPerMillionOutputTokens).toBeGreaterThan(0);
    const table = await cli(['plan', '--model', 'deepseek-v3', '--qps', '100', '--ttft', '2s', '--tpot', '50ms', '--wide']);
    expect(table.stdout).toMatch(/NVLink domain beyond a node: (none of those estimated meets the targets; the rest|not estimated: one replica) costs? more per hour than the rows found/);
  });

  it('compares every kind of layout and a disaggregated pair with the best aggregated row, and says which wins and why', async () => {
    const doc = await cliJson(args);
    expect(validateJson(OUTPUT_SCHEMA.$defs.plan, doc, OUTPUT_SCHEMA)).toEqual([]);
    // attention DP + EP within a node, across 8-GPU nodes (H100, H200) and within the NVL72 rack (GB200)
    expect(doc.byLayout.map((f: { family: string }) => f.family)).toEqual(['tensor parallel', 'tensor parallel + expert parallel', 'attention DP + expert parallel, one node', 'attention DP + expert parallel, across nodes', 'attention DP + expert parallel, NVLink domain beyond a node']);
    const d = doc.disaggregated;
    expect(d.mode).toBe('auto');
    expect(d.best).not.toBeNull();
    expect(d.best.devices).toBe(d.best.prefill.devices + d.best.decode.devices);
    expect(d.best.ratio).toBeCloseTo(d.best.prefill.devices / d.best.decode.devices, 12);
    expect(d.best.ttft).toBeLessThanOrEqual(2);
    expect(d.best.tpot).toBeLessThanOrEqual(0.05);
    expect(d.aggregated.usdPerMillionOutputTokens).toBe(doc.rows[0].usdPerMillionOutputTokens);
    expect(d.winner).toBe(d.best.usdPerMillionOutputTokens < d.aggregated.usdPerMillionOutputTokens ? 'disaggregated' : 'aggregated');
    const gap = Math.round((1 - Math.min(d.best.usdPerMillionOutputTokens, d.aggregated.usdPerMillionOutputTokens) / Math.max(d.best.usdPerMillionOutputTokens, d.aggregated.usdPerMillionOutputTokens)) * 100);
    // never "0% cheaper": a tie to the percent says so
    expect(d.why).toMatch(gap === 0 ? /^aggregated and disaggregated cost the same per output token to the percent/ : d.winner === 'disaggregated' ? /^disaggregated is [1-9]\d*% cheaper per output token/ : /^aggregated is [1-9]\d*% cheaper per output token/);
    expect(d.launch.map((l: { command: string }) => l.command).join('\n')).toMatch(/--disaggregation-mode prefill[\s\S]*--disaggregation-mode decode[\s\S]*NixlConnector[\s\S]*dynamo\.sglang/);
    // the pick reproduces with estimate
    const again = await cliJson(d.best.estimateCommand.split(' ').slice(1));
    expect(again.figures['latency.tpot'].value).toBeCloseTo(d.best.tpot, 9);
  });

  it('--disaggregated off leaves it out; on with --concurrency is refused', async () => {
    const off = await cliJson([...args, '--disaggregated', 'off']);
    expect(off.disaggregated).toBeNull();
    await expectBadInput(['plan', '--model', 'deepseek-v3', '--concurrency', '64', '--disaggregated', 'on'], /--disaggregated on: disaggregated pools are sized at an offered rate; give --qps/);
  });
});
