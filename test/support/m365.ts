import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import * as ical from 'node-ical';
import vCard from 'vcf';
import { startTestStorage, type TestStorage } from './azurite';
import { cliEnvironment, runCli, type CliEnv, type CliResult } from './cli';
import { loopbackCertificate } from '../../simulator/tls';
import { startGraphSimulator, type GraphSimulator, type GraphSimulatorOptions } from '../../simulator/graph/server';
import { generateTenant, type TenantShape } from '../../simulator/tenant/generator';
import type { TenantEditor } from '../../simulator/tenant/editor';
import type { SimTenant } from '../../simulator/tenant/model';
import { expectedRestore, type Expected } from '../../simulator/tenant/expected';

export interface SuiteTenant {
  name: string;
  tenant: SimTenant;
  editor: TenantEditor;
  password: string;
  secret: string;
  secretFile: string;
}

export interface M365Suite {
  storage: TestStorage;
  work: string;
  sim: GraphSimulator;
  tenants: Map<string, SuiteTenant>;
  /** Everything any CLI run printed (for the secret scan). */
  output: string[];
  cli(args: string[], password?: string, extra?: Record<string, string>): Promise<CliResult>;
  /** The environment a product process (CLI or local Functions host) gets in this suite. */
  processEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  addTenant(name: string): Promise<CliResult>;
  stop(): Promise<void>;
}

