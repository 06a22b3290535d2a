import { Command, Option } from 'commander';
import { explain, explainOption } from './context.js';
import { formatOption, renderOutput, type OutputFormat } from '../format/render.js';
import { estimateSections } from '../format/sections.js';
import { PRICE_KINDS } from '../inputs/hardware.js';
import { FORMAT_NAMES_HELP, KV_FORMAT_IDS } from '../inputs/precision.js';
import type { Raw } from '../inputs/options.js';
import { WORKLOAD_IDS } from '../inputs/traffic.js';
import { ALL_TO_ALL_MODES } from '../estimate/expert-parallel.js';
import { LORA_SERVING_TARGETS } from '../estimate/lora-serving.js';
import { ESTIMATE_KEYS, fetchHubFor, readSpecFile, type EstimateKey } from '../inputs/resolve.js';
import { estimateFromRaw } from '../inputs/resolve-disagg.js';
import type { Context } from './context.js';
import { presetsOption } from './preset-paths.js';

export { OUTPUT_FORMATS } from '../format/render.js';

/**
 * The model, hardware and price options every command shares. `omit` leaves out the ones a
 * command has no use for (train: no KV cache; plan: it chooses the devices and their count), so
 * no flag is accepted and then ignored.
 */
export function addModelOptions(cmd: Command, omit: readonly string[] = []): Command {
  const options: [string, (c: Command) => Command][] = [
    ['model', (c) => c.option('--model <preset>', 'model preset id or alias (llm-size presets list models)')],
    ['params', (c) => c.option('--params <count>', 'parameter count only (7b, 70e9, 405000000000); KV and attention then assume a typical shape')],
    ['hfConfig', (c) => c.option('--hf-config <file>', 'a Hugging Face config.json')],
    ['hf', (c) => c.option('--hf <org/name[@revision]>', 'fetch config.json from the Hugging Face Hub (HF_TOKEN for gated models, HF_ENDPOINT, cached for offline use)')],
    ['offline', (c) => c.option('--offline', 'with --hf: use the cached config.json only (as HF_HUB_OFFLINE=1)')],
    ['spec', (c) => c.option('--spec <file>', 'YAML or JSON file with any of these options (camelCase keys); flags override it')],
    ['layers', (c) => c.option('--layers <n>', 'architecture: decoder layers')],
    ['hidden', (c) => c.option('--hidden <n>', 'architecture: hidden size')],
    ['heads', (c) => c.option('--heads <n>', 'architecture: attention heads')],
    ['kvHeads', (c) => c.option('--kv-heads <n>', 'architecture: key/value heads (default: heads)')],
    ['headDim', (c) => c.option('--head-dim <n>', 'architecture: head dimension (default: hidden / heads)')],
    ['ffn', (c) => c.option('--ffn <n>', 'architecture: MLP intermediate size')],
    ['vocab', (c) => c.option('--vocab <n>', 'architecture: vocabulary size')],
    ['tiedEmbeddings', (c) => c.option('--tied-embeddings', 'architecture: output head shares the embedding matrix')],
    ['precision', (c) => c.addOption(new Option('--precision <format>', `weight format (${FORMAT_NAMES_HELP.join(', ')}; default: the checkpoint's quantization_config, else bf16)`))],
    ['kvPrecision', (c) => c.addOption(new Option('--kv-precision <format>', `KV-cache format (${KV_FORMAT_IDS.join(', ')}; default: the activation type)`))],
    ['gpu', (c) => c.option('--gpu <preset>', 'hardware preset id or alias (default h100-sxm)')],
    ['memory', (c) => c.option('--memory <size>', 'device memory size, e.g. 16GB for a 16 GB laptop or Mac (default: the preset\'s; llm-size presets show <gpu> lists its configurations)')],
    ['count', (c) => c.option('--count <n>', 'devices per replica (= tp x pp); alone it means --tp n', undefined)],
    ['price', (c) => c.option('--price <usd>', 'USD per device-hour, one number or id=usd pairs (mi300x=2.5,tpu-v5e=1.2) (default: the median of the preset\'s dated on-demand prices, one per provider)')],
    ['provider', (c) => c.option('--provider <name>', 'take the dated price from this provider (llm-size presets show <gpu> lists them)')],
    ['priceKind', (c) => c.addOption(new Option('--price-kind <kind>', 'which dated prices: on-demand (default), reserved-1y, reserved-3y, spot, marketplace, purchase').choices(PRICE_KINDS))],
    ['amortizeYears', (c) => c.option('--amortize-years <n>', 'owned hardware: charge the purchase price over n years of 8,760 h (implies --price-kind purchase; default 3)')],
    ['powerWatts', (c) => c.option('--power-watts <W>', 'average power per device in W, for energy figures (default: TDP x (0.43 + 0.57 x matrix-unit utilisation))')],
    ['usdPerKwh', (c) => c.option('--usd-per-kwh <usd>', 'electricity price, for the electricity cost of owned hardware (default for an owned price 0.0895: Virginia commercial, EIA 2023)')],
    ['hostingUsdPerKwMonth', (c) => c.option('--hosting-usd-per-kw-month <usd>', 'owned hardware: colocation rent per kW of server power (default 184.06: CBRE H2 2024; 0 for your own premises)')],
  ];
  for (const [key, add] of options) if (!omit.includes(key)) add(cmd);
  return cmd.addOption(presetsOption());
}

