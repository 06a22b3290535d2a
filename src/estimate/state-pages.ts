/**
 * How vLLM V1 pages the recurrent state of a hybrid model (attention + Mamba / linear attention)
 * in its one KV pool, per device (vllm/model_executor/models/config.py
 * HybridAttentionMambaModelConfig.verify_and_update_config, v0.11.0 .. v0.12; vllm/v1/core
 * kv_cache_utils.py uniform page size groups):
 *
 * - every layer's page has one size: an attention page is blockTokens x (K and V of one token of
 *   one layer); a Mamba layer keeps its whole state for a request in one page;
 * - the attention block is raised to the smallest multiple of the kernel alignment (16 tokens,
 *   MLA 64) whose page holds a Mamba layer's state: blockTokens = 16 x cdiv(statePage, 16 x
 *   attnPage1Token), unless --block-size is larger ("Setting attention block size to N tokens to
 *   ensure that attention page size is >= mamba page size");
 * - the state page is then padded up to the attention page ("Padding mamba page size by x% ...").
 *
 * So a sequence holds stateLayers whole pages of blockTokens x attnPage1Token bytes, and its KV
 * is counted in whole blocks of the raised size. Capacity computed from the unpadded state and
 * 16-token blocks is optimistic; this is what the engine allocates.
 *
 * @example Qwen3-Next-80B-A3B on one device, bf16: attention page per token per layer 2 x 2 x 256
 *   x 2 = 2048 B; Gated DeltaNet state per layer (8192 x 3 + 32 x 128 x 128) x 2 = 1,097,728 B;
 *   blockTokens = 16 x cdiv(1097728, 32768) = 544; page 544 x 2048 = 1,114,112 B (1.49% padding);
 *   state per sequence 36 x 1,114,112 = 40,108,032 B
 */
export interface StatePages {
  /** the attention block size the engine runs with, tokens */
  blockTokens: number;
  /** one layer's page, bytes */
  pageBytes: number;
  /** one sequence's state as paged: stateLayers x pageBytes */
  stateBytesPerSequence: number;
  /** (page - statePage) / statePage */
  padding: number;
}

export function pagedState(a: {
  /** the largest state of one layer for one sequence on this device, bytes (MambaSpec page_size_bytes) */
  statePageBytes: number;
  /** layers holding state on this device */
  stateLayers: number;
  /** K and V bytes of one token of one attention layer on this device (FullAttentionSpec(block_size=1).page_size_bytes); 0 for a model without attention */
  attnBytesPerTokenPerLayer: number;
  /** the kernel's block alignment, tokens (16; MLA 64) */
  alignTokens: number;
  /** --block-size, if given */
  requestedBlockTokens?: number;
  /** the profile's block size, used when nothing needs raising */
  defaultBlockTokens: number;
}): StatePages {
  const { statePageBytes, stateLayers, attnBytesPerTokenPerLayer: attn, alignTokens: align } = a;
  // A model without attention layers (Mamba-2) has state pages only: nothing to match.
  if (attn <= 0 || statePageBytes <= 0) return { blockTokens: a.requestedBlockTokens ?? a.defaultBlockTokens, pageBytes: statePageBytes, stateBytesPerSequence: stateLayers * statePageBytes, padding: 0 };
  const needed = align * Math.ceil(statePageBytes / (align * attn));
  const blockTokens = Math.max(a.requestedBlockTokens ?? 0, needed);
  const pageBytes = blockTokens * attn;
  return { blockTokens, pageBytes, stateBytesPerSequence: stateLayers * pageBytes, padding: (pageBytes - statePageBytes) / statePageBytes };
}
