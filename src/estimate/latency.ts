import type { Link } from '../inputs/hardware.js';
import { CALIBRATION } from './calibration.js';
import { describeHostStep, engineHostOf, hardwareClass, hostStepOf, mfuFormula, ROOFLINE_SOURCE, rooflineFormula, type Calibration } from './efficiency.js';
import type { WeightLayout } from './weights.js';
import type { EstimateInput, Workload } from './input.js';
import type { ModelSpec } from '../inputs/model.js';
import { kvLayerTokens } from './memory.js';
import type { Peak } from './peak.js';
import { stepModel, type PhaseWork, type StepModel } from './step.js';
import { busiestGroupPrompts, dpGroups } from './parallel.js';
import { speculativeFigures, speculativeSeconds, withSpeculation } from './speculative.js';
import { prefillFlops, prefillKeys, type TokenFlops } from './flops.js';
import { once, once2 } from './once.js';
import { cachedPromptTokens } from './prefix.js';
import { loraLatencyFigures } from './lora-serving.js';
import { offloadLatencyFigures } from './offload.js';
import { sum, term, type Figures } from './terms.js';
import { describeLaunches } from './launches.js';

// The interconnect fallback and collectives live with the parallel layouts (parallel.ts); the
// step model (one engine step's time, shared with the simulator) in step.ts.
export { allReduceSeconds, PCIE4_FALLBACK } from './parallel.js';
export { expertsTouched } from './step.js';

export interface LatencyResult {
  ttft: number;
  tpot: number;
  e2e: number;
  bounds: { prefill: 'compute' | 'memory'; decode: 'compute' | 'memory' };
  /** the deployment's step model these figures came from (step.ts), for the simulator */
  step: StepModel;
  /** the work of the prefill step and of one decode step (step.phase re-times it; the calibration fit does) */
  work: { prefill: PhaseWork; decode: PhaseWork };
}

/**
 * Latency of estimate's fixed request shape, as named terms, from the engine step model
 * (step.ts: roofline per phase + communication + fixed step overhead).
 */
export interface LatencyArgs {
  input: EstimateInput;
  peak: Peak;
  /** the link the tensor-parallel group talks over */
  link: Link;
  weightBytes: number;
  totalParams: number;
  flops: { prefill: number; decodePerToken: number; perToken: TokenFlops };
  /** per-tensor weight layout; absent for a bare parameter count */
  tensors: WeightLayout | undefined;
  calibration?: Calibration;
}

/** Ids and labels of each phase's figures, built once: an estimate rebuilds no string it can reuse. */
function phaseText(name: 'prefill' | 'decode', label: string) {
  return {
    mfu: `efficiency.${name}Mfu`, mfuLabel: `${label}: compute efficiency (fraction of dense peak)`,
    mbu: `efficiency.${name}Mbu`, mbuLabel: `${label}: memory-bandwidth efficiency`,
    compute: `latency.${name}Compute`, computeLabel: `${label}: compute time`,
    memory: `latency.${name}Memory`, memoryLabel: `${label}: memory time`,
    roofline: `latency.${name}Roofline`, rooflineLabel: { compute: `${label}: roofline (compute-bound)`, memory: `${label}: roofline (memory-bound)` },
    dequantize: `latency.${name}Dequantize`, dequantizeLabel: `${label}: weights expanded to 16 bits before the matrix products`,
    scores: `latency.${name}AttentionScores`, scoresLabel: `${label}: attention through memory beyond the roofline`,
    commTp: `latency.${name}CommTp`, commTpLabel: `${label}: tensor-parallel all-reduces`,
    commEp: `latency.${name}CommEp`, commEpLabel: `${label}: expert-parallel all-to-all`,
    imbalance: `moe.${name}Imbalance`, imbalanceLabel: `${label}: routed tokens on the busiest EP rank / mean`,
    commPp: `latency.${name}CommPp`, commPpLabel: `${label}: pipeline stage sends`,
    comm: `latency.${name}Comm`, commLabel: `${label}: communication`,
    overhead: `latency.${name}Overhead`, overheadLabel: `${label}: fixed step overhead`,
  };
}
const PHASE_TEXT = { prefill: phaseText('prefill', 'Prefill'), decode: phaseText('decode', 'Decode step') };

