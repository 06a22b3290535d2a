/**
 * `npm run accuracy`: predicts every measurement of the validation suite (validation/cases) with
 * the shipped calibration (in sample), with a calibration refitted from scratch without it
 * (leave-one-out) and with one fitted on the other half of the publications (by-source split);
 * prints and writes docs/accuracy.md: the targets, the errors per kind and per case, the band
 * coverage, the fitted parameters and the method. Everything in the page is computed here, from
 * the suite; nothing is typed in by hand but the method's description. Offline; no network.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CALIBRATION } from '../src/estimate/calibration.js';
import { BAND_QUANTILES, evaluate, isFitted, isRatio, KINDS, loadCatalog, loadSuite, median, METRICS, outsideBand, publicationOf, type Measurement, type Row } from './accuracy-lib.js';
import { evaluateServing, loadServingSuite, servingReport } from './accuracy-serving.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const started = Date.now();
const suite = loadSuite(`${root}validation/cases`);
const { catalog, issues } = loadCatalog(root);
const ev = await evaluate(suite, catalog, issues, CALIBRATION, { root, jobs: availableParallelism() });
const seconds = (Date.now() - started) / 1000;

const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(1)}%`);
const signed = (x: number | undefined): string => (x === undefined ? '-' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);
const err = (predicted: number | undefined, m: Measurement): number | undefined => (predicted === undefined ? undefined : predicted / m.measured - 1);

/** Human value in the metric's unit (report only). */
function show(value: number, m: Measurement): string {
  if (isRatio(m)) return `x${value.toPrecision(4)}`;
  const unit = METRICS[m.metric].unit;
  if (unit === 's') return value >= 1 ? `${value.toPrecision(4)} s` : `${(value * 1e3).toPrecision(4)} ms`;
  if (unit === 'B') return `${(value / 2 ** 30).toFixed(2)} GiB`;
  if (unit === 'tokens/s') return `${value.toPrecision(4)} tok/s`;
  if (unit === 'fraction') return `${(value * 100).toFixed(1)}%`;
  if (unit === 'tokens') return `${Math.round(value)} tokens`;
  if (unit === 'h') return `${(value / 1e6).toPrecision(3)}M h`;
  return `${value.toPrecision(4)} ${unit}`;
}

const predicted = ev.rows.filter((r) => r.inSample);
const skipped = ev.rows.filter((r) => r.skipped);
// Ratios (a lever's effect, validation/README.md `relative`) are reported with their lever, not pooled with times and rates.
const absolute = predicted.filter((r) => !isRatio(r.m));

interface Stat {
  n: number;
  inMedian: number;
  inWorst: number;
  looMedian: number;
  looWorst: number;
  sourceMedian: number;
}
function stat(rows: Row[]): Stat | undefined {
  if (!rows.length) return undefined;
  const abs = (f: (r: Row) => number | undefined) => rows.map((r) => Math.abs(err(f(r), r.m)!));
  const ins = abs((r) => r.inSample!.value);
  const loo = abs((r) => r.leaveOneOut);
  const src = abs((r) => r.bySource);
  return { n: rows.length, inMedian: median(ins), inWorst: Math.max(...ins), looMedian: median(loo), looWorst: Math.max(...loo), sourceMedian: median(src) };
}

// Bands. Shipped: the measured value against the band around the in-sample prediction.
// Cross-validated: each leave-one-out residual against the band built from the others' residuals.
const banded = absolute.filter((r) => r.inSample!.low !== undefined);
const inShipped = banded.filter((r) => r.m.measured >= r.inSample!.low! && r.m.measured <= r.inSample!.high!);
const cv = absolute.filter((r) => r.inCrossValidatedBand !== undefined);
const inCv = cv.filter((r) => r.inCrossValidatedBand);
// Physical limits of the banded figures read by the suite: fractions (utilisation, MFU) at most 1, nothing below 0.
const overLimit = banded.filter((r) => (METRICS[r.m.metric].unit === 'fraction' && r.inSample!.high! > 1) || r.inSample!.low! < 0);

