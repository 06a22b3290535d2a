import type { ModelSpec } from '../inputs/model.js';
import { bytesPerElement, type Format } from '../inputs/precision.js';
import { CALIBRATION } from './calibration.js';
import type { EfficiencyParams } from './efficiency.js';
import { decodeStepFlops, tokenFlops } from './flops.js';
import type { EstimateInput } from './input.js';
import { kvBytesPerSequence, kvBytesPerToken, kvBytesPerTokenPerLayer, kvLayerTokens, type LeverMemory } from './memory.js';
import { kvHeadShare } from './parallel.js';
import { expertParams, mlpParams, moeLayers, mtpGroups, paramsFigures } from './params.js';
import { expertsTouched, stepModel, type PhaseWork, type StepModel, type StepModelArgs } from './step.js';
import { sum, term, type Figures } from './terms.js';
import { weightLayout, weightParts } from './weights.js';

/**
 * Speculative decoding (Leviathan et al. 2023, "Fast Inference from Transformers via Speculative
 * Decoding"; Chen et al. 2023): a cheap drafter proposes k tokens per sequence, the target
 * model verifies all k + 1 positions in one forward pass and keeps the longest accepted prefix
 * plus one token of its own. With a per-token acceptance a (independent positions), the tokens
 * a step yields are
 *
 *   tokensPerStep = (1 - a^(k+1)) / (1 - a)            (Leviathan et al. 2023, eq. 1)
 *
 * or the mean accepted length L engines log ("Mean acceptance length", vLLM SpecDecoding
 * metrics; SGLang "accept len"). One step costs the target's verification pass over
 * batch x (k + 1) tokens plus the drafter's k passes, both through the step model (step.ts),
 * so when the verification turns compute-bound at a large batch the gain shrinks and reverses.
 */

export const SPECULATIVE_METHODS = ['draft', 'eagle', 'eagle3', 'mtp', 'ngram'] as const;
export type SpeculativeMethod = (typeof SPECULATIVE_METHODS)[number];

/** Speculative decoding as resolved from --speculative, --draft-tokens, --acceptance / --accepted-length. */
export interface Speculative {
  method: SpeculativeMethod;
  /** the draft model (method draft) */
  draft?: ModelSpec;
  /** tokens proposed per sequence per step (k) */
  draftTokens: number;
  /** per-token acceptance a in [0, 1], or the mean tokens per target step L: exactly one */
  acceptance?: number;
  acceptedLength?: number;
  /** where k and the acceptance came from, for the figures' sources */
  source: string;
}

/**
 * Tokens one target step yields: L as given, else (1 - a^(k+1)) / (1 - a) (k + 1 at a = 1).
 * @example tokensPerStep({ draftTokens: 3, acceptance: 0.8 }) // (1 - 0.8^4) / 0.2 = 2.952
 */
export function tokensPerStep(s: Pick<Speculative, 'draftTokens' | 'acceptance' | 'acceptedLength'>): number {
  if (s.acceptedLength !== undefined) return s.acceptedLength;
  const a = s.acceptance ?? 0;
  const k = s.draftTokens;
  return a >= 1 ? k + 1 : (1 - Math.pow(a, k + 1)) / (1 - a);
}

/**
 * EAGLE-3 drafters predict over a reduced vocabulary (draft_vocab_size 32000 in the released
 * EAGLE-3 heads, e.g. yuhuili/EAGLE3-LLaMA3.1-Instruct-8B config.json; d2t maps it back).
 */
export const EAGLE3_DRAFT_VOCAB = 32_000;

/** What one drafter is: the weights it keeps, the KV it caches, and one drafting pass as step work. */
export interface Drafter {
  label: string;
  /** weight bytes of the drafter, whole replica (0 for n-gram lookup) */
  weightBytes: number;
  /** KV bytes one token adds to the drafter's cache, whole replica */
  kvBytesPerToken: number;
  /** decoder layers one pass runs (kernel launches, all-reduces) */
  layers: number;
  /** MoE layers one pass runs (expert-parallel all-to-all) */
  moeLayers: number;
  /** the work of one pass over `sequences` sequences at `context` tokens each; undefined = no device work */
  passWork?: (sequences: number, context: number) => PhaseWork;
  /** seconds of one pass with its own step model (draft model): roofline + communication */
  passSeconds?: (sequences: number, context: number, params?: EfficiencyParams) => number;
  source: string;
}

