import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepSelectedItems, parseItemIds } from '../../shared/restore/selectedItems';
import type { M365WritePlan, PlannedWriteItem } from '../../shared/restore/m365/write/writePlan';
import { isBackupError } from '../../shared/errors';

/** A selection cut out of a restore plan (the console's checkboxes -> `items`): pure, no storage. */
const chunk = (n: number) => Buffer.alloc(32, n);
const item = (n: number, meta: Record<string, unknown>): PlannedWriteItem => ({ sourceId: String(meta.id), meta, chunks: chunk(n).toString('base64'), size: 10 });

function plan(): M365WritePlan {
  const mail = [
    item(1, { id: 'fI', folderId: 'fI', type: 'folder', displayName: 'Inbox', parentId: null }),
    item(2, { id: 'fA', folderId: 'fA', type: 'folder', displayName: 'Archive', parentId: null }),
    item(3, { id: 'fP', folderId: 'fP', type: 'folder', displayName: 'Projects', parentId: 'fI' }),
    item(4, { id: 'm1', type: 'message', folderId: 'fI', subject: 'one' }),
    item(5, { id: 'm2', type: 'message', folderId: 'fP', subject: 'two' }),
    item(6, { id: 'm3', type: 'message', folderId: 'fA', subject: 'three' }),
  ];
  const drive = [
    item(7, { id: 'd1', type: 'folder', name: 'Documents', parentId: null }),
    item(8, { id: 'f1', type: 'file', name: 'a.txt', parentId: 'd1' }),
    item(9, { id: 'f2', type: 'file', name: 'b.txt', parentId: null }),
  ];
  const part = (service: 'mail' | 'onedrive', items: PlannedWriteItem[]) => ({ sourceUserId: 'u', sourceUpn: 'u@x', targetUserId: 'u', targetUpn: 'u@x', service, snapshot: 1, time: '2026-12-01T00:00:00Z', items });
  const locations: M365WritePlan['locations'] = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => [chunk(n).toString('hex'), `pack${n % 3}`, 0, 10, 10]);
  return { tenant: 't', parts: [part('mail', mail), part('onedrive', drive)], failures: [], packs: ['pack0', 'pack1', 'pack2'], locations };
}

const ids = (p: M365WritePlan) => p.parts.map((x) => [x.service, x.items.map((i) => i.sourceId)]);

test('selected items keep the folders above them, in the plan order; other items and their chunks go', () => {
  const { plan: cut, missing } = keepSelectedItems(plan(), ['m2', 'f2']);
  assert.deepEqual(missing, []);
  assert.deepEqual(ids(cut), [['mail', ['fI', 'fP', 'm2']], ['onedrive', ['f2']]]);
  assert.deepEqual(cut.locations.map((l) => l[0]), [1, 3, 5, 9].map((n) => chunk(n).toString('hex')));
  assert.deepEqual(cut.packs, ['pack0', 'pack1', 'pack2'].filter((p) => [1, 3, 5, 9].some((n) => `pack${n % 3}` === p)));
});

test('a selected folder (by its folder id, as the listing names it) brings everything under it; a part with nothing selected is left out', () => {
  assert.deepEqual(ids(keepSelectedItems(plan(), ['fI']).plan), [['mail', ['fI', 'fP', 'm1', 'm2']]]);
  assert.deepEqual(ids(keepSelectedItems(plan(), ['d1']).plan), [['onedrive', ['d1', 'f1']]]);
});

test('ids found nowhere are named', () => {
  const { plan: cut, missing } = keepSelectedItems(plan(), ['m3', 'nope']);
  assert.deepEqual(missing, ['nope']);
  assert.deepEqual(ids(cut), [['mail', ['fA', 'm3']]]);
});

test('"items": 1..1000 distinct non-empty ids; anything else is USAGE', () => {
  assert.equal(parseItemIds(undefined), undefined);
  assert.deepEqual(parseItemIds(['a', 'b', 'a']), ['a', 'b']);
  for (const bad of [[], 'a', [1], [''], ['x'.repeat(401)], Array.from({ length: 1001 }, (_, i) => `i${i}`), {}]) assert.throws(() => parseItemIds(bad), (e: unknown) => isBackupError(e, 'USAGE'), JSON.stringify(bad).slice(0, 40));
});
