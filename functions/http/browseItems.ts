import { BackupError } from '../../shared/errors';
import { isService, SERVICES, type Service } from '../../shared/m365';
import { itemContent, listItems, PREVIEW_CSP, previewItem, searchItems, type SearchQuery } from '../../shared/browse';
import { allowedUser, sessionFor } from './browseAccess';
import { checkQuery, jsonEndpoint } from './respond';

/**
 * Browsing inside a browse session (docs/openapi.yaml): a user's service at a point in time (its
 * folder tree and a folder's items), search, and preview. Every call names the session in its path;
 * a self-service caller is held to their own user (browseAccess.ts).
 */
const access = ['Backup.SelfService'] as const;

function serviceQuery(v: string | null): Service {
  if (v === null) throw new BackupError('USAGE', 'The "service" query parameter is required (onedrive, mail, calendar or contacts).');
  if (!isService(v)) throw new BackupError('USAGE', `"${v.slice(0, 20)}" is not a service: onedrive, mail, calendar or contacts.`);
  return v;
}

function snapshotQuery(v: string | null): string {
  if (v === null) return 'latest';
  if (v !== 'latest' && !/^[1-9][0-9]{0,8}$/.test(v) && Number.isNaN(Date.parse(v))) throw new BackupError('USAGE', '"snapshot" must be "latest", a snapshot number or a date-time.');
  return v;
}

function itemQuery(v: string | null): string {
  if (!v || v.length > 400) throw new BackupError('USAGE', 'The "item" query parameter (an item id from a listing) is required.');
  return v;
}

/** GET /api/browse/sessions/{id}/items?user=&service=&snapshot=&folder= */
jsonEndpoint('browseItems', { route: 'browse/sessions/{id}/items', methods: ['GET'], access }, async (req, _context, caller) => {
  checkQuery(req, ['user', 'service', 'snapshot', 'folder']);
  const s = await sessionFor(caller, req.params.id ?? '');
  const user = allowedUser(s, req.query.get('user'), { required: true })!;
  const folder = req.query.get('folder');
  const listing = await listItems(s.scope, { user, service: serviceQuery(req.query.get('service')), snapshot: snapshotQuery(req.query.get('snapshot')), ...(folder ? { folder } : {}) });
  return { status: 200, jsonBody: listing };
});

function dateQuery(v: string | null, name: string, endOfDay: boolean): Date | undefined {
  if (v === null || v === '') return undefined;
  const bare = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const d = new Date(bare ? `${v}T${endOfDay ? '23:59:59.999' : '00:00:00.000'}Z` : v);
  if (Number.isNaN(d.getTime())) throw new BackupError('USAGE', `"${name}" must be a date (2026-11-30) or a date-time.`);
  return d;
}

/** GET /api/browse/sessions/{id}/search?text=&sender=&participants=&from=&to=&hasAttachments=&user=&service=&history= */
jsonEndpoint('browseSearch', { route: 'browse/sessions/{id}/search', methods: ['GET'], access }, async (req, _context, caller) => {
  checkQuery(req, ['text', 'sender', 'participants', 'from', 'to', 'hasAttachments', 'user', 'service', 'history']);
  const s = await sessionFor(caller, req.params.id ?? '');
  const user = allowedUser(s, req.query.get('user'), { required: false });
  const flag = (name: string) => {
    const v = req.query.get(name);
    if (v === null || v === '') return undefined;
    if (v !== 'true' && v !== 'false') throw new BackupError('USAGE', `"${name}" must be true or false.`);
    return v === 'true';
  };
  const text = (name: string) => {
    const v = req.query.get(name)?.trim();
    if (v && v.length > 200) throw new BackupError('USAGE', `"${name}" is longer than 200 characters.`);
    return v || undefined;
  };
  const query: SearchQuery = {};
  const words = text('text');
  const sender = text('sender');
  const from = dateQuery(req.query.get('from'), 'from', false);
  const to = dateQuery(req.query.get('to'), 'to', true);
  const hasAttachments = flag('hasAttachments');
  if (words) query.text = words;
  if (sender) query.sender = sender;
  if (flag('participants')) query.participants = true;
  if (from) query.from = from;
  if (to) query.to = to;
  if (hasAttachments !== undefined) query.hasAttachments = hasAttachments;
  const service = req.query.get('service');
  const services = service ? [serviceQuery(service)] : [...SERVICES];
  const result = await searchItems(s.scope, { ...(user ? { user } : {}), services, history: flag('history') ?? true, query });
  return { status: 200, jsonBody: result };
});

function itemParams(req: Parameters<Parameters<typeof jsonEndpoint>[2]>[0], s: Awaited<ReturnType<typeof sessionFor>>) {
  checkQuery(req, ['user', 'service', 'snapshot', 'item']);
  return { user: allowedUser(s, req.query.get('user'), { required: true })!, service: serviceQuery(req.query.get('service')), snapshot: snapshotQuery(req.query.get('snapshot')), item: itemQuery(req.query.get('item')) };
}

/** GET /api/browse/sessions/{id}/preview?user=&service=&snapshot=&item=: fields, text, what can be framed. */
jsonEndpoint('browsePreview', { route: 'browse/sessions/{id}/preview', methods: ['GET'], access }, async (req, _context, caller) => {
  const s = await sessionFor(caller, req.params.id ?? '');
  return { status: 200, jsonBody: await previewItem(s.scope, itemParams(req, s)) };
});

/**
 * GET /api/browse/sessions/{id}/content?…: a message as a sanitised HTML document, served sandboxed
 * (CSP `sandbox`, nothing fetched, no script) for the console's sandboxed iframe; an image as itself.
 */
jsonEndpoint('browseContent', { route: 'browse/sessions/{id}/content', methods: ['GET'], access }, async (req, _context, caller) => {
  const s = await sessionFor(caller, req.params.id ?? '');
  const c = await itemContent(s.scope, itemParams(req, s));
  return { status: 200, headers: { 'Content-Type': c.contentType, 'Content-Security-Policy': PREVIEW_CSP, 'Content-Disposition': 'inline', 'Cross-Origin-Resource-Policy': 'same-origin' }, body: c.body };
});
