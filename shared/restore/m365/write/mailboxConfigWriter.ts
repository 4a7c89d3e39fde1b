import { readAll } from './itemContent';
import { isStop, reasonOf, send, statusOf } from './graphWrite';
import { tokenRoles } from './permissions';
import { countFailure, type RestoreItem, type WriterContext, type WriterCounts } from './serviceWriter';

/** Graph's documented application permission of PATCH mailboxSettings, POST messageRules and POST masterCategories. */
export const MAILBOX_CONFIG_ROLE = 'MailboxSettings.ReadWrite';
/** The writable mailboxSettings restored (userPurpose, archiveFolder are read-only or mailbox-specific). */
const SETTINGS = ['automaticRepliesSetting', 'language', 'timeZone', 'workingHours', 'dateFormat', 'timeFormat'] as const;
/** The properties of a messageRule sent back (id, isReadOnly, hasError are Graph's). */
const RULE_FIELDS = ['displayName', 'sequence', 'isEnabled', 'conditions', 'actions', 'exceptions'] as const;
/** Rule actions that name a mail folder by id. */
const FOLDER_ACTIONS = ['moveToFolder', 'copyToFolder'] as const;

type Rule = Record<string, unknown> & { id?: string; displayName?: string };
type Category = { id?: string; displayName?: string; color?: string };

/** JSON with sorted keys: two values equal whatever their key order. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : x));
const same = (a: unknown, b: unknown) => canonical(a ?? null) === canonical(b ?? null);
const note = (counts: WriterCounts, text: string) => {
  counts.notes ??= [];
  if (!counts.notes.includes(text)) counts.notes.push(text);
};

/**
 * The mailbox configuration items of the mail service (config:mailboxSettings, config:messageRules,
 * config:masterCategories; see shared/graph/sources/mailboxConfig.ts) written back: categories
 * missing by name created (an existing one never renamed or deleted); inbox rules missing by name
 * created, their folder actions re-pointed to the restored folder of the same path; settings in
 * place with `replace` only (one object: `skip` leaves it), never into another user. Nothing is
 * written without MailboxSettings.ReadWrite (then a note says so and the items count as skipped). A rerun finds everything by name and creates nothing.
 */
export async function writeMailboxConfig(ctx: WriterContext, box: string, item: RestoreItem, counts: WriterCounts): Promise<void> {
  const name = String(item.meta.name ?? '');
  const label = `mailbox ${name}`;
  if (name === 'mailboxSettings') {
    if (ctx.destinationRoot) return note(counts, 'mailboxSettings (automatic replies, time zone, language, working hours): skipped: settings belong to the source mailbox.');
    if (ctx.conflict !== 'replace') return note(counts, 'mailboxSettings (automatic replies, time zone, language, working hours): left as they are (one object); restore them with --conflict replace.');
  }
  const roles = await tokenRoles(ctx.conn);
  if (roles !== undefined && !roles.includes(MAILBOX_CONFIG_ROLE)) {
    // Not a failure of the mail restore (the role is newer than the others: an app registered before
    // it restores mail as it did), but never silent: counted as not written and said once.
    counts.skipped++;
    return note(counts, `The mailbox configuration (inbox rules, categories, automatic replies) was not restored: it needs the application permission ${MAILBOX_CONFIG_ROLE} with admin consent, which the app registration used for restores lacks.`);
  }
  let stored: unknown;
  try {
    stored = JSON.parse((item.content ? await readAll(item.content()) : Buffer.from('null')).toString('utf8'));
  } catch {
    countFailure(counts, label, 'Its backed-up JSON could not be read; it is not restored.');
    return;
  }
  try {
    if (name === 'masterCategories') await categories(ctx, box, Array.isArray(stored) ? (stored as Category[]) : [], counts);
    else if (name === 'messageRules') await rules(ctx, box, Array.isArray(stored) ? (stored as Rule[]) : [], counts);
    else if (name === 'mailboxSettings') await settings(ctx, box, (stored ?? {}) as Record<string, unknown>, counts);
  } catch (e) {
    if (isStop(e)) throw e;
    countFailure(counts, label, reasonOf(e));
  }
}

