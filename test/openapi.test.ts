import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installFunctionsCore, registry } from '../shared/local/durable';

test('docs/openapi.yaml describes exactly the HTTP functions the app registers (paths and methods)', () => {
  installFunctionsCore();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../functions');
  const registered = new Set<string>();
  for (const fn of registry.values()) {
    const trigger = Object.values(fn.bindings).find((b) => b.type === 'httpTrigger');
    if (!trigger) continue;
    // The console's static files are public (they hold no data); every JSON endpoint takes a key (API_AUTH=keys).
    assert.equal(trigger.authLevel, fn.name === 'consoleAsset' ? 'anonymous' : 'function', `${fn.name} requires a function key`);
    for (const m of (trigger.methods as string[]) ?? []) registered.add(`${m.toLowerCase()} /api/${String(trigger.route).replace('{*', '{')}`);
  }
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'openapi.yaml'), 'utf8');
  const documented = new Set<string>();
  let path = '';
  for (const line of doc.split('\n')) {
    const p = /^ {2}(\/api\/\S+):$/.exec(line);
    if (p) path = p[1]!;
    const m = /^ {4}(get|post|put|delete|patch):$/.exec(line);
    if (m && path) documented.add(`${m[1]} ${path}`);
  }
  assert.deepEqual([...documented].sort(), [...registered].sort());
  assert.ok(registered.size >= 6);
});
