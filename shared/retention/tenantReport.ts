import { directoryPartition, servicePartition, servicesOfEntry, TENANT_DIRECTORY, type DirectoryUser, type Service } from '../m365';
import { Directory, partitionTotals, repositoryStorage, type RepositoryStorage, type Repository, type TierPrices } from '../repo';

export interface ServiceTotals {
  /** Users with at least one snapshot of the service. */
  users: number;
  snapshots: number;
  /** Items and logical bytes of the newest snapshots (what restoring them gives back). */
  items: number;
  bytes: number;
  /** Bytes the service's snapshots first stored (its share of the packs, after dedup and compression). */
  storedBytes: number;
}

/** The cost and storage report of one tenant (`m365-backup report`, `GET /api/report`). */
export interface TenantReport {
  tenant: string;
  at: string;
  users: number;
  services: Partial<Record<Service, ServiceTotals>>;
  storage: RepositoryStorage;
  /** The price per GiB-month the cost figures use (STORAGE_PRICES). */
  prices: TierPrices;
}

/**
 * Storage per tier and generation, garbage and estimated monthly cost of a tenant's repository, with
 * each service's share. Reads the directory page by page and the snapshot table once; no password.
 */
export async function tenantReport(repo: Repository, tenant: string, services: readonly Service[], o: { prices: TierPrices; now?: () => number }): Promise<TenantReport> {
  const names = new Map<string, Service>();
  let users = 0;
  for await (const u of new Directory<DirectoryUser>(repo, directoryPartition(tenant), TENANT_DIRECTORY).members()) {
    users++;
    for (const s of servicesOfEntry(u.id, services)) names.set(servicePartition(tenant, u.id, s), s);
  }
  const totals = await partitionTotals(repo, [...names.keys()]);
  const out: Partial<Record<Service, ServiceTotals>> = {};
  for (const [name, t] of totals) {
    const s = names.get(name)!;
    const acc = (out[s] ??= { users: 0, snapshots: 0, items: 0, bytes: 0, storedBytes: 0 });
    acc.users++;
    acc.snapshots += t.snapshots;
    acc.items += t.items;
    acc.bytes += t.bytes;
    acc.storedBytes += t.storedBytes;
  }
  const now = o.now ?? Date.now;
  return { tenant, at: new Date(now()).toISOString(), users, services: out, storage: await repositoryStorage(repo, { prices: o.prices, now }), prices: o.prices };
}
