import { secondsInHour, tokensInMillion } from '../units.js';
import { estimateDisaggregated, kvTransferLink, type DisaggregatedEstimate } from './disaggregated.js';
import { probeServing } from './index.js';
import type { EstimateInput } from './input.js';
import { prefillFlops } from './flops.js';
import { latencySeconds } from './latency.js';
import { kvBytesPerSequence } from './memory.js';
import { attentionTp, layoutOf } from './parallel.js';
import { cachedConfigs, probeConfig, weightsOverflow, type PlanConfig, type PlanRequest } from './plan.js';
import { CALIBRATION } from './calibration.js';

/**
 * The disaggregated half of `plan --disaggregated auto|on` (disaggregated.ts sizes one
 * deployment): over the same catalogue of configurations as the aggregated search, the cheapest
 * prefill pool that turns the prompt rate into KV within the TTFT target and the cheapest decode
 * pool that holds the decoding sequences within the TPOT target, each with its own hardware,
 * layout and precision; then the pair is estimated as one deployment (estimateDisaggregated),
 * adding a worker to the pool that misses until both targets hold.
 */

/** One pool's pick: a configuration, how many workers, at what batch, and what that costs. */
export interface PoolPick {
  config: PlanConfig;
  workers: number;
  /** prefill: prompts per step; decode: sequences per worker */
  batch: number;
  /** prefill: the step at that batch; decode: TPOT at it (s) */
  seconds: number;
  usdPerHour: number;
}

export interface DisaggregatedPlan {
  prefill: PoolPick;
  decode: PoolPick;
  estimate: DisaggregatedEstimate;
  usdPerHour: number;
  usdPerMillionOutputTokens: number;
  devices: number;
  /** the inputs `estimate --prefill-workers ... --decode-workers ...` takes */
  input: { prefill: { workers: number; input: EstimateInput }; decode: { workers: number; input: EstimateInput }; qps: number };
}

export interface DisaggregatedSearch {
  best?: DisaggregatedPlan;
  /** why there is none */
  reason?: string;
  configurationsSearched: number;
  configurationsEvaluated: number;
}

/** Batch sizes a curve is sampled at: 1, 2, 4 ... up to the cap, and the cap. */
const grid = (cap: number): number[] => {
  const out: number[] = [];
  for (let b = 1; b < cap; b *= 2) out.push(b);
  if (cap >= 1) out.push(cap);
  return out;
};

/**
 * The cheapest prefill and decode pools for the request's qps and targets, paired and estimated.
 * Each configuration is sampled on its step model (latency.ts latencySeconds: the numbers of a
 * full estimate's static figures) at batch 1, 2, 4 ... up to its KV capacity: prefill takes the
 * largest prompts per step k whose TTFT (half a step in flight + the step + the KV transfer)
 * meets the target, workers = ceil(qps x step(k) / k); decode the largest sequences per worker c
 * whose TPOT meets its target, workers = ceil(qps x (outputTokens - 1) x TPOT(c) / c). A
 * configuration whose single worker costs more per hour than the pool found is not estimated.
 */
