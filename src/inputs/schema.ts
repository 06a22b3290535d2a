import { z } from 'zod';
import { parseQuantity, unitsByDimension, type Dimension } from '../units.js';
import type { HardwareSpec, Price, Sourced } from './hardware.js';
import { MODEL_TASKS } from './model.js';
import { priceKindOf } from './price.js';
import { COMPUTE_CLASSES } from './precision.js';
import { ESTIMATE_KEYS } from './resolve.js';
import { PLAN_KEYS } from './resolve-plan.js';
import { SIMULATE_KEYS } from './resolve-simulate.js';
import { TRAIN_KEYS } from './resolve-train.js';
import { RAG_KEYS } from './resolve-rag.js';

/**
 * zod schemas for preset files. Values are written with their unit ("3.35 TB/s", "80 GiB");
 * the schemas check the dimension and convert to base units. Loaded only by commands that
 * read user files or validate presets (built-in presets are converted at build time).
 */

const source = z.string().min(1, 'every value needs a source');

/** Marks a quantity in the generated JSON Schema (replaced by a pattern in `toJsonSchema`). */
const DIMENSION_KEY = 'x-llm-size-dimension';

/** "80 GiB" -> bytes, "unknown" -> null, with the dimension checked. */
const quantity = (dimension: Dimension) =>
  z.union([z.string(), z.number()]).meta({ [DIMENSION_KEY]: dimension }).transform((text, ctx): number | null => {
    if (text === 'unknown') return null;
    if (typeof text === 'number') {
      ctx.addIssue({ code: 'custom', message: `a unit is required (got the bare number ${text}); write it like "${dimension === 'bytes' ? '80 GiB' : dimension === 'bandwidth' ? '3.35 TB/s' : dimension === 'compute' ? '989.5 TFLOP/s' : dimension === 'time' ? '2 ms' : dimension === 'power' ? '700 W' : '2.5 USD/h'}"` });
      return z.NEVER;
    }
    const parsed = parseQuantity(text, dimension);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: `"${text}": ${parsed.reason}` });
      return z.NEVER;
    }
    if (parsed.value < 0) {
      ctx.addIssue({ code: 'custom', message: `"${text}" must not be negative` });
      return z.NEVER;
    }
    return parsed.value;
  });

const sourced = (dimension: Dimension) =>
  z.strictObject({ value: quantity(dimension), source, note: z.string().optional() }).transform((v): Sourced => v);

const fraction = z
  .strictObject({ value: z.number().gt(0).max(1), source, note: z.string().optional() })
  .transform((v): Sourced => v);

const link = z.strictObject({
  name: z.string().min(1),
  bandwidth: sourced('bandwidth'),
  latency: sourced('time'),
  note: z.string().optional(),
});

/**
 * A dated price: `kind` one of PRICE_KINDS (older presets' words such as "on-demand (secure
 * cloud)" are read by keyword, src/inputs/price.ts), `price` in USD/h, or in USD for a purchase.
 */
const price = z.strictObject({
  provider: z.string().min(1),
  region: z.string().optional(),
  price: z.union([z.string(), z.number()]).meta({ [DIMENSION_KEY]: 'price' }),
  date: z.union([z.string(), z.date()]).transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d)),
  kind: z.string().optional(),
  instance: z.string().optional(),
  source,
  note: z.string().optional(),
}).transform((p, ctx) => {
  const kind = priceKindOf(p.kind);
  const dimension = kind === 'purchase' ? 'money' : 'price';
  const parsed = typeof p.price === 'number' ? { ok: false as const, reason: `a unit is required (got the bare number ${p.price}); write it like "${kind === 'purchase' ? '1599 USD' : '2.5 USD/h'}"` } : parseQuantity(p.price, dimension);
  if (!parsed.ok || parsed.value <= 0) {
    ctx.addIssue({ code: 'custom', path: ['price'], message: parsed.ok ? `"${p.price}" must be above zero` : `"${p.price}": ${parsed.reason}${kind === 'purchase' ? ' (kind purchase: USD per device)' : ''}` });
    return z.NEVER;
  }
  return { ...p, kind, amount: parsed.value };
});

export const VENDORS = ['nvidia', 'amd', 'google', 'intel', 'apple', 'qualcomm', 'ampere', 'aws'] as const;
export const HARDWARE_KINDS = ['gpu', 'tpu', 'hpu', 'soc', 'cpu'] as const;
export const FORM_FACTORS = ['datacenter', 'workstation', 'laptop', 'phone', 'embedded'] as const;

