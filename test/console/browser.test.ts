import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startConsoleSuite, type ConsoleSuite } from './consoleSuite';

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

  test('a self-service user and a user without a role see no tenant data; the API refuses them (403)', async () => {
    const self = await signInAs(c.users.self, 'self');
    await self.getByRole('heading', { name: 'Your backups' }).waitFor();
    assert.equal(await self.evaluate(async () => (await fetch('/api/tenants')).status), 403);
    await accessible(self, 'the self-service page');
    await shot(self, '07-self-service');
    await self.context().close();
    const none = await signInAs(c.users.none, 'none');
    await none.getByRole('heading', { name: 'No access' }).waitFor();
    assert.equal(await none.evaluate(async () => (await fetch('/api/runs?tenant=contoso')).status), 403);
    await none.context().close();
  });
});
