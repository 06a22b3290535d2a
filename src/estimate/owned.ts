import { hoursInMonth, hoursInYear, wattsInKw } from '../units.js';
import { sum, term, type Figures } from './terms.js';

/**
 * What an hour of owned hardware costs: the purchase amortized over its years, plus what
 * running it costs every hour whether busy or not, so that an owned price says what a rental
 * price says (a rent includes the power and the data centre):
 *
 *   ownedUsdPerDeviceHour = purchaseUsd / (years x 8,760)
 *                         + serverKw x pue x usdPerKwh                 (electricity)
 *                         + serverKw x hostingUsdPerKwMonth / 730       (colocation: space, cooling, power delivery)
 *   serverKw              = deviceWatts x SERVER_POWER_FACTOR / 1000
 *
 * deviceWatts is --power-watts when given, else the device's TDP: the power a data centre
 * provisions, and an upper bound on the energy (a device drawn at its limit every hour). Where a
 * preset publishes the server's power per device (serverPower: a rack-scale system's draw over
 * its devices), that is serverKw itself (factor 1).
 * Networking, staff, spares and the cost of capital are not in it (said wherever the price is).
 *
 * @example Intel Gaudi 2, 8,125 USD, 600 W, over 3 years with the defaults below:
 *   8,125 / 26,280 = 0.3092; 0.6 x 1.8214 = 1.0929 kW; x 1.56 x 0.0895 = 0.1526;
 *   x 184.06 / 730 = 0.2755; 0.7373 USD per device-hour
 */

/** A value and where it came from. */
export interface Sourced {
  value: number;
  source: string;
}

/**
 * A server draws more than its accelerators: CPUs, memory, NICs, fans and power conversion.
 * NVIDIA DGX H100: 10.2 kW maximum for 8 H100 SXM of 700 W TDP, so the server draws 1.82 x the
 * TDP of its accelerators.
 */
export const SERVER_POWER_FACTOR: Sourced = {
  value: 10_200 / (8 * 700),
  source: 'NVIDIA DGX H100 user guide, power specifications: 10.2 kW maximum system input for 8 H100 SXM GPUs of 700 W TDP (10,200 / 5,600 = 1.82: CPUs, memory, NICs, fans and power conversion on top of the GPUs)',
};

/** Facility over IT energy of a typical data centre (cooling, power distribution). */
export const OWNED_DEFAULT_PUE: Sourced = { value: 1.56, source: 'Uptime Institute Global Data Center Survey 2024: average PUE 1.56 (--pue sets it)' };

/** Electricity where most data-centre capacity is: Virginia's commercial rate. */
export const OWNED_DEFAULT_USD_PER_KWH: Sourced = {
  value: 0.0895,
  source: 'EIA Electric Power Annual 2023 (released 2024-10-17), average revenue per kWh by state: Virginia commercial 8.95 cents (Northern Virginia, the largest data-centre market); --usd-per-kwh sets it',
};

/** Colocation rent per kW of provisioned power (space, cooling, power delivery; electricity metered on top). */
export const OWNED_DEFAULT_HOSTING_USD_PER_KW_MONTH: Sourced = {
  value: 184.06,
  source: 'CBRE North America Data Center Trends H2 2024 (2025-02-26): average monthly asking rate for a 250-500 kW colocation requirement across primary markets, 184.06 USD per kW; --hosting-usd-per-kw-month sets it (0 for hardware in your own premises)',
};

/** The settings of an owned price, each with its source (flags or the defaults above). */
export interface OwnedSettings {
  pue: Sourced;
  usdPerKwh: Sourced;
  hostingUsdPerKwMonth: Sourced;
  /** --power-watts: the device's average power instead of its TDP */
  powerWatts?: number;
}

export const DEFAULT_OWNED_SETTINGS: OwnedSettings = { pue: OWNED_DEFAULT_PUE, usdPerKwh: OWNED_DEFAULT_USD_PER_KWH, hostingUsdPerKwMonth: OWNED_DEFAULT_HOSTING_USD_PER_KW_MONTH };

/** An owned device's hourly price in parts, as a price carries it (src/inputs/price.ts) and cost figures explain it. */
export interface OwnedCost {
  purchaseUsd: number;
  amortizeYears: number;
  amortizedUsdPerHour: number;
  /** the device's power (--power-watts, else TDP) and where it came from; 0 when neither is known (no running costs) */
  deviceWatts: number;
  deviceWattsSource: string;
  serverFactor: number;
  pue: number;
  pueSource: string;
  usdPerKwh: number;
  usdPerKwhSource: string;
  hostingUsdPerKwMonth: number;
  hostingSource: string;
  powerUsdPerHour: number;
  hostingUsdPerHour: number;
  usdPerHour: number;
}

/** A device's power: its TDP, or (server true) the server's power per device where a preset publishes it (serverPower). */
export interface DevicePower extends Sourced {
  server?: boolean;
}

