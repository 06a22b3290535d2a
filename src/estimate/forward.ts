import { summarizeModel } from '../inputs/model.js';
import { memoryVerdict } from './verdict.js';
import { bytesPerElement } from '../inputs/precision.js';
import { secondsInHour, toGiB, tokensInMillion } from '../units.js';
import { CALIBRATION } from './calibration.js';
import { carbonTerm } from './carbon.js';
import { describeHostStep, engineHostOf, hardwareClass, hostStepOf, mfuFormula, ROOFLINE_SOURCE, rooflineFormula, type Calibration } from './efficiency.js';
import { powerFractionOfTdp, MEMORY_BOUND_POWER_FRACTION } from './energy.js';
import { prefillKeys, tokenFlops } from './flops.js';
import type { Estimate } from './index.js';
import type { EstimateInput } from './input.js';
import { activationBytesPerDevice, deviceMemoryFigures, layerSplit } from './memory.js';
import { groupLink, layoutOf } from './parallel.js';
import { paramsFigures } from './params.js';
import { resolvePeak } from './peak.js';
import { stepModel, type PhaseWork, type StepModel } from './step.js';
import { sum, term, type Figures } from './terms.js';
import { weightFigures, weightLayout } from './weights.js';

/**
 * Forward-only models: encoders (BERT, XLM-RoBERTa, ModernBERT, nomic-bert, gte), embedders on
 * a decoder trunk (Qwen3-Embedding) and rerankers. A request is one forward pass over its input;
 * nothing is generated, so there is no KV cache kept between steps, no decode phase, and no
 * time per output token: the figures are the prefill's. Throughput is sequences per second at
 * a batch and a length.
 *
 * Attention: an encoder's every token attends to every other token of its sequence
 * (bidirectional: s keys per query, local layers min(s, window)); a decoder trunk attends
 * causally (p keys at position p). The pooler and classification head run on one token per
 * sequence; there is no output head over the vocabulary.
 */

const SOURCE = 'Kaplan et al. 2020 sec. 2.1 (2 FLOPs per parameter per token); Devlin et al. 2019 (BERT): bidirectional self-attention over the whole input';

/** Keys attended, summed over layers and queries, by one sequence of `s` tokens. */
export function forwardKeys(m: EstimateInput['model'], s: number): number {
  if (!m.encoder) return prefillKeys(m, 0, s);
  const { full, local, window } = layerSplit(m);
  return full * s * s + local * s * Math.min(s, window);
}

/**
 * Memory, FLOPs, latency, throughput, cost and energy of one forward pass of `batch` sequences
 * of `inputTokens` tokens on one device.
 *
 * @example BERT-base (109,482,240 params: 23,835,648 in embedding tables, 590,592 in the pooler,
 * 85,056,000 in the layers), batch 32 x 512 tokens: 2 x 32 x (512 x 85,056,000 + 590,592)
 * + 32 x 12 layers x 3072 x 512^2 = 2.787e12 + 0.309e12 = 3.096e12 FLOP
 */
export function estimateForward(input: EstimateInput, calibration: Calibration = CALIBRATION): Estimate {
  return estimateForwardWithStep(input, calibration).estimate;
}

/**
 * The forward estimate with the step model its latency came from and the work of its one pass
 * (the calibration fit re-times that work under other parameters: scripts/accuracy-lib.ts).
 */
