import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deletedMessageHistory, startConsoleSuite, zipEntries, type ConsoleSuite, type DeletedMessage } from './consoleSuite';
import { itemFileName, safeName } from '../../shared/restore/m365/naming';

/**
 * The console end to end in a real browser: Debian's Chromium, headless, driven by playwright-core
 * (never Playwright's own browser download). Sign-in goes through the tenant simulator's identity
 * pages; axe-core checks every page; screenshots land in test-results/console/ (git-ignored) for
 * humans to look at.
 */
const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(__dirname, '..', '..', '..');
const SHOTS = join(ROOT, 'test-results', 'console');
const AXE = join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');

type Page = import('playwright-core').Page;
type Browser = import('playwright-core').Browser;

describe('the web console in Chromium (sign-in, dashboard, run history, failed items, accessibility)', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent: apt-get install chromium (.ci/run does)` }, () => {
  let c: ConsoleSuite;
  let browser: Browser;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    c = await startConsoleSuite({ apiAuth: 'entra' });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await c?.stop();
  });

  /** axe-core on the page as it is: no serious or critical violation. */
  async function accessible(page: Page, what: string): Promise<void> {
    // Evaluated through the DevTools protocol, not a <script> tag: the pages' CSP forbids inline script.
    await page.evaluate(readFileSync(AXE, 'utf8'));
    const result = (await page.evaluate(() => (globalThis as unknown as { axe: { run(): Promise<unknown> } }).axe.run())) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    assert.deepEqual(bad, [], `axe on ${what}`);
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  async function signInAs(user: { username: string; password: string }, prefix: string): Promise<Page> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true }); // the simulator's loopback certificate
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${c.host.origin}/api/console/`);
    const link = page.getByRole('link', { name: 'Sign in with Microsoft' });
    await link.waitFor();
    if (prefix === 'admin') {
      await accessible(page, 'the signed-out page');
      await shot(page, '01-signed-out');
    }
    await link.click();
    await page.getByLabel('Email or username').waitFor();
    assert.ok(page.url().startsWith(c.suite.sim.origin), `the sign-in page is the identity provider's: ${page.url()}`);
    if (prefix === 'admin') {
      await accessible(page, "the simulator's sign-in page");
      await shot(page, '02-sign-in');
    }
    await page.getByLabel('Email or username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${c.host.origin}/api/console/**`).catch(async (e: unknown) => {
      throw new Error(`sign-in did not come back to the console: at ${page.url()}: ${(await page.content()).slice(0, 600)}`, { cause: e });
    });
    await page.locator('#who').getByRole('link', { name: 'Sign out' }).waitFor();
    assert.deepEqual(errors.filter((e) => !/401/.test(e)), [], 'no script errors (CSP violations included)');
    return page;
  }

  test('an admin signs in through the identity pages and sees the tenant, its runs and the failed item with its reason', async () => {
    const page = await signInAs(c.users.admin, 'admin');
    const tenants = page.getByRole('table', { name: 'Tenants and their last backup' });
    await tenants.waitFor();
    const row = tenants.getByRole('row').filter({ hasText: 'contoso' });
    assert.match(await row.innerText(), /partial/);
    await accessible(page, 'the dashboard');
    await shot(page, '03-dashboard');

    await row.getByRole('link', { name: 'contoso' }).click();
    const runs = page.getByRole('table', { name: /Backups and restores of contoso/ });
    await runs.waitFor();
    assert.match(await runs.innerText(), new RegExp(c.runId));
    // Storage and cost per tier, from GET /api/report: the demo tenant's packs are on some tier and counted.
    const storage = page.getByRole('table', { name: /Storage of contoso per tier/ });
    await storage.waitFor();
    const packRows = await storage.getByRole('row').filter({ hasText: 'Packs, ' }).allInnerTexts();
    assert.equal(packRows.length, 4, 'one row per tier (Hot, Cool, Cold, Archive)');
    assert.ok(packRows.some((r) => /^Packs, \w+\t[1-9][\d,]*\t[\d.]+ (B|KiB|MiB|GiB)\t\d+\.\d\d$/.test(r)), `a tier holds the packs: ${packRows.join(' | ')}`);
    assert.match(await storage.getByRole('row').filter({ hasText: 'Total' }).innerText(), /\d+\.\d\d/);
    assert.match(await page.getByRole('list', { name: 'Garbage' }).innerText(), /Garbage waiting/);
    assert.ok(await page.getByRole('table', { name: /per lock generation/ }).isVisible());
    await accessible(page, 'the run history');
    await shot(page, '04-run-history');

    await runs.getByRole('link', { name: c.runId }).click();
    const failed = page.getByRole('table', { name: /Every item that failed/ });
    await failed.waitFor();
    const text = await failed.innerText();
    assert.match(text, new RegExp(c.failed.id));
    assert.match(text, c.failed.reason);
    assert.ok(await page.getByRole('table', { name: 'Each user and service' }).isVisible());
    await accessible(page, 'the run report');
    await shot(page, '05-run-failed-item');

    // The session cookie is HttpOnly (script cannot read it); the CSRF cookie is the only one visible.
    assert.deepEqual((await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).split(';').map((s: string) => s.trim().split('=')[0]), ['m365b-csrf']);
    const cookies = await page.context().cookies(c.host.origin);
    const session = cookies.find((k) => k.name === 'AppServiceAuthSession')!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.secure, true);
    await page.context().close();
  });

  test('a backup started from the browser (CSRF header) shows live progress and ends complete on its own', async () => {
    const page = await signInAs(c.users.operator, 'operator');
    await page.getByRole('table', { name: 'Tenants and their last backup' }).waitFor();
    // Without the CSRF header the same call is refused; with it (what the console's api.ts sends) it starts.
    const refused = await page.evaluate(async () => (await fetch('/api/backups', { method: 'POST', body: '{"tenant":"contoso","services":["contacts"]}' })).status);
    assert.equal(refused, 403);
    const id = await page.evaluate(async () => {
      const csrf = /m365b-csrf=([^;]+)/.exec((globalThis as unknown as { document: { cookie: string } }).document.cookie)![1]!;
      const res = await fetch('/api/backups', { method: 'POST', headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' }, body: '{"tenant":"contoso","services":["contacts"]}' });
      return ((await res.json()) as { backups: { id: string }[] }).backups[0]!.id;
    });
    await page.goto(`${c.host.origin}/api/console/#/run/${id}`);
    // The view refreshes itself while the run runs; it ends on the run's verdict.
    await page.locator('.card .status').filter({ hasText: /^complete$/ }).waitFor({ timeout: 120_000 });
    await shot(page, '06-manual-run-complete');
    await page.context().close();
  });

  let history: DeletedMessage;

  test("an admin unlocks, browses a user's mail at an earlier point in time, finds the deleted message by sender and date, previews it sandboxed, restores it (zip) and sees the report and the audit log", async () => {
    history = await deletedMessageHistory(c);
    const page = await signInAs(c.users.admin, 'admin-browse');
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.locator('#nav').getByRole('link', { name: 'Browse' }).click();
    await page.getByLabel('Repository password').fill(c.contoso.password);
    await accessible(page, 'the unlock form');
    await shot(page, '08-unlock');
    await page.getByRole('button', { name: 'Unlock' }).click();
    const users = page.getByRole('table', { name: 'Backed-up users and their services' });
    await users.waitFor();
    // The password went in one request body and is nowhere in the page, the address or storage.
    assert.doesNotMatch(await page.content(), new RegExp(c.contoso.password));
    assert.doesNotMatch(page.url(), new RegExp(c.contoso.password));
    assert.equal(await page.evaluate(() => { const g = globalThis as unknown as { localStorage: { length: number }; sessionStorage: { length: number } }; return g.localStorage.length + g.sessionStorage.length; }), 0);
    await accessible(page, 'the users of a tenant');
    await users.getByRole('row').filter({ hasText: history.owner }).getByRole('link', { name: 'mail' }).click();
    const timeline = page.getByRole('list', { name: 'Snapshots, oldest first' });
    await timeline.waitFor();
    const points = timeline.getByRole('link');
    const n = await points.count();
    assert.ok(n >= 3, `${n} snapshots`);
    const earlier = points.nth(n - 2); // the snapshot before the deletion
    const seq = /^#(\d+)/.exec(await earlier.innerText())![1]!;
    await earlier.click();
    await page.getByRole('heading', { level: 1, name: new RegExp(`snapshot ${seq}$`) }).waitFor();
    await page.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: /^Inbox/ }).click();
    const items = page.getByRole('table', { name: /Items in Inbox at snapshot/ });
    await items.waitFor();
    assert.match(await items.innerText(), /Quarterly numbers[\s\S]*carol@partner\.example/);
    await accessible(page, 'a mail folder at an earlier point in time');
    await shot(page, '09-browse-earlier-snapshot');

    await page.getByRole('link', { name: 'Search' }).first().click();
    await page.getByLabel('Sender (name or address) contains').fill('carol@partner');
    await page.getByLabel('Dated from').fill('2026-10-15');
    await page.getByLabel('Dated to').fill('2026-10-15');
    await page.getByRole('button', { name: 'Search' }).click();
    const results = page.getByRole('table', { name: 'Search results, newest first' });
    await results.waitFor();
    const hit = results.getByRole('row').filter({ hasText: 'Quarterly numbers' });
    assert.match(await hit.innerText(), /deleted or changed since/);
    assert.equal(await results.getByRole('row').count(), 2, 'one hit (and the header row)');
    await accessible(page, 'search results');
    await shot(page, '10-search-deleted-message');

    await hit.getByRole('link', { name: 'Quarterly numbers' }).click();
    await page.getByRole('heading', { name: 'Quarterly numbers' }).waitFor();
    assert.match(await page.locator('dl.fields').innerText(), /carol@partner\.example/);
    const frame = page.locator('iframe.mail');
    assert.equal(await frame.getAttribute('sandbox'), '', 'the frame is sandboxed (no script, no same origin)');
    const body = page.frameLocator('iframe.mail').locator('pre');
    await body.waitFor();
    assert.match(await body.innerText(), /Revenue <script>alert\(1\)<\/script> up 4%/);
    assert.deepEqual(dialogs, [], 'nothing in the message ran');
    await accessible(page, 'the message preview');
    await shot(page, '11-preview');

    await page.getByRole('link', { name: /^Back to / }).click();
    await page.getByRole('heading', { level: 1, name: new RegExp(`snapshot ${seq}$`) }).waitFor();
    await page.getByRole('button', { name: 'Start restore' }).click();
    await page.getByRole('link', { name: 'Download the zip' }).waitFor({ timeout: 120_000 });
    const report = page.getByRole('table', { name: 'Restore report' });
    assert.match(await report.innerText(), /\d/);
    await accessible(page, 'the restore report');
    await shot(page, '12-restore-report');

    await page.locator('#nav').getByRole('link', { name: 'Audit log' }).click();
    const audit = page.getByRole('table', { name: 'Restores of contoso, newest first' });
    await audit.waitFor();
    assert.match(await audit.innerText(), new RegExp(`${c.users.admin.username}[\\s\\S]*${history.owner}[\\s\\S]*zip download`));
    await accessible(page, 'the audit log');
    await shot(page, '13-audit-log');

    // An admin opens a session for the self-service user from the same form.
    await page.locator('#nav').getByRole('link', { name: 'Browse' }).click();
    await page.getByLabel('Repository password').fill(c.contoso.password);
    await page.getByLabel('Open it for a self-service user instead (their UPN)').fill(history.owner);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText(`Session opened for ${history.owner}`).waitFor();
    await page.context().close();
  });

  test('the deleted message, found by search, ticked in the results and restored in place: the report says restored 1, and it is back at the simulator', async () => {
    const sim = [...c.contoso.tenant.users.values()].find((u) => u.user.userPrincipalName === history.owner)!;
    const back = () => [...sim.mailbox.messages.values()].filter((m) => m.subject === history.subject).length;
    assert.equal(back(), 0, 'deleted in the mailbox');
    const page = await signInAs(c.users.admin, 'admin-search-restore');
    await page.locator('#nav').getByRole('link', { name: 'Browse' }).click();
    await page.getByLabel('Repository password').fill(c.contoso.password);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('table', { name: 'Backed-up users and their services' }).waitFor();
    await page.getByRole('link', { name: 'Search' }).first().click();
    await page.getByLabel('Sender (name or address) contains').fill('carol@partner');
    await page.getByLabel('Dated from').fill('2026-10-15');
    await page.getByLabel('Dated to').fill('2026-10-15');
    await page.getByRole('button', { name: 'Search' }).click();
    const results = page.getByRole('table', { name: 'Search results, newest first' });
    await results.waitFor();
    await results.getByRole('checkbox', { name: new RegExp(`^Select ${history.subject} \\(`) }).check();
    assert.ok(await page.getByLabel(/^The 1 selected item /).isChecked());
    assert.match(await page.getByRole('list', { name: 'Selected items' }).innerText(), new RegExp(`${history.subject} · mail · snapshot \\d+`));
    await page.getByLabel('Back into Microsoft 365, in place').check();
    await accessible(page, 'search results with a selection');
    await page.getByRole('button', { name: 'Start restore' }).click();
    await page.getByText(/^Restored \d+, skipped \d+, renamed \d+, failed \d+\.$/).waitFor({ timeout: 120_000 });
    assert.match(await page.getByText(/^Restored \d+/).innerText(), /^Restored 1, skipped \d+, renamed 0, failed 0\.$/);
    await shot(page, '17-search-restored-in-place');
    assert.equal(back(), 1, 'the message is back');
    assert.equal(c.contoso.editor.mailFolderPath(history.owner, [...sim.mailbox.messages.values()].find((m) => m.subject === history.subject)!.folderId), 'Inbox', 'where it was');
    await page.context().close();
  });

  test('restore in place from the console, with the conflict choice, and its report', async () => {
    const page = await signInAs(c.users.admin, 'admin-inplace');
    await page.locator('#nav').getByRole('link', { name: 'Browse' }).click();
    await page.getByLabel('Repository password').fill(c.contoso.password);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('table', { name: 'Backed-up users and their services' }).getByRole('row').filter({ hasText: history.owner }).getByRole('link', { name: 'mail' }).click();
    await page.getByLabel('Back into Microsoft 365, in place').check();
    await page.getByLabel('When an item exists').selectOption('skip');
    await page.getByRole('button', { name: 'Start restore' }).click();
    await page.waitForFunction(() => { const g = globalThis as unknown as { location: { hash: string }; document: { querySelector(s: string): unknown } }; return g.location.hash.startsWith('#/restored/') || !!g.document.querySelector('form p.error'); });
    assert.match(page.url(), /#\/restored\//, await page.locator('form p.error').innerText().catch(() => ''));
    await page.getByText(/Restored \d+, skipped \d+, renamed \d+, failed \d+/).waitFor({ timeout: 120_000 });
    await page.context().close();
  });

  /** Two backed-up messages and one file of a user no earlier restore wrote into (the restore map would skip what one did). */
  function twoMessagesAndAFile() {
    const sim = [...c.contoso.tenant.users.values()].find((u) => u.user.userPrincipalName !== history.owner && u.user.hasMailbox && u.user.hasDrive)!;
    const upn = sim.user.userPrincipalName;
    const messages = [...sim.mailbox.messages.values()].filter((m) => m.subject !== 'broken on the wire').slice(0, 2);
    assert.equal(messages.length, 2, 'two backed-up messages');
    const drive = [...sim.drive.values()].filter((d) => !d.folder).map((d) => ({ d, path: c.contoso.editor.drivePath(upn, d.id) }));
    const folderNames = [...sim.drive.values()].filter((d) => d.folder && d.parentId !== null).map((d) => d.name);
    const file = drive.find((x) => !x.path.includes('/')) ?? drive.find((x) => folderNames.filter((n) => n === x.path.split('/').at(-2)).length === 1)!;
    return { sim, upn, messages, picked: messages.map((m) => m.subject), file: file.d, filePath: file.path, fileName: file.path.split('/').at(-1)! };
  }

  /** Signs in as the admin, unlocks, and ticks the two messages (each in its folder) and the file (in OneDrive). */
  async function tickTwoMessagesAndAFile(prefix: string, o: ReturnType<typeof twoMessagesAndAFile>): Promise<Page> {
    const { upn, messages, picked, filePath, fileName } = o;
    const page = await signInAs(c.users.admin, prefix);
    await page.locator('#nav').getByRole('link', { name: 'Browse' }).click();
    await page.getByLabel('Repository password').fill(c.contoso.password);
    await page.getByRole('button', { name: 'Unlock' }).click();
    const users = page.getByRole('table', { name: 'Backed-up users and their services' });
    await users.getByRole('row').filter({ hasText: upn }).getByRole('link', { name: 'mail' }).click();
    // Each message in its folder (the selection stays while the user moves between folders).
    for (const m of messages) {
      const leaf = c.contoso.editor.mailFolderPath(upn, m.folderId).split('/').at(-1)!;
      await page.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: new RegExp(`^${leaf} \\(`) }).click();
      await page.getByRole('table', { name: new RegExp(`^Items in ${leaf} at snapshot`) }).waitFor();
      await page.getByRole('checkbox', { name: `Select ${m.subject}`, exact: true }).check();
    }
    assert.match(await page.getByText(/^The 2 selected items/).innerText(), /as at/);

    // On to the user's OneDrive: the selection stays (page memory), one file joins it.
    await page.getByRole('link', { name: 'All users' }).click();
    await users.getByRole('row').filter({ hasText: upn }).getByRole('link', { name: 'onedrive' }).click();
    const folder = filePath.split('/').at(-2);
    if (folder) await page.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: new RegExp(`^${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`) }).click();
    await page.getByRole('table', { name: new RegExp(`^Items in ${folder ?? 'the top level'} at snapshot`) }).waitFor();
    await page.getByRole('checkbox', { name: `Select ${fileName}`, exact: true }).check();
    const selection = page.getByRole('list', { name: 'Selected items' });
    assert.equal(await selection.getByRole('listitem').count(), 3);
    assert.match(await selection.innerText(), new RegExp(`${picked[0]} · mail[\\s\\S]*${fileName.replace(/\./g, '\\.')} · onedrive`));
    assert.ok(await page.getByLabel(/^The 3 selected items/).isChecked());
    return page;
  }

  test('select two messages and one file, "Download zip": progress, the report, and the downloaded zip holds exactly those files, byte-identical', async () => {
    const o = twoMessagesAndAFile();
    const page = await tickTwoMessagesAndAFile('admin-zip-selection', o);
    await page.getByRole('button', { name: 'Download zip' }).click();
    await page.waitForFunction(() => { const g = globalThis as unknown as { location: { hash: string }; document: { querySelector(s: string): unknown } }; return g.location.hash.startsWith('#/restored/') || !!g.document.querySelector('form p.error'); });
    assert.match(page.url(), /#\/restored\//, await page.locator('form p.error').innerText().catch(() => ''));
    const link = page.getByRole('link', { name: 'Download the zip' });
    await link.waitFor({ timeout: 120_000 });
    assert.match(await page.getByRole('table', { name: 'Restore report' }).innerText(), /\b3\b/);
    await accessible(page, 'the report of a zip of selected items');
    await shot(page, '18-selection-zip');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const entries = await zipEntries(readFileSync(await download.path()));
    const top = safeName(o.upn);
    const expected = new Map<string, Buffer>(o.messages.map((m) => [`${top}/Mail/${c.contoso.editor.mailFolderPath(o.sim.user.id, m.folderId)}/${itemFileName(m.subject, m.id, 'eml')}`, Buffer.from(m.mime)]));
    expected.set(`${top}/OneDrive/${o.filePath}`, Buffer.from(o.file.content ?? Buffer.alloc(0)));
    const files = [...entries.keys()].filter((n) => !n.endsWith('/') && !n.endsWith('/_items.json'));
    assert.deepEqual(files.sort(), [...expected.keys()].sort(), 'exactly the selected files');
    for (const [name, data] of expected) assert.ok(entries.get(name)!.equals(data), `${name} is byte-identical`);
    await page.context().close();
  });

  test('select two messages and one file across services, restore them in place with conflict rename, and see the report (and the items at the simulator)', async () => {
    const o = twoMessagesAndAFile();
    const { sim, upn, picked, fileName } = o;
    const copies = (subject: string) => [...sim.mailbox.messages.values()].filter((m) => m.subject === subject).length;
    const files = () => [...sim.drive.values()].filter((d) => !d.folder).length;
    const before = { copies: picked.map(copies), drive: files() };
    const page = await tickTwoMessagesAndAFile('admin-selection', o);
    await page.getByLabel('Back into Microsoft 365, in place').check();
    await page.getByLabel('When an item exists').selectOption('rename');
    await accessible(page, 'a listing with a selection and the restore form');
    await shot(page, '15-selection');
    await page.getByRole('button', { name: 'Start restore' }).click();
    await page.waitForFunction(() => { const g = globalThis as unknown as { location: { hash: string }; document: { querySelector(s: string): unknown } }; return g.location.hash.startsWith('#/restored/') || !!g.document.querySelector('form p.error'); });
    assert.match(page.url(), /#\/restored\//, await page.locator('form p.error').innerText().catch(() => ''));
    await page.getByText(/^Restored \d+, skipped \d+, renamed \d+, failed \d+\.$/).waitFor({ timeout: 120_000 });
    assert.match(await page.getByText(/^Restored \d+/).innerText(), /^Restored 0, skipped \d+, renamed 3, failed 0\.$/);
    assert.match(await page.locator('main').innerText(), /complete · in place, conflicts: rename/);
    const perPart = page.getByRole('table', { name: 'Each user and service' });
    const partRows = await perPart.getByRole('row').allInnerTexts();
    assert.ok(partRows.some((r) => r.startsWith(`${upn}\t${upn}\tmail\t0\t`) && r.endsWith('\t2\t0')), partRows.join(' | '));
    assert.ok(partRows.some((r) => /^\S+\t\S+\tonedrive\t0\t\d+\t1\t0$/.test(r)), partRows.join(' | '));
    await accessible(page, 'the report of a restore into Microsoft 365');
    await shot(page, '16-selection-restored');
    // At the simulator: one more copy of each selected message beside the original, one more file; nothing else.
    assert.deepEqual(picked.map(copies), before.copies.map((n) => n + 1));
    assert.equal(files(), before.drive + 1);
    assert.ok([...sim.drive.values()].some((d) => !d.folder && d.name !== fileName && d.name.startsWith(fileName.replace(/\.[^.]*$/, ''))), 'the file restored beside the original under another name');
    await page.context().close();
  });

  test("a self-service user browses only their own data in the session opened for them, and is refused (403) another user's; a user without a role sees nothing", async () => {
    const self = await signInAs(c.users.self, 'self');
    await self.getByRole('heading', { name: 'Browse backups' }).waitFor();
    assert.equal(await self.evaluate(async () => (await fetch('/api/tenants')).status), 403);
    await self.getByRole('button', { name: /opened for you/ }).click();
    const users = self.getByRole('table', { name: 'Backed-up users and their services' });
    await users.waitFor();
    assert.equal(await users.getByRole('row').count(), 2, 'their own user only');
    await users.getByRole('link', { name: 'mail' }).click();
    await self.getByRole('list', { name: 'Snapshots, oldest first' }).waitFor();
    await accessible(self, 'the self-service browse view');
    await shot(self, '14-self-service');
    const other = [...c.contoso.tenant.users.values()].map((u) => u.user.userPrincipalName).find((u) => u !== history.owner)!;
    const status = await self.evaluate(async (o: { other: string }) => {
      const { sessions } = (await (await fetch('/api/browse/sessions')).json()) as { sessions: { id: string }[] };
      return (await fetch(`/api/browse/sessions/${sessions[0]!.id}/items?user=${encodeURIComponent(o.other)}&service=mail`)).status;
    }, { other });
    assert.equal(status, 403);
    await self.context().close();
    const none = await signInAs(c.users.none, 'none');
    await none.getByRole('heading', { name: 'No access' }).waitFor();
    assert.equal(await none.evaluate(async () => (await fetch('/api/runs?tenant=contoso')).status), 403);
    await none.context().close();
  });
});
