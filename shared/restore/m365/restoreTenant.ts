import { mkdir, writeFile, utimes } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { PrivateKey } from '../../crypto';
import { BackupError } from '../../errors';
import { whileReading, type Repository } from '../../repo';
import type { Service } from '../../graph';
import { addTarget, fetchChunks, forEachChunkPosition, missingChunk } from '../chunkFetcher';
import { FileSink } from '../fileSink';
import { contactToVcf, eventToIcs } from './ical';
import { planLocations, planTenantRestore, type PlannedFile, type TenantRestorePlan, type TenantSelection } from './tenantPlan';
import { joinUnderTarget } from '../targetPath';

export { readDirectory, directoryUsers, tenantDirectoryOf, selectUsers, selectTenantSnapshots, planTenantRestore, type TenantSelection, type TenantRestorePlan } from './tenantPlan';

export interface TenantRestoreOptions extends TenantSelection {
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

const CONVERT: Record<NonNullable<PlannedFile['convert']>, (content: Buffer) => string> = {
  ics: (c) => eventToIcs(JSON.parse(c.toString('utf8'))),
  vcf: (c) => contactToVcf(JSON.parse(c.toString('utf8'))),
};

const reason = (e: unknown) => `cannot be written (${(e as NodeJS.ErrnoException)?.code ?? String((e as Error)?.message ?? e)})`;


/**
 * Restores a tenant (or one user, some services) as of a point in time into a folder:
 * <user>/OneDrive/<tree>, <user>/Mail/<folders>/*.eml (exact MIME), <user>/Calendar/*.ics,
 * <user>/Contacts/[<folder>/]*.vcf, plus one _items.json per service with the metadata records.
 * Every path is unique (case-insensitively); what cannot be restored is listed in `failures`.
 */
export function restoreTenant(repo: Repository, privateKey: PrivateKey, o: TenantRestoreOptions): Promise<TenantRestoreResult> {
  return whileReading(repo, 'a restore', async () => writeTenantPlan(repo, privateKey, await planTenantRestore(repo, privateKey, o), o.target));
}

/** Writes a planned restore into a folder (the CLI target, or the Function App's folder for the zip). */
export async function writeTenantPlan(repo: Repository, privateKey: PrivateKey, plan: TenantRestorePlan, target: string): Promise<TenantRestoreResult> {
  const root = resolve(target);
  const result: TenantRestoreResult = {
    partitions: plan.partitions.map((p) => ({ userPrincipalName: p.userPrincipalName, service: p.service, snapshot: p.snapshot, time: p.time, items: p.items })),
    files: 0,
    bytes: 0,
    failures: [...plan.failures],
  };
  const failed = new Set<string>();
  const fail = (path: string, why: string) => {
    if (failed.has(path)) return;
    failed.add(path);
    result.failures.push({ path, reason: why });
  };
  const files: PlannedFile[] = [];
  for (const p of plan.partitions) {
    await mkdir(joinUnderTarget(root, p.dir), { recursive: true });
    await writeFile(joinUnderTarget(root, `${p.dir}/_items.json`), JSON.stringify(p.metas, null, 1));
    for (const d of p.documents ?? []) await mkdir(dirname(joinUnderTarget(root, d.path)), { recursive: true }).then(() => writeFile(joinUnderTarget(root, d.path), d.text)).then(() => void result.files++, (e: unknown) => fail(d.path, reason(e)));
    for (const f of p.folders) await mkdir(joinUnderTarget(root, f), { recursive: true }).catch((e: unknown) => fail(f, reason(e)));
    files.push(...p.files);
  }
  // Converted items collect their (small) content in memory; the rest are written in place.
  const wanted = new Set<string>();
  const buffers = new Map<PlannedFile, Buffer[]>();
  const chunkIds = new Map<PlannedFile, Buffer>();
  for (const f of files) {
    const ids = Buffer.from(f.chunks, 'base64');
    chunkIds.set(f, ids);
    try {
      const full = joinUnderTarget(root, f.path);
      await mkdir(dirname(full), { recursive: true });
      if (f.convert) buffers.set(f, []);
      else await writeFile(full, Buffer.alloc(0));
    } catch (e) {
      if (e instanceof BackupError) throw e;
      fail(f.path, reason(e));
      continue;
    }
    for (let i = 0; i < ids.length; i += 32) wanted.add(ids.toString('hex', i, i + 32));
  }
  const targets = new Map<string, { f: PlannedFile; index: number; position: number }[]>();
  // Chunks arrive from several ranges at once: each file is opened once for all its chunks.
  const sink = new FileSink();
  await fetchChunks(
    repo,
    privateKey,
    wanted,
    async (hex, data) => {
      for (const t of targets.get(hex) ?? []) {
        if (failed.has(t.f.path)) continue;
        if (t.f.convert) buffers.get(t.f)![t.index] = data;
        else {
          try {
            await sink.write(joinUnderTarget(root, t.f.path), data, t.position);
          } catch (e) {
            fail(t.f.path, reason(e));
            await sink.abandon(joinUnderTarget(root, t.f.path));
            continue;
          }
        }
        result.bytes += data.length;
      }
    },
    (_pack, chunks, why) => {
      for (const hex of chunks) for (const t of targets.get(hex) ?? []) fail(t.f.path, why);
    },
    (locations) => {
      for (const f of files) {
        if (failed.has(f.path)) continue;
        const missing = forEachChunkPosition(chunkIds.get(f)!, locations, (hex, index, position) => addTarget(targets, hex, { f, index, position }));
        if (missing) fail(f.path, missingChunk(missing));
        else if (!f.convert) sink.expect(joinUnderTarget(root, f.path), chunkIds.get(f)!.length / 32);
      }
    },
    planLocations(plan),
  ).finally(() => sink.closeAll());
  for (const f of files) {
    if (failed.has(f.path)) continue;
    const full = joinUnderTarget(root, f.path);
    if (f.convert) {
      let text: string;
      try {
        text = CONVERT[f.convert](Buffer.concat(buffers.get(f)!));
      } catch (e) {
        fail(f.path, `cannot convert: ${String((e as Error)?.message ?? e)}`);
        continue;
      }
      try {
        await writeFile(full, text);
      } catch (e) {
        fail(f.path, reason(e));
        continue;
      }
    }
    result.files++;
    const mtime = f.mtime ? new Date(f.mtime) : undefined;
    if (mtime && !Number.isNaN(mtime.getTime())) await utimes(full, mtime, mtime).catch(() => undefined);
  }
  return result;
}
