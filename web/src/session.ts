import { api } from './api.js';

/**
 * The browse session the console is using: its id only, in this page's memory (never in storage,
 * never in the address bar; the password is sent once, in the unlock request's body, and dropped).
 * A reload forgets it; the session list (GET /api/browse/sessions) lets the user pick it up again.
 */
export interface BrowseSession {
  id: string;
  tenant: string;
  expires: string;
  forMe?: boolean;
}

let current: BrowseSession | undefined;

export const session = () => current;
export function useSession(s: BrowseSession | undefined): void {
  current = s;
}

export const sessionPath = (rest: string) => `/api/browse/sessions/${current!.id}/${rest}`;

export async function closeSession(): Promise<void> {
  if (!current) return;
  const id = current.id;
  current = undefined;
  await api(`/api/browse/sessions/${id}`, { method: 'DELETE' });
}

export const query = (p: Record<string, string | undefined>) => new URLSearchParams(Object.entries(p).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')).toString();

/** Hash routes of the browse views: #/browse/<user>/<service>/<snapshot>[/<folder>]. */
export const browseHref = (user: string, service: string, snapshot: string | number, folder?: string) =>
  `#/browse/${[user, service, String(snapshot), ...(folder ? [folder] : [])].map(encodeURIComponent).join('/')}`;
export const previewHref = (user: string, service: string, snapshot: string | number, item: string) => `#/preview/${[user, service, String(snapshot), item].map(encodeURIComponent).join('/')}`;
