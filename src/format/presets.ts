import { describeShape } from '../inputs/model.js';
import type { ModelPreset } from '../inputs/catalog.js';
import { PRICE_KINDS, type HardwareSpec, type Link, type Sourced } from '../inputs/hardware.js';
import { DEFAULT_AMORTIZE_YEARS, defaultPrice } from '../inputs/price.js';
import { COMPUTE_CLASSES } from '../inputs/precision.js';
import type { Unit } from '../units.js';
import { formatValue, grouped } from './human.js';

/**
 * `presets show` for people: every value with its unit (rounded, and exact in base units)
 * and its source. Pure: strings in, string out.
 */

const exact = (value: number, unit: Unit): string => (unit === 'B' ? ` (${grouped(value)} B)` : '');

function sourcedLines(field: string, s: Sourced | undefined, unit: Unit, suffix = ''): string[] {
  if (!s) return [];
  const value = s.value === null ? 'unknown (not published)' : `${formatValue(s.value, unit)}${exact(s.value, unit)}${suffix}`;
  return [`${field.padEnd(24)} ${value}`, `  source: ${s.source}`, ...(s.note ? [`  note:   ${s.note}`] : [])];
}

function linkLines(field: string, link: Link | undefined): string[] {
  if (!link) return [`${field.padEnd(24)} none listed`];
  return [`${field.padEnd(24)} ${link.name}`, ...sourcedLines(`${field}.bandwidth`, link.bandwidth, 'B/s', ' per direction'), ...sourcedLines(`${field}.latency`, link.latency, 's')];
}

export function renderHardwareShow(hw: HardwareSpec): string {
  const lines = [
    `${hw.id}: ${hw.name} (${hw.vendor} ${hw.kind})`,
    `aliases: ${hw.aliases.length ? hw.aliases.join(', ') : '-'}`,
    ...(hw.architecture ? [`${'architecture'.padEnd(24)} ${hw.architecture.name}, ${hw.architecture.id}`, `    source: ${hw.architecture.source}`] : []),
    '',
    ...sourcedLines('memory.capacity', hw.memoryBytes, 'B'),
    ...sourcedLines('memory.bandwidth', hw.memoryBandwidth, 'B/s'),
  ];
  for (const cls of COMPUTE_CLASSES) {
    const peak = hw.compute[cls];
    if (peak) lines.push(...sourcedLines(`compute.${cls}`, peak, 'FLOP/s', ` dense${cls.startsWith('int') ? ' (ops/s)' : ''}`));
  }
  const absent = COMPUTE_CLASSES.filter((c) => !hw.compute[c]);
  if (absent.length) lines.push(`${'compute (not native)'.padEnd(24)} ${absent.join(', ')}: run the way engines run them here (see warnings of estimate)`);
  lines.push(...linkLines('interconnect.intraNode', hw.intraNode), ...linkLines('interconnect.interNode', hw.interNode));
  lines.push(`${'interconnect.devicesPerNode'.padEnd(24)} ${hw.devicesPerNode}`);
  if (hw.domain) lines.push(`${'interconnect.domain'.padEnd(24)} ${hw.domain.devices} devices, ${hw.domain.topology}`, `    source: ${hw.domain.source}`);
  lines.push(...sourcedLines('tdp', hw.tdpWatts, 'W'));
  if (hw.serverWatts) lines.push(...sourcedLines('serverPower', hw.serverWatts, 'W'));
  lines.push(...sourcedLines('runtimeOverhead', hw.runtimeOverheadBytes, 'B'));
  lines.push(...sourcedLines('efficiency.mfu', hw.efficiency.mfu, 'fraction'));
  lines.push(...sourcedLines('efficiency.mbu', hw.efficiency.mbu, 'fraction'));
  lines.push(...sourcedLines('efficiency.stepOverhead', hw.efficiency.stepOverheadSeconds, 's'));
  if (hw.prices.length) {
    const basis = defaultPrice(hw);
    lines.push(`prices (USD per device-hour; purchase: USD per device); default: ${basis ? `${formatValue(basis.value, 'USD/h')}, ${basis.kind === 'purchase' ? `no rental price: the ${basis.prices.length === 1 ? 'purchase price' : `median of ${basis.prices.length} purchase prices`} amortized over ${DEFAULT_AMORTIZE_YEARS} years, plus electricity and colocation (owned hardware)` : basis.prices.length === 1 ? `the only ${basis.kind} price` : `the median of ${basis.prices.length} ${basis.kind} prices`}` : 'none (no on-demand, marketplace or purchase price; --price-kind, --price)'}`);
    for (const kind of PRICE_KINDS) {
      for (const p of hw.prices.filter((x) => x.kind === kind)) {
        const amount = p.kind === 'purchase' ? formatValue(p.purchaseUsd!, 'USD') : formatValue(p.usdPerHour!, 'USD/h');
        lines.push(`  ${kind.padEnd(12)} ${p.provider.padEnd(14)} ${amount.padEnd(10)} ${p.date.padEnd(10)} ${p.region ?? ''}${basis?.prices.includes(p) ? '  (in the default)' : ''}`, `    source: ${p.source}`);
      }
    }
  } else lines.push('prices: none published');
  for (const note of hw.notes ?? []) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}

