import { api } from './api.js';
import { h, table } from './dom.js';
import { bytes, count } from './format.js';

/** The parts of GET /api/report the console shows (docs/openapi.yaml, TenantReport). */
interface TierUsage {
  blobs: number;
  bytes: number;
  monthlyCost: number;
}
interface StorageReport {
  at: string;
  storage: {
    packs: Record<string, TierUsage>;
    meta: TierUsage;
    generations: { lockedUntil?: string; packs: number; bytes: number }[];
    legalHolds: number;
    garbage: { reclaimBytes: number; deadPacks: number; deferredPacks: number; deferredBytes: number; garbageWaiting: number; partlyUsedDeadBytes: number; nextDeletableAt?: string; feeAvoided: number };
    monthlyCost: number;
  };
}

const money = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '');
/** The report lists every pack and runs prune's dry run: read once a minute at most, not on every progress poll. */
const FRESH_MS = 60_000;
const cached = new Map<string, { at: number; report: StorageReport }>();

/** Storage and estimated cost of a tenant's repository per tier, garbage waiting, lock generations. */
export async function storageSection(tenant: string): Promise<HTMLElement> {
  let hit = cached.get(tenant);
  if (!hit || Date.now() - hit.at > FRESH_MS) {
    hit = { at: Date.now(), report: await api<StorageReport>(`/api/report?tenant=${encodeURIComponent(tenant)}`) };
    cached.set(tenant, hit);
  }
  const s = hit.report.storage;
  const tiers = Object.entries(s.packs).map(([tier, u]) => [`Packs, ${tier}`, count(u.blobs), bytes(u.bytes), money(u.monthlyCost)]);
  tiers.push(['Catalogs and indexes (Hot)', count(s.meta.blobs), bytes(s.meta.bytes), money(s.meta.monthlyCost)]);
  tiers.push(['Total', '', bytes(Object.values(s.packs).reduce((a, u) => a + u.bytes, 0) + s.meta.bytes), money(s.monthlyCost)]);
  const g = s.garbage;
  const generations = s.generations.map((x) => [x.lockedUntil ?? 'not locked', count(x.packs), bytes(x.bytes)]);
  return h(
    'section',
    { 'aria-labelledby': 'storage-h' },
    h('h2', { id: 'storage-h' }, 'Storage and cost'),
    table(`Storage of ${tenant} per tier, estimated monthly cost`, ['Where', 'Blobs', 'Bytes', 'Cost per month'], tiers, [1, 2, 3]),
    h(
      'ul',
      { 'aria-label': 'Garbage' },
      h('li', {}, `Garbage prune would delete now: ${bytes(g.reclaimBytes)} in ${count(g.deadPacks)} packs`),
      h('li', {}, `Garbage waiting (locked, held or inside the tier minimum): ${bytes(g.deferredBytes)} in ${count(g.deferredPacks)} packs${g.nextDeletableAt ? `, the first deletable ${g.nextDeletableAt.slice(0, 10)}` : ''}`),
      h('li', {}, `Tagged garbage still locked: ${count(g.garbageWaiting)} packs; dead bytes inside partly used packs: ${bytes(g.partlyUsedDeadBytes)}`),
      h('li', {}, `Packs under a legal hold: ${count(s.legalHolds)}`),
    ),
    generations.length ? table('Packs per lock generation (the day their lock ends)', ['Locked until', 'Packs', 'Bytes'], generations, [1, 2]) : h('p', {}, 'No packs yet.'),
    h('p', {}, `Figures as of ${hit.report.at.replace('T', ' ').slice(0, 16)} UTC; costs at the configured STORAGE_PRICES.`),
  );
}
