import { itemFileName, safeName } from '../../shared/restore/m365/naming';
import { calendarOfEvent, calendarsOf } from './calendars';
import type { SimContact, SimEvent, SimTenant } from './model';
import type { TenantEditor } from './editor';

export type Expected = { kind: 'bytes'; data: Buffer } | { kind: 'ics'; event: SimEvent } | { kind: 'vcf'; contact: SimContact } | { kind: 'json' };

/** The mailbox configuration files of a restored mailbox (their content is checked by test/calendars). */
export const MAILBOX_CONFIG_FILES = ['_mailboxSettings.json', '_messageRules.json', '_masterCategories.json'];

/**
 * What a restore of the tenant, as it is at this moment, must contain (relative path -> content),
 * plus the folders it must create. A deep copy: later mutations do not change it.
 */
export function expectedRestore(tenant: SimTenant, editor: TenantEditor): { files: Map<string, Expected>; dirs: Set<string> } {
  const files = new Map<string, Expected>();
  const dirs = new Set<string>();
  for (const u of tenant.users.values()) {
    const upn = safeName(u.user.userPrincipalName);
    if (u.user.hasDrive)
      for (const item of u.drive.values()) {
        if (!item.parentId) continue;
        const p = `${upn}/OneDrive/${editor.drivePath(u.user.id, item.id)}`;
        if (item.folder) dirs.add(p);
        else files.set(p, { kind: 'bytes', data: Buffer.from(item.content ?? Buffer.alloc(0)) });
      }
    if (!u.user.hasMailbox) continue;
    for (const name of MAILBOX_CONFIG_FILES) files.set(`${upn}/Mail/${name}`, { kind: 'json' });
    for (const f of u.mailbox.folders.values()) dirs.add(`${upn}/Mail/${editor.mailFolderPath(u.user.id, f.id)}`);
    for (const m of u.mailbox.messages.values())
      files.set(`${upn}/Mail/${editor.mailFolderPath(u.user.id, m.folderId)}/${itemFileName(m.subject, m.id, 'eml')}`, { kind: 'bytes', data: Buffer.from(m.mime) });
    // One folder per calendar; a series is one file (its exceptions and cancellations inside).
    const calendars = calendarsOf(u);
    for (const e of u.mailbox.events.values()) files.set(`${upn}/Calendar/${safeName(calendars.get(calendarOfEvent(u, e))!.name)}/${itemFileName(e.subject, e.id, 'ics')}`, { kind: 'ics', event: { ...e } });
    for (const c of u.mailbox.contacts.values()) {
      const folder = c.folderId ? `${editor.contactFolderPath(u.user.id, c.folderId)}/` : '';
      files.set(`${upn}/Contacts/${folder}${itemFileName(c.displayName, c.id, 'vcf')}`, { kind: 'vcf', contact: { ...c, emailAddresses: [...c.emailAddresses], businessPhones: [...c.businessPhones] } });
    }
  }
  return { files, dirs };
}
