import { toGiB } from '../units.js';
import { describeShape, isForwardOnly, summarizeModel, type ModelSummary } from '../inputs/model.js';
import { estimateForward } from './forward.js';
import { applyBands } from './bands.js';
import { CALIBRATION } from './calibration.js';
import type { Calibration } from './efficiency.js';
import { monthlyCostFigures, throughputAndCostFigures } from './cost.js';
import { energyFigures } from './energy.js';
import { engineLabel, schedulerLimit } from './engine.js';
import { flopsFigures, type FlopsResult } from './flops.js';
import type { EstimateInput } from './input.js';
import { deploymentStep, latencyFigures, latencySeconds } from './latency.js';
import type { PhaseWork, StepModel } from './step.js';
import { memoryFigures, type MemoryResult } from './memory.js';
import { verdictOf, type Verdict } from './verdict.js';
import { attentionTp, batchPerScheduler, groupLink, layoutOf, type Parallel } from './parallel.js';
import { deploymentFigures, loadFigures, solveLoad } from './load.js';
import { paramsFigures, sharedParamsFigures } from './params.js';
import { enginePeak, resolvePeak } from './peak.js';
import { archLabel, formatKernel, isFallback, weightOnly } from './kernels.js';
import { weightLayout } from './weights.js';
import { drafterMemoryFigures } from './speculative.js';
import { cachedPromptTokens, prefixFigures } from './prefix.js';
import { loraFigures } from './lora-serving.js';
import { suggestGpuLayers, type OffloadSuggestion } from './offload.js';
import { kvOffloadArgs, kvOffloadFigures } from './kv-offload.js';
import { notMeaningful, term, type Figures } from './terms.js';
import { sparse24Support, sparsePeak } from './pruning.js';
import type { Peak } from './peak.js';
import type { WeightLayout } from './weights.js';
import type { Link } from '../inputs/hardware.js';


/** The start of estimate's warning for multi-step scheduling (simulate models it and drops the warning). */
export const MULTI_STEP_NOTE = 'multi-step scheduling';
export type { EstimateInput, Workload } from './input.js';
export type { Figure, Figures } from './terms.js';

/** Resolved inputs as they appear in the output's `input` block. */
export interface ResolvedInputSummary {
  model: ModelSummary;
  precision: { weights: string; kv: string; activations: string; compute: string };
  workload: EstimateInput['workload'];
  hardware: { id: string; name: string; count: number; usdPerDeviceHour: number | null };
  /** tensor / pipeline / expert parallelism and replicas; count = tp x pp */
  parallel?: Parallel;
  /** serving engine whose memory budget sizes the KV cache */
  engine?: string;
  /** that engine's profile version, name and why it was chosen */
  engineChoice?: { id: string; version: string; name: string; reason: string };
  /** offered load, when --qps or --concurrency is given */
  load?: { qps: number | null; concurrency: number | null };
}

/** How much work estimate() does beyond the figures. */
export interface EstimateRunOptions {
  /** search for the smallest change that makes a non-fitting configuration fit (default true; plan's inner loop skips it) */
  fixes?: boolean;
}

export interface Estimate {
  schemaVersion: 1;
  input: ResolvedInputSummary;
  figures: Figures;
  fits: boolean;
  /** one verdict: status, the binding limit in numbers, the smallest change that makes it run */
  verdict: Verdict;
  /** what binds each phase; forward-only models (encoders, embedders) have no decode phase */
  bounds: { prefill: 'compute' | 'memory'; decode?: 'compute' | 'memory' };
  /** llama.cpp: the most layers that fit on the GPU (-ngl) when the model does not, and the decode speed then */
  offload?: OffloadSuggestion;
  /** with --qps: whether the replicas carry the offered load within their KV capacity */
  loadCarried?: boolean;
  warnings: string[];
}

/**
 * Estimates memory, FLOPs, latency, throughput and cost of serving `input.model` on
 * `input.count` devices. Pure: no I/O, no globals.
 *
 * @example
 * estimate({ model: llama31_8b, weights: FORMATS.bf16, kv: FORMATS.bf16, activations: FORMATS.bf16,
 *   workload: { batch: 1, inputTokens: 1024, outputTokens: 256, context: 1280 }, hardware: h100, count: 1 })
 *   .figures['memory.weights'].value // 16_060_522_496
 */
