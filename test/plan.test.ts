import { describe, expect, it } from 'vitest';
import { cli, cliJson, expectBadInput } from './helpers.js';

/** The `llm-size estimate ...` command a plan row prints, as argv. */
const argvOf = (command: string): string[] => command.split(' ').slice(1);

describe('plan for Llama-3.1-70B at 20 QPS, TTFT 1 s, TPOT 50 ms (issue 5 acceptance)', async () => {
  const plan = await cliJson(['plan', '--model', 'llama-3.1-70b', '--qps', '20', '--ttft', '1s', '--tpot', '50ms', '--top', '5']);

  it('returns fitting rows, cheapest per million output tokens first, each meeting the targets', () => {
    expect(plan.schemaVersion).toBe(1);
    expect(plan.rows.length).toBeGreaterThan(0);
    for (const r of plan.rows) {
      expect(r.ttft).toBeLessThanOrEqual(1);
      expect(r.tpot).toBeLessThanOrEqual(0.05);
      expect(r.why).toMatch(/TTFT .* <= 1 s, TPOT .* <= 50 ms/);
      expect(r.bound.length).toBeGreaterThan(0);
      expect(r.devices).toBe(r.devicesPerReplica * r.replicas);
    }
    const costs = plan.rows.map((r: any) => r.usdPerMillionOutputTokens);
    expect(costs).toEqual([...costs].sort((a, b) => a - b));
  });

  it('cost per million output tokens is the deployment hour over the tokens it serves', () => {
    const top = plan.top;
    // usdPerHour / 3600 s / (20 requests/s x 256 output tokens) x 1e6
    expect(top.usdPerMillionOutputTokens).toBeCloseTo((top.usdPerHour / 3600 / (20 * 256)) * 1e6, 9);
  });

  it.each([0, 1, 2])('estimate reproduces row %d exactly', async (i) => {
    const row = plan.rows[i];
    expect(row, 'a row to reproduce').toBeDefined();
    const out = await cliJson(argvOf(row.estimateCommand));
    expect(out.figures['latency.ttft'].value).toBe(row.ttft);
    expect(out.figures['latency.tpot'].value).toBe(row.tpot);
    expect(out.figures['load.usdPerMillionOutputTokens'].value).toBe(row.usdPerMillionOutputTokens);
    expect(out.input.workload.batch).toBe(row.concurrencyPerReplica);
  });

  it('estimate reproduces every figure of the top pick', async () => {
    const out = await cliJson(argvOf(plan.top.estimateCommand));
    for (const [id, f] of Object.entries<any>(plan.top.figures)) expect(out.figures[id]?.value, id).toBe(f.value);
  });

  it('prints launch flags for every engine that runs the pick: vLLM (planned with), llama-server, SGLang and TensorRT-LLM', () => {
    const line = (id: string) => plan.top.launch.find((l: any) => l.engine.startsWith(`${id}@`))?.command ?? '';
    const ids = plan.top.launch.map((l: any) => l.engine.split('@')[0]);
    expect(ids[0]).toBe('vllm');
    expect(ids).toContain('sglang');
    // TensorRT-LLM runs NVIDIA GPUs only
    const amd = /^mi\d/.test(plan.top.hardware);
    expect(ids.includes('trtllm')).toBe(!amd);
    // llama.cpp loads 16-bit and GGUF weights with 16-bit or q8_0/q4_0 caches: listed only for such a pick
    expect(ids.includes('llamacpp')).toBe(['bf16', 'fp16'].includes(plan.top.weights) && ['bf16', 'fp16'].includes(plan.top.kv));
    const [vllm, sglang, trtllm] = [line('vllm'), line('sglang'), line('trtllm')];
    const t = plan.top;
    expect(vllm).toContain(`--tensor-parallel-size ${t.tp}`);
    expect(vllm).toContain(`--max-num-seqs ${t.concurrencyPerReplica}`);
    expect(vllm).toContain('--max-model-len 1280');
    expect(vllm).toContain('--gpu-memory-utilization 0.9');
    // the cache type flag only where the KV is not the activation type
    if (t.kv === 'fp8') expect(vllm).toContain('--kv-cache-dtype fp8');
    else expect(vllm).not.toContain('--kv-cache-dtype');
    expect(sglang).toContain(`--tp-size ${t.tp}`);
    // engines other than the planned one keep their own default fraction
    expect(sglang).not.toMatch(/--mem-fraction-static/);
    if (!amd) expect(trtllm).toContain(`--max_batch_size ${t.concurrencyPerReplica}`);

  });
});