/** Pruning flags (estimate, rag; train takes --prune only): src/estimate/pruning.ts. */
export function addPruningOptions(cmd: Command, sparsity = true): Command {
  if (sparsity) cmd.option('--sparsity <pattern>', '2:4 semi-structured sparse weights (compressed with metadata; the sparse tensor-core peak where the engine runs them)');
  return cmd.option('--prune <spec>', 'structured pruning: layers=<removed>,ffn=<share removed>,heads=<share removed>, e.g. layers=8,ffn=0.25');
}

/** Carbon flags (estimate, train, rag): grid intensity from a dated preset or a figure, and PUE (src/estimate/carbon.ts). */
export function addCarbonOptions(cmd: Command): Command {
  return cmd
    .option('--region <id>', 'grid carbon intensity from a dated preset (world, us, gcp-us-central1 ...; llm-size presets list regions), for CO2e figures')
    .option('--grid-gco2-per-kwh <g>', 'grid carbon intensity in grams CO2e per kWh, for CO2e figures')
    .option('--pue <ratio>', 'data-centre power usage effectiveness, facility / IT energy (default 1: devices only)');
}

/** Roofline efficiency overrides for the serving commands (estimate, plan, sweep). */
export function addEfficiencyOptions(cmd: Command): Command {
  return cmd
    .option('--mfu <fraction>', 'compute efficiency, fraction of dense peak (default: the calibrated efficiency model)')
    .option('--mbu <fraction>', 'memory-bandwidth efficiency (default: the calibrated efficiency model)');
}

/** Serving flags (estimate, plan): parallel layout, node size and engine (src/estimate/parallel.ts, engine.ts). */
export function addServingOptions(cmd: Command): Command {
  cmd
    .option('--tp <n>', 'tensor-parallel size (default: --count, else 1)')
    .option('--pp <n>', 'pipeline-parallel stages (default 1)')
    .option('--ep <n>', 'expert-parallel size for MoE models, dividing --tp or a multiple of it (ep / tp attention groups share the experts) (default 1)')
    .option('--dp-attention [groups]', 'MoE: attention data parallel over the tp ranks (default: a group per rank), each holding only its own requests\' KV; experts span all ranks (SGLang --enable-dp-attention)')
    .option('--replicas <n>', 'replicas serving side by side (default 1; with --qps: the fewest that carry the load)')
    .option('--gpus-per-node <n>', 'devices per node, for which link a group uses (default: the hardware profile\'s)')
    .option('--nodes <n>', 'devices per replica as whole nodes (n x --gpus-per-node); collectives within a scale-up domain use its link, across domains the NIC')
    .option('--redundant-experts <n>', 'MoE: redundant expert copies a load balancer places across EP ranks (EPLB; SGLang --ep-num-redundant-experts), balancing the ranks\' load')
    .option('--expert-imbalance <ratio>', 'MoE: routed tokens on the busiest EP rank / mean (default: from measured expert-load spread, with or without redundant experts)')
    .addOption(new Option('--all-to-all <mode>', 'MoE dispatch/combine kernels: auto (DeepEP normal for prompts, low-latency for decode where EP spans domains; else nccl), nccl, normal, low-latency').choices(ALL_TO_ALL_MODES))
    .option('--engine <id[@version]>', 'serving engine whose memory model sizes the KV cache: vllm, sglang, trtllm, llamacpp, vllm-tpu, ideal; pin a version with @ (vllm@0.7); default: the engine for the hardware and weight format (GGUF and Apple silicon: llama.cpp, TPUs: vLLM TPU, GPUs: vLLM)');
  return addEngineOptions(cmd);
}