export function estimate(input: EstimateInput, calibration: Calibration = CALIBRATION, options: EstimateRunOptions = {}): Estimate {
  // --qps: solve the batch per replica (and replicas) by Little's law first (load.ts).
  // Encoders, embedders and rerankers: one forward pass per input, no decode (forward.ts).
  if (isForwardOnly(input.model)) return withBaseline(input, estimateForward(input, calibration), calibration);
  if (input.load?.qps !== undefined && input.load.concurrency === undefined) return solveLoad(input, (solved) => estimate(solved, calibration, options), (probe) => probeServing(probe, calibration));
  return withBaseline(input, estimateWithStep(input, calibration, options).estimate, calibration);
}

/** Figures shown beside a pruned model's, from the unpruned baseline (baseline.<id>). */
const BASELINE_IDS = ['params.total', 'memory.weights', 'memory.perDevice', 'latency.ttft', 'latency.tpot', 'latency.forward', 'throughput.outputTokensPerSecond', 'throughput.sequencesPerSecond', 'cost.usdPerMillionOutputTokens', 'cost.usdPerMillionInputTokens'];

/**
 * A pruned model's estimate with the unpruned baseline beside it: the baseline's key figures as
 * baseline.<id>, and the saying that accuracy is out of scope.
 */
function withBaseline(input: EstimateInput, pruned: Estimate, calibration: Calibration): Estimate {
  if (!input.pruning) return pruned;
  const { baseline } = input.pruning;
  const base = estimate({ ...input, model: baseline.model, weights: baseline.weights, pruning: undefined }, calibration);
  for (const id of BASELINE_IDS) {
    const f = base.figures[id];
    if (!f || !pruned.figures[id]) continue;
    term(pruned.figures, { id: `baseline.${id}`, label: `${f.label} (unpruned)`, unit: f.unit, value: f.value, formula: `${id} of ${baseline.model.name} in ${baseline.weights.id}`, inputs: { pruned: pruned.figures[id].value }, source: 'the same estimate without pruning', approximate: f.approximate });
  }
  pruned.warnings.push(`pruning changes the model and its speed, not only its size: what it costs in accuracy is out of scope (llm-size sizes ${pruned.input.model.name}; evaluate its quality before deploying it)`);
  return pruned;
}

/**
 * The estimate at the input's batch (an unsolved --qps counts as no load), together with the
 * deployment's step model its latency came from (step.ts): what the simulator runs on; and the
 * work of its prefill and decode steps, which the calibration fit re-times under other parameters.
 */
