import { extname } from 'node:path';
import { quote, UserError } from '../errors.js';
import { describeDistribution, MAX_TOKENS_PER_REQUEST, MAX_ZIPF_SPAN, meanTokens, type ArrivalProcess, type LengthDistribution, type Traffic } from '../estimate/workload.js';
import { grouped } from '../format/human.js';
import { choice, quantity } from './options.js';
import { parseTokens } from '../units.js';
import { readUserFile } from './files.js';
import type { Named, Raw } from './options.js';

/**
 * Traffic inputs: --input-tokens / --output-tokens as a number or a distribution, --arrival,
 * --workload presets, and the trace files they may name (JSONL or CSV of request lengths and
 * optional arrival times). Parsed here into the pure types of src/estimate/workload.ts.
 */

export const LENGTH_HELP = 'a number of tokens (1024, 32k) or a distribution: uniform:128..2048, lognormal:mean=1024,sd=600[,min=..][,max=..], zipf:s=1.1,min=16,max=8192, trace:<file.jsonl|file.csv>';
export const ARRIVAL_KINDS = ['poisson', 'gamma', 'constant', 'trace'] as const;
export const ARRIVAL_HELP = 'poisson, gamma:cv=<coefficient of variation, e.g. 2>, constant, or trace (the arrival times of the trace named by --input-tokens/--output-tokens)';

/**
 * Request-shape presets (--workload), each from a published trace or measurement. Values are
 * distributions in this tool's own syntax: log-normals with the trace's mean and standard
 * deviation (moment-matched, unclamped so the mean is the trace's; their medians come out below
 * the traces' where a trace is not log-normal, as the medians quoted show). The simulator caps
 * every request at the model's context.
 */
export const WORKLOADS = {
  chat: {
    description: 'conversational chat (Azure OpenAI production conversation trace)',
    inputTokens: 'lognormal:mean=1155,sd=1109',
    outputTokens: 'lognormal:mean=211,sd=163',
    arrival: 'poisson',
    source: 'Azure LLM inference trace 2023, conversation (Patel et al. 2024, Splitwise, ISCA; github Azure/AzurePublicDataset AzureLLMInferenceTrace_conv), 19,366 requests in 1 h as tokenized in github microsoft/vidur data/processed_traces/splitwise_conv.csv: prompts mean 1,155 sd 1,109 (median 1,020, p90 2,735, max 14,050), outputs mean 211 sd 163 (median 129, p90 424, max 1,000); gaps between arrivals have a coefficient of variation of 1.09 (Poisson: 1)',
  },
  rag: {
    description: 'document-grounded answers: long prompts of retrieved or uploaded documents, short answers',
    inputTokens: 'lognormal:mean=12035,sd=15800',
    outputTokens: 'lognormal:mean=343,sd=250',
    arrival: 'poisson',
    source: 'Mooncake (Kimi, Moonshot AI) conversation trace, FAST 2025 (Qin et al. 2025; github kvcache-ai/Mooncake FAST25-release/traces/conversation_trace.jsonl), 12,031 requests in 1 h whose prompts carry the documents retrieved or uploaded for them: prompts mean 12,035 sd 15,800 (median 6,909, p90 27,367, max 126,195), outputs mean 343 sd 250 (median 350, max 2,000). No public trace labels requests as RAG; this is the closest published production trace of document-grounded traffic. Its timestamps are bucketed to 3 s, so arrivals are taken as Poisson',
  },
  reasoning: {
    description: 'reasoning model on hard problems: short prompts, long heavy-tailed chains of thought',
    inputTokens: 'lognormal:mean=200,sd=100',
    outputTokens: 'lognormal:mean=4718,sd=4718,max=32768',
    arrival: 'poisson',
    source: 'outputs: DeepSeek-R1 generated 4,717.5 tokens on average on 30 hard MATH problems (Evstafev 2025, arXiv:2501.18576); cap 32,768, the maximum generation length of DeepSeek-R1\'s evaluations (DeepSeek-AI 2025, arXiv:2501.12948 sec. 3); sd = mean is an assumption (a tail like an exponential\'s, so about 1 in 20 answers runs past 3x the mean); the cap takes the mean to 4,686. Prompts: mean 200 sd 100 tokens assumed (a competition problem statement)',
  },
  summarization: {
    description: 'long-document summarization (arXiv papers to abstracts)',
    inputTokens: 'lognormal:mean=2588,sd=945',
    outputTokens: 'lognormal:mean=291,sd=531',
    arrival: 'poisson',
    source: 'arXiv summarization dataset (Cohan et al. 2018) as tokenized with the Llama 2 tokenizer and filtered to 4k by Vidur / Sarathi-Serve (Agrawal et al. 2024; github microsoft/vidur data/processed_traces/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv), 28,257 requests: prompts mean 2,588 sd 945 (median 2,730, max 4,054), outputs mean 291 sd 531 (median 167, p90 372, max 4,056)',
  },
} as const satisfies Record<string, { description: string; inputTokens: string; outputTokens: string; arrival: string; source: string }>;
export type WorkloadId = keyof typeof WORKLOADS;
export const WORKLOAD_IDS = Object.keys(WORKLOADS) as WorkloadId[];

