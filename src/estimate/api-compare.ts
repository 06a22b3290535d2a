import type { ApiPrice } from '../inputs/api-prices.js';
import { hoursInMonth, secondsInHour, tokensInMillion } from '../units.js';
import { term, type Figures } from './terms.js';

/**
 * Self-hosting against paying an API for the same tokens (`plan --compare-api`). A deployment
 * costs `usdPerHour` whether busy or not and carries `requestsPerSecond` within the targets;
 * an API charges per token. At a utilisation u of that load the API would cost
 * u x requestsPerSecond x 3600 x apiUsdPerRequest per hour, so the two cost the same at
 *
 *   breakEvenUtilisation = usdPerHour / (requestsPerSecond x 3600 x apiUsdPerRequest)
 *
 * and self-hosting is cheaper above breakEvenRequestsPerMonth = usdPerHour x 730 /
 * apiUsdPerRequest requests a month (x tokens per request: the monthly volume). A break-even
 * above 1 means this deployment costs more than the API even fully used.
 */
export interface ApiComparisonInput {
  /** the deployment's cost per hour, all replicas (USD/h) */
  usdPerHour: number;
  /** the load it carries within the targets (requests/s) */
  requestsPerSecond: number;
  inputTokens: number;
  outputTokens: number;
  /** share of input tokens the API bills at its cached-input price (0 to 1) */
  cachedInputShare: number;
  /** where an API lists no cached-input price: the discount off its input price for cached tokens (--cached-input-discount) */
  cachedInputDiscount?: number;
}

export interface ApiComparisonRow {
  provider: string;
  date: string;
  source: string;
  usdPerMillionInput: number;
  usdPerMillionCachedInput: number | null;
  usdPerMillionOutput: number;
  /** USD one request costs at the API */
  apiUsdPerRequest: number;
  /** USD a month at the API for the planned load */
  apiUsdPerMonthAtLoad: number;
  /** fraction of the planned load at which self-hosting costs the same (above 1: never) */
  breakEvenUtilisation: number;
  /** requests and tokens a month above which self-hosting is cheaper (this deployment's size) */
  breakEvenRequestsPerMonth: number;
  breakEvenTokensPerMonth: number;
  /** whether this deployment can carry that volume (break-even utilisation at most 1) */
  selfHostingCanBeCheaper: boolean;
}

export interface ApiComparison {
  selfHostUsdPerMonth: number;
  requestsPerMonthAtLoad: number;
  tokensPerMonthAtLoad: number;
  rows: ApiComparisonRow[];
  figures: Figures;
}

const slug = (provider: string): string => provider.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/**
 * The comparison with each API price, as named terms (`api.<provider>.*`) and rows.
 * @example usdPerHour 4, 1 request/s of 1,024 in + 256 out, an API at 1.04 / 1.04 per million:
 *   apiUsdPerRequest = 1,280 x 1.04 / 1e6 = 0.0013312; at the load 4.79 USD/h;
 *   breakEvenUtilisation = 4 / 4.79232 = 0.8347
 */
