import type { EstimateInput } from './input.js';
import { term, type Figures } from './terms.js';

/**
 * Prefix caching (vLLM automatic prefix caching, SGLang RadixAttention: Zheng et al. 2024):
 * prompt tokens whose KV is already in the cache are not prefilled again. A shared prefix (a
 * system prompt, a RAG context: --prefix-tokens P) is stored once per replica and referenced
 * by every sequence's block table; --cache-hit-rate h is the share of those tokens (or, without
 * P, of the whole prompt: vLLM's "prefix cache hit rate" is a token share) found cached.
 *
 * Engines cache whole KV blocks (vLLM hashes full blocks only, v1/core/kv_cache_utils.py
 * hash_request_tokens) and always compute at least the last prompt token, whose logits start
 * the generation (vLLM get_computed_blocks caps a full hit at prompt_len - 1).
 */
export interface PrefixCache {
  /** prompt tokens shared by every request, stored once per replica; absent = not shared (per-request hits) */
  prefixTokens?: number;
  /** share of the prefix (or, without one, of the prompt) found in the cache */
  hitRate: number;
  /** where P and h came from */
  source: string;
}

/** Tokens per KV block of the engine as launched (--block-size, else its profile; 1 for token-granular engines and the bare balance). */
export const blockTokensOf = (input: Pick<EstimateInput, 'engine' | 'engineOptions'>): number => input.engineOptions?.blockSize ?? input.engine?.kvCache.blockTokens.value ?? 1;

/**
 * Prompt tokens of each request served from the cache: whole blocks of h x (P or the prompt),
 * at most the prompt less the one token engines recompute.
 * @example P 30,000 of a 32,000-token prompt, h 1, blocks of 16: floor(30000 / 16) x 16 = 30,000
 */
export function cachedPromptTokens(input: Pick<EstimateInput, 'prefixCache' | 'engine' | 'engineOptions' | 'workload'>): number {
  const p = input.prefixCache;
  if (!p) return 0;
  const block = blockTokensOf(input);
  const eligible = Math.min(p.prefixTokens ?? input.workload.inputTokens, input.workload.inputTokens);
  const hit = Math.floor((p.hitRate * eligible) / block) * block;
  return Math.max(0, Math.min(hit, input.workload.inputTokens - 1));
}

/** Tokens of the shared prefix stored once per replica (whole blocks); 0 without --prefix-tokens. */
export function sharedPrefixTokens(input: Pick<EstimateInput, 'prefixCache' | 'engine' | 'engineOptions' | 'workload'>): number {
  const p = input.prefixCache;
  if (!p || p.prefixTokens === undefined) return 0;
  const block = blockTokensOf(input);
  return Math.floor(Math.min(p.prefixTokens, input.workload.context) / block) * block;
}

/** prefix.* figures: cached and computed prompt tokens per request and the share served from the cache. */
export function prefixFigures(fig: Figures, input: EstimateInput): { cached: number; uncached: number } | undefined {
  const p = input.prefixCache;
  if (!p) return undefined;
  const w = input.workload;
  const block = blockTokensOf(input);
  const cached = cachedPromptTokens(input);
  const source = `${p.source}; whole KV blocks of ${block} tokens, the last prompt token always computed (vLLM v1 KVCacheManager.get_computed_blocks; SGLang RadixAttention, Zheng et al. 2024)`;
  term(fig, { id: 'prefix.cachedTokens', label: 'Prompt tokens served from the prefix cache', unit: 'tokens', value: cached, formula: 'min(floor(hitRate x (prefixTokens or inputTokens) / blockTokens) x blockTokens, inputTokens - 1)', inputs: { hitRate: p.hitRate, prefixTokens: p.prefixTokens ?? 0, inputTokens: w.inputTokens, blockTokens: block }, source });
  const uncached = term(fig, { id: 'prefix.uncachedTokens', label: 'Prompt tokens prefilled', unit: 'tokens', value: w.inputTokens - cached, formula: 'inputTokens - prefix.cachedTokens', inputs: { inputTokens: w.inputTokens, cached }, source: 'prefill runs on the tokens the cache does not hold' });
  term(fig, { id: 'prefix.hitShare', label: 'Share of prompt tokens from the cache', unit: 'fraction', value: cached / w.inputTokens, formula: 'prefix.cachedTokens / inputTokens', inputs: { cached, inputTokens: w.inputTokens }, source: 'token-level hit rate, as vLLM reports "Prefix cache hit rate"' });
  return { cached, uncached };
}