export function renderModelShow(m: ModelPreset, params: { total: number; active: number }): string {
  const spec = m.model;
  const fields: [string, string | number | boolean | undefined][] = [
    ['family', spec.family],
    ['layers', spec.layers],
    ['hidden', spec.hidden],
    ['heads', spec.heads],
    ['kvHeads', spec.kvHeads],
    ['headDim', spec.headDim],
    ['ffn', spec.ffn],
    ['vocab', spec.vocab],
    ['tiedEmbeddings', spec.tiedEmbeddings],
    ['maxContext (tokens)', spec.maxContext],
    ['layer kinds', spec.layerKinds ? describeShape(spec).match(/^\d+ layers? \(([^)]*\)?[^)]*)\)/)?.[1] : undefined],
    ['ropeScaling', spec.ropeScaling ? `${spec.ropeScaling.type} x${spec.ropeScaling.factor}, native ${spec.ropeScaling.originalContext} tokens` : undefined],
    ['images', spec.vision ? `${spec.vision.kind === 'llama4' ? `tiles of ${spec.vision.tile}, ${spec.vision.tokensPerTile} tokens each` : spec.vision.kind === 'qwen2-vl' ? `one token per ${spec.vision.patch * spec.vision.merge} x ${spec.vision.patch * spec.vision.merge} pixels` : `${spec.vision.tokens} tokens each`} (--images)` : undefined],
    ['slidingWindow', spec.slidingWindow && !spec.layerKinds ? `${spec.slidingWindow.window} tokens on ${spec.slidingWindow.localLayers} layers` : undefined],
    ['moe', spec.moe ? `${spec.moe.experts} experts, top ${spec.moe.topK}, expert FFN ${spec.moe.expertFfn}` : undefined],
    ['mla', spec.mla ? `kv rank ${spec.mla.kvLoraRank}, rope ${spec.mla.qkRopeHeadDim}` : undefined],
    ['dtype', spec.dtype],
  ];
  const lines = [
    `${m.id}: ${m.name}`,
    `aliases: ${m.aliases.length ? m.aliases.join(', ') : '-'}`,
    ...(m.hfRepo ? [`hfRepo:  ${m.hfRepo}`] : []),
    `source:  ${m.source} (every architecture value below comes from this config.json)`,
    '',
    `${'params.total'.padEnd(24)} ${formatValue(params.total, 'params')} (${grouped(params.total)})`,
    ...(params.active !== params.total ? [`${'params.active'.padEnd(24)} ${formatValue(params.active, 'params')} (${grouped(params.active)})`] : []),
    ...fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${k.padEnd(24)} ${v}`),
  ];
  const pub = m.published;
  if (pub?.params) lines.push(`${'published.params'.padEnd(24)} ${grouped(pub.params.value)}`, `  source: ${pub.params.source}`);
  if (pub?.activeParams) lines.push(`${'published.activeParams'.padEnd(24)} ${grouped(pub.activeParams.value)}`, `  source: ${pub.activeParams.source}`);
  if (pub?.checkpointBytes) lines.push(...sourcedLines('published.checkpoint', pub.checkpointBytes, 'B'));
  for (const w of m.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}
