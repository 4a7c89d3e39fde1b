import type { PrivateKey } from '../../crypto';
import { ChunkReader, saveZipPart, loadZipPart, ZipPartStager, commitRestoreZip, type Repository, type RestoreZipRecord } from '../../repo';
import { orderedContent } from '../orderedContent';
import { contactToVcf, eventToIcs } from './ical';
import { planLocations, type PlannedFile, type TenantRestorePlan } from './tenantPlan';
import { centralRecord, dataDescriptor, endOfCentralDirectory, entryCrc, localHeader, type ZipEntry } from './zipFormat';

/** What a part of the zip stored: its entries (offsets relative to the part), blocks and counts. */
export interface ZipPartRecord {
  entries: ZipEntry[];
  bytes: number;
  blocks: number;
  files: number;
  contentBytes: number;
  failures: { path: string; reason: string }[];
}

/** Counts of one part (small: they travel through the orchestration). */
export interface ZipPartCounts {
  part: number;
  files: number;
  bytes: number;
  failureCount: number;
}

const CONVERT: Record<NonNullable<PlannedFile['convert']>, (content: Buffer) => string> = {
  ics: (c) => eventToIcs(JSON.parse(c.toString('utf8'))),
  vcf: (c) => contactToVcf(JSON.parse(c.toString('utf8'))),
};

/** The plan's partitions grouped by user (the first folder of their path), in plan order: one zip part each. */
export function zipParts(plan: TenantRestorePlan): number[][] {
  const byUser = new Map<string, number[]>();
  plan.partitions.forEach((p, i) => {
    const user = p.dir.split('/')[0]!;
    let list = byUser.get(user);
    if (!list) byUser.set(user, (list = []));
    list.push(i);
  });
  return [...byUser.values()];
}

/**
 * Writes part `part` (one user) of the restore's zip: folders, `_items.json`, then every file, its
 * content streamed from the packs in order (no temporary copy), staged as blocks of the zip blob.
 * A file whose content fails is a listed failure and left out of the central directory.
 */