export function searchDisaggregated(req: PlanRequest): DisaggregatedSearch {
  if (req.qps === undefined) return { reason: 'disaggregated pools are sized at an offered rate: give --qps', configurationsSearched: 0, configurationsEvaluated: 0 };
  const qps = req.qps;
  const { inputTokens: I, outputTokens: O } = req;
  const configs = cachedConfigs(req);
  let evaluated = 0;
  const decodeSteps = Math.max(1, O - 1);

  // The KV transfer a prefill configuration's prompts need at best (its own NIC streams), for the TTFT budget.
  const transferAtBest = (c: PlanConfig): number => {
    const out = c.input.hardware.interNode ?? c.input.hardware.intraNode;
    if (!out) return 0;
    return kvBytesPerSequence(req.model, c.input.kv, I) / (attentionTp(layoutOf(c.input)) * out.bandwidth.value! * CALIBRATION.params.commEfficiency) + out.latency.value!;
  };

  const pick = (phase: 'prefill' | 'decode', with_?: PlanConfig): PoolPick | undefined => {
    let best: PoolPick | undefined;
    for (const c of configs) {
      // the prefill pool writes the KV the decode pool reads, over the same engine's transfer
      // backend (SGLang PD, vLLM NIXL), on the same hardware: the same KV format, engine and device
      if (with_ && (c.input.kv.id !== with_.input.kv.id || c.input.engine?.id !== with_.input.engine?.id || c.input.hardware.id !== with_.input.hardware.id)) continue;
      if (best && c.price * c.devices >= best.usdPerHour) break;
      const w = phase === 'prefill' ? { batch: 1, inputTokens: I, outputTokens: 1, context: I } : { batch: 1, inputTokens: I, outputTokens: O, context: req.context };
      const input: EstimateInput = { ...c.input, workload: w, load: undefined };
      evaluated++;
      // as the aggregated search: weights that overflow a device on average cannot fit
      if (weightsOverflow(c.input)) continue;
      // what the search reads of the configuration's estimate (index.ts probeServing: its figures to
      // the last bit); a decode worker's memory, capacity, step model and FLOPs are those of the
      // configuration at one request, which the aggregated search probed (the load changes none of them)
      const first = phase === 'decode' ? probeConfig(req, c) : probeServing(input);
      const { step } = first;
      const cap = Math.floor(first.maxConcurrency);
      if (!first.fits || cap < 1) continue;
      const { perToken, decodePerToken } = first.flops;
      const at = (b: number) => latencySeconds(step, req.model, { ...w, batch: b }, { prefill: prefillFlops(req.model, perToken, b, I).total, decodePerToken }, false);
      let chosen: { batch: number; seconds: number; workers: number } | undefined;
      const transfer = phase === 'prefill' ? transferAtBest(c) : 0;
      for (const b of grid(cap)) {
        const l = at(b);
        if (phase === 'prefill') {
          if (req.targets.ttft !== undefined && 1.5 * l.ttft + transfer > req.targets.ttft) break;
          const workers = Math.max(1, Math.ceil((qps * l.ttft) / b - 1e-9));
          if (!chosen || workers * c.devices < chosen.workers * c.devices || (workers === chosen.workers && b > chosen.batch)) chosen = { batch: b, seconds: l.ttft, workers };
        } else {
          if (req.targets.tpot !== undefined && l.tpot > req.targets.tpot) break;
          const workers = Math.max(1, Math.ceil((qps * decodeSteps * l.tpot) / b - 1e-9));
          if (!chosen || workers < chosen.workers || (workers === chosen.workers && b > chosen.batch)) chosen = { batch: b, seconds: l.tpot, workers };
        }
      }
      if (!chosen) continue;
      const usdPerHour = chosen.workers * c.devices * c.price;
      if (chosen.workers * c.devices > req.maxDevices) continue;
      if (!best || usdPerHour < best.usdPerHour) best = { config: c, ...chosen, usdPerHour };
    }
    return best;
  };

  // Decode sets the KV format, engine and device (it holds the most KV); prefill follows it.
  const decode = pick('decode');
  if (!decode) return { reason: `no decode worker meets ${req.targets.tpot !== undefined ? `TPOT ${req.targets.tpot * 1e3} ms` : 'the targets'} within --max-devices ${req.maxDevices}`, configurationsSearched: 2 * configs.length, configurationsEvaluated: evaluated };
  const prefill = pick('prefill', decode.config);
  if (!prefill) return { reason: `no prefill worker meets ${req.targets.ttft !== undefined ? `TTFT ${req.targets.ttft} s` : 'the targets'} with KV in ${decode.config.input.kv.id} on ${decode.config.input.engine?.name ?? 'the decode engine'}`, configurationsSearched: 2 * configs.length, configurationsEvaluated: evaluated };

  // The pair as one deployment; a pool that misses its target or the load gets a worker more.
  let p = prefill.workers;
  let d = decode.workers;
  const inputOf = (c: PlanConfig, workers: number) => ({ workers, input: { ...c.input, load: undefined, workload: { batch: 1, inputTokens: I, outputTokens: O, context: req.context } } });
  for (let i = 0; i < 8; i++) {
    const input = { prefill: inputOf(prefill.config, p), decode: inputOf(decode.config, d), qps };
    const e = estimateDisaggregated(input);
    evaluated++;
    const f = e.figures;
    const ttftMiss = req.targets.ttft !== undefined && f['latency.ttft'].value > req.targets.ttft;
    const tpotMiss = req.targets.tpot !== undefined && f['latency.tpot'].value > req.targets.tpot;
    const e2eMiss = req.targets.e2e !== undefined && f['latency.e2e'].value > req.targets.e2e;
    const prefillShort = ttftMiss || !e.disaggregated.prefill.estimate.fits || (f['disagg.prefillUtilization']?.value ?? 0) >= 1;
    const decodeShort = tpotMiss || !e.disaggregated.decode.estimate.fits || !e.loadCarried;
    if (!prefillShort && !decodeShort && !e2eMiss) {
      const devices = f['disagg.devices'].value;
      if (devices > req.maxDevices) return { reason: `the cheapest pools need ${devices} devices, more than --max-devices ${req.maxDevices}`, configurationsSearched: 2 * configs.length, configurationsEvaluated: evaluated };
      const usdPerHour = p * prefill.config.devices * prefill.config.price + d * decode.config.devices * decode.config.price;
      return {
        best: { prefill: { ...prefill, workers: p }, decode: { ...decode, workers: d }, estimate: e, usdPerHour, usdPerMillionOutputTokens: (usdPerHour / secondsInHour / (qps * O)) * tokensInMillion, devices, input },
        configurationsSearched: 2 * configs.length,
        configurationsEvaluated: evaluated,
      };
    }
    if (prefillShort || (e2eMiss && !decodeShort)) p++;
    if (decodeShort) d++;
  }
  return { reason: 'the cheapest pools did not meet the targets as one deployment after adding workers', configurationsSearched: 2 * configs.length, configurationsEvaluated: evaluated };
}

