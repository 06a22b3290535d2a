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
  const tps = term(fig, 'throughput.outputTokensPerSecond', 'Output tokens per second (all devices)', 'tokens/s', (w.batch * w.outputTokens) / lat.e2e, 'batch x outputTokens / e2e', { batch: w.batch, outputTokens: w.outputTokens, e2e: lat.e2e }, 'static batch: all requests finish together');
  term(fig, 'throughput.outputTokensPerSecondPerDevice', 'Output tokens per second per device', 'tokens/s', tps / n, 'outputTokensPerSecond / count', { count: n }, 'even split');
  term(fig, 'throughput.decodeTokensPerSecond', 'Decode-phase tokens per second', 'tokens/s', w.batch / lat.tpot, 'batch / tpot', { batch: w.batch, tpot: lat.tpot }, 'one token per sequence per decode step');
  term(fig, 'throughput.inputTokensPerSecond', 'Prefill tokens per second', 'tokens/s', (w.batch * w.inputTokens) / lat.ttft, 'batch x inputTokens / ttft', { batch: w.batch, inputTokens: w.inputTokens, ttft: lat.ttft }, 'the whole batch is prefilled together');
  term(fig, 'throughput.requestsPerSecond', 'Requests per second', 'requests/s', w.batch / lat.e2e, 'batch / e2e', { batch: w.batch, e2e: lat.e2e }, 'static batch');

  if (!input.price) return;
  const usdPerHour = term(fig, 'cost.usdPerHour', 'Deployment cost per hour', 'USD/h', input.price.usdPerHour * n, 'usdPerDeviceHour x count', { usdPerDeviceHour: input.price.usdPerHour, count: n }, input.price.source);
  const usdPerSecond = usdPerHour / secondsInHour;
  term(fig, 'cost.usdPerMillionOutputTokens', 'USD per million output tokens', 'USD', (usdPerSecond * lat.tpot * tokensInMillion) / w.batch, 'usdPerHour / 3600 x tpot / batch x 1e6', { usdPerHour, tpot: lat.tpot, batch: w.batch }, 'decode device time per output token');
  term(fig, 'cost.usdPerMillionInputTokens', 'USD per million input tokens', 'USD', (usdPerSecond * lat.ttft * tokensInMillion) / (w.batch * w.inputTokens), 'usdPerHour / 3600 x ttft / (batch x inputTokens) x 1e6', { usdPerHour, ttft: lat.ttft, batch: w.batch, inputTokens: w.inputTokens }, 'prefill device time per input token');
}
