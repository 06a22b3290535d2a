import type { ModelSpec } from '../inputs/model.js';
import { bytesPerElement, FORMATS, type Format } from '../inputs/precision.js';
import { blocksFor, engineLabel, kvCapacity, longestContext, schedulerLimit, wholeBlocks } from './engine.js';
import type { EstimateInput } from './input.js';
import type { MemoryResult } from './memory.js';
import { batchPerScheduler, layoutOf, layoutProblem, placementProblem, type Parallel } from './parallel.js';
import { formatKernel, isFallback } from './kernels.js';

/**
 * One verdict a person can act on: whether the configuration runs as asked, the limit that binds
 * (in numbers), and the smallest change that makes it run. Statuses, in the order they bind:
 *  - weights-do-not-fit: the weights (and the engine's fixed reserves) leave the engine no KV cache
 *  - context-exceeds-model: the context is past the model's maximum position
 *  - kv-budget-too-small: the engine's KV budget holds fewer tokens than batch x context
 *  - over-scheduler-limit: it fits, but the engine runs fewer sequences at once by default
 *  - fits
 * Fixes are checked with the same budget arithmetic (engine.ts), in order of the least change:
 * a higher memory fraction, a lower-precision KV cache, fewer sequences, a shorter context, more
 * devices, lower-precision weights.
 */
export const VERDICT_STATUSES = ['fits', 'weights-do-not-fit', 'context-exceeds-model', 'kv-budget-too-small', 'over-scheduler-limit'] as const;
export type VerdictStatus = (typeof VERDICT_STATUSES)[number];

export const FIX_KINDS = ['higher-budget', 'no-cuda-graphs', 'lower-precision-kv', 'fewer-sequences', 'shorter-context', 'more-devices', 'lower-precision-weights', 'raise-scheduler-limit', 'gpu-layers'] as const;
export type FixKind = (typeof FIX_KINDS)[number];

export interface VerdictFix {
  change: FixKind;
  /** the llm-size flag and value that make it fit (the same change on the engine's launch line) */
  flag: string;
  value: number | string;
  /** what the change gives, in words */
  detail: string;
}

export interface Verdict {
  status: VerdictStatus;
  /** the binding limit: what is needed and what is available, in `unit` */
  limit: { name: string; needed: number; available: number; unit: 'B' | 'tokens' | 'count' };
  /** the smallest change that makes it run; absent when it fits or nothing tried does */
  fix?: VerdictFix;
  /** every change tried that makes it run, smallest first */
  fixes: VerdictFix[];
  /** the verdict in words: the table's last line */
  message: string;
}

/** Re-runs the memory balance for a changed input (estimate() supplies it; pure). */
export type MemoryProbe = (input: EstimateInput) => MemoryResult;

const GiB = 2 ** 30;
const gib = (b: number): string => `${(b / GiB).toFixed(2)} GiB`;
const n = (x: number): string => String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** Lower-precision KV formats the engine runs, most bytes first (fp8 before q4_0). */
function smallerKvFormats(input: EstimateInput): Format[] {
  const e = input.engine;
  if (!e) return [];
  const current = bytesPerElement(input.kv);
  return e.supports.kv
    .map((id) => (FORMATS as Record<string, Format>)[id])
    .filter((f): f is Format => f !== undefined && bytesPerElement(f) < current)
    .sort((a, b) => bytesPerElement(b) - bytesPerElement(a));
}

/** Layouts with more devices per replica, fewest first: wider TP within a node, then pipeline stages (layer split: more stages). */
function biggerLayouts(input: EstimateInput, m: ModelSpec): Parallel[] {
  const now = layoutOf(input);
  const node = input.gpusPerNode ?? input.hardware.devicesPerNode;
  const layerSplit = input.engine?.multiDevice.default === 'layer' && now.tp === 1;
  const out: Parallel[] = [];
  for (let devices = now.tp * now.pp * 2; devices <= 64; devices *= 2) {
    const options: Parallel[] = layerSplit
      ? [{ ...now, tp: 1, pp: devices }]
      : [{ ...now, tp: Math.min(devices, Math.max(node, now.tp)), pp: devices / Math.min(devices, Math.max(node, now.tp)) }, { ...now, tp: now.tp, pp: devices / now.tp }];
    for (const p of options) if (Number.isInteger(p.pp) && p.tp * p.pp === devices && !layoutProblem(m, p) && !placementProblem(input.hardware, p, input.engine, input.gpusPerNode) && !out.some((q) => q.tp === p.tp && q.pp === p.pp)) out.push(p);
  }
  return out;
}

