import { z } from 'zod';
import { parseQuantity, type Dimension } from '../units.js';
import type { HardwareSpec, Sourced } from './hardware.js';
import { COMPUTE_CLASSES } from './precision.js';

/**
 * zod schemas for preset files. Values are written with their unit ("3.35 TB/s", "80 GiB");
 * the schemas check the dimension and convert to base units. Loaded only by commands that
 * read user files or validate presets (built-in presets are converted at build time).
 */

const source = z.string().min(1, 'every value needs a source');

/** "80 GiB" -> bytes, "unknown" -> null, with the dimension checked. */
const quantity = (dimension: Dimension) =>
  z.union([z.string(), z.number()]).transform((text, ctx): number | null => {
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

const price = z.strictObject({
  provider: z.string().min(1),
  price: quantity('price'),
  date: z.union([z.string(), z.date()]).transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d)),
  kind: z.string().optional(),
  instance: z.string().optional(),
  source,
  note: z.string().optional(),
});

export const VENDORS = ['nvidia', 'amd', 'google', 'intel', 'apple'] as const;
export const HARDWARE_KINDS = ['gpu', 'tpu', 'hpu', 'soc'] as const;

const slug = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'ids are lower-case slugs like "h100-sxm"');

export const hardwareFileSchema = z.strictObject({
  id: slug,
  aliases: z.array(z.string()).default([]),
  name: z.string().min(1),
  vendor: z.enum(VENDORS),
  kind: z.enum(HARDWARE_KINDS),
  memory: z.strictObject({ capacity: sourced('bytes'), bandwidth: sourced('bandwidth'), type: z.string().optional() }),
  compute: z.strictObject(Object.fromEntries(COMPUTE_CLASSES.map((c) => [c, sourced('compute').optional()])) as Record<(typeof COMPUTE_CLASSES)[number], z.ZodOptional<ReturnType<typeof sourced>>>),
  interconnect: z
    .strictObject({ intraNode: link.optional(), interNode: link.optional(), devicesPerNode: z.number().int().positive() })
    .default({ devicesPerNode: 1 }),
  tdp: sourced('power'),
  runtimeOverhead: sourced('bytes'),
  efficiency: z.strictObject({ mfu: fraction, mbu: fraction, stepOverhead: sourced('time') }),
  prices: z.array(price).default([]),
  sources: z.array(z.string()).optional(),
  notes: z.array(z.string()).optional(),
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
    memoryBytes: needKnown(f.memory.capacity, 'memory.capacity'),
    memoryBandwidth: needKnown(f.memory.bandwidth, 'memory.bandwidth'),
    compute: Object.fromEntries(Object.entries(f.compute).filter(([, v]) => v !== undefined)),
    intraNode: f.interconnect.intraNode,
    interNode: f.interconnect.interNode,
    devicesPerNode: f.interconnect.devicesPerNode,
    tdpWatts: f.tdp,
    runtimeOverheadBytes: f.runtimeOverhead,
    efficiency: { mfu: f.efficiency.mfu, mbu: f.efficiency.mbu, stepOverheadSeconds: f.efficiency.stepOverhead },
    prices: f.prices.map((p) => ({ provider: p.provider, usdPerHour: p.price ?? 0, date: p.date, kind: p.kind, source: p.source })).filter((p) => p.usdPerHour > 0),
    notes: f.notes,
  };
}

export const modelFileSchema = z.strictObject({
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
  config: z.record(z.string(), z.unknown()),
  notes: z.array(z.string()).optional(),
});

export type ModelFile = z.infer<typeof modelFileSchema>;
