import { UserError } from '../errors.js';
import type { EstimateInput } from '../estimate/input.js';
import { layoutProblem, type Parallel } from '../estimate/parallel.js';
import { SPECULATIVE_METHODS, type Speculative, type SpeculativeMethod } from '../estimate/speculative.js';
import type { Catalog } from './catalog.js';
import { readUserJson } from './files.js';
import { importHfConfig, type HfConfig } from './hf/index.js';
import type { ModelSpec } from './model.js';
import { bool, choice, quantity, type Named, type Raw } from './options.js';
import { findHardware, findModel } from './presets.js';
import type { EngineSpec } from './engine.js';
import { moeLayers } from '../estimate/params.js';
import type { HardwareSpec } from './hardware.js';
import { LORA_SERVING_TARGETS } from '../estimate/lora-serving.js';
import { KV_TIERS, type KvOffload, type KvOffloadTier } from '../estimate/kv-offload.js';
import { PCIE4_FALLBACK } from '../estimate/parallel.js';
import { parseQuantity } from '../units.js';

/** vLLM's default --max-lora-rank (EngineArgs max_lora_rank 16). */
const LORA_DEFAULT_RANK = { value: 16, source: 'vLLM --max-lora-rank default 16' };

/** A comma-separated list of choices: q,k,v,o. */
function listOf<T extends string>(n: Named, accepted: readonly T[]): T[] {
  const items = String(n.value).split(',').map((x) => x.trim()).filter(Boolean);
  if (!items.length) throw new UserError(`${n.where}: empty list; expected some of ${accepted.join(', ')}`);
  return [...new Set(items.map((x) => choice({ value: x, where: n.where }, accepted)))];
}

/** Tier sizes in GiB per device, or with a unit: cpu:200, nvme:2000, cpu:512GB. */
const TIER_BYTES = { min: 2 ** 20, max: 2 ** 50 };
function resolveKvOffload(n: Named, hw: HardwareSpec, warnings: string[]): KvOffload {
  const text = String(n.value).trim();
  const tiers: KvOffloadTier[] = [];
  for (const item of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    const colon = item.indexOf(':');
    if (colon < 0) throw new UserError(`${n.where}: "${item}" is not tier:size; expected cpu:<GiB> or nvme:<GiB>, e.g. cpu:200,nvme:2000`);
    const tier = choice({ value: item.slice(0, colon), where: n.where }, KV_TIERS);
    const sizeText = item.slice(colon + 1).trim();
    const size = /^[0-9.]+$/.test(sizeText) ? { ok: true as const, value: Number(sizeText) * 2 ** 30 } : parseQuantity(sizeText, 'bytes');
    if (!size.ok || !Number.isFinite(size.value) || size.value < TIER_BYTES.min || size.value > TIER_BYTES.max) throw new UserError(`${n.where}: "${sizeText}" is not a tier size from 1 MiB to 1 PiB; expected GiB per device (cpu:200) or a size with its unit (cpu:200GB)`);
    if (tiers.some((t) => t.tier === tier)) throw new UserError(`${n.where}: ${tier} given twice`);
    tiers.push({ tier: tier as KvOffloadTier['tier'], bytesPerDevice: size.value });
  }
  if (!tiers.length) throw new UserError(`${n.where}: no tier; expected cpu:<GiB> or nvme:<GiB>`);
  if (hw.kind === 'cpu') throw new UserError(`${n.where}: ${hw.name} is a CPU: its KV cache already lives in system memory`);
  let hostLink = hw.host?.link;
  if (!hostLink) {
    hostLink = PCIE4_FALLBACK;
    warnings.push(`${n.where}: ${hw.name} lists no host link; offload transfers assume ${PCIE4_FALLBACK.name}`);
  }
  return { tiers, hostLink, ...(hw.host?.memoryBytes?.value ? { hostMemoryBytes: hw.host.memoryBytes.value } : {}), source: `${n.where} ${text}` };
}

/**
 * The serving levers' flags (docs/levers.md), shared by estimate, sweep, check and spec files:
 * speculative decoding. Each is validated here, through the domains (src/inputs/domains.ts),
 * before any estimator runs.
 */
export const LEVER_KEYS = ['speculative', 'draftTokens', 'acceptance', 'acceptedLength', 'prefixTokens', 'cacheHitRate', 'loraAdapters', 'loraRank', 'loraTargets', 'kvOffload', 'gpuLayers', 'cpuMoe', 'nCpuMoe', 'hostCpu'] as const;
export type LeverKey = (typeof LEVER_KEYS)[number];

