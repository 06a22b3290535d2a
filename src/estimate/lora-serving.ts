import type { ModelSpec } from '../inputs/model.js';
import { bytesPerElement } from '../inputs/precision.js';
import type { EstimateInput } from './input.js';
import type { LeverMemory } from './memory.js';
import type { PhaseWork, StepModel } from './step.js';
import { term, type Figures } from './terms.js';

/**
 * Multi-LoRA serving (Punica: Chen et al. 2023; S-LoRA: Sheng et al. 2023; vLLM --enable-lora):
 * many low-rank adapters on one base model. An adapter of rank r on a matrix d_in -> d_out adds
 * A (r x d_in) and B (d_out x r): r x (d_in + d_out) parameters (Hu et al. 2021), and per token
 * 2 x r x (d_in + d_out) FLOPs (shrink x A, expand x B).
 */
export const LORA_SERVING_TARGETS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type LoraServingTarget = (typeof LORA_SERVING_TARGETS)[number];

export interface LoraServing {
  /** adapters loaded on the GPU at once (vLLM --max-loras) */
  adapters: number;
  /** adapter rank (vLLM pre-allocates --max-lora-rank; taken as this rank) */
  rank: number;
  targets: LoraServingTarget[];
  source: string;
}

/**
 * The measured cost of the LoRA kernels beyond their arithmetic (gathers, launches, tiles a
 * rank-16 product leaves mostly empty), as a share of the base step: the median of published
 * slowdowns, with their range as the band. Throughput slowdowns with one or more adapters
 * against the base model: LoRAX PR #464 (SGMV decode 52 vs 61 tokens/s: 15%); vLLM PR #15655
 * (Llama-3.1-8B, TPU v6e: 8.4-23.9%); vLLM issue #10062 (Llama-2-7B rank 64 on A100: 28 s vs
 * 35 s for 96 prompts: 25%); Punica issue #27 (Yi-34B rank 32 on all projections: 60%).
 */
export const LORA_KERNEL_OVERHEAD = { value: 0.2, low: 0.08, high: 0.6, source: 'median of published multi-LoRA slowdowns against the base model: LoRAX PR #464 (15%), vLLM PR #15655 (Llama-3.1-8B on TPU v6e, 8.4-23.9%), vLLM issue #10062 (Llama-2-7B rank 64 on A100, 25%), punica-ai/punica issue #27 (Yi-34B rank 32, 60%); band 8%-60%' };

/** (d_in, d_out) of each targetable matrix of one layer; MoE layers adapt their shared dense width only. */
function matrixShapes(m: ModelSpec): Record<LoraServingTarget, [number, number]> {
  const h = m.hidden;
  const q = m.heads * m.headDim;
  const kv = m.kvHeads * m.headDim;
  const f = m.ffn;
  return { q: [h, q], k: [h, kv], v: [h, kv], o: [q, h], gate: [h, f], up: [h, f], down: [f, h] };
}

/** r x (d_in + d_out) summed over the targeted matrices of every layer: one adapter's parameters. */
export function adapterParams(m: ModelSpec, rank: number, targets: readonly LoraServingTarget[]): number {
  const shapes = matrixShapes(m);
  const mlp = m.gatedMlp ? targets : targets.filter((t) => t !== 'gate');
  return m.layers * mlp.reduce((a, t) => a + rank * (shapes[t][0] + shapes[t][1]), 0);
}

/**
 * lora.* figures and the adapters' memory: one adapter's bytes at its targets, the engine's
 * pre-allocation (vLLM allocates max_loras x max_lora_rank stacked A/B buffers for every
 * LoRA-capable module of every layer, whatever the adapters target: vllm/lora/layers
 * create_lora_weights), and the extra FLOPs per token.
 */