// Sources that name a calibration or a link, once per object (once.ts).
const calibratedSource = once((calibration: Calibration) => `calibrated efficiency model (src/estimate/efficiency.ts; ${calibration.source}); takes precedence over the hardware profile's default`);
const tpSource = once2((link: Link, calibration: Calibration) => `Shoeybi et al. 2019 (Megatron-LM) sec. 3; ring all-reduce; ${link.bandwidth.source}; commEfficiency ${calibratedSource(calibration)}`);
const epSource = once((link: Link) => `DeepSpeed-MoE (Rajbhandari et al. 2022); vLLM FusedMoE with --enable-expert-parallel; DeepEP (github.com/deepseek-ai/DeepEP) across domains; ${link.bandwidth.source}`);
const IMBALANCE_SOURCE = 'expected maximum of ep ranks (Cramer 1946) with the expert-load spread measured by TensorRT-LLM on DeepSeek-R1 (examples/ep_load_balancer/README.md: EP32 +156% without a balancer, EP36 +11.5% with EPLB); src/estimate/expert-parallel.ts';
const ppSource = once((link: Link) => `GPipe / Megatron-LM pipeline parallelism (Narayanan et al. 2021); ${link.bandwidth.source}`);

const SCORES_FORMULA = {
  materialized: 'score elements x 20 B (f32 scores written, softmax read and written, an f16 copy for the KQV product) at bandwidth x mbu, where the engine runs attention without FlashAttention (kernels.flashAttention false)',
  tiled: 'prompt steps: max(0, score elements x (2 x headDim x kvBytes / queryTile + 2 B mask / GQA heads per tile) at bandwidth x mbu (the efficiency at the stream\'s own bytes) - score elements x 4 x headDim at peak x mfu): the K/V cache streamed once per FlashAttention query tile where that outlasts the attention FLOPs (kernels.flashAttentionQueryTile)',
  none: 'none: FlashAttention keeps the scores on chip and reads the K/V cache once (the step\'s bytes)',
};
function scoresFormula(input: EstimateInput): string {
  const k = input.engine?.kernels;
  if (k?.flashAttention?.value === false) return SCORES_FORMULA.materialized;
  return k?.flashAttentionQueryTile?.vendors.includes(input.hardware.vendor) ? SCORES_FORMULA.tiled : SCORES_FORMULA.none;
}
function scoresSource(input: EstimateInput): string {
  const k = input.engine?.kernels;
  if (k?.flashAttention?.value !== false && k?.flashAttentionQueryTile?.vendors.includes(input.hardware.vendor)) return k.flashAttentionQueryTile.source;
  return k?.flashAttention?.source ?? 'FlashAttention-style kernels keep the scores on chip (Dao et al. 2022)';
}

/** The deployment's step model (step.ts), with speculative decoding's step where the input asks for it: what latencyFigures times, and what a search re-times. */
export const deploymentStep = (args: LatencyArgs): StepModel => withSpeculation(stepModel(args), args);