/** What the levers add to an EstimateInput. */
export type Levers = Pick<EstimateInput, 'speculative' | 'prefixCache' | 'lora' | 'kvOffload' | 'weightOffload' | 'hostCpu'>;

/**
 * Defaults where a published figure exists for the method in general: a model's MTP module
 * drafts one token per module (DeepSeek-V3: one) and its second-token acceptance is 85-90%
 * (DeepSeek-V3 technical report sec. 5.4.3; the low end is taken). The other drafters'
 * acceptance depends on the model pair and the data, so it must be given.
 */
const MTP_ACCEPTANCE = { value: 0.85, source: 'DeepSeek-V3 technical report sec. 5.4.3: acceptance of the second token predicted by MTP 85%-90% (low end)' };
/** Draft tokens when --draft-tokens is absent: SGLang's EAGLE examples use --speculative-num-steps 3 (docs advanced_features/speculative_decoding). */
const DEFAULT_DRAFT_TOKENS = { value: 3, source: "k = 3 by default (SGLang's EAGLE examples: --speculative-num-steps 3)" };

/** --speculative's value: a method, or draft:<model preset or config.json>. */
function parseMethod(n: Named): { method: SpeculativeMethod; draft?: string } {
  const text = String(n.value).trim();
  const colon = text.indexOf(':');
  if (colon >= 0 && text.slice(0, colon).toLowerCase() === 'draft') {
    const draft = text.slice(colon + 1).trim();
    if (!draft) throw new UserError(`${n.where}: draft: needs a model, e.g. draft:llama-3.2-1b or draft:./config.json`);
    return { method: 'draft', draft };
  }
  if (text.toLowerCase() === 'draft') throw new UserError(`${n.where}: name the draft model, e.g. draft:llama-3.2-1b (a preset) or draft:./config.json`);
  const accepted: string[] = [...SPECULATIVE_METHODS.filter((m) => m !== 'draft'), 'draft:<model>'];
  return { method: choice({ value: text, where: n.where }, accepted) as SpeculativeMethod };
}

/** The draft model: a preset id, or a Hugging Face config.json path. */
function draftModel(name: string, where: string, catalog: Catalog): ModelSpec {
  if (/\.json$/i.test(name)) return importHfConfig(readUserJson(name, where) as HfConfig, name).model;
  return findModel(catalog, name).model;
}

/**
 * Resolves the levers' flags for `model` on a layout. `named` gives each key's value and
 * where it came from; `warnings` collects what was assumed.
 */
