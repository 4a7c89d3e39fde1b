import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BackupError, ERROR_CODES, exitCodeOf, httpStatusOf, type ErrorCode } from '../../shared/errors';
import { installFunctionsCore } from '../../shared/local/durable';

const ROOT = join(__dirname, '..', '..', '..');

test('docs/errors.md lists every error code with the HTTP status and exit code of the one table', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
  const rows = new Map<string, { http: number; exit: number }>();
  for (const m of doc.matchAll(/^\| `([A-Z_]+)` \|[^|]+\| (\d{3}) \| (\d) \|/gm)) rows.set(m[1]!, { http: Number(m[2]), exit: Number(m[3]) });
  assert.deepEqual([...rows.keys()].sort(), Object.keys(ERROR_CODES).sort());
  for (const [code, want] of Object.entries(ERROR_CODES)) assert.deepEqual(rows.get(code), want, code);
});

test('the code table drives both edges: HTTP status, Retry-After for THROTTLED, exit codes', () => {
  installFunctionsCore();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fromError } = require('../../functions/http/respond') as typeof import('../../functions/http/respond');
  const expect: [ErrorCode, number][] = [
    ['USAGE', 400], ['WRONG_PASSWORD', 401], ['CONSENT_MISSING', 403], ['NOT_FOUND', 404], ['LOCKED', 409], ['ALREADY_EXISTS', 409],
    ['PRECONDITION_FAILED', 412], ['PAYLOAD_TOO_LARGE', 413], ['THROTTLED', 429], ['STORAGE_UNREACHABLE', 503], ['INTEGRITY', 500],
  ];
  for (const [code, status] of expect) {
    const e = new BackupError(code, `a ${code} error`, code === 'THROTTLED' ? { retryAfterSeconds: 2.2 } : {});
    assert.equal(httpStatusOf(e), status, code);
    const res = fromError(e);
    assert.equal(res.status, status, code);
    assert.deepEqual((res.jsonBody as { error: { code: string } }).error.code, code);
    if (code === 'THROTTLED') {
      assert.deepEqual(res.headers, { 'Retry-After': '3' });
      assert.equal((res.jsonBody as { error: { retryAfterSeconds: number } }).error.retryAfterSeconds, 3);
    }
  }
  assert.equal(exitCodeOf(new BackupError('USAGE', 'x')), 2);
  assert.equal(exitCodeOf(new BackupError('THROTTLED', 'x')), 1);
  assert.equal(exitCodeOf(new Error('a bug')), 1);
  const internal = fromError(new TypeError('x is undefined; AccountKey=abc'));
  assert.equal(internal.status, 500);
  assert.equal((internal.jsonBody as { error: { code: string; message: string } }).error.code, 'INTERNAL');
  assert.doesNotMatch(JSON.stringify(internal.jsonBody), /AccountKey|undefined/);
});

test('one error class: no other Error subclass in the product code, and GraphFailure is gone', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) {
        const text = readFileSync(p, 'utf8');
        if (/class \w+ extends Error\b/.test(text) && !p.endsWith(join('shared', 'errors.ts'))) offenders.push(p);
        if (/GraphFailure/.test(text)) offenders.push(`${p} (GraphFailure)`);
      }
    }
  };
  for (const top of ['shared', 'functions', 'cli']) walk(join(ROOT, top));
  assert.deepEqual(offenders, []);
});