describe('plan launch lines only for engines that run the pick (issue 12 acceptance)', () => {
  it.each([
    ['an AMD MI300X: no TensorRT-LLM', ['--hardware', 'mi300x', '--price', '3', '--precision', 'bf16', '--kv-precision', 'bf16'], ['vllm', 'llamacpp', 'sglang'], 'trtllm'],
    ['a TPU: vLLM TPU only, no quantization flag', ['--hardware', 'tpu-v6e', '--price', '2.7', '--precision', 'bf16'], ['vllm-tpu'], 'trtllm'],
    ['a GGUF file on an RTX 4090: llama-server only', ['--hardware', 'rtx-4090', '--price', '0.7', '--precision', 'q4_k_m'], ['llamacpp'], 'vllm'],
  ])('%s', async (_name, args, engines, absent) => {
    const doc = await cliJson(['plan', '--model', 'llama-3.1-8b', '--concurrency', '8', ...args]);
    const ids = doc.top.launch.map((l: any) => l.engine.split('@')[0]);
    expect(ids).toEqual(engines);
    expect(ids).not.toContain(absent);
    expect(doc.top.launch.map((l: any) => l.command).join('\n')).not.toMatch(/--quantization awq|--kv-cache-dtype fp8.*llama|--cache-type-k fp8/);
  });

  it('fp8 KV is not offered to llama.cpp, and --engine keeps the search to what that engine runs', async () => {
    const doc = await cliJson(['plan', '--model', 'llama-3.1-8b', '--concurrency', '8', '--hardware', 'rtx-4090', '--price', '0.7', '--precision', 'q4_k_m', '--kv-precision', 'fp8']);
    expect(doc.rows).toEqual([]);
    const pinned = await cliJson(['plan', '--model', 'llama-3.1-8b', '--concurrency', '8', '--hardware', 'h100-sxm,mi300x', '--price', '2', '--engine', 'trtllm']);
    expect(pinned.rows.every((r: any) => r.hardware === 'h100-sxm')).toBe(true);
    expect(pinned.top.launch[0].engine).toBe('trtllm@1.0');
  });

  it('TensorRT-LLM under attention DP: enable_attention_dp in the extra options, --max_batch_size per rank (its DeepSeek-R1 best-practice blog: 1,024 clients, --max_batch_size 128 on 8 ranks)', async () => {
    const doc = await cliJson(['plan', '--model', 'deepseek-v3', '--qps', '100', '--ttft', '2s', '--tpot', '50ms', '--hardware', 'h200']);
    const row = doc.rows[0];
    expect(row.dpAttention).toBeGreaterThan(1);
    const trt = doc.top.launch.find((l: any) => l.engine.startsWith('trtllm')).command;
    expect(trt).toContain(`--max_batch_size ${Math.ceil(row.concurrencyPerReplica / row.dpAttention)} `);
    expect(trt).toContain('enable_attention_dp: true in --extra_llm_api_options');
    const sglang = doc.top.launch.find((l: any) => l.engine.startsWith('sglang')).command;
    expect(sglang).toContain(`--max-running-requests ${row.concurrencyPerReplica} `);
  });

  it('a line names the repo only where the engine loads those weights from it', async () => {
    // int4 of a bf16 release: vLLM, SGLang and TensorRT-LLM serve an AWQ/GPTQ checkpoint, not meta-llama's
    const int4 = await cliJson(['plan', '--model', 'llama-3.1-70b', '--qps', '5', '--hardware', 'h100-sxm', '--precision', 'int4']);
    for (const l of int4.top.launch) expect(l.command).toContain('<int4 checkpoint of meta-llama/Llama-3.1-70B-Instruct>');
    // fp8 of a bf16 release: vLLM quantizes at load (--quantization fp8); TensorRT-LLM needs an fp8 checkpoint
    const fp8 = await cliJson(['plan', '--model', 'llama-3.1-70b', '--qps', '5', '--hardware', 'h100-sxm', '--precision', 'fp8']);
    const line = (id: string) => fp8.top.launch.find((l: any) => l.engine.startsWith(id)).command;
    expect(line('vllm')).toMatch(/^vllm serve meta-llama\/Llama-3\.1-70B-Instruct .*--quantization fp8/);
    expect(line('trtllm')).toMatch(/^trtllm-serve <fp8 checkpoint of meta-llama\/Llama-3\.1-70B-Instruct>/);
    // DeepSeek-V3 is released in fp8 blocks: its config says so, no --quantization
    const ds = await cliJson(['plan', '--model', 'deepseek-v3', '--qps', '10', '--hardware', 'h200', '--precision', 'fp8-block']);
    expect(ds.top.launch[0].command).toMatch(/^vllm serve deepseek-ai\/DeepSeek-V3 /);
    expect(ds.top.launch.map((l: any) => l.command).join('\n')).not.toMatch(/--quantization/);
  });
});

