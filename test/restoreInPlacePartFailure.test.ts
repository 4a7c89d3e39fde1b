import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import { getJson, startFunctionsHost, type FunctionsHostProcess } from './support/functionsHost';
import type { SimUserData } from '../simulator/tenant/model';

const SHAPE = { users: 3, filesPerUser: 4, maxFileBytes: 100_000, messagesPerUser: 6, eventsPerUser: 0, contactsPerUser: 0, withoutMailbox: [], withoutDrive: [] };
const ROLES = ['User.Read.All', 'Files.Read.All', 'Mail.Read', 'Calendars.Read', 'Contacts.Read', 'Files.ReadWrite.All', 'Mail.ReadWrite', 'Mail-Advanced.ReadWrite.All', 'Calendars.ReadWrite', 'Contacts.ReadWrite'];

const fileSet = (t: SuiteTenant, u: SimUserData) =>
  [...u.drive.values()].filter((i) => !i.folder && i.parentId).map((i) => `${t.editor.drivePath(u.user.id, i.id)}|${i.content?.toString('base64') ?? ''}|${i.modified}`).sort();
const mailSet = (t: SuiteTenant, u: SimUserData) => [...u.mailbox.messages.values()].map((m) => `${t.editor.mailFolderPath(u.user.id, m.folderId)}|${m.mime.toString('base64')}|${m.isDraft ?? false}`).sort();

describe('restore into Microsoft 365: one failing part does not fail the restore', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let users: SimUserData[];
  let host: FunctionsHostProcess;

  before(async () => {
    suite = await startM365Suite([{ name: 'contoso', seed: 11, shape: SHAPE }]);
    t = suite.tenants.get('contoso')!;
    t.tenant.apps[0]!.roles = ROLES;
    users = [...t.tenant.users.values()];
    assert.equal((await suite.addTenant('contoso')).code, 0);
    const b = await suite.cli(['backup', '--tenant', 'contoso'], t.password);
    assert.equal(b.code, 0, b.stderr);
    host = await startFunctionsHost(suite.processEnv({ RESTORE_POLL_SECONDS: '1' }), join(suite.work, 'durable'));
  });
  after(async () => {
    await host?.stop().catch(() => undefined);
    await suite?.stop();
  });

  const restoreAll = async () => {
    const start = await getJson(`${host.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', password: t.password, destination: { kind: 'in-place' }, services: ['onedrive', 'mail'] }) });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 1500; i++) {
      status = (await getJson(`${host.origin}/api/restores/${String(start.body.id)}`)).body;
      if (status.runtimeStatus === 'Completed' || status.runtimeStatus === 'Failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status));
    return status;
  };

  test("one user's mail refused: the rest restored, the part reported failed with its reason, status partial; a rerun restores it, nothing twice", async () => {
    const before = users.map((u) => ({ files: fileSet(t, u), mail: mailSet(t, u) }));
    assert.ok(before.every((b) => b.files.length > 0 && b.mail.length > 0), 'every user has files and mail');
    for (const u of users) {
      const upn = u.user.userPrincipalName;
      for (const i of [...u.drive.values()].filter((i) => !i.folder && i.parentId)) if (u.drive.has(i.id)) t.editor.deleteDriveItem(upn, t.editor.drivePath(u.user.id, i.id));
      for (const m of [...u.mailbox.messages.values()]) t.editor.deleteMessage(upn, m.id);
    }
    const refused = users[1]!;
    suite.sim.writeRefusals.set(refused.user.id, 'mail', true);
    let first: Record<string, unknown>;
    try {
      first = await restoreAll();
    } finally {
      suite.sim.writeRefusals.set(refused.user.id, 'mail', false);
    }
    const progress = first.progress as { status: string; partsFailed: number; parts: number };
    assert.equal(progress.status, 'partial', JSON.stringify(first));
    assert.equal(progress.partsFailed, 1, JSON.stringify(progress));
    const upn = refused.user.userPrincipalName;
    const failures = first.failures as { item: string; reason: string }[];
    assert.ok(failures.some((f) => f.item.startsWith(`${upn}/mail`) && /^create a message: .*403 ErrorAccessDenied/.test(f.reason)), JSON.stringify(failures));
    const parts = first.parts as { user: string; service: string; restored: number; failed: number }[];
    assert.deepEqual(parts.filter((p) => p.failed > 0).map((p) => `${p.user} ${p.service}`), [`${upn} mail`], 'only the refused part failed');
    users.forEach((u, i) => {
      assert.deepEqual(fileSet(t, u), before[i]!.files, `${u.user.userPrincipalName}: every file back, once`);
      if (u !== refused) assert.deepEqual(mailSet(t, u), before[i]!.mail, `${u.user.userPrincipalName}: every message back, once`);
    });
    assert.equal(mailSet(t, refused).length, 0, 'nothing written where writes were refused');

    const second = await restoreAll();
    assert.equal((second.progress as { status: string }).status, 'complete', JSON.stringify(second));
    const counts = second.counts as { restored: number; skipped: number; failed: number };
    assert.equal(counts.failed, 0, JSON.stringify(counts));
    assert.ok(counts.restored >= before[1]!.mail.length && counts.skipped > 0, `the refused mail restored, the rest skipped as already there: ${JSON.stringify(counts)}`);
    users.forEach((u, i) => {
      assert.deepEqual(fileSet(t, u), before[i]!.files, `${u.user.userPrincipalName}: files once after the rerun`);
      assert.deepEqual(mailSet(t, u), before[i]!.mail, `${u.user.userPrincipalName}: messages once after the rerun`);
    });
  });
});