/** Engine launch options (estimate, plan, and the same keys in spec and check files): src/inputs/resolve.ts ENGINE_OPTION_KEYS. */
export function addEngineOptions(cmd: Command): Command {
  return cmd
    .option('--gpu-memory-utilization <fraction>', 'the engine\'s memory fraction: vLLM --gpu-memory-utilization, SGLang --mem-fraction-static, TensorRT-LLM --kv_cache_free_gpu_memory_fraction (default: the engine version\'s, by device)')
    .option('--mem-fraction-static <fraction>', 'the same knob under SGLang\'s name')
    .option('--max-num-batched-tokens <n>', 'tokens per forward pass and of the engine\'s profiling pass (vLLM; SGLang chunked prefill size; TensorRT-LLM max_num_tokens; llama.cpp n_ubatch)')
    .option('--max-num-seqs <n>', 'sequences the engine runs at once (vLLM --max-num-seqs, SGLang --max-running-requests, TensorRT-LLM --max_batch_size, llama-server --parallel)')
    .option('--enforce-eager', 'no CUDA graphs (vLLM --enforce-eager): their memory goes to the KV cache')
    .option('--block-size <n>', 'tokens per KV-cache block (vLLM --block-size)')
    .option('--num-scheduler-steps <n>', 'decode steps vLLM V0 plans at once (vllm@0.6/0.7 --num-scheduler-steps, multi-step scheduling; default 1): simulate admits prompts only between the groups and streams each group\'s tokens together')
    .option('--max-mamba-cache-size <n>', 'hybrid models under SGLang: sequences of recurrent state its state pool holds (SGLang --max-mamba-cache-size; the KV pool gets the rest)')
    .option('--mamba-full-memory-ratio <r>', 'hybrid models under SGLang: state pool : KV pool memory ratio (SGLang --mamba-full-memory-ratio, default 0.9)')
    .addOption(new Option('--split-mode <mode>', 'how llama.cpp splits several devices: layer (default: each holds a block of layers, run one after another) or row (tensor parallelism)').choices(['layer', 'row']));
}

/** Serving levers (estimate, sweep): speculative decoding (docs/levers.md). */
export function addLeverOptions(cmd: Command): Command {
  return cmd
    .option('--speculative <method>', 'speculative decoding: eagle, eagle3, mtp (the model\'s own MTP heads), ngram, or draft:<model preset or config.json>')
    .option('--draft-tokens <k>', 'with --speculative: tokens drafted per step (default 3; mtp: one per MTP module)')
    .option('--acceptance <a>', 'with --speculative: per-token acceptance rate, 0-1 (tokens per step = (1 - a^(k+1)) / (1 - a))')
    .option('--accepted-length <L>', 'with --speculative: mean tokens per target step, as engines log it (vLLM "Mean acceptance length")')
    .option('--prefix-tokens <n>', 'prefix caching: prompt tokens every request shares (system prompt, RAG context), stored once per replica')
    .option('--lora-adapters <n>', 'multi-LoRA serving: adapters loaded at once (vLLM --max-loras)')
    .option('--lora-rank <r>', 'with --lora-adapters: adapter rank (default 16, vLLM --max-lora-rank)')
    .option('--lora-targets <list>', `with --lora-adapters: adapted projections, comma-separated from ${LORA_SERVING_TARGETS.join(',')} (default all)`)
    .option('--gpu-layers <n>', 'llama.cpp -ngl: decoder layers on the GPU, the rest in system memory (default all; a model that does not fit gets the largest that does suggested)')
    .option('--cpu-moe', 'llama.cpp: keep every MoE layer\'s experts in system memory')
    .option('--n-cpu-moe <n>', 'llama.cpp: keep the experts of the first n MoE layers in system memory')
    .option('--host-cpu <preset>', 'the host CPU offload runs on (default: the hardware preset\'s host, e.g. ryzen-9-9950x for desktop GPUs)')
    .option('--kv-offload <tiers>', 'KV offload tiers per device: cpu:<GiB>, nvme:<GiB> or both (cpu:200,nvme:2000), over the host link (LMCache, vLLM CPU offload)')
    .option('--cache-hit-rate <h>', 'prefix caching: share of the prefix (or, alone, of the prompt) found cached, 0-1 (default 1 with --prefix-tokens)');
}

/**
 * Flags -> raw options, with the flag name each came from; spec file underneath. `keys` are
 * the command's options (ESTIMATE_KEYS; train: TRAIN_KEYS; plan: PLAN_KEYS), which its spec
 * file may hold too.
 */
