#!/usr/bin/env node
/**
 * The local Functions host: the app's registered functions (functions/) run in this process through
 * durable-functions' replay engine (shared/local/durable), with the HTTP API and the Durable status
 * endpoints on http://127.0.0.1:<port>. Settings come from the environment, as in Azure.
 *   node dist/cli/serve.js [--port N] [--state-dir DIR] [--clock real|virtual]
 * LOCAL_AUTH_OPENID_ISSUER + LOCAL_AUTH_CLIENT_ID turn on the console's sign-in (/.auth/login/aad).
 * Prints one line "listening <origin>" when ready; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { installFunctionsCore, LocalDurableHost, startLocalFunctionsServer } from '../shared/local/durable';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, 'state-dir': { type: 'string' }, clock: { type: 'string' } } });
  installFunctionsCore();
  // Registration happens on import, after the fake runtime module is in place.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../functions');
  // Test seam: fail the first attempt of the named activity (proves Durable retries); never set in production.
  const failOnce = process.env.M365_LOCAL_HOST_FAIL_ONCE;
  let failed = false;
  const host = new LocalDurableHost({
    stateDir: values['state-dir'] ?? join(tmpdir(), 'm365-backup-durable'),
    clock: values.clock === 'virtual' ? 'virtual' : 'real',
    log: (line) => process.env.M365_BACKUP_DEBUG && console.error(line),
    beforeActivity: (name) => {
      if (failOnce && name === failOnce && !failed) {
        failed = true;
        throw new Error(`injected failure of ${name} (M365_LOCAL_HOST_FAIL_ONCE)`);
      }
    },
  });
  const resumed = host.resume();
  // The console's sign-in (App Service Authentication, locally): an OpenID Connect provider, the
  // tenant simulator's identity endpoints in the demo and tests.
  const issuer = process.env.LOCAL_AUTH_OPENID_ISSUER;
  const clientId = process.env.LOCAL_AUTH_CLIENT_ID;
  const auth = issuer && clientId ? { issuer, clientId } : undefined;
  const server = await startLocalFunctionsServer(host, { port: values.port ? Number(values.port) : 0, ...(auth ? { auth } : {}) });
  console.log(`listening ${server.origin}${resumed ? ` (resumed ${resumed} orchestration(s))` : ''}`);
  const stop = async () => {
    host.stop();
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e: unknown) => {
  console.error(`m365-backup host: ${String((e as Error)?.stack ?? e)}`);
  process.exitCode = 1;
});
