import { mkdir, writeFile, utimes } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { PrivateKey } from '../../crypto';
import { BackupError } from '../../errors';
import { Catalog, ChunkReader, type ItemVersion, type Repository, type SnapshotRecord } from '../../repo';
import type { Service } from '../../graph';
import { directoryPartition, matchUsers, servicePartition, type DirectoryState, type DirectoryUser } from '../../backup/m365/partitions';
import { addTarget, fetchChunks, forEachChunkPosition, missingChunk, writeAt } from '../chunkFetcher';
import { latestAtOrBefore } from '../selectSnapshot';
import { contactToVcf, eventToIcs } from './ical';
import { itemFileName, safeName } from './naming';

export interface TenantRestoreOptions {
  tenantName: string;
  services: readonly Service[];
  user?: string;
  /** Latest snapshot at or before this time; undefined = the latest. */
  pointInTime?: Date;
  target: string;
}

export interface RestoredPartition {
  userPrincipalName: string;
  service: Service;
  snapshot: number;
  time: string;
  items: number;
}

export interface TenantRestoreResult {
  partitions: RestoredPartition[];
  files: number;
  bytes: number;
  failures: { path: string; reason: string }[];
}

const SERVICE_DIR: Record<Service, string> = { onedrive: 'OneDrive', mail: 'Mail', calendar: 'Calendar', contacts: 'Contacts' };

type Meta = Record<string, unknown> & { type?: string; id?: string };

interface Output {
  path: string;
  chunkIds: Buffer;
  /** Converts the stored content before writing (events and contacts are stored as JSON). */
  convert?: (content: Buffer) => string;
  mtime?: Date;
}

export async function readDirectory(repo: Repository, tenant: string): Promise<DirectoryUser[]> {
  const state = await new Catalog(repo, directoryPartition(tenant)).readState<DirectoryState>();
  return state?.users ?? [];
}

export function selectUsers(users: DirectoryUser[], tenant: string, user?: string): DirectoryUser[] {
  const found = matchUsers(users, user);
  if (user && found.length === 0) throw new BackupError('NOT_FOUND', `Tenant "${tenant}" has no backed-up user "${user}".`);
  return found;
}

/** Folder paths from (id -> name, parent) records; a broken chain lands under "_orphaned". */
function pathResolver(nodes: Map<string, { name: string; parentId: string | null }>): (id: string | null) => string {
  const cache = new Map<string, string>();
  const resolvePath = (id: string | null, depth = 0): string => {
    if (id === null) return '';
    const hit = cache.get(id);
    if (hit !== undefined) return hit;
    const node = nodes.get(id);
    if (!node || depth > 256) return '_orphaned';
    const parent = resolvePath(node.parentId, depth + 1);
    const p = node.name === '' ? parent : parent ? `${parent}/${safeName(node.name)}` : safeName(node.name);
    cache.set(id, p);
    return p;
  };
  return resolvePath;
}