/** Parameters of one decoder layer of the target's shape with a dense MLP of the model's width. */
function denseLayerParams(m: ModelSpec, inputWidth = m.hidden): number {
  const q = m.heads * m.headDim;
  const kv = m.kvHeads * m.headDim;
  return inputWidth * (q + 2 * kv) + q * m.hidden + mlpParams(m, m.ffn, false) + 2 * m.hidden;
}

/** KV bytes per token of one attention layer of the target's shape. */
const oneLayerKv = (m: ModelSpec, kv: Format): number => 2 * m.kvHeads * m.headDim * bytesPerElement(kv);

/**
 * The drafter of each method, sized on the target model:
 *  - draft:<model>: a whole smaller model with its own step model and KV cache;
 *  - eagle (EAGLE-1, Li et al. 2024): fc (2h -> h) + one decoder layer; the target's embedding
 *    and output head are shared (vLLM llama_eagle.py loads no lm_head of its own);
 *  - eagle3 (Li et al. 2025): fc (3h -> h) + one decoder layer whose q/k/v take 2h inputs +
 *    its own head over EAGLE3_DRAFT_VOCAB (vLLM llama_eagle3.py);
 *  - mtp: the model's own multi-token-prediction modules (DeepSeek-V3 report sec. 2.2; vLLM
 *    deepseek_mtp.py), weights as stored (params.ts mtpGroups), the head shared or copied;
 *  - ngram (prompt lookup, Saxena 2023; vLLM NgramProposer on the CPU): no weights, no device work.
 * Heads run in the activation type (the released heads are bf16).
 */
