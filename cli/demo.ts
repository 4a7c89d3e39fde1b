#!/usr/bin/env node
/**
 * `npm start`: the main job on embedded defaults, with no Azure at all. It starts an embedded
 * Azurite, the Microsoft 365 tenant simulator with a seeded demo tenant, the local key provider and
 * the local Functions host (the real functions/ through durable-functions' replay engine) with the
 * HTTP API on localhost; fires the nightly timer (full backup), changes the tenant, fires it for the
 * next night (incremental), restores through the HTTP API with the password, checks the restored
 * content against the tenant, prints a summary, and keeps serving the API until Ctrl-C.
 * SIGINT, SIGTERM or SIGHUP stop every child process and remove the temporary folder; during the
 * run they exit 128 + the signal's number (130, 143, 129), while serving they end it normally.
 * `npm start -- --once` exits after the summary: 0 only when every check passed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppServices } from '../shared/app/services';
import type { LoggedOutcome } from '../shared/m365';
import { loadSettings } from '../shared/config';
import { packStorageUsage } from '../shared/repo';
import { startAzurite, SeededRandom } from '../shared/local';
import { registerTenant } from '../shared/tenants/registerTenant';
import { loopbackCertificate } from '../simulator/tls';
import { startGraphSimulator } from '../simulator/graph/server';
import { demoSignInUsers } from '../simulator/graph/signIn';
import { generateTenant } from '../simulator/tenant/generator';
import { expectedRestore } from '../simulator/tenant/expected';
import { seedScopes, type SeededScopes } from '../simulator/tenant/scopeSeed';
import { compareScopeRestore } from '../simulator/tenant/scopeExpected';
import { compareRestore } from '../simulator/tenant/compare';
import type { TenantEditor } from '../simulator/tenant/editor';
import type { SimEvent, SimTenant } from '../simulator/tenant/model';
import { instancesOf } from '../simulator/tenant/calendars';
import { unzipBuffer } from './unzip';
import { formatBytes, formatDuration } from './format';
import { ProgressBar } from './progressBar';
import { exitCodeFor, onStopSignal, stopChild, Teardown, type StopSignal } from './teardown';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** A row of `GET /api/backups/{id}`'s report: the run log's outcome of one user's service. */
type RunReport = LoggedOutcome;

/** The console's app registration in the simulated tenant (any GUID: the simulator knows it). */
const CONSOLE_CLIENT_ID = '5e0f3a6c-2b1d-4c8e-9f7a-0d4b6c8e2a13';

const SHAPE = { users: 10, filesPerUser: 10, maxFileBytes: 4 * 1024 * 1024, messagesPerUser: 25, eventsPerUser: 8, contactsPerUser: 8, withoutMailbox: [6], withoutDrive: [7], sharedMailboxes: 1, roomMailboxes: 1, calendarSeries: true };

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Starts the local Functions host; the child is known at once (for teardown), its origin once it listens. */
function startHost(env: NodeJS.ProcessEnv, stateDir: string): { child: ChildProcess; origin: Promise<string> } {
  const child = spawn(process.execPath, [join(__dirname, 'serve.js'), '--state-dir', stateDir], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const origin = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening (http:\/\/\S+)/.exec(d.toString());
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`the local Functions host exited (${code})`)));
  });
  return { child, origin };
}

/** A day of changes across services and users. */
/** A night's changes on the team site, the team and the group. */
function changeScopes(x: SeededScopes): string {
  const r = new SeededRandom(8);
  x.sites.modifyFile(x.sites.library(x.site), 'Campaigns/2026/Budget.xlsx', r.bytes(14_000));
  x.sites.addListItem(x.sites.list(x.site, 'Campaigns'), { Title: 'Winter sale', Status: 'Planned', Budget: 5000 });
  const general = x.teams.channel(x.team, 'General');
  const kickoff = [...general.messages.values()].find((m) => m.subject === 'Kickoff')!;
  x.teams.post(general, { from: { id: 'demo', displayName: 'Night Owl' }, html: '<p>Overnight update</p>', replyTo: kickoff.id });
  x.groups.reply([...x.group.threads.values()][0]!, { from: { name: 'Night Owl', address: 'owl@contoso.example' }, receivedDateTime: new Date().toISOString(), bodyHtml: '<p>A post overnight</p>', attachments: [] });
  return '4 on the team site, the team and the group';
}

