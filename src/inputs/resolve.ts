import { didYouMean, UserError } from '../errors.js';
import { bracketsTooDeep, MAX_DEPTH, readUserFile, readUserJson, YAML_OPTIONS, yamlProblems, yamlValue } from './files.js';
import { modelProblem } from './domains.js';
import type { EstimateInput, ImageWorkload } from '../estimate/input.js';
import { imageTokens } from '../estimate/images.js';
import type { Catalog } from './catalog.js';
import { importHfConfig, type HfConfig } from './hf/index.js';
import { assumeShape, describeShape, isForwardOnly, makeModel, type ModelSpec } from './model.js';
import { paramsFigures } from '../estimate/params.js';
import { bool, choice, fraction, paramCount, positiveInt, positiveNumber, quantity, type Named, type Raw } from './options.js';
import type { HubConfig } from './hub.js';
import { activationFormat, FORMAT_NAMES_HELP, formatByName, FORMATS, KV_FORMAT_IDS, type Format } from './precision.js';
import { layoutProblem, placementProblem, type Parallel } from '../estimate/parallel.js';
import { ALL_TO_ALL_MODES } from '../estimate/expert-parallel.js';
import { pruneModel, pruningProblem, sparse24, SPARSITY_PATTERNS, type StructuredPruning } from '../estimate/pruning.js';
import { parseQuantity, toGiB } from '../units.js';
import { findHardware, findModel, findRegion } from './presets.js';
import { chooseEngine, findEngine, whyNot } from './engine-choice.js';
import type { EngineSpec } from './engine.js';
import type { EngineOptions } from '../estimate/engine.js';
import { DEFAULT_PUE, type Carbon } from '../estimate/carbon.js';
import { OWNED_DEFAULT_HOSTING_USD_PER_KW_MONTH, OWNED_DEFAULT_PUE, OWNED_DEFAULT_USD_PER_KWH, type OwnedSettings } from '../estimate/owned.js';
import { parsePriceOption, priceFor, type PriceChoice, type PriceOverride } from './price.js';
import { grouped } from '../format/human.js';
import { PRICE_KINDS, type HardwareSpec } from './hardware.js';
import { resolveLengths, type Trace } from './traffic.js';
import { LEVER_KEYS, resolveLevers } from './resolve-levers.js';

/**
 * Engine launch options (flags, spec-file and check-file keys): the engine's memory fraction
 * (--mem-fraction-static is the same knob under SGLang's name), the profiling / step token budget,
 * the scheduler's sequence limit, CUDA graphs off, KV block size, and llama.cpp's split mode.
 */
export const ENGINE_OPTION_KEYS = ['gpuMemoryUtilization', 'memFractionStatic', 'maxNumBatchedTokens', 'maxNumSeqs', 'enforceEager', 'blockSize', 'splitMode', 'maxMambaCacheSize', 'mambaFullMemoryRatio', 'numSchedulerSteps'] as const;
export const SPLIT_MODES = ['layer', 'row'] as const;

/**
 * argv / spec file -> EstimateInput. Flags and spec-file keys are the same names (camelCase in
 * files, kebab-case on the command line); flags override the file.
 */
export const ESTIMATE_KEYS = [
  'model', 'params', 'hfConfig', 'hf', 'offline',
  'layers', 'hidden', 'heads', 'kvHeads', 'headDim', 'ffn', 'vocab', 'tiedEmbeddings',
  'precision', 'kvPrecision',
  'batch', 'inputTokens', 'outputTokens', 'context', 'workload', 'images', 'imageSize', 'allowBeyondTrained',
  'gpu', 'count', 'price', 'mfu', 'mbu',
  'tp', 'pp', 'ep', 'replicas', 'gpusPerNode', 'nodes', 'dpAttention', 'redundantExperts', 'expertImbalance', 'allToAll', 'prefillWorkers', 'decodeWorkers', 'engine', 'concurrency', 'qps',
  'provider', 'priceKind', 'amortizeYears', 'powerWatts', 'usdPerKwh', 'hostingUsdPerKwMonth', 'gridGco2PerKwh', 'region', 'pue', 'memory', 'sparsity', 'prune',
  ...LEVER_KEYS,
  ...ENGINE_OPTION_KEYS,
] as const;
export type EstimateKey = (typeof ESTIMATE_KEYS)[number];
export type RawOptions = Partial<Record<EstimateKey, Raw>>;

const ARCH_KEYS = ['layers', 'hidden', 'heads', 'kvHeads', 'headDim', 'ffn', 'vocab', 'tiedEmbeddings'] as const;
export const DEFAULT_GPU = 'h100-sxm';
export const DEFAULTS = { batch: 1, inputTokens: 1024, outputTokens: 256 } as const;
/**
 * Forward-only models (embedding, reranking) default to the batch an embedding server fills:
 * Hugging Face text-embeddings-inference --max-batch-tokens 16384 = 32 sequences of 512 tokens.
 */