/** Whether the two pools share one scale-up domain (the KV moves over NVLink / ICI) or the NIC. */
export const transferLinkName = (plan: DisaggregatedPlan): string => kvTransferLink(plan.input).link.name;

/**
 * Launch lines for a disaggregated pick, per pool and engine: SGLang PD disaggregation (prefill
 * and decode servers with --disaggregation-mode, the Mooncake transfer backend, DP attention and
 * DeepEP normal / low-latency per pool, EPLB; sgl-router in front: docs.sglang.ai
 * advanced_features/pd_disaggregation, github.com/sgl-project/sglang/issues/6017), vLLM with its
 * NIXL KV connector (docs.vllm.ai features/disagg_prefill, serving/expert_parallel_deployment:
 * --data-parallel-size, --enable-expert-parallel, --all2all-backend deepep_high_throughput /
 * deepep_low_latency, --enable-eplb), and NVIDIA Dynamo over SGLang workers (dynamo.frontend,
 * dynamo.sglang --disaggregation-mode, ai-dynamo/dynamo docs/backends/sglang/dsr1-wideep-h100.md).
 * A worker spanning several nodes runs the same line on each with --nnodes and its --node-rank.
 */
export function disaggregatedLaunch(plan: DisaggregatedPlan, repo: string): { engine: string; command: string }[] {
  // weights quantized at load (fp8 of a bf16 checkpoint): the pool engine's --quantization value
  // (none for a checkpoint already in the format: its config carries quantization_config)
  const quantization = (c: PlanConfig): string | undefined => (c.input.model.quantization === c.input.weights.id ? undefined : c.input.engine?.launch?.quantization[c.input.weights.id]);
  const nodesOf = (c: PlanConfig) => Math.max(1, Math.ceil(c.devices / (c.input.gpusPerNode ?? Math.min(c.input.hardware.devicesPerNode, c.devices))));
  const sglang = (pick: PoolPick, mode: 'prefill' | 'decode', module = 'sglang.launch_server', backend = 'mooncake'): string => {
    const c = pick.config;
    const p = layoutOf(c.input);
    const dp = p.dpAttention ?? 1;
    const nodes = nodesOf(c);
    const wide = p.ep > 1 && (dp > 1 || nodes > 1);
    return [
      `python -m ${module} --model-path ${repo}`,
      `--disaggregation-mode ${mode} --disaggregation-transfer-backend ${backend}`,
      `--tp-size ${p.tp}`,
      dp > 1 ? `--dp-size ${dp} --enable-dp-attention` : '',
      p.ep > 1 ? `--ep-size ${p.ep}` : '',
      wide ? `--moe-a2a-backend deepep --deepep-mode ${mode === 'prefill' ? 'normal' : 'low_latency'}` : '',
      p.redundantExperts ? `--enable-eplb --ep-num-redundant-experts ${p.redundantExperts}` : '',
      mode === 'decode' ? `--max-running-requests ${pick.batch} --cuda-graph-max-bs ${Math.ceil(pick.batch / dp)}` : '',
      `--context-length ${c.input.workload.context}`,
      quantization(c) ? `--quantization ${quantization(c)}` : '',
      c.input.kv.id === 'fp8' ? '--kv-cache-dtype fp8_e4m3' : '',
      nodes > 1 ? `--nnodes ${nodes} --node-rank <0..${nodes - 1}> --dist-init-addr <first node>:5000` : '',
    ].filter(Boolean).join(' ');
  };
  const vllm = (pick: PoolPick, mode: 'prefill' | 'decode'): string => {
    const c = pick.config;
    const p = layoutOf(c.input);
    const dp = p.dpAttention ?? 1;
    const nodes = nodesOf(c);
    return [
      `vllm serve ${repo}`,
      `--tensor-parallel-size ${p.tp / dp}`,
      dp > 1 ? `--data-parallel-size ${dp}` : '',
      p.pp > 1 ? `--pipeline-parallel-size ${p.pp}` : '',
      p.ep > 1 ? '--enable-expert-parallel' : '',
      p.ep > 1 && (dp > 1 || nodes > 1) ? `--all2all-backend ${mode === 'prefill' ? 'deepep_high_throughput' : 'deepep_low_latency'}` : '',
      p.redundantExperts ? `--enable-eplb --eplb-config '{"num_redundant_experts": ${p.redundantExperts}}'` : '',
      mode === 'decode' ? `--max-num-seqs ${Math.ceil(pick.batch / dp)}` : '',
      `--max-model-len ${c.input.workload.context}`,
      quantization(c) ? `--quantization ${quantization(c)}` : '',
      c.input.kv.id === 'fp8' ? '--kv-cache-dtype fp8' : '',
      `--kv-transfer-config '{"kv_connector":"NixlConnector","kv_role":"kv_both"}'`,
    ].filter(Boolean).join(' ');
  };
  const workers = (pick: PoolPick) => `${pick.workers} worker(s) of ${pick.config.devices} x ${pick.config.input.hardware.id}`;
  return [
    { engine: 'sglang (prefill)', command: `${sglang(plan.prefill, 'prefill')}  # ${workers(plan.prefill)}` },
    { engine: 'sglang (decode)', command: `${sglang(plan.decode, 'decode')}  # ${workers(plan.decode)}` },
    { engine: 'sglang (router)', command: 'python -m sglang_router.launch_router --pd-disaggregation --prefill http://<prefill worker>:30000 --decode http://<decode worker>:30000' },
    { engine: 'vllm (prefill)', command: `${vllm(plan.prefill, 'prefill')}  # ${workers(plan.prefill)}` },
    { engine: 'vllm (decode)', command: `${vllm(plan.decode, 'decode')}  # ${workers(plan.decode)}, behind a P/D proxy (vLLM examples/online_serving/disaggregated_serving)` },
    { engine: 'dynamo (frontend)', command: 'python -m dynamo.frontend --http-port 8000' },
    { engine: 'dynamo (prefill)', command: `${sglang(plan.prefill, 'prefill', 'dynamo.sglang', 'nixl')}  # ${workers(plan.prefill)}` },
    { engine: 'dynamo (decode)', command: `${sglang(plan.decode, 'decode', 'dynamo.sglang', 'nixl')}  # ${workers(plan.decode)}` },
  ];
}
