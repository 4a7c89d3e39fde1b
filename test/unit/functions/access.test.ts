import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpRequest } from '@azure/functions';
import { authorize, checkCsrf, checkOwnUser, principalOf } from '../../../functions/http/access';
import { isBackupError } from '../../../shared/errors';

const req = (headers: Record<string, string>, method = 'GET') => ({ method, headers: new Headers(headers) }) as unknown as HttpRequest;
const principal = (p: unknown) => Buffer.from(JSON.stringify(p)).toString('base64');
const codeOf = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isBackupError(e) ? e.code : String(e);
  }
};

test("the platform's principal, as App Service Authentication writes it (role claims by role_typ, name by name_typ)", () => {
  const azure = principal({
    auth_typ: 'aad',
    name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
    role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
    claims: [
      { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', val: 'Ada Admin' },
      { typ: 'preferred_username', val: 'Ada@Contoso.example' },
      { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'Backup.Operator' },
      { typ: 'roles', val: 'Something.Else' },
    ],
  });
  assert.deepEqual(principalOf(req({ 'x-ms-client-principal': azure })), { name: 'Ada Admin', upn: 'ada@contoso.example', roles: ['Backup.Operator'], via: 'aad' });
  assert.equal(principalOf(req({})), undefined);
  assert.equal(codeOf(() => principalOf(req({ 'x-ms-client-principal': '%%%not base64 json' }))), 'UNAUTHENTICATED');
});

test('roles: Admin holds every role; a missing role is FORBIDDEN; no principal is the key holder only with API_AUTH=keys', () => {
  const as = (roles: string[]) => req({ 'x-ms-client-principal': principal({ claims: [{ typ: 'preferred_username', val: 'u@c.example' }, ...roles.map((r) => ({ typ: 'roles', val: r }))] }) });
  assert.equal(codeOf(() => authorize(as(['Backup.Admin']), ['Backup.Operator'])), 'ok');
  assert.equal(codeOf(() => authorize(as(['Backup.Operator']), ['Backup.Admin'])), 'FORBIDDEN');
  assert.equal(codeOf(() => authorize(as([]), ['Backup.Operator'])), 'FORBIDDEN');
  assert.equal(codeOf(() => authorize(as([]), 'signed-in')), 'ok');
  const saved = process.env.API_AUTH;
  try {
    delete process.env.API_AUTH;
    assert.deepEqual(authorize(req({}), ['Backup.Admin']).via, 'key');
    process.env.API_AUTH = 'entra';
    assert.equal(codeOf(() => authorize(req({}), 'signed-in')), 'UNAUTHENTICATED');
    process.env.API_AUTH = 'bogus';
    assert.equal(codeOf(() => authorize(req({}), 'signed-in')), 'USAGE');
  } finally {
    if (saved === undefined) delete process.env.API_AUTH;
    else process.env.API_AUTH = saved;
  }
  const self = authorize(as(['Backup.SelfService']), ['Backup.SelfService']);
  assert.equal(codeOf(() => checkOwnUser(self, 'U@c.example')), 'ok');
  assert.equal(codeOf(() => checkOwnUser(self, 'other@c.example')), 'FORBIDDEN');
  assert.equal(codeOf(() => checkOwnUser(self, undefined)), 'FORBIDDEN');
});

test('CSRF: a cookie-carrying POST needs the matching X-CSRF-Token; GETs and cookie-less calls pass', () => {
  const token = 'a'.repeat(32);
  assert.equal(codeOf(() => checkCsrf(req({ cookie: `m365b-csrf=${token}` }, 'GET'))), 'ok');
  assert.equal(codeOf(() => checkCsrf(req({}, 'POST'))), 'ok');
  assert.equal(codeOf(() => checkCsrf(req({ cookie: `x=1; m365b-csrf=${token}`, 'x-csrf-token': token }, 'POST'))), 'ok');
  assert.equal(codeOf(() => checkCsrf(req({ cookie: `m365b-csrf=${token}` }, 'POST'))), 'FORBIDDEN');
  assert.equal(codeOf(() => checkCsrf(req({ cookie: `m365b-csrf=${token}`, 'x-csrf-token': 'b'.repeat(32) }, 'POST'))), 'FORBIDDEN');
  assert.equal(codeOf(() => checkCsrf(req({ cookie: 'AppServiceAuthSession=s', 'x-csrf-token': '' }, 'POST'))), 'FORBIDDEN');
});
