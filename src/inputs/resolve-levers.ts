import { UserError } from '../errors.js';
import type { EstimateInput } from '../estimate/input.js';
import { layoutProblem, type Parallel } from '../estimate/parallel.js';
import { SPECULATIVE_METHODS, type Speculative, type SpeculativeMethod } from '../estimate/speculative.js';
import type { Catalog } from './catalog.js';
import { readUserJson } from './files.js';
import { importHfConfig, type HfConfig } from './hf/index.js';
import type { ModelSpec } from './model.js';
import { choice, quantity, type Named, type Raw } from './options.js';
import { findModel } from './presets.js';

/**
 * The serving levers' flags (docs/levers.md), shared by estimate, sweep, check and spec files:
 * speculative decoding. Each is validated here, through the domains (src/inputs/domains.ts),
 * before any estimator runs.
 */
export const LEVER_KEYS = ['speculative', 'draftTokens', 'acceptance', 'acceptedLength', 'prefixTokens', 'cacheHitRate'] as const;
export type LeverKey = (typeof LEVER_KEYS)[number];

/** What the levers add to an EstimateInput. */
export type Levers = Pick<EstimateInput, 'speculative' | 'prefixCache'>;

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
export function resolveLevers(raw: Partial<Record<LeverKey, Raw>>, named: (key: LeverKey) => Named, ctx: { model: ModelSpec; catalog: Catalog; layout: Parallel; forwardOnly: boolean; inputTokens: number; warnings: string[] }): Levers {
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
