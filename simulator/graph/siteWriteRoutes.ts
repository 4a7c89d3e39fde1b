import type { SimTenant } from '../tenant/model';
import { scopesOf, SiteEditor, type SimLibrary, type SimSite } from '../tenant/sites';
import { graphError, json, type SimRequest, type SimResponse } from './http';
import type { RouteMatch } from './routes';
import { accessDenied } from './siteRoutes';
import { driveWriteRoute, type WriteRouteContext } from './writeRoutes';

/** Creating a list (a document library among them): Sites.Manage.All, or Sites.ReadWrite.All (Graph's list-create page). */
const LISTS_WRITE = ['Sites.Manage.All', 'Sites.ReadWrite.All'];
/** The list id of a document library (libraries are drives here; their list is addressed by this id). */
export const libraryListId = (lib: SimLibrary) => `doclib-${lib.rootId}`;

/**
 * The writes a SharePoint restore makes: a library's drive written exactly as a user's OneDrive
 * (`/drives/{id}/...`: path-addressed PUT, upload sessions, folders, fileSystemInfo PATCH; 403 on a
 * site the app may not access), a missing library recreated (POST /sites/{id}/lists with the
 * documentLibrary template), and the new library's drive (GET /sites/{id}/lists/{id}/drive).
 */
export function matchSiteWriteRoute(req: SimRequest, tenant: SimTenant, ctx: WriteRouteContext, parts: string[]): RouteMatch | undefined {
  const method = req.method.toUpperCase();
  const plain = (name: string, run: () => SimResponse): RouteMatch => ({ name, deltaWithToken: false, run });
  const sites = scopesOf(tenant).sites;
  if (parts[0] === 'drives' && parts[1]) {
    let site: SimSite | undefined;
    let lib: SimLibrary | undefined;
    for (const s of sites.values()) for (const l of s.libraries) if (l.driveId === parts[1]) [site, lib] = [s, l];
    if (!site || !lib) return undefined; // the read routes answer 404
    const raw = req.url.pathname.replace(/^\/(v1\.0|beta)\/drives\/[^/]+\//, '');
    const route = driveWriteRoute(req, tenant, ctx, lib, ['drive', ...parts.slice(2)], raw, 'library');
    return route && site.denied ? { ...route, run: () => accessDenied() } : route;
  }
  if (parts[0] !== 'sites' || !parts[1] || parts[2] !== 'lists') return undefined;
  const site = sites.get(parts[1]);
  if (!site) return undefined;
  if (parts.length === 3 && method === 'POST')
    return plain('site.createList', () => {
      if (site.denied) return accessDenied();
      if (!LISTS_WRITE.some((r) => ctx.roles(req.headers.authorization).includes(r))) return graphError(403, 'accessDenied', 'Access denied. You do not have permission to perform this action or access this resource.');
      const b = JSON.parse(req.body.toString('utf8') || '{}') as { displayName?: string; list?: { template?: string } };
      if (typeof b.displayName !== 'string' || b.displayName.trim() === '') return graphError(400, 'invalidRequest', 'A list needs a displayName.');
      if (b.list?.template !== 'documentLibrary') return graphError(501, 'notImplemented', 'The simulator creates document libraries only.');
      if (site.libraries.some((l) => l.user.displayName.toLowerCase() === b.displayName!.toLowerCase())) return graphError(409, 'nameAlreadyExists', 'A list with this name already exists.');
      const lib = new SiteEditor(tenant).addLibrary(site, b.displayName);
      return json(201, { id: libraryListId(lib), name: b.displayName, displayName: b.displayName, list: { template: 'documentLibrary', hidden: false } });
    });
  if (parts.length === 5 && parts[4] === 'drive' && method === 'GET') {
    const lib = site.libraries.find((l) => libraryListId(l) === parts[3]);
    if (!lib) return undefined;
    return plain('site.listDrive', () => (site.denied ? accessDenied() : json(200, { id: lib.driveId, name: lib.user.displayName, driveType: 'documentLibrary' })));
  }
  return undefined;
}