const isKv = (r: Row) => r.m.metric === 'kvCapacityTokens' || r.m.metric === 'kvCapacityBytes' || r.m.metric === 'kvCacheBytes';
const TARGETS: { name: string; target: number; rows: Row[]; note?: string }[] = [
  { name: 'decode time per token', target: 0.08, rows: absolute.filter((r) => r.m.kind === 'decode') },
  { name: 'time to first token', target: 0.12, rows: absolute.filter((r) => r.m.kind === 'prefill') },
  { name: 'high-batch throughput', target: 0.12, rows: absolute.filter((r) => r.m.kind === 'throughput') },
  { name: 'training throughput and time', target: 0.12, rows: absolute.filter((r) => r.m.kind === 'training') },
  { name: 'KV capacity', target: 0.03, rows: absolute.filter(isKv), note: 'engine memory budgets (engine.ts), nothing fitted: leave-one-out = in sample' },
  { name: 'weight memory', target: 0.01, rows: absolute.filter((r) => r.m.metric === 'weightBytes' || r.m.metric === 'weightBytesPerDevice'), note: 'exact arithmetic, nothing fitted' },
];

const lines: string[] = [];
const p = CALIBRATION.params;
const t = CALIBRATION.training;
lines.push('# Accuracy report', '');
lines.push(`Generated by \`npm run accuracy\` (scripts/accuracy.ts, ${seconds.toFixed(0)} s on the machine that ran it) from validation/cases/*.yaml: ${suite.length} measurements, ${predicted.length} predicted, ${skipped.length} not yet predictable. Calibration: ${CALIBRATION.source}.`, '');
lines.push('Error = predicted / measured - 1. **In sample**: the shipped calibration (src/estimate/calibration.ts), fitted on every case. **Leave-one-out (LOO)**: the calibration refitted from scratch without the case (the same fit, starting point and grids), then used to predict it: the honest figure for a new case like the suite\'s. **By source**: the publications are split in two fixed halves (below); each half is predicted by a calibration fitted on the other half only: what a user meets with a new model, device or engine release.', '');

lines.push('## Targets (median absolute error)', '');
lines.push('| target | cases | goal | LOO median | by-source median | in-sample median | worst (LOO) | met (LOO) | note |', '|---|---|---|---|---|---|---|---|---|');
for (const x of TARGETS) {
  const s = stat(x.rows);
  lines.push(`| ${x.name} | ${s?.n ?? 0} | ${pct(x.target)} | ${pct(s?.looMedian)} | ${pct(s?.sourceMedian)} | ${pct(s?.inMedian)} | ${pct(s?.looWorst)} | ${s ? (s.looMedian <= x.target ? 'yes' : `no, by ${pct(s.looMedian - x.target)}`) : 'untested (no case)'} | ${x.note ?? ''} |`);
}
lines.push('');
lines.push(`- Cases: ${predicted.length} predicted measurements (goal: at least 110).`);
lines.push(`- Bands: cross-validated, ${inCv.length} of ${cv.length} (${pct(inCv.length / Math.max(1, cv.length))}) leave-one-out predictions lie inside the band built from the other cases' residuals (goal: at least 80%); ${inShipped.length} of ${banded.length} (${pct(inShipped.length / Math.max(1, banded.length))}) measured values lie inside the shipped band around the in-sample prediction.`);
lines.push(`- Physical limits: ${overLimit.length} of ${banded.length} banded predictions have a band above a physical limit (a fraction above 100% or a value below 0)${overLimit.length ? `: ${overLimit.map((r) => r.m.id).join(', ')}` : ''}.`);
lines.push('');

