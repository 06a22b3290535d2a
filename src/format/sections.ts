import type { Figures } from '../estimate/terms.js';
import type { FigureSection } from './render.js';

/** The figures estimate shows to people (table and markdown), by section. */
export const ESTIMATE_SECTIONS: FigureSection[] = [
  { title: 'Parameters', ids: ['params.total', 'params.active'] },
  { title: 'Memory', ids: ['memory.weights', 'memory.kvCachePerToken', 'memory.kvCache', 'memory.activations', 'memory.overhead', 'memory.total', 'memory.perDevice', 'memory.capacityPerDevice', 'memory.headroom', 'memory.shortfall', 'memory.kvCapacity', 'memory.kvCapacityTokens', 'capacity.maxConcurrency', 'capacity.maxContext'], hideWhenZero: ['memory.headroom', 'memory.shortfall'] },
  { title: 'Compute', ids: ['flops.prefill', 'flops.decodePerToken'] },
  { title: 'Latency', ids: ['latency.ttft', 'latency.tpot', 'latency.e2e', 'latency.prefillComm', 'latency.decodeComm'], hideWhenZero: ['latency.prefillComm', 'latency.decodeComm'] },
  { title: 'Load', ids: ['load.replicas', 'load.devices', 'load.concurrencyPerReplica', 'load.requestsPerSecondPerReplica', 'load.requestsPerSecond', 'load.usdPerHour', 'load.usdPerMillionOutputTokens'] },
  { title: 'Throughput', ids: ['throughput.outputTokensPerSecond', 'throughput.outputTokensPerSecondPerDevice', 'throughput.requestsPerSecond'] },
  { title: 'Cost', ids: ['cost.usdPerHour', 'cost.usdPerMillionInputTokens', 'cost.usdPerMillionOutputTokens', 'cost.electricityUsdPerMillionInputTokens', 'cost.electricityUsdPerMillionOutputTokens'] },
  { title: 'Energy', ids: ['energy.prefillPowerPerDevice', 'energy.decodePowerPerDevice', 'energy.joulesPerMillionOutputTokens', 'energy.joulesPerRequest', 'energy.co2eKg', 'energy.co2eKgPerMillionOutputTokens'] },
];

/** The ids of a section that are shown: present, and not a zero the section hides. */
export const visibleIds = (s: FigureSection, figures: Figures): string[] =>
  s.ids.filter((id) => figures[id] && !(figures[id].value === 0 && s.hideWhenZero?.includes(id)));
