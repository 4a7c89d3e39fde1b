import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import type { LoopbackCertificate } from './tls';

/**
 * A Key Vault fake for tests and the demo: the routes @azure/keyvault-keys uses for RSA wrapping
 * keys (create, get, wrapkey, unwrapkey), challenge authentication (401 + WWW-Authenticate first,
 * then any bearer token), base64url JSON bodies, KeyVault-style errors. Keys live in memory.
 */
interface StoredKey {
  name: string;
  version: string;
  privateKey: KeyObject;
  n: string;
  e: string;
  ops: string[];
  created: number;
}

export interface KeyVaultFake {
  url: string;
  /** Operations served, by name (e.g. "unwrapkey"), for assertions. */
  calls: Map<string, number>;
  /** Every Authorization header value seen (to prove tokens, not secrets, were sent). */
  stop(): Promise<void>;
}

export const FAKE_TENANT = '72f988bf-0000-0000-0000-000000000000';

export async function startKeyVaultFake(tls: LoopbackCertificate, port = 0): Promise<KeyVaultFake> {
  const keys = new Map<string, StoredKey[]>();
  const calls = new Map<string, number>();
  let origin = '';

  const bundle = (k: StoredKey) => ({
    key: { kid: `${origin}/keys/${k.name}/${k.version}`, kty: 'RSA', key_ops: k.ops, n: k.n, e: k.e },
    attributes: { enabled: true, created: k.created, updated: k.created, recoveryLevel: 'Recoverable+Purgeable' },
  });
  const error = (res: ServerResponse, status: number, code: string, message: string) => send(res, status, { error: { code, message } });

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    void handle(req, res).catch((e: unknown) => error(res, 500, 'InternalError', String(e)));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (!req.headers.authorization?.startsWith('Bearer ')) {
      res.writeHead(401, {
        'WWW-Authenticate': `Bearer authorization="https://login.microsoftonline.com/${FAKE_TENANT}", resource="https://vault.azure.net"`,
        'Content-Type': 'application/json',
      });
      res.end(JSON.stringify({ error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } }));
      return;
    }
    const url = new URL(req.url ?? '/', origin);
    const parts = url.pathname.split('/').filter(Boolean); // keys, name, [version|create], [op]
    if (parts[0] !== 'keys' || !parts[1]) return error(res, 404, 'NotFound', 'No such route.');
    const name = parts[1];
    const json = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    const count = (op: string) => calls.set(op, (calls.get(op) ?? 0) + 1);

    if (req.method === 'POST' && parts[2] === 'create') {
      count('create');
      const size = Number(json.key_size ?? 2048);
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: size });
      const jwk = publicKey.export({ format: 'jwk' });
      const k: StoredKey = {
        name,
        version: randomBytes(16).toString('hex'),
        privateKey,
        n: jwk.n!,
        e: jwk.e!,
        ops: (json.key_ops as string[]) ?? ['wrapKey', 'unwrapKey'],
        created: Math.floor(Date.now() / 1000),
      };
      keys.set(name, [...(keys.get(name) ?? []), k]);
      return send(res, 200, bundle(k));
    }
    const versions = keys.get(name);
    const version = parts[2];
    const k = version ? versions?.find((v) => v.version === version) : versions?.at(-1);
    if (!k) return error(res, 404, 'KeyNotFound', `A key with (name/id) ${name} was not found in this key vault.`);
    if (req.method === 'GET' && parts.length <= 3) {
      count('get');
      return send(res, 200, bundle(k));
    }
    const op = parts[3];
    if (req.method === 'POST' && (op === 'wrapkey' || op === 'unwrapkey')) {
      count(op);
      if (json.alg !== 'RSA-OAEP-256') return error(res, 400, 'BadParameter', `Algorithm ${String(json.alg)} is not supported by this fake.`);
      const value = Buffer.from(String(json.value), 'base64url');
      const opts = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
      try {
        const out = op === 'wrapkey' ? publicEncrypt({ key: k.privateKey, ...opts }, value) : privateDecrypt({ key: k.privateKey, ...opts }, value);
        return send(res, 200, { kid: `${origin}/keys/${k.name}/${k.version}`, value: out.toString('base64url') });
      } catch {
        return error(res, 400, 'BadParameter', 'The value could not be unwrapped with this key.');
      }
    }
    return error(res, 405, 'MethodNotAllowed', 'Not supported by this fake.');
  }

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: origin,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
