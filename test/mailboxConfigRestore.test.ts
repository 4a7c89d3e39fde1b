import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addTenantWithRestoreApp, startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import type { SimUserData } from '../simulator/tenant/model';
import { configOf } from '../simulator/tenant/mailboxConfig';

const SHAPE = { users: 2, filesPerUser: 1, maxFileBytes: 1000, messagesPerUser: 3, eventsPerUser: 0, contactsPerUser: 0, withoutMailbox: [], withoutDrive: [] };
const READ = ['User.Read.All', 'Files.Read.All', 'Mail.Read', 'MailboxSettings.Read', 'Calendars.Read', 'Contacts.Read'];
const WRITE = ['Mail.ReadWrite', 'MailboxSettings.ReadWrite'];
/** The simulator routes that change the mailbox configuration. */
const CONFIG_WRITES = ['mail.createMessageRule', 'mail.patchMessageRule', 'mail.createCategory', 'mail.patchMailboxSettings'];

interface Out {
  counts: { restored: number; skipped: number; renamed: number; failed: number; notes?: string[] };
  failures: { path: string; reason: string }[];
}
const outOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Out;

/** A mailbox's configuration as compared: rules with their folder action as a path, categories, out-of-office, time zone. */
function configView(t: SuiteTenant, u: SimUserData) {
  const c = configOf(u);
  const path = (id: unknown) => (typeof id === 'string' ? t.editor.mailFolderPath(u.user.id, id) : id);
  return {
    rules: c.rules
      .map((r) => ({ displayName: r.displayName, isEnabled: r.isEnabled, conditions: r.conditions, actions: { ...r.actions, ...(r.actions.moveToFolder ? { moveToFolder: path(r.actions.moveToFolder) } : {}) } }))
      .sort((a, b) => a.displayName.localeCompare(b.displayName)),
    categories: c.categories.map((x) => `${x.displayName}|${x.color}`).sort(),
    automaticReplies: { ...c.automaticReplies },
    timeZone: c.timeZone,
  };
}

