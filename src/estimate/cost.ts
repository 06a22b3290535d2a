import { secondsInHour, tokensInMillion } from '../units.js';
import type { EstimateInput } from './input.js';
import type { LatencyResult } from './latency.js';
import { term, type Figures } from './terms.js';

/**
 * Throughput and cost. A static batch of `batch` requests finishes every e2e seconds.
 * Cost per token charges each phase's device time to the tokens it produces: prefill time to
 * input tokens, decode time to output tokens (the split providers price by).
 */
export function throughputAndCostFigures(fig: Figures, input: EstimateInput, lat: LatencyResult): void {
  const { workload: w, count: n } = input;
  const tps = term(fig, { id: 'throughput.outputTokensPerSecond', label: 'Output tokens per second (all devices)', unit: 'tokens/s', value: (w.batch * w.outputTokens) / lat.e2e, formula: 'batch x outputTokens / e2e', inputs: { batch: w.batch, outputTokens: w.outputTokens, e2e: lat.e2e }, source: 'static batch: all requests finish together' });
  term(fig, { id: 'throughput.outputTokensPerSecondPerDevice', label: 'Output tokens per second per device', unit: 'tokens/s', value: tps / n, formula: 'outputTokensPerSecond / count', inputs: { count: n }, source: 'even split' });
  term(fig, { id: 'throughput.decodeTokensPerSecond', label: 'Decode-phase tokens per second', unit: 'tokens/s', value: w.batch / lat.tpot, formula: 'batch / tpot', inputs: { batch: w.batch, tpot: lat.tpot }, source: 'one token per sequence per decode step' });
  term(fig, { id: 'throughput.inputTokensPerSecond', label: 'Prefill tokens per second', unit: 'tokens/s', value: (w.batch * w.inputTokens) / lat.ttft, formula: 'batch x inputTokens / ttft', inputs: { batch: w.batch, inputTokens: w.inputTokens, ttft: lat.ttft }, source: 'the whole batch is prefilled together' });
  term(fig, { id: 'throughput.requestsPerSecond', label: 'Requests per second', unit: 'requests/s', value: w.batch / lat.e2e, formula: 'batch / e2e', inputs: { batch: w.batch, e2e: lat.e2e }, source: 'static batch' });

  if (!input.price) return;
  const usdPerHour = term(fig, { id: 'cost.usdPerHour', label: 'Deployment cost per hour', unit: 'USD/h', value: input.price.usdPerHour * n, formula: 'usdPerDeviceHour x count', inputs: { usdPerDeviceHour: input.price.usdPerHour, count: n }, source: input.price.source });
  const usdPerSecond = usdPerHour / secondsInHour;
  term(fig, { id: 'cost.usdPerMillionOutputTokens', label: 'USD per million output tokens', unit: 'USD', value: (usdPerSecond * lat.tpot * tokensInMillion) / w.batch, formula: 'usdPerHour / 3600 x tpot / batch x 1e6', inputs: { usdPerHour, tpot: lat.tpot, batch: w.batch }, source: 'decode device time per output token' });
  term(fig, { id: 'cost.usdPerMillionInputTokens', label: 'USD per million input tokens', unit: 'USD', value: (usdPerSecond * lat.ttft * tokensInMillion) / (w.batch * w.inputTokens), formula: 'usdPerHour / 3600 x ttft / (batch x inputTokens) x 1e6', inputs: { usdPerHour, ttft: lat.ttft, batch: w.batch, inputTokens: w.inputTokens }, source: 'prefill device time per input token' });
}
