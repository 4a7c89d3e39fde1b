import { BackupError } from '../errors';

/**
 * Names that reach storage keys, table names or Graph paths are checked where they enter (every
 * lookup, not only registration), so a bad one is a USAGE error naming the rule, never a storage
 * error naming an internal table. docs/errors.md repeats these rules.
 */

/** A tenant's name in this product: it becomes part of table and container names, hence lowercase letters and digits only. */
export const TENANT_NAME = /^[a-z][a-z0-9]{1,23}$/;

export function validateTenantName(name: string): string {
  if (typeof name !== 'string' || !TENANT_NAME.test(name))
    throw new BackupError('USAGE', `Tenant name "${printable(name)}" is not valid: use 2 to 24 lowercase letters and digits, starting with a letter.`);
  return name;
}

/** A Microsoft Entra object id. */
export const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A user principal name: local part (guests' "#EXT#" included) @ a domain; no spaces, slashes or control characters. */
export const USER_PRINCIPAL_NAME = /^[^\s@/\\\u0000-\u001f\u007f"<>|]{1,113}@[A-Za-z0-9\u00a0-\uffff](?:[A-Za-z0-9\u00a0-\uffff-]{0,62}\.)*[A-Za-z0-9\u00a0-\uffff-]{1,63}$/;

/** A user given by its UPN or object id. */
export function validateUserRef(user: string): string {
  if (typeof user !== 'string' || user.length > 320 || !(USER_ID.test(user) || USER_PRINCIPAL_NAME.test(user)))
    throw new BackupError('USAGE', `User "${printable(user)}" is not valid: give a user principal name (adele@contoso.com) or an object id (a GUID).`);
  return user;
}

/** A name as it may appear in a message: short, one line. */
function printable(v: unknown): string {
  const s = String(v).replace(/[\u0000-\u001f\u007f]/g, '?');
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
