import { isScopeService, SCOPE_SERVICE, type Service } from '../m365';
import { scopeOf } from '../m365/scopes';

/** The services a directory member can have: a site, group or team its one service; a user the per-user ones. */
export function servicesOfMember(memberId: string, services: readonly Service[]): Service[] {
  const scope = scopeOf(memberId);
  return scope ? services.filter((s) => s === SCOPE_SERVICE[scope.kind]) : services.filter((s) => !isScopeService(s));
}