export function estimateForwardWithStep(input: EstimateInput, calibration: Calibration = CALIBRATION): { estimate: Estimate; step: StepModel; work: PhaseWork } {
  const fig: Figures = {};
  const warnings: string[] = [];
  const { model: m, hardware: hw, workload: w } = input;
  const s = w.inputTokens;
  const tokens = w.batch * s;
  warnings.push(`${m.name} is ${m.encoder ? 'an encoder' : `served as ${m.task === 'rerank' ? 'a reranker' : 'an embedder'}`}: one forward pass per input (prefill only); it keeps no KV cache and decodes nothing, so there is no time per output token`);

  const params = paramsFigures(fig, m);
  const tensors = m.paramsOverride === undefined ? weightLayout(m, input.weights, input.activations) : undefined;
  const weightBytes = weightFigures(fig, m, params.total, input.weights, tensors);

  // ---- Memory (one device: forward-only models run one replica per device) ----
  const actBytes = bytesPerElement(input.activations);
  term(fig, { id: 'memory.activations', label: 'Activations (one forward pass)', unit: 'B', value: activationBytesPerDevice(m, tokens, 0, actBytes, 1), formula: 'batch x inputTokens x (2 x hidden + (heads + 2 x kvHeads) x headDim + 3 x ffn) x bytes', inputs: { batch: w.batch, inputTokens: s, hidden: m.hidden, heads: m.heads, kvHeads: m.kvHeads, headDim: m.headDim, ffn: m.ffn, bytes: actBytes }, source: 'largest per-layer working set (memory.ts activationBytesPerDevice); FlashAttention / SDPA keep the scores out of memory (Dao et al. 2022)', approximate: true });
  const overhead = hw.runtimeOverheadBytes.value ?? 0;
  term(fig, { id: 'memory.overhead', label: 'Runtime overhead (context, workspaces)', unit: 'B', value: overhead, formula: 'runtimeOverhead', inputs: { runtimeOverhead: overhead }, source: hw.runtimeOverheadBytes.source, approximate: true });
  // One device holds the whole model: per-device parts equal the totals (the ids estimate uses).
  term(fig, { id: 'memory.perDevice.weights', label: 'Weights per device', unit: 'B', value: weightBytes, formula: 'memory.weights (one device)', inputs: { weights: weightBytes }, source: 'one copy of the model per device' });
  term(fig, { id: 'memory.perDevice.activations', label: 'Activations per device', unit: 'B', value: fig['memory.activations'].value, formula: 'memory.activations (one device)', inputs: {}, source: 'one forward pass at a time', approximate: true });
  term(fig, { id: 'memory.perDevice.overhead', label: 'Runtime overhead per device', unit: 'B', value: overhead, formula: 'runtimeOverhead', inputs: { runtimeOverhead: overhead }, source: hw.runtimeOverheadBytes.source, approximate: true });
  const perDevice = sum(fig, { id: 'memory.perDevice', label: 'Memory per device', unit: 'B', parts: ['memory.perDevice.weights', 'memory.perDevice.activations', 'memory.perDevice.overhead'] });
  const capacity = deviceMemoryFigures(fig, hw, perDevice);
  const fits = perDevice <= capacity;

  // ---- FLOPs ----
  const headParams = fig['params.head']?.value ?? 0;
  // Matrix-product parameters per token: everything but the gathered embedding tables, the
  // output head (never applied) and the pooler/classifier (once per sequence).
  const matmul = params.active - params.embedding - headParams;
  const t = tokenFlops(m, params.active, params.embedding);
  const keys = forwardKeys(m, s);
  const linear = term(fig, { id: 'flops.prefillLinear', label: 'Forward FLOPs, linear layers', unit: 'FLOP', value: 2 * w.batch * (s * matmul + headParams), formula: '2 x batch x (inputTokens x matmulParams + headParams)', inputs: { batch: w.batch, inputTokens: s, matmulParams: matmul, headParams }, source: SOURCE });
  const attention = term(fig, { id: 'flops.prefillAttention', label: 'Forward FLOPs, attention', unit: 'FLOP', value: w.batch * t.attentionPrefill * keys, formula: m.encoder ? 'batch x 4 x heads x headDim x (fullLayers x s^2 + localLayers x s x min(s, window)) (bidirectional)' : 'batch x 4 x heads x headDim x (fullLayers x s(s+1)/2 + localLayers x sum min(p, window)) (causal)', inputs: { batch: w.batch, inputTokens: s, attnFlopsPerKey: t.attentionPrefill, keys }, source: SOURCE });
  const flops = sum(fig, { id: 'flops.prefill', label: 'Forward FLOPs (one batch)', unit: 'FLOP', parts: ['flops.prefillLinear', 'flops.prefillAttention'], source: SOURCE });
  term(fig, { id: 'flops.perToken', label: 'Forward FLOPs per token', unit: 'FLOP', value: flops / tokens, formula: 'flops.prefill / (batch x inputTokens)', inputs: { flops, batch: w.batch, inputTokens: s }, source: SOURCE });
  void linear;
  void attention;

  // ---- Latency: one forward pass, a prefill step of the step model ----
  const peak = resolvePeak(hw, input.weights, input.activations);
  if (peak.warning) warnings.push(peak.warning);
  const { link } = groupLink(hw, 1, input.gpusPerNode);
  const sm = stepModel({ input, peak, link, weightBytes, totalParams: params.total, flops: { perToken: t }, tensors, calibration });
  // Embedding tables (words, positions, token types) are row gathers, not full reads.
  const gathered = tensors ? tensors.parts.filter((p) => p.group.kind === 'embedding').reduce((a, p) => a + p.bytes, 0) : 0;
  const bytes = weightBytes - gathered;
  const work: PhaseWork = { tokens, flops, bytes };
  const ph = sm.phase(work);
  const calibrated = `calibrated efficiency model (src/estimate/efficiency.ts; ${calibration.source}), fitted on decoder serving`;
  term(fig, { id: 'efficiency.prefillMfu', label: 'Forward pass: compute efficiency (fraction of dense peak)', unit: 'fraction', value: ph.mfu, formula: input.mfu !== undefined ? '--mfu' : mfuFormula(hardwareClass(input.hardware)), inputs: { peakClass: peak.cls, tokensPerStep: tokens, mfuMax: ph.eff.mfuMax }, source: input.mfu !== undefined ? '--mfu' : calibrated });
  term(fig, { id: 'efficiency.prefillMbu', label: 'Forward pass: memory-bandwidth efficiency', unit: 'fraction', value: ph.mbu, formula: input.mbu !== undefined ? '--mbu' : 'mbuMax x bytesPerDevice / (bytesPerDevice + mbuHalfBytes)', inputs: { bytesPerDevice: bytes, mbuMax: ph.eff.mbuMax }, source: input.mbu !== undefined ? '--mbu' : calibrated });
  term(fig, { id: 'latency.prefillCompute', label: 'Forward pass: compute time', unit: 's', value: ph.computeSeconds, formula: 'FLOPs / (peak x mfu)', inputs: { flops, peakFlopsPerSecond: peak.flopsPerSecond, peakClass: peak.cls, mfu: ph.mfu }, source: peak.source });
  term(fig, { id: 'latency.prefillMemory', label: 'Forward pass: memory time', unit: 's', value: ph.memorySeconds, formula: 'weight bytes read (embedding tables are gathers) / (bandwidth x mbu)', inputs: { bytes, bandwidth: hw.memoryBandwidth.value!, mbu: ph.mbu }, source: hw.memoryBandwidth.source });
  term(fig, { id: 'latency.prefillRoofline', label: `Forward pass: roofline (${ph.bound}-bound)`, unit: 's', value: ph.rooflineSeconds, formula: rooflineFormula(calibration.params.rooflineExponent), inputs: { compute: ph.computeSeconds, memory: ph.memorySeconds, bound: ph.bound, ...(calibration.params.rooflineExponent !== undefined ? { rooflineExponent: calibration.params.rooflineExponent } : {}) }, source: ROOFLINE_SOURCE });
  term(fig, { id: 'latency.prefillOverhead', label: 'Forward pass: fixed step overhead', unit: 's', value: sm.overheadSeconds, formula: 'hostStep + layerOverhead x layers; hostStep = the engine family\'s host time per step', inputs: { hostStepSeconds: hostStepOf(calibration.params, engineHostOf(input.engine)).seconds, hostStep: describeHostStep(calibration.params, engineHostOf(input.engine)), layerOverheadSeconds: calibration.params.layerOverheadSeconds, layers: m.layers }, source: calibrated });
  const forward = sum(fig, { id: 'latency.forward', label: 'Time per batch (one forward pass)', unit: 's', parts: ['latency.prefillRoofline', 'latency.prefillOverhead'], source: 'roofline + fixed step overhead' });

  // ---- Throughput and cost ----
  const seqPerSecond = term(fig, { id: 'throughput.sequencesPerSecond', label: 'Sequences per second (per device)', unit: 'sequences/s', value: w.batch / forward, formula: 'batch / latency.forward', inputs: { batch: w.batch, forward }, source: 'batches back to back' });
  term(fig, { id: 'throughput.inputTokensPerSecond', label: 'Input tokens per second (per device)', unit: 'tokens/s', value: tokens / forward, formula: 'batch x inputTokens / latency.forward', inputs: { batch: w.batch, inputTokens: s, forward }, source: 'batches back to back' });
  if (input.price) {
    const usdPerHour = term(fig, { id: 'cost.usdPerHour', label: 'Device cost per hour', unit: 'USD/h', value: input.price.usdPerHour, formula: 'usdPerDeviceHour', inputs: { usdPerDeviceHour: input.price.usdPerHour }, source: input.price.source });
    term(fig, { id: 'cost.usdPerMillionInputTokens', label: 'USD per million input tokens', unit: 'USD', value: ((usdPerHour / secondsInHour) * forward * tokensInMillion) / tokens, formula: 'usdPerHour / 3600 x forward / (batch x inputTokens) x 1e6', inputs: { usdPerHour, forward, batch: w.batch, inputTokens: s }, source: 'device time per input token' });
    term(fig, { id: 'cost.usdPerMillionSequences', label: 'USD per million sequences', unit: 'USD', value: ((usdPerHour / secondsInHour) * tokensInMillion) / seqPerSecond, formula: 'usdPerHour / 3600 / sequencesPerSecond x 1e6', inputs: { usdPerHour, sequencesPerSecond: seqPerSecond }, source: 'device time per sequence' });
  } else warnings.push(`no price known for ${hw.name}; pass --price <USD per device-hour> for cost figures`);

  // ---- Energy (energy.ts: TDP x a utilisation-dependent fraction, or --power-watts) ----
  const tdp = hw.tdpWatts.value;
  if (input.powerWatts !== undefined || tdp) {
    const utilisation = ph.rooflineSeconds > 0 ? flops / (peak.flopsPerSecond * ph.rooflineSeconds) : 0;
    const watts = input.powerWatts ?? tdp! * powerFractionOfTdp(utilisation);
    const approximate = input.powerWatts === undefined;
    term(fig, { id: 'energy.prefillPowerPerDevice', label: 'Forward pass: power per device', unit: 'W', value: watts, formula: approximate ? 'TDP x (floor + (1 - floor) x u)' : '--power-watts', inputs: approximate ? { tdpWatts: tdp!, floor: MEMORY_BOUND_POWER_FRACTION.value, utilisation } : {}, source: approximate ? `${hw.tdpWatts.source}; ${MEMORY_BOUND_POWER_FRACTION.source}` : '--power-watts', approximate });
    term(fig, { id: 'energy.joulesPerMillionInputTokens', label: 'Energy per million input tokens', unit: 'J', value: (watts * forward * tokensInMillion) / tokens, formula: 'power x forward / (batch x inputTokens) x 1e6', inputs: { watts, forward, tokens }, source: 'energy = power x time', approximate });
    term(fig, { id: 'energy.joulesPerRequest', label: 'Energy per sequence', unit: 'J', value: (watts * forward) / w.batch, formula: 'power x forward / batch', inputs: { watts, forward, batch: w.batch }, source: 'energy = power x time; the batch shares the pass', approximate });
    if (input.carbon) {
      carbonTerm(fig, input.carbon, { id: 'energy.co2eKg', label: 'CO2e per sequence', energyId: 'energy.joulesPerRequest' });
      carbonTerm(fig, input.carbon, { id: 'energy.co2eKgPerMillionInputTokens', label: 'CO2e per million input tokens', energyId: 'energy.joulesPerMillionInputTokens' });
    }
  } else if (input.carbon || input.usdPerKwh !== undefined) warnings.push(`no TDP known for ${hw.name}; pass --power-watts <W per device> for energy, electricity and carbon figures`);

  if (!fits) warnings.push(`does not fit: needs ${toGiB(perDevice).toFixed(1)} GiB, ${hw.name} has ${toGiB(capacity).toFixed(1)} GiB`);
  if (s > m.maxContext) warnings.push(`input of ${s} tokens exceeds the model's maximum of ${m.maxContext}`);

  const estimate: Estimate = {
    schemaVersion: 1,
    input: {
      model: summarizeModel(m),
      precision: { weights: input.weights.id, kv: input.kv.id, activations: input.activations.id, compute: peak.cls },
      workload: w,
      hardware: { id: hw.id, name: hw.name, count: 1, usdPerDeviceHour: input.price?.usdPerHour ?? null },
      parallel: layoutOf(input),
      engine: input.engine?.id ?? 'ideal',
    },
    figures: fig,
    fits,
    verdict: memoryVerdict({ neededBytes: perDevice, availableBytes: capacity, device: hw.name, inputTokens: s, maxContext: m.maxContext }),
    bounds: { prefill: ph.bound },
    warnings,
  };
  return { estimate, step: sm, work };
}
