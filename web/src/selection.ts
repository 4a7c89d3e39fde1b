/**
 * What the user ticked while browsing, for one restore: items and folders of one user, across that
 * user's services, each with the snapshot it was seen in. Page memory only (never storage): a
 * reload, another user or "Clear" empties it. The restore sends the ids (POST … "items").
 */
export interface Selected {
  service: string;
  id: string;
  name: string;
  kind: 'item' | 'folder';
  snapshot: number;
  time: string;
}

let owner: string | undefined;
const picked = new Map<string, Selected>();
const keyOf = (s: Pick<Selected, 'service' | 'id'>) => `${s.service}\u0000${s.id}`;

/** Whose items are selected (undefined: nothing is). */
export const selectionOwner = () => (picked.size > 0 ? owner : undefined);

/** The selection, if it is this user's. */
export const selectedOf = (user: string): Selected[] => (owner === user ? [...picked.values()] : []);
export const isSelected = (user: string, s: Pick<Selected, 'service' | 'id'>) => owner === user && picked.has(keyOf(s));

/** Ticks or unticks one item or folder; a tick for another user starts a new selection. */
export function setSelected(user: string, s: Selected, on: boolean): void {
  if (on && owner !== user) {
    picked.clear();
    owner = user;
  }
  if (owner !== user) return;
  if (on) picked.set(keyOf(s), s);
  else picked.delete(keyOf(s));
}

export function clearSelection(): void {
  picked.clear();
  owner = undefined;
}

/**
 * The point in time a restore of the selection asks for: the newest snapshot time among the
 * selected (one "at" per restore; an item gone by then is refused by the server before anything starts).
 */
export const selectionTime = (items: Selected[]) => items.map((s) => s.time).sort().at(-1);