export function latencyFigures(fig: Figures, args: LatencyArgs): LatencyResult {
  const { input, peak, link, flops, calibration = CALIBRATION } = args;
  const { model: m, workload: w, hardware: hw } = input;
  const step = deploymentStep(args);
  const n = step.tp;
  // Efficiencies come from the calibrated situation model (efficiency.ts), which takes
  // precedence over the hardware profile's single defaults; --mfu / --mbu override both.
  const calibrated = calibratedSource(calibration);
  const mfuSource = input.mfu !== undefined ? '--mfu' : calibrated;
  const mbuSource = input.mbu !== undefined ? '--mbu' : calibrated;

  const phase = (name: 'prefill' | 'decode', work: PhaseWork) => {
    const text = PHASE_TEXT[name];
    const t = step.phase(work);
    const { eff, mfu, mbu } = t;
    const { tokens: tokensPerStep, flops: phaseFlops, bytes } = work;
    const classNote = eff.fittedClass ? `${eff.cls} parameters` : `no fitted data for this device class: gpu parameters`;
    // `efficiency.mfu` is the prefill figure and `efficiency.mbu` the decode one (the bounds that
    // usually bind); each phase also has its own pair.
    term(fig, { id: text.mfu, label: text.mfuLabel, unit: 'fraction', value: mfu, formula: input.mfu !== undefined ? '--mfu' : mfuFormula(hardwareClass(input.hardware)), inputs: { peakClass: peak.cls, tokensPerStep, mfuMax: eff.mfuMax, mfuHalfTokens: calibration.params.mfuHalfTokens, parameters: classNote }, source: mfuSource });
    term(fig, { id: text.mbu, label: text.mbuLabel, unit: 'fraction', value: mbu, formula: input.mbu !== undefined ? '--mbu' : 'mbuMax x bytesPerDevice / (bytesPerDevice + mbuHalfBytes)', inputs: { bytesPerDevice: bytes / n, mbuMax: eff.mbuMax, mbuHalfBytes: calibration.params.mbuHalfBytes, parameters: classNote }, source: mbuSource });
    if (name === 'prefill') term(fig, { id: 'efficiency.mfu', label: 'Compute efficiency (fraction of dense peak), prefill', unit: 'fraction', value: mfu, formula: input.mfu !== undefined ? '--mfu' : 'efficiency.prefillMfu', inputs: { peakClass: peak.cls }, source: mfuSource });
    else term(fig, { id: 'efficiency.mbu', label: 'Memory-bandwidth efficiency, decode', unit: 'fraction', value: mbu, formula: input.mbu !== undefined ? '--mbu' : 'efficiency.decodeMbu', inputs: {}, source: mbuSource });
    const compute = term(fig, { id: text.compute, label: text.computeLabel, unit: 's', value: t.computeSeconds, formula: 'FLOPs / (peak x mfu x count)', inputs: { flops: phaseFlops, peakFlopsPerSecond: peak.flopsPerSecond, peakClass: peak.cls, mfu, count: n }, source: peak.source });
    const memory = term(fig, { id: text.memory, label: text.memoryLabel, unit: 's', value: t.memorySeconds, formula: 'bytes moved / (bandwidth x mbu x count)', inputs: { bytes, bandwidth: hw.memoryBandwidth.value!, mbu, count: n }, source: hw.memoryBandwidth.source });
    const bound = t.bound;
    term(fig, { id: text.roofline, label: text.rooflineLabel[bound], unit: 's', value: t.rooflineSeconds, formula: rooflineFormula(calibration.params.rooflineExponent), inputs: { compute, memory, bound, ...(calibration.params.rooflineExponent !== undefined ? { rooflineExponent: calibration.params.rooflineExponent } : {}) }, source: ROOFLINE_SOURCE });
    term(fig, { id: text.dequantize, label: text.dequantizeLabel, unit: 's', value: t.dequantizeSeconds, formula: 'micro-batches x (quantized bytes read + 2 B x parameters written) at bandwidth x mbu, where the engine dequantizes to a copy (kernels.dequantizePrefill)', inputs: { engine: input.engine?.id ?? 'ideal', format: input.weights.id }, source: input.engine?.kernels?.dequantizePrefill?.source ?? 'no separate dequantization pass (weights used as stored, or dequantized inside the kernel)' });
    term(fig, { id: text.scores, label: text.scoresLabel, unit: 's', value: t.scoresSeconds, formula: scoresFormula(input), inputs: { scoreElements: work.scoreElements ?? 0 }, source: scoresSource(input) });
    term(fig, { id: text.commTp, label: text.commTpLabel, unit: 's', value: t.commTpSeconds, formula: '(layers x 2 - moeLayers under EP) x allReduce(tokens x hidden x bytes) at commEfficiency x link bandwidth', inputs: { allReduces: t.allReduces, tokens: tokensPerStep, hidden: m.hidden, tp: n, link: link.name, linkBandwidth: link.bandwidth.value!, commEfficiency: eff.commEfficiency, linkLatency: link.latency.value! }, source: tpSource(link, calibration) });
    if (step.layout.ep > 1 && m.moe) term(fig, { id: text.imbalance, label: text.imbalanceLabel, unit: 'ratio', value: t.imbalance, formula: input.expertParallel?.imbalance !== undefined ? '--expert-imbalance' : '1 + sqrt(2 ln ep) x sqrt(cv^2 / slotsPerRank + 1 / tokensPerRank)', inputs: { ep: step.layout.ep, experts: m.moe.experts, redundantExperts: step.layout.redundantExperts ?? 0, tokensPerStep, topK: m.moe.topK }, source: input.expertParallel?.imbalance !== undefined ? '--expert-imbalance' : IMBALANCE_SOURCE });
    term(fig, { id: text.commEp, label: text.commEpLabel, unit: 's', value: t.commEpSeconds, formula: 'moeLayers x (dispatch + combine); each: tokens x topK / ep x imbalance x hidden x bytes x (inDomainShare / (scale-up bw x commEfficiency) + crossShare / (NIC bw x NIC efficiency)) + latency', inputs: { moeLayers: step.moeLayers, ep: step.layout.ep, mode: t.epMode, imbalance: t.imbalance, crossDomainShare: t.epCrossShare, domain: step.topology.domain, bytes: t.epBytes, link: step.epLink.name }, source: epSource(step.epLink) });
    term(fig, { id: text.commPp, label: text.commPpLabel, unit: 's', value: t.commPpSeconds, formula: '(pp - 1) x (tokens x hidden x bytes / bandwidth + latency)', inputs: { pp: step.layout.pp, bytes: t.messageBytes, link: step.ppLink.name }, source: ppSource(step.ppLink) });
    sum(fig, { id: text.comm, label: text.commLabel, unit: 's', parts: [text.commTp, text.commEp, text.commPp], source: 'tensor-parallel all-reduces + expert all-to-all + pipeline sends' });
    term(fig, { id: text.overhead, label: text.overheadLabel, unit: 's', value: step.overheadSeconds, formula: step.extraLaunches ? 'hostStep + layerOverhead x layers + kernelSeconds x extraLaunches; hostStep = the engine family\'s host time per step (scheduler, sampler, launch loop); extraLaunches = sum over layers of the mixer\'s and MLP\'s launches beyond a dense layer\'s + quantizedLinear x fp8 linear layers (src/estimate/launches.ts)' : 'hostStep + layerOverhead x layers; hostStep = the engine family\'s host time per step (scheduler, sampler, launch loop)', inputs: { hostStepSeconds: hostStepOf(calibration.params, engineHostOf(input.engine)).seconds, hostStep: describeHostStep(calibration.params, engineHostOf(input.engine)), layerOverheadSeconds: calibration.params.layerOverheadSeconds, layers: m.layers, ...(step.extraLaunches ? { kernelSeconds: calibration.params.kernelSeconds ?? 0, extraLaunches: step.extraLaunches, launchesPerLayer: describeLaunches(input.engine) } : {}) }, source: calibrated });
    return bound;
  };

  // Prefill reads the weights once and writes the prompt's KV cache. A static batch prefills
  // together; under steady load (continuous batching) each request's prompt is prefilled on its
  // own, interleaved with the running decode batch (vLLM V1 scheduler, Orca: Yu et al. 2022).
  const { prefillWork, decodeWork } = latencyWork(step, m, w, flops, input.load !== undefined, cachedPromptTokens(input));
  const prefillBound = phase('prefill', prefillWork);
  // Prefix caching (prefix.ts): the same prefill with nothing cached, for comparison.
  const cached = cachedPromptTokens(input);
  if (cached > 0) {
    const full = step.phase(latencyWork(step, m, w, { prefill: prefillFlops(m, flops.perToken, w.batch, w.inputTokens).total, decodePerToken: flops.decodePerToken }, input.load !== undefined).prefillWork);
    term(fig, { id: 'prefix.ttftWithoutCache', label: 'Prefill without the prefix cache', unit: 's', value: full.rooflineSeconds + full.commTpSeconds + full.commEpSeconds + full.commPpSeconds + step.overheadSeconds, formula: 'roofline + communication + overhead of prefilling every prompt token', inputs: { inputTokens: w.inputTokens, cachedTokens: cached }, source: 'the step model (step.ts) on the whole prompt' });
  }

  // Decode step: every sequence emits one token at the mean context over the generation.
  const decodeBound = phase('decode', decodeWork);
  const ttftParts = ['latency.prefillRoofline', 'latency.prefillDequantize', 'latency.prefillAttentionScores', 'latency.prefillComm', 'latency.prefillOverhead'];
  const tpotParts = ['latency.decodeRoofline', 'latency.decodeDequantize', 'latency.decodeAttentionScores', 'latency.decodeComm', 'latency.decodeOverhead'];
  // Multi-LoRA serving (lora-serving.ts): the adapters' work and their kernels' measured overhead.
  if (input.lora) {
    loraLatencyFigures(fig, input, step, { prefill: prefillWork, decode: decodeWork }, { prefill: fig['latency.prefillRoofline'].value + fig['latency.prefillComm'].value, decode: fig['latency.decodeRoofline'].value + fig['latency.decodeComm'].value });
    ttftParts.push('lora.prefill');
    tpotParts.push('lora.decode');
  }
  // Speculative decoding (speculative.ts): a step verifies k + 1 tokens per sequence and yields
  // tokensPerStep of them; the plain decode step above stays as the baseline.
  const meanContext = w.inputTokens + w.outputTokens / 2;
  const spec = step.speculative ? speculativeFigures(fig, step.speculative, w.batch, meanContext) : undefined;
  // llama.cpp -ngl / --cpu-moe (offload.ts): each layer runs where its weights are
  const off = input.weightOffload && args.tensors ? offloadLatencyFigures(fig, args, step, { prefill: prefillWork, decode: decodeWork }, w.batch * kvLayerTokens(m, meanContext) * step.kvBytesPerLayerToken) : undefined;
  if (off) {
    tpotParts.splice(0, tpotParts.length, ...off.tpotParts, ...tpotParts.filter((p) => p.startsWith('lora.')));
    ttftParts.push(...off.ttftParts);
  }
  const stepParts = spec ? ['speculative.perToken'] : tpotParts;
  if (input.load) {
    // Steady state (continuous batching: Orca, Yu et al. 2022; vLLM V1; Sarathi-Serve, Agrawal
    // et al. 2024): batch/outputTokens requests finish per decode step and as many prompts join.
    // A prompt rides in one forward pass with the running decodes, which reads the weights once
    // (step.ts mixedWork); that pass is the step the simulator times for it too.
    const prefillOne = fig['latency.prefillRoofline'].value + fig['latency.prefillDequantize'].value + fig['latency.prefillAttentionScores'].value + fig['latency.prefillComm'].value;
    const decodeOne = fig['latency.decodeRoofline'].value + fig['latency.decodeDequantize'].value + fig['latency.decodeAttentionScores'].value + fig['latency.decodeComm'].value;
    const decodeStep = spec ? spec.stepSeconds : decodeOne + fig['latency.decodeOverhead'].value;
    const mixed = step.phaseSeconds(step.mixedWork(decodeWork, prefillWork));
    const joinCost = Math.max(0, mixed - decodeOne);
    // attention data parallelism: each group admits its own prompts, and every group waits for
    // the one prefilling the most in a step (parallel.ts busiestGroupPrompts)
    const groups = dpGroups(step.layout);
    const joining = busiestGroupPrompts(w.batch / w.outputTokens, groups);
    term(fig, { id: 'latency.prefillInterference', label: 'Prompts joining, per decode step', unit: 's', value: joining * joinCost, formula: groups > 1 ? 'E[max over dpAttention groups of the prompts each admits], each group Poisson with mean batch / outputTokens / dpAttention, x (pass with the decodes and one prompt on a group - decode pass)' : '(batch / outputTokens) x (pass with the decodes and one prompt - decode pass)', inputs: { batch: w.batch, outputTokens: w.outputTokens, ...(groups > 1 ? { dpAttention: groups, busiestGroupPrompts: joining } : {}), mixedPass: mixed, decodePass: decodeOne }, source: groups > 1 ? 'continuous batching (Sarathi-Serve, Agrawal et al. 2024) with attention data parallelism: the groups step together and the step lasts as long as the busiest rank (TensorRT-LLM docs/source/blogs/tech_blog/blog10_ADP_Balance_Strategy.md: time_i = max over ranks)' : 'continuous batching with chunked prefill (Sarathi-Serve, Agrawal et al. 2024; vLLM V1 scheduler): decodes and a prompt share one forward pass, the weights read once' });
    term(fig, { id: 'latency.decodesInPromptStep', label: 'Running decodes in the prompt\'s step', unit: 's', value: Math.max(0, mixed - prefillOne), formula: 'pass with the decodes and the prompt - the prompt\'s own pass', inputs: { mixedPass: mixed, prefillPass: prefillOne, batch: w.batch }, source: 'vLLM V1 scheduler: a waiting prompt is scheduled into the next step with every running decode, and its first token comes at the end of that step' });
    term(fig, { id: 'latency.queueWait', label: 'Wait for the running decode step', unit: 's', value: decodeStep / 2, formula: spec ? 'speculative.stepSeconds / 2 (mean residual of the step in flight)' : 'decode step / 2 (mean residual of the step in flight)', inputs: { step: decodeStep }, source: 'iteration-level scheduling (Orca, Yu et al. 2022): a request joins at the next step' });
    ttftParts.push('latency.decodesInPromptStep', 'latency.queueWait');
    tpotParts.push('latency.prefillInterference');
    if (spec) stepParts.push('latency.prefillInterference');
  }
  const ttft = sum(fig, { id: 'latency.ttft', label: 'Time to first token', unit: 's', parts: ttftParts, source: input.load ? 'one request\'s prefill + communication + overhead, the running decodes in its step, and the wait for the step in flight (continuous batching)' : 'roofline + communication + overhead' });
  let tpot: number;
  if (spec) {
    const baseline = sum(fig, { id: 'speculative.baselineTpot', label: 'Time per output token without speculation', unit: 's', parts: tpotParts, source: input.load ? 'plain decode step + prefill of joining requests (continuous batching)' : 'plain decode step: roofline + communication + overhead' });
    tpot = sum(fig, { id: 'latency.tpot', label: 'Time per output token (speculative decoding)', unit: 's', parts: stepParts, source: 'speculative step / tokens per step' + (input.load ? ' + prefill of joining requests' : '') });
    term(fig, { id: 'speculative.speedup', label: 'Decode speedup from speculation', unit: 'ratio', value: baseline / tpot, formula: 'speculative.baselineTpot / latency.tpot (below 1: speculation slows decoding)', inputs: { baselineTpot: baseline, tpot }, source: 'Leviathan et al. 2023 sec. 3.4 (expected walltime improvement), with both steps timed by the step model' });
  } else {
    tpot = sum(fig, { id: 'latency.tpot', label: 'Time per output token', unit: 's', parts: tpotParts, source: input.load ? 'decode step + prefill of joining requests (continuous batching)' : 'roofline + communication + overhead' });
  }

  const e2e = term(fig, { id: 'latency.e2e', label: 'End-to-end time per request', unit: 's', value: ttft + (w.outputTokens - 1) * tpot, formula: 'ttft + (outputTokens - 1) x tpot', inputs: { ttft, tpot, outputTokens: w.outputTokens }, source: 'the first token comes from prefill, each further one from a decode step' });
  return { ttft, tpot, e2e, bounds: { prefill: prefillBound, decode: spec ? spec.bound : off ? off.bound : decodeBound }, step, work: { prefill: prefillWork, decode: decodeWork } };
}