export function resolveLevers(raw: Partial<Record<LeverKey, Raw>>, named: (key: LeverKey) => Named, ctx: { model: ModelSpec; catalog: Catalog; layout: Parallel; forwardOnly: boolean; inputTokens: number; hardware: HardwareSpec; engine?: EngineSpec; warnings: string[] }): Levers {
  const has = (key: LeverKey) => raw[key] !== undefined;
  const out: Levers = {};
  const given = LEVER_KEYS.filter(has);
  if (given.length && ctx.forwardOnly) throw new UserError(`${named(given[0]).where}: ${ctx.model.name} runs one forward pass per input and decodes nothing; serving levers do not apply`);

  // ---- speculative decoding ----
  const specKeys = (['draftTokens', 'acceptance', 'acceptedLength'] as const).filter(has);
  if (!has('speculative') && specKeys.length) throw new UserError(`${named(specKeys[0]).where} needs --speculative <method> (${SPECULATIVE_METHODS.filter((m) => m !== 'draft').join(', ')}, draft:<model>)`);
  if (has('speculative')) out.speculative = resolveSpeculative(raw, named, ctx);

  // ---- prefix caching ----
  if (has('prefixTokens') || has('cacheHitRate')) {
    const sources: string[] = [];
    let prefixTokens: number | undefined;
    if (has('prefixTokens')) {
      prefixTokens = quantity(named('prefixTokens'), 'tokens');
      if (prefixTokens > ctx.inputTokens) throw new UserError(`${named('prefixTokens').where}: a shared prefix of ${prefixTokens} tokens is longer than the prompt (--input-tokens ${ctx.inputTokens}); the prefix is part of the prompt`);
      sources.push(`shared prefix of ${prefixTokens} tokens (${named('prefixTokens').where})`);
    }
    const hitRate = has('cacheHitRate') ? quantity(named('cacheHitRate'), 'share') : 1;
    sources.push(has('cacheHitRate') ? `hit rate ${hitRate} (${named('cacheHitRate').where})` : 'every request finds the shared prefix cached (steady state)');
    out.prefixCache = { ...(prefixTokens !== undefined ? { prefixTokens } : {}), hitRate, source: sources.join('; ') };
  }

  // ---- multi-LoRA serving ----
  const loraKeys = (['loraAdapters', 'loraRank', 'loraTargets'] as const).filter(has);
  if (loraKeys.length && !has('loraAdapters')) throw new UserError(`${named(loraKeys[0]).where} needs --lora-adapters <n> (adapters loaded at once, vLLM --max-loras)`);
  if (has('loraAdapters')) {
    if (ctx.model.paramsOverride !== undefined) throw new UserError(`${named('loraAdapters').where}: adapter sizes need the model's architecture; --params gives only a count`);
    const adapters = quantity(named('loraAdapters'), 'adapters');
    const rank = has('loraRank') ? quantity(named('loraRank'), 'loraRank') : LORA_DEFAULT_RANK.value;
    const targets = has('loraTargets') ? listOf(named('loraTargets'), LORA_SERVING_TARGETS) : [...LORA_SERVING_TARGETS];
    out.lora = { adapters, rank, targets, source: `${adapters} adapters of rank ${rank}${has('loraRank') ? '' : ` (${LORA_DEFAULT_RANK.source})`} on ${targets.join(', ')}${has('loraTargets') ? '' : ' (every linear projection, PEFT target_modules all-linear)'}` };
  }

  // ---- KV offload tiers ----
  if (has('kvOffload')) out.kvOffload = resolveKvOffload(named('kvOffload'), ctx.hardware, ctx.warnings);

  // ---- weights beyond the GPU (llama.cpp -ngl, --cpu-moe, --n-cpu-moe) ----
  const hw = ctx.hardware;
  const offKeys = (['gpuLayers', 'cpuMoe', 'nCpuMoe'] as const).filter(has);
  let hostCpu: HardwareSpec | undefined;
  if (has('hostCpu')) {
    hostCpu = findHardware(ctx.catalog, String(raw.hostCpu));
    if (hostCpu.kind !== 'cpu') throw new UserError(`${named('hostCpu').where}: ${hostCpu.name} is not a CPU (cpu presets: llm-size presets list hardware)`);
  } else if (hw.host?.cpu.preset && (offKeys.length || ctx.engine?.id === 'llamacpp')) {
    hostCpu = findHardware(ctx.catalog, hw.host.cpu.preset);
  }
  if (hostCpu && hw.kind !== 'cpu') out.hostCpu = hostCpu;
  if (offKeys.length) {
    const where = named(offKeys[0]).where;
    if (ctx.engine?.id !== 'llamacpp') throw new UserError(`${where} is llama.cpp's: pass --engine llamacpp (the engine ${ctx.engine?.id ?? 'ideal'} keeps every weight on the device)`);
    if (hw.kind === 'cpu') throw new UserError(`${where}: ${hw.name} is a CPU; every layer already runs from system memory`);
    if (ctx.layout.tp * ctx.layout.pp > 1) throw new UserError(`${where}: offload is modelled on one GPU; drop --count / --tp / --pp`);
    if (ctx.model.paramsOverride !== undefined) throw new UserError(`${where}: the layer split needs the model's architecture; --params gives only a count`);
    if (!hostCpu) throw new UserError(`${where}: ${hw.name} names no host CPU; pass --host-cpu <cpu preset> (e.g. ryzen-9-9950x, epyc-9654)`);
    const layers = ctx.model.layers;
    const gpuLayers = has('gpuLayers') ? Math.min(quantity(named('gpuLayers'), 'gpuLayers'), layers + 1) : layers + 1;
    const moe = ctx.model.moe ? moeLayers(ctx.model) : 0;
    if ((has('cpuMoe') || has('nCpuMoe')) && !moe) throw new UserError(`${named(has('cpuMoe') ? 'cpuMoe' : 'nCpuMoe').where}: ${ctx.model.name} has no experts to keep on the CPU`);
    if (has('cpuMoe') && has('nCpuMoe')) throw new UserError('give --cpu-moe (every MoE layer\'s experts) or --n-cpu-moe <n> (the first n), not both');
    const cpuMoeLayers = has('cpuMoe') ? (bool(named('cpuMoe')) ? moe : 0) : has('nCpuMoe') ? Math.min(quantity(named('nCpuMoe'), 'gpuLayers'), moe) : 0;
    out.weightOffload = { gpuLayers, cpuMoeLayers, host: hostCpu, hostLink: hw.host?.link ?? PCIE4_FALLBACK, source: offKeys.map((k) => `${named(k).where} ${raw[k]}`).join(', ') };
    if (!hw.host?.link) ctx.warnings.push(`${where}: ${hw.name} lists no host link; prompt streaming assumes ${PCIE4_FALLBACK.name}`);
  }
  return out;
}

