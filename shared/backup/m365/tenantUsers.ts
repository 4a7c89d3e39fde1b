import { BackupError } from '../../errors';
import { listUsers, probeServices, type GraphConnection } from '../../graph';
import { matchUsers, type Service, type TenantUser } from '../../m365';

/**
 * The tenant's users (or the one named by id or UPN) and the services each has: listed, then
 * probed in JSON batches. Used by the CLI run and by the Function App's first activity alike.
 */
export async function tenantUsers(conn: GraphConnection, tenantName: string, user?: string): Promise<TenantUser[]> {
  const users = matchUsers(await listUsers(conn), user);
  if (user !== undefined && users.length === 0) throw new BackupError('NOT_FOUND', `Tenant "${tenantName}" has no user "${user}".`);
  const probes = await probeServices(conn, users);
  return users.map((u) => {
    const p = probes.get(u.id)!;
    const services: Service[] = [...(p.drive ? (['onedrive'] as const) : []), ...(p.mailbox ? (['mail', 'calendar', 'contacts'] as const) : [])];
    return { id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName, services, notes: p.notes };
  });
}