export function estimateWithStep(input: EstimateInput, calibration: Calibration = CALIBRATION, options: EstimateRunOptions = {}): { estimate: Estimate; step: StepModel; work: { prefill: PhaseWork; decode: PhaseWork }; flops: FlopsResult } {
  // a dictionary from the start (no prototype): an estimate adds some 80 figures by id
  const figures: Figures = Object.create(null) as Figures;
  const warnings: string[] = [];
  const { model: m, hardware: hw } = input;
  const { params, tensors, memory, flops, peak, layout, link } = servingFigures(figures, warnings, input);
  const latency = latencyFigures(figures, { input, peak, link, weightBytes: memory.weightBytes, totalParams: params.total, flops, tensors, calibration });
  // KV offload tiers (kv-offload.ts): what each holds and what a hit from it costs
  if (input.kvOffload) warnings.push(...kvOffloadFigures(figures, kvOffloadArgs(input, latency.step, flops.perToken)));
  throughputAndCostFigures(figures, input, latency);
  loadFigures(figures, input, latency.e2e);
  // Uncertainty bands from the calibration's residuals (bands.ts, docs/accuracy.md).
  applyBands(figures, calibration);
  if (!energyFigures(figures, input, latency, peak.flopsPerSecond) && (input.usdPerKwh !== undefined || input.carbon)) {
    warnings.push(`no TDP known for ${hw.name}; pass --power-watts <W per device> for energy, electricity and carbon figures`);
  }
  monthlyCostFigures(figures, input, latency);
  if (!input.price) warnings.push(`no price known for ${hw.name}; pass --price <USD per device-hour> for cost figures`);
  // One verdict (verdict.ts): the binding limit and the smallest change that makes it run; the
  // probe re-runs the memory balance for a changed input on scratch figures.
  const verdict = verdictOf(input, memory, (changed) => memoryFigures({}, changed, params.total, changed.weights === input.weights ? tensors : m.paramsOverride === undefined ? weightLayout(m, changed.weights, changed.activations) : undefined, [], 'result'), options.fixes !== false);
  deploymentFigures(figures, input);
  // The engine's default limit on running sequences (presets/engines: scheduler.maxNumSeqs) also
  // goes to stderr, for scripts that read the JSON's figures only.
  const queued = schedulerLimit(input.engine, input.engineOptions ?? {}, hw, layout.tp, batchPerScheduler(input));
  if (queued && input.engine) warnings.push(`a batch of ${input.workload.batch} sequences is more than the ${queued.limit} ${input.engine.name} runs at once by default (${queued.source}); the rest wait in the queue unless you launch it with ${queued.flag ?? '--max-num-seqs'} ${batchPerScheduler(input)}${batchPerScheduler(input) !== input.workload.batch ? ' (per data-parallel rank)' : ''}`);
  if (input.workload.context > m.maxContext) {
    warnings.push(`context ${input.workload.context} exceeds the model's maximum of ${m.maxContext} tokens`);
  }
  warnings.push(...notMeaningful(figures));
  const result: Estimate = {
    schemaVersion: 1,
    input: {
      model: summarizeModel(m),
      precision: { weights: input.weights.id, kv: input.kv.id, activations: input.activations.id, compute: peak.cls },
      workload: input.workload,
      hardware: { id: hw.id, name: hw.name, count: input.count, usdPerDeviceHour: input.price?.usdPerHour ?? null },
      parallel: layout,
      engine: input.engine?.id ?? 'ideal',
      engineChoice: { id: input.engine?.id ?? 'ideal', version: input.engine?.version ?? '1', name: input.engine ? engineLabel(input.engine) : 'ideal', reason: input.engineReason ?? (input.engine ? 'given' : 'no engine: the bare memory balance') },
      ...(input.load ? { load: { qps: input.load.qps ?? null, concurrency: input.load.concurrency ?? null } } : {}),
    },
    figures,
    fits: memory.fits,
    verdict,
    bounds: latency.bounds,
    warnings,
  };
  // llama.cpp keeps what does not fit in system memory (offload.ts): the most layers that fit, and the speed then
  if (!memory.fits && input.engine?.id === 'llamacpp' && !input.weightOffload && input.hostCpu && input.hardware.host && tensors && input.count === 1) {
    const suggestion = suggestGpuLayers(input, figures, tensors, (probe) => estimateWithStep(probe, calibration).estimate);
    if (suggestion) {
      // the smallest change on the device asked for: it comes first among the verdict's fixes
      result.offload = suggestion;
      const fix = { change: 'gpu-layers' as const, flag: '--gpu-layers', value: suggestion.gpuLayers, detail: `--gpu-layers ${suggestion.gpuLayers} (llama.cpp -ngl): ${suggestion.gpuLayers} of ${m.layers} layers on ${hw.name}, ${(suggestion.hostWeightBytes / 2 ** 30).toFixed(2)} GiB of weights in ${suggestion.host}'s memory; ~${suggestion.decodeTokensPerSecond.toPrecision(3)} tokens/s decode` };
      verdict.fixes.unshift(fix);
      verdict.fix = fix;
    }
  }
  return { estimate: result, step: latency.step, work: latency.work, flops };
}

/**
 * What every evaluation of a serving configuration builds before timing it: parameters, the
 * weight layout, memory and KV capacity (with the levers' memory), FLOPs, the peak the steps run
 * at and the link the tensor-parallel group talks over. estimateWithStep goes on to the latency,
 * cost and verdict figures; probeServing (a search's evaluation) stops at the step model.
 */