export async function writeZipPart(repo: Repository, key: PrivateKey, plan: TenantRestorePlan, restoreId: string, part: number): Promise<ZipPartCounts> {
  const partitions = (zipParts(plan)[part] ?? []).map((i) => plan.partitions[i]!);
  const out = new ZipPartStager(repo, restoreId, part);
  const record: ZipPartRecord = { entries: [], bytes: 0, blocks: 0, files: 0, contentBytes: 0, failures: [] };
  const now = Date.now();
  const whole = async (name: string, data: Buffer, mtime: number) => {
    const offset = out.bytes;
    await out.write(localHeader(name, data.length, mtime));
    await out.write(data);
    const crc = entryCrc(data);
    await out.write(dataDescriptor(crc, data.length));
    record.entries.push({ name, dir: false, crc, size: data.length, offset, mtime });
  };
  const folder = async (name: string) => {
    const offset = out.bytes;
    await out.write(localHeader(name, 0, now));
    await out.write(dataDescriptor(0, 0));
    record.entries.push({ name, dir: true, crc: 0, size: 0, offset, mtime: now });
  };
  const files: PlannedFile[] = [];
  for (const p of partitions) {
    await folder(`${p.dir}/`);
    await whole(`${p.dir}/_items.json`, Buffer.from(JSON.stringify(p.metas, null, 1)), now);
    for (const d of p.documents ?? []) await whole(d.path, Buffer.from(d.text), now);
    for (const f of p.folders) await folder(f.endsWith('/') ? f : `${f}/`);
    files.push(...p.files);
  }
  const locations = planLocations(plan);
  const ids = files.map((f) => Buffer.from(f.chunks, 'base64'));
  const sizes = ids.map((b) => {
    let n = 0;
    for (let i = 0; i < b.length; i += 32) n += locations.get(b.toString('hex', i, i + 32))?.rawLength ?? 0;
    return n;
  });
  const mtimeOf = (f: PlannedFile) => {
    const t = f.mtime ? new Date(f.mtime).getTime() : NaN;
    return Number.isNaN(t) ? now : t;
  };
  // State of the file being written (content comes file by file, in order).
  let started = -1;
  let offset = 0;
  let crc = 0;
  let pieces: Buffer[] = [];
  const failed = new Set<number>();
  for await (const ev of orderedContent(new ChunkReader(repo, key), ids, locations)) {
    const f = files[ev.file]!;
    if (ev.t === 'fail') {
      failed.add(ev.file);
      record.failures.push({ path: f.path, reason: ev.reason });
      pieces = [];
      continue;
    }
    if (failed.has(ev.file)) continue;
    if (f.convert) {
      if (ev.t === 'data') pieces.push(ev.data);
      else {
        let text: Buffer;
        try {
          text = Buffer.from(CONVERT[f.convert](Buffer.concat(pieces)));
        } catch (e) {
          record.failures.push({ path: f.path, reason: `cannot convert: ${String((e as Error)?.message ?? e)}` });
          pieces = [];
          continue;
        }
        pieces = [];
        await whole(f.path, text, mtimeOf(f));
        record.files++;
        record.contentBytes += text.length;
      }
      continue;
    }
    if (started !== ev.file) {
      started = ev.file;
      offset = out.bytes;
      crc = 0;
      await out.write(localHeader(f.path, sizes[ev.file]!, mtimeOf(f)));
    }
    if (ev.t === 'data') {
      crc = entryCrc(ev.data, crc);
      await out.write(ev.data);
    } else {
      await out.write(dataDescriptor(crc, sizes[ev.file]!));
      record.entries.push({ name: f.path, dir: false, crc, size: sizes[ev.file]!, offset, mtime: mtimeOf(f) });
      record.files++;
      record.contentBytes += sizes[ev.file]!;
    }
  }
  record.blocks = await out.end();
  record.bytes = out.bytes;
  await saveZipPart(repo, restoreId, part, record);
  return { part, files: record.files, bytes: record.contentBytes, failureCount: record.failures.length };
}

/**
 * Joins the parts: the central directory (each part's entries at the part's start) as the last
 * part, then the commit of every block in order and the zip's record with its summary.
 */
export async function finishZip<T>(
  repo: Repository,
  plan: TenantRestorePlan,
  restoreId: string,
  expires: Date,
  summarise: (s: { files: number; bytes: number; failureCount: number; failures: { path: string; reason: string }[]; zipBytes: number }) => T,
  maxListedFailures: number,
): Promise<RestoreZipRecord<T> & { files: number; contentBytes: number; failureCount: number }> {
  const parts = zipParts(plan).length;
  const cd = new ZipPartStager(repo, restoreId, parts);
  const blocks: number[] = [];
  let base = 0;
  let entries = 0;
  let files = 0;
  let contentBytes = 0;
  let failureCount = plan.failures.length;
  const failures = plan.failures.slice(0, maxListedFailures);
  const cdStart = () => base;
  for (let part = 0; part < parts; part++) {
    const r = await loadZipPart<ZipPartRecord>(repo, restoreId, part);
    for (const e of r.entries) await cd.write(centralRecord(e, base));
    entries += r.entries.length;
    files += r.files;
    contentBytes += r.contentBytes;
    failureCount += r.failures.length;
    failures.push(...r.failures.slice(0, Math.max(0, maxListedFailures - failures.length)));
    blocks.push(r.blocks);
    base += r.bytes;
  }
  const cdOffset = cdStart();
  const cdSize = cd.bytes;
  await cd.write(endOfCentralDirectory(entries, cdOffset, cdSize));
  blocks.push(await cd.end());
  const zipBytes = base + cd.bytes;
  const record = await commitRestoreZip(repo, restoreId, blocks, zipBytes, expires, summarise({ files, bytes: contentBytes, failureCount, failures, zipBytes }));
  return { ...record, files, contentBytes, failureCount };
}