const slug = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'ids are lower-case slugs like "h100-sxm"');

/** `"$schema": "..."` in a JSON preset file points editors at the schema; ignored here. */
const schemaRef = z.string().optional();

export const hardwareFileSchema = z.strictObject({
  $schema: schemaRef,
  id: slug,
  aliases: z.array(z.string()).default([]),
  name: z.string().min(1),
  vendor: z.enum(VENDORS),
  kind: z.enum(HARDWARE_KINDS),
  /**
   * the architecture engine kernels depend on: NVIDIA sm_<compute capability> (sm_89), AMD's
   * LLVM target (gfx942), else the generation (tpu-v5e, gaudi3, apple-m3)
   */
  architecture: z.strictObject({ name: z.string().min(1), id: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'an architecture id such as sm_90, gfx942 or tpu-v5e'), source }).optional(),
  /** where the device lives; laptops, phones and embedded boards are left out of plan's default search (not rented) */
  formFactor: z.enum(FORM_FACTORS).optional(),
  memory: z.strictObject({
    capacity: sourced('bytes'),
    /** total memory the driver reports to CUDA (torch.cuda.mem_get_info), what serving engines size their pools against */
    usable: sourced('bytes').optional(),
    bandwidth: sourced('bandwidth'),
    type: z.string().optional(),
    /** the memory sizes the device is sold with (laptops, SoCs); --memory picks one */
    variants: z.strictObject({ values: z.array(quantity('bytes')).min(1), source }).optional(),
    /** share of memory the OS keeps from the accelerator (macOS wired limit): the runtime overhead scales with --memory */
    reservedFraction: fraction.optional(),
    /** CPUs: DRAM channels and their transfer rate; bandwidth must equal channels x MT/s x 8 B */
    channels: z.strictObject({ count: z.number().int().positive(), megaTransfersPerSecond: z.number().positive(), source }).optional(),
  }),
  compute: z.strictObject(Object.fromEntries(COMPUTE_CLASSES.map((c) => [c, sourced('compute').optional()])) as Record<(typeof COMPUTE_CLASSES)[number], z.ZodOptional<ReturnType<typeof sourced>>>),
  /**
   * Dense fp16 tensor throughput with fp16 accumulation, where it differs from `compute.fp16` (fp32
   * accumulation): GeForce cards run it at twice the rate. Engines that accumulate in fp16 (llama.cpp's
   * cuBLAS path) reach it; those that accumulate in fp32 (PyTorch, vLLM) do not.
   */
  fp16Accumulate16: sourced('compute').optional(),
  /** peaks with 2:4 structured sparsity (datasheets' "with sparsity" column), where the device has sparse tensor cores */
  sparseCompute: z.strictObject(Object.fromEntries(COMPUTE_CLASSES.map((c) => [c, sourced('compute').optional()])) as Record<(typeof COMPUTE_CLASSES)[number], z.ZodOptional<ReturnType<typeof sourced>>>).optional(),
  interconnect: z
    .strictObject({
      intraNode: link.optional(),
      interNode: link.optional(),
      devicesPerNode: z.number().int().positive(),
      /**
       * the scale-up domain: devices the intra-node link joins when it spans more than a node
       * (GB200 NVL72: 72 GPUs over 18 trays; a TPU pod slice over its ICI torus); absent = a node
       */
      domain: z.strictObject({ devices: z.number().int().positive(), topology: z.string().min(1), source }).optional(),
    })
    .default({ devicesPerNode: 1 }),
  /**
   * The host of a GPU server (or desktop): its CPU (a cpu preset for the CPU side of offload),
   * system memory per node and the link between host and device (PCIe generation, NVLink-C2C):
   * what KV and weight offload go over (src/estimate/offload.ts).
   */
  host: z.strictObject({
    cpu: z.strictObject({ name: z.string().min(1), preset: slug.optional(), sockets: z.number().int().positive(), source }),
    memory: sourced('bytes').optional(),
    link,
  }).optional(),
  tdp: sourced('power'),
  /**
   * The server's power per device, where a rack-scale system publishes it (GB300 NVL72: the
   * rack's draw / 72): what an owned device's electricity and colocation are charged at
   * (src/estimate/owned.ts); absent = TDP x the DGX H100 ratio.
   */
  serverPower: sourced('power').optional(),
  runtimeOverhead: sourced('bytes'),
  efficiency: z.strictObject({ mfu: fraction, mbu: fraction, stepOverhead: sourced('time') }),
  prices: z.array(price).default([]),
  sources: z.array(z.string()).optional(),
  notes: z.array(z.string()).optional(),
}).superRefine((f, ctx) => {
  // What every estimate needs: capacity, bandwidth and at least one 16/32-bit peak (the
  // fallback of every other format, src/estimate/peak.ts).
  for (const key of ['capacity', 'bandwidth'] as const) {
    if (!f.memory[key].value) ctx.addIssue({ code: 'custom', path: ['memory', key, 'value'], message: `memory ${key} must be known and above zero: every estimate needs it` });
  }
  if (f.architecture && f.vendor === 'nvidia' && !/^sm_\d{2,3}$/.test(f.architecture.id)) ctx.addIssue({ code: 'custom', path: ['architecture', 'id'], message: `an NVIDIA architecture id is sm_<compute capability x 10>, such as sm_90 (got "${f.architecture.id}")` });
  if (f.architecture && f.vendor === 'amd' && !/^gfx[0-9a-f]+$/.test(f.architecture.id)) ctx.addIssue({ code: 'custom', path: ['architecture', 'id'], message: `an AMD architecture id is its LLVM target, such as gfx942 (got "${f.architecture.id}")` });
  const ch = f.memory.channels;
  if (ch && f.memory.bandwidth.value && Math.abs(ch.count * ch.megaTransfersPerSecond * 1e6 * 8 - f.memory.bandwidth.value) > 0.01 * f.memory.bandwidth.value) {
    ctx.addIssue({ code: 'custom', path: ['memory', 'bandwidth', 'value'], message: `must equal channels x MT/s x 8 B = ${(ch.count * ch.megaTransfersPerSecond * 8) / 1000} GB/s` });
  }
  if (f.kind === 'cpu' && !ch) ctx.addIssue({ code: 'custom', path: ['memory', 'channels'], message: 'a cpu preset states its DRAM channels (count, megaTransfersPerSecond, source): its bandwidth is channels x MT/s x 8 B' });
  if (!(['bf16', 'fp16', 'fp32', 'tf32'] as const).some((c) => f.compute[c]?.value)) {
    ctx.addIssue({ code: 'custom', path: ['compute'], message: 'needs a known dense peak for at least one of bf16, fp16, fp32, tf32 (the formats others fall back to)' });
  }
});

