import { didYouMean, UserError } from '../errors.js';
import type { Catalog } from './catalog.js';
import type { EngineSpec } from './engine.js';
import { IDEAL_ENGINE } from '../estimate/engine.js';
import type { HardwareSpec } from './hardware.js';
import type { Format } from './precision.js';
import { baseFormat, formatKernel } from '../estimate/kernels.js';

/**
 * Which engine serves a configuration: the user's `--engine` (pinned with `@version`), else the
 * default for the hardware and the weight format among the engine profiles that run them
 * (presets/engines: supports.devices / weights / kv, defaultRank). Pure; no zod at run time.
 */

/** Compares engine versions ("0.10" > "0.6", "b6000" > "b3000"): numeric parts numerically. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^[a-z]+/, '').split('.').map(Number);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** A hardware profile's device class as engine profiles list it: vendor-kind (nvidia-gpu, google-tpu, apple-soc). */
export const deviceClass = (hw: Pick<HardwareSpec, 'vendor' | 'kind'>): string => `${hw.vendor}-${hw.kind}`;

/** Why `e` cannot run this device, weight format and KV type; undefined when it can. */
export function whyNot(e: EngineSpec, hw: HardwareSpec, weights: Format, kv: Format): string | undefined {
  // the ideal engine is a memory balance, not an engine: it "runs" anything
  if (e.budget.kind === 'all') return undefined;
  if (!e.supports.devices.includes(deviceClass(hw))) return `${e.name} does not run on ${hw.name} (${deviceClass(hw)}; it runs on ${e.supports.devices.join(', ')})`;
  if (!e.supports.weights.includes(baseFormat(weights))) return `${e.name} does not load ${weights.id} weights (it loads ${e.supports.weights.join(', ')})`;
  // the device's architecture: a kernel for this format on it (vLLM's get_min_capability, TensorRT-LLM's support matrix)
  const kernel = formatKernel(e, hw, weights);
  if (!kernel.ok) return kernel.why;
  if (!e.supports.kv.includes(kv.id)) return `${e.name} has no ${kv.id} KV cache (its cache types: ${e.supports.kv.join(', ')})`;
  return undefined;
}

const list = (names: string[]): string => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);


/** The newest profile of each engine (catalog order: newest version of each id first). */
export function newestEngines(catalog: Catalog): EngineSpec[] {
  const seen = new Set<string>();
  return (catalog.engines ?? []).filter((e) => !seen.has(e.id) && seen.add(e.id));
}

/**
 * An engine by name, optionally pinned: `vllm`, `llama.cpp`, `vllm@0.6`. A pin picks the profile of
 * that version, else the newest profile whose first covered release (`from`) is at or below it.
 */
export function findEngine(catalog: Catalog, name: string, where = '--engine'): EngineSpec {
  const [rawId, pin] = name.trim().toLowerCase().split('@');
  const engines = catalog.engines ?? [];
  const versions = engines.filter((e) => e.id === rawId || e.aliases.some((a) => a.toLowerCase() === rawId));
  if (!versions.length) {
    const names = [...new Set(engines.flatMap((e) => [e.id, ...e.aliases]))];
    throw new UserError(`${where}: unknown engine "${name}"${didYouMean(rawId, names)} (accepted: ${[...new Set(engines.map((e) => e.id))].join(', ')}; pin a version with @, e.g. vllm@0.7)`);
  }
  if (pin === undefined || pin === '') return versions[0];
  const exact = versions.find((e) => e.version === pin);
  if (exact) return exact;
  const covering = versions.find((e) => compareVersions(e.from, pin) <= 0);
  if (!covering) throw new UserError(`${where}: no ${versions[0].name} profile covers version ${pin} (profiles: ${versions.map((e) => `${e.id}@${e.version} for ${e.versions}`).join('; ')})`);
  return covering;
}

export interface EngineChoice {
  engine: EngineSpec;
  /** why this engine, in words, for the output */
  reason: string;
  warning?: string;
}

/**
 * The engine for a device, weight format and KV type. With `--engine`, that engine, or exit 2
 * naming what it does not run and which engines do. Without, the lowest defaultRank among the
 * newest profiles that run all three (GGUF files and Apple silicon: llama.cpp; TPUs: vLLM TPU;
 * NVIDIA and AMD GPUs: vLLM), saying which were passed over and why; when none does, the bare
 * memory balance with a warning.
 */
