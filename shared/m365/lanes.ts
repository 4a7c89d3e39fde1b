import type { Service } from './services';

/** Services that share one mailbox's request budget (Outlook's per-mailbox limits): run in order. */
export const EXCHANGE_LANE: readonly Service[] = ['mail', 'calendar', 'contacts'];

/**
 * A user's services in lanes that may run side by side: Exchange (mail, calendar, contacts, in the
 * given order, one after another) and files (OneDrive, and SharePoint later: their own budgets).
 * Empty lanes are left out.
 */
export function lanesOf(services: readonly Service[]): Service[][] {
  const exchange = services.filter((s) => EXCHANGE_LANE.includes(s));
  const files = services.filter((s) => !EXCHANGE_LANE.includes(s));
  return [exchange, files].filter((l) => l.length > 0);
}