describe('mailbox configuration restored into Microsoft 365 (rules, categories, automatic replies; simulator over HTTPS)', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let a: SimUserData;
  let b: SimUserData;
  let original: ReturnType<typeof configView>;

  before(async () => {
    suite = await startM365Suite([{ name: 'contoso', seed: 11, shape: SHAPE }]);
    t = suite.tenants.get('contoso')!;
    [a, b] = [...t.tenant.users.values()] as [SimUserData, SimUserData];
    const c = configOf(a);
    const projects = t.editor.addMailFolder(a.user.userPrincipalName, 'Inbox', 'Rules target');
    c.rules.push(
      { id: 'rule-1', displayName: 'From partner to folder', sequence: 1, isEnabled: true, conditions: { senderContains: ['partner.example'] }, actions: { moveToFolder: projects.id, stopProcessingRules: true } },
      { id: 'rule-2', displayName: 'Flag the boss', sequence: 2, isEnabled: false, conditions: { fromAddresses: [{ emailAddress: { address: 'boss@contoso.example' } }] }, actions: { markImportance: 'high' } },
    );
    c.categories.push({ id: 'cat-x', displayName: 'Projekt Ü', color: 'preset3' });
    c.automaticReplies = { status: 'alwaysEnabled', internalReplyMessage: 'Out until Monday', externalReplyMessage: 'I am away', externalAudience: 'contactsOnly' };
    c.timeZone = 'W. Europe Standard Time';
    // Backups read with the read-only app; restores write with a second app registration.
    await addTenantWithRestoreApp(suite, t, READ, [...READ, ...WRITE]);
    const backup = await suite.cli(['backup', '--tenant', 'contoso', '--service', 'mail', '--json'], t.password);
    assert.equal(backup.code, 0, backup.stderr);
    original = configView(t, a);
  });
  after(async () => {
    await suite?.stop();
  });

  const restore = (args: string[]) => suite.cli(['restore', '--tenant', 'contoso', '--json', '--service', 'mail', ...args], t.password);
  const configWrites = () => CONFIG_WRITES.reduce((n, r) => n + (suite.sim.stats.requests.get(r) ?? 0), 0);

  test('without MailboxSettings.ReadWrite: the mail restore completes, one note names the role, no configuration written', async () => {
    const app = t.tenant.apps[1]!;
    const granted = app.roles;
    app.roles = granted!.filter((r) => r !== 'MailboxSettings.ReadWrite');
    configOf(a).rules.length = 0;
    suite.sim.resetStats();
    try {
      const r = await restore(['--user', a.user.userPrincipalName, '--in-place', '--conflict', 'replace']);
      assert.equal(r.code, 0, r.stderr);
      const out = outOf(r.stdout);
      assert.deepEqual(out.failures, [], 'the configuration is not a failure of the mail restore');
      const notes = (out.counts.notes ?? []).filter((n) => /MailboxSettings\.ReadWrite with admin consent/.test(n));
      assert.equal(notes.length, 1, `one note names the role: ${JSON.stringify(out.counts.notes)}`);
      assert.equal(configWrites(), 0, 'nothing of the configuration was written');
    } finally {
      app.roles = granted;
    }
  });

  test('rules, categories and the out-of-office deleted or changed, the rule folder deleted -> restore in place --conflict replace -> equal; a rerun writes nothing', async () => {
    const upn = a.user.userPrincipalName;
    const c = configOf(a);
    c.rules.length = 0;
    c.categories = c.categories.filter((x) => x.displayName !== 'Projekt Ü');
    c.automaticReplies = { status: 'disabled', internalReplyMessage: '', externalReplyMessage: '', externalAudience: 'all' };
    c.timeZone = 'UTC';
    t.editor.deleteMailFolder(upn, 'Inbox/Rules target');
    const r = await restore(['--user', upn, '--in-place', '--conflict', 'replace']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(outOf(r.stdout).counts.failed, 0, r.stdout);
    assert.deepEqual(configView(t, a), original, 'rules (re-pointed to the restored folder), categories, automatic replies and time zone are back');

    suite.sim.resetStats();
    const again = await restore(['--user', upn, '--in-place', '--conflict', 'replace']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(configWrites(), 0, 'the rerun wrote no rule, category or setting');
    assert.deepEqual(configView(t, a), original);
  });

  test('--conflict skip leaves the settings (and says so); an existing rule of the same name is untouched; rename adds "<name> (restored)" once', async () => {
    const upn = a.user.userPrincipalName;
    const c = configOf(a);
    c.automaticReplies = { ...c.automaticReplies, status: 'disabled' };
    c.rules.find((x) => x.displayName === 'Flag the boss')!.isEnabled = true;
    const r = await restore(['--user', upn, '--in-place']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(outOf(r.stdout).counts.notes?.some((n) => /mailboxSettings.*--conflict replace/.test(n)), r.stdout);
    assert.equal(c.automaticReplies.status, 'disabled', 'skip leaves the settings');
    assert.equal(c.rules.find((x) => x.displayName === 'Flag the boss')!.isEnabled, true, 'skip leaves the rule');
    for (let i = 0; i < 2; i++) assert.equal((await restore(['--user', upn, '--in-place', '--conflict', 'rename'])).code, 0);
    assert.equal(c.rules.filter((x) => x.displayName === 'Flag the boss (restored)').length, 1, 'renamed once, not twice');
    // replace: the changed rule is updated (PATCH) back to the backed-up one, the out-of-office too.
    suite.sim.resetStats();
    assert.equal((await restore(['--user', upn, '--in-place', '--conflict', 'replace'])).code, 0);
    assert.equal(suite.sim.stats.requests.get('mail.patchMessageRule'), 1, 'one rule updated');
    assert.equal(c.rules.find((x) => x.displayName === 'Flag the boss')!.isEnabled, false, 'replace updates the rule');
    assert.deepEqual(c.automaticReplies, original.automaticReplies, 'replace restores the out-of-office');
  });

  test('--to-user: rules and categories created, settings not ("belong to the source mailbox"); a rerun adds nothing', async () => {
    const before = { ...configOf(b).automaticReplies, timeZone: configOf(b).timeZone };
    const r = await restore(['--user', a.user.userPrincipalName, '--to-user', b.user.userPrincipalName]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(outOf(r.stdout).counts.notes?.some((n) => n.includes('skipped: settings belong to the source mailbox')), r.stdout);
    const got = configView(t, b);
    const root = `Restored from ${a.user.userPrincipalName}`;
    for (const rule of original.rules) {
      const there = got.rules.find((x) => x.displayName === rule.displayName);
      assert.ok(there, `rule ${rule.displayName} created`);
      if (rule.actions.moveToFolder) assert.match(String(there.actions.moveToFolder), new RegExp(`^${root.replace(/[.]/g, '\\.')} [0-9-]+/Inbox/Rules target$`), 'the rule moves into the restored folder');
    }
    for (const cat of original.categories) assert.ok(got.categories.includes(cat), `category ${cat}`);
    assert.deepEqual({ ...configOf(b).automaticReplies, timeZone: configOf(b).timeZone }, before, "the target's own settings are untouched");
    suite.sim.resetStats();
    assert.equal((await restore(['--user', a.user.userPrincipalName, '--to-user', b.user.userPrincipalName])).code, 0);
    assert.equal(configWrites(), 0, 'the rerun wrote nothing of the configuration');
  });
});