/**
 * The work of estimate's prefill step and of one decode step at the workload's batch. Prefill
 * reads the weights once and writes the prompt's KV cache: a static batch prefills together;
 * under steady load (continuous batching) each request's prompt is prefilled on its own. Decode:
 * every sequence emits one token at the mean context over the generation.
 */
export function latencyWork(step: StepModel, m: ModelSpec, w: Workload, flops: { prefill: number; decodePerToken: number }, loaded: boolean, cachedTokens = 0): { prefillWork: PhaseWork; decodeWork: PhaseWork } {
  const prefillSequences = loaded ? 1 : w.batch;
  // prefix caching (prefix.ts): only the uncached tokens go through the layers; the KV they read
  // (the cached prefix) and write (the rest) is the whole prompt's
  const promptTokens = prefillSequences * (w.inputTokens - cachedTokens);
  const prefillWork: PhaseWork = { tokens: promptTokens, flops: (flops.prefill * prefillSequences) / w.batch, bytes: step.prefillBytes(promptTokens, prefillSequences * kvLayerTokens(m, w.inputTokens)), scoreElements: prefillSequences * m.heads * prefillKeys(m, cachedTokens, w.inputTokens), ...step.parallelWork(promptTokens, prefillSequences, true) };
  const meanContext = w.inputTokens + w.outputTokens / 2;
  const decodeWork: PhaseWork = { tokens: w.batch, flops: w.batch * flops.decodePerToken, bytes: step.decodeBytes(w.batch, w.batch * kvLayerTokens(m, meanContext)), scoreElements: m.heads * w.batch * kvLayerTokens(m, meanContext), ...step.parallelWork(w.batch, w.batch, false) };
  return { prefillWork, decodeWork };
}