/** The hourly price of an owned device: amortized purchase + electricity + colocation (formula above). */
export function ownedCost(purchaseUsd: number, amortizeYears: number, power: DevicePower | undefined, settings: OwnedSettings = DEFAULT_OWNED_SETTINGS): OwnedCost {
  const amortizedUsdPerHour = purchaseUsd / (amortizeYears * hoursInYear);
  // --power-watts is the device's own average power: the server's share goes on top
  const ofServer = settings.powerWatts === undefined && power?.server === true;
  const deviceWatts = settings.powerWatts ?? power?.value ?? 0;
  const deviceWattsSource = settings.powerWatts !== undefined ? '--power-watts' : power ? `${ofServer ? 'the server\'s power per device' : 'TDP'}: ${power.source}` : 'no TDP known and no --power-watts: electricity and colocation not included';
  const serverFactor = ofServer ? 1 : SERVER_POWER_FACTOR.value;
  const serverKw = (deviceWatts * serverFactor) / wattsInKw;
  const powerUsdPerHour = serverKw * settings.pue.value * settings.usdPerKwh.value;
  const hostingUsdPerHour = (serverKw * settings.hostingUsdPerKwMonth.value) / hoursInMonth;
  return {
    purchaseUsd, amortizeYears, amortizedUsdPerHour, deviceWatts, deviceWattsSource, serverFactor,
    pue: settings.pue.value, pueSource: settings.pue.source, usdPerKwh: settings.usdPerKwh.value, usdPerKwhSource: settings.usdPerKwh.source,
    hostingUsdPerKwMonth: settings.hostingUsdPerKwMonth.value, hostingSource: settings.hostingUsdPerKwMonth.source,
    powerUsdPerHour, hostingUsdPerHour, usdPerHour: amortizedUsdPerHour + powerUsdPerHour + hostingUsdPerHour,
  };
}

/** The owned price in words, for a price's source. */
export const ownedCostText = (o: OwnedCost): string =>
  o.deviceWatts > 0
    ? `plus running costs: electricity ${+o.powerUsdPerHour.toFixed(4)} USD/h (${o.serverFactor === 1 ? `${+o.deviceWatts.toFixed(0)} W of server per device` : `${o.deviceWatts} W x ${o.serverFactor.toFixed(2)} server`} x PUE ${o.pue} x ${o.usdPerKwh} USD/kWh) and colocation ${+o.hostingUsdPerHour.toFixed(4)} USD/h (${o.hostingUsdPerKwMonth} USD per kW-month); networking, staff and the cost of capital not included`
    : 'no TDP known and no --power-watts: electricity and colocation not included';

/**
 * The owned price per device-hour as figures: cost.amortizedUsdPerDeviceHour,
 * cost.electricityUsdPerDeviceHour and cost.hostingUsdPerDeviceHour, summed in
 * cost.ownedUsdPerDeviceHour. Returns its id.
 */
export function ownedCostFigures(fig: Figures, o: OwnedCost, approximate: boolean): string {
  const hours = o.amortizeYears * hoursInYear;
  term(fig, { id: 'cost.amortizedUsdPerDeviceHour', label: 'Owned: purchase amortized per device-hour', unit: 'USD/h', value: o.amortizedUsdPerHour, formula: 'purchaseUsd / (amortizeYears x 8,760 h)', inputs: { purchaseUsd: o.purchaseUsd, amortizeYears: o.amortizeYears, hours }, source: 'every hour of the years counted, busy or not' });
  const serverKw = (o.deviceWatts * o.serverFactor) / wattsInKw;
  term(fig, { id: 'cost.electricityUsdPerDeviceHour', label: 'Owned: electricity per device-hour', unit: 'USD/h', value: o.powerUsdPerHour, formula: 'deviceWatts x serverFactor / 1000 x pue x usdPerKwh', inputs: { deviceWatts: o.deviceWatts, serverFactor: o.serverFactor, serverKw, pue: o.pue, usdPerKwh: o.usdPerKwh }, source: `device power: ${o.deviceWattsSource}, drawn every hour (an upper bound at full power)${o.serverFactor === 1 ? '' : `; server: ${SERVER_POWER_FACTOR.source}`}; PUE: ${o.pueSource}; price: ${o.usdPerKwhSource}`, approximate });
  term(fig, { id: 'cost.hostingUsdPerDeviceHour', label: 'Owned: colocation per device-hour', unit: 'USD/h', value: o.hostingUsdPerHour, formula: 'deviceWatts x serverFactor / 1000 x hostingUsdPerKwMonth / 730', inputs: { serverKw, hostingUsdPerKwMonth: o.hostingUsdPerKwMonth, hoursPerMonth: hoursInMonth }, source: `rent per kW of provisioned power: ${o.hostingSource}`, approximate });
  sum(fig, { id: 'cost.ownedUsdPerDeviceHour', label: 'Owned: cost per device-hour', unit: 'USD/h', parts: ['cost.amortizedUsdPerDeviceHour', 'cost.electricityUsdPerDeviceHour', 'cost.hostingUsdPerDeviceHour'], source: 'amortized purchase + electricity + colocation (networking, staff and the cost of capital not included)' });
  return 'cost.ownedUsdPerDeviceHour';
}
