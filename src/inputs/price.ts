import { grouped } from '../format/human.js';
import { UserError } from '../errors.js';
import { ownedCost, ownedCostText, type DevicePower, type OwnedCost, type OwnedSettings } from '../estimate/owned.js';
import type { Catalog } from './catalog.js';
import { PRICE_KINDS, type HardwareSpec, type Price, type PriceKind } from './hardware.js';
import { quantity, type Named } from './options.js';
import { findHardware } from './presets.js';

/**
 * Prices: which dated price from a preset an estimate or a plan charges, and `--price` as the
 * user gives it. One rule for every device (the default price), so hardware is compared on
 * like terms:
 *
 *   the median of the on-demand list prices in the preset, each provider counted once (its
 *   most recent price); marketplace offers only when no provider lists one; reserved, spot
 *   and purchase prices only when --price-kind asks for them.
 *
 * The median, not the lowest: one small provider's "starts from" price would otherwise rank a
 * device above others that many clouds list for less (issue 18: H200 at a single 2.25 USD/h
 * ranked above H100).
 */

/** A price as an estimate carries it: USD per device-hour and where it came from. */
export interface ChosenPrice {
  usdPerHour: number;
  source: string;
  /** USD per device, when the hourly price amortizes a purchase */
  purchaseUsd?: number;
  amortizeYears?: number;
  /** the default rule found no rental price and amortized the purchase price (said in a warning) */
  fromPurchase?: boolean;
  /** the kind of price: a rental's (on-demand, marketplace, reserved, spot) or purchase (owned hardware) */
  kind?: PriceKind;
  /** owned hardware: the hourly price in parts, amortized purchase + electricity + colocation (src/estimate/owned.ts) */
  owned?: OwnedCost;
}

/** Which price to take: a kind, optionally one provider's, and for purchases the years to amortize over. */
export interface PriceChoice {
  kind: PriceKind;
  provider?: Named;
  amortizeYears?: number;
  /** --price-kind was given: no fallback to another kind */
  kindGiven?: boolean;
  /** owned hardware's running costs: PUE, electricity and colocation prices, --power-watts (defaults in src/estimate/owned.ts) */
  owned?: OwnedSettings;
}

/** Years a purchase is amortized over when --amortize-years is not given: a common 3-year depreciation schedule for servers. */
export const DEFAULT_AMORTIZE_YEARS = 3;

/**
 * A preset's price kind. Presets written before kinds were a fixed list say it in words
 * ("on-demand (secure cloud)", "EC2 Capacity Blocks reservation"); read those by keyword.
 */
export function priceKindOf(text: string | undefined): PriceKind {
  const t = (text ?? 'on-demand').trim().toLowerCase();
  if ((PRICE_KINDS as readonly string[]).includes(t)) return t as PriceKind;
  if (/purchase|buy|msrp|retail|capex/.test(t)) return 'purchase';
  if (/marketplace|community/.test(t)) return 'marketplace';
  if (/spot|preemptible|interruptible/.test(t)) return 'spot';
  if (/3[- ]?y|three[- ]year|36[- ]month/.test(t)) return 'reserved-3y';
  if (/reserv|commit|capacity block|1[- ]?y|one[- ]year|12[- ]month/.test(t)) return 'reserved-1y';
  return 'on-demand';
}

/** USD per device-hour, or USD per device for a purchase. */
const amountOf = (p: Price): number => (p.kind === 'purchase' ? p.purchaseUsd! : p.usdPerHour!);

/** The providers a preset lists prices for, in the preset's order, each once. */
export const providersOf = (hw: HardwareSpec, kind?: PriceKind): string[] => [...new Set(hw.prices.filter((p) => !kind || p.kind === kind).map((p) => p.provider))];

/** The kinds a preset has prices of, in PRICE_KINDS order. */
export const kindsOf = (hw: HardwareSpec): PriceKind[] => PRICE_KINDS.filter((k) => hw.prices.some((p) => p.kind === k));

/** Each provider's most recent price of a kind (on a tie, the first listed). */
function latestPerProvider(prices: Price[]): Price[] {
  const latest = new Map<string, Price>();
  for (const p of prices) {
    const key = p.provider.toLowerCase();
    const seen = latest.get(key);
    if (!seen || p.date > seen.date) latest.set(key, p);
  }
  return [...latest.values()];
}