/** One trace file, read once per run whichever flags name it. */
export interface Trace {
  file: string;
  input?: { column: string; values: number[] };
  output?: { column: string; values: number[] };
  /** arrival times in seconds from the first row, and how they were read */
  times?: { column: string; values: number[]; reading: string };
  rows: number;
  skipped: number;
}

// Column names in public traces and benchmark exports, compared lower-case without separators:
// Mooncake (input_length, output_length, timestamp in ms), BurstGPT (Request tokens, Response
// tokens, Timestamp in s), Azure LLM inference traces (ContextTokens, GeneratedTokens,
// TIMESTAMP as a date), Vidur / Splitwise (num_prefill_tokens, num_decode_tokens, arrived_at),
// vLLM benchmark exports (prompt_len / input_len, output_len).
const INPUT_COLUMNS = ['inputtokens', 'inputlength', 'inputlen', 'prompttokens', 'promptlength', 'promptlen', 'requesttokens', 'contexttokens', 'numprefilltokens', 'numprompttokens', 'isl'];
const OUTPUT_COLUMNS = ['outputtokens', 'outputlength', 'outputlen', 'completiontokens', 'responsetokens', 'generatedtokens', 'numdecodetokens', 'numcompletiontokens', 'osl'];
const TIME_COLUMNS = ['arrivaltime', 'arrivedat', 'arrival', 'timestamp', 'time'];
const normalize = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Splits one CSV line (RFC 4180 quotes). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') out.push(field), (field = '');
    else field += ch;
  }
  out.push(field);
  return out.map((f) => f.trim());
}

/**
 * Reads a trace of request lengths (and optional arrival times): JSONL (one object per line)
 * or CSV with a header row. Rows with zero output tokens (failed requests, as BurstGPT records
 * them) are skipped and counted.
 */