/**
 * The verdict for an estimate's memory balance. `probe` re-runs the balance for changed inputs
 * (more devices, other weights); `fixes` false skips the search (plan's inner loop).
 */
export function verdictOf(input: EstimateInput, mem: MemoryResult, probe: MemoryProbe, fixes = true): Verdict {
  const { model: m, workload: w, hardware: hw } = input;
  const e = input.engine;
  const b = mem.budget;
  const name = e ? engineLabel(e) : 'the memory balance';
  const block = b.blockTokens;
  const perSeqTokens = blocksFor(w.context, block);
  const neededTokens = w.batch * perSeqTokens;
  const exact = b.kind === 'exact';
  // llama.cpp: the cells the budget holds, more than its bytes over a full token's when
  // sliding-window layers cache only their window (the longest context at this batch)
  const flatTokens = kvCapacity(b.kvBudgetBytes, mem.pools, block, w.context).tokens;
  const longest = exact && mem.pools.kvBytesPerToken > 0 ? longestContext(b.kvBudgetBytes, mem.pools, block, w.batch, Number.MAX_SAFE_INTEGER) : 0;
  const budgetTokens = longest < Number.MAX_SAFE_INTEGER ? Math.max(flatTokens, w.batch * longest) : flatTokens;
  const tried: VerdictFix[] = [];
  const run = (probeInput: EstimateInput) => probe(probeInput);

  // The memory fraction that makes the budget hold `bytes` more, if the engine lets it go that high.
  const higherBudget = (deficitBytes: number): VerdictFix | undefined => {
    if (!b.fraction || !b.requested || b.fraction.value <= 0) return undefined;
    const perUnit = b.requested.bytes / b.fraction.value;
    const needed = Math.ceil((b.fraction.value + deficitBytes / perUnit) * 100 - 1e-9) / 100;
    if (needed > b.fraction.max || needed <= b.fraction.value) return undefined;
    const gained = (needed - b.fraction.value) * perUnit;
    const tokens = wholeBlocks(Math.max(0, b.kvRawBytes + gained) / mem.pools.kvBytesPerToken, block);
    const engineFlag = e?.launch?.flags.fraction;
    return { change: 'higher-budget', flag: '--gpu-memory-utilization', value: needed, detail: `--gpu-memory-utilization ${needed}${engineFlag && engineFlag !== '--gpu-memory-utilization' ? ` (${e!.name} ${engineFlag} ${needed})` : ''}: the budget holds ${n(tokens)} KV tokens (the most this device allows is ${b.fraction.max})` };
  };

  // CUDA graphs inside the budget (vLLM >= 0.21): --enforce-eager gives their memory to the KV cache.
  const noGraphs = (deficitBytes: number): VerdictFix | undefined => {
    if (!b.cudaGraphs.inBudget || !b.cudaGraphs.bytes || b.cudaGraphs.bytes < deficitBytes) return undefined;
    const tokens = wholeBlocks(Math.max(0, b.kvRawBytes + b.cudaGraphs.bytes) / mem.pools.kvBytesPerToken, block);
    return { change: 'no-cuda-graphs', flag: '--enforce-eager', value: 'true', detail: `--enforce-eager (no CUDA graphs, slower decode): their ${gib(b.cudaGraphs.bytes)} go to the KV cache, ${n(tokens)} tokens` };
  };

  const lowerKv = (): VerdictFix | undefined => {
    for (const f of smallerKvFormats(input)) {
      const scale = bytesPerElement(f) / bytesPerElement(input.kv);
      const need = exact ? b.kvAllocatedBytes * scale : mem.kvNeededBytes * scale;
      if (need <= b.kvBudgetBytes) {
        const tokens = wholeBlocks(b.kvBudgetBytes / (mem.pools.kvBytesPerToken * scale), block);
        return { change: 'lower-precision-kv', flag: '--kv-precision', value: f.id, detail: `--kv-precision ${f.id}: ${exact ? `the ${n(neededTokens)}-token cache takes ${gib(need)} per device` : `the budget holds ${n(tokens)} tokens`}` };
      }
    }
    return undefined;
  };

  const fewerSequences = (): VerdictFix | undefined => {
    if (w.batch <= 1) return undefined;
    const most = kvCapacity(b.kvBudgetBytes, mem.pools, block, w.context).sequences;
    if (most < 1) return undefined;
    const flag = input.load ? '--concurrency' : '--batch';
    return { change: 'fewer-sequences', flag, value: most, detail: `${flag} ${most}: ${most} sequences of ${n(w.context)} tokens fit` };
  };

  const shorterContext = (): VerdictFix | undefined => {
    const longest = longestContext(b.kvBudgetBytes, mem.pools, block, w.batch, m.maxContext);
    if (longest < Math.min(block, w.context) || longest >= w.context) return undefined;
    return { change: 'shorter-context', flag: '--context', value: longest, detail: `--context ${longest}: ${w.batch} sequence${w.batch > 1 ? 's' : ''} of up to ${n(longest)} tokens fit` };
  };

  const moreDevices = (): VerdictFix | undefined => {
    for (const p of biggerLayouts(input, m)) {
      const probed = run({ ...input, count: p.tp * p.pp, parallel: p });
      if (probed.fits) {
        const devices = p.tp * p.pp;
        const how = p.tp > 1 && p.pp > 1 ? `tp ${p.tp} x pp ${p.pp}` : p.tp > 1 ? `tensor parallel ${p.tp}` : `${p.pp} devices splitting the layers`;
        return { change: 'more-devices', flag: '--count', value: devices, detail: `--count ${devices}${p.pp > 1 && p.tp > 1 ? ` --tp ${p.tp} --pp ${p.pp}` : ''} (${how}): ${gib(probed.weightBytesPerDevice)} of weights per device, KV for ${n(probed.kvCapacityTokens)} tokens` };
      }
    }
    return undefined;
  };

  // Smaller weight formats the engine runs on this device's architecture (kernels.ts): those it
  // runs with their own kernel first, then those it runs only through a slower weight-only
  // fallback (NVFP4 through Marlin on Hopper), said so; most bytes first within each.
  const lowerWeights = (): VerdictFix | undefined => {
    if (!e) return undefined;
    const current = bytesPerElement(input.weights);
    const candidates = e.supports.weights
      .map((id) => (FORMATS as Record<string, Format>)[id])
      .filter((f): f is Format => f !== undefined && bytesPerElement(f) < current && (f.scope === 'gguf') === (input.weights.scope === 'gguf') && formatKernel(e, hw, f).ok)
      .map((f) => ({ f, kernel: formatKernel(e, hw, f) }))
      .sort((a, c) => Number(isFallback(a.kernel, a.f)) - Number(isFallback(c.kernel, c.f)) || bytesPerElement(c.f) - bytesPerElement(a.f));
    for (const { f, kernel } of candidates) {
      const probed = run({ ...input, weights: f });
      const slower = isFallback(kernel, f) && kernel.ok ? ` (${hw.architecture?.id ?? hw.name} has no native ${f.compute} kernel in ${engineLabel(e)}: weight-only${kernel.via ? ` through ${kernel.via}` : ''}, 16-bit compute)` : '';
      if (probed.fits) return { change: 'lower-precision-weights', flag: '--precision', value: f.id, detail: `--precision ${f.id}${slower}: ${gib(probed.weightBytesPerDevice)} of weights per device, KV for ${n(probed.kvCapacityTokens)} tokens` };
    }
    return undefined;
  };

  const collect = (...makers: (() => VerdictFix | undefined)[]) => {
    if (!fixes) return;
    for (const make of makers) {
      const f = make();
      if (f) tried.push(f);
    }
  };
  const finish = (status: VerdictStatus, limit: Verdict['limit'], message: string): Verdict => ({ status, limit, ...(tried[0] ? { fix: tried[0] } : {}), fixes: tried, message });

  // 1. The weights leave no KV budget (or, llama.cpp, the device cannot hold weights and compute buffer).
  if (b.kvBudgetBytes <= 0) {
    const room = Math.max(0, mem.weightBytesPerDevice + b.kvRawBytes);
    collect(() => higherBudget(mem.kvNeededBytes - b.kvRawBytes), () => noGraphs(mem.kvNeededBytes - b.kvRawBytes), moreDevices, lowerWeights);
    // bytes are whole: what is needed rounds up, what is available down
    return finish('weights-do-not-fit', { name: `weights per device within ${name}'s budget`, needed: Math.ceil(mem.weightBytesPerDevice), available: Math.floor(room), unit: 'B' },
      `DOES NOT FIT (weights-do-not-fit): ${gib(mem.weightBytesPerDevice)} of weights per device leave ${name} no KV cache on ${hw.name}`);
  }
  // 2. A context past the model's maximum position.
  if (w.context > m.maxContext) {
    tried.push({ change: 'shorter-context', flag: '--context', value: m.maxContext, detail: `--context ${m.maxContext}: the model's max_position_embeddings` });
    return finish('context-exceeds-model', { name: 'context tokens', needed: w.context, available: m.maxContext, unit: 'tokens' },
      `DOES NOT FIT (context-exceeds-model): a context of ${n(w.context)} tokens is past ${m.name}'s maximum of ${n(m.maxContext)}`);
  }
  // 3. The KV budget holds fewer tokens than the batch needs (llama.cpp: the device cannot hold the n_ctx cells).
  if (!mem.fits) {
    const deficit = exact ? b.kvAllocatedBytes - b.kvBudgetBytes : mem.kvNeededBytes - b.kvBudgetBytes;
    collect(() => higherBudget(deficit), lowerKv, () => noGraphs(deficit), fewerSequences, shorterContext, moreDevices);
    const what = exact ? `${hw.name} has room for ${n(budgetTokens)} KV tokens per replica beside the weights and compute buffer` : `${name}'s KV budget (${gib(b.kvBudgetBytes)} per device) holds ${n(budgetTokens)} tokens per replica`;
    return finish('kv-budget-too-small', { name: 'KV tokens per replica', needed: neededTokens, available: budgetTokens, unit: 'tokens' },
      `DOES NOT FIT (kv-budget-too-small): ${what}; ${w.batch} x ${n(w.context)} needs ${n(neededTokens)}`);
  }
  // 4. It fits, but the scheduler runs fewer sequences at once by default.
  const queued = schedulerLimit(e, input.engineOptions ?? {}, hw, layoutOf(input).tp, batchPerScheduler(input));
  if (queued) {
    const perRank = batchPerScheduler(input);
    tried.push({ change: 'raise-scheduler-limit', flag: '--max-num-seqs', value: perRank, detail: `--max-num-seqs ${perRank}${queued.flag && queued.flag !== '--max-num-seqs' ? ` (${e!.name} ${queued.flag} ${perRank})` : ''}: all ${w.batch} sequences run at once${perRank !== w.batch ? ` (${perRank} per data-parallel rank)` : ''}` });
    return finish('over-scheduler-limit', { name: 'sequences running at once', needed: w.batch, available: queued.limit, unit: 'count' },
      `FITS IN MEMORY, QUEUES (over-scheduler-limit): ${name} runs ${queued.limit} sequences at once by default; the batch is ${w.batch}`);
  }
  const held = exact ? kvCapacity(b.kvBudgetBytes, mem.pools, block, w.context).sequences : mem.maxConcurrency;
  if (exact) {
    return finish('fits', { name: 'KV tokens per replica', needed: mem.kvCapacityTokens, available: budgetTokens, unit: 'tokens' },
      `FITS: ${name} allocates ${n(mem.kvCapacityTokens)} KV tokens (${w.batch} slot${w.batch > 1 ? 's' : ''} of ${n(w.context)}); the device${input.count > 1 ? 's have' : ' has'} room for ${n(budgetTokens)}`);
  }
  return finish('fits', { name: 'KV tokens per replica', needed: neededTokens, available: budgetTokens, unit: 'tokens' },
    `FITS: ${name} holds ${n(budgetTokens)} KV tokens per replica, ${n(held)} sequence${held === 1 ? '' : 's'} of ${n(w.context)}; the batch of ${w.batch} uses ${((100 * neededTokens) / Math.max(1, budgetTokens)).toFixed(0)}%`);
}

