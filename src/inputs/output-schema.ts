import type { Unit } from '../units.js';
import { FIX_KINDS, VERDICT_STATUSES } from '../estimate/verdict.js';

/**
 * The published JSON Schema (draft 2020-12) of `--format json` output: `llm-size schema output`
 * prints it. The contract: a field or figure id is never renamed or given another unit within a
 * `schemaVersion`; new fields and ids may be added (objects allow extra properties).
 *
 * Hand-written rather than generated, so that the schema module loads no zod; a test validates
 * real output against it with `validateJson` below.
 */

/** Every base unit a figure may carry; the check below fails the build when units.ts adds one. */
export const OUTPUT_UNITS = ['B', 's', 'FLOP', 'FLOP/s', 'B/s', 'W', 'J', 'USD', 'USD/h', 'tokens', 'tokens/s', 'requests/s', 'sequences/s', 'params', 'kgCO2e', 'count', 'fraction', 'ratio', 'tokens/step'] as const satisfies readonly Unit[];
type MissingUnit = Exclude<Unit, (typeof OUTPUT_UNITS)[number]>;
const everyUnitListed: [MissingUnit] extends [never] ? true : { addToOutputUnits: MissingUnit } = true;
void everyUnitListed;

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const num: Schema = { type: 'number' };
const bool: Schema = { type: 'boolean' };
const obj = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({ type: 'object', properties, required });
/** An object schema with further properties that may be absent. */
const withOptional = (schema: Schema, properties: Record<string, Schema>): Schema => ({ ...schema, properties: { ...(schema.properties as Record<string, Schema>), ...properties } });
const bound: Schema = { enum: ['compute', 'memory'] };