lines.push('## Per kind', '');
lines.push('| kind | cases | median LOO | worst LOO | median by source | median in sample | worst in sample | in CV band |', '|---|---|---|---|---|---|---|---|');
for (const kind of KINDS) {
  const rows = absolute.filter((r) => r.m.kind === kind);
  const s = stat(rows);
  const c = rows.filter((r) => r.inCrossValidatedBand !== undefined);
  lines.push(`| ${kind} | ${s?.n ?? 0} | ${pct(s?.looMedian)} | ${pct(s?.looWorst)} | ${pct(s?.sourceMedian)} | ${pct(s?.inMedian)} | ${pct(s?.inWorst)} | ${c.length ? `${c.filter((r) => r.inCrossValidatedBand).length} of ${c.length}` : '-'} |`);
}
lines.push('');

lines.push(...leverSection());

lines.push('## Fitted parameters', '');
lines.push(`Serving (src/estimate/efficiency.ts), fitted on ${ev.fitted.cases} latency and throughput measurements: ${ev.parameterNames.serving.join(', ')}. Shipped values: ${Object.entries(p.byClass).map(([c, v]) => `${c} mfuMax ${v!.mfuMax}, mbuMax ${v!.mbuMax}`).join('; ')}; mfuHalfTokens ${p.mfuHalfTokens}; mbuHalfBytes ${(p.mbuHalfBytes / 1e6).toPrecision(4)} MB; host time per step ${p.hostStepSeconds ? Object.entries(p.hostStepSeconds).map(([k, v]) => `${k} ${(v * 1e3).toPrecision(3)} ms`).join(', ') + `, other engines ` : ''}${(p.stepOverheadSeconds * 1e3).toPrecision(3)} ms; + ${(p.layerOverheadSeconds * 1e6).toPrecision(3)} us per layer${p.kernelSeconds !== undefined ? ` + ${(p.kernelSeconds * 1e6).toPrecision(3)} us per extra kernel launch` : ''}; commEfficiency ${p.commEfficiency}${p.rooflineExponent !== undefined ? `; roofline exponent ${p.rooflineExponent}` : ''}.`, '');
lines.push(`Training (src/estimate/training.ts trainingStepTime), fitted on ${ev.fittedTraining.cases} training runs: ${ev.parameterNames.training.join(', ')}. Shipped values: ${t ? `${Object.entries(t.byClass).map(([c, v]) => `${c} utilMax ${v!.utilMax}`).join('; ')}; fp8Factor ${t.fp8Factor}; moeFactor ${t.moeFactor}; bubbleScale ${t.bubbleScale}; dpOverlap ${t.dpOverlap}` : 'none (unfitted defaults)'}. No training constant cites a run it is scored on: every one is fitted on the suite and scored leave-one-out.`, '');
lines.push(`Bands (measured / predicted, ${BAND_QUANTILES[0] * 100}th-${BAND_QUANTILES[1] * 100}th percentile of the LOO residuals per kind): ${Object.entries(CALIBRATION.bands).map(([k, b]) => `${k} ${b!.low}-${b!.high}`).join('; ')}.`, '');
const drift = Math.max(...[p.byClass.gpu.mfuMax / ev.fitted.params.byClass.gpu.mfuMax, p.byClass.gpu.mbuMax / ev.fitted.params.byClass.gpu.mbuMax, p.commEfficiency / ev.fitted.params.commEfficiency, (t?.byClass.gpu.utilMax ?? 0) / ev.fittedTraining.params.byClass.gpu.utilMax].map((x) => Math.abs(x - 1)));
lines.push(`A fresh fit on this suite gives objective ${ev.fitted.objective.toFixed(4)} (serving) and ${ev.fittedTraining.objective.toFixed(4)} (training), mean |log error|; it differs from the shipped parameters by at most ${pct(drift)}${drift > 0.01 ? ' - run `npm run calibrate`' : ''}.`, '');

