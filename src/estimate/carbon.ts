import { gramsInKg, joulesInKwh } from '../units.js';
import { term, type Figures } from './terms.js';

/**
 * Carbon of energy: device energy x PUE (the data centre's total over IT energy, so cooling and
 * power delivery are charged too) x the grid's carbon intensity. Location-based accounting
 * (GHG Protocol Scope 2 Guidance, 2015, ch. 6: the average emissions of the grid where the
 * energy is consumed), the basis of published model-card figures (Llama 3.1 model card
 * "Training Greenhouse Gas Emissions: location-based").
 */
export interface Carbon {
  /** grams CO2e per kWh drawn from the grid */
  gco2PerKwh: number;
  /** where that intensity came from (a dated preset, or --grid-gco2-per-kwh) */
  source: string;
  /** power usage effectiveness: facility energy / IT energy, >= 1 */
  pue: number;
  pueSource: string;
}

/** PUE when none is given: 1, device energy only, the convention of the energy figures. */
export const DEFAULT_PUE = { value: 1, source: 'default 1 (device energy only; pass --pue: Uptime Institute 2024 survey average 1.56, Google fleet 2024 1.09)' } as const;

/**
 * kg CO2e of `joules` of device energy.
 * @example co2eKg(3.6e6, { gco2PerKwh: 400, pue: 1.2, ... }) // 1 kWh x 1.2 x 400 g = 0.48 kg
 */
export const co2eKg = (joules: number, c: Carbon): number => ((joules * c.pue) / joulesInKwh) * (c.gco2PerKwh / gramsInKg);

/** Adds one carbon figure for an energy figure already present (`energyId`), and returns its value. */
export function carbonTerm(fig: Figures, c: Carbon, spec: { id: string; label: string; energyId: string }): number {
  const energy = fig[spec.energyId];
  if (!energy) throw new Error(`internal: carbon needs figure ${spec.energyId}`);
  return term(fig, {
    id: spec.id,
    label: spec.label,
    unit: 'kgCO2e',
    value: co2eKg(energy.value, c),
    formula: `${spec.energyId} / 3.6e6 x pue x gco2PerKwh / 1000`,
    inputs: { [spec.energyId]: energy.value, pue: c.pue, gco2PerKwh: c.gco2PerKwh },
    source: `${c.source}; PUE: ${c.pueSource}; location-based (GHG Protocol Scope 2 Guidance ch. 6); 1 kWh = 3.6e6 J`,
    approximate: energy.approximate,
  });
}