export const OUTPUT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:llm-size:output:1',
  title: 'llm-size JSON output, schemaVersion 1',
  description: 'What `llm-size <command> --format json` prints. Values are in base units (B, s, FLOP, FLOP/s, USD ...). Ids and fields are never renamed within a schemaVersion; new ones may be added.',
  anyOf: [{ $ref: '#/$defs/estimate' }, { $ref: '#/$defs/train' }, { $ref: '#/$defs/rag' }, { $ref: '#/$defs/plan' }, { $ref: '#/$defs/sweep' }, { $ref: '#/$defs/simulate' }, { $ref: '#/$defs/simulateSweep' }, { $ref: '#/$defs/check' }, { $ref: '#/$defs/presetsList' }, { $ref: '#/$defs/presetsShow' }, { $ref: '#/$defs/figures' }],
  $defs: {
    figure: {
      type: 'object',
      description: 'A named term: value in `unit`, how it was computed (formula, inputs) and on whose authority (source). A figure with `parts` is exactly the sum of those figures.',
      properties: {
        id: str,
        label: str,
        value: num,
        unit: { enum: [...OUTPUT_UNITS] },
        formula: str,
        inputs: { type: 'object', additionalProperties: { type: ['number', 'string', 'boolean'] } },
        source: str,
        parts: { type: 'array', items: str },
        approximate: bool,
        low: num,
        high: num,
      },
      required: ['id', 'label', 'value', 'unit', 'formula', 'inputs', 'source'],
    },
    figures: {
      description: 'Every figure result (estimate, train, plan): named figures in base units, whether it fits, and warnings',
      ...obj({
        schemaVersion: { const: 1 },
        input: { type: 'object' },
        figures: { type: 'object', additionalProperties: { $ref: '#/$defs/figure' } },
        fits: bool,
        warnings: { type: 'array', items: str },
      }),
    },
    estimate: {
      description: '`llm-size estimate --format json`; with --prefill-workers and --decode-workers a disaggregated deployment: its pools under `disaggregated`, each with the estimate of one worker',
      ...withOptional(obj({
        schemaVersion: { const: 1 },
        input: obj({
          model: obj({ id: str, name: str, family: str, shape: str, shapeAssumed: bool }),
          precision: obj({ weights: str, kv: str, activations: str, compute: str }),
          workload: obj({ batch: { type: 'integer' }, inputTokens: { type: 'integer' }, outputTokens: { type: 'integer' }, context: { type: 'integer' } }),
          hardware: obj({ id: str, name: str, count: { type: 'integer' }, usdPerDeviceHour: { type: ['number', 'null'] } }),
          engine: str,
          engineChoice: obj({ id: str, version: str, name: str, reason: str }),
        }, ['model', 'precision', 'workload', 'hardware']),
        figures: { type: 'object', additionalProperties: { $ref: '#/$defs/figure' } },
        fits: bool,
        verdict: { $ref: '#/$defs/verdict' },
        bounds: obj({ prefill: bound, decode: bound }, ['prefill']),
        warnings: { type: 'array', items: str },
      }, ['schemaVersion', 'input', 'figures', 'fits', 'verdict', 'bounds', 'warnings']), {
        loadCarried: bool,
        offload: { description: 'llama.cpp (docs/levers.md): the most layers that fit on the GPU (--gpu-layers) and the decode speed then, when the model does not fit', ...obj({ gpuLayers: { type: 'integer' }, layers: { type: 'integer' }, host: str, decodeTokensPerSecond: num, hostWeightBytes: num }) },
        disaggregated: obj({
          prefill: { $ref: '#/$defs/pool' },
          decode: { $ref: '#/$defs/pool' },
          kvTransfer: obj({ bytes: num, seconds: num, link: str }),
        }),
      }),
    },
    pool: {
      description: 'One pool of a disaggregated deployment: its workers, one worker\'s layout, hardware and formats, the prompts per step (prefill) or sequences decoding at once (decode) per worker, and that worker\'s estimate',
      ...obj({
        workers: { type: 'integer' }, devicesPerWorker: { type: 'integer' },
        parallel: withOptional(obj({ tp: { type: 'integer' }, pp: { type: 'integer' }, ep: { type: 'integer' }, replicas: { type: 'integer' } }), { dpAttention: { type: 'integer' }, redundantExperts: { type: 'integer' } }),
        hardware: str, weights: str, kv: str, batch: { type: 'integer' },
        estimate: { $ref: '#/$defs/estimate' },
      }),
    },
    rag: {
      description: '`llm-size rag --format json`: corpus embedding (embedding.*), vector index (index.*), per-query retrieval and end-to-end figures (rag.*) next to the generator\'s estimate figures',
      ...obj({
        schemaVersion: { const: 1 },
        input: obj({
          corpus: obj({ tokens: num, documents: num, chunkTokens: { type: 'integer' }, overlapTokens: { type: 'integer' }, chunks: num }),
          embedding: obj({ model: obj({ id: str, name: str }, ['id', 'name']), hardware: str, devices: { type: 'integer' }, batch: { type: 'integer' }, dimension: { type: 'integer' }, vectorPrecision: str }),
          index: obj({ kind: str, dimension: { type: 'integer' }, precision: str, device: str }, ['kind', 'dimension', 'precision', 'device']),
          query: obj({ topK: { type: 'integer' }, queryTokens: { type: 'integer' }, systemTokens: { type: 'integer' }, promptTokens: num, rerank: { type: ['object', 'null'] } }),
          generator: { type: 'object' },
        }),
        figures: { type: 'object', additionalProperties: { $ref: '#/$defs/figure' } },
        fits: bool,
        warnings: { type: 'array', items: str },
      }),
    },
    verdictFix: {
      description: 'A change that makes the configuration run: the llm-size flag and value (the same change on the engine launch line), and what it gives',
      ...obj({ change: { enum: [...FIX_KINDS] }, flag: str, value: { type: ['number', 'string'] }, detail: str }),
    },
    verdict: {
      description: 'One verdict: status (fits, weights-do-not-fit, context-exceeds-model, kv-budget-too-small, over-scheduler-limit), the binding limit in numbers, the smallest change that makes it run (fix) and every change tried that does (fixes), and the same in words (message, the table\'s last line)',
      ...obj({
        status: { enum: [...VERDICT_STATUSES] },
        limit: obj({ name: str, needed: num, available: num, unit: { enum: ['B', 'tokens', 'count'] } }),
        fix: { $ref: '#/$defs/verdictFix' },
        fixes: { type: 'array', items: { $ref: '#/$defs/verdictFix' } },
        message: str,
      }, ['status', 'limit', 'fixes', 'message']),
    },
    train: {
      description: '`llm-size train --format json`: training figures, whether it fits per device, and the smallest changes that make it fit',
      ...obj({
        schemaVersion: { const: 1 },
        input: obj({
          model: obj({ id: str, name: str, family: str, shape: str, shapeAssumed: bool }),
          hardware: obj({ id: str, name: str, count: { type: 'integer' }, usdPerDeviceHour: { type: ['number', 'null'] } }),
          training: obj(
            {
              method: { enum: ['full', 'lora', 'qlora'] }, precision: str, compute: str, optimizer: str, zero: { enum: [0, 1, 2, 3] }, recompute: { enum: ['none', 'selective', 'full'] },
              sequenceParallel: bool, tp: { type: 'integer' }, pp: { type: 'integer' }, cp: { type: 'integer' }, dp: { type: 'integer' },
              seqLen: { type: 'integer' }, microBatch: { type: 'integer' }, globalBatch: { type: 'integer' }, gradientAccumulation: { type: 'integer' },
              tokens: { type: ['number', 'null'] }, tokensDefaulted: bool,
              lora: { anyOf: [{ type: 'null' }, obj({ rank: { type: 'integer' }, targets: { type: 'array', items: str } })] },
            },
          ),
        }),
        figures: { type: 'object', additionalProperties: { $ref: '#/$defs/figure' } },
        fits: bool,
        suggestions: { type: 'array', items: obj({ change: str, perDeviceBytes: num, fits: bool }) },
        warnings: { type: 'array', items: str },
      }),
    },
    planRow: {
      description: 'One deployment of a plan: layout per replica, replicas, latencies (s) and costs at the offered load, why it meets the targets, what bounds it, and the estimate command that reproduces it',
      ...obj({
        hardware: str, weights: str, kv: str, tp: { type: 'integer' }, pp: { type: 'integer' }, ep: { type: 'integer' }, dpAttention: { type: 'integer' }, redundantExperts: { type: 'integer' },
        devicesPerReplica: { type: 'integer' }, replicas: { type: 'integer' }, devices: { type: 'integer' }, concurrencyPerReplica: { type: 'integer' },
        ttft: num, tpot: num, e2e: num, usdPerHour: num, usdPerMillionOutputTokens: num,
        why: str, bound: str, estimateCommand: str,
        priceKind: { enum: ['on-demand', 'reserved-1y', 'reserved-3y', 'spot', 'marketplace', 'purchase', null] }, capexUsd: { type: ['number', 'null'] },
      }),
    },
    planPool: {
      description: 'One pool of a disaggregated plan: hardware, formats, workers and one worker\'s layout, its batch (prompts per prefill step, or sequences per decode worker) and its cost',
      ...obj({
        hardware: str, weights: str, kv: str, workers: { type: 'integer' }, devicesPerWorker: { type: 'integer' }, devices: { type: 'integer' },
        tp: { type: 'integer' }, pp: { type: 'integer' }, ep: { type: 'integer' }, dpAttention: { type: 'integer' }, redundantExperts: { type: 'integer' },
        batch: { type: 'integer' }, usdPerHour: num,
      }),
    },
    plan: {
      description: '`llm-size plan --format json`: deployments meeting the latency targets at the load, cheapest per million output tokens first',
      ...withOptional(obj({
        schemaVersion: { const: 1 },
        input: obj({
          model: obj({ id: str, name: str }),
          workload: obj({ inputTokens: { type: 'integer' }, outputTokens: { type: 'integer' }, context: { type: 'integer' } }),
          load: obj({ qps: { type: ['number', 'null'] }, concurrency: { type: ['integer', 'null'] } }),
          targets: obj({ ttft: { type: ['number', 'null'] }, tpot: { type: ['number', 'null'] }, e2e: { type: ['number', 'null'] } }),
          engine: str,
          maxDevices: { type: 'integer' },
          hardware: { type: 'array', items: str },
          weights: { type: 'array', items: str },
          priceKind: { enum: ['on-demand', 'reserved-1y', 'reserved-3y', 'spot', 'marketplace', 'purchase'] },
        }),
        rows: { type: 'array', items: { $ref: '#/$defs/planRow' } },
        top: {
          anyOf: [
            { type: 'null' },
            {
              allOf: [
                { $ref: '#/$defs/planRow' },
                obj({
                  figures: { type: 'object', additionalProperties: { $ref: '#/$defs/figure' } },
                  launch: { type: 'array', items: obj({ engine: str, command: str }) },
                }),
              ],
            },
          ],
        },
        closest: { anyOf: [{ type: 'null' }, { allOf: [{ $ref: '#/$defs/planRow' }, obj({ failing: { type: 'array', items: str }, maxDevices: { type: 'integer' } })] }] },
        byHardware: {
          type: 'array',
          items: obj({
            hardware: str, usdPerDeviceHour: num,
            status: { enum: ['ranked', 'meets', 'needs-devices', 'misses', 'no-fit', 'not-evaluated'] },
            usdPerMillionOutputTokens: { type: ['number', 'null'] }, devicesNeeded: { type: ['integer', 'null'] }, text: str,
          }),
        },
        byLayout: {
          type: 'array',
          items: withOptional(obj({ family: str, usdPerMillionOutputTokens: { type: ['number', 'null'] }, hardware: { type: ['string', 'null'] }, devicesPerReplica: { type: ['integer', 'null'] }, replicas: { type: ['integer', 'null'] } }), { estimated: bool, note: { enum: ['costlier', 'needs-devices', 'unestimated'] } }),
        },
        owned: {
          description: 'Owned hardware ranked apart from the rentals (devices with only a purchase price: amortized purchase + electricity + colocation per hour); null when every device searched has the same kind of price',
          anyOf: [
            { type: 'null' },
            obj({
              hardware: { type: 'array', items: str },
              rows: { type: 'array', items: { $ref: '#/$defs/planRow' } },
              byHardware: { type: 'array', items: obj({ hardware: str, usdPerDeviceHour: num, status: str, usdPerMillionOutputTokens: { type: ['number', 'null'] }, devicesNeeded: { type: ['integer', 'null'] }, text: str }) },
            }),
          ],
        },
        compareApi: {
          anyOf: [
            { type: 'null' },
            obj({
              model: str, cachedInputShare: num, selfHostUsdPerMonth: num, requestsPerMonthAtLoad: num, tokensPerMonthAtLoad: num,
              rows: {
                type: 'array',
                items: obj({
                  provider: str, date: str, source: str, usdPerMillionInput: num, usdPerMillionCachedInput: { type: ['number', 'null'] }, usdPerMillionOutput: num,
                  apiUsdPerRequest: num, apiUsdPerMonthAtLoad: num, breakEvenUtilisation: num, breakEvenRequestsPerMonth: num, breakEvenTokensPerMonth: num, selfHostingCanBeCheaper: bool,
                }),
              },
              figures: { type: 'object', additionalProperties: { $ref: '#/$defs/figure' } },
            }),
          ],
        },
        configurationsSearched: { type: 'integer' },
        configurationsEvaluated: { type: 'integer' },
        configurationsFitting: { type: 'integer' },
        warnings: { type: 'array', items: str },
      }), {
        disaggregated: {
          description: 'plan --disaggregated auto|on (default auto with --qps): the cheapest disaggregated deployment (prefill and decode pools, each with its own hardware, layout, precision), beside the best aggregated row, which wins and why; null with off or --concurrency',
          anyOf: [
            { type: 'null' },
            obj({
              mode: { enum: ['auto', 'on'] },
              best: {
                anyOf: [
                  { type: 'null' },
                  obj({
                    prefill: { $ref: '#/$defs/planPool' }, decode: { $ref: '#/$defs/planPool' }, ratio: num, devices: { type: 'integer' },
                    ttft: num, tpot: num, e2e: num, kvTransfer: obj({ bytes: num, seconds: num, link: str }),
                    usdPerHour: num, usdPerMillionOutputTokens: num, estimateCommand: str,
                    figures: { type: 'object', additionalProperties: { $ref: '#/$defs/figure' } },
                  }),
                ],
              },
              aggregated: { anyOf: [{ type: 'null' }, obj({ usdPerHour: num, usdPerMillionOutputTokens: num, devices: { type: 'integer' } })] },
              winner: { enum: ['aggregated', 'disaggregated', null] },
              why: str,
              launch: { type: 'array', items: obj({ engine: str, command: str }) },
              configurationsSearched: { type: 'integer' }, configurationsEvaluated: { type: 'integer' },
            }),
          ],
        },
        simulation: {
          description: 'With percentile targets (--ttft-p99 ...) or length distributions: the rows were served in simulation and carry its replicas; what the percentile targets add over the same thresholds on the median',
          ...obj({
            targets: { type: 'array', items: obj({ metric: str, percentile: { type: 'integer' }, seconds: num }) },
            rowsVerified: { type: 'integer' }, simulations: { type: 'integer' },
            devices: { type: ['integer', 'null'] }, medianDevices: { type: ['integer', 'null'] }, devicesAddedByPercentiles: { type: ['integer', 'null'] },
            usdPerHour: { type: ['number', 'null'] }, topPickMedianDevices: { type: ['integer', 'null'] },
            medianBest: { anyOf: [{ type: 'null' }, { type: 'object' }] },
          }),
        },
      }),
    },
    simulationInput: {
      description: 'What a simulation served: the deployment, the traffic (distributions as typed), the requests and seed, the scheduler it ran',
      ...obj({
        model: obj({ id: str, name: str }),
        hardware: obj({ id: str, name: str, count: { type: 'integer' } }),
        parallel: withOptional(obj({ tp: { type: 'integer' }, pp: { type: 'integer' }, ep: { type: 'integer' }, replicas: { type: 'integer' } }), { dpAttention: { type: 'integer' }, redundantExperts: { type: 'integer' } }),
        engine: str,
        precision: obj({ weights: str, kv: str }),
        traffic: obj({ inputTokens: str, outputTokens: str, arrival: { type: ['string', 'null'] }, workload: { type: ['string', 'null'] } }),
        requests: { type: 'integer' },
        seed: { type: 'integer' },
        scheduler: withOptional(obj({ maxNumSeqs: { type: ['integer', 'null'] }, maxNumBatchedTokens: { type: ['integer', 'null'] }, policy: { enum: ['decode-first', 'prefill-first'] }, chunkedPrefill: bool }), { stepsPerSchedule: { type: 'integer' }, perAttentionGroup: obj({ groups: { type: 'integer' }, maxNumSeqs: { type: ['integer', 'null'] }, maxNumBatchedTokens: { type: ['integer', 'null'] }, limits: { enum: ['per-rank flags', 'flags divided over the groups'] }, dispatch: { enum: ['round-robin', 'fewest'] } }) }),
      }),
    },
    targetResult: {
      description: 'A percentile target against the simulated percentile (seconds)',
      ...obj({ metric: { enum: ['ttft', 'tpot', 'itl', 'e2e'] }, percentile: { type: 'integer' }, seconds: num, actual: num, met: bool }),
    },
    simulate: {
      description: '`llm-size simulate --format json` at one load: latency percentiles (latency.ttft.p50 ... latency.e2e.p99, .mean), throughput, goodput, the engine state over time, target verdicts',
      ...obj({
        schemaVersion: { const: 1 },
        input: { allOf: [{ $ref: '#/$defs/simulationInput' }, obj({ load: obj({ qps: { type: ['number', 'null'] }, concurrency: { type: ['integer', 'null'] } }) })] },
        figures: { type: 'object', additionalProperties: { $ref: '#/$defs/figure' } },
        targets: { type: 'array', items: { $ref: '#/$defs/targetResult' } },
        met: { type: ['boolean', 'null'] },
        series: obj({ time: { type: 'array', items: num }, waiting: { type: 'array', items: num }, running: { type: 'array', items: num }, kvUsedFraction: { type: 'array', items: num } }),
        warnings: { type: 'array', items: str },
      }),
    },
    simulateSweep: {
      description: '`llm-size simulate --qps a..b --format json`: one simulation per offered load',
      ...obj({
        schemaVersion: { const: 1 },
        input: { $ref: '#/$defs/simulationInput' },
        points: { type: 'array', items: obj({ qps: num, figures: { type: 'object', additionalProperties: { $ref: '#/$defs/figure' } }, targets: { type: 'array', items: { $ref: '#/$defs/targetResult' } }, met: { type: ['boolean', 'null'] } }) },
        warnings: { type: 'array', items: str },
      }),
    },
    sourced: {
      description: 'A preset value in base units with its source; null value = unknown',
      ...obj({ value: { type: ['number', 'null'] }, source: str, note: str }, ['value', 'source']),
    },
    presetsList: {
      description: '`llm-size presets list [hardware|models|regions] --format json`: hardware presets as in `presets show` (values in base units, each with its source), model summaries, grid carbon-intensity regions (gCO2e per kWh)',
      type: 'object',
      properties: {
        schemaVersion: { const: 1 },
        hardware: {
          type: 'array',
          items: obj(
            { id: str, aliases: { type: 'array', items: str }, name: str, vendor: str, kind: str, memoryBytes: { $ref: '#/$defs/sourced' }, memoryBandwidth: { $ref: '#/$defs/sourced' }, compute: { type: 'object', additionalProperties: { $ref: '#/$defs/sourced' } } },
          ),
        },
        models: {
          type: 'array',
          items: obj({ id: str, aliases: { type: 'array', items: str }, name: str, family: str, hfRepo: { type: ['string', 'null'] }, source: str, params: { type: 'integer' }, activeParams: { type: 'integer' }, maxContext: { type: 'integer' } }),
        },
        regions: {
          type: 'array',
          items: obj({ id: str, aliases: { type: 'array', items: str }, name: str, gco2PerKwh: num, year: { type: 'integer' }, source: str }),
        },
      },
      required: ['schemaVersion'],
      anyOf: [{ required: ['hardware'] }, { required: ['models'] }, { required: ['regions'] }],
    },
    presetsShow: {
      description: '`llm-size presets show <id> --format json`: one preset, every value in base units with its source',
      ...obj({ schemaVersion: { const: 1 }, kind: { enum: ['hardware', 'model'] }, preset: obj({ id: str, name: str }) }),
    },
    sweep: {
      description: '`llm-size sweep --format json`: one point per combination of the swept values',
      ...obj({
        schemaVersion: { const: 1 },
        over: { type: 'array', items: obj({ key: str, values: { type: 'array', items: { type: ['number', 'string'] } } }) },
        units: { type: 'object', additionalProperties: { enum: [...OUTPUT_UNITS] } },
        points: {
          type: 'array',
          items: obj({
            at: { type: 'object', additionalProperties: { type: ['number', 'string'] } },
            fits: bool,
            bounds: obj({ prefill: bound, decode: bound }, ['prefill']),
            figures: { type: 'object', additionalProperties: num, description: 'figure id -> value in the unit given in `units`' },
            hardware: str,
          }),
        },
        warnings: { type: 'array', items: str },
      }),
    },
    check: {
      description: '`llm-size check <deployments.yaml> --format json`',
      ...obj({
        schemaVersion: { const: 1 },
        file: str,
        passed: bool,
        deployments: {
          type: 'array',
          items: obj({
            name: str,
            passed: bool,
            assertions: {
              type: 'array',
              items: obj({
                assertion: str,
                figure: str,
                op: { enum: ['<=', '<', '>=', '>', '=='] },
                expected: { type: ['number', 'boolean'] },
                actual: { type: ['number', 'boolean'] },
                unit: { type: ['string', 'null'] },
                passed: bool,
              }),
            },
          }),
        },
      }),
    },
  },
} as const;