function changeTenant(tenant: SimTenant, editor: TenantEditor): string {
  const r = new SeededRandom(7);
  const users = [...tenant.users.values()];
  let n = 0;
  for (const u of users.slice(0, 5)) {
    const upn = u.user.userPrincipalName;
    if (u.user.hasDrive) {
      const files = [...u.drive.values()].filter((i) => !i.folder && i.parentId);
      editor.addFile(upn, 'Documents/Q4 plan.docx', r.bytes(600_000));
      editor.modifyFile(upn, editor.drivePath(u.user.id, files[1]!.id), r.bytes(250_000));
      editor.renameDriveItem(upn, editor.drivePath(u.user.id, files[2]!.id), 'renamed.bin');
      editor.deleteDriveItem(upn, editor.drivePath(u.user.id, files[3]!.id));
      n += 4;
    }
    if (u.user.hasMailbox) {
      const msgs = [...u.mailbox.messages.values()];
      for (let i = 0; i < 3; i++) editor.addMessage(upn, 'Inbox', { subject: `Overnight ${i}`, from: { name: 'Partner', address: 'p@partner.example' }, to: [{ name: u.user.displayName, address: upn }], text: 'new', received: new Date().toISOString() });
      editor.updateMessage(upn, msgs[0]!.id, { isRead: true, flagStatus: 'flagged' });
      editor.moveMessage(upn, msgs[1]!.id, 'Archive');
      editor.deleteMessage(upn, msgs[2]!.id);
      const ev = [...u.mailbox.events.values()];
      editor.updateEvent(upn, ev[0]!.id, { subject: 'Rescheduled' });
      editor.deleteEvent(upn, ev[1]!.id);
      const c = [...u.mailbox.contacts.values()];
      editor.updateContact(upn, c[0]!.id, { displayName: 'Renamed Contact' });
      n += 9;
    }
  }
  return `${n} changes across 5 users (adds, edits, renames, moves, deletes on every service)`;
}

let stopping: StopSignal | undefined;

const DEMO_ROLES = ['User.Read.All', 'Files.Read.All', 'Mail.Read', 'Calendars.Read', 'Contacts.Read', 'Files.ReadWrite.All', 'Mail.ReadWrite', 'MailboxSettings.ReadWrite', 'Mail-Advanced.ReadWrite.All', 'Calendars.ReadWrite', 'Contacts.ReadWrite'];

