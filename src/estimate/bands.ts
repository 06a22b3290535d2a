import type { BandKind, Calibration } from './efficiency.js';
import type { Figures } from './terms.js';

/**
 * Uncertainty bands (`low`, `high` beside `value`). Latency, throughput and cost figures get the
 * calibration's bands: the spread of measured / predicted over the validation suite's
 * leave-one-out residuals, per kind (docs/accuracy.md). A figure proportional to a time takes
 * the time's band; one inversely proportional (a rate) takes it inverted. Memory figures get a
 * band only where they are not exact (activations, runtime overhead), and sums of memory terms
 * carry the sum of their parts' bands.
 */

/** Which band each figure takes, and whether the figure is a time (1) or a rate (-1) of it. */
const TIME_LIKE: [id: string, kind: BandKind, direction: 1 | -1][] = [
  ['latency.ttft', 'prefill', 1],
  ['latency.tpot', 'decode', 1],
  ['throughput.inputTokensPerSecond', 'prefill', -1],
  ['throughput.decodeTokensPerSecond', 'decode', -1],
  ['throughput.inputTokensPerSecondPerDevice', 'prefill', -1],
  ['throughput.decodeTokensPerSecondPerDevice', 'decode', -1],
  ['cost.usdPerMillionInputTokens', 'prefill', 1],
  ['cost.usdPerMillionOutputTokens', 'decode', 1],
];

/**
 * KV capacity an engine sizes from a memory budget (vLLM, SGLang, TensorRT-LLM) is banded by the
 * KV-capacity residuals (measured / predicted over the engine start-up logs); a pool the engine
 * sizes exactly (llama.cpp n_ctx) is not approximate and takes no band.
 */
const KV_CAPACITY = ['memory.kvCapacityTokens', 'memory.kvCapacity', 'capacity.maxConcurrency'];

/** Throughput figures are banded by the throughput residuals directly (measured / predicted). */
const RATES = ['throughput.outputTokensPerSecond', 'throughput.outputTokensPerSecondPerDevice', 'throughput.requestsPerSecond'];

/**
 * Memory terms that rest on a heuristic, as multiplicative ranges:
 * - runtime overhead: vLLM reports 0.16-1.79 GiB of non-torch memory at TP=1 on H100 and
 *   3.58 GiB at TP=2 (vllm PRs #12126, #10511, cited in the hardware presets), against the
 *   presets' 1 GiB: 0.5x-2x covers the single-device reports;
 * - activations: engines size the prefill working set differently (vLLM profiles a dummy batch
 *   of max_num_batched_tokens; TensorRT-LLM reserves the build-time maximum;
 *   vllm/v1/worker/gpu_worker.py, TensorRT-LLM docs reference/memory.md): 0.5x-2x.
 */
export const MEMORY_BANDS: Record<string, { low: number; high: number }> = {
  'memory.activations': { low: 0.5, high: 2 },
  'memory.perDevice.activations': { low: 0.5, high: 2 },
  'memory.overhead': { low: 0.5, high: 2 },
  'memory.perDevice.overhead': { low: 0.5, high: 2 },
};

const MEMORY_BAND_ENTRIES = Object.entries(MEMORY_BANDS);

const MEMORY_SUMS = ['memory.total', 'memory.perDevice'];

/**
 * Training figures and how they scale with the training throughput (train() in training.ts):
 * rates take the training band as is (it is measured / predicted of a rate), times and what
 * they charge (device-hours, cost, energy) take it inverted.
 */
const TRAINING: [id: string, direction: 1 | -1][] = [
  ['train.tokensPerSecondPerDevice', 1],
  ['train.tokensPerSecond', 1],
  ['train.flopsPerSecondPerDevice', 1],
  ['train.mfu', 1],
  ['train.stepSeconds', -1],
  ['train.seconds', -1],
  ['train.deviceHours', -1],
  ['train.usd', -1],
  ['train.secondsWithGoodput', -1],
  ['train.deviceHoursWithGoodput', -1],
  ['train.usdWithGoodput', -1],
  ['train.energy', -1],
];

/**
 * Adds the calibration's training band to the training figures. Pure apart from `fig`. A step
 * cannot execute more than the devices' peak: the band's fast side stops where the executed FLOPs
 * (recomputation included) would use 100% of it over the whole step (MFU at most model / executed).
 */
export function applyTrainingBands(fig: Figures, calibration: Calibration): void {
  const band = calibration.bands.training;
  if (!band) return;
  const mfu = fig['train.mfu'];
  const executed = Number(mfu?.inputs.executedPerToken);
  const model = Number(mfu?.inputs.modelPerToken);
  const hfu = mfu && executed > 0 && model > 0 ? (mfu.value * executed) / model : undefined;
  const cap = hfu && hfu > 0 ? 1 / hfu : Infinity;
  const high = Math.min(band.high, cap);
  for (const [id, direction] of TRAINING) {
    const f = fig[id];
    if (!f) continue;
    if (direction === 1) setBand(fig, id, f.value * band.low, f.value * high);
    else setBand(fig, id, f.value / high, f.value / band.low);
  }
}

