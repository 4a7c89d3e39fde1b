import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { app, type HttpResponseInit } from '@azure/functions';

/**
 * GET /api/console/{*path}: the web console's static files, served by the Function App itself (no
 * CDN, nothing from another origin). The page is public (it holds no data); every call it makes goes
 * to the role-checked JSON API. Browser code is built by `npm run build` (web/tsconfig.json → dist/web);
 * index.html and console.css are served from web/static as written.
 */
const ROOT = resolve(__dirname, '..', '..', '..');

/** The only files served: a fixed table, so no path from the URL ever reaches the file system. */
const ASSETS: Record<string, { file: string; type: string }> = {
  '': { file: join(ROOT, 'web', 'static', 'index.html'), type: 'text/html; charset=utf-8' },
  'index.html': { file: join(ROOT, 'web', 'static', 'index.html'), type: 'text/html; charset=utf-8' },
  'console.css': { file: join(ROOT, 'web', 'static', 'console.css'), type: 'text/css; charset=utf-8' },
  'favicon.svg': { file: join(ROOT, 'web', 'static', 'favicon.svg'), type: 'image/svg+xml' },
};
const SCRIPTS = ['app.js', 'api.js', 'dom.js', 'dashboard.js', 'run.js', 'format.js', 'session.js', 'browse.js', 'restoreForm.js', 'search.js', 'preview.js', 'audit.js', 'storage.js', 'selection.js'];
for (const s of SCRIPTS) ASSETS[s] = { file: join(ROOT, 'dist', 'web', s), type: 'text/javascript; charset=utf-8' };

/**
 * Scripts and styles only from this origin, no inline script or style, no plugins, no framing, forms
 * and calls only to this origin (sign-in is a top-level navigation to /.auth/login/aad); frames only
 * from this origin (a message preview, itself served sandboxed: shared/browse/sanitizeHtml.ts).
 */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const CONSOLE_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
};

const cache = new Map<string, Buffer>();

export async function consoleAsset(path: string): Promise<HttpResponseInit> {
  const asset = Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
  if (!asset) return { status: 404, headers: { ...CONSOLE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Not found.' };
  let bytes = cache.get(asset.file);
  if (!bytes) {
    try {
      bytes = await readFile(asset.file);
    } catch {
      return { status: 500, headers: { ...CONSOLE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }, body: 'The console is not built: run "npm run build".' };
    }
    cache.set(asset.file, bytes);
  }
  return { status: 200, headers: { ...CONSOLE_HEADERS, 'Content-Type': asset.type }, body: bytes };
}

app.http('consoleAsset', {
  route: 'console/{*path}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async (req) => {
    const path = req.params.path ?? '';
    // "/api/console" → "/api/console/": the page's relative links resolve under the folder.
    if (path === '' && !new URL(req.url).pathname.endsWith('/')) return { status: 301, headers: { ...CONSOLE_HEADERS, Location: '/api/console/' } };
    return consoleAsset(path);
  },
});
