import type { ComputeClass } from './precision.js';

/** A sourced value in base units; `null` = unknown (marked so in the preset, never invented). */
export interface Sourced {
  value: number | null;
  source: string;
  note?: string;
}

export interface Link {
  name: string;
  /** per direction, bytes/s */
  bandwidth: Sourced;
  latency: Sourced;
}

export interface Price {
  provider: string;
  usdPerHour: number;
  date: string;
  kind?: string;
  source: string;
}

/** A hardware profile in base units (bytes, bytes/s, FLOP/s, s, W, USD/h). */
export interface HardwareSpec {
  id: string;
  aliases: string[];
  name: string;
  vendor: 'nvidia' | 'amd' | 'google' | 'intel' | 'apple';
  kind: 'gpu' | 'tpu' | 'hpu' | 'soc';
  memoryBytes: Sourced;
  memoryBandwidth: Sourced;
  /** dense peaks per compute class, FLOP/s (ops/s for integer formats); absent = not native */
  compute: Partial<Record<ComputeClass, Sourced>>;
  intraNode?: Link;
  interNode?: Link;
  devicesPerNode: number;
  tdpWatts: Sourced;
  runtimeOverheadBytes: Sourced;
  efficiency: { mfu: Sourced; mbu: Sourced; stepOverheadSeconds: Sourced };
  prices: Price[];
  notes?: string[];
}

/** value or throw: for figures a preset must have (capacity, bandwidth) */
export const known = (s: Sourced | undefined, what: string): number => {
  if (!s || s.value === null) throw new Error(`internal: ${what} unknown`);
  return s.value;
};