export function drafterOf(s: Speculative, input: EstimateInput, args?: StepModelArgs): Drafter {
  const { model: m, activations, kv } = input;
  const act = bytesPerElement(activations);
  const h = m.hidden;
  const kvOne = oneLayerKv(m, kv);
  // the timing closures need the step model's arguments; sizes (memory.ts) do not
  const tf = () => args!.flops.perToken;
  // a head drafter: `params` read per pass (the output head included), `stored` kept in memory
  const head = (label: string, stored: number, read: number, flopsParams: number, source: string): Drafter => ({
    label, weightBytes: stored * act, kvBytesPerToken: kvOne, layers: 1, moeLayers: 0, source,
    passWork: (sequences, context) => ({ tokens: sequences, flops: 2 * sequences * flopsParams + sequences * 4 * m.heads * m.headDim * context, bytes: read * act + sequences * context * kvOne }),
  });
  switch (s.method) {
    case 'ngram':
      return { label: 'n-gram lookup', weightBytes: 0, kvBytesPerToken: 0, layers: 0, moeLayers: 0, source: 'prompt lookup decoding (Saxena 2023); vLLM NgramProposer matches n-grams of the prompt on the CPU: no weights, no device pass' };
    case 'eagle': {
      const layer = denseLayerParams(m);
      const lmHead = m.vocab * h;
      return head('EAGLE head', 2 * h * h + layer, 2 * h * h + layer + lmHead, 2 * h * h + layer + lmHead, 'EAGLE (Li et al. 2024, ICML) sec. 4: fc over [embedding; feature] (2h -> h) + one decoder layer; target embedding and lm_head shared (vLLM model_executor/models/llama_eagle.py)');
    }
    case 'eagle3': {
      const layer = denseLayerParams(m, 2 * h);
      const lmHead = EAGLE3_DRAFT_VOCAB * h;
      return head('EAGLE-3 head', 3 * h * h + layer + lmHead, 3 * h * h + layer + lmHead, 3 * h * h + layer + lmHead, `EAGLE-3 (Li et al. 2025) sec. 3: fc over three target layers' features (3h -> h), one decoder layer with 2h-wide q/k/v inputs, its own head over a ${EAGLE3_DRAFT_VOCAB}-token draft vocabulary (vLLM llama_eagle3.py; EAGLE-3 checkpoints' draft_vocab_size)`);
    }
    case 'mtp': {
      const modules = m.mtpLayers ?? 1;
      const parts = weightParts(m, mtpGroups(m), input.weights, activations);
      const bytesOf = (keep: (p: (typeof parts)[number]) => boolean) => parts.filter(keep).reduce((a, p) => a + p.bytes, 0) / modules;
      const stored = parts.reduce((a, p) => a + p.bytes, 0);
      const perModule = stored / modules;
      const expertBytes = bytesOf((p) => p.group.block === 'experts');
      const embeddingBytes = bytesOf((p) => p.group.kind === 'embedding');
      // a module that shares the model's head (Qwen3-Next) reads it too
      const sharesHead = m.mtpSharesEmbeddings === true && !m.tiedEmbeddings;
      const sharedHeadBytes = sharesHead ? m.vocab * h * bytesPerElement(input.weights) : 0;
      // parameters in matrix products per token: the module less its embedding copy and idle experts, plus a shared head
      const moduleParams = mtpGroups(m).reduce((a, g) => a + g.params * Math.max(1, g.layerIndices.length), 0) / modules;
      const routed = m.moe ? m.moe.experts * expertParams(m) : 0;
      const active = m.moe ? m.moe.topK * expertParams(m) : 0;
      const flopsParams = moduleParams - routed + active - (m.mtpSharesEmbeddings ? 0 : m.vocab * h) + (sharesHead ? m.vocab * h : 0);
      const kvPerToken = kvBytesPerTokenPerLayer(m, kv);
      return {
        label: `MTP module${modules > 1 ? 's' : ''}`,
        weightBytes: stored, kvBytesPerToken: kvPerToken * modules, layers: 1, moeLayers: m.moe ? 1 : 0,
        source: 'DeepSeek-V3 technical report sec. 2.2 (MTP modules: eh_proj, one decoder layer, shared embedding and head); vLLM deepseek_mtp.py / qwen3_next_mtp.py run one module per drafted token',
        passWork: (sequences, context) => {
          const idle = m.moe ? expertBytes * (1 - expertsTouched(m.moe.experts, m.moe.topK, sequences) / m.moe.experts) : 0;
          return { tokens: sequences, flops: 2 * sequences * flopsParams + sequences * tf().attentionDecode * context, bytes: perModule - embeddingBytes - idle + sharedHeadBytes + sequences * context * kvPerToken };
        },
      };
    }
    case 'draft': {
      const d = s.draft!;
      const p = paramsFigures({}, d);
      const tensors = d.paramsOverride === undefined ? weightLayout(d, input.weights, activations) : undefined;
      const weightBytes = tensors ? tensors.total : p.total * bytesPerElement(input.weights);
      const draftInput: EstimateInput = { ...input, model: d, speculative: undefined };
      let draftStep: StepModel | undefined;
      const calibration = args?.calibration ?? CALIBRATION;
      return {
        label: `draft model ${d.name}`,
        weightBytes, kvBytesPerToken: kvBytesPerToken(d, kv), layers: d.layers, moeLayers: d.moe ? moeLayers(d) : 0,
        source: `draft-model speculation (Leviathan et al. 2023; vLLM speculative_config method draft_model): ${d.name} runs k decode passes with its own weights and KV cache on the target's devices; step model as the target's (${calibration.source})`,
        passSeconds: (sequences, context, params) => {
          draftStep ??= stepModel({ ...args!, input: draftInput, weightBytes, totalParams: p.total, flops: { perToken: tokenFlops(d, p.active, p.embedding) }, tensors });
          return draftStep.phaseSeconds(draftStep.decodeWork(sequences, sequences * kvLayerTokens(d, context)), params);
        },
      };
    }
  }
}

/** A drafting method's timing at one batch: verification, drafting and overhead, seconds. */
export interface SpeculativeStepTime {
  /** roofline + communication of the verification pass */
  verifySeconds: number;
  verifyBound: 'compute' | 'memory';
  /** the verification's compute and memory times, which its roofline combines (efficiency.ts rooflineSeconds) */
  verifyComputeSeconds: number;
  verifyMemorySeconds: number;
  /** k drafting passes */
  draftSeconds: number;
  /** fixed cost: the target step's overhead + the drafter's kernel launches per pass */
  overheadSeconds: number;
  tokensPerStep: number;
}

/** The deployment's speculative decoding, prepared once per step model. */
export interface SpeculativeModel {
  spec: Speculative;
  drafter: Drafter;
  tokensPerStep: number;
  /**
   * one speculative step of `sequences` sequences at `context` tokens (the mean context of the
   * generation), under the calibration the step model was built with or under `params` (the
   * calibration fit re-times it, scripts/accuracy-lib.ts)
   */
  step: (sequences: number, context: number, params?: EfficiencyParams) => SpeculativeStepTime;
}

