import { joulesInKwh, tokensInMillion } from '../units.js';
import { carbonTerm } from './carbon.js';
import type { EstimateInput } from './input.js';
import type { LatencyResult } from './latency.js';
import { term, type Figures } from './terms.js';

/**
 * Average board power as a fraction of TDP while a phase runs, interpolated on how busy the
 * matrix units are: u = achieved FLOP/s / dense peak (from the roofline time of the phase).
 * A memory-bound phase (decode, u near 0) waits on HBM and draws far less than TDP: on an H200
 * (700 W TDP) decode drew 137-300 W across GQA, MLA, DeltaNet and Mamba2 models (Ma et al.
 * 2026, "The Illusion of Power Capping in LLM Decode", arXiv:2605.11999), so the floor is
 * 300 / 700 = 0.43, the top of that range. Matrix units running flat out reach the power
 * limit, TDP. In between, linear: fraction = floor + (1 - floor) x u. A heuristic: the figures
 * it feeds are marked approximate, and --power-watts replaces it.
 */
export const MEMORY_BOUND_POWER_FRACTION = {
  value: 300 / 700,
  source: 'memory-bound decode on H200 drew 137-300 W of 700 W TDP (Ma et al. 2026, arXiv:2605.11999); the top of the range',
} as const;

export const powerFractionOfTdp = (utilisation: number): number =>
  MEMORY_BOUND_POWER_FRACTION.value + (1 - MEMORY_BOUND_POWER_FRACTION.value) * Math.min(1, Math.max(0, utilisation));

/**
 * Energy of serving: power per device for each phase (TDP x the fraction above, or
 * `--power-watts`), then joules per token charged the way cost.ts charges device time: prefill
 * energy to input tokens, decode energy to output tokens. With `usdPerKwh`, electricity cost
 * for owned hardware. Board power only: host CPUs, networking and cooling (PUE) are not
 * included (--pue scales the carbon figures). With a grid intensity (--region or
 * --grid-gco2-per-kwh), carbon per request and per million tokens (carbon.ts). Adds nothing when
 * neither TDP nor --power-watts is known.
 *
 * @example a 700 W GPU, memory-bound decode (u = 0) at batch 1 with tpot 10 ms:
 * 700 x 300/700 = 300 W; 300 W x 0.01 s x 1e6 = 3e6 J (0.83 kWh) per million output tokens
 */
export function energyFigures(fig: Figures, input: EstimateInput, lat: LatencyResult, peakFlopsPerSecond: number): boolean {
  const { workload: w, count: n, hardware: hw } = input;
  const tdp = hw.tdpWatts.value;
  if (input.powerWatts === undefined && !tdp) return false;
  const value = (id: string): number => {
    if (!fig[id]) throw new Error(`internal: energy needs figure ${id}`);
    return fig[id].value;
  };

  const phasePower = (phase: 'prefill' | 'decode', label: string, flops: number) => {
    if (input.powerWatts !== undefined) {
      return term(fig, { id: `energy.${phase}PowerPerDevice`, label: `${label}: power per device`, unit: 'W', value: input.powerWatts, formula: '--power-watts', inputs: {}, source: '--power-watts' });
    }
    const seconds = value(`latency.${phase}Roofline`);
    const utilisation = seconds > 0 ? flops / (peakFlopsPerSecond * n * seconds) : 0;
    const fraction = powerFractionOfTdp(utilisation);
    return term(fig, { id: `energy.${phase}PowerPerDevice`, label: `${label}: power per device`, unit: 'W', value: tdp! * fraction, formula: 'TDP x (floor + (1 - floor) x u), u = FLOPs / (peak x count x roofline time)', inputs: { tdpWatts: tdp!, floor: MEMORY_BOUND_POWER_FRACTION.value, utilisation, flops, peakFlopsPerSecond, count: n, rooflineSeconds: seconds }, source: `${hw.tdpWatts.source}; ${MEMORY_BOUND_POWER_FRACTION.source}; full matrix-unit load reaches TDP`, approximate: true });
  };
  const prefillWatts = phasePower('prefill', 'Prefill', value('flops.prefill'));
  const decodeWatts = phasePower('decode', 'Decode step', w.batch * value('flops.decodePerToken'));

  const perOutput = term(fig, { id: 'energy.joulesPerMillionOutputTokens', label: 'Energy per million output tokens', unit: 'J', value: (decodeWatts * n * lat.tpot * tokensInMillion) / w.batch, formula: 'decodePower x count x tpot / batch x 1e6', inputs: { decodePowerPerDevice: decodeWatts, count: n, tpot: lat.tpot, batch: w.batch }, source: 'energy = power x time; decode time per output token as in cost.usdPerMillionOutputTokens', approximate: input.powerWatts === undefined });
  const perInput = term(fig, { id: 'energy.joulesPerMillionInputTokens', label: 'Energy per million input tokens', unit: 'J', value: (prefillWatts * n * lat.ttft * tokensInMillion) / (w.batch * w.inputTokens), formula: 'prefillPower x count x ttft / (batch x inputTokens) x 1e6', inputs: { prefillPowerPerDevice: prefillWatts, count: n, ttft: lat.ttft, batch: w.batch, inputTokens: w.inputTokens }, source: 'energy = power x time; prefill time per input token as in cost.usdPerMillionInputTokens', approximate: input.powerWatts === undefined });
  term(fig, { id: 'energy.joulesPerRequest', label: 'Energy per request', unit: 'J', value: (n * (prefillWatts * lat.ttft + decodeWatts * (lat.e2e - lat.ttft))) / w.batch, formula: 'count x (prefillPower x ttft + decodePower x (e2e - ttft)) / batch', inputs: { count: n, prefillPowerPerDevice: prefillWatts, decodePowerPerDevice: decodeWatts, ttft: lat.ttft, e2e: lat.e2e, batch: w.batch }, source: 'energy = power x time; the batch shares each step', approximate: input.powerWatts === undefined });

  if (input.usdPerKwh !== undefined) {
    const usdPerJoule = input.usdPerKwh / joulesInKwh;
    term(fig, { id: 'cost.electricityUsdPerMillionOutputTokens', label: 'Electricity per million output tokens', unit: 'USD', value: perOutput * usdPerJoule, formula: 'joulesPerMillionOutputTokens / 3.6e6 x usdPerKwh', inputs: { joulesPerMillionOutputTokens: perOutput, usdPerKwh: input.usdPerKwh }, source: '--usd-per-kwh; 1 kWh = 3.6e6 J', approximate: input.powerWatts === undefined });
    term(fig, { id: 'cost.electricityUsdPerMillionInputTokens', label: 'Electricity per million input tokens', unit: 'USD', value: perInput * usdPerJoule, formula: 'joulesPerMillionInputTokens / 3.6e6 x usdPerKwh', inputs: { joulesPerMillionInputTokens: perInput, usdPerKwh: input.usdPerKwh }, source: '--usd-per-kwh; 1 kWh = 3.6e6 J', approximate: input.powerWatts === undefined });
  }
  if (input.carbon) {
    carbonTerm(fig, input.carbon, { id: 'energy.co2eKg', label: 'CO2e per request', energyId: 'energy.joulesPerRequest' });
    carbonTerm(fig, input.carbon, { id: 'energy.co2eKgPerMillionOutputTokens', label: 'CO2e per million output tokens', energyId: 'energy.joulesPerMillionOutputTokens' });
    carbonTerm(fig, input.carbon, { id: 'energy.co2eKgPerMillionInputTokens', label: 'CO2e per million input tokens', energyId: 'energy.joulesPerMillionInputTokens' });
  }
  return true;
}