export function readTrace(file: string, where: string): Trace {
  const text = readUserFile(file, where);
  const lines = text.split(/\r?\n/);
  const isJson = ['.jsonl', '.json', '.ndjson'].includes(extname(file).toLowerCase()) || text.trimStart().startsWith('{');
  let header: string[] = [];
  const records: Record<string, unknown>[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    if (isJson) {
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new UserError(`${where}: ${file}:${i + 1}: not a JSON object (JSONL traces hold one request per line, e.g. {"input_length": 655, "output_length": 52, "timestamp": 0})`);
      }
      if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new UserError(`${where}: ${file}:${i + 1}: not a JSON object`);
      records.push(row as Record<string, unknown>);
      return;
    }
    const fields = csvFields(line);
    if (!header.length) header = fields;
    else records.push(Object.fromEntries(header.map((h, k) => [h, fields[k]])));
  });
  if (!records.length) throw new UserError(`${where}: ${file} holds no requests`);
  const keys = Object.keys(records[0]);
  const find = (names: string[]) => {
    for (const name of names) {
      const key = keys.find((k) => normalize(k) === name);
      if (key) return key;
    }
    return undefined;
  };
  const inputKey = find(INPUT_COLUMNS);
  const outputKey = find(OUTPUT_COLUMNS);
  const timeKey = find(TIME_COLUMNS);
  if (!inputKey && !outputKey) throw new UserError(`${where}: ${file} has no column of request lengths (found ${keys.join(', ') || 'none'}; expected input_tokens/prompt_len/input_length and output_tokens/output_len/output_length, or BurstGPT's and Azure's names)`);
  // Mooncake writes milliseconds (its README); other numeric times are seconds; dates are read as dates.
  const mooncake = timeKey === 'timestamp' && inputKey === 'input_length' && outputKey === 'output_length';
  const length = (row: Record<string, unknown>, key: string, line: number): number => {
    const raw = row[key];
    const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(v) || v < 0 || v > MAX_TOKENS_PER_REQUEST) throw new UserError(`${where}: ${file} row ${line}: ${key} ${quote(raw)} is not a token count (0 to ${MAX_TOKENS_PER_REQUEST})`);
    return Math.round(v);
  };
  const input: number[] = [];
  const output: number[] = [];
  const times: number[] = [];
  let skipped = 0;
  let dates = false;
  records.forEach((row, i) => {
    const inTokens = inputKey ? length(row, inputKey, i + 1) : 1;
    const outTokens = outputKey ? length(row, outputKey, i + 1) : 1;
    if (outTokens === 0 || inTokens === 0) {
      skipped++;
      return;
    }
    input.push(inTokens);
    output.push(outTokens);
    if (!timeKey) return;
    const raw = row[timeKey];
    let t = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(t) && typeof raw === 'string') {
      t = Date.parse(raw.includes('T') || !raw.includes(' ') ? raw : raw.replace(' ', 'T')) / 1000;
      dates = true;
    } else if (mooncake) t /= 1000;
    if (!Number.isFinite(t)) throw new UserError(`${where}: ${file} row ${i + 1}: ${timeKey} ${quote(raw)} is neither seconds nor a date`);
    times.push(t);
  });
  if (!input.length) throw new UserError(`${where}: ${file}: every row has zero input or output tokens`);
  let timesOut: Trace['times'];
  if (timeKey && times.length) {
    const t0 = Math.min(...times.slice(0, 1000));
    const relative = times.map((t) => t - t0);
    for (let i = 1; i < relative.length; i++) {
      if (relative[i] < relative[i - 1]) throw new UserError(`${where}: ${file} row ${i + 1}: arrival times must not decrease (${timeKey} goes from ${relative[i - 1]} to ${relative[i]} s after the first)`);
    }
    timesOut = { column: timeKey, values: relative, reading: dates ? 'dates' : mooncake ? 'milliseconds (the Mooncake trace format)' : 'seconds' };
  }
  return {
    file,
    input: inputKey ? { column: inputKey, values: input } : undefined,
    output: outputKey ? { column: outputKey, values: output } : undefined,
    times: timesOut,
    rows: input.length,
    skipped,
  };
}

const tokenCount = (text: string): number => parseTokens(text.trim());

/**
 * A length flag's value: a fixed count or a distribution. `traces` caches files read in this run
 * (the same file usually holds both lengths).
 */
