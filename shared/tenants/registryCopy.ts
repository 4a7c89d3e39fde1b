import { randomBytes } from 'node:crypto';
import { unwrapEnvelope, wrapEnvelope, type KeyWrapProvider } from '../crypto';
import { isBackupError } from '../errors';
import { generationEnd } from '../repo';
import type { BlobStore, Row } from '../storage';

/**
 * Sealed copies of the tenant registry's rows as blobs (docs/retention.md, "After the tables are
 * deleted"), so that an attacker with the app's rights who deletes the `<base>tenants` table does not
 * take the list of tenants with it: every tenant's repository already recovers from its own locked
 * blobs (configuration backup, rebuild-index); this brings back which tenants there were and their
 * sealed credentials.
 *
 * `<base>registry/copies/<time>-<random>.bin`, written once after every add and remove (never
 * overwritten, so it can be locked like catalogs): the rows as JSON, sealed by the key provider
 * (Key Vault in Azure) under the purpose `tenant-registry-copy:<base>`. The seal authenticates: a copy
 * the attacker writes cannot be opened and is skipped, so a planted "newest" copy cannot hide the
 * real one. The credentials inside stay their own envelopes, bound to the tenant's name.
 */
export const registryCopyContainer = (base: string) => `${base}registry`;
const PREFIX = 'copies/';
/** Older unlocked copies beyond this many are deleted (best effort; locked ones wait for their lock). */
const KEEP_COPIES = 5;

const purpose = (base: string) => `tenant-registry-copy:${base}`;
/** Binary row values (the sealed credentials) as `{ "$b": base64 }`, as catalogs write them. */
const binaryReplacer = (_k: string, v: unknown): unknown =>
  v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)
    ? { $b: Buffer.from((v as { data: number[] }).data).toString('base64') }
    : v instanceof Uint8Array ? { $b: Buffer.from(v).toString('base64') } : v;
const binaryReviver = (_k: string, v: unknown): unknown =>
  v && typeof v === 'object' && typeof (v as { $b?: unknown }).$b === 'string' ? Buffer.from((v as { $b: string }).$b, 'base64') : v;
const strip = (r: Row) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'etag' && k !== 'timestamp'));

export interface RegistryCopyOptions {
  blobs: BlobStore;
  /** WORM lock days (PACK_LOCK_DAYS); 0 or a store without immutability: no lock. */
  lockDays: number;
}

export async function writeRegistryCopy(o: RegistryCopyOptions, provider: KeyWrapProvider, base: string, rows: Row[], now = Date.now()): Promise<string> {
  const container = registryCopyContainer(base);
  await o.blobs.ensureContainer(container);
  const name = `${PREFIX}${new Date(now).toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}.bin`;
  const body = Buffer.from(JSON.stringify({ rows: rows.map(strip) }, binaryReplacer));
  await o.blobs.putBlob(container, name, await wrapEnvelope(provider, body, purpose(base)), { ifNoneMatch: true, tier: 'Hot' });
  if (o.lockDays > 0 && o.blobs.capabilities.immutability)
    await o.blobs.setImmutability(container, name, { until: new Date(generationEnd({ days: o.lockDays }, now)), mode: 'Locked' });
  await dropOldCopies(o.blobs, container);
  return name;
}

async function copyNames(blobs: BlobStore, container: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const b of blobs.list(container, { prefix: PREFIX })) names.push(b.name);
  } catch (e) {
    if (isBackupError(e, 'NOT_FOUND')) return [];
    throw e;
  }
  return names.sort();
}

async function dropOldCopies(blobs: BlobStore, container: string): Promise<void> {
  const names = await copyNames(blobs, container);
  for (const name of names.slice(0, Math.max(0, names.length - KEEP_COPIES)))
    await blobs.deleteBlob(container, name).catch((e: unknown) => {
      if (!isBackupError(e, 'IMMUTABLE')) throw e; // still locked: it goes when its lock ends
    });
}

/** Whether any copy exists (registries from before copies existed get one on first use). */
export async function hasRegistryCopy(blobs: BlobStore, base: string): Promise<boolean> {
  return (await copyNames(blobs, registryCopyContainer(base))).length > 0;
}

/**
 * The rows of the newest copy that opens under the key provider, or undefined when there is none.
 * Copies that do not open (forged, or damaged) are skipped and counted. The key provider is asked
 * for only when a copy exists (a machine with no tenant has no local key file yet).
 */
export async function newestRegistryCopy(blobs: BlobStore, provider: () => KeyWrapProvider, base: string): Promise<{ rows: Row[]; name: string; skipped: number } | undefined> {
  const container = registryCopyContainer(base);
  const names = await copyNames(blobs, container);
  let skipped = 0;
  for (const name of names.reverse()) {
    let rows: Row[] | undefined;
    try {
      const sealed = await blobs.getBlob(container, name);
      const body = await unwrapEnvelope(provider(), sealed, purpose(base), 'a tenant registry copy');
      const parsed = JSON.parse(body.toString('utf8'), binaryReviver) as { rows?: unknown };
      if (Array.isArray(parsed.rows)) rows = parsed.rows as Row[];
    } catch (e) {
      if (isBackupError(e, 'NOT_FOUND')) continue; // deleted meanwhile
      // Only a copy that does not open is skipped; an unreachable key provider or store is an error.
      if (!isBackupError(e, 'CONFIG_CORRUPT') && !(e instanceof SyntaxError)) throw e;
    }
    if (rows) return { rows, name, skipped };
    skipped++;
  }
  return undefined;
}