/**
 * Adds the speculative step to a deployment's step model (or returns it unchanged without
 * --speculative). The verification pass is the target's decode step with k + 1 query tokens
 * per sequence: every linear layer over batch x (k + 1) tokens, each query attending the
 * sequence's context, the weights (and the experts those tokens touch) and each sequence's KV
 * read once. A drafting pass of a head drafter runs through the same roofline at its own
 * size, with the all-reduces of its layers.
 */
export function withSpeculation(step: StepModel, args: StepModelArgs): StepModel & { speculative?: SpeculativeModel } {
  const s = args.input.speculative;
  if (!s) return step;
  const { input, calibration = CALIBRATION } = args;
  const m = input.model;
  const drafter = drafterOf(s, input, args);
  const tf = args.flops.perToken;
  const k = s.draftTokens;
  const tau = tokensPerStep(s);
  const speculative: SpeculativeModel = {
    spec: s,
    drafter,
    tokensPerStep: tau,
    step: (sequences, context, params = calibration.params) => {
      const kvLt = sequences * kvLayerTokens(m, context);
      const tokens = sequences * (k + 1);
      const verify = step.phase({ tokens, flops: decodeStepFlops(tf, tokens, (k + 1) * kvLt), bytes: step.decodeBytes(tokens, kvLt) }, params);
      let pass = 0;
      if (drafter.passSeconds) pass = drafter.passSeconds(sequences, context, params);
      else if (drafter.passWork) {
        const t = step.phase(drafter.passWork(sequences, context), params);
        // the drafter's own all-reduces (2 per layer) and all-to-alls, at the same message size
        const perAllReduce = t.allReduces > 0 ? t.commTpSeconds / t.allReduces : 0;
        const perMoeLayer = step.moeLayers > 0 ? t.commEpSeconds / step.moeLayers : 0;
        pass = t.rooflineSeconds + 2 * drafter.layers * perAllReduce + drafter.moeLayers * perMoeLayer;
      }
      return {
        verifySeconds: verify.rooflineSeconds + verify.dequantizeSeconds + verify.scoresSeconds + verify.commTpSeconds + verify.commEpSeconds + verify.commPpSeconds,
        verifyBound: verify.bound,
        verifyComputeSeconds: verify.computeSeconds,
        verifyMemorySeconds: verify.memorySeconds,
        draftSeconds: k * pass,
        overheadSeconds: step.overheadFor(params) + k * params.layerOverheadSeconds * drafter.layers,
        tokensPerStep: tau,
      };
    },
  };
  return { ...step, speculative };
}

/**
 * memory.speculative.weights and memory.speculative.kvCache (whole replica) and their share on
 * one device: engines load the drafter beside the target and give it KV blocks from the same
 * pool (vLLM V1: the draft layers' KV specs join the target's in one KV cache config).
 */
export function drafterMemoryFigures(fig: Figures, input: EstimateInput, tp: number): LeverMemory | undefined {
  const s = input.speculative;
  if (!s) return undefined;
  const d = drafterOf(s, input);
  const w = input.workload;
  const kvModel = s.draft ?? input.model;
  const share = kvHeadShare(kvModel, tp);
  const perSequence = (context: number) => (s.draft ? kvBytesPerSequence(s.draft, input.kv, context) : d.kvBytesPerToken * context);
  term(fig, { id: 'memory.speculative.weights', label: `Drafter weights (${d.label})`, unit: 'B', value: d.weightBytes, formula: s.method === 'draft' ? 'the draft model\'s weights at the weight format' : s.method === 'mtp' ? 'the MTP modules as stored (params.mtp at the weight format)' : s.method === 'ngram' ? '0 (no model)' : 'head parameters x activation bytes', inputs: { method: s.method }, source: d.source });
  term(fig, { id: 'memory.speculative.kvCache', label: 'Drafter KV cache', unit: 'B', value: w.batch * perSequence(w.context), formula: 'batch x drafter KV per sequence at the context', inputs: { batch: w.batch, context: w.context, kvBytesPerToken: d.kvBytesPerToken }, source: `${d.source}; vLLM V1 allocates the drafter's KV from the same pool as the target's` });
  term(fig, { id: 'memory.perDevice.speculative', label: 'Drafter weights and KV per device', unit: 'B', value: d.weightBytes / tp + w.batch * perSequence(w.context) * share, formula: 'drafter weights / tp + drafter KV x KV-head share', inputs: { tp, kvHeadShare: share }, source: 'the drafter runs on the target\'s tensor-parallel group (vLLM draft_tensor_parallel_size = tp)' });
  return { totalParts: ['memory.speculative.weights', 'memory.speculative.kvCache'], perDeviceParts: ['memory.perDevice.speculative'], fixedBytesPerDevice: d.weightBytes / tp, kvBytesPerTokenPerDevice: d.kvBytesPerToken * share, kvBytesPerSequencePerDevice: (context) => perSequence(context) * share };
}

