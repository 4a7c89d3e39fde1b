import type { SimUserData } from '../tenant/model';
import { configOf, mailboxSettingsJson, type SimMailboxConfig } from '../tenant/mailboxConfig';
import { graphError, json, type SimRequest, type SimResponse } from './http';
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

/** Graph's documented role of the three writes. */
const SETTINGS_WRITE = ['MailboxSettings.ReadWrite'];
type Needs = (granted: string[], run: () => SimResponse) => () => SimResponse;

/**
 * The writes (Graph v1.0): PATCH mailboxSettings (automaticRepliesSetting, timeZone, language; the
 * rest of the object as Exchange keeps it), POST/PATCH mailFolders/inbox/messageRules, POST
 * outlook/masterCategories (409 on a name already there, case-insensitive). Each needs
 * MailboxSettings.ReadWrite (403 otherwise).
 */
export function matchMailboxConfigWriteRoute(req: SimRequest, u: SimUserData, rest: string[], outlook: Outlook, needs: Needs, body: () => Record<string, unknown>): RouteMatch | undefined {
  const method = req.method.toUpperCase();
  if (rest[0] === 'mailboxSettings' && rest.length === 1 && method === 'PATCH')
    return outlook(
      'mail.patchMailboxSettings',
      needs(SETTINGS_WRITE, () => {
        const c = configOf(u);
        const b = body();
        const ar = b.automaticRepliesSetting as Partial<SimMailboxConfig['automaticReplies']> | undefined;
        if (ar) c.automaticReplies = { ...c.automaticReplies, ...Object.fromEntries(Object.entries(ar).filter(([k]) => k in c.automaticReplies)) };
        if (typeof b.timeZone === 'string') c.timeZone = b.timeZone;
        const lang = b.language as { locale?: string } | undefined;
        if (typeof lang?.locale === 'string') c.language = lang.locale;
        return json(200, mailboxSettingsJson(u));
      }),
    );
  if (rest[0] === 'mailFolders' && rest[1]?.toLowerCase() === 'inbox' && rest[2] === 'messageRules') {
    const rules = () => configOf(u).rules;
    if (rest.length === 3 && method === 'POST')
      return outlook(
        'mail.createMessageRule',
        needs(SETTINGS_WRITE, () => {
          const b = body();
          if (typeof b.displayName !== 'string' || b.displayName === '') return graphError(400, 'ErrorInvalidRequest', 'The rule needs a displayName.');
          const rule = { id: `rule-${u.user.id.slice(0, 8)}-${rules().length + 1}-${Date.now().toString(36)}`, displayName: b.displayName, sequence: Number(b.sequence ?? rules().length + 1), isEnabled: b.isEnabled !== false, conditions: (b.conditions ?? {}) as Record<string, unknown>, actions: (b.actions ?? {}) as Record<string, unknown> };
          rules().push(rule);
          return json(201, rule);
        }),
      );
    if (rest.length === 4 && method === 'PATCH')
      return outlook(
        'mail.patchMessageRule',
        needs(SETTINGS_WRITE, () => {
          const rule = rules().find((r) => r.id === rest[3]);
          if (!rule) return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
          const b = body();
          if (typeof b.displayName === 'string') rule.displayName = b.displayName;
          if (b.sequence !== undefined) rule.sequence = Number(b.sequence);
          if (typeof b.isEnabled === 'boolean') rule.isEnabled = b.isEnabled;
          if (b.conditions) rule.conditions = b.conditions as Record<string, unknown>;
          if (b.actions) rule.actions = b.actions as Record<string, unknown>;
          return json(200, rule);
        }),
      );
  }
  if (rest[0] === 'outlook' && rest[1] === 'masterCategories' && rest.length === 2 && method === 'POST')
    return outlook(
      'mail.createCategory',
      needs(SETTINGS_WRITE, () => {
        const b = body();
        const cats = configOf(u).categories;
        const name = typeof b.displayName === 'string' ? b.displayName : '';
        if (name === '') return graphError(400, 'ErrorInvalidRequest', 'The category needs a displayName.');
        if (cats.some((c) => c.displayName.toLowerCase() === name.toLowerCase())) return graphError(409, 'ErrorDuplicateCategory', 'A category with this name already exists.');
        const cat = { id: `cat-${u.user.id.slice(0, 8)}-${cats.length + 1}-${Date.now().toString(36)}`, displayName: name, color: typeof b.color === 'string' ? b.color : 'none' };
        cats.push(cat);
        return json(201, cat);
      }),
    );
  return undefined;
}
