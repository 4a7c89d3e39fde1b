import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isScopeService, scopeEntryId, scopeOf, servicePartition } from '../../../shared/m365';

test('a site, group or team is a scope entry with its own partition; a user keeps the one it had', () => {
  const site = 'contoso.sharepoint.com,2c1a5e3f-0000-4000-a000-000000000001,7d2b6f40-0000-4000-a000-000000000002';
  assert.equal(scopeEntryId('site', site), `site:${site}`);
  assert.deepEqual(scopeOf(`site:${site}`), { kind: 'site', id: site });
  assert.equal(servicePartition('contoso', `site:${site}`, 'sharepoint'), `m365/contoso/sites/${site}/sharepoint`);
  assert.equal(servicePartition('contoso', 'team:abc', 'teams'), 'm365/contoso/teams/abc/teams');
  assert.equal(servicePartition('contoso', 'group:abc', 'groups'), 'm365/contoso/groups/abc/groups');
  assert.equal(scopeOf('8f0c3c52-1111-4222-8333-944455556666'), undefined);
  assert.equal(servicePartition('contoso', 'u1', 'mail'), 'm365/contoso/u1/mail');
  assert.ok(!scopeEntryId('team', 'x').includes('/'), 'no "/" in an entry id: it is part of Table keys');
  assert.deepEqual((['onedrive', 'mail', 'sharepoint', 'groups', 'teams'] as const).map(isScopeService), [false, false, true, true, true]);
});
