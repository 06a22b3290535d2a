import { z } from 'zod';
import { presetFiles, readUserFile } from './files.js';
import { parseFile, type FileIssue } from './validate.js';

/**
 * Per-token API prices for open models (presets/api/<model>.yaml): what hosted providers charge
 * per million input, cached input and output tokens, each dated and sourced. `plan
 * --compare-api` compares a deployment's cost with paying one of them for the same tokens.
 * Loaded with zod only at build time (scripts/build-presets.ts); runs read the JSON.
 */
export interface ApiPrice {
  provider: string;
  /** USD per million input tokens */
  usdPerMillionInput: number;
  /** USD per million input tokens read from the provider's prompt cache; absent = not discounted */
  usdPerMillionCachedInput?: number;
  /** USD per million output tokens */
  usdPerMillionOutput: number;
  date: string;
  /** the weights' precision the provider serves, when it says */
  precision?: string;
  source: string;
}

/** One model's API prices; `id` is the model preset id. */
export interface ApiPriceSet {
  id: string;
  aliases: string[];
  prices: ApiPrice[];
}

const usd = z.number().nonnegative().max(1000, 'more than any API charges per million tokens; the unit is USD per million tokens');

export const apiPriceFileSchema = z.strictObject({
  model: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'a model preset id such as "llama-3.3-70b"'),
  prices: z.array(z.strictObject({
    provider: z.string().min(1),
    usdPerMillionInput: usd,
    usdPerMillionCachedInput: usd.optional(),
    usdPerMillionOutput: usd,
    date: z.union([z.string(), z.date()]).transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d)),
    precision: z.string().optional(),
    source: z.string().min(1, 'every price needs a source'),
  })).min(1),
});

/** Reads and validates API price presets; problems come back with file, line and field. */
export function loadApiPriceFiles(paths: string[]): { sets: ApiPriceSet[]; issues: FileIssue[] } {
  const sets: ApiPriceSet[] = [];
  const issues: FileIssue[] = [];
  for (const file of paths.flatMap((p) => presetFiles(p, 'presets'))) {
    const parsed = parseFile(file, readUserFile(file, 'presets'), apiPriceFileSchema);
    if (!parsed.ok) {
      issues.push(...parsed.issues);
      continue;
    }
    sets.push({ id: parsed.value.model, aliases: [], prices: parsed.value.prices });
  }
  return { sets, issues };
}