export type HardwareFile = z.infer<typeof hardwareFileSchema>;

/** Preset file (validated) -> HardwareSpec in base units. */
export function toHardwareSpec(f: HardwareFile): HardwareSpec {
  const needKnown = (s: Sourced, what: string) => {
    if (s.value === null || s.value === 0) throw new Error(`${f.id}: ${what} must be known`);
    return s;
  };
  return {
    id: f.id,
    aliases: f.aliases,
    name: f.name,
    vendor: f.vendor,
    kind: f.kind,
    ...(f.formFactor ? { formFactor: f.formFactor } : {}),
    ...(f.architecture ? { architecture: { ...f.architecture, ...(/^sm_\d+$/.test(f.architecture.id) ? { capability: Number(f.architecture.id.slice(3)) } : {}) } } : {}),
    memoryBytes: needKnown(f.memory.capacity, 'memory.capacity'),
    ...(f.memory.usable && f.memory.usable.value ? { memoryUsableBytes: f.memory.usable } : {}),
    memoryBandwidth: needKnown(f.memory.bandwidth, 'memory.bandwidth'),
    compute: Object.fromEntries(Object.entries(f.compute).filter(([, v]) => v !== undefined)),
    intraNode: f.interconnect.intraNode,
    interNode: f.interconnect.interNode,
    devicesPerNode: f.interconnect.devicesPerNode,
    ...(f.interconnect.domain ? { domain: f.interconnect.domain } : {}),
    tdpWatts: f.tdp,
    ...(f.serverPower?.value ? { serverWatts: f.serverPower } : {}),
    runtimeOverheadBytes: f.memory.reservedFraction && f.memory.capacity.value
      ? { value: f.memory.capacity.value * f.memory.reservedFraction.value!, source: `${f.memory.reservedFraction.value} of memory: ${f.memory.reservedFraction.source}` }
      : f.runtimeOverhead,
    ...(f.memory.variants ? { memoryVariants: f.memory.variants.values.filter((v): v is number => v !== null) } : {}),
    ...(f.memory.reservedFraction ? { reservedFraction: f.memory.reservedFraction } : {}),
    ...(f.fp16Accumulate16?.value ? { fp16Accumulate16: f.fp16Accumulate16 } : {}),
    ...(f.memory.channels ? { memoryChannels: f.memory.channels } : {}),
    ...(f.host ? { host: { cpu: f.host.cpu, ...(f.host.memory ? { memoryBytes: f.host.memory } : {}), link: f.host.link } } : {}),
    ...(f.sparseCompute ? { sparseCompute: Object.fromEntries(Object.entries(f.sparseCompute).filter(([, v]) => v !== undefined)) } : {}),
    efficiency: { mfu: f.efficiency.mfu, mbu: f.efficiency.mbu, stepOverheadSeconds: f.efficiency.stepOverhead },
    prices: f.prices.map((p): Price => ({
      provider: p.provider, ...(p.region ? { region: p.region } : {}), kind: p.kind,
      ...(p.kind === 'purchase' ? { purchaseUsd: p.amount } : { usdPerHour: p.amount }),
      date: p.date, ...(p.instance ? { instance: p.instance } : {}), source: p.source,
    })),
    notes: f.notes,
  };
}