describe('plan edge cases', () => {
  it('when nothing meets the targets it says what comes closest and which target fails', async () => {
    const plan = await cliJson(['plan', '--model', 'llama-3.1-70b', '--qps', '5', '--tpot', '1ms', '--hardware', 'h100-sxm,h200']);
    expect(plan.rows).toEqual([]);
    expect(plan.closest.failing.join(' ')).toMatch(/TPOT .* > 1 ms even at one request per replica/);
    const table = await cli(['plan', '--model', 'llama-3.1-70b', '--qps', '5', '--tpot', '1ms', '--hardware', 'h100-sxm,h200']);
    expect(table.stdout).toMatch(/Nothing meets the targets\. Closest: /);
  });

  it('names --max-devices as the binding limit and shows the best deployment under a limit that admits it', async () => {
    // Llama 3.1 405B at 50 requests/s on H100: bf16 TP8 PP2 misses TPOT even at one request, while
    // fp8 TP8 meets both targets with enough replicas (27 x 8 = 216 devices, over the default 64)
    const args = ['plan', '--model', 'llama-3.1-405b', '--qps', '50', '--ttft', '1s', '--tpot', '50ms', '--hardware', 'h100-sxm'];
    const plan = await cliJson(args);
    expect(plan.rows).toEqual([]);
    expect(plan.closest).toMatchObject({ weights: 'fp8', tp: 8, maxDevices: 256 });
    expect(plan.closest.devices).toBeGreaterThan(64);
    expect(plan.closest.devices).toBeLessThanOrEqual(256);
    expect(plan.closest.ttft).toBeLessThanOrEqual(1);
    expect(plan.closest.tpot).toBeLessThanOrEqual(0.05);
    expect(plan.closest.failing).toEqual([`needs ${plan.closest.devices} devices, more than --max-devices 64`]);
    const table = await cli(args);
    expect(table.stdout).toMatch(/Nothing meets the targets within --max-devices 64: every deployment that meets them needs more devices\.\nThe best found with --max-devices 256 is h100-sxm, \d+ replica\(s\) of 8 device\(s\) \(tp 8\), fp8\//);
    // and raising the limit finds it as a row
    const wider = await cliJson([...args, '--max-devices', '256']);
    expect(wider.rows[0]).toMatchObject({ weights: plan.closest.weights, kv: plan.closest.kv, tp: 8, replicas: plan.closest.replicas });
  });

  it('says nothing fits, with the device limit, when no accelerator holds the model', async () => {
    const table = await cli(['plan', '--model', 'llama-3.1-405b', '--qps', '1', '--hardware', 'l4', '--max-devices', '4']);
    expect(table.stdout).toMatch(/Nothing fits: no accelerator in the search holds the model on up to 4 devices per replica \(--max-devices 4\)\./);
  });

  it('--concurrency plans for requests in flight', async () => {
    const plan = await cliJson(['plan', '--model', 'llama-3.1-8b', '--concurrency', '64', '--tpot', '60ms', '--hardware', 'l4,a10g,h100-sxm', '--top', '3']);
    expect(plan.rows.length).toBeGreaterThan(0);
    for (const r of plan.rows) {
      expect(r.concurrencyPerReplica).toBe(Math.ceil(64 / r.replicas));
      expect(r.tpot).toBeLessThanOrEqual(0.06);
    }
  });

  it.each([
    ['no load', ['plan', '--model', 'llama-3.1-8b', '--tpot', '50ms'], /plan needs a load: pass --qps/],
    ['a bad duration', ['plan', '--model', 'llama-3.1-8b', '--qps', '1', '--ttft', 'soon'], /--ttft: invalid value "soon"; expected a duration such as 500ms/],
    ['an unknown format', ['plan', '--model', 'llama-3.1-8b', '--qps', '1', '--precision', 'bf16,fp7'], /unknown weight format \(--precision\) "fp7"/],
  ])('%s exits 2 with one line', async (_name, args, message) => {
    await expectBadInput(args, message);
  });
});

describe('estimate under load', () => {
  it.each([
    [4, 1],
    [10, 3],
    [10, 4],
  ])('--qps %d --replicas %d: the batch per replica is the least fixed point of Little\'s law', async (qps, replicas) => {
    const r = await cli(['estimate', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--tp', '4', '--qps', String(qps), '--replicas', String(replicas), '--format', 'json']);
    expect(r.stderr).not.toMatch(/add replicas/);
    const out = JSON.parse(r.stdout);
    const c = out.input.workload.batch;
    const e2e = out.figures['latency.e2e'].value;
    // L = lambda x W (Little 1961), in whole requests: c = ceil(qps / replicas x e2e(c))
    expect(c).toBe(Math.max(1, Math.ceil((qps / replicas) * e2e - 1e-9)));
    expect(out.figures['load.requestsPerSecondPerReplica'].value).toBeCloseTo(c / e2e, 12);
    expect(out.figures['load.devices'].value).toBe(4 * replicas);
  });

  it('--qps alone picks the fewest replicas whose KV capacity holds the load', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--tp', '4', '--qps', '200']);
    const r = out.figures['load.replicas'].value;
    expect(out.input.workload.batch).toBeLessThanOrEqual(out.figures['capacity.maxConcurrency'].value);
    const fewer = await cli(['estimate', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--tp', '4', '--qps', '200', '--replicas', String(r - 1), '--format', 'json']);
    expect(fewer.stderr).toMatch(/add replicas/);
  });

  it('--concurrency spreads requests over replicas; continuous batching prefills one request at a time', async () => {
    const out = await cliJson(['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--concurrency', '64', '--replicas', '2']);
    expect(out.input.workload.batch).toBe(32);
    expect(out.figures['latency.ttft'].parts).toEqual(expect.arrayContaining(['latency.queueWait', 'latency.decodesInPromptStep']));
    expect(out.figures['latency.tpot'].parts).toContain('latency.prefillInterference');
    // each decode step carries batch / outputTokens = 32 / 256 of one prompt, which rides in a
    // pass with the decodes: what that pass takes beyond the decode pass
    const f = out.figures['latency.prefillInterference'];
    expect(f.value).toBeCloseTo((32 / 256) * (f.inputs.mixedPass - f.inputs.decodePass), 15);
    // the weights are read once: the shared pass is longer than either alone, shorter than both
    const prefillPass = out.figures['latency.prefillRoofline'].value + out.figures['latency.prefillComm'].value;
    expect(f.inputs.mixedPass).toBeGreaterThan(Math.max(prefillPass, f.inputs.decodePass));
    expect(f.inputs.mixedPass).toBeLessThan(prefillPass + f.inputs.decodePass);
  });

  it('--batch and --qps together exit 2', async () => {
    const r = await cli(['estimate', '--model', 'llama-3.1-8b', '--batch', '4', '--qps', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--batch is a static batch/);
  });
});

describe('plan with percentile targets, verified by simulation (issue 17 acceptance)', async () => {
  const argv = ['plan', '--model', 'llama-3.1-70b', '--qps', '20', '--ttft-p99', '1s', '--tpot-p90', '50ms', '--output-tokens', 'lognormal:mean=1200,sd=1500', '--top', '4'];
  const plan = await cliJson(argv);
  const sim = (r: any, replicas = r.replicas) => cliJson(['simulate', '--model', 'llama-3.1-70b', '--gpu', r.hardware, '--tp', String(r.tp), '--pp', String(r.pp), '--replicas', String(replicas), '--precision', r.weights, '--kv-precision', r.kv, '--engine', 'vllm', '--qps', '20', '--output-tokens', 'lognormal:mean=1200,sd=1500']);

  it('ranks rows by the cost of the replicas their simulated percentiles need, each meeting TTFT p99 <= 1 s and TPOT p90 <= 50 ms', () => {
    expect(plan.simulation.targets).toEqual([{ metric: 'ttft', percentile: 99, seconds: 1 }, { metric: 'tpot', percentile: 90, seconds: 0.05 }]);
    expect(plan.rows.length).toBeGreaterThan(0);
    for (const r of plan.rows) expect(r.why).toMatch(/TTFT p99 .* <= 1 s, TPOT p90 .* <= 50 ms \(simulated, 1000 requests\)/);
    const costs = plan.rows.map((r: any) => r.usdPerHour);
    expect(costs).toEqual([...costs].sort((a, b) => a - b));
  });

  it('the top row is what llm-size simulate gives for it, and one replica fewer misses a target', async () => {
    const top = plan.rows[0];
    const at = await sim(top);
    expect(at.figures['latency.ttft.p99'].value).toBeLessThanOrEqual(1);
    expect(at.figures['latency.tpot.p90'].value).toBeLessThanOrEqual(0.05);
    expect(plan.top.figures['latency.tpot.p90'].value).toBe(at.figures['latency.tpot.p90'].value);
    if (top.replicas > 1) {
      const fewer = await sim(top, top.replicas - 1);
      expect(fewer.figures['latency.ttft.p99'].value > 1 || fewer.figures['latency.tpot.p90'].value > 0.05).toBe(true);
    }
  });

  it('says how many devices the percentile targets add compared with the same thresholds on the median', async () => {
    const s = plan.simulation;
    expect(s.devices).toBe(plan.rows[0].devices);
    expect(s.devicesAddedByPercentiles).toBe(s.devices - s.medianDevices);
    // a plan that meets the thresholds on their percentiles meets them on the median: never cheaper
    expect(s.usdPerHour).toBeGreaterThanOrEqual(s.medianBest.usdPerHour);
    const r = await cli(argv);
    expect(r.stdout).toMatch(/Percentile targets (add \d+ device|add no devices|take \d+ device)/);
  });

  it('plain targets and fixed lengths plan as before: no simulation', async () => {
    const plain = await cliJson(['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--tpot', '50ms', '--hardware', 'h100-sxm,l4']);
    expect(plain.simulation).toBeUndefined();
  });

  it('--requests without anything to simulate is bad input', async () => {
    await expectBadInput(['plan', '--model', 'llama-3.1-8b', '--qps', '5', '--tpot', '50ms', '--requests', '500'], /plan simulates only with percentile targets/);
  });
});

describe('plan launch context with length distributions: the engine accepts every request, not only the mean one', () => {
  const vllmLine = (doc: any) => doc.top.launch.find((l: any) => l.engine.startsWith('vllm@')).command as string;
  const base = ['plan', '--model', 'llama-3.1-8b', '--hardware', 'h100-sxm', '--qps', '1', '--ttft-p99', '5s', '--requests', '200'];

  it.each([
    // bounded: the largest prompt + the largest output (uniform 100..2000 + lognormal max=4000)
    ['bounded distributions: the longest request', ['--input-tokens', 'uniform:100..2000', '--output-tokens', 'lognormal:mean=500,sd=400,max=4000'], 2000 + 4000],
    // a fixed prompt and a uniform output: 512 + 1536
    ['a fixed prompt, uniform outputs', ['--input-tokens', '512', '--output-tokens', 'uniform:1..1536'], 512 + 1536],
    // unbounded log-normal: sigma^2 = ln(1 + (1500/1200)^2) = 0.9410, mu = ln 1200 - sigma^2/2 = 6.6196;
    // 99.9th percentile e^(mu + 3.0902 sigma) = e^(6.6196 + 2.9977) = 15,022 (rounded up), + 1,000
    ['an unbounded log-normal: its 99.9th percentile', ['--input-tokens', '1000', '--output-tokens', 'lognormal:mean=1200,sd=1500'], 1000 + 15022],
  ])('%s', async (_name, args, expected) => {
    const doc = await cliJson([...base, ...args]);
    expect(vllmLine(doc)).toContain(`--max-model-len ${expected}`);
    expect(doc.top.launch.find((l: any) => l.engine.startsWith('sglang@')).command).toContain(`--context-length ${expected}`);
  });

  it('says when an unbounded distribution leaves 0.1% of requests longer than the launch context', async () => {
    const doc = await cliJson([...base, '--input-tokens', '1000', '--output-tokens', 'lognormal:mean=1200,sd=1500']);
    expect(doc.warnings.join('\n')).toMatch(/--max-model-len 16022\) covers 99.9% of requests/);
  });

  it('keeps --context when given, and a fixed shape its own context', async () => {
    expect(vllmLine(await cliJson([...base, '--input-tokens', 'uniform:100..2000', '--output-tokens', '256', '--context', '8192']))).toContain('--max-model-len 8192');
    expect(vllmLine(await cliJson(['plan', '--model', 'llama-3.1-8b', '--hardware', 'h100-sxm', '--qps', '1', '--input-tokens', '1000', '--output-tokens', '300']))).toContain('--max-model-len 1300');
  });

  it('never asks for more than the model window', async () => {
    const doc = await cliJson(['plan', '--model', 'llama-3.1-8b', '--hardware', 'h100-sxm', '--qps', '0.01', '--requests', '20', '--e2e-p99', '3600', '--input-tokens', 'uniform:1000..100000', '--output-tokens', 'uniform:1..100000']);
    expect(vllmLine(doc)).toContain('--max-model-len 131072');
  });
});