function setBand(fig: Figures, id: string, low: number, high: number): void {
  const f = fig[id];
  if (!f || !Number.isFinite(low) || !Number.isFinite(high)) return;
  f.low = Math.min(low, f.value);
  f.high = Math.max(high, f.value);
}

/**
 * The physical floor of a phase's time: its FLOPs at the full dense peak or its bytes at the full
 * memory bandwidth, whichever is longer (the roofline at 100% efficiency, Williams et al. 2009).
 * No measurement can beat it, so no band reaches below it. Undefined without the phase's figures.
 */
export function phaseFloorSeconds(fig: Figures, phase: 'prefill' | 'decode'): number | undefined {
  const c = fig[`latency.${phase}Compute`]?.inputs;
  const m = fig[`latency.${phase}Memory`]?.inputs;
  if (!c || !m) return undefined;
  const compute = Number(c.flops) / (Number(c.peakFlopsPerSecond) * Number(c.count));
  const memory = Number(m.bytes) / (Number(m.bandwidth) * Number(m.count));
  const floor = Math.max(compute, memory);
  return Number.isFinite(floor) && floor > 0 ? floor : undefined;
}

/** Adds `low` / `high` to the figures that have a known uncertainty, within physical limits. Pure apart from `fig`. */
export function applyBands(fig: Figures, calibration: Calibration): void {
  const b = calibration.bands;
  // A time's band stops at its phase's floor (phaseFloorSeconds), a rate's at the rate that floor
  // gives: the ratio value / floor caps how much faster than predicted anything can run.
  // Speculative decoding yields several tokens per step, so its decode figures are not capped.
  const floors = { prefill: phaseFloorSeconds(fig, 'prefill'), decode: fig['speculative.tokensPerStep'] ? undefined : phaseFloorSeconds(fig, 'decode') };
  const speedup = { prefill: floors.prefill ? fig['latency.ttft'].value / floors.prefill : Infinity, decode: floors.decode ? fig['latency.tpot'].value / floors.decode : Infinity };
  for (const [id, kind, direction] of TIME_LIKE) {
    const band = b[kind];
    const f = fig[id];
    if (!band || !f) continue;
    const cap = kind === 'prefill' || kind === 'decode' ? speedup[kind] : Infinity;
    if (direction === 1) setBand(fig, id, f.value * Math.max(band.low, 1 / cap), f.value * band.high);
    else setBand(fig, id, f.value / band.high, f.value * Math.min(1 / band.low, cap));
  }
  // e2e = ttft + (outputTokens - 1) x tpot: the parts' bands added (errors taken as correlated).
  const e2e = fig['latency.e2e'];
  const ttft = fig['latency.ttft'];
  const tpot = fig['latency.tpot'];
  let e2eCap = Infinity;
  if (e2e && ttft?.low !== undefined && tpot?.low !== undefined) {
    const steps = (e2e.value - ttft.value) / tpot.value;
    setBand(fig, 'latency.e2e', ttft.low + steps * tpot.low, ttft.high! + steps * tpot.high!);
    if (floors.prefill && floors.decode) e2eCap = e2e.value / (floors.prefill + steps * floors.decode);
  }
  const kv = b.kvCapacity;
  if (kv) for (const id of KV_CAPACITY) if (fig[id]?.approximate) setBand(fig, id, fig[id].value * kv.low, fig[id].value * kv.high);
  const t = b.throughput;
  if (t) for (const id of RATES) if (fig[id]) setBand(fig, id, fig[id].value * t.low, fig[id].value * Math.min(t.high, e2eCap));

  applyMemoryBands(fig);
}

/**
 * The memory terms that rest on a heuristic (MEMORY_BANDS) and the sums that contain them; used
 * by estimate() and train() (training activations follow Korthikanti et al. 2022 Table 2, exact for
 * Megatron's kernels; eager frameworks keep more). Pure apart from `fig`.
 */
export function applyMemoryBands(fig: Figures): void {
  for (const [id, band] of MEMORY_BAND_ENTRIES) if (fig[id]) setBand(fig, id, fig[id].value * band.low, fig[id].value * band.high);
  for (const id of MEMORY_SUMS) {
    const f = fig[id];
    if (!f?.parts) continue;
    let low = 0;
    let high = 0;
    for (const part of f.parts) {
      const p = fig[part];
      low += p.low ?? p.value;
      high += p.high ?? p.value;
    }
    if (low !== f.value || high !== f.value) setBand(fig, id, low, high);
  }
}
