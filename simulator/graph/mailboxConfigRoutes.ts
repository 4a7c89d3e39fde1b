import type { SimUserData } from '../tenant/model';
import { configOf, mailboxSettingsJson } from '../tenant/mailboxConfig';
import { json, type SimRequest, type SimResponse } from './http';
import type { RouteMatch } from './routes';

type Outlook = (name: string, run: () => SimResponse) => RouteMatch;

/**
 * Mailbox configuration (Graph v1.0): GET mailboxSettings (and one of its properties, e.g.
 * mailboxSettings/userPurpose), GET mailFolders/inbox/messageRules, GET outlook/masterCategories.
 */
export function matchMailboxConfigRoute(req: SimRequest, u: SimUserData, rest: string[], outlook: Outlook): RouteMatch | undefined {
  if (req.method !== 'GET') return undefined;
  if (rest[0] === 'mailboxSettings' && rest.length <= 2)
    return outlook('mail.mailboxSettings', () => {
      const all = mailboxSettingsJson(u);
      const select = req.url.searchParams.get('$select');
      if (rest[1]) return json(200, { value: all[rest[1]] ?? null });
      if (!select) return json(200, all);
      const keep = new Set(select.split(',').map((s) => s.trim()));
      return json(200, Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('@') || keep.has(k))));
    });
  if (rest[0] === 'mailFolders' && rest[1]?.toLowerCase() === 'inbox' && rest[2] === 'messageRules' && rest.length === 3)
    return outlook('mail.messageRules', () => json(200, { value: configOf(u).rules }));
  if (rest[0] === 'outlook' && rest[1] === 'masterCategories' && rest.length === 2)
    return outlook('mail.masterCategories', () => json(200, { value: configOf(u).categories }));
  return undefined;
}