export const modelFileSchema = z.strictObject({
  $schema: schemaRef,
  id: slug,
  aliases: z.array(z.string()).default([]),
  name: z.string().min(1),
  hfRepo: z.string().optional(),
  source: z.string().min(1),
  published: z
    .strictObject({
      params: z.strictObject({ value: z.number().int().positive(), source, note: z.string().optional() }).optional(),
      activeParams: z.strictObject({ value: z.number().int().positive(), source, note: z.string().optional() }).optional(),
      checkpointBytes: z.strictObject({ value: quantity('bytes'), source, note: z.string().optional() }).optional(),
    })
    .optional(),
  /** what the model is served for when not generation (a decoder trunk used as an embedder); encoders take theirs from architectures */
  task: z.enum(MODEL_TASKS).optional(),
  config: z.record(z.string(), z.unknown()),
  notes: z.array(z.string()).optional(),
});

export type ModelFile = z.infer<typeof modelFileSchema>;

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * A spec file (`--spec`): the options of estimate, train, plan or simulate as keys, camelCase or kebab-case, each a single
 * value. For editors only: readSpecFile (src/inputs/resolve.ts) checks the values as flags.
 */
export function specFileSchema() {
  const value = z.union([z.string(), z.number(), z.boolean()]);
  // one schema for the spec files of estimate, train, plan, rag and simulate: each command checks its own keys
  const keys = [...new Set([...ESTIMATE_KEYS, ...TRAIN_KEYS, ...PLAN_KEYS, ...RAG_KEYS, ...SIMULATE_KEYS].flatMap((k) => [k, kebab(k)]))];
  return z.strictObject({ $schema: schemaRef, ...Object.fromEntries(keys.map((k) => [k, value.optional().describe(`same as --${kebab(k)}`)])) });
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * JSON Schema (draft 2020-12) of what a preset or spec file may hold: the input side of the
 * zod schemas (z.toJSONSchema with io: "input"), with each quantity shown as a string of a
 * number and a unit of its dimension, or "unknown".
 */
export function toJsonSchema(kind: 'model' | 'hardware' | 'spec'): Record<string, unknown> {
  const schema = kind === 'model' ? modelFileSchema : kind === 'hardware' ? hardwareFileSchema : specFileSchema();
  const json = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const js = ctx.jsonSchema as Record<string, unknown>;
      const dimension = js[DIMENSION_KEY] as Dimension | undefined;
      if (!dimension) return;
      for (const key of Object.keys(js)) delete js[key];
      // a price is USD/h, or USD for a purchase (kind: purchase)
      const accepted = dimension === 'price' ? [...unitsByDimension('price'), ...unitsByDimension('money')] : unitsByDimension(dimension);
      const units = [...accepted].sort((a, b) => b.length - a.length).map(escapeRegex).join('|');
      Object.assign(js, {
        type: 'string',
        pattern: `^\\s*([+-]?\\d+(\\.\\d+)?(e[+-]?\\d+)?\\s*(${units})|unknown)\\s*$`,
        description: `a number with a ${dimension} unit (${accepted.join(', ')}), or "unknown"`,
      });
    },
  }) as Record<string, unknown>;
  return { ...json, title: `llm-size ${kind} ${kind === 'spec' ? 'file' : 'preset'}` };
}