/** Deletes a OneDrive folder, a mail folder and a recurring series of one user, restores them in place through POST /api/restores, and checks them. */
async function inPlaceStep(api: string, password: string, tenant: SimTenant, editor: TenantEditor, log: (s: string) => void): Promise<Check> {
  const t0 = Date.now();
  const u = [...tenant.users.values()].find((x) => x.user.hasDrive && x.user.hasMailbox && [...x.drive.values()].some((i) => i.folder && i.parentId && [...x.drive.values()].some((c) => c.parentId === i.id && !c.folder)));
  if (!u) return { name: 'in-place restore', ok: false, detail: 'no user with a folder to delete' };
  const upn = u.user.userPrincipalName;
  const files = () => new Map([...u.drive.values()].filter((i) => !i.folder && i.parentId).map((i) => [editor.drivePath(u.user.id, i.id), i.content ?? Buffer.alloc(0)]));
  const mails = () => new Map([...u.mailbox.messages.values()].map((m) => [m.internetMessageId, m.mime]));
  const wantFiles = files();
  const wantMail = mails();
  const folder = [...u.drive.values()].find((i) => i.folder && i.parentId && [...u.drive.values()].some((c) => c.parentId === i.id && !c.folder))!;
  const folderPath = editor.drivePath(u.user.id, folder.id);
  const mailFolder = [...u.mailbox.folders.values()].find((f) => !f.wellKnownName && [...u.mailbox.messages.values()].some((m) => m.folderId === f.id));
  // A recurring series too: it must come back as one series with its exceptions and cancellations, sending no invitation.
  const seriesShape = (e: SimEvent) => JSON.stringify([e.subject, e.start, e.end, instancesOf(e).map((i) => [i.kind, i.start, i.end, i.exception?.subject ?? ''])]);
  const series = [...u.mailbox.events.values()].find((e) => e.recurrence);
  const wantSeries = series ? seriesShape(series) : undefined;
  editor.deleteDriveItem(upn, folderPath);
  if (mailFolder) editor.deleteMailFolder(upn, editor.mailFolderPath(u.user.id, mailFolder.id));
  if (series) editor.deleteEvent(upn, series.id);
  const lost = wantFiles.size - files().size + (wantMail.size - mails().size) + (series ? 1 : 0);
  const start = await json(`${api}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', password, user: upn, destination: { kind: 'in-place' }, services: ['onedrive', 'mail', 'calendar'] }) });
  if (start.status !== 202) return { name: 'in-place restore', ok: false, detail: `POST /api/restores answered ${start.status}: ${JSON.stringify(start.body)}` };
  let s: Record<string, unknown> = {};
  for (;;) {
    s = (await json(`${api}/api/restores/${String(start.body.id)}`)).body;
    if (['Completed', 'Failed', 'Terminated'].includes(String(s.runtimeStatus))) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const gotFiles = files();
  const gotMail = mails();
  const problems: string[] = [];
  if (s.runtimeStatus !== 'Completed') problems.push(`the restore ended ${String(s.runtimeStatus)}`);
  for (const [p, data] of wantFiles) if (!gotFiles.get(p)?.equals(data)) problems.push(`${p} is not back byte-identical`);
  for (const [id, mime] of wantMail) if (!gotMail.get(id)?.equals(mime)) problems.push(`message ${id} is not back with its MIME`);
  if (gotFiles.size !== wantFiles.size || gotMail.size !== wantMail.size) problems.push('duplicates were created');
  if (wantSeries) {
    const back = [...u.mailbox.events.values()].filter((e) => e.recurrence).map(seriesShape);
    if (back.length !== 1 || back[0] !== wantSeries) problems.push(`the series is not back as one series with its exceptions and cancellations (${back.length} series)`);
    if ((u.mailbox.invitations ?? []).length > 0) problems.push(`${(u.mailbox.invitations ?? []).length} invitations were sent`);
  }
  const c = (s.counts ?? {}) as { restored?: number; skipped?: number; failed?: number };
  log(`  in place    deleted "${folderPath}"${mailFolder ? ` and mail folder "${mailFolder.displayName}"` : ''} of ${upn} (${lost} items); restored ${c.restored ?? 0}, skipped ${c.skipped ?? 0} (already there), failed ${c.failed ?? 0}, in ${formatDuration(Date.now() - t0)}`);
  return { name: 'in-place restore puts the deleted items back', ok: problems.length === 0, detail: problems.length ? problems.slice(0, 3).join('; ') : `${lost} items back where they were, byte-identical, nothing duplicated${wantSeries ? ', the series as one series, no invitation sent' : ''}` };
}

async function main(): Promise<number> {
  const once = process.argv.includes('--once');
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'm365-backup-demo-'));
  // Everything started below is undone by this, on a normal end, an error or a stop signal.
  const teardown = new Teardown();
  teardown.add(() => rmSync(work, { recursive: true, force: true }));
  let servingUntilStopped: (() => void) | undefined;
  onStopSignal((signal) => {
    if (servingUntilStopped) return servingUntilStopped();
    if (stopping) return;
    stopping = signal;
    console.error(`\n${signal}: stopping Azurite, the local Functions host and the simulator, and removing ${work}.`);
    void teardown.run().finally(() => process.exit(exitCodeFor(signal)));
  });
  const checks: Check[] = [];
  const log = (s: string) => console.log(s);
  try {
    log('m365-backup on embedded defaults: Azurite, a simulated Microsoft 365 tenant, a local key file, the local Functions host.');
    const azurite = await teardown.start(() => startAzurite({ location: join(work, 'azurite') }), (a) => a.stop());
    const certFile = join(work, 'simulator-cert.pem');
    const { tenant, editor } = generateTenant({ seed: 2026, tenantId: '3f5c2a8e-0d6b-4b7e-9a41-5d2c7e1f0a11', domain: 'contoso.example', shape: SHAPE });
    // A team site (two libraries, a list), a group with conversations, a team with channels, and a site and team the app may not read.
    const scopes = seedScopes(tenant);
    const secret = randomBytes(24).toString('base64url');
    // Read roles for backups; the write roles too, for the in-place restore step (a real tenant would use a restore-only app).
    tenant.apps.push({ clientId: '7c1d9e52-8a3f-4f60-b2d4-61e0c9a7f3b2', clientSecret: secret, roles: DEMO_ROLES });
    const tls = await loopbackCertificate(certFile);
    const sim = await teardown.start(() => startGraphSimulator({ tenants: [tenant], tls, latencyMs: 2 }), (g) => g.stop());
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      M365_BACKUP_DATA_DIR: join(work, 'data'),
      NODE_EXTRA_CA_CERTS: certFile,
      GRAPH_BASE_URL: `${sim.origin}/v1.0`,
      AZURE_AUTHORITY_HOST: sim.origin,
      BACKUP_USER_PARALLELISM: '4',
      // The web console's sign-in: the local host's App Service Authentication against the simulator.
      LOCAL_AUTH_OPENID_ISSUER: `${sim.origin}/${tenant.tenantId}/v2.0`,
      LOCAL_AUTH_CLIENT_ID: CONSOLE_CLIENT_ID,
      ...(process.env.M365_BACKUP_KDF ? { M365_BACKUP_KDF: process.env.M365_BACKUP_KDF } : {}),
    };
    log(`  Azurite on 127.0.0.1:${azurite.blobPort}/${azurite.tablePort}; tenant simulator on ${sim.origin} (${SHAPE.users} users); data in ${work}`);
    // Register the tenant (its secret wrapped by the local key file) and give it its own repository and password.
    const services = new AppServices(loadSettings(env));
    const password = randomBytes(18).toString('base64url'); // never printed
    const { record } = await registerTenant(services, {
      name: 'contoso',
      tenantId: tenant.tenantId,
      clientId: tenant.apps[0]!.clientId,
      credential: { clientSecret: secret },
      skipCheck: true,
      newPassword: async () => password,
    });
    const host = await teardown.start(async () => startHost(env, join(work, 'durable')), (h) => stopChild(h.child));
    const api = await host.origin;
    log(`  local Functions host with the HTTP API on ${api}`);
    const signInPassword = randomBytes(9).toString('base64url');
    const signInUsers = demoSignInUsers(tenant, signInPassword);
    sim.identity.signIn.register(tenant, { clientId: CONSOLE_CLIENT_ID, redirectUris: [`${api}/.auth/login/aad/callback`], users: signInUsers });

    const nights: { label: string; at: string; ms: number; report: RunReport[] }[] = [];
    const runNight = async (label: string, at: string) => {
      const t0 = Date.now();
      const fire = await fetch(`${api}/admin/functions/nightlyBackup`, { method: 'POST', body: JSON.stringify({ now: at }) });
      if (fire.status !== 202) throw new Error(`the nightly timer did not fire (${fire.status})`);
      const id = `nightly-contoso-${at.slice(0, 10)}`;
      const bar = new ProgressBar(!!process.stderr.isTTY);
      let s: Record<string, unknown> = {};
      for (;;) {
        s = (await json(`${api}/runtime/webhooks/durabletask/instances/${id}`)).body;
        const p = (s.customStatus ?? {}) as { usersDone?: number; usersTotal?: number; fetched?: number; fetchedBytes?: number };
        bar.update({ phase: `${label}: users ${p.usersDone ?? 0}/${p.usersTotal ?? '?'}`, itemsDone: p.fetched ?? 0, bytesDone: p.fetchedBytes ?? 0 });
        if (['Completed', 'Failed', 'Terminated'].includes(String(s.runtimeStatus))) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      bar.done();
      const run = await json(`${api}/api/backups/${id}`);
      const rows = (run.body.report ?? []) as RunReport[];
      nights.push({ label, at, ms: Date.now() - t0, report: rows });
      const out = s.output as { status?: string } | undefined;
      checks.push({ name: `${label} completed`, ok: s.runtimeStatus === 'Completed' && out?.status === 'complete', detail: `${String(s.runtimeStatus)}, ${out?.status ?? 'no report'}` });
      const fetched = rows.reduce((n, r) => n + r.fetched, 0);
      const bytes = rows.reduce((n, r) => n + r.fetchedBytes, 0);
      log(`  ${label.padEnd(11)} ${rows.length} user-service snapshots, ${fetched} items fetched (${formatBytes(bytes)}), ${rows.reduce((n, r) => n + r.removed, 0)} removed, in ${formatDuration(Date.now() - t0)}`);
    };

    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await runNight('full', `${today}T02:00:00Z`);
    const full = nights[0]!.report.reduce((n, r) => n + r.fetched, 0);
    log(`  tenant change: ${changeTenant(tenant, editor)}; ${changeScopes(scopes)}`);
    await runNight('incremental', `${tomorrow}T02:00:00Z`);
    const incremental = nights[1]!.report.reduce((n, r) => n + r.fetched, 0);
    checks.push({ name: 'incremental fetched only changes', ok: incremental > 0 && incremental < full / 5, detail: `${incremental} items vs ${full} in the full backup` });

    // Restore through the HTTP API with the password, then compare with the tenant as it is now.
    const t0 = Date.now();
    const start = await json(`${api}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', password }) });
    if (start.status !== 202) throw new Error(`POST /api/restores answered ${start.status}: ${JSON.stringify(start.body)}`);
    let restore: Record<string, unknown> = {};
    for (;;) {
      restore = (await json(`${api}/api/restores/${String(start.body.id)}`)).body;
      if (['Completed', 'Failed', 'Terminated'].includes(String(restore.runtimeStatus))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    let problems = ['the restore did not complete'];
    if (restore.runtimeStatus === 'Completed') {
      const zip = Buffer.from(await (await fetch(String(restore.downloadUrl))).arrayBuffer());
      const target = join(work, 'restored');
      const n = await unzipBuffer(zip, target);
      // Users as before; Sites/, Teams/ and Groups/ checked on their own.
      problems = compareRestore(target, expectedRestore(tenant, editor)).filter((p) => !/^unexpected file (Sites|Teams|Groups)\//.test(p));
      const scopeProblems = compareScopeRestore(target, tenant);
      checks.push({ name: 'team site, team and group restored', ok: scopeProblems.length === 0, detail: scopeProblems.length ? scopeProblems.slice(0, 3).join('; ') : 'library files byte-identical, list items, every channel message once with its images, one .eml per post; the 403 site and team skipped' });
      // Every mailbox (the shared and the room one too) has a weekly series: one .ics each, with its RRULE, EXDATE and RECURRENCE-ID.
      const mailboxes = [...tenant.users.values()].filter((u) => u.user.hasMailbox);
      const series = mailboxes.filter((u) => {
        const dir = join(target, u.user.userPrincipalName, 'Calendar', 'Calendar');
        return existsSync(dir) && readdirSync(dir).some((f) => ['RRULE:', 'EXDATE:', 'RECURRENCE-ID:'].every((p) => readFileSync(join(dir, f), 'utf8').includes(p)));
      }).length;
      checks.push({ name: 'series restored as series', ok: series === mailboxes.length, detail: `${series} of ${mailboxes.length} mailboxes (shared and room included) have their weekly series as one .ics with RRULE, EXDATE and RECURRENCE-ID` });
      log(`  restore     ${n} files (${formatBytes(Number(restore.bytes))}) as a ${formatBytes(zip.length)} zip via a time-limited link, in ${formatDuration(Date.now() - t0)}`);
    }
    checks.push({ name: 'restored content matches the tenant', ok: problems.length === 0, detail: problems.length ? problems.slice(0, 3).join('; ') : 'files and MIME byte-identical, .ics/.vcf parsed and equal' });

    // A small disaster (a OneDrive folder and a mail folder deleted), then an in-place restore through the HTTP API.
    checks.push(await inPlaceStep(api, password, tenant, editor, log));

    // Summary.
    const services4 = ['onedrive', 'mail', 'calendar', 'contacts', 'sharepoint', 'groups', 'teams'];
    log('\nSummary (full backup, then incremental):');
    log('  service    items   full: fetched       bytes   incremental: fetched      bytes  removed');
    for (const svc of services4) {
      const f = nights[0]!.report.filter((r) => r.service === svc);
      const i = nights[1]!.report.filter((r) => r.service === svc);
      const sum = (rows: RunReport[], k: keyof RunReport) => rows.reduce((n, r) => n + Number(r[k]), 0);
      log(`  ${svc.padEnd(9)} ${String(sum(i, 'items')).padStart(6)} ${String(sum(f, 'fetched')).padStart(15)} ${formatBytes(sum(f, 'fetchedBytes')).padStart(11)} ${String(sum(i, 'fetched')).padStart(22)} ${formatBytes(sum(i, 'fetchedBytes')).padStart(10)} ${String(sum(i, 'removed')).padStart(8)}`);
    }
    const repo = await services.repository(record.repository);
    const stored = (await packStorageUsage(repo)).bytes;
    const fetchedBytes = nights.reduce((n, x) => n + x.report.reduce((m, r) => m + r.fetchedBytes, 0), 0);
    const backupMs = nights.reduce((n, x) => n + x.ms, 0);
    log(`  stored ${formatBytes(stored)} of packs for ${formatBytes(fetchedBytes)} read from Graph: ${(fetchedBytes / Math.max(1, stored)).toFixed(2)}x (dedup + compression)`);
    log(`  backup time ${formatDuration(backupMs)} (${formatBytes((fetchedBytes / Math.max(1, backupMs)) * 1000)}/s); total ${formatDuration(Date.now() - started)}`);
    log('\nChecks:');
    for (const c of checks) log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    const allOk = checks.every((c) => c.ok);
    log(allOk ? 'All checks passed.' : 'Some checks FAILED.');
    if (once) return allOk ? 0 : 1;

    writeFileSync(join(work, 'demo-password.txt'), password, { mode: 0o600 });
    log(`\nServing the HTTP API on ${api} until Ctrl-C. Try:`);
    log(`  curl -s ${api}/api/snapshots?tenant=contoso`);
    log(`  curl -s -X POST ${api}/api/backups -d '{"tenant":"contoso","services":["mail"]}'`);
    log(`\nThe web console: ${api}/api/console/  (sign-in goes to the tenant simulator at ${sim.origin}: its certificate is`);
    log(`  self-signed, so the browser asks once). Demo sign-ins, password ${signInPassword} (a simulated identity, demo only):`);
    for (const u of signInUsers) log(`  ${u.username.padEnd(34)} ${u.roles.length ? u.roles.join(', ') : 'no Backup role'}`);
    log(`\nThe HTTP API:`);
    log(`  curl -s -X POST ${api}/api/restores -d "{\\"tenant\\":\\"contoso\\",\\"password\\":\\"$(cat ${join(work, 'demo-password.txt')})\\"}"`);
    await new Promise<void>((resolve) => (servingUntilStopped = resolve));
    return allOk ? 0 : 1;
  } finally {
    await teardown.run();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (stopping) return; // a stop signal ended the run: its handler tears down and exits
    console.error(`m365-backup demo failed: ${String((e as Error)?.stack ?? e)}`);
    process.exitCode = 1;
  },
);