lines.push('## By-source split', '');
lines.push('Publications (a source up to its first " (" or " @") are assigned to two fixed halves by the parity of an FNV-1a hash of their name (accuracy-lib.ts sourceFold), independent of their errors.', '');
for (const [i, fold] of ev.folds.entries()) lines.push(`- Half ${i + 1} (${fold.length}): ${fold.map((s) => `\`${s}\``).join('; ')}`);
lines.push('');

lines.push('## Largest leave-one-out misses', '');
lines.push('| case | kind | measured | LOO | error | notes |', '|---|---|---|---|---|---|');
const misses = predicted.filter((r) => r.leaveOneOut !== undefined).sort((a, b) => Math.abs(Math.log(b.leaveOneOut! / b.m.measured)) - Math.abs(Math.log(a.leaveOneOut! / a.m.measured))).slice(0, 15);
for (const r of misses) lines.push(`| ${r.m.id} | ${r.m.kind} | ${show(r.m.measured, r.m)} | ${show(r.leaveOneOut!, r.m)} | ${signed(err(r.leaveOneOut, r.m))} | ${r.m.notes ?? ''} |`);

lines.push('', '## Outside the band', '');
const outside = outsideBand(predicted);
lines.push(`The ${outside.length} held-out predictions outside the band built from the other cases' residuals (the "in CV band" column below), worst first (by |log(LOO / measured)|), with what each case's notes say of the miss.`, '');
lines.push('| case | kind | measured | LOO | error | notes |', '|---|---|---|---|---|---|');
for (const r of outside) lines.push(`| ${r.m.id} | ${r.m.kind} | ${show(r.m.measured, r.m)} | ${show(r.leaveOneOut!, r.m)} | ${signed(err(r.leaveOneOut, r.m))} | ${r.m.notes ?? ''} |`);

lines.push('', '## Every case', '');
lines.push('| case | kind | metric | measured | predicted (band) | error | LOO error | by-source error | in CV band | trust |', '|---|---|---|---|---|---|---|---|---|---|');
for (const r of predicted) {
  const i = r.inSample!;
  const band = i.low !== undefined ? ` (${show(i.low, r.m)} - ${show(i.high!, r.m)})` : '';
  lines.push(`| ${r.m.id} | ${r.m.kind} | ${r.m.metric} | ${show(r.m.measured, r.m)} | ${show(i.value, r.m)}${band} | ${signed(err(i.value, r.m))} | ${signed(err(r.leaveOneOut, r.m))} | ${signed(err(r.bySource, r.m))} | ${r.inCrossValidatedBand === undefined ? '-' : r.inCrossValidatedBand ? 'yes' : 'no'} | ${r.m.trust} |`);
}

lines.push('', '## Not yet predictable', '');
lines.push('| case | kind | measured | why |', '|---|---|---|---|');
for (const r of skipped) lines.push(`| ${r.m.id} | ${r.m.kind} | ${show(r.m.measured, r.m)} | ${r.skipped} |`);
lines.push('', `Publications in the suite: ${new Set(suite.map(publicationOf)).size}.${issues.length ? ` Presets that did not load (their cases are skipped): ${issues.length}.` : ''}`, '');

// Serving percentiles: simulated, nothing fitted (scripts/accuracy-serving.ts)
lines.push(...servingReport(evaluateServing(loadServingSuite(`${root}validation/cases`), catalog)));

const report = lines.join('\n');
writeFileSync(`${root}docs/accuracy.md`, `${report}\n${method()}`);
console.log(report);
console.log(`\nwrote docs/accuracy.md in ${((Date.now() - started) / 1000).toFixed(1)} s`);

/**
 * The serving lever a measurement exercises (docs/levers.md), by its lever keys; CPU-only serving
 * by the hardware preset's kind. Undefined: plain serving on an accelerator.
 */
function leverOf(m: Measurement): string | undefined {
  const keys = Object.keys(m.levers ?? {});
  if (keys.includes('speculative')) return 'speculative decoding';
  if (keys.includes('prefixTokens') || keys.includes('cacheHitRate')) return 'prefix caching';
  if (keys.includes('loraAdapters')) return 'multi-LoRA serving';
  if (keys.includes('kvOffload')) return 'KV offload';
  if (keys.some((k) => ['gpuLayers', 'cpuMoe', 'nCpuMoe'].includes(k))) return 'weight offload';
  if (catalog.hardware.find((h) => h.id === m.hardware)?.kind === 'cpu') return 'CPU-only serving';
  return undefined;
}

/** Per lever: its published measurements, held-out error (LOO for fitted cases, the shipped calibration for predicted-only ones), and the not yet predictable. */
function leverSection(): string[] {
  const LEVERS = ['speculative decoding', 'prefix caching', 'multi-LoRA serving', 'KV offload', 'weight offload', 'CPU-only serving'];
  const out: string[] = ['## Serving levers', ''];
  out.push('Published measurements of each serving lever (docs/levers.md; validation/cases/levers.yaml). Speculative decoding and CPU-only cases are fitted like every latency case and scored leave-one-out; the other levers\' cases are predicted, never fitted (scripts/accuracy-lib.ts isFitted), so their error is held out by construction. A ratio (`relative`) is the lever\'s effect as the source reports it: the metric with the lever over the same deployment without it.', '');
  out.push('| lever | measurements predicted | median held-out error | worst held-out error | median by-source error | not yet predictable |', '|---|---|---|---|---|---|');
  for (const lever of LEVERS) {
    const rows = predicted.filter((r) => leverOf(r.m) === lever);
    const abs = rows.map((r) => Math.abs(err(r.leaveOneOut, r.m)!));
    const worst = rows.length ? rows.reduce((a, b) => (Math.abs(err(b.leaveOneOut, b.m)!) > Math.abs(err(a.leaveOneOut, a.m)!) ? b : a)) : undefined;
    const waiting = skipped.filter((r) => leverOf(r.m) === lever).length;
    const bySource = rows.map((r) => Math.abs(err(r.bySource, r.m)!));
    out.push(`| ${lever} | ${rows.length} | ${rows.length ? pct(median(abs)) : '-'} | ${worst ? `${signed(err(worst.leaveOneOut, worst.m))} (${worst.m.id})` : '-'} | ${rows.length ? pct(median(bySource)) : '-'} | ${waiting} |`);
  }
  out.push('', 'Held out: leave-one-out for fitted cases, the shipped calibration for the others. By source: the calibration fitted on the other half of the publications (for the CPU cases, a fit that has seen no CPU: the GPU class\'s parameters).', '');
  out.push('| lever | case | metric | measured | predicted (shipped) | held-out prediction | held-out error | by-source error | fitted | notes |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const r of predicted.filter((x) => leverOf(x.m))) {
    out.push(`| ${leverOf(r.m)} | ${r.m.id} | ${r.m.relative ? `${r.m.metric} ratio` : r.m.metric} | ${show(r.m.measured, r.m)} | ${show(r.inSample!.value, r.m)} | ${show(r.leaveOneOut!, r.m)} | ${signed(err(r.leaveOneOut, r.m))} | ${signed(err(r.bySource, r.m))} | ${isFitted(r.m) ? 'yes (LOO)' : 'no'} | ${r.m.notes ?? ''} |`);
  }
  out.push('');
  return out;
}

/** The method: static text under the figures (what the code above and the estimators do). */
function method(): string {
  return `## Method

