import { hoursInMonth, joulesInKwh, secondsInHour, tokensInMillion } from '../units.js';
import type { EstimateInput } from './input.js';
import type { LatencyResult } from './latency.js';
import { layoutOf } from './parallel.js';
import { cachedPromptTokens } from './prefix.js';
import { ownedCostFigures } from './owned.js';
import { sum, term, type Figures } from './terms.js';

/**
 * Throughput and cost. A static batch of `batch` requests finishes every e2e seconds.
 * Cost per token charges each phase's device time to the tokens it produces: prefill time to
 * input tokens, decode time to output tokens (the split providers price by).
 */
export function throughputAndCostFigures(fig: Figures, input: EstimateInput, lat: LatencyResult): void {
  const { workload: w, count: n } = input;
  const tps = term(fig, { id: 'throughput.outputTokensPerSecond', label: 'Output tokens per second (per replica)', unit: 'tokens/s', value: (w.batch * w.outputTokens) / lat.e2e, formula: 'batch x outputTokens / e2e', inputs: { batch: w.batch, outputTokens: w.outputTokens, e2e: lat.e2e }, source: 'static batch: all requests of one replica finish together' });
  term(fig, { id: 'throughput.outputTokensPerSecondPerDevice', label: 'Output tokens per second per device', unit: 'tokens/s', value: tps / n, formula: 'outputTokensPerSecond / count', inputs: { count: n }, source: 'even split' });
  term(fig, { id: 'throughput.decodeTokensPerSecond', label: 'Decode-phase tokens per second', unit: 'tokens/s', value: w.batch / lat.tpot, formula: 'batch / tpot', inputs: { batch: w.batch, tpot: lat.tpot }, source: 'one token per sequence per decode step' });
  term(fig, { id: 'throughput.inputTokensPerSecond', label: 'Prefill tokens per second', unit: 'tokens/s', value: (w.batch * w.inputTokens) / lat.ttft, formula: 'batch x inputTokens / ttft', inputs: { batch: w.batch, inputTokens: w.inputTokens, ttft: lat.ttft }, source: 'the whole batch is prefilled together' });
  // Per device: how wide deployments (attention DP, wide EP, disaggregated pools) report their rates.
  term(fig, { id: 'throughput.decodeTokensPerSecondPerDevice', label: 'Decode-phase tokens per second per device', unit: 'tokens/s', value: w.batch / lat.tpot / n, formula: 'batch / tpot / count', inputs: { batch: w.batch, tpot: lat.tpot, count: n }, source: 'one token per sequence per decode step, over the replica\'s devices' });
  term(fig, { id: 'throughput.inputTokensPerSecondPerDevice', label: 'Prefill tokens per second per device', unit: 'tokens/s', value: (w.batch * w.inputTokens) / lat.ttft / n, formula: 'batch x inputTokens / ttft / count', inputs: { batch: w.batch, inputTokens: w.inputTokens, ttft: lat.ttft, count: n }, source: 'the whole batch is prefilled together, over the replica\'s devices' });
  term(fig, { id: 'throughput.requestsPerSecond', label: 'Requests per second (per replica)', unit: 'requests/s', value: w.batch / lat.e2e, formula: 'batch / e2e', inputs: { batch: w.batch, e2e: lat.e2e }, source: 'static batch' });

  if (!input.price) return;
  // owned hardware: the device-hour in parts (amortized purchase + electricity + colocation, owned.ts)
  const perDevice = input.price.owned ? ownedCostFigures(fig, input.price.owned, input.price.owned.deviceWatts > 0 && input.powerWatts === undefined) : 'usdPerDeviceHour';
  const usdPerHour = term(fig, { id: 'cost.usdPerHour', label: 'Cost per hour (per replica)', unit: 'USD/h', value: input.price.usdPerHour * n, formula: `${perDevice} x count`, inputs: { [perDevice]: input.price.usdPerHour, count: n }, source: input.price.source, ...(fig[perDevice]?.approximate ? { approximate: true } : {}) });
  const usdPerSecond = usdPerHour / secondsInHour;
  term(fig, { id: 'cost.usdPerMillionOutputTokens', label: 'USD per million output tokens', unit: 'USD', value: (usdPerSecond * lat.tpot * tokensInMillion) / w.batch, formula: 'usdPerHour / 3600 x tpot / batch x 1e6', inputs: { usdPerHour, tpot: lat.tpot, batch: w.batch }, source: 'decode device time per output token' });
  const cached = cachedPromptTokens(input);
  if (input.prefixCache && cached > 0) term(fig, { id: 'cost.usdPerMillionUncachedInputTokens', label: 'USD per million prefilled (uncached) input tokens', unit: 'USD', value: (usdPerSecond * lat.ttft * tokensInMillion) / (w.batch * (w.inputTokens - cached)), formula: 'usdPerHour / 3600 x ttft / (batch x prefix.uncachedTokens) x 1e6 (cached tokens add only their KV read, inside ttft)', inputs: { usdPerHour, ttft: lat.ttft, batch: w.batch, uncachedTokens: w.inputTokens - cached }, source: 'prefill device time charged to the tokens it computes' });
  term(fig, { id: 'cost.usdPerMillionInputTokens', label: 'USD per million input tokens', unit: 'USD', value: (usdPerSecond * lat.ttft * tokensInMillion) / (w.batch * w.inputTokens), formula: 'usdPerHour / 3600 x ttft / (batch x inputTokens) x 1e6', inputs: { usdPerHour, ttft: lat.ttft, batch: w.batch, inputTokens: w.inputTokens }, source: 'prefill device time per input token' });
}