export function lengthDistribution(n: Named, side: 'input' | 'output', traces: Map<string, Trace>): LengthDistribution {
  const bad = (why?: string) => new UserError(`${n.where}: invalid value ${quote(n.value)}${why ? ` (${why})` : ''}; expected ${LENGTH_HELP}`);
  if (typeof n.value === 'number' || (typeof n.value === 'string' && !n.value.includes(':'))) {
    const v = typeof n.value === 'number' ? n.value : tokenCount(n.value);
    if (!Number.isInteger(v) || v <= 0 || v > MAX_TOKENS_PER_REQUEST) throw bad(Number.isFinite(v) && v > MAX_TOKENS_PER_REQUEST ? `at most ${MAX_TOKENS_PER_REQUEST} tokens` : undefined);
    return { kind: 'fixed', value: v };
  }
  if (typeof n.value !== 'string') throw bad();
  const text = n.value.trim();
  const colon = text.indexOf(':');
  const kind = text.slice(0, colon).toLowerCase();
  const rest = text.slice(colon + 1).trim();
  const tokens = (s: string, what: string) => {
    const v = tokenCount(s);
    if (!Number.isInteger(v) || v <= 0 || v > MAX_TOKENS_PER_REQUEST) throw bad(`${what} must be a whole number of tokens from 1 to ${MAX_TOKENS_PER_REQUEST}`);
    return v;
  };
  const params = (allowed: string[]) => {
    const out: Record<string, string> = {};
    for (const part of rest.split(',')) {
      const m = /^\s*([a-z]+)\s*=\s*(\S+)\s*$/i.exec(part);
      if (!m) throw bad(`"${part}" is not name=value`);
      const key = m[1].toLowerCase();
      if (!allowed.includes(key)) throw bad(`unknown parameter "${m[1]}"; ${kind} takes ${allowed.join(', ')}`);
      out[key] = m[2];
    }
    return out;
  };
  switch (kind) {
    case 'uniform': {
      const m = /^(.+?)\.\.(.+)$/.exec(rest);
      if (!m) throw bad('uniform takes a range such as uniform:128..2048');
      const min = tokens(m[1], 'the low end');
      const max = tokens(m[2], 'the high end');
      if (max < min) throw bad('the range ends before it starts');
      return { kind: 'uniform', min, max };
    }
    case 'lognormal': {
      const p = params(['mean', 'sd', 'min', 'max']);
      if (p.mean === undefined || p.sd === undefined) throw bad('lognormal needs mean= and sd=');
      const mean = Number(p.mean);
      const sd = Number(p.sd);
      if (!Number.isFinite(mean) || mean < 1 || mean > MAX_TOKENS_PER_REQUEST) throw bad(`mean must be from 1 to ${MAX_TOKENS_PER_REQUEST} tokens`);
      if (!Number.isFinite(sd) || sd < 0 || sd > 1000 * mean) throw bad('sd must be a number of tokens from 0 to 1000 x the mean');
      const min = p.min !== undefined ? tokens(p.min, 'min') : 1;
      const max = p.max !== undefined ? tokens(p.max, 'max') : MAX_TOKENS_PER_REQUEST;
      if (max < min) throw bad('max is below min');
      return { kind: 'lognormal', mean, sd, min, max };
    }
    case 'zipf': {
      const p = params(['s', 'min', 'max']);
      if (p.s === undefined || p.max === undefined) throw bad('zipf needs s= (the exponent) and max=');
      const s = Number(p.s);
      if (!Number.isFinite(s) || s <= 0 || s > 10) throw bad('s must be an exponent above 0 and at most 10');
      const min = p.min !== undefined ? tokens(p.min, 'min') : 1;
      const max = tokens(p.max, 'max');
      if (max < min) throw bad('max is below min');
      if (max - min + 1 > MAX_ZIPF_SPAN) throw bad(`a zipf law spans at most ${MAX_ZIPF_SPAN} lengths`);
      return { kind: 'zipf', s, min, max };
    }
    case 'trace': {
      if (!rest) throw bad('trace: needs a file, e.g. trace:requests.jsonl');
      const trace = traces.get(rest) ?? readTrace(rest, n.where);
      traces.set(rest, trace);
      const column = trace[side];
      if (!column) throw new UserError(`${n.where}: ${rest} has no ${side} length column (it has ${side === 'input' ? 'only output' : 'only input'} lengths)`);
      return { kind: 'trace', values: column.values, file: rest, column: column.column };
    }
    default:
      throw bad(`unknown distribution "${kind}"`);
  }
}

