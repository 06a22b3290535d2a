import type { Figures } from '../estimate/terms.js';
import type { FigureSection } from './render.js';

/** The figures estimate shows to people (table and markdown), by section. */
export const ESTIMATE_SECTIONS: FigureSection[] = [
  // a disaggregated deployment (--prefill-workers, --decode-workers): its pools first
  { title: 'Disaggregated prefill / decode', ids: ['disagg.prefillWorkers', 'disagg.prefillDevices', 'disagg.prefillBatch', 'disagg.prefillUtilization', 'disagg.prefillMemoryPerDevice', 'disagg.decodeWorkers', 'disagg.decodeDevices', 'disagg.decodeConcurrency', 'disagg.decodeMemoryPerDevice', 'disagg.ratio', 'disagg.kvTransferBytes', 'disagg.kvTransfer', 'disagg.inputTokensPerSecondPerPrefillNode', 'disagg.outputTokensPerSecondPerDecodeNode'] },
  { title: 'Parameters', ids: ['params.total', 'params.active'] },
  { title: 'Images', ids: ['workload.imageTokens'] },
  { title: 'Memory', ids: ['memory.weights', 'memory.kvCachePerToken', 'memory.kvCache', 'memory.statePerSequence', 'memory.state', 'memory.encoderCache', 'memory.activations', 'memory.overhead', 'memory.total', 'memory.perDevice', 'memory.capacityPerDevice', 'memory.headroom', 'memory.shortfall', 'memory.kvCapacity', 'memory.statePaged', 'memory.stateCapacity', 'capacity.stateSlots', 'capacity.stateBlocks', 'memory.kvCapacityTokens', 'capacity.maxConcurrency', 'capacity.maxContext'], hideWhenZero: ['memory.headroom', 'memory.shortfall', 'memory.stateCapacity'] },
  { title: 'Compute', ids: ['flops.prefill', 'flops.decodePerToken'] },
  { title: 'Latency', ids: ['latency.ttft', 'latency.tpot', 'latency.e2e', 'latency.prefillComm', 'latency.decodeComm'], hideWhenZero: ['latency.prefillComm', 'latency.decodeComm'] },
  // Serving levers (docs/levers.md): shown only when one is on (their figures exist only then).
  { title: 'Serving levers', ids: ['prefix.cachedTokens', 'prefix.uncachedTokens', 'prefix.hitShare', 'prefix.sharedKv', 'prefix.ttftWithoutCache', 'speculative.tokensPerStep', 'speculative.stepSeconds', 'speculative.baselineTpot', 'speculative.speedup', 'memory.speculative.weights', 'memory.speculative.kvCache', 'lora.adapterBytes', 'memory.lora', 'lora.flopsPerToken', 'lora.prefill', 'lora.decode', 'kvOffload.cpu.capacityTokens', 'kvOffload.cpu.loadSeconds', 'kvOffload.cpu.ttftOnHit', 'kvOffload.cpu.speedup', 'kvOffload.nvme.capacityTokens', 'kvOffload.nvme.loadSeconds', 'kvOffload.nvme.ttftOnHit', 'kvOffload.nvme.speedup'] },
  { title: 'Load', ids: ['load.replicas', 'load.devices', 'load.concurrencyPerReplica', 'load.requestsPerSecondPerReplica', 'load.requestsPerSecond', 'load.usdPerHour', 'load.usdPerMillionOutputTokens'] },
  { title: 'Deployment', ids: ['deployment.replicas', 'deployment.devices', 'deployment.outputTokensPerSecond', 'deployment.requestsPerSecond', 'deployment.usdPerHour'] },
  { title: 'Throughput', ids: ['throughput.outputTokensPerSecond', 'throughput.outputTokensPerSecondPerDevice', 'throughput.requestsPerSecond'] },
  { title: 'Cost', ids: ['cost.prefillUsdPerHour', 'cost.decodeUsdPerHour', 'cost.usdPerHour', 'cost.usdPerMonthPerReplica', 'cost.usdPerMonth', 'cost.capexUsd', 'cost.electricityUsdPerMonth', 'cost.ownedUsdPerMonth', 'cost.usdPerMillionInputTokens', 'cost.usdPerMillionOutputTokens', 'cost.electricityUsdPerMillionInputTokens', 'cost.electricityUsdPerMillionOutputTokens'] },
  { title: 'Pruning (beside the unpruned baseline)', ids: ['sparsity.weightBytes', 'sparsity.metadataBytes', 'sparsity.peakFlopsPerSecond', 'sparsity.effectivePeakFlopsPerSecond', 'baseline.params.total', 'baseline.memory.weights', 'baseline.memory.perDevice', 'baseline.latency.ttft', 'baseline.latency.tpot', 'baseline.latency.forward', 'baseline.throughput.sequencesPerSecond', 'baseline.cost.usdPerMillionOutputTokens'] },
  { title: 'Energy', ids: ['energy.prefillPowerPerDevice', 'energy.decodePowerPerDevice', 'energy.joulesPerMillionOutputTokens', 'energy.joulesPerRequest', 'energy.co2eKg', 'energy.co2eKgPerMillionOutputTokens'] },
];

/** What estimate shows for a forward-only model (encoder, embedder, reranker): no KV cache, no decode. */
export const FORWARD_SECTIONS: FigureSection[] = [
  { title: 'Parameters', ids: ['params.total', 'params.head'], hideWhenZero: ['params.head'] },
  { title: 'Memory', ids: ['memory.weights', 'memory.activations', 'memory.overhead', 'memory.perDevice', 'memory.capacityPerDevice', 'memory.headroom', 'memory.shortfall'], hideWhenZero: ['memory.headroom', 'memory.shortfall'] },
  { title: 'Compute', ids: ['flops.prefill', 'flops.perToken'] },
  { title: 'Latency', ids: ['latency.forward'] },
  { title: 'Throughput', ids: ['throughput.sequencesPerSecond', 'throughput.inputTokensPerSecond'] },
  { title: 'Cost', ids: ['cost.usdPerHour', 'cost.usdPerMillionInputTokens', 'cost.usdPerMillionSequences'] },
  { title: 'Pruning (beside the unpruned baseline)', ids: ['sparsity.weightBytes', 'sparsity.metadataBytes', 'sparsity.peakFlopsPerSecond', 'sparsity.effectivePeakFlopsPerSecond', 'baseline.params.total', 'baseline.memory.weights', 'baseline.memory.perDevice', 'baseline.latency.ttft', 'baseline.latency.tpot', 'baseline.latency.forward', 'baseline.throughput.sequencesPerSecond', 'baseline.cost.usdPerMillionOutputTokens'] },
  { title: 'Energy', ids: ['energy.prefillPowerPerDevice', 'energy.joulesPerMillionInputTokens', 'energy.joulesPerRequest', 'energy.co2eKg', 'energy.co2eKgPerMillionInputTokens'] },
];

/** The sections of an estimate: a generator's, or a forward-only model's. */
export const estimateSections = (e: { input: { model: { task?: string } } }): FigureSection[] => (e.input.model.task ? FORWARD_SECTIONS : ESTIMATE_SECTIONS);

/** The ids of a section that are shown: present, and not a zero the section hides. */
export const visibleIds = (s: FigureSection, figures: Figures): string[] =>
  s.ids.filter((id) => figures[id] && !(figures[id].value === 0 && s.hideWhenZero?.includes(id)));