/**
 * What the deployment costs by the month (730 h, 8,760 / 12, as cloud price sheets bill), per
 * replica and for all replicas; for owned hardware (a purchase price amortized by
 * --amortize-years) the purchase itself and the month in the parts of its hourly price:
 * amortized purchase + electricity + colocation (owned.ts). A library caller's purchase price
 * without those parts gets, with usdPerKwh, the electricity at the devices' average power over
 * a request (energy.ts). Runs after the energy figures.
 */
export function monthlyCostFigures(fig: Figures, input: EstimateInput, lat: LatencyResult): void {
  if (!input.price) return;
  const { count: n, price } = input;
  const replicas = layoutOf(input).replicas;
  const devices = n * replicas;
  term(fig, { id: 'cost.usdPerMonthPerReplica', label: 'Cost per month per replica (730 h)', unit: 'USD', value: price.usdPerHour * n * hoursInMonth, formula: 'usdPerDeviceHour x count x 730', inputs: { usdPerDeviceHour: price.usdPerHour, count: n, hoursPerMonth: hoursInMonth }, source: `${price.source}; a month of 730 h (8,760 / 12)` });
  term(fig, { id: 'cost.usdPerMonth', label: 'Deployment cost per month (730 h)', unit: 'USD', value: price.usdPerHour * devices * hoursInMonth, formula: 'usdPerDeviceHour x count x replicas x 730', inputs: { usdPerDeviceHour: price.usdPerHour, count: n, replicas, hoursPerMonth: hoursInMonth }, source: `${price.source}; a month of 730 h (8,760 / 12)` });
  if (price.purchaseUsd === undefined) return;
  term(fig, { id: 'cost.capexUsd', label: 'Purchase price of the devices', unit: 'USD', value: price.purchaseUsd * devices, formula: 'purchaseUsd x count x replicas', inputs: { purchaseUsd: price.purchaseUsd, count: n, replicas }, source: price.source });
  const owned = price.owned;
  if (owned) {
    // the month of owned hardware in the parts of its hourly price (owned.ts); their sum is cost.usdPerMonth
    const month = (id: string, label: string, perHourId: string, usdPerHour: number) =>
      term(fig, { id, label, unit: 'USD', value: usdPerHour * devices * hoursInMonth, formula: `${perHourId} x count x replicas x 730`, inputs: { [perHourId]: usdPerHour, count: n, replicas, hoursPerMonth: hoursInMonth }, source: 'every hour of the month counted, busy or not', ...(fig[perHourId]?.approximate ? { approximate: true } : {}) });
    month('cost.amortizedUsdPerMonth', 'Owned: amortized purchase per month', 'cost.amortizedUsdPerDeviceHour', owned.amortizedUsdPerHour);
    month('cost.electricityUsdPerMonth', 'Electricity per month (owned devices)', 'cost.electricityUsdPerDeviceHour', owned.powerUsdPerHour);
    month('cost.hostingUsdPerMonth', 'Owned: colocation per month', 'cost.hostingUsdPerDeviceHour', owned.hostingUsdPerHour);
    sum(fig, { id: 'cost.ownedUsdPerMonth', label: 'Owned hardware per month (amortized purchase + electricity + colocation)', unit: 'USD', parts: ['cost.amortizedUsdPerMonth', 'cost.electricityUsdPerMonth', 'cost.hostingUsdPerMonth'], source: 'amortized purchase price plus running costs (src/estimate/owned.ts); equals cost.usdPerMonth' });
    return;
  }
  const prefill = fig['energy.prefillPowerPerDevice'];
  const decode = fig['energy.decodePowerPerDevice'];
  if (input.usdPerKwh === undefined || !prefill || !decode) return;
  // average power per device over a request: prefill power for ttft, decode power for the rest
  const watts = (prefill.value * lat.ttft + decode.value * (lat.e2e - lat.ttft)) / lat.e2e;
  term(fig, { id: 'cost.electricityUsdPerMonth', label: 'Electricity per month (owned devices)', unit: 'USD', value: (watts * devices * hoursInMonth * 3600 * input.usdPerKwh) / joulesInKwh, formula: 'average power per device x devices x 730 h x usdPerKwh, average power = (prefillPower x ttft + decodePower x (e2e - ttft)) / e2e', inputs: { averageWattsPerDevice: watts, devices, hoursPerMonth: hoursInMonth, usdPerKwh: input.usdPerKwh }, source: '--usd-per-kwh; board power from energy.* (no host, cooling or PUE); devices busy every hour', approximate: prefill.approximate === true || decode.approximate === true });
  sum(fig, { id: 'cost.ownedUsdPerMonth', label: 'Owned hardware per month (amortized purchase + electricity)', unit: 'USD', parts: ['cost.usdPerMonth', 'cost.electricityUsdPerMonth'], source: 'amortized purchase price plus electricity' });
}