/**
 * One speculative step's seconds and the time per output token, as plain numbers summed in the
 * order speculativeFigures sums its figures (sum() adds parts left to right from 0), so
 * latency.ts latencySeconds equals the figures to the last bit.
 */
export function speculativeSeconds(sm: SpeculativeModel, sequences: number, context: number, params?: EfficiencyParams): { time: SpeculativeStepTime; stepSeconds: number; perToken: number } {
  const time = sm.step(sequences, context, params);
  const stepSeconds = 0 + time.verifySeconds + time.draftSeconds + time.overheadSeconds;
  return { time, stepSeconds, perToken: stepSeconds / time.tokensPerStep };
}

/**
 * speculative.* figures of one step at `sequences` sequences and the generation's mean
 * context: tokens per step, the verification pass, the k drafting passes, the step's fixed
 * cost, their sum, and the time per output token (the step over the tokens it yields).
 */
export function speculativeFigures(fig: Figures, sm: SpeculativeModel, sequences: number, context: number): { stepSeconds: number; perToken: number; bound: 'compute' | 'memory' } {
  const { spec: s, drafter: d } = sm;
  const { time } = speculativeSeconds(sm, sequences, context);
  const k = s.draftTokens;
  const tau = term(fig, {
    id: 'speculative.tokensPerStep', label: 'Tokens per target step (accepted + 1)', unit: 'tokens/step', value: time.tokensPerStep,
    formula: s.acceptedLength !== undefined ? '--accepted-length' : '(1 - a^(k+1)) / (1 - a)',
    inputs: { method: s.method, draftTokens: k, ...(s.acceptance !== undefined ? { acceptance: s.acceptance } : { acceptedLength: s.acceptedLength! }) },
    source: s.acceptedLength !== undefined ? `${s.source}; mean tokens per step as engines log it (vLLM "Mean acceptance length", SGLang "accept len")` : `Leviathan et al. 2023 eq. 1 (i.i.d. per-token acceptance); ${s.source}`,
  });
  term(fig, { id: 'speculative.verify', label: `Verification pass (${sequences} x ${k + 1} tokens, ${time.verifyBound}-bound)`, unit: 's', value: time.verifySeconds, formula: 'roofline + communication of the target over batch x (k + 1) tokens: each query attends its sequence\'s context, weights and KV read once', inputs: { batch: sequences, draftTokens: k, tokens: sequences * (k + 1), meanContext: context, bound: time.verifyBound, computeSeconds: time.verifyComputeSeconds, memorySeconds: time.verifyMemorySeconds }, source: 'Leviathan et al. 2023 sec. 3 (the target scores k + 1 positions in one pass); step model (src/estimate/step.ts)' });
  term(fig, { id: 'speculative.draft', label: `Drafting (${k} passes of ${d.label})`, unit: 's', value: time.draftSeconds, formula: d.passWork || d.passSeconds ? 'k x (roofline + communication of one drafter pass over batch tokens)' : '0 (no device work)', inputs: { draftTokens: k, drafter: d.label, layers: d.layers }, source: d.source });
  term(fig, { id: 'speculative.overhead', label: 'Fixed step cost (target step + drafter launches)', unit: 's', value: time.overheadSeconds, formula: 'hostStep + layerOverhead x layers + kernelSeconds x extraLaunches + k x layerOverhead x drafterLayers', inputs: { draftTokens: k, drafterLayers: d.layers }, source: 'calibrated overheads (src/estimate/efficiency.ts): each drafting pass launches its layers\' kernels' });
  const stepSeconds = sum(fig, { id: 'speculative.stepSeconds', label: 'One speculative step', unit: 's', parts: ['speculative.verify', 'speculative.draft', 'speculative.overhead'], source: 'verification + drafting + fixed cost' });
  const perToken = term(fig, { id: 'speculative.perToken', label: 'Speculative step per output token', unit: 's', value: stepSeconds / tau, formula: 'speculative.stepSeconds / speculative.tokensPerStep', inputs: { stepSeconds, tokensPerStep: tau }, source: 'each step yields tokensPerStep tokens per sequence' });
  return { stepSeconds, perToken, bound: time.verifyBound };
}