function servingFigures(figures: Figures, warnings: string[], input: EstimateInput, probe = false): { params: { total: number; active: number; embedding: number }; tensors: WeightLayout | undefined; memory: MemoryResult; flops: FlopsResult; peak: Peak; layout: Parallel; link: Link } {
  const { model: m, hardware: hw } = input;
  // a probe's warnings are dropped, so a probe does not build them
  const warn = !probe;
  if (warn && m.shapeAssumed) {
    warnings.push(`only the parameter count is known: KV cache, attention FLOPs and activations assume a Llama-like shape (${describeShape(m)}) and are approximate`);
  }
  // (a probe's figures are read and dropped: it takes the model's prepared params.* figures uncopied)
  const params = probe ? sharedParamsFigures(figures, m) : paramsFigures(figures, m);
  // The per-tensor weight layout, built once: weight bytes (memory) and what a step reads (latency).
  const tensors = m.paramsOverride === undefined ? weightLayout(m, input.weights, input.activations) : undefined;
  // Serving levers' memory beside the model's (docs/levers.md): the speculative drafter ...
  const levers = [drafterMemoryFigures(figures, input, layoutOf(input).tp), loraFigures(figures, input, layoutOf(input).tp)].filter((l) => l !== undefined);
  const memory = memoryFigures(figures, input, params.total, tensors, levers, probe ? 'result' : 'all');
  prefixFigures(figures, input);
  const flops = flopsFigures(figures, input, params.active, params.embedding);
  const ple = figures['memory.perLayerEmbeddings'];
  if (warn && ple) warnings.push(`${m.name}: memory counts its per-layer embeddings on the device as vLLM, SGLang, transformers and llama.cpp load them (${toGiB(ple.value).toFixed(2)} GiB, memory.perLayerEmbeddings); a runtime with PLE caching (LiteRT) keeps them off the accelerator, which is what the 'effective' size in the name counts`);
  // The engine's kernel for these weights on this architecture (kernels.ts): a weight-only
  // fallback (FP8 / NVFP4 Marlin) multiplies at the activation type's peak, not the format's.
  const kernel = input.engine ? formatKernel(input.engine, hw, input.weights) : undefined;
  const fallback = kernel !== undefined && isFallback(kernel, input.weights);
  let peak = enginePeak(resolvePeak(hw, fallback ? weightOnly(input.weights) : input.weights, input.activations), hw, input.engine);
  if (warn && kernel && !kernel.ok) warnings.push(`${kernel.why}: the figures assume it ran`);
  if (warn && fallback && kernel?.ok) warnings.push(`${engineLabel(input.engine!)} runs ${input.weights.id} weights on ${hw.name} (${archLabel(hw)}) weight-only${kernel.via ? ` through ${kernel.via}` : ''}: dequantized to ${peak.cls} for the matrix products, at the ${peak.cls} peak instead of a native ${input.weights.compute} one (slower where a step is compute-bound: long prompts, large batches)`);
  if (warn && peak.warning) warnings.push(peak.warning);
  const groupSteps = input.engineOptions?.numSchedulerSteps ?? 1;
  if (warn && groupSteps > 1) warnings.push(`${MULTI_STEP_NOTE} (--num-scheduler-steps ${groupSteps}): the fixed-shape figures time every step alike; llm-size simulate admits prompts between the groups and streams each group's tokens together`);
  if (input.pruning?.sparsity) peak = sparsityFigures(figures, input, peak, tensors, warnings);
  // The tensor-parallel group talks over the node's link, or the network once it spans nodes.
  const layout = layoutOf(input);
  const { link, assumed } = groupLink(hw, attentionTp(layout), input.gpusPerNode);
  if (warn && input.count > 1 && assumed) warnings.push(`${hw.name} lists no interconnect for ${input.count} devices; communication assumes ${link.name}`);
  return { params, tensors, memory, flops, peak, layout, link };
}

/** What a search reads of one configuration (plan.ts, plan-disagg.ts): whether it fits, its KV capacity, its step model and FLOPs, its latency at the input's batch. */
export interface ServingProbe {
  fits: boolean;
  /** capacity.maxConcurrency */
  maxConcurrency: number;
  step: StepModel;
  flops: FlopsResult;
  /** latency.ttft, latency.tpot and latency.e2e */
  latency: { ttft: number; tpot: number; e2e: number };
}

/**
 * The figures a search reads of a configuration, equal to those of its full estimate
 * (estimateWithStep) to the last bit, without the rest: memory, capacity and FLOPs are built
 * as the estimate builds them, and the latency comes from the same step model through
 * latency.ts latencySeconds (which sums as latencyFigures does) instead of figures with their
 * formulas; no bands, cost, energy or verdict. Inputs whose latency has terms latencySeconds
 * does not model (LoRA adapters, llama.cpp weight offload), forward-only models and an unsolved
 * --qps take the full estimate. test/plan-search.test.ts checks the two agree.
 */
