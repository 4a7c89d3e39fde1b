import type { SimTenant } from '../tenant/model';
import { scopesOf, type SimLibrary, type SimList, type SimListItem, type SimSite } from '../tenant/sites';
import { deltaPage, listPage } from './delta';
import { graphError, json, type SimRequest, type SimResponse } from './http';
import type { RouteContext, RouteMatch } from './routes';
import { driveItemJson, driveTombstoneJson } from './shapes';

/** SharePoint's answer to an app without access to the site (a listed, skipped scope for the backup). */
export const accessDenied = () => graphError(403, 'accessDenied', 'Access denied. You do not have permission to perform this action or access this resource.');
const itemNotFound = () => graphError(404, 'itemNotFound', 'The resource could not be found.');

const siteJson = (s: SimSite) => ({
  id: s.id,
  name: s.name,
  displayName: s.displayName,
  webUrl: s.webUrl,
  createdDateTime: s.created,
  isPersonalSite: false,
  siteCollection: { hostname: s.webUrl.split('/')[2] },
});

const libraryJson = (s: SimSite, l: SimLibrary) => ({ id: l.driveId, name: l.user.displayName, driveType: 'documentLibrary', webUrl: `${s.webUrl}/${encodeURIComponent(l.user.displayName)}` });

const listJson = (s: SimSite, l: SimList) => ({
  '@odata.etag': `"${l.id},${l.version}"`,
  id: l.id,
  name: l.displayName.replace(/\s/g, ''),
  displayName: l.displayName,
  createdDateTime: l.created,
  lastModifiedDateTime: l.modified,
  webUrl: `${s.webUrl}/Lists/${encodeURIComponent(l.displayName)}`,
  list: { template: 'genericList', hidden: false, contentTypesEnabled: false },
});

const listItemJson = (s: SimSite, l: SimList, i: SimListItem, withFields: boolean) => ({
  '@odata.etag': `"${i.id},${i.eTagVersion}"`,
  eTag: `"${i.id},${i.eTagVersion}"`,
  id: i.id,
  createdDateTime: i.created,
  lastModifiedDateTime: i.modified,
  webUrl: `${s.webUrl}/Lists/${encodeURIComponent(l.displayName)}/DispForm.aspx?ID=${i.id}`,
  parentReference: { siteId: s.id, id: l.id },
  ...(withFields ? { fields: { '@odata.etag': `"${i.id},${i.eTagVersion}"`, id: i.id, ...i.fields, Modified: i.modified, Created: i.created } } : {}),
});

/** Every site of the tenant as /sites/getAllSites lists them, users' OneDrive (personal) sites included. */
function allSites(tenant: SimTenant): unknown[] {
  const host = `${tenant.domain.split('.')[0]}-my.sharepoint.com`;
  const personal = [...tenant.users.values()]
    .filter((u) => u.user.hasDrive)
    .map((u) => ({ id: `${host},${u.user.id},${u.driveId.slice(2)}`, name: u.user.userPrincipalName, displayName: u.user.displayName, webUrl: `https://${host}/personal/${u.user.userPrincipalName.replace(/[@.]/g, '_')}`, isPersonalSite: true }));
  return [...[...scopesOf(tenant).sites.values()].map(siteJson), ...personal];
}

/** Resolves /sites/... and /drives/... (document libraries), or undefined. */
export function matchSiteRoute(req: SimRequest, tenant: SimTenant, ctx: RouteContext, parts: string[]): RouteMatch | undefined {
  const plain = (name: string, run: () => SimResponse): RouteMatch => ({ name, deltaWithToken: false, run });
  const withToken = req.url.searchParams.has('$deltatoken') || req.url.searchParams.has('$skiptoken');
  const sites = scopesOf(tenant).sites;

  if (parts[0] === 'drives' && parts[1]) {
    let site: SimSite | undefined;
    let lib: SimLibrary | undefined;
    for (const s of sites.values())
      for (const l of s.libraries)
        if (l.driveId === parts[1]) {
          site = s;
          lib = l;
        }
    if (!site || !lib) return plain('library', () => itemNotFound());
    const guard = (run: () => SimResponse) => () => (site!.denied ? accessDenied() : run());
    const rest = parts.slice(2);
    if (rest.join('/') === 'root/delta')
      return {
        name: 'library.delta',
        deltaWithToken: withToken,
        run: guard(() =>
          deltaPage(req, ctx.origin, tenant.version, {
            live: [...lib!.drive.values()],
            tombstones: lib!.tombstones.filter((t) => t.scope === 'drive'),
            render: (i) => driveItemJson(lib!, i, i.folder ? undefined : ctx.downloadUrl(tenant, lib!, i.id)),
            removed: (id) => driveTombstoneJson(lib!, id),
            defaultPageSize: 200,
            maxPageSize: 1000,
            floor: ctx.floorOf(site!.id),
            expiredCode: 'resyncRequired',
          }),
        ),
      };
    if (rest[0] === 'items' && rest[1]) {
      const item = lib.drive.get(rest[1]);
      if (rest.length === 2) return plain('library.item', guard(() => (!item ? itemNotFound() : json(200, driveItemJson(lib!, item, item.folder ? undefined : ctx.downloadUrl(tenant, lib!, item.id))))));
      if (rest[2] === 'permissions' && rest.length === 3) return plain('library.permissions', guard(() => (!item ? itemNotFound() : json(200, { value: scopesOf(tenant).permissions.get(item.id) ?? [] }))));
    }
    return undefined;
  }

  if (parts[0] !== 'sites') return undefined;
  if (parts[1] === 'getAllSites' && parts.length === 2) return plain('sites.all', () => listPage(req, ctx.origin, allSites(tenant), 100, 1000));
  const site = parts[1] ? sites.get(parts[1]) : undefined;
  if (!site) return plain('site', () => itemNotFound());
  const guard = (run: () => SimResponse) => () => (site.denied ? accessDenied() : run());
  const rest = parts.slice(2);
  if (rest.length === 0) return plain('site', guard(() => json(200, siteJson(site))));
  if (rest[0] === 'drives' && rest.length === 1) return plain('site.drives', guard(() => listPage(req, ctx.origin, site.libraries.map((l) => libraryJson(site, l)), 100, 1000)));
  if (rest[0] === 'lists' && rest.length === 1) return plain('site.lists', guard(() => listPage(req, ctx.origin, [...site.lists.values()].map((l) => listJson(site, l)), 100, 1000)));
  if (rest[0] === 'lists' && rest[1]) {
    const list = site.lists.get(rest[1]);
    if (!list) return plain('site.list', () => itemNotFound());
    const withFields = /fields/.test(req.url.searchParams.get('expand') ?? req.url.searchParams.get('$expand') ?? '');
    if (rest[2] === 'items' && rest[3] === 'delta' && rest.length === 4)
      return {
        name: 'list.delta',
        deltaWithToken: withToken,
        run: guard(() =>
          deltaPage(req, ctx.origin, tenant.version, {
            live: [...list.items.values()],
            tombstones: list.tombstones,
            render: (i) => listItemJson(site, list, i, withFields),
            removed: (id) => ({ id, deleted: { state: 'deleted' } }),
            defaultPageSize: 200,
            maxPageSize: 1000,
            floor: ctx.floorOf(site.id),
            expiredCode: 'resyncRequired',
          }),
        ),
      };
    if (rest[2] === 'items' && rest.length === 3) return plain('list.items', guard(() => listPage(req, ctx.origin, [...list.items.values()].map((i) => listItemJson(site, list, i, withFields)), 200, 1000)));
  }
  return undefined;
}
