import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameSpace, nameKey, safeName } from '../../../shared/restore/m365/naming';
import { layoutTree, type TreeEntry } from '../../../shared/restore/m365/treeLayout';

test('safeName: never ".", "..", empty, a device name or a trailing dot; at most 120 bytes with the extension kept', () => {
  assert.equal(safeName('.'), '_');
  assert.equal(safeName('..'), '_');
  assert.equal(safeName(''), '_');
  assert.equal(safeName('a:b?.txt'), 'a_b_.txt');
  assert.equal(safeName('CON'), '_CON');
  assert.equal(safeName('nul.txt'), '_nul.txt');
  assert.equal(safeName('notes. '), 'notes');
  const long = safeName(`${'é'.repeat(300)}.docx`);
  assert.ok(Buffer.byteLength(long) <= 120);
  assert.ok(long.endsWith('.docx'));
  assert.ok(!long.includes('\uFFFD'), 'no character is split');
});

test('NameSpace: colliding names get distinct, deterministic names, case-insensitively', () => {
  const claim = () => {
    const s = new NameSpace(['_items.json']);
    return [s.claim('Report.txt', 'a'), s.claim('report.txt', 'b'), s.claim('REPORT.TXT', 'c'), s.claim('_ITEMS.json', 'd'), s.claim('.', 'e'), s.claim('..', 'f')];
  };
  const names = claim();
  assert.equal(new Set(names.map(nameKey)).size, names.length, names.join(' | '));
  assert.equal(names[0], 'Report.txt');
  assert.match(names[1]!, /^report \[[0-9a-f]{8}\]\.txt$/);
  assert.ok(!names.map(nameKey).includes('_items.json'), 'a reserved name is never given out');
  assert.deepEqual(claim(), names, 'the same claims give the same names');
});

test('layoutTree: unique paths per folder, exact names first, orphans and folder loops under _orphaned', () => {
  const e = (id: string, parentId: string | null, name: string, folder = false): TreeEntry => ({ id, parentId, name, folder });
  const entries = [
    e('f1', null, 'Docs', true),
    e('f2', null, 'docs', true),
    e('x1', 'f1', 'a:b'),
    e('x2', 'f1', 'a_b'),
    e('x3', 'f2', 'a_b'),
    e('o1', 'missing', 'lost.txt'),
    e('l1', 'l2', 'loopA', true),
    e('l2', 'l1', 'loopB', true),
    e('x4', 'l1', 'inloop.txt'),
    e('r1', null, '_orphaned'),
  ];
  const paths = layoutTree(entries, ['_items.json']);
  const all = [...paths.values()];
  assert.equal(paths.size, entries.length, 'every entry is placed');
  assert.equal(new Set(all.map(nameKey)).size, all.length, all.join('\n'));
  assert.equal(paths.get(entries[0]!), 'Docs/');
  assert.equal(paths.get(entries[3]!), 'Docs/a_b', 'the name that needs no sanitising keeps it');
  assert.match(paths.get(entries[2]!)!, /^Docs\/a_b \[[0-9a-f]{8}\]$/);
  assert.match(paths.get(entries[4]!)!, /^docs \[[0-9a-f]{8}\]\/a_b$/);
  assert.equal(paths.get(entries[9]!), '_orphaned', 'a real "_orphaned" keeps its name');
  const orphanDir = paths.get(entries[5]!)!.split('/')[0]!;
  assert.notEqual(orphanDir, '_orphaned');
  for (const i of [5, 6, 7, 8]) assert.ok(paths.get(entries[i]!)!.startsWith(`${orphanDir}/`), paths.get(entries[i]!));
  assert.deepEqual([...layoutTree(entries, ['_items.json']).values()], all, 'deterministic');
});
