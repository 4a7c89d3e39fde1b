import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SeededRandom } from '../shared/local';
import { addTenantWithRestoreApp, startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import { SiteEditor, type SimLibrary, type SimSite } from '../simulator/tenant/sites';

/**
 * A SharePoint site's document libraries restored back into the site (CLI `restore --site
 * <url|id> --in-place`), through the OneDrive file writer, against the simulator over HTTPS.
 */
const SHAPE = { users: 1, filesPerUser: 1, maxFileBytes: 1_000, messagesPerUser: 1, eventsPerUser: 0, contactsPerUser: 0 };
const READ = ['User.Read.All', 'Files.Read.All', 'Sites.Read.All', 'Mail.Read', 'Calendars.Read', 'Contacts.Read'];
/** Simulator routes that change a site (what "nothing written" counts). */
const WRITE_ROUTES = ['library.upload', 'library.uploadSession', 'upload', 'library.createFolder', 'library.patch', 'site.createList'];

interface Counts {
  restored: number;
  skipped: number;
  renamed: number;
  failed: number;
}
const outOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as { counts: Counts; failures: { path: string; reason: string }[] };

/** Every file of a site by "<library>/<path>": bytes and modification time. */
function siteFiles(site: SimSite): Map<string, { data: Buffer; modified: string }> {
  const out = new Map<string, { data: Buffer; modified: string }>();
  for (const lib of site.libraries) {
    const pathOf = (id: string): string => {
      const i = lib.drive.get(id)!;
      return i.parentId && i.parentId !== lib.rootId ? `${pathOf(i.parentId)}/${i.name}` : i.name;
    };
    for (const i of lib.drive.values()) if (!i.folder && i.parentId) out.set(`${lib.user.displayName}/${pathOf(i.id)}`, { data: i.content ?? Buffer.alloc(0), modified: i.modified });
  }
  return out;
}

describe('restore a SharePoint site back into itself (libraries through the OneDrive writer; simulator over HTTPS)', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let sites: SiteEditor;
  let site: SimSite;
  let docs: SimLibrary;
  let original: Map<string, { data: Buffer; modified: string }>;
  const rnd = new SeededRandom(11);
  const writes = () => WRITE_ROUTES.reduce((n, r) => n + (suite.sim.stats.requests.get(r) ?? 0), 0);

  before(async () => {
    suite = await startM365Suite([{ name: 'fabrikam', seed: 13, shape: SHAPE }]);
    t = suite.tenants.get('fabrikam')!;
    sites = new SiteEditor(t.tenant);
    site = sites.addSite({ name: 'projekte', displayName: 'Projekte' });
    docs = sites.library(site);
    sites.addFile(docs, 'Verträge/Größer Bericht.bin', rnd.bytes(10 * 1024 * 1024 + 123_457), '2025-03-04T05:06:07.000Z');
    sites.addFile(docs, 'Verträge/Entwürfe/Résumé ✓.txt', Buffer.from('naïve café — 履歴書\n'), '2024-01-02T03:04:05.000Z');
    sites.addFile(docs, 'Verträge/Entwürfe/empty.txt', Buffer.alloc(0), '2024-01-02T03:04:06.000Z');
    sites.addFile(docs, 'Readme.md', Buffer.from('# Projekte\n'), '2023-05-06T07:08:09.000Z');
    sites.addFile(sites.addLibrary(site, 'Archiv 2024'), 'Alt/Protokoll.txt', Buffer.from('Protokoll\n'), '2024-12-31T23:59:58.000Z');
    const list = sites.addList(site, 'Aufgaben');
    sites.addListItem(list, { Title: 'Eins' });
    // Backups read with the read-only app; restores write with a second app registration.
    await addTenantWithRestoreApp(suite, t, READ, [...READ, 'Files.ReadWrite.All', 'Sites.ReadWrite.All']);
    const backup = await suite.cli(['backup', '--tenant', 'fabrikam', '--service', 'sharepoint', '--json'], t.password);
    assert.equal(backup.code, 0, backup.stderr);
    original = siteFiles(site);
  });
  after(async () => {
    await suite?.stop();
  });

  const restore = (args: string[]) => suite.cli(['restore', '--tenant', 'fabrikam', '--json', ...args], t.password);

  test('bad input and a missing Sites.ReadWrite.All: one sentence, nothing written', async () => {
    suite.sim.resetStats();
    const app = t.tenant.apps[1]!;
    const granted = app.roles;
    app.roles = [...READ, 'Files.ReadWrite.All'];
    try {
      const r = await restore(['--site', site.webUrl, '--in-place']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /restoring sharepoint needs the application permission Sites\.ReadWrite\.All with admin consent/);
      assert.equal(r.stderr.trim().split('\n').filter((l) => /Sites\.ReadWrite\.All/.test(l)).length, 1, r.stderr);
    } finally {
      app.roles = granted;
    }
    const cases: [string[], number, RegExp][] = [
      [['--site', 'projekte', '--in-place', '--path', 'Lists/Aufgaben'], 2, /lists restore to a folder only/],
      [['--team', 'Anything', '--in-place'], 2, /Teams channels, chats and group conversations cannot be restored into Microsoft 365/],
      [['--site', 'projekte', '--to-user', t.tenant.users.values().next().value!.user.userPrincipalName], 2, /in place only/],
      [['--site', 'nowhere', '--in-place'], 1, /no backed-up site "nowhere"/],
    ];
    for (const [args, code, message] of cases) {
      const r = await restore(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(writes(), 0, 'nothing was written to the site');
  });

  test('a folder and a whole library deleted, then restore --site --in-place: byte-identical, same mtimes; a rerun adds nothing', async () => {
    sites.deleteItem(docs, 'Verträge');
    sites.deleteLibrary(site, 'Archiv 2024');
    assert.ok(siteFiles(site).size < original.size);
    suite.sim.resetStats();
    const r = await restore(['--site', site.webUrl, '--in-place']);
    assert.equal(r.code, 0, r.stderr);
    const c = outOf(r.stdout).counts;
    assert.ok(c.restored > 0 && c.failed === 0, JSON.stringify(c));
    assert.equal(suite.sim.stats.requests.get('site.createList'), 1, 'the deleted library was recreated once');
    assert.equal(suite.sim.uploads.authorizationHeaders, 0, 'no Authorization header on upload URLs');
    assert.ok(suite.sim.uploads.fragments >= 2, 'the large file went up in fragments of an upload session');
    const files = siteFiles(site);
    assert.deepEqual([...files.keys()].sort(), [...original.keys()].sort(), 'every file is back at its path, in its library');
    for (const [path, f] of original) {
      assert.ok(files.get(path)!.data.equals(f.data), `${path} is byte-identical`);
      assert.equal(files.get(path)!.modified, f.modified, `${path} keeps its modification time`);
    }
    assert.deepEqual(site.libraries.map((l) => l.user.displayName).sort(), ['Archiv 2024', 'Documents']);
    assert.equal(site.lists.size, 1, 'the list is left as it is (lists restore to folders only)');

    suite.sim.resetStats();
    const again = await restore(['--site', site.id, '--in-place']);
    assert.equal(again.code, 0, again.stderr);
    const c2 = outOf(again.stdout).counts;
    assert.equal(c2.restored + c2.renamed + c2.failed, 0, `the rerun created nothing: ${JSON.stringify(c2)}`);
    assert.equal(writes(), 0, 'the rerun wrote nothing');
    assert.equal(siteFiles(site).size, original.size);
    assert.equal(site.libraries.length, 2);
  });

  test('--path <library>/<folder> restores only that folder; --conflict replace makes a changed file the backup again', async () => {
    sites.deleteItem(docs, 'Verträge/Entwürfe');
    sites.modifyFile(docs, 'Readme.md', Buffer.from('changed\n'));
    const r = await restore(['--site', 'projekte', '--in-place', '--path', 'Documents/Verträge/Entwürfe']);
    assert.equal(r.code, 0, r.stderr);
    const files = siteFiles(site);
    for (const p of ['Documents/Verträge/Entwürfe/Résumé ✓.txt', 'Documents/Verträge/Entwürfe/empty.txt']) assert.ok(files.get(p)!.data.equals(original.get(p)!.data), `${p} is back`);
    assert.equal(files.get('Documents/Readme.md')!.data.toString(), 'changed\n', 'outside the path nothing is touched');

    const replaced = await restore(['--site', 'projekte', '--in-place', '--path', 'Documents', '--conflict', 'replace']);
    assert.equal(replaced.code, 0, replaced.stderr);
    const now = siteFiles(site).get('Documents/Readme.md')!;
    assert.ok(now.data.equals(original.get('Documents/Readme.md')!.data), '--conflict replace makes the changed file the backup again');
    assert.equal(now.modified, original.get('Documents/Readme.md')!.modified);
  });
});