export function probeServing(input: EstimateInput, calibration: Calibration = CALIBRATION): ServingProbe {
  if (isForwardOnly(input.model) || input.lora || input.weightOffload || input.pruning || (input.load?.qps !== undefined && input.load.concurrency === undefined)) return probeByEstimate(input, calibration);
  const figures: Figures = Object.create(null) as Figures;
  const { params, tensors, memory, flops, peak, link } = servingFigures(figures, [], input, true);
  const step = deploymentStep({ input, peak, link, weightBytes: memory.weightBytes, totalParams: params.total, flops, tensors, calibration });
  const latency = latencySeconds(step, input.model, input.workload, flops, input.load !== undefined, cachedPromptTokens(input));
  return { fits: memory.fits, maxConcurrency: memory.maxConcurrency, step, flops, latency };
}

/** The same probe read off the full estimate (no search for fixes): the fallback, and the plan's reference search (plan.ts exhaustive). */
export function probeByEstimate(input: EstimateInput, calibration: Calibration = CALIBRATION): ServingProbe {
  const { estimate: e, step, flops } = estimateWithStep(input, calibration, { fixes: false });
  const f = e.figures;
  return { fits: e.fits, maxConcurrency: f['capacity.maxConcurrency'].value, step, flops, latency: { ttft: f['latency.ttft'].value, tpot: f['latency.tpot'].value, e2e: f['latency.e2e'].value } };
}

/**
 * 2:4 sparsity: the compressed weights with their metadata (sparsity.weightBytes, of which
 * sparsity.metadataBytes), the device's sparse peak from its datasheet (sparsity.peakFlopsPerSecond),
 * and the peak the steps run at: linear layers at the sparse peak where the engine runs 2:4
 * kernels for this format on this device, else the dense peak with a warning (pruning.ts).
 */
function sparsityFigures(fig: Figures, input: EstimateInput, peak: Peak, tensors: WeightLayout | undefined, warnings: string[]): Peak {
  const parts = tensors?.parts.filter((p) => p.format.id.endsWith('+2:4')) ?? [];
  const bytes = parts.reduce((a, p) => a + p.bytes, 0);
  const weights = parts.reduce((a, p) => a + p.count * p.group.params, 0);
  const source = parts[0]?.format.source ?? input.weights.source;
  term(fig, { id: 'sparsity.weightBytes', label: 'Linear weights, 2:4 compressed with metadata', unit: 'B', value: bytes, formula: 'linear weights x (elementBits / 2 + 1 metadata bit + scale bits / group) / 8', inputs: { linearWeights: weights, bitsPerWeight: weights ? (bytes * 8) / weights : 0 }, source });
  term(fig, { id: 'sparsity.metadataBytes', label: 'of which 2:4 metadata (2-bit positions)', unit: 'B', value: weights / 8, formula: 'linear weights x 1 bit / 8', inputs: { linearWeights: weights }, source });
  const cls = peak.cls;
  const sparse = input.hardware.sparseCompute?.[cls];
  if (sparse?.value) term(fig, { id: 'sparsity.peakFlopsPerSecond', label: `${cls} peak with 2:4 sparsity (datasheet)`, unit: 'FLOP/s', value: sparse.value, formula: 'hardware profile sparseCompute', inputs: { device: input.hardware.id, peakClass: cls, densePeak: peak.flopsPerSecond }, source: sparse.source });
  const support = sparse24Support(input.engine, input.hardware, input.pruning!.baseline.weights, cls);
  if (!support.ok) {
    warnings.push(`--sparsity 2:4: ${support.why}; no speed-up: the matrix products run at the dense peak (the compressed weights still save memory and bandwidth)`);
    return peak;
  }
  const linear = fig['flops.prefillLinear']?.value ?? 0;
  const attention = fig['flops.prefillAttention']?.value ?? 0;
  const effective = sparsePeak(peak, sparse!, linear, attention);
  term(fig, { id: 'sparsity.effectivePeakFlopsPerSecond', label: 'Peak the steps run at (linear sparse, attention dense)', unit: 'FLOP/s', value: effective.flopsPerSecond, formula: '(linear + attention) / (linear / sparsePeak + attention / densePeak), prefill FLOPs', inputs: { linearFlops: linear, attentionFlops: attention, sparsePeak: sparse!.value!, densePeak: peak.flopsPerSecond }, source: effective.source, approximate: true });
  return effective;
}
