import { UserError } from '../errors.js';
import type { HardwareSpec, Price } from './hardware.js';
import type { Named } from './options.js';

/** A price as an estimate carries it: USD per device-hour and where it came from. */
export interface ChosenPrice {
  usdPerHour: number;
  source: string;
}

const describe = (p: Price): string => `${p.provider} ${p.kind ?? 'on-demand'} price, ${p.date} (${p.source})`;

/** The providers a preset lists prices for, in the preset's order, each once. */
export const providersOf = (hw: HardwareSpec): string[] => [...new Set(hw.prices.map((p) => p.provider))];

/** Offers that are not a provider's own list price: marketplaces, spot, reservations. */
const isSecondary = (p: Price): boolean => /marketplace|community|spot|preemptible|reserv|commit|capacity block/i.test(p.kind ?? '');

/**
 * The price charged when no provider is named: the lowest on-demand list price the preset has
 * (marketplace, spot and reserved offers only when nothing else is listed; on a tie the most
 * recent), so all hardware is compared on one rule.
 */
export function defaultPrice(hw: HardwareSpec): Price | undefined {
  const listed = hw.prices.filter((p) => !isSecondary(p));
  const pool = listed.length ? listed : hw.prices;
  return pool.length ? pool.reduce((best, p) => (p.usdPerHour < best.usdPerHour || (p.usdPerHour === best.usdPerHour && p.date > best.date) ? p : best)) : undefined;
}

/**
 * The dated price to charge: the given provider's (its most recent entry; on a tie the first
 * listed), or without a provider the default price above. Undefined when the preset lists
 * none. An unknown provider is a user error that lists the providers the preset has.
 */
export function choosePrice(hw: HardwareSpec, provider?: Named): ChosenPrice | undefined {
  if (provider === undefined) {
    const price = defaultPrice(hw);
    return price ? { usdPerHour: price.usdPerHour, source: `lowest listed on-demand price: ${describe(price)}` } : undefined;
  }
  const wanted = String(provider.value).toLowerCase();
  const providers = providersOf(hw);
  if (!providers.length) throw new UserError(`${provider.where}: ${hw.name} lists no published prices; pass --price <USD per device-hour>`);
  const matching = hw.prices.filter((p) => p.provider.toLowerCase() === wanted);
  if (!matching.length) throw new UserError(`${provider.where}: no price for ${hw.name} from "${provider.value}" (providers with prices: ${providers.join(', ')})`);
  const latest = matching.reduce((best, p) => (p.date > best.date ? p : best));
  return { usdPerHour: latest.usdPerHour, source: describe(latest) };
}