/**
 * The verdict of a model with no KV cache (encoders, embedders, rerankers: src/estimate/forward.ts):
 * fits when the device holds the weights, one forward pass and the runtime.
 */
export function memoryVerdict(a: { neededBytes: number; availableBytes: number; device: string; inputTokens: number; maxContext: number }): Verdict {
  if (a.inputTokens > a.maxContext) {
    const fix: VerdictFix = { change: 'shorter-context', flag: '--input-tokens', value: a.maxContext, detail: `--input-tokens ${a.maxContext}: the model's maximum position` };
    return { status: 'context-exceeds-model', limit: { name: 'input tokens', needed: a.inputTokens, available: a.maxContext, unit: 'tokens' }, fix, fixes: [fix], message: `DOES NOT FIT (context-exceeds-model): an input of ${n(a.inputTokens)} tokens is past the model's maximum of ${n(a.maxContext)}` };
  }
  const fits = a.neededBytes <= a.availableBytes;
  return {
    status: fits ? 'fits' : 'weights-do-not-fit',
    limit: { name: 'memory per device', needed: Math.ceil(a.neededBytes), available: Math.floor(a.availableBytes), unit: 'B' },
    fixes: [],
    message: fits ? `FITS: ${gib(a.neededBytes)} of ${gib(a.availableBytes)} per device` : `DOES NOT FIT (weights-do-not-fit): weights, one forward pass and the runtime need ${gib(a.neededBytes)}; ${a.device} has ${gib(a.availableBytes)}`,
  };
}
