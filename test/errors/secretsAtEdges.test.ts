import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvocationContext } from '@azure/functions';
import { GraphErrorHandler } from '@microsoft/microsoft-graph-client/lib/src/GraphErrorHandler';
import { AuthenticationError } from '@azure/identity';
import { startCliSuite, type CliSuite } from '../support/suite';
import { runCli } from '../support/cli';
import { getJson, startFunctionsHost } from '../support/functionsHost';
import { installFunctionsCore } from '../../shared/local/durable';
import { freePort } from '../../shared/local';
import { BackupError, isBackupError } from '../../shared/errors';
import { redactingErrors, redactSecrets } from '../../shared/redact';
import { classify, GraphConnection, getJson as graphGet } from '../../shared/graph';
import { KeyVaultProvider } from '../../shared/crypto';
import { AzureTableStore } from '../../shared/storage';
import { TenantRegistry } from '../../shared/tenants/registry';

installFunctionsCore();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fromError } = require('../../functions/http/respond') as typeof import('../../functions/http/respond');

/** Known secrets planted at each SDK boundary; none may come out of any edge. */
const ACCOUNT_KEY = randomBytes(64).toString('base64');
const SAS_SIG = randomBytes(32).toString('base64');
const CLIENT_SECRET = `planted~${randomBytes(12).toString('hex')}`;
const JWT = `eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0aWQiOiJ${randomBytes(24).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
const PASSWORD = `planted password ${randomBytes(6).toString('hex')}`;
const NEEDLES = [ACCOUNT_KEY, SAS_SIG, encodeURIComponent(SAS_SIG), CLIENT_SECRET, JWT, JWT.split('.')[2]!, PASSWORD];

function assertClean(where: string, text: string): void {
  for (const n of NEEDLES) assert.ok(!text.includes(n), `${where} leaks a planted secret (${n.slice(0, 8)}…): ${text.slice(0, 400)}`);
}

/** Every edge a BackupError reaches: its message, hint and stack, the HTTP body, and the Functions log. */
function assertErrorClean(where: string, e: unknown): void {
  assert.ok(isBackupError(e), `${where}: ${String(e)}`);
  assertClean(`${where} message`, e.message);
  assertClean(`${where} hint`, e.hint ?? '');
  assertClean(`${where} stack`, e.stack ?? '');
  const logged: string[] = [];
  const context = new InvocationContext({ functionName: 'edge', invocationId: 'x', logHandler: (_level, ...args) => logged.push(args.map(String).join(' ')) });
  const res = fromError(e, { context, secrets: [PASSWORD] });
  assertClean(`${where} HTTP body`, JSON.stringify(res.jsonBody));
  assertClean(`${where} function log`, logged.join('\n'));
}

test('redactSecrets removes connection-string keys, SAS signatures, bearer tokens, client secrets, JWTs, PEM keys and given passwords', () => {
  const pem = `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC${randomBytes(30).toString('base64')}\n-----END PRIVATE KEY-----`;
  const cases = [
    `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${ACCOUNT_KEY};EndpointSuffix=core.windows.net`,
    `BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=2022-11-02&ss=b&sig=${encodeURIComponent(SAS_SIG)}`,
    `GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2030-01-01&sig=${SAS_SIG}&sp=r failed`,
    `Authorization: Bearer ${JWT}`,
    `grant_type=client_credentials&client_id=abc&client_secret=${CLIENT_SECRET}&scope=x`,
    `{"client_secret": "${CLIENT_SECRET}", "access_token":"${JWT}"}`,
    `the token ${JWT} expired`,
    `certificate ${pem} rejected`,
    `wrong password ${PASSWORD}!`,
  ];
  for (const c of cases) assertClean(`redactSecrets(${c.slice(0, 30)})`, redactSecrets(c, [PASSWORD]));
  assert.match(redactSecrets(`certificate ${pem} rejected`), /^certificate -----BEGIN PRIVATE KEY-----\*\*\*-----END PRIVATE KEY----- rejected$/);
  const plain = 'Tenant "contoso": the users of user 1b2c3d4e-0000-0000-0000-000000000000: 404 itemNotFound (sig-nal, password policy, Basic settings of the Bearer scheme)';
  assert.equal(redactSecrets(plain), plain, 'ordinary text is untouched');
  // Messages built from SDK text are redacted when the BackupError is made.
  assertClean('BackupError', new BackupError('STORAGE', `failed: AccountKey=${ACCOUNT_KEY}; Bearer ${JWT}`).message);
});

test('redactingErrors: whatever a wrapped handler (an activity) throws leaves with a redacted message and stack', async () => {
  const activity = redactingErrors(async (_input: unknown) => {
    throw new TypeError(`SDK said: client_secret=${CLIENT_SECRET}&token ${JWT}`);
  });
  const e = await activity({}).catch((err: unknown) => err as Error);
  assert.ok(e instanceof TypeError);
  assertClean('activity error message', e.message);
  assertClean('activity error stack', e.stack ?? '');
  assert.match(e.message, /^SDK said: client_secret=\*\*\*/);
});

describe('a secret planted at each SDK boundary reaches no HTTP body, CLI output, log or error message', () => {
  let suite: CliSuite;
  let closedPort: number;
  const plantedKey = () => suite.storage.connectionString.replace(/AccountKey=[^;]+/, `AccountKey=${ACCOUNT_KEY}`);
  const plantedSas = () => {
    const endpoints = suite.storage.connectionString.split(';').filter((p) => /^(BlobEndpoint|TableEndpoint)=/.test(p));
    return [...endpoints, `SharedAccessSignature=sv=2021-08-06&ss=bt&srt=sco&sp=rwdlacu&se=2030-01-01T00:00:00Z&sig=${encodeURIComponent(SAS_SIG)}`].join(';');
  };

  before(async () => {
    suite = await startCliSuite('edges', PASSWORD);
    closedPort = await freePort();
  });
  after(async () => {
    await suite?.stop();
  });

  test('Storage SDK: a refused account key or SAS (real Azurite) becomes a clean STORAGE error, in-process, in the CLI and over HTTP', async () => {
    for (const [name, connectionString] of [['account key', plantedKey()], ['SAS', plantedSas()]] as const) {
      const tables = new AzureTableStore({ kind: 'connectionString', connectionString });
      const e = await new TenantRegistry(tables, () => undefined as never, 'm365backup').get('contoso').catch((err: unknown) => err);
      assertErrorClean(`storage (${name})`, e);
      assert.ok(['STORAGE', 'NOT_FOUND'].includes((e as BackupError).code), String(e));
      const cli = await runCli(['snapshots', '--tenant', 'contoso'], { ...suite.env, connectionString, extra: { M365_BACKUP_DEBUG: '1' } });
      assert.notEqual(cli.code, 0);
      assertClean(`CLI with a planted ${name}`, cli.stdout + cli.stderr);
    }
    // A connection string the SDK cannot even parse: its own error text must not carry the key out.
    const garbled = await runCli(['snapshots'], { ...suite.env, connectionString: `AccountName=x;AccountKey=${ACCOUNT_KEY};TableEndpoint=::not a url::`, extra: { M365_BACKUP_DEBUG: '1' } });
    assert.notEqual(garbled.code, 0);
    assertClean('CLI with a garbled connection string', garbled.stdout + garbled.stderr);
    // The Function App on storage that refuses its key: the HTTP bodies and the host's log stay clean.
    const host = await startFunctionsHost({ ...process.env, AZURE_STORAGE_CONNECTION_STRING: plantedKey(), M365_BACKUP_DATA_DIR: join(suite.work, 'data'), M365_BACKUP_DEBUG: '1', M365_BACKUP_KDF: 'test' }, join(suite.work, 'durable'));
    try {
      for (const r of [
        await getJson(`${host.origin}/api/snapshots?tenant=contoso`),
        await getJson(`${host.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', password: PASSWORD }) }),
        await getJson(`${host.origin}/api/change-password`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', oldPassword: PASSWORD, newPassword: `${PASSWORD} 2` }) }),
      ]) {
        assert.ok(r.status >= 400, JSON.stringify(r.body));
        assertClean('HTTP body', JSON.stringify(r.body));
      }
    } finally {
      await host.stop();
    }
    assertClean('Functions host log', host.output.join(''));
  });

  test('Graph SDK: an error body echoing a token and the client secret becomes a clean CONSENT_MISSING / SOURCE error', async () => {
    for (const [status, code] of [
      [403, 'CONSENT_MISSING'],
      [401, 'CONSENT_MISSING'],
      [400, 'SOURCE'],
      [429, 'THROTTLED'],
    ] as const) {
      const sdkError = await GraphErrorHandler.getError(
        { error: { code: 'Authorization_RequestDenied', message: `Insufficient privileges. Request had Authorization: Bearer ${JWT}; body client_secret=${CLIENT_SECRET} and the secret ${CLIENT_SECRET}` } },
        status,
      );
      const e = classify(sdkError, 'the users of tenant "contoso"', 'contoso', [CLIENT_SECRET]);
      assert.equal(e.code, code);
      assert.equal(e.status, status);
      assert.equal(e.remoteCode, 'Authorization_RequestDenied');
      assertErrorClean(`Graph ${status}`, e);
    }
    const consent = classify(await GraphErrorHandler.getError({ error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } }, 403), 'the users', 'contoso');
    assert.match(consent.message, /Microsoft Graph refused access \(403 Authorization_RequestDenied\) for tenant "contoso"/);
    assert.match(consent.hint ?? '', /admin's consent/);
    assert.equal(fromError(consent).status, 403);
  });

  test('identity: a token error quoting the client secret, and a token endpoint that cannot be reached, give a clean CREDENTIALS error', async () => {
    const quoted = new AuthenticationError(401, { error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided: ${CLIENT_SECRET} (client_secret=${CLIENT_SECRET}).` });
    const e = classify(quoted, 'the users', 'contoso', [CLIENT_SECRET]);
    assert.equal(e.code, 'CREDENTIALS');
    assert.match(e.message, /AADSTS7000215/);
    assertErrorClean('identity error', e);
    // The real credential against an authority that is not there.
    const conn = new GraphConnection(
      { name: 'contoso', tenantId: '00000000-0000-0000-0000-000000000001', clientId: '00000000-0000-0000-0000-000000000002', clientSecret: CLIENT_SECRET },
      { graphBaseUrl: `https://127.0.0.1:${closedPort}/v1.0`, authorityHost: `https://127.0.0.1:${closedPort}` },
    );
    const real = await graphGet(conn, '/users', 'the users').catch((err: unknown) => err);
    assertErrorClean('identity (unreachable authority)', real);
    // The CLI: tenant add with the planted secret, checked against that authority.
    const secretFile = join(suite.work, 'secret.txt');
    writeFileSync(secretFile, CLIENT_SECRET);
    const cli = await runCli(['tenant', 'add', '--name', 'contoso', '--tenant-id', '00000000-0000-0000-0000-000000000001', '--client-id', '00000000-0000-0000-0000-000000000002', '--client-secret-file', secretFile], {
      ...suite.env,
      extra: { GRAPH_BASE_URL: `https://127.0.0.1:${closedPort}/v1.0`, AZURE_AUTHORITY_HOST: `https://127.0.0.1:${closedPort}`, M365_BACKUP_DEBUG: '1' },
    });
    assert.equal(cli.code, 1, cli.stderr);
    assertClean('CLI tenant add', cli.stdout + cli.stderr);
  });

  test('Key Vault: a vault that cannot be reached, with a planted token or a token error quoting a secret, gives a clean KEY_PROVIDER error', async () => {
    const withToken = new KeyVaultProvider({ vaultUrl: `https://127.0.0.1:${closedPort}`, keyName: 'wrap', credential: { getToken: async () => ({ token: JWT, expiresOnTimestamp: Date.now() + 3600_000 }) } });
    assertErrorClean('Key Vault (token)', await withToken.wrapKey(Buffer.alloc(32)).catch((err: unknown) => err));
    const failing = new KeyVaultProvider({
      vaultUrl: `https://127.0.0.1:${closedPort}`,
      keyName: 'wrap',
      credential: {
        getToken: async () => {
          throw new AuthenticationError(400, { error: 'invalid_client', error_description: `client_secret=${CLIENT_SECRET} Bearer ${JWT}` });
        },
      },
    });
    assertErrorClean('Key Vault (token error)', await failing.wrapKey(Buffer.alloc(32)).catch((err: unknown) => err));
    // The CLI with that vault: nothing planted comes out either.
    const cli = await runCli(['init', '--key-vault', `https://127.0.0.1:${closedPort}`, '--key-name', 'wrap'], { ...suite.env, extra: { M365_BACKUP_DEBUG: '1', AZURE_CLIENT_SECRET: CLIENT_SECRET, AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000002', AZURE_TENANT_ID: '00000000-0000-0000-0000-000000000001', AZURE_AUTHORITY_HOST: `https://127.0.0.1:${closedPort}` } });
    assert.notEqual(cli.code, 0);
    assertClean('CLI init with Key Vault', cli.stdout + cli.stderr);
  });
});