export function loraFigures(fig: Figures, input: EstimateInput, tp: number): LeverMemory | undefined {
  const l = input.lora;
  if (!l) return undefined;
  const m = input.model;
  const bytes = bytesPerElement(input.activations);
  const params = adapterParams(m, l.rank, l.targets);
  term(fig, { id: 'lora.adapterBytes', label: `One adapter (rank ${l.rank} on ${l.targets.join(', ')})`, unit: 'B', value: params * bytes, formula: 'layers x sum over targeted matrices of rank x (d_in + d_out) x bytes', inputs: { layers: m.layers, rank: l.rank, targets: l.targets.join(','), bytes }, source: `Hu et al. 2021 (LoRA): A is r x d_in, B is d_out x r; ${l.source}` });
  const all = adapterParams(m, l.rank, LORA_SERVING_TARGETS);
  const prealloc = term(fig, { id: 'memory.lora', label: `LoRA slots (${l.adapters} x rank ${l.rank}, pre-allocated)`, unit: 'B', value: l.adapters * all * bytes, formula: 'max_loras x layers x sum over every LoRA-capable matrix (q, k, v, o, gate, up, down) of max_lora_rank x (d_in + d_out) x bytes', inputs: { maxLoras: l.adapters, maxLoraRank: l.rank, layers: m.layers, bytes }, source: 'vLLM LoRA layers pre-allocate lora_a_stacked / lora_b_stacked of max_loras x max_lora_rank for every packed module at start-up (vllm/lora/layers/base_linear.py create_lora_weights), out of the KV budget' });
  term(fig, { id: 'memory.perDevice.lora', label: 'LoRA slots per device', unit: 'B', value: prealloc / tp, formula: 'memory.lora / tp (A and B sharded with their base matrices)', inputs: { tp }, source: 'vLLM column/row-parallel LoRA layers shard the adapters like the base weights' });
  term(fig, { id: 'lora.flopsPerToken', label: 'Extra FLOPs per token (shrink + expand)', unit: 'FLOP', value: 2 * params, formula: '2 x adapter parameters (x A then x B for every targeted matrix)', inputs: { adapterParams: params }, source: 'Punica (Chen et al. 2023) sec. 4: SGMV shrink and expand' });
  return { totalParts: ['memory.lora'], perDeviceParts: ['memory.perDevice.lora'], fixedBytesPerDevice: prealloc / tp, kvBytesPerTokenPerDevice: 0, kvBytesPerSequencePerDevice: () => 0 };
}

/**
 * lora.prefill and lora.decode: the adapters' own work through the step model's roofline (their
 * FLOPs, and the bytes of the distinct adapters a step reads) plus the measured kernel overhead
 * (LORA_KERNEL_OVERHEAD x the base phase), with the overhead's band. Returns the two seconds.
 */
export function loraLatencyFigures(fig: Figures, input: EstimateInput, step: StepModel, work: { prefill: PhaseWork; decode: PhaseWork }, base: { prefill: number; decode: number }): { prefill: number; decode: number } {
  const l = input.lora!;
  const flopsPerToken = fig['lora.flopsPerToken'].value;
  const adapterBytes = fig['lora.adapterBytes'].value;
  const w = input.workload;
  const k = LORA_KERNEL_OVERHEAD;
  const phase = (name: 'prefill' | 'decode', label: string, tokens: number, sequences: number, baseSeconds: number) => {
    // a step reads each distinct adapter its sequences use once (at most one per sequence)
    const adapters = Math.min(l.adapters, sequences);
    const t = step.phase({ tokens, flops: tokens * flopsPerToken, bytes: adapters * adapterBytes });
    const value = t.rooflineSeconds + k.value * baseSeconds;
    term(fig, { id: `lora.${name}`, label: `${label}: LoRA adapters`, unit: 's', value, formula: 'roofline of the adapters (tokens x lora.flopsPerToken; distinct adapters x lora.adapterBytes) + kernelOverhead x base phase', inputs: { tokens, adaptersRead: adapters, roofline: t.rooflineSeconds, kernelOverhead: k.value, basePhaseSeconds: baseSeconds }, source: `Punica (Chen et al. 2023) SGMV / BGMV; ${k.source}` });
    const f = fig[`lora.${name}`];
    f.low = t.rooflineSeconds + k.low * baseSeconds;
    f.high = t.rooflineSeconds + k.high * baseSeconds;
    return value;
  };
  const prefillSequences = input.load ? 1 : w.batch;
  return {
    prefill: phase('prefill', 'Prefill', work.prefill.tokens, prefillSequences, base.prefill),
    decode: phase('decode', 'Decode step', work.decode.tokens, w.batch, base.decode),
  };
}