function plan(service: Service, versions: ItemVersion[]): Output[] {
  const metas = versions.map((v) => ({ v, m: v.meta as Meta }));
  const out: Output[] = [];
  if (service === 'onedrive') {
    const nodes = new Map<string, { name: string; parentId: string | null }>();
    for (const { m } of metas) if (m.type === 'folder') nodes.set(String(m.id), { name: String(m.name ?? ''), parentId: (m.parentId as string | null) ?? null });
    const pathOf = pathResolver(nodes);
    for (const { v, m } of metas) {
      if (m.type === 'folder') {
        const p = pathOf(String(m.id));
        if (p) out.push({ path: p + '/', chunkIds: Buffer.alloc(0) });
      } else out.push({ path: join(pathOf((m.parentId as string) ?? null), safeName(String(m.name ?? m.id))), chunkIds: v.chunkIds, mtime: m.modified ? new Date(String(m.modified)) : undefined });
    }
  } else if (service === 'mail') {
    const nodes = new Map<string, { name: string; parentId: string | null }>();
    for (const { m } of metas) if (m.type === 'folder') nodes.set(String(m.folderId), { name: String(m.displayName ?? ''), parentId: (m.parentId as string | null) ?? null });
    const pathOf = pathResolver(nodes);
    for (const { m } of metas) if (m.type === 'folder') out.push({ path: pathOf(String(m.folderId)) + '/', chunkIds: Buffer.alloc(0) });
    for (const { v, m } of metas)
      if (m.type === 'message')
        out.push({ path: join(pathOf(String(m.folderId)), itemFileName(String(m.subject ?? ''), String(m.id), 'eml')), chunkIds: v.chunkIds, mtime: m.receivedDateTime ? new Date(String(m.receivedDateTime)) : undefined });
  } else if (service === 'calendar') {
    for (const { v, m } of metas) out.push({ path: itemFileName(String(m.subject ?? ''), String(m.id), 'ics'), chunkIds: v.chunkIds, convert: (c) => eventToIcs(JSON.parse(c.toString('utf8'))) });
  } else {
    const folders = new Map<string, string>();
    for (const { m } of metas) if (m.type === 'folder') folders.set(String(m.folderId), safeName(String(m.displayName ?? '')));
    for (const { v, m } of metas)
      if (m.type === 'contact') {
        const folder = m.folderId === 'default' ? '' : (folders.get(String(m.folderId)) ?? '_orphaned');
        out.push({ path: join(folder, itemFileName(String(m.displayName ?? ''), String(m.id), 'vcf')), chunkIds: v.chunkIds, convert: (c) => contactToVcf(JSON.parse(c.toString('utf8'))) });
      }
  }
  return out;
}

function safeJoin(root: string, rel: string): string {
  const full = resolve(root, rel);
  if (full !== root && !full.startsWith(root + sep)) throw new BackupError('INTEGRITY', `A stored name escapes the restore target: ${rel}`);
  return full;
}

/**
 * Restores a tenant (or one user, some services) as of a point in time into a folder:
 * <user>/OneDrive/<tree>, <user>/Mail/<folders>/*.eml (exact MIME), <user>/Calendar/*.ics,
 * <user>/Contacts/[<folder>/]*.vcf, plus one _items.json per service with the metadata records.
 */
export interface SelectedPartition {
  user: DirectoryUser;
  service: Service;
  snapshot: SnapshotRecord;
  versions: ItemVersion[];
}

/** The snapshot of each selected user and service at the point in time, with its item versions. */
export async function selectTenantVersions(repo: Repository, privateKey: PrivateKey, o: Omit<TenantRestoreOptions, 'target'>): Promise<SelectedPartition[]> {
  const users = selectUsers(await readDirectory(repo, o.tenantName), o.tenantName, o.user);
  if (users.length === 0) throw new BackupError('NOT_FOUND', `Tenant "${o.tenantName}" has no backups yet.`);
  const out: SelectedPartition[] = [];
  for (const u of users)
    for (const service of o.services) {
      const catalog = new Catalog(repo, servicePartition(o.tenantName, u.id, service));
      const snap = latestAtOrBefore(await catalog.snapshots(), o.pointInTime);
      if (!snap) continue;
      const runKeys = await catalog.openRunKeys(privateKey);
      const versions: ItemVersion[] = [];
      for await (const v of catalog.versionsAt(snap.seq, runKeys)) versions.push(v);
      out.push({ user: u, service, snapshot: snap, versions });
    }
  return out;
}

/** The packs a restore reads (to rehydrate them from Archive first). */
export async function packsForRestore(repo: Repository, privateKey: PrivateKey, selected: SelectedPartition[]): Promise<string[]> {
  const wanted = new Set<string>();
  for (const p of selected) for (const v of p.versions) for (let i = 0; i < v.chunkIds.length; i += 32) wanted.add(v.chunkIds.toString('hex', i, i + 32));
  const locations = await new ChunkReader(repo, privateKey).locate(wanted);
  return [...new Set([...locations.values()].map((l) => l.packId))].sort();
}