export const guidFor = (name: string) => {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/**
 * Registers a suite tenant the way restores are meant to run: backups with the tenant's own app
 * limited to `readRoles`, restores with a second app registration (`restore-<name>`, `restoreRoles`)
 * given to `tenant add --restore-client-id ... --restore-client-secret-file ...`.
 */
export async function addTenantWithRestoreApp(suite: M365Suite, t: SuiteTenant, readRoles: string[], restoreRoles: string[]): Promise<void> {
  t.tenant.apps[0]!.roles = readRoles;
  const restoreSecret = `restore-secret-${randomBytes(8).toString('hex')}`;
  t.tenant.apps.push({ clientId: guidFor(`restore-${t.name}`), clientSecret: restoreSecret, roles: restoreRoles });
  const restoreSecretFile = join(suite.work, `restore-${t.name}.secret`);
  writeFileSync(restoreSecretFile, restoreSecret);
  const r = await suite.cli(
    ['tenant', 'add', '--name', t.name, '--tenant-id', t.tenant.tenantId, '--client-id', t.tenant.apps[0]!.clientId, '--client-secret-file', t.secretFile, '--restore-client-id', guidFor(`restore-${t.name}`), '--restore-client-secret-file', restoreSecretFile],
    t.password,
  );
  assert.equal(r.code, 0, r.stderr);
}

/** Azurite, the tenant simulator (HTTPS, loopback certificate) and a CLI environment pointing at both. */
export async function startM365Suite(tenants: { name: string; seed: number; shape: TenantShape; certificate?: boolean }[], sim: Partial<GraphSimulatorOptions> = {}): Promise<M365Suite> {
  const storage = await startTestStorage();
  const work = mkdtempSync(join(tmpdir(), 'm365b-m365-'));
  const certFile = join(work, 'sim-cert.pem');
  const tls = await loopbackCertificate(certFile);
  const entries = new Map<string, SuiteTenant>();
  for (const t of tenants) {
    const { tenant, editor } = generateTenant({ seed: t.seed, tenantId: guidFor(t.name), domain: `${t.name}.example`, shape: t.shape });
    let secret = `sim-secret-${randomBytes(12).toString('hex')}`;
    const secretFile = join(work, `${t.name}.secret`);
    if (t.certificate) {
      // An app registration with a certificate: the PEM given to the product holds certificate and key.
      const pem = await loopbackCertificate();
      tenant.apps.push({ clientId: guidFor(`app-${t.name}`), certificatePem: pem.cert });
      secret = pem.key.split('\n').slice(1, 3).join(''); // a piece of the private key, for the secret scan
      writeFileSync(secretFile, `${pem.cert}\n${pem.key}`);
    } else {
      tenant.apps.push({ clientId: guidFor(`app-${t.name}`), clientSecret: secret });
      writeFileSync(secretFile, secret);
    }
    entries.set(t.name, { name: t.name, tenant, editor, password: `pw-${t.name}-${randomBytes(6).toString('hex')}`, secret, secretFile });
  }
  const simulator = await startGraphSimulator({ tenants: [...entries.values()].map((e) => e.tenant), tls, ...sim });
  const output: string[] = [];
  const env = (password?: string, extra: Record<string, string> = {}): CliEnv => ({
    connectionString: storage.connectionString,
    dataDir: join(work, 'data'),
    password,
    extra: { NODE_EXTRA_CA_CERTS: certFile, GRAPH_BASE_URL: `${simulator.origin}/v1.0`, AZURE_AUTHORITY_HOST: simulator.origin, ...extra },
  });
  const cli = async (args: string[], password?: string, extra?: Record<string, string>) => {
    const r = await runCli(args, env(password, extra));
    output.push(r.stdout, r.stderr);
    return r;
  };
  return {
    storage,
    work,
    sim: simulator,
    tenants: entries,
    output,
    cli,
    processEnv: (extra = {}) => cliEnvironment(env(undefined, extra)),
    addTenant: (name) => {
      const t = entries.get(name)!;
      const credential = t.tenant.apps[0]!.certificatePem ? ['--certificate', t.secretFile] : ['--client-secret-file', t.secretFile];
      return cli(['tenant', 'add', '--name', name, '--tenant-id', t.tenant.tenantId, '--client-id', t.tenant.apps[0]!.clientId, ...credential], t.password);
    },
    stop: async () => {
      await simulator.stop();
      await storage.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

export type { Expected } from '../../simulator/tenant/expected';

/** What a restore of the tenant, as it is right now, must contain (a deep copy). */
export function snapshotExpectation(t: SuiteTenant): { files: Map<string, Expected>; dirs: Set<string> } {
  return expectedRestore(t.tenant, t.editor);
}

function walk(root: string, dir = root, out: string[] = [], dirs: string[] = []): { files: string[]; dirs: string[] } {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      dirs.push(relative(root, full));
      walk(root, full, out, dirs);
    } else if (name !== '_items.json') out.push(relative(root, full));
  }
  return { files: out, dirs };
}

const values = (p: unknown): string[] => (p === undefined ? [] : (Array.isArray(p) ? p : [p]).map((x) => String((x as { valueOf(): string }).valueOf())));

/** Asserts a restore folder holds exactly the expected files: bytes equal, .ics and .vcf parsed and matching. */
export function assertRestoreMatches(target: string, expected: { files: Map<string, Expected>; dirs: Set<string> }): void {
  const found = walk(target);
  assert.deepEqual([...found.files].sort(), [...expected.files.keys()].sort(), 'the restored files are exactly the expected ones');
  for (const d of expected.dirs) assert.ok(found.dirs.includes(d), `folder ${d} is restored`);
  for (const [path, want] of expected.files) {
    const data = readFileSync(join(target, path));
    if (want.kind === 'bytes') {
      assert.ok(data.equals(want.data), `${path} is byte-identical`);
    } else if (want.kind === 'json') {
      assert.doesNotThrow(() => JSON.parse(data.toString('utf8')), `${path} is JSON`);
    } else if (want.kind === 'ics') {
      const events = Object.values(ical.sync.parseICS(data.toString('utf8'))).filter((x) => x?.type === 'VEVENT') as ical.VEvent[];
      assert.equal(events.length, 1, `${path} holds one event`);
      const ev = events[0]!;
      const e = want.event;
      assert.equal(ev.summary, e.subject, `${path} summary`);
      if (e.isAllDay) {
        assert.equal(ev.start.toISOString().slice(0, 10), e.start.slice(0, 10), `${path} all-day start`);
      } else {
        assert.equal(ev.start.toISOString(), new Date(e.start).toISOString(), `${path} start`);
        assert.equal(ev.end!.toISOString(), new Date(e.end).toISOString(), `${path} end`);
      }
      assert.equal(ev.location ?? '', e.location, `${path} location`);
      assert.equal(ev.description ?? '', e.bodyText, `${path} description`);
    } else {
      const cards = vCard.parse(data.toString('utf8'));
      assert.equal(cards.length, 1, `${path} holds one card`);
      const c = want.contact;
      const card = cards[0]!;
      assert.deepEqual(values(card.get('fn')), [c.displayName], `${path} FN`);
      assert.deepEqual(values(card.get('email')), c.emailAddresses.map((a) => a.address), `${path} EMAIL`);
      assert.deepEqual(values(card.get('tel')).sort(), [...(c.mobilePhone ? [c.mobilePhone] : []), ...c.businessPhones].sort(), `${path} TEL`);
      assert.deepEqual(values(card.get('org')), c.companyName ? [c.companyName] : [], `${path} ORG`);
    }
  }
}