/** The middle value; for an even count, the mean of the two middle ones. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const money = (usd: number, kind: PriceKind): string => (kind === 'purchase' ? `${grouped(usd)} USD` : `${usd >= 1000 ? grouped(usd, 2) : +usd.toFixed(4)} USD/h`);
const describe = (p: Price): string => `${p.provider}${p.region ? ` ${p.region}` : ''} ${money(amountOf(p), p.kind)} (${p.date})`;

/** A rule applied to a preset: the prices it took and the value it gave (USD/h, or USD for a purchase). */
export interface PriceBasis {
  kind: PriceKind;
  value: number;
  prices: Price[];
  /** the rule in words, with the prices it took */
  rule: string;
}

/**
 * The price the rule gives for one kind (optionally one provider's: its most recent). On-demand
 * without a provider falls back to marketplace offers. Undefined when the preset has none.
 */
export function priceBasis(hw: HardwareSpec, kind: PriceKind = 'on-demand', provider?: string): PriceBasis | undefined {
  const wanted = provider?.toLowerCase();
  const pool = latestPerProvider(hw.prices.filter((p) => p.kind === kind && (wanted === undefined || p.provider.toLowerCase() === wanted)));
  if (!pool.length) return kind === 'on-demand' && wanted === undefined ? priceBasis(hw, 'marketplace') : undefined;
  const value = median(pool.map(amountOf));
  const listed = pool.map(describe).join(', ');
  const rule = pool.length === 1 ? `${listed}, ${kind}: ${pool[0]!.source}` : `median of ${pool.length} ${kind} prices, each provider's latest: ${listed} (sources: llm-size presets show ${hw.id})`;
  return { kind, value, prices: pool, rule };
}

/** A device's power with its source, where the preset knows it: the server's share where published, else its TDP. */
const tdpOf = (hw: HardwareSpec): DevicePower | undefined =>
  hw.serverWatts?.value ? { value: hw.serverWatts.value, source: hw.serverWatts.source, server: true } : hw.tdpWatts.value ? { value: hw.tdpWatts.value, source: hw.tdpWatts.source } : undefined;

/** Why the default rule amortizes a purchase: the words the figures and listings carry. */
const NO_RENTAL = 'no public rental price found: the purchase price';

/**
 * The default price of a preset, USD per device-hour: the median on-demand price, else the
 * median marketplace offer, else (no public rental price at all: Intel Gaudi 2 and 3) the
 * purchase price amortized over DEFAULT_AMORTIZE_YEARS of 8,760 h plus the running costs of
 * owning it at the default electricity and colocation prices (src/estimate/owned.ts), which
 * the rule says.
 */
export function defaultPrice(hw: HardwareSpec): PriceBasis | undefined {
  const rental = priceBasis(hw);
  if (rental) return rental;
  const purchase = priceBasis(hw, 'purchase');
  if (!purchase) return undefined;
  const owned = ownedCost(purchase.value, DEFAULT_AMORTIZE_YEARS, tdpOf(hw));
  return { ...purchase, value: owned.usdPerHour, rule: `${NO_RENTAL}, ${purchase.rule}; amortized over ${DEFAULT_AMORTIZE_YEARS} years of 8,760 h ${ownedCostText(owned)}` };
}

/**
 * The dated price to charge: the rule above for the chosen kind (one provider's when given).
 * A purchase is turned into USD per device-hour over `amortizeYears` of 8,760 hours.
 * Undefined when the preset lists no price of the kind and none was asked for by name; an
 * unknown provider, or a kind the preset lacks when --price-kind asked for it, is a user error
 * that lists what the preset has.
 */
