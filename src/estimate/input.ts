import type { HardwareSpec } from '../spec/hardware.js';
import type { ModelSpec } from '../spec/model.js';
import type { Format } from '../spec/precision.js';

/** What one request looks like and how many run together. Token counts. */
export interface Workload {
  /** concurrent sequences */
  batch: number;
  inputTokens: number;
  outputTokens: number;
  /** tokens the KV cache must hold per sequence (default input + output) */
  context: number;
}

/** Everything an estimate needs, resolved and in base units. */
export interface EstimateInput {
  model: ModelSpec;
  weights: Format;
  kv: Format;
  activations: Format;
  workload: Workload;
  hardware: HardwareSpec;
  /** devices sharing the model by tensor parallelism */
  count: number;
  /** USD per device-hour, with where it came from; absent = unknown */
  price?: { usdPerHour: number; source: string };
  /** overrides of the hardware profile's roofline efficiencies (fractions) */
  mfu?: number;
  mbu?: number;
  /** average board power per device, W (--power-watts); absent = TDP x a per-phase fraction (energy.ts) */
  powerWatts?: number;
  /** electricity price for owned hardware, USD per kWh (--usd-per-kwh) */
  usdPerKwh?: number;
}