/**
 * A small JSON Schema validator for the keywords OUTPUT_SCHEMA uses (type, const, enum,
 * properties, required, additionalProperties, items, anyOf, allOf, local $ref). Returns one message per
 * problem, with its JSON path; empty when `value` is valid.
 */
export function validateJson(schema: unknown, value: unknown, root: unknown = schema, path = '$'): string[] {
  const s = schema as Schema;
  if (typeof s.$ref === 'string') {
    const target = s.$ref.replace(/^#\//, '').split('/').reduce<any>((node, key) => node?.[key], root);
    if (!target) return [`${path}: unresolved $ref ${s.$ref}`];
    return validateJson(target, value, root, path);
  }
  const errors: string[] = [];
  if (Array.isArray(s.allOf)) for (const sub of s.allOf) errors.push(...validateJson(sub, value, root, path));
  if (Array.isArray(s.anyOf)) {
    const results = s.anyOf.map((sub) => validateJson(sub, value, root, path));
    if (!results.some((r) => r.length === 0)) errors.push(`${path}: matches none of anyOf (${results.map((r) => r[0]).join(' | ')})`);
  }
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((t) => typeMatches(t as string, value))) return [...errors, `${path}: expected ${types.join(' or ')}, got ${JSON.stringify(value)}`];
  }
  if ('const' in s && value !== s.const) errors.push(`${path}: expected ${JSON.stringify(s.const)}, got ${JSON.stringify(value)}`);
  if (Array.isArray(s.enum) && !s.enum.includes(value)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${s.enum.join(', ')}`);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    for (const key of (s.required ?? []) as string[]) if (!(key in record)) errors.push(`${path}: missing required field "${key}"`);
    for (const [key, v] of Object.entries(record)) {
      if (properties[key]) errors.push(...validateJson(properties[key], v, root, `${path}.${key}`));
      else if (s.additionalProperties === false) errors.push(`${path}: unexpected field "${key}"`);
      else if (typeof s.additionalProperties === 'object') errors.push(...validateJson(s.additionalProperties, v, root, `${path}.${key}`));
    }
  }
  if (Array.isArray(value) && s.items) value.forEach((v, i) => errors.push(...validateJson(s.items, v, root, `${path}[${i}]`)));
  return errors;
}

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}