export const FORWARD_DEFAULTS = { batch: 32, inputTokens: 512 } as const;

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (key: string): string => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Reads a spec file (YAML or JSON) into raw options, rejecting keys outside `keys` (the
 * command's options: ESTIMATE_KEYS, TRAIN_KEYS, PLAN_KEYS) with a suggestion.
 */
export async function readSpecFile<K extends string = EstimateKey>(file: string, keys: readonly K[] = ESTIMATE_KEYS as unknown as readonly K[]): Promise<Partial<Record<K, Raw>>> {
  const text = readUserFile(file, '--spec');
  if (bracketsTooDeep(text)) throw new UserError(`${file}: not valid YAML or JSON: nested more than ${MAX_DEPTH} levels deep`);
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(text, YAML_OPTIONS);
  const problem = yamlProblems(doc)[0];
  if (problem) throw new UserError(`${file}: not valid YAML or JSON: ${problem.message}`);
  const built = yamlValue(doc);
  if (!built.ok) throw new UserError(`${file}: not valid YAML or JSON: ${built.message}`);
  const data = built.value;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UserError(`${file}: expected a mapping of fields such as model, gpu, batch`);
  const out: Partial<Record<K, Raw>> = {};
  for (const [rawKey, value] of Object.entries(data)) {
    if (rawKey === '$schema') continue; // editors' pointer to `llm-size schema spec`
    const key = camel(rawKey);
    if (!(keys as readonly string[]).includes(key)) {
      throw new UserError(`${file}: unknown field "${rawKey}"${didYouMean(key, keys)} (accepted: ${keys.join(', ')})`);
    }
    if (value !== null && typeof value === 'object') throw new UserError(`${file}: field "${rawKey}" must be a single value, got ${JSON.stringify(value)}`);
    out[key as K] = value as Raw;
  }
  return out;
}

/**
 * The one async step before resolving, shared by every command that takes a model (estimate,
 * train, plan, check, sweep) and by the library: when `hf` names a Hub repo, fetch its
 * config.json (src/inputs/hub.ts, loaded only then); the resolver then reads it like a preset.
 */
export async function fetchHubFor(raw: { hf?: Raw; offline?: Raw }, origins: { hf?: string }, env: Record<string, string | undefined>): Promise<HubConfig | undefined> {
  if (raw.hf === undefined) return undefined;
  const { fetchHubConfig } = await import('./hub.js');
  return fetchHubConfig(String(raw.hf), { env, offline: raw.offline !== undefined && bool({ value: raw.offline, where: (origins as { offline?: string }).offline ?? '--offline' }), where: origins.hf ?? '--hf' });
}

/** ModelSpec fields the architecture flags set, for messages. */
const ARCH_FIELDS: Partial<Record<string, EstimateKey>> = { layers: 'layers', hidden: 'hidden', heads: 'heads', kvHeads: 'kvHeads', headDim: 'headDim', ffn: 'ffn', vocab: 'vocab' };

/**
 * --params: the count, and the Llama-like shape assumed for it (src/inputs/model.ts). A count
 * smaller than that shape's embedding, output head and one layer cannot have that shape: the
 * figures would go negative, so it is bad input naming the smallest count and the way out.
 */
function assumedShapeFor(n: Named): ModelSpec {
  const params = paramCount(n);
  const model = assumeShape(params);
  const shape = paramsFigures({}, { ...model, paramsOverride: undefined, layers: 1 });
  if (params < shape.total) {
    throw new UserError(`${n.where}: ${typeof n.value === 'string' ? n.value.trim() : n.value} is smaller than the smallest shape this tool assumes for a bare parameter count (${describeShape({ ...model, layers: 1 })}: ${shape.total} parameters); give the architecture instead (--hf-config, --hf, or --layers --hidden --heads --ffn --vocab)`);
  }
  const problem = modelProblem(model, (field) => `the shape assumed for ${n.where} ${params}: ${field}`);
  if (problem) throw new UserError(problem);
  return model;
}

/** Where a value came from, for error messages. */
export type Origins = Partial<Record<EstimateKey, string>>;

export interface Resolved {
  input: EstimateInput;
  warnings: string[];
  /** trace files read for the lengths, by path (their arrival times serve --arrival trace) */
  traces: Map<string, Trace>;
}

/** --image-size: "1024x768" (width x height in pixels). */
function imageSize(n: Named): { width: number; height: number } {
  const m = /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(String(n.value));
  const width = m ? Number(m[1]) : NaN;
  const height = m ? Number(m[2]) : NaN;
  if (!m || width < 1 || height < 1 || width > 65536 || height > 65536) throw new UserError(`${n.where}: "${String(n.value)}" is not an image size; give width x height in pixels, e.g. 1024x768 (1 to 65536 each)`);
  return { width, height };
}

/** --images N --image-size WxH -> the images of one request and their tokens, or undefined. */
function resolveImages(model: ModelSpec, raw: RawOptions, named: (key: EstimateKey) => Named, has: (key: EstimateKey) => boolean): ImageWorkload | undefined {
  if (!has('images') && !has('imageSize')) return undefined;
  if (!has('images')) throw new UserError(`${named('imageSize').where}: give --images <n> too (how many images each request carries)`);
  const count = positiveInt(named('images'), 'images');
  if (!model.vision) throw new UserError(`${named('images').where}: ${model.name} has no vision encoder this tool models (image inputs are read for Llama 4, Qwen2.5-VL and Gemma 3 vision configs)`);
  const size = has('imageSize') ? imageSize(named('imageSize')) : model.vision.kind === 'fixed' ? { width: model.vision.image, height: model.vision.image } : undefined;
  if (!size) throw new UserError(`${named('images').where}: give --image-size <width>x<height> too: ${model.name} turns an image into tokens by its size`);
  return { count, ...size, perImage: imageTokens(model.vision, size.width, size.height) };
}

/**
 * Warns when the context relies on rope_scaling past the native window, and refuses one past the
 * window the model was trained for (max_position_embeddings, or the scaled window) unless
 * --allow-beyond-trained. Shapes the user made up (--params, architecture flags) only warn.
 */
function contextProblems(m: ModelSpec, context: number, allow: boolean, where: string, warnings: string[]): void {
  const rope = m.ropeScaling;
  if (context > m.maxContext) {
    const known = m.family !== 'custom' && m.family !== 'params-only';
    const why = rope ? ` (native ${rope.originalContext} tokens, rope_scaling ${rope.type} x${rope.factor})` : ' (max_position_embeddings)';
    if (known && !allow) throw new UserError(`${where}: a context of ${context} tokens is beyond the ${m.maxContext} ${m.name} was trained for${why}; pass --allow-beyond-trained to size it anyway`);
    return;
  }
  if (rope && context > rope.originalContext) warnings.push(`context ${context} is beyond ${m.name}'s native window of ${rope.originalContext} tokens: it relies on rope_scaling ${rope.type} (factor ${rope.factor}, up to ${m.maxContext} tokens)`);
}

/**
 * Resolves raw options against a catalog into an EstimateInput. `hub` is the config.json that
 * --hf names, fetched beforehand (src/inputs/hub.ts fetchHubConfig), since fetching is async.
 */
export function resolveEstimate(raw: RawOptions, origins: Origins, catalog: Catalog, hub?: HubConfig): Resolved {
  const named = (key: EstimateKey): Named => ({ value: raw[key], where: origins[key] ?? `--${kebab(key)}` });
  const has = (key: EstimateKey) => raw[key] !== undefined;
  const warnings: string[] = [];
  // A disaggregated deployment (two pools) is resolved by resolve-disagg.ts, for estimate and check.
  for (const key of ['prefillWorkers', 'decodeWorkers'] as const) {
    if (has(key)) throw new UserError(`${named(key).where}: this command sizes one pool of replicas; a disaggregated deployment (--prefill-workers with --decode-workers) is evaluated by llm-size estimate and check, and searched by plan --disaggregated`);
  }

  // --offline is read by the Hub step before resolving; here it is only checked, so that a value
  // no flag could mean is refused even without --hf
  if (has('offline')) bool(named('offline'));
  // Model: exactly one of preset, parameter count, config file, architecture flags.
  const archGiven = ARCH_KEYS.filter(has);
  const sources = [has('model') && '--model', has('params') && '--params', has('hfConfig') && '--hf-config', has('hf') && '--hf', archGiven.length > 0 && 'architecture flags'].filter(Boolean);
  if (sources.length === 0) throw new UserError('no model given: pass --model <preset>, --params <count>, --hf-config <config.json>, --hf <org/name> or the architecture flags (--layers --hidden --heads --ffn --vocab)');
  if (sources.length > 1) throw new UserError(`give the model one way only, got ${sources.join(' and ')}`);
  let model: ModelSpec;
  if (has('model')) {
    const preset = findModel(catalog, String(raw.model));
    model = preset.model;
  } else if (has('params')) {
    model = assumedShapeFor(named('params'));
  } else if (has('hfConfig')) {
    const file = String(raw.hfConfig);
    const imported = importHfConfig(readUserJson(file, named('hfConfig').where) as HfConfig, file);
    model = imported.model;
    warnings.push(...imported.warnings);
  } else if (has('hf')) {
    if (!hub) throw new UserError(`${named('hf').where}: config.json not fetched yet; fetch it first (library: estimate(options, { hub: await fetchHub(options, { env: process.env }) })), or pass --hf-config <file>`);
    if (String(raw.hf).trim().split('@')[0] !== hub.repo) throw new UserError(`${named('hf').where}: "${raw.hf}" does not match the fetched config.json of ${hub.repo}`);
    const imported = importHfConfig(hub.config, `${hub.repo}@${hub.revision} config.json`, hub.repo, hub.repo);
    model = imported.model;
    warnings.push(...hub.warnings, ...imported.warnings);
  } else {
    for (const key of ['layers', 'hidden', 'heads', 'ffn', 'vocab'] as const) {
      if (!has(key)) throw new UserError(`architecture flags need --${kebab(key)} too (required: --layers --hidden --heads --ffn --vocab)`);
    }
    const heads = positiveInt(named('heads'), 'heads');
    const hidden = positiveInt(named('hidden'), 'hidden');
    model = makeModel({
      layers: positiveInt(named('layers'), 'layers'),
      hidden,
      heads,
      kvHeads: has('kvHeads') ? positiveInt(named('kvHeads'), 'heads') : heads,
      headDim: has('headDim') ? positiveInt(named('headDim'), 'headDim') : hidden / heads,
      ffn: positiveInt(named('ffn'), 'ffn'),
      vocab: positiveInt(named('vocab'), 'vocab'),
      tiedEmbeddings: has('tiedEmbeddings') ? bool(named('tiedEmbeddings')) : false,
    });
    if (!Number.isInteger(model.headDim)) throw new UserError(`--hidden ${hidden} is not divisible by --heads ${heads}; pass --head-dim`);
    if (heads % model.kvHeads !== 0) throw new UserError(`--kv-heads ${model.kvHeads} must divide --heads ${heads}`);
    const problem = modelProblem(model, (field) => (ARCH_FIELDS[field] ? named(ARCH_FIELDS[field]!).where : `the architecture's ${field}`));
    if (problem) throw new UserError(problem);
  }

  // Precision
  // Weights: --precision, else the checkpoint's own quantization_config (gpt-oss MXFP4,
  // DeepSeek-V3 FP8 blocks), else bf16.
  let weights: Format = FORMATS.bf16;
  if (has('precision')) {
    const n = named('precision');
    const found = formatByName(String(n.value));
    if (!found) throw new UserError(`${n.where}: unknown value "${n.value}"${didYouMean(String(n.value).toLowerCase(), FORMAT_NAMES_HELP)} (accepted: ${FORMAT_NAMES_HELP.join(', ')})`);
    weights = found;
  } else if (model.quantization) {
    weights = formatByName(model.quantization) ?? FORMATS.bf16;
  }
  const activations = activationFormat(weights);
  // Pruning (src/estimate/pruning.ts): a structurally pruned model and/or 2:4 sparse weights,
  // the unpruned model and weights kept as the baseline shown beside them.
  const baseline = { model, weights };
  const structured = has('prune') ? parsePrune(named('prune')) : undefined;
  if (structured) {
    const problem = pruningProblem(model, structured);
    if (problem) throw new UserError(problem);
    model = pruneModel(model, structured);
  }
  const sparsity = has('sparsity') ? choice(named('sparsity'), SPARSITY_PATTERNS) : undefined;
  if (sparsity) {
    if (weights.scope === 'gguf') throw new UserError(`${named('sparsity').where} 2:4 with ${weights.id}: llama.cpp GGUF files have no 2:4 sparse layout; pick a safetensors format (bf16, fp8, int8, gptq-int4)`);
    weights = sparse24(weights);
  }
  const pruning = structured || sparsity ? { ...(sparsity ? { sparsity } : {}), ...(structured ? { structured } : {}), baseline } : undefined;
  const kvAsked: Format = has('kvPrecision') ? FORMATS[choice(named('kvPrecision'), KV_FORMAT_IDS)] : activations;

  // Workload: fixed lengths, or distributions whose mean request the figures are for (traffic.ts).
  const forwardOnly = isForwardOnly(model);
  const defaults = forwardOnly ? { ...DEFAULTS, ...FORWARD_DEFAULTS, inputTokens: Math.min(FORWARD_DEFAULTS.inputTokens, model.maxContext) } : DEFAULTS;
  const batch = has('batch') ? positiveInt(named('batch'), 'batch') : defaults.batch;
  const lengths = resolveLengths(raw, named, defaults);
  const { traffic, traces } = lengths;
  let inputTokensWithImages = lengths.inputTokens;
  const inputTokens = lengths.inputTokens;
  let { outputTokens } = lengths;
  warnings.push(...lengths.warnings);
  let context = has('context') ? positiveInt(named('context'), 'tokens') : inputTokens + outputTokens;
  if (context < inputTokens) throw new UserError(`${named('context').where} ${context} is shorter than ${named('inputTokens').where} ${inputTokens}; the KV cache must hold the prompt`);
  // --context sizes the KV cache, not the prompt: raised (or swept) with the prompt left at its
  // default, TTFT and prefill stay those of the default prompt; say which flag sets it. One
  // text whatever the context, so a sweep prints it once.
  if (!forwardOnly && context > inputTokens + outputTokens && !has('inputTokens') && !has('workload')) {
    warnings.push(`--context sets the tokens the KV cache holds per sequence, not the prompt: the prompt is still ${inputTokens} tokens (TTFT and prefill are for it); --input-tokens sets the prompt length`);
  }
  // Images (--images, --image-size): prompt tokens by the model's own processor rules (src/estimate/images.ts).
  const images = resolveImages(model, raw, named, has);
  if (images) {
    const added = images.count * images.perImage.tokens;
    inputTokensWithImages += added;
    if (!has('context') || context < inputTokensWithImages) context += added;
  }
  // Context extension (config.json rope_scaling): beyond the native window works through the
  // scaling (say so); beyond the scaled window the model was never trained (exit 2 unless asked).
  // Encoders check their input length against their positions below.
  // the flags that set what overflowed: --context, else the prompt and output lengths (rag: the retrieved prompt)
  if (!forwardOnly) contextProblems(model, context, has('allowBeyondTrained') && bool(named('allowBeyondTrained')), has('context') ? named('context').where : !has('inputTokens') && !has('outputTokens') && has('workload') ? named('workload').where : `${named('inputTokens').where} + ${named('outputTokens').where}`, warnings);
  if (forwardOnly) {
    // Encoders, embedders and rerankers run one forward pass per input: nothing to decode.
    const ignored = (['outputTokens', 'context'] as const).filter(has).map((k) => named(k).where);
    if (ignored.length) warnings.push(`${ignored.join(' and ')} ignored: ${model.name} produces ${model.task === 'rerank' ? 'a score' : 'a vector'} in one forward pass and decodes nothing`);
    for (const key of ['tp', 'pp', 'ep', 'nodes', 'concurrency', 'qps'] as const) {
      if (has(key)) throw new UserError(`${named(key).where}: ${model.name} is ${model.task === 'rerank' ? 'a reranker' : 'an embedding model'} served one copy per device; its throughput is throughput.sequencesPerSecond at --batch and --input-tokens (drop ${named(key).where})`);
    }
    if (has('count') && Number(raw.count) !== 1) throw new UserError(`${named('count').where}: ${model.name} is served one copy per device; give --count 1 (the throughput is per device)`);
    // A learned position table cannot be run past its last row (engines truncate the input).
    if (model.learnedPositions > 0 && inputTokens > model.maxContext) throw new UserError(`${named('inputTokens').where}: ${inputTokens} tokens exceeds ${model.name}'s ${model.maxContext} positions (max_position_embeddings); its engines truncate longer inputs`);
    outputTokens = 0;
    context = inputTokens;
  }

  // Hardware
  if (!has('gpu')) warnings.push(`no --gpu given; using ${DEFAULT_GPU}`);
  const preset = findHardware(catalog, has('gpu') ? String(raw.gpu) : DEFAULT_GPU);
  const hardware = has('memory') ? withMemory(preset, named('memory'), warnings) : preset;
  // Engine (presets/engines): the user's --engine (pinned with @version), else the default for
  // this hardware and weight format (src/inputs/engine-choice.ts), saying why.
  const requestedEngine = has('engine') ? { name: String(raw.engine), where: named('engine').where } : undefined;
  // --engine llama.cpp on a checkpoint it cannot load whose GGUF it does (gpt-oss): that GGUF
  if (requestedEngine && weights.ggufFile && !has('precision') && !pruning) {
    const asked = findEngine(catalog, requestedEngine.name, requestedEngine.where);
    const gguf = formatByName(weights.ggufFile);
    if (gguf && whyNot(asked, hardware, weights, kvAsked) && !whyNot(asked, hardware, gguf, kvAsked)) {
      warnings.push(`${asked.name} ${asked.version} loads ${model.name} as the GGUF its ${weights.id} checkpoint converts to, ${gguf.id}: the weights are sized as that file (${gguf.label})`);
      weights = gguf;
    }
  }
  let engineChoice = chooseEngine(catalog, hardware, weights, kvAsked, requestedEngine);
  // No engine runs the checkpoint's own format here, but one runs the GGUF it converts to (gpt-oss
  // MXFP4 on a T4: llama.cpp's mxfp4_moe): without --precision that GGUF is the default, said in
  // a warning; with --precision the warning names it.
  const gguf = engineChoice.warning && weights.ggufFile ? formatByName(weights.ggufFile) : undefined;
  const ggufChoice = gguf ? chooseEngine(catalog, hardware, gguf, kvAsked) : undefined;
  if (gguf && ggufChoice && !ggufChoice.warning) {
    const runs = `${ggufChoice.engine.name} ${ggufChoice.engine.version} runs the GGUF it converts to, ${gguf.id}`;
    if (!has('precision') && !pruning) {
      warnings.push(`no engine profile runs ${model.name}'s ${weights.id} checkpoint on ${hardware.name}; ${runs}, so the weights are sized as that file (${gguf.label}; --precision ${weights.id} sizes the checkpoint on the bare memory balance)`);
      weights = gguf;
      engineChoice = ggufChoice;
    } else warnings.push(`${engineChoice.warning}; ${runs}: --precision ${gguf.id}`);
  } else if (engineChoice.warning) warnings.push(engineChoice.warning);
  const engine = engineChoice.engine;
  // Without --kv-precision the cache takes the engine's own default type (llama.cpp: f16 whatever
  // the weights), else the activation type (vLLM kv_cache_dtype auto = the model's dtype).
  const engineKv = engine.kvCache.defaultType ? FORMATS[engine.kvCache.defaultType.value as keyof typeof FORMATS] : undefined;
  const kv: Format = !has('kvPrecision') && engineKv ? engineKv : kvAsked;
  const engineOptions = resolveEngineOptions(named, has, engine);
  // Parallel layout (src/estimate/parallel.ts): --tp, --pp, --ep, --replicas; --count alone is
  // tensor parallelism, or, for an engine that splits layers across devices (llama.cpp
  // --split-mode layer, its default), that many pipeline stages run one after another; with
  // --tp/--pp it must equal the devices the layout uses; --nodes gives the devices per replica
  // as whole nodes (--gpus-per-node, else the profile's).
  const splitMode = has('splitMode') ? choice(named('splitMode'), SPLIT_MODES) : undefined;
  const layerSplit = engine.multiDevice.default === 'layer' && splitMode !== 'row';
  if (layerSplit && has('tp') && positiveInt(named('tp'), 'devices') > 1) throw new UserError(`${named('tp').where}: ${engine.name} splits layers across devices (--split-mode layer, its default); give --count, or --split-mode row to split each matrix (tensor parallelism)`);
  const layout = resolveLayout(model, hardware, named, has, layerSplit);
  const { tp, pp, replicas, gpusPerNode } = layout;
  const count = tp * pp;
  // A replica the engine runs and the hardware holds (parallel.ts placementProblem): an engine's
  // own limit is bad input; a replica past a node of hardware that lists no link between nodes is
  // sized over the node's link, with a warning.
  if (count > 1) {
    const problem = placementProblem(hardware, { tp, pp }, engine, gpusPerNode);
    const engineBound = problem !== undefined && problem !== placementProblem(hardware, { tp, pp }, undefined, gpusPerNode);
    if (engineBound) throw new UserError(`${has('count') ? named('count').where : has('pp') ? named('pp').where : named('tp').where} ${count}: ${problem}`);
    if (problem) warnings.push(`${problem}; communication across them is taken at the node's link (${hardware.intraNode?.name ?? 'none listed'})`);
  }
  const engineReason = count > 1 && engine.multiDevice.modes.includes('layer')
    ? `${engineChoice.reason}; ${layerSplit ? `--split-mode layer over ${count} devices: each holds a block of layers and a token runs through them one device after another` : `--split-mode row over ${count} devices (tensor parallelism)`}`
    : engineChoice.reason;
  // Load: --concurrency (requests in flight across replicas) or --qps (solved to a concurrency
  // by Little's law in estimate()); either replaces the static --batch.
  if (has('concurrency') && has('qps')) throw new UserError('give --concurrency or --qps, not both');
  if ((has('concurrency') || has('qps')) && has('batch')) throw new UserError('--batch is a static batch; with --concurrency or --qps the batch per replica follows from the load');
  const concurrency = has('concurrency') ? positiveInt(named('concurrency'), 'concurrency') : undefined;
  const qps = has('qps') ? positiveNumber(named('qps'), 'qps') : undefined;
  const load = concurrency !== undefined || qps !== undefined ? { concurrency, qps, replicasGiven: has('replicas') } : undefined;
  const loadBatch = concurrency !== undefined ? Math.ceil(concurrency / replicas) : qps !== undefined ? 1 : batch;
  const { price, warning: priceWarning } = resolvePrice(raw, origins, catalog, hardware);
  if (priceWarning) warnings.push(priceWarning);

  const carbon = resolveCarbon(raw, origins, catalog);
  // Serving levers (docs/levers.md): speculative decoding ...
  const levers = resolveLevers(raw, named, { model, catalog, layout: layout.parallel, forwardOnly, inputTokens, hardware, engine, warnings });
  if (!carbon && has('pue') && !price?.owned) warnings.push('--pue scales the carbon figures, which need a grid intensity: pass --region <id> or --grid-gco2-per-kwh <g>');

  return {
    input: {
      model,
      weights,
      kv,
      activations,
      workload: { batch: loadBatch, inputTokens: inputTokensWithImages, outputTokens, context },
      ...(images ? { images } : {}),
      hardware,
      count,
      parallel: layout.parallel,
      gpusPerNode,
      ...(layout.expertParallel ? { expertParallel: layout.expertParallel } : {}),
      engine,
      engineOptions,
      engineReason,
      load,
      price,
      mfu: has('mfu') ? fraction(named('mfu')) : undefined,
      mbu: has('mbu') ? fraction(named('mbu')) : undefined,
      powerWatts: has('powerWatts') ? positiveNumber(named('powerWatts'), 'watts') : undefined,
      usdPerKwh: has('usdPerKwh') ? positiveNumber(named('usdPerKwh'), 'usdPerKwh') : undefined,
      carbon,
      ...(traffic ? { traffic } : {}),
      ...(pruning ? { pruning } : {}),
      ...levers,
    },
    warnings,
    traces,
  };
}

/**
 * The parallel layout of a replica from --tp, --pp, --ep, --replicas, --count, --nodes and
 * --gpus-per-node, with expert placement (--redundant-experts) and how expert parallelism runs
 * (--all-to-all, --expert-imbalance); exit 2 with the engines' reason for a layout they refuse.
 */
function resolveLayout(model: ModelSpec, hardware: HardwareSpec, named: (key: EstimateKey) => Named, has: (key: EstimateKey) => boolean, layerSplit: boolean) {
  const countGiven = has('count') ? positiveInt(named('count'), 'devices') : undefined;
  const gpusPerNode = has('gpusPerNode') ? positiveInt(named('gpusPerNode'), 'devices') : undefined;
  const nodes = has('nodes') ? positiveInt(named('nodes'), 'devices') : undefined;
  const nodeDevices = nodes !== undefined ? nodes * (gpusPerNode ?? hardware.devicesPerNode) : undefined;
  if (countGiven !== undefined && nodeDevices !== undefined && countGiven !== nodeDevices) throw new UserError(`${named('count').where} ${countGiven} and ${named('nodes').where} ${nodes}: ${nodes} node(s) of ${gpusPerNode ?? hardware.devicesPerNode} devices hold ${nodeDevices}; give one of them`);
  const devices = countGiven ?? nodeDevices;
  let pp = has('pp') ? positiveInt(named('pp'), 'devices') : 1;
  let tp = has('tp') ? positiveInt(named('tp'), 'devices') : devices !== undefined ? devices / pp : 1;
  if (layerSplit && devices !== undefined && !has('pp')) {
    pp = devices;
    tp = 1;
  }
  if (!Number.isInteger(tp)) throw new UserError(`${countGiven !== undefined ? `--count ${countGiven}` : `--nodes ${nodes} (${devices} devices)`} is not a multiple of --pp ${pp}; devices per replica = tp x pp`);
  const ep = has('ep') ? positiveInt(named('ep'), 'devices') : 1;
  const replicas = has('replicas') ? positiveInt(named('replicas'), 'devices') : 1;
  // --dp-attention [groups]: attention data parallel over the tp ranks, one group per rank by
  // default (SGLang --enable-dp-attention --dp <tp>), or groups of tp / groups ranks.
  let dpAttention = 1;
  if (has('dpAttention')) {
    const n = named('dpAttention');
    if (n.value === true || n.value === 'true') dpAttention = tp;
    else if (n.value === false || n.value === 'false') dpAttention = 1;
    else dpAttention = positiveInt(n, 'devices');
    if (tp % dpAttention !== 0) throw new UserError(`${n.where} ${dpAttention} does not divide --tp ${tp} (attention groups split the tensor-parallel ranks evenly)`);
  }
  // --ep beyond --tp: ep / tp groups of tp ranks share the experts (vLLM --data-parallel-size with
  // --enable-expert-parallel: EP = DP x TP); the replica is then ep devices wide.
  let groupTp = tp;
  if (ep > tp) {
    if (ep % tp !== 0) throw new UserError(`--ep ${ep} is neither a divisor nor a multiple of --tp ${tp} (expert parallelism spans the tensor-parallel ranks, or ep / tp attention groups of them)`);
    dpAttention *= ep / tp;
    groupTp = ep;
  }
  if (devices !== undefined && devices !== groupTp * pp) throw new UserError(`${countGiven !== undefined ? `--count ${countGiven}` : `--nodes ${nodes} (${devices} devices)`}: the layout uses ${groupTp !== tp ? `--ep ${ep} = ${groupTp / tp} attention groups of tp ${tp}` : `tp ${tp}`} x pp ${pp} = ${groupTp * pp} devices per replica; drop it or make it ${groupTp * pp}`);
  const redundantExperts = has('redundantExperts') ? quantity(named('redundantExperts'), 'redundantExperts') : 0;
  if (redundantExperts > 0 && (!model.moe || ep <= 1)) throw new UserError(`${named('redundantExperts').where} ${redundantExperts}: redundant experts are copies placed across expert-parallel ranks; ${model.moe ? 'give --ep > 1 too' : `${model.name} has no experts`}`);
  const parallel: Parallel = { tp: groupTp, pp, ep, replicas, ...(redundantExperts > 0 ? { redundantExperts } : {}), ...(dpAttention > 1 ? { dpAttention } : {}) };
  const layoutError = layoutProblem(model, parallel);
  if (layoutError) throw new UserError(layoutError);
  const allToAll = has('allToAll') ? choice(named('allToAll'), ALL_TO_ALL_MODES) : undefined;
  const imbalance = has('expertImbalance') ? quantity(named('expertImbalance'), 'imbalance') : undefined;
  for (const [key, given] of [['allToAll', allToAll], ['expertImbalance', imbalance]] as const) {
    if (given !== undefined && (!model.moe || ep <= 1)) throw new UserError(`${named(key).where}: applies to expert parallelism; ${model.moe ? 'give --ep > 1 too' : `${model.name} has no experts`}`);
  }
  const expertParallel = allToAll !== undefined || imbalance !== undefined ? { ...(allToAll ? { allToAll } : {}), ...(imbalance !== undefined ? { imbalance } : {}) } : undefined;
  return { tp: groupTp, pp, ep, replicas, gpusPerNode, parallel, expertParallel };
}

/**
 * Grid carbon intensity and PUE (src/estimate/carbon.ts): `--region <id>` takes a dated preset
 * (presets/grid), `--grid-gco2-per-kwh` a figure of the user's own; `--pue` scales either.
 * Absent both: no carbon figures.
 */
export function resolveCarbon(raw: Partial<Record<'gridGco2PerKwh' | 'region' | 'pue', Raw>>, origins: Partial<Record<string, string>>, catalog: Catalog): Carbon | undefined {
  const named = (key: 'gridGco2PerKwh' | 'region' | 'pue'): Named => ({ value: raw[key], where: origins[key] ?? `--${kebab(key)}` });
  if (raw.gridGco2PerKwh !== undefined && raw.region !== undefined) throw new UserError('give --region or --grid-gco2-per-kwh, not both (--region picks a dated preset; --grid-gco2-per-kwh sets the figure)');
  let pue: number = DEFAULT_PUE.value;
  let pueSource: string = DEFAULT_PUE.source;
  if (raw.pue !== undefined) {
    pue = quantity(named('pue'), 'pue');
    pueSource = '--pue';
  }
  if (raw.region !== undefined) {
    const region = findRegion(catalog, String(raw.region));
    return { gco2PerKwh: region.gco2PerKwh, source: `${region.name}: ${region.source}`, pue, pueSource };
  }
  if (raw.gridGco2PerKwh !== undefined) {
    return { gco2PerKwh: quantity(named('gridGco2PerKwh'), 'gco2PerKwh'), source: '--grid-gco2-per-kwh', pue, pueSource };
  }
  return undefined;
}

/** The flags of a price: which one (--price, --provider, --price-kind, --amortize-years) and owned hardware's running costs. */
type PriceFlag = 'price' | 'provider' | 'priceKind' | 'amortizeYears' | OwnedFlag;
type OwnedFlag = 'pue' | 'usdPerKwh' | 'hostingUsdPerKwMonth' | 'powerWatts';

/**
 * Owned hardware's running costs (src/estimate/owned.ts): --pue, --usd-per-kwh,
 * --hosting-usd-per-kw-month and --power-watts, each else its cited default.
 */
export function ownedSettings(raw: Partial<Record<OwnedFlag, Raw>>, origins: Partial<Record<string, string>>): OwnedSettings {
  const named = (key: OwnedFlag): Named => ({ value: raw[key], where: origins[key] ?? `--${kebab(key)}` });
  const given = (key: OwnedFlag, domain: 'pue' | 'usdPerKwh' | 'usdPerKwMonth', fallback: { value: number; source: string }) => (raw[key] !== undefined ? { value: quantity(named(key), domain), source: named(key).where } : fallback);
  return {
    pue: given('pue', 'pue', OWNED_DEFAULT_PUE),
    usdPerKwh: given('usdPerKwh', 'usdPerKwh', OWNED_DEFAULT_USD_PER_KWH),
    hostingUsdPerKwMonth: given('hostingUsdPerKwMonth', 'usdPerKwMonth', OWNED_DEFAULT_HOSTING_USD_PER_KW_MONTH),
    ...(raw.powerWatts !== undefined ? { powerWatts: positiveNumber(named('powerWatts'), 'watts') } : {}),
  };
}

/** The price flags: --price (a number or id=usd pairs), --provider, --price-kind, --amortize-years, and owned hardware's running costs. */
export function resolvePriceFlags(raw: Partial<Record<PriceFlag, Raw>>, origins: Partial<Record<string, string>>, catalog: Catalog): { override?: PriceOverride; choice: PriceChoice; kindWhere?: string } {
  const named = (key: PriceFlag): Named => ({ value: raw[key], where: origins[key] ?? `--${kebab(key)}` });
  const amortizeYears = raw.amortizeYears !== undefined ? positiveNumber(named('amortizeYears'), 'years') : undefined;
  // --amortize-years alone means the purchase price
  const kind = raw.priceKind !== undefined ? choice(named('priceKind'), PRICE_KINDS) : amortizeYears !== undefined ? 'purchase' : 'on-demand';
  if (amortizeYears !== undefined && kind !== 'purchase') throw new UserError(`--amortize-years: amortizes a purchase price; it does not apply to --price-kind ${kind}`);
  const override = raw.price !== undefined ? parsePriceOption(named('price'), catalog, kind) : undefined;
  if (override?.all !== undefined && raw.provider !== undefined) throw new UserError('give --price or --provider, not both (--price sets the USD per device-hour; --provider picks a dated price from the preset)');
  return {
    override,
    choice: { kind, provider: raw.provider !== undefined ? named('provider') : undefined, amortizeYears, ...(raw.priceKind !== undefined ? { kindGiven: true } : {}), owned: ownedSettings(raw, origins) },
    kindWhere: raw.priceKind !== undefined ? named('priceKind').where : amortizeYears !== undefined ? named('amortizeYears').where : undefined,
  };
}

/** The price of the one device an estimate runs on, with a warning when --price names others or only a purchase price exists. */
function resolvePrice(raw: RawOptions, origins: Origins, catalog: Catalog, hardware: HardwareSpec): { price: EstimateInput['price']; warning?: string } {
  const { override, choice: pick, kindWhere } = resolvePriceFlags(raw, origins, catalog);
  const price = priceFor(hardware, override, pick, kindWhere);
  const others = [...(override?.byId.keys() ?? [])].filter((id) => id !== hardware.id);
  if (others.length) return { price, warning: `--price names ${others.join(', ')}, not the hardware of this estimate (${hardware.id})` };
  if (price?.fromPurchase) return { price, warning: `${hardware.name} has no public rental price: its cost is the purchase price (${grouped(price.purchaseUsd!)} USD) amortized over ${price.amortizeYears} years of 8,760 h plus electricity and colocation (owned hardware; --amortize-years sets the years, --price a rental price)` };
  return { price };
}

/** Memory sizes this tool sizes: 64 MiB (a small edge board) to 64 TiB. */
const MEMORY_BOUNDS = { min: 64 * 2 ** 20, max: 64 * 2 ** 40 };

/**
 * `--memory`: the device with another memory size (a laptop or SoC configuration). A size within
 * 7.5% of a configuration the device is sold with is that configuration (vendors write binary
 * sizes as "GB": a 16GB Mac has 16 GiB); the runtime overhead follows the size where the OS
 * keeps a share of it (macOS GPU wired limit: memory.reservedFraction).
 */
export function withMemory(hw: HardwareSpec, n: Named, warnings: string[]): HardwareSpec {
  const text = typeof n.value === 'number' ? `${n.value}` : String(n.value).trim();
  const parsed = parseQuantity(text, 'bytes');
  if (!parsed.ok) throw new UserError(`${n.where}: invalid value ${JSON.stringify(n.value)}; expected a memory size with its unit, e.g. 16GB or 24GiB (${parsed.reason})`);
  if (!Number.isFinite(parsed.value) || parsed.value < MEMORY_BOUNDS.min || parsed.value > MEMORY_BOUNDS.max) throw new UserError(`${n.where}: ${text} is outside the memory sizes this tool sizes (64 MiB to 64 TiB)`);
  const variants = hw.memoryVariants ?? [];
  const variant = variants.find((v) => Math.abs(parsed.value - v) / v < 0.075);
  const bytes = variant ?? parsed.value;
  if (variants.length && !variant) warnings.push(`${n.where} ${text}: ${hw.name} is sold with ${variants.map((v) => `${toGiB(v)} GiB`).join(', ')}; sizing ${toGiB(bytes).toFixed(1)} GiB as given`);
  const where = `${n.where} ${text}${variant !== undefined && variant !== parsed.value ? ` (the ${toGiB(variant)} GiB configuration)` : ''}`;
  const overhead = hw.reservedFraction?.value ? { value: bytes * hw.reservedFraction.value, source: `${hw.reservedFraction.value.toFixed(3)} of ${toGiB(bytes).toFixed(1)} GiB: ${hw.reservedFraction.source}` } : hw.runtimeOverheadBytes;
  // what CUDA reports of the preset's size does not carry over to another size
  return { ...hw, name: `${hw.name.replace(/,? \d+ ?GB\)$/, ')')} with ${+toGiB(bytes).toFixed(2)} GiB`, memoryBytes: { value: bytes, source: where }, memoryUsableBytes: undefined, runtimeOverheadBytes: overhead };
}

/**
/**
 * Engine launch options: each applies to the engines whose memory model has that knob; one the
 * engine does not have is a usage error (exit 2), not a silently ignored flag.
 */
function resolveEngineOptions(named: (key: EstimateKey) => Named, has: (key: EstimateKey) => boolean, engine: EngineSpec): EngineOptions {
  const o: EngineOptions = {};
  const refuse = (key: EstimateKey, why: string) => {
    throw new UserError(`${named(key).where}: ${engine.name} ${why}`);
  };
  if (has('gpuMemoryUtilization') && has('memFractionStatic')) throw new UserError('give --gpu-memory-utilization or --mem-fraction-static, not both (the same knob: the engine\'s memory fraction)');
  const fractionKey: EstimateKey | undefined = has('gpuMemoryUtilization') ? 'gpuMemoryUtilization' : has('memFractionStatic') ? 'memFractionStatic' : undefined;
  if (fractionKey) {
    if (engine.budget.kind === 'exact' || engine.budget.kind === 'all') refuse(fractionKey, `has no memory fraction: ${engine.budget.kind === 'exact' ? 'it allocates the KV cache for exactly --context x --batch tokens' : 'every free byte holds KV'}`);
    o.gpuMemoryUtilization = fraction(named(fractionKey));
  }
  if (has('maxNumBatchedTokens')) o.maxNumBatchedTokens = positiveInt(named('maxNumBatchedTokens'), 'tokens');
  if (has('maxNumSeqs')) o.maxNumSeqs = positiveInt(named('maxNumSeqs'), 'batch');
  if (has('enforceEager')) {
    o.enforceEager = bool(named('enforceEager'));
    if (!engine.cudaGraph && o.enforceEager) refuse('enforceEager', 'has no CUDA graphs in its profile to turn off');
  }
  if (has('blockSize')) {
    if (!engine.kvCache.paged || engine.budget.kind === 'exact') refuse('blockSize', 'has no KV blocks: it allocates single-token cells');
    o.blockSize = positiveInt(named('blockSize'), 'tokens');
  }
  // SGLang's separate state pool for hybrid models (server_args.py --max-mamba-cache-size,
  // --mamba-full-memory-ratio; model_runner handle_max_mamba_cache)
  for (const key of ['maxMambaCacheSize', 'mambaFullMemoryRatio'] as const) {
    if (has(key) && engine.statePool?.kind !== 'separate') refuse(key, 'keeps recurrent state in the KV pool, not in a state pool of its own (SGLang\'s knob)');
  }
  if (has('maxMambaCacheSize')) o.maxMambaCacheSize = positiveInt(named('maxMambaCacheSize'), 'batch');
  if (has('mambaFullMemoryRatio')) o.mambaFullMemoryRatio = quantity(named('mambaFullMemoryRatio'), 'memoryRatio');
  if (has('numSchedulerSteps')) {
    if (!engine.scheduler.multiStep) refuse('numSchedulerSteps', 'schedules every step (multi-step scheduling is vLLM V0\'s --num-scheduler-steps, in the vllm@0.6 and vllm@0.7 profiles; V1 removed it)');
    o.numSchedulerSteps = quantity(named('numSchedulerSteps'), 'schedulerSteps');
  }
  if (has('splitMode') && !engine.multiDevice.modes.includes('layer')) refuse('splitMode', 'splits devices by tensor parallelism only (--split-mode is llama.cpp\'s)');
  return o;
}

/** What --prune takes: layers removed, and the shares of MLP channels and attention heads removed. */
export const PRUNE_KEYS = ['layers', 'ffn', 'heads'] as const;

/**
 * `--prune layers=8,ffn=0.25,heads=0.25`: layers removed (a whole number), and the shares (0 to
 * below 1, or a percentage) of MLP intermediate channels and attention heads removed.
 */
export function parsePrune(n: Named): StructuredPruning {
  const text = String(n.value).trim();
  const out: StructuredPruning = { layers: 0, ffn: 0, heads: 0 };
  const accepted = 'comma-separated layers=<count>, ffn=<share>, heads=<share>, e.g. layers=8,ffn=0.25,heads=0.25';
  if (!text) throw new UserError(`${n.where}: empty; expected ${accepted}`);
  for (const item of text.split(',')) {
    const [rawKey, value, extra] = item.split('=').map((x) => x.trim());
    const key = (rawKey ?? '').toLowerCase();
    if (!(PRUNE_KEYS as readonly string[]).includes(key) || value === undefined || extra !== undefined) throw new UserError(`${n.where}: invalid part ${JSON.stringify(item)}${didYouMean(key, PRUNE_KEYS)}; expected ${accepted}`);
    if (key === 'layers') {
      const v = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(v)) throw new UserError(`${n.where}: layers=${value}; expected a whole number of layers to remove`);
      out.layers = v;
    } else {
      const v = value.endsWith('%') ? Number(value.slice(0, -1)) / 100 : Number(value);
      if (!/^\d*\.?\d+%?$/.test(value) || !Number.isFinite(v) || v < 0 || v >= 1) throw new UserError(`${n.where}: ${key}=${value}; expected a share removed from 0 to below 1 (e.g. 0.25 or 25%)`);
      out[key as 'ffn' | 'heads'] = v;
    }
  }
  if (!out.layers && !out.ffn && !out.heads) throw new UserError(`${n.where}: ${JSON.stringify(text)} removes nothing; expected ${accepted}`);
  return out;
}