export async function collectRaw<K extends string = EstimateKey>(opts: Record<string, unknown>, keys: readonly K[] = ESTIMATE_KEYS as unknown as readonly K[]): Promise<{ raw: Partial<Record<K, Raw>>; origins: Partial<Record<K, string>> }> {
  const raw: Partial<Record<K, Raw>> = {};
  const origins: Partial<Record<K, string>> = {};
  if (typeof opts.spec === 'string') {
    const fromFile = await readSpecFile(opts.spec, keys);
    for (const [k, v] of Object.entries(fromFile)) {
      raw[k as K] = v as Raw;
      origins[k as K] = `${opts.spec}: ${k}`;
    }
  }
  for (const key of keys) {
    if (opts[key] !== undefined) {
      raw[key] = opts[key] as Raw;
      delete origins[key];
    }
  }
  return { raw, origins };
}

export function estimateCommand(ctx: Context): Command {
  const cmd = new Command('estimate')
    .description('memory, FLOPs, latency, throughput and cost of serving a model')
    .addHelpText('after', `
Examples:
  llm-size estimate --model llama-3.1-8b --gpu h100-sxm
  llm-size estimate --model llama-3.1-70b --gpu h100 --count 4 --batch 32 --context 8k --format json
  llm-size estimate --params 7b --precision int4 --gpu rtx-4090 --explain
  llm-size estimate --hf-config ./config.json --gpu a100-80gb`);
  addLeverOptions(addPruningOptions(addCarbonOptions(addServingOptions(addEfficiencyOptions(addModelOptions(cmd))))))
    .option('--batch <n>', 'concurrent sequences (default 1)', undefined)
    .option('--input-tokens <n|dist>', 'prompt tokens per request (default 1024), or a distribution (figures for its mean): uniform:128..2048, lognormal:mean=1024,sd=600, zipf:s=1.1,max=8192, trace:<file>')
    .option('--output-tokens <n|dist>', 'generated tokens per request (default 256), or a distribution as for --input-tokens')
    .option('--workload <preset>', `request-length preset with its source: ${WORKLOAD_IDS.join(', ')} (the figures are for its mean request)`)
    .option('--context <tokens>', 'tokens the KV cache holds per sequence (default input + output; 32k = 32768)')
    .option('--images <n>', 'images per request (vision models): each adds the prompt tokens its processor makes of it, the vision encoder\'s FLOPs and the engine\'s encoder cache')
    .option('--image-size <WxH>', 'image width x height in pixels, e.g. 1024x1024 (the token count follows the model\'s resize and tiling rules)')
    .option('--allow-beyond-trained', 'size a --context beyond the window the model was trained for (max_position_embeddings or its rope_scaling window) instead of refusing it')
    .option('--concurrency <n>', 'requests in flight across replicas (continuous batching; replaces --batch)')
    .option('--qps <rate>', 'requests per second to serve (Little\'s law gives the batch; replaces --batch)')
    .option('--prefill-workers <n[:layout]>', 'disaggregated serving: prefill workers, optionally with one worker\'s layout, e.g. 1:nodes=4,dp-attention,ep=32 (keys: count, nodes, tp, pp, ep, dp-attention, redundant-experts, all-to-all, expert-imbalance, gpu, gpus-per-node, precision, kv-precision, engine); needs --decode-workers and --qps')
    .option('--decode-workers <n[:layout]>', 'disaggregated serving: decode workers, optionally with one worker\'s layout, e.g. 1:nodes=9,dp-attention,ep=72,redundant-experts=32')
    .addOption(formatOption())
    .addOption(explainOption())
    .action(async (opts: Record<string, unknown>) => {
      const { raw, origins } = await collectRaw(opts);
      const catalog = await ctx.catalog();
      const hub = await fetchHubFor(raw, origins, ctx.env);
      const { estimate: result, warnings } = estimateFromRaw(raw, origins, catalog, hub);
      result.warnings.unshift(...warnings);
      const table = async (color: boolean, width: number) => (await import('../format/table.js')).renderEstimateTable(result, color, width);
      const title = `${result.input.model.name} on ${result.input.hardware.count} x ${result.input.hardware.name}`;
      ctx.out(await renderOutput(opts.format as OutputFormat, { document: result, figures: result.figures, sections: estimateSections(result), title, table }, ctx.color, ctx.width()));
      if (opts.explain) explain(ctx, String(opts.format), result.figures, opts.explain);
      for (const w of result.warnings) ctx.warn(w);
    });
  return cmd;
}
