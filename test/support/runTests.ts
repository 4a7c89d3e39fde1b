import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `npm test`: every `*.test.js` under dist/test (suites first, then unit tests mirroring the module
 * tree), run one file at a time by node's test runner. Extra arguments filter by path substring.
 */
const root = resolve(__dirname, '..');
function find(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'support' ? [] : find(p);
    return n.endsWith('.test.js') ? [p] : [];
  });
}
const filters = process.argv.slice(2);
const all = find(root).sort((a, b) => Number(a.includes('/unit/')) - Number(b.includes('/unit/')) || a.localeCompare(b));
const files = filters.length ? all.filter((f) => filters.some((x) => f.includes(x))) : all;
if (files.length === 0) {
  console.error(`no test file matches ${filters.join(', ')}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
