import { BackupError } from '../errors';
import { directoryPartition, servicePartition, servicesOfEntry, TENANT_DIRECTORY, type DirectoryUser, type Service } from '../m365';
import { Directory, type Repository } from '../repo';
import { applyRetention, type ForgetOutcome, type RetentionTarget } from './applyRetention';
import type { KeepRules } from './retentionPolicy';
import { getRetentionPolicy } from './policyStore';

export interface ForgetTenantPage {
  outcomes: ForgetOutcome[];
  /** Directory cursor of the next page of users; absent when this was the last. */
  next?: string;
}

/**
 * forget over a tenant, one page of its directory at a time (the CLI loops over every page; the
 * Function App's prune runs one page per activity, so no call grows with the tenant). One user
 * (`user`: id or UPN; NOT_FOUND when unknown) is one page. Partitions: each user's `services`.
 */
export async function forgetTenantPage(
  repo: Repository,
  tenant: string,
  o: { services: readonly Service[]; user?: string; after?: string; limit?: number; rules?: KeepRules; dryRun?: boolean },
): Promise<ForgetTenantPage> {
  const directory = new Directory<DirectoryUser>(repo, directoryPartition(tenant), TENANT_DIRECTORY);
  let users: DirectoryUser[];
  let next: string | undefined;
  if (o.user !== undefined) {
    const found = await directory.find(o.user);
    if (!found) throw new BackupError('NOT_FOUND', `Tenant "${tenant}" has no backed-up user "${o.user}".`);
    users = [found];
  } else ({ members: users, next } = await directory.page({ after: o.after, limit: o.limit }));
  const targets: RetentionTarget[] = users.flatMap((u) =>
    servicesOfEntry(u.id, o.services).map((s) => ({ partitionName: servicePartition(tenant, u.id, s), user: u.userPrincipalName, service: s, label: `${u.userPrincipalName} ${s}` })),
  );
  const policy = await getRetentionPolicy(repo);
  return { outcomes: await applyRetention(repo, targets, { rules: o.rules, dryRun: o.dryRun, policy }), ...(next ? { next } : {}) };
}