export function compareWithApis(input: ApiComparisonInput, prices: ApiPrice[]): ApiComparison {
  const fig: Figures = {};
  const { usdPerHour, requestsPerSecond: rps, inputTokens: tin, outputTokens: tout, cachedInputShare: cached } = input;
  const selfHostUsdPerMonth = term(fig, { id: 'api.selfHostUsdPerMonth', label: 'Self-hosting per month (730 h)', unit: 'USD', value: usdPerHour * hoursInMonth, formula: 'usdPerHour x 730', inputs: { usdPerHour, hoursPerMonth: hoursInMonth }, source: 'the deployment costs every hour, busy or not' });
  const requestsPerMonth = term(fig, { id: 'api.requestsPerMonthAtLoad', label: 'Requests per month at the planned load', unit: 'count', value: rps * secondsInHour * hoursInMonth, formula: 'requestsPerSecond x 3600 x 730', inputs: { requestsPerSecond: rps, hoursPerMonth: hoursInMonth }, source: 'the load the deployment was planned for' });
  const rows = prices.map((p): ApiComparisonRow => {
    const id = `api.${slug(p.provider)}`;
    const cachedPrice = p.usdPerMillionCachedInput ?? p.usdPerMillionInput * (1 - (input.cachedInputDiscount ?? 0));
    const perRequest = term(fig, {
      id: `${id}.usdPerRequest`, label: `${p.provider}: USD per request`, unit: 'USD',
      value: (tin * (1 - cached) * p.usdPerMillionInput + tin * cached * cachedPrice + tout * p.usdPerMillionOutput) / tokensInMillion,
      formula: '(inputTokens x (1 - cachedShare) x usdPerMillionInput + inputTokens x cachedShare x usdPerMillionCachedInput + outputTokens x usdPerMillionOutput) / 1e6',
      inputs: { inputTokens: tin, outputTokens: tout, cachedShare: cached, usdPerMillionInput: p.usdPerMillionInput, usdPerMillionCachedInput: cachedPrice, usdPerMillionOutput: p.usdPerMillionOutput },
      source: `${p.provider} per-token price of ${p.date}: ${p.source}${p.usdPerMillionCachedInput === undefined && input.cachedInputDiscount !== undefined ? `; cached input at --cached-input-discount ${input.cachedInputDiscount} off the input price` : ''}`,
    });
    const apiPerMonth = term(fig, { id: `${id}.usdPerMonthAtLoad`, label: `${p.provider}: USD per month at the planned load`, unit: 'USD', value: perRequest * requestsPerMonth, formula: 'usdPerRequest x requestsPerMonthAtLoad', inputs: { usdPerRequest: perRequest, requestsPerMonthAtLoad: requestsPerMonth }, source: 'the same requests bought from the API' });
    const utilisation = term(fig, { id: `${id}.breakEvenUtilisation`, label: `${p.provider}: break-even utilisation of the planned load`, unit: 'fraction', value: selfHostUsdPerMonth / apiPerMonth, formula: 'selfHostUsdPerMonth / usdPerMonthAtLoad (= usdPerHour / (requestsPerSecond x 3600 x usdPerRequest))', inputs: { selfHostUsdPerMonth, usdPerMonthAtLoad: apiPerMonth }, source: 'self-hosting costs the same every hour; the API in proportion to the requests' });
    const breakEvenRequests = term(fig, { id: `${id}.breakEvenRequestsPerMonth`, label: `${p.provider}: requests per month above which self-hosting is cheaper`, unit: 'count', value: selfHostUsdPerMonth / perRequest, formula: 'selfHostUsdPerMonth / usdPerRequest', inputs: { selfHostUsdPerMonth, usdPerRequest: perRequest }, source: 'break-even volume' });
    const breakEvenTokens = term(fig, { id: `${id}.breakEvenTokensPerMonth`, label: `${p.provider}: tokens per month above which self-hosting is cheaper`, unit: 'tokens', value: breakEvenRequests * (tin + tout), formula: 'breakEvenRequestsPerMonth x (inputTokens + outputTokens)', inputs: { breakEvenRequestsPerMonth: breakEvenRequests, inputTokens: tin, outputTokens: tout }, source: 'break-even volume in tokens' });
    return {
      provider: p.provider, date: p.date, source: p.source,
      usdPerMillionInput: p.usdPerMillionInput, usdPerMillionCachedInput: p.usdPerMillionCachedInput ?? null, usdPerMillionOutput: p.usdPerMillionOutput,
      apiUsdPerRequest: perRequest, apiUsdPerMonthAtLoad: apiPerMonth, breakEvenUtilisation: utilisation,
      breakEvenRequestsPerMonth: breakEvenRequests, breakEvenTokensPerMonth: breakEvenTokens, selfHostingCanBeCheaper: utilisation <= 1,
    };
  });
  return { selfHostUsdPerMonth, requestsPerMonthAtLoad: requestsPerMonth, tokensPerMonthAtLoad: requestsPerMonth * (tin + tout), rows, figures: fig };
}