async function categories(ctx: WriterContext, box: string, wanted: Category[], counts: WriterCounts): Promise<void> {
  const list = async () => new Set(((await send<{ value?: Category[] }>(ctx.conn, 'GET', `${box}/outlook/masterCategories`, 'the master categories')).value ?? []).map((c) => String(c.displayName).toLowerCase()));
  const have = await list();
  for (const c of wanted) {
    const displayName = String(c.displayName ?? '');
    if (displayName === '' || have.has(displayName.toLowerCase())) {
      counts.skipped++;
      continue;
    }
    try {
      await send(ctx.conn, 'POST', `${box}/outlook/masterCategories`, `create category "${displayName}"`, { displayName, ...(c.color ? { color: c.color } : {}) });
      have.add(displayName.toLowerCase());
      counts.restored++;
    } catch (e) {
      if (isStop(e)) throw e;
      if (statusOf(e) === 409) counts.skipped++; // made meanwhile: the name is there
      else countFailure(counts, `category ${displayName}`, reasonOf(e));
    }
  }
}

async function rules(ctx: WriterContext, box: string, wanted: Rule[], counts: WriterCounts): Promise<void> {
  const path = `${box}/mailFolders/inbox/messageRules`;
  const existing = (await send<{ value?: Rule[] }>(ctx.conn, 'GET', path, 'the inbox rules')).value ?? [];
  const byName = (n: string) => existing.find((r) => String(r.displayName).toLowerCase() === n.toLowerCase());
  for (const r of wanted) {
    const displayName = String(r.displayName ?? '');
    const label = `inbox rule ${displayName}`;
    try {
      const body: Record<string, unknown> = Object.fromEntries(RULE_FIELDS.filter((k) => r[k] !== undefined && r[k] !== null).map((k) => [k, r[k]]));
      const actions = { ...((r.actions ?? {}) as Record<string, unknown>) };
      let lost: string | undefined;
      for (const a of FOLDER_ACTIONS) {
        if (typeof actions[a] !== 'string') continue;
        const restored = await ctx.map.get(`folder:${actions[a] as string}`);
        if (!restored) lost = a;
        else actions[a] = restored;
      }
      if (lost) {
        countFailure(counts, label, `Its ${lost} action names a mail folder this restore did not restore; the rule is not created (restore the folder, then run again).`);
        continue;
      }
      body.actions = actions;
      const there = byName(displayName);
      if (!there) {
        existing.push(await send<Rule>(ctx.conn, 'POST', path, `create inbox rule "${displayName}"`, body));
        counts.restored++;
      } else if (ctx.conflict === 'replace') {
        if (RULE_FIELDS.every((k) => k === 'displayName' || same(there[k], body[k]))) counts.skipped++;
        else {
          await send(ctx.conn, 'PATCH', `${path}/${encodeURIComponent(String(there.id))}`, `update inbox rule "${displayName}"`, body);
          counts.restored++;
        }
      } else if (ctx.conflict === 'rename') {
        const renamed = `${displayName} (restored)`;
        if (byName(renamed)) counts.skipped++;
        else {
          existing.push(await send<Rule>(ctx.conn, 'POST', path, `create inbox rule "${renamed}"`, { ...body, displayName: renamed }));
          counts.renamed++;
        }
      } else counts.skipped++;
    } catch (e) {
      if (isStop(e)) throw e;
      countFailure(counts, label, reasonOf(e));
    }
  }
}

async function settings(ctx: WriterContext, box: string, stored: Record<string, unknown>, counts: WriterCounts): Promise<void> {
  const wanted = Object.fromEntries(SETTINGS.filter((k) => stored[k] !== undefined && stored[k] !== null).map((k) => [k, stored[k]]));
  if (Object.keys(wanted).length === 0) return;
  const now = await send<Record<string, unknown>>(ctx.conn, 'GET', `${box}/mailboxSettings`, 'the mailbox settings');
  if (Object.keys(wanted).every((k) => same(now[k], wanted[k]))) {
    counts.skipped++;
    return;
  }
  await send(ctx.conn, 'PATCH', `${box}/mailboxSettings`, 'update the mailbox settings', wanted);
  counts.restored++;
}