export function chooseEngine(catalog: Catalog, hw: HardwareSpec, weights: Format, kv: Format, requested?: { name: string; where: string }): EngineChoice {
  const runners = newestEngines(catalog).filter((e) => e.budget.kind !== 'all' && !whyNot(e, hw, weights, kv));
  if (requested) {
    const engine = findEngine(catalog, requested.name, requested.where);
    const problem = whyNot(engine, hw, weights, kv);
    if (problem) {
      const alternatives = runners.map((e) => e.id);
      // a newer profile of the same engine that runs it names the release that added it (its `from`);
      // a checkpoint's GGUF conversion (gpt-oss mxfp4 -> mxfp4_moe) is what llama.cpp loads
      const newerFor = (f: Format) => (catalog.engines ?? []).filter((e) => e.id === engine.id && compareVersions(e.version, engine.version) > 0 && !whyNot(e, hw, f, kv)).pop();
      const twin: Format | undefined = weights.ggufFile ? { ...weights, id: weights.ggufFile } : undefined;
      const newer = newerFor(weights);
      const newerTwin = !newer && twin ? newerFor(twin) : undefined;
      const upgrade = newer
        ? `; ${newer.name} runs ${weights.id} weights with a ${kv.id} KV cache on ${hw.name} from ${newer.from} on (--engine ${newer.id}@${newer.version})`
        : twin && !whyNot(engine, hw, twin, kv) ? `; it loads the GGUF this checkpoint converts to: --precision ${twin.id}`
        : newerTwin ? `; ${newerTwin.name} loads the GGUF this checkpoint converts to, ${twin!.id}, from ${newerTwin.from} on (--engine ${newerTwin.id}@${newerTwin.version})` : '';
      throw new UserError(`${requested.where} ${requested.name}: ${problem}${upgrade}${alternatives.length ? `; engines that run ${weights.id} weights with a ${kv.id} KV cache on ${hw.name}: ${alternatives.join(', ')}` : ''}`);
    }
    return { engine, reason: `chosen with --engine ${requested.name}` };
  }
  const ranked = [...runners].sort((a, b) => a.defaultRank - b.defaultRank);
  // engines ranked above the choice that run on this device but not these formats, in one clause each
  const onDevice = newestEngines(catalog).filter((e) => e.budget.kind !== 'all' && e.supports.devices.includes(deviceClass(hw)) && (!ranked.length || e.defaultRank < ranked[0].defaultRank));
  const noWeights = onDevice.filter((e) => !e.supports.weights.includes(baseFormat(weights))).map((e) => e.name);
  const noKernel = onDevice.filter((e) => e.supports.weights.includes(baseFormat(weights)) && !formatKernel(e, hw, weights).ok);
  const noKv = onDevice.filter((e) => e.supports.weights.includes(baseFormat(weights)) && formatKernel(e, hw, weights).ok && !e.supports.kv.includes(kv.id)).map((e) => e.name);
  const passed = [
    ...(noWeights.length ? [`${list(noWeights)} load${noWeights.length === 1 ? 's' : ''} no ${weights.id} weights`] : []),
    ...noKernel.map((e) => (formatKernel(e, hw, weights) as { why: string }).why),
    ...(noKv.length ? [`${list(noKv)} ha${noKv.length === 1 ? 's' : 've'} no ${kv.id} KV cache`] : []),
  ];
  if (!onDevice.length && !ranked.length) passed.push(`no engine profile runs on ${deviceClass(hw)}`);
  if (!ranked.length) {
    // no profile runs it: the bare memory balance, saying so (a profile-less catalogue: silently)
    const ideal = (catalog.engines ?? []).find((e) => e.budget.kind === 'all');
    if (!ideal) return { engine: IDEAL_ENGINE, reason: 'no engine profiles in the catalogue: the bare memory balance' };
    const why = newestEngines(catalog).filter((e) => e.budget.kind !== 'all' && e.supports.devices.includes(deviceClass(hw))).map((e) => whyNot(e, hw, weights, kv));
    if (why.length) passed.splice(0, passed.length, ...why.filter((x): x is string => x !== undefined));
    const warning = `no engine profile runs ${weights.id} weights with a ${kv.id} KV cache on ${hw.name} (${passed.join('; ')}); KV capacity is the bare memory balance (engine ideal)`;
    return { engine: ideal, reason: 'no engine profile runs this combination: the bare memory balance', warning };
  }
  const engine = ranked[0];
  return { engine, reason: `the default for ${weights.id} weights on ${hw.name}${passed.length ? ` (${passed.join('; ')})` : ''}` };
}