/**
 * Restores a tenant (or one user, some services) as of a point in time into a folder:
 * <user>/OneDrive/<tree>, <user>/Mail/<folders>/*.eml (exact MIME), <user>/Calendar/*.ics,
 * <user>/Contacts/[<folder>/]*.vcf, plus one _items.json per service with the metadata records.
 */
export async function restoreTenant(repo: Repository, privateKey: PrivateKey, o: TenantRestoreOptions): Promise<TenantRestoreResult> {
  const root = resolve(o.target);
  const result: TenantRestoreResult = { partitions: [], files: 0, bytes: 0, failures: [] };
  for (const p of await selectTenantVersions(repo, privateKey, o)) {
    result.partitions.push({ userPrincipalName: p.user.userPrincipalName, service: p.service, snapshot: p.snapshot.seq, time: p.snapshot.time, items: p.versions.length });
    const base = join(root, safeName(p.user.userPrincipalName), SERVICE_DIR[p.service]);
    await mkdir(base, { recursive: true });
    await writeFile(join(base, '_items.json'), JSON.stringify(p.versions.map((v) => v.meta), null, 1));
    await writeOutputs(repo, privateKey, base, plan(p.service, p.versions), result);
  }
  return result;
}

async function writeOutputs(repo: Repository, privateKey: PrivateKey, base: string, outputs: Output[], result: TenantRestoreResult): Promise<void> {
  const failed = new Set<string>();
  const fail = (path: string, reason: string) => {
    if (failed.has(path)) return;
    failed.add(path);
    result.failures.push({ path, reason });
  };
  // Targets of each chunk: converted items collect their (small) content in memory; the rest are written in place.
  const wanted = new Set<string>();
  const buffers = new Map<Output, Buffer[]>();
  for (const o of outputs) {
    const full = safeJoin(base, o.path);
    if (o.path.endsWith('/')) {
      await mkdir(full, { recursive: true });
      continue;
    }
    await mkdir(dirname(full), { recursive: true });
    if (o.convert) buffers.set(o, []);
    else await writeFile(full, Buffer.alloc(0));
    for (let i = 0; i < o.chunkIds.length; i += 32) wanted.add(o.chunkIds.toString('hex', i, i + 32));
  }
  const targets = new Map<string, { o: Output; index: number; position: number }[]>();
  await fetchChunks(
    repo,
    privateKey,
    wanted,
    async (hex, data) => {
      for (const t of targets.get(hex) ?? []) {
        if (failed.has(t.o.path)) continue;
        if (t.o.convert) buffers.get(t.o)![t.index] = data;
        else await writeAt(safeJoin(base, t.o.path), data, t.position);
        result.bytes += data.length;
      }
    },
    (_pack, chunks, reason) => {
      for (const hex of chunks) for (const t of targets.get(hex) ?? []) fail(t.o.path, reason);
    },
    (locations) => {
      for (const o of outputs) {
        const missing = forEachChunkPosition(o.chunkIds, locations, (hex, index, position) => addTarget(targets, hex, { o, index, position }));
        if (missing) fail(o.path, missingChunk(missing));
      }
    },
  );
  for (const o of outputs) {
    if (o.path.endsWith('/') || failed.has(o.path)) continue;
    const full = safeJoin(base, o.path);
    if (o.convert) {
      try {
        await writeFile(full, o.convert(Buffer.concat(buffers.get(o)!)));
      } catch (e) {
        fail(o.path, `cannot convert: ${String((e as Error)?.message ?? e)}`);
        continue;
      }
    }
    result.files++;
    if (o.mtime && !Number.isNaN(o.mtime.getTime())) await utimes(full, o.mtime, o.mtime).catch(() => undefined);
  }
}