/**
 * TTFT, TPOT and end-to-end time as latencyFigures records them, as plain numbers: the same
 * step model, the same work, summed in the same order as its figures (sum() adds parts left to
 * right from 0), so the values are equal to the last bit (test/plan-search.test.ts checks it).
 * For a search that re-times one deployment at many batch sizes (plan.ts) without building
 * figures; `flops.prefill` is that of the batch (flops.ts prefillFlops).
 */
export function latencySeconds(step: StepModel, m: ModelSpec, w: Workload, flops: { prefill: number; decodePerToken: number }, loaded: boolean, cachedTokens = 0): { ttft: number; tpot: number; e2e: number } {
  const { prefillWork, decodeWork } = latencyWork(step, m, w, flops, loaded, cachedTokens);
  // a search re-times one deployment at many batches: under load its prefill work is the same at each
  const p = step.phaseAgain(prefillWork);
  const d = step.phase(decodeWork);
  const prefillComm = 0 + p.commTpSeconds + p.commEpSeconds + p.commPpSeconds;
  const decodeComm = 0 + d.commTpSeconds + d.commEpSeconds + d.commPpSeconds;
  let ttft = 0 + p.rooflineSeconds + p.dequantizeSeconds + p.scoresSeconds + prefillComm + step.overheadSeconds;
  const plainStep = 0 + d.rooflineSeconds + d.dequantizeSeconds + d.scoresSeconds + decodeComm + step.overheadSeconds;
  const spec = step.speculative ? speculativeSeconds(step.speculative, w.batch, w.inputTokens + w.outputTokens / 2) : undefined;
  let tpot = spec ? 0 + spec.perToken : plainStep;
  if (loaded) {
    const prefillOne = p.rooflineSeconds + p.dequantizeSeconds + p.scoresSeconds + prefillComm;
    const decodeOne = d.rooflineSeconds + d.dequantizeSeconds + d.scoresSeconds + decodeComm;
    const decodeStep = spec ? spec.stepSeconds : decodeOne + step.overheadSeconds;
    const mixed = step.phaseSeconds(step.mixedWork(decodeWork, prefillWork));
    ttft += Math.max(0, mixed - prefillOne);
    ttft += decodeStep / 2;
    tpot += busiestGroupPrompts(w.batch / w.outputTokens, dpGroups(step.layout)) * Math.max(0, mixed - decodeOne);
  }
  return { ttft, tpot, e2e: ttft + (w.outputTokens - 1) * tpot };
}