/** --arrival: poisson | gamma:cv=2 | constant | trace (the times of the trace the lengths come from). */
export function arrivalProcess(n: Named, traces: Map<string, Trace>): ArrivalProcess {
  const text = String(n.value).trim().toLowerCase();
  const bad = (why?: string) => new UserError(`${n.where}: invalid value ${quote(n.value)}${why ? ` (${why})` : ''}; expected ${ARRIVAL_HELP}`);
  if (text === 'poisson' || text === 'constant') return { kind: text };
  if (text === 'gamma') throw bad('gamma needs its coefficient of variation, e.g. gamma:cv=2');
  const gamma = /^gamma:\s*cv\s*=\s*(\S+)$/.exec(text);
  if (gamma) return { kind: 'gamma', cv: quantity({ value: gamma[1], where: `${n.where} gamma:cv` }, 'arrivalCv') };
  if (text === 'trace') {
    const withTimes = [...traces.values()].find((t) => t.times);
    if (!withTimes) throw new UserError(`${n.where}: trace arrivals need --input-tokens or --output-tokens trace:<file> with an arrival-time column (timestamp, arrival_time, arrived_at)`);
    return { kind: 'trace', times: withTimes.times!.values, file: withTimes.file };
  }
  throw bad();
}

/** The request shape of an input: fixed lengths, or distributions (flags over a --workload preset). */
export interface ResolvedLengths {
  inputTokens: number;
  outputTokens: number;
  /** present when a length is a distribution or a preset was named */
  traffic?: Traffic;
  traces: Map<string, Trace>;
  warnings: string[];
}

/**
 * --input-tokens, --output-tokens and --workload: fixed numbers stay as they are; a distribution
 * gives the figures of its mean request (rounded to whole tokens), with a warning saying so.
 */
export function resolveLengths(raw: { inputTokens?: Raw; outputTokens?: Raw; workload?: Raw }, named: (key: 'inputTokens' | 'outputTokens' | 'workload') => Named, defaults: { inputTokens: number; outputTokens: number }): ResolvedLengths {
  const traces = new Map<string, Trace>();
  const warnings: string[] = [];
  const preset = raw.workload !== undefined ? WORKLOADS[choice(named('workload'), WORKLOAD_IDS)] : undefined;
  const presetWhere = `${named('workload').where} ${raw.workload}`;
  const side = (key: 'inputTokens' | 'outputTokens', which: 'input' | 'output'): LengthDistribution => {
    if (raw[key] !== undefined) return lengthDistribution(named(key), which, traces);
    if (preset) return lengthDistribution({ value: preset[key], where: presetWhere }, which, traces);
    return { kind: 'fixed', value: defaults[key] };
  };
  const input = side('inputTokens', 'input');
  const output = side('outputTokens', 'output');
  for (const trace of traces.values()) {
    if (trace.skipped) warnings.push(`${trace.file}: ${grouped(trace.skipped)} of ${grouped(trace.rows + trace.skipped)} rows have zero input or output tokens (failed requests) and are left out`);
  }
  const mean = (d: LengthDistribution) => Math.max(1, Math.round(meanTokens(d)));
  const inputTokens = mean(input);
  const outputTokens = mean(output);
  if (input.kind === 'fixed' && output.kind === 'fixed' && !preset) return { inputTokens, outputTokens, traces, warnings };
  const shown = [input.kind !== 'fixed' && `input ${describeDistribution(input)} (mean ${grouped(inputTokens)})`, output.kind !== 'fixed' && `output ${describeDistribution(output)} (mean ${grouped(outputTokens)})`].filter(Boolean).join(', ');
  warnings.push(`${preset ? `workload ${raw.workload}: ` : ''}${shown || 'fixed lengths'}: these figures are for the mean request, ${grouped(inputTokens)} in / ${grouped(outputTokens)} out; \`llm-size simulate\` serves the distribution and gives percentiles`);
  return { inputTokens, outputTokens, traffic: { input, output, workload: preset ? String(raw.workload).toLowerCase() : undefined }, traces, warnings };
}