**Suite.** validation/cases/*.yaml hold published measurements (validation/README.md): model and
hardware preset ids, engine, precision, workload, layout, what was measured (\`metric\`, with its
unit), how the runner models it (\`modelled\`), the source, trust and extraction. Cases the estimator
cannot model yet stay with the reason; a case whose model, hardware or format preset does not exist
is reported as not yet predictable and joins once it does. validation/cases/measured/ holds
measurements taken with scripts/measure/measure.py.

**Prediction.** Serving measurements are predicted by \`estimate()\` (src/estimate/index.ts) and read
from the figure their metric names; training runs by \`train()\` (src/estimate/training.ts) with the
published layout; KV-capacity cases under the case's engine profile as launched.

**Serving efficiency model** (src/estimate/efficiency.ts, step.ts). Each phase of an engine step
is a roofline of its compute time C = FLOPs / (peak x mfu) and memory time M = bytes / (bandwidth x mbu),
(C^p + M^p)^(1/p) (p = rooflineExponent, fitted: p -> infinity is the plain max(C, M), p = 1 their sum;
near the ridge point neither time hides the other), + communication + a fixed step overhead, with mfu(T) = mfuMax x T / (T + mfuHalfTokens) (T = tokens per step), mbu(B) = mbuMax x B /
(B + mbuHalfBytes) (B = bytes per device per step), overhead = hostStep + layerOverhead x layers,
where hostStep is the engine family's host time between two GPU steps (hostStepSeconds: fitted for each
family whose profile states a sourced prior, kernels.hostStepSeconds, and has at least 5 cases; today
llama.cpp, whose C++ loop replays one CUDA graph per token; the others share stepOverheadSeconds, which
a free value per family would turn into a sink for whatever else its cases miss),
and collectives at commEfficiency x link bandwidth. Kernels a step launches beyond its dense
layers' (a mixture-of-experts block's router, top-k, alignment and combine; absorbed MLA's extra
norms, batched products and copies; fp8 activation quantization where it is a kernel of its own)
add kernelSeconds each, counted per engine version and layer kind from the engine's source
(src/estimate/launches.ts; presets/engines \`kernels.launches\`, a case's \`engineKernels\`). Routed
experts' bytes and FLOPs run at the dense efficiencies times s / (s + expertHalfBytes), s = one
expert matrix per device (small grouped GEMMs); a batch of copies of one prompt (a case's
\`identicalPrompts\`: SGLang bench_one_batch) routes every copy to the same experts. The engine's kernels as built or launched (presets/engines \`kernels\`, a case's
\`engineKernels\`) change the work: attention without FlashAttention writes and reads its scores
(20 B per score element), a build that expands quantized weights to 16 bits before cuBLAS pays that
pass per micro-batch, decode kernels that read the KV cache once per query head (no GQA sharing),
GPUs accumulating in fp16 where the engine does. mfuMax and mbuMax are per hardware class (GPU,
ROCm GPU, SoC, TPU); nothing is per device, model, engine or case.

**Training utilisation** (src/estimate/training.ts trainingStepTime). A step computes at utilMax
(per hardware class) x fp8Factor (fp8 runs) x moeFactor (mixture-of-experts models) of the dense peak, plus the pipeline bubble ((p - 1) / (v m), times bubbleScale when the schedule is not
published), plus the data-parallel traffic (gradient reduction, ZeRO-3 gathers) that a share
dpOverlap of the compute time does not hide: max(0, traffic / bandwidth - dpOverlap x compute), with
the traffic of ranks that share a node leaving through one NIC each (hierarchical collectives).
Goodput is not fitted: train.seconds and train.deviceHours are the steps alone, and a whole run's
figures (train.deviceHoursWithGoodput) divide them by the share of a run spent in steps, 0.9 from
the Llama 3 paper (sec. 3.3.4: "higher than 90% effective training time" through 466
interruptions in 54 days) unless --goodput says otherwise. Model cards' GPU-hours ("the total GPU
time required for training") are scored against that whole-run figure (metric
trainingDeviceHoursWholeRun).

**Fit** (scripts/calibrate.ts, accuracy-lib.ts). Deterministic coordinate descent minimising the
mean absolute log error, separately for the serving parameters (over latency and throughput
measurements) and the training parameters (over training runs): each parameter in turn is set to
the best of a 13-point grid over its range (log-spaced for the half-saturation constants), refined
twice on finer grids, for up to six sweeps. A share of the training model is fitted only when some
run exercises it. The fit re-times each case's steps (step.ts phase, training.ts trainingStepTime)
over work prepared once, instead of rebuilding every figure; the runner checks that this equals
\`estimate()\` and \`train()\` for every case before using it.

**Leave-one-out.** For each measurement both fits are redone from scratch without it and the
refitted model predicts it. **By source.** Each half of the publications is predicted by fits on the
other half only. The fits are independent and run on every core (worker threads); the result does
not depend on how they are shared out.

**Bands** (src/estimate/bands.ts). Per kind (prefill, decode, throughput, training), the 5th to 95th
percentile of the leave-one-out residuals measured / predicted: a distribution-free prediction
interval meant to cover about 90% of new cases. Times take the band as is, rates its inverse, costs
the band of the time they charge, e2e the sum of its parts' bands; training rates take the training
band, training times, device-hours, cost and energy its inverse. Bands stop at what is physically
possible: no time below its phase's roofline at 100% of the peak and the bandwidth (and no rate
above what that gives), no training step executing more than the devices' peak (MFU at most model /
executed FLOPs), nothing negative. Memory figures are exact except activations and runtime overhead
(0.5x-2x, sources in bands.ts; training activations too); memory totals carry their parts' bands.
KV capacity (memory.kvCapacityTokens, memory.kvCapacity, capacity.maxConcurrency, where the engine
sizes its pool from a budget) takes the 5th-95th percentile of the engine logs' residuals (kind
kvCapacity; nothing is fitted on them, so leave-one-out = in sample). Coverage is cross-validated:
each leave-one-out residual against the band built from the others.

**KV capacity cases** (validation/cases/kv-capacity.yaml, issue 12): sixteen engine start-up logs, fifteen predicted, over four engines (vLLM 0.6, 0.7 and
0.19; SGLang 0.4; TensorRT-LLM 0.8; llama.cpp), five GPU types (H100, A100, A10G, RTX 4090,
RTX 3090), TP 1 to 4, dense and MoE (DeepSeek-V2-Lite with MLA, Qwen3-30B-A3B, Mixtral-8x7B,
Qwen3-235B-A22B). Nothing is fitted: each case runs its engine profile (presets/engines) as
launched, so leave-one-out is the in-sample figure. The eight vLLM 0.19 runs on H100 (llm-d
capacity planner logs; its Llama-3.1-8B, Qwen2.5-7B, gemma-2 and phi-4 runs supplied the
profile's non-torch and sampler constants and are not cases) land within 3%, Qwen2.5-72B at TP 2
with 3 GiB of KV included. vLLM 0.6 on an RTX 3090 at max_model_len 20,000 and 29,000 lands
within 3% (the profile pass grows with the whole context when chunked prefill is off; at
29,000 the pool is smaller than one sequence and vLLM refuses to start, which the verdict
reports as kv-budget-too-small). TensorRT-LLM 0.8 on an A100 and the llama.cpp q8_0 cache are
within 0.2%. Over 15%: two RTX 4090s at TP 2 (Qwen2.5-14B, vLLM 0.7,
gpu_memory_utilization 0.98): the log's own figures (13.95 GiB weights, 0.25 GiB non-torch,
0.19 GiB activations of 23.99 GiB) leave 9.1 GiB per GPU, but 81,536 tokens is 7.5 GiB per GPU;
vLLM V0 takes the smallest pool over the TP ranks, so the other (unreported) GPU held about
1.8 GiB more, likely a desktop on a consumer card - we over-predict by 26%. The same
Qwen3-235B-A22B run on vLLM with an LMCache KV connector (vllm issue #21348) is kept for the
record but not predicted: the connector's GPU buffers are outside every profile (plain vLLM
0.19 predicts 47% more).
`;
}