export function choosePrice(hw: HardwareSpec, choice: PriceChoice = { kind: 'on-demand' }, kindWhere?: string): ChosenPrice | undefined {
  const { kind, provider } = choice;
  const wanted = provider === undefined ? undefined : String(provider.value);
  if (provider) {
    const providers = providersOf(hw);
    if (!providers.length) throw new UserError(`${provider.where}: ${hw.name} lists no published prices; pass --price <USD per device-hour>`);
    if (!providers.some((p) => p.toLowerCase() === wanted!.toLowerCase())) throw new UserError(`${provider.where}: no price for ${hw.name} from "${provider.value}" (providers with prices: ${providers.join(', ')})`);
  }
  const basis = priceBasis(hw, kind, wanted);
  // The default rule with no rental price at all: the purchase price, amortized, and said so.
  if (!basis && kind === 'on-demand' && wanted === undefined && !choice.kindGiven) {
    const purchase = priceBasis(hw, 'purchase');
    if (purchase) return { ...amortized(purchase.value, choice.amortizeYears ?? DEFAULT_AMORTIZE_YEARS, `${NO_RENTAL}, ${purchase.rule}`, hw, choice.owned), fromPurchase: true };
  }
  if (!basis) {
    if (provider) throw new UserError(`${provider.where}: ${provider.value} lists no ${kind} price for ${hw.name} (its kinds: ${[...new Set(hw.prices.filter((p) => p.provider.toLowerCase() === wanted!.toLowerCase()).map((p) => p.kind))].join(', ')})`);
    if (kindWhere) throw new UserError(`${kindWhere}: no ${kind} price for ${hw.name} (kinds with prices: ${kindsOf(hw).join(', ') || 'none'}); pass --price <USD per device-hour>`);
    return undefined;
  }
  if (basis.kind !== 'purchase') return { usdPerHour: basis.value, source: basis.rule, kind: basis.kind };
  return amortized(basis.value, choice.amortizeYears ?? DEFAULT_AMORTIZE_YEARS, basis.rule, hw, choice.owned);
}

/**
 * A purchase price per device as USD per device-hour: price / (years x 8,760 h), plus the
 * running costs of owning it (electricity and colocation at the device's power,
 * src/estimate/owned.ts) so that it compares with a rent, which includes them.
 */
export function amortized(purchaseUsd: number, years: number, rule: string, hw: HardwareSpec, settings?: OwnedSettings): ChosenPrice {
  const owned = ownedCost(purchaseUsd, years, tdpOf(hw), settings);
  return {
    usdPerHour: owned.usdPerHour,
    source: `${rule}; amortized over ${years} year(s) of 8,760 h (every hour counted) ${ownedCostText(owned)}`,
    purchaseUsd,
    amortizeYears: years,
    kind: 'purchase',
    owned,
  };
}

/**
 * `--price` as given: one number for every device, `id=usd` pairs, or both (`2,mi300x=2.5`:
 * 2 for every device the pairs do not name). Ids are resolved like --gpu (aliases, did you
 * mean). With --price-kind purchase the numbers are USD per device.
 */
export interface PriceOverride {
  all?: number;
  byId: Map<string, number>;
  where: string;
}

export function parsePriceOption(n: Named, catalog: Catalog, kind: PriceKind = 'on-demand'): PriceOverride {
  const override: PriceOverride = { byId: new Map(), where: n.where };
  const unit = kind === 'purchase' ? 'USD per device (1599)' : 'USD per device-hour (2.49)';
  const bad = (part: string) => new UserError(`${n.where}: invalid value ${JSON.stringify(part)}; expected ${unit} or id=usd pairs (mi300x=2.5,tpu-v5e=1.2)`);
  // each number within the domain of a price (src/inputs/domains.ts)
  const number = (text: string, part: string) => {
    if (!/^\s*\$?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(text)) throw bad(part);
    const where = part === String(n.value).trim() ? n.where : `${n.where} ${part}`;
    return quantity({ value: text, where }, kind === 'purchase' ? 'usdPerDevice' : 'usdPerHour');
  };
  if (typeof n.value === 'number') return { ...override, all: quantity(n, kind === 'purchase' ? 'usdPerDevice' : 'usdPerHour') };
  const parts = String(n.value).split(',').map((x) => x.trim());
  if (!parts.length || parts.some((x) => x === '')) throw bad(String(n.value));
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (override.all !== undefined) throw bad(part);
      override.all = number(part, part);
      continue;
    }
    const hw = findHardware(catalog, part.slice(0, eq).trim());
    override.byId.set(hw.id, number(part.slice(eq + 1), part));
  }
  return override;
}

/**
 * The price of one device: the user's (`--price`) when it names the device or gives one for
 * all, else the preset's by `choice`. Purchase prices given with --price are amortized.
 */
export function priceFor(hw: HardwareSpec, override: PriceOverride | undefined, choice: PriceChoice, kindWhere?: string): ChosenPrice | undefined {
  const given = override?.byId.get(hw.id) ?? override?.all;
  if (given === undefined) return choosePrice(hw, choice, kindWhere);
  const named = override!.byId.has(hw.id) ? `${override!.where} ${hw.id}=${given}` : override!.where;
  if (choice.kind === 'purchase') return amortized(given, choice.amortizeYears ?? DEFAULT_AMORTIZE_YEARS, `purchase price ${grouped(given)} USD per device (${named})`, hw, choice.owned);
  return { usdPerHour: given, source: named, kind: choice.kind };
}