function resolveSpeculative(raw: Partial<Record<LeverKey, Raw>>, named: (key: LeverKey) => Named, ctx: { model: ModelSpec; catalog: Catalog; layout: Parallel; warnings: string[] }): Speculative {
  const has = (key: LeverKey) => raw[key] !== undefined;
  const where = named('speculative').where;
  const { method, draft: draftName } = parseMethod(named('speculative'));
  const m = ctx.model;
  const sources: string[] = [];
  let draft: ModelSpec | undefined;
  if (method === 'draft') {
    draft = draftModel(draftName!, where, ctx.catalog);
    if (draft.vocab !== m.vocab) ctx.warnings.push(`${where}: ${draft.name}'s vocabulary (${draft.vocab}) differs from ${m.name}'s (${m.vocab}); a draft model must share the target's tokenizer`);
    const problem = layoutProblem(draft, ctx.layout);
    if (problem) throw new UserError(`${where}: the draft model runs on the target's tensor-parallel group: ${problem}`);
  }
  if (method === 'mtp' && !m.mtpLayers) throw new UserError(`${where} mtp: ${m.name} ships no multi-token-prediction module (num_nextn_predict_layers 0); use eagle, eagle3, ngram or draft:<model>`);
  if (method === 'mtp' && m.paramsOverride !== undefined) throw new UserError(`${where} mtp: needs the model's architecture; --params gives only a count`);
  let draftTokens: number;
  if (has('draftTokens')) {
    draftTokens = quantity(named('draftTokens'), 'draftTokens');
    sources.push(`k = ${draftTokens} (${named('draftTokens').where})`);
  } else if (method === 'mtp') {
    draftTokens = m.mtpLayers!;
    sources.push(`k = ${draftTokens}: one token per MTP module of ${m.name}`);
  } else {
    draftTokens = DEFAULT_DRAFT_TOKENS.value;
    sources.push(DEFAULT_DRAFT_TOKENS.source);
  }
  if (has('acceptance') && has('acceptedLength')) throw new UserError('give --acceptance (per-token acceptance) or --accepted-length (mean tokens per step), not both');
  let acceptance: number | undefined;
  let acceptedLength: number | undefined;
  if (has('acceptedLength')) {
    acceptedLength = quantity(named('acceptedLength'), 'acceptedLength');
    if (acceptedLength > draftTokens + 1) throw new UserError(`${named('acceptedLength').where}: ${acceptedLength} is more than the ${draftTokens + 1} tokens a step of ${draftTokens} draft tokens can yield; raise --draft-tokens`);
    sources.push(`L = ${acceptedLength} (${named('acceptedLength').where})`);
  } else if (has('acceptance')) {
    acceptance = quantity(named('acceptance'), 'acceptance');
    sources.push(`a = ${acceptance} (${named('acceptance').where})`);
  } else if (method === 'mtp') {
    acceptance = MTP_ACCEPTANCE.value;
    sources.push(MTP_ACCEPTANCE.source);
    ctx.warnings.push(`${where} mtp: per-token acceptance ${MTP_ACCEPTANCE.value} assumed (DeepSeek-V3 report); pass --acceptance or --accepted-length (vLLM logs "Mean acceptance length") for your data`);
  } else {
    throw new UserError(`${where} ${method}: give --acceptance <a> (per-token acceptance, 0-1) or --accepted-length <L> (mean tokens per target step, as vLLM logs "Mean acceptance length"); it depends on the model pair and the data`);
  }
  return { method, ...(draft ? { draft } : {}), draftTokens, ...(acceptance !== undefined ? { acceptance } : {}), ...(acceptedLength !== undefined ? { acceptedLength } : {}), source: sources.join('; ') };
}
