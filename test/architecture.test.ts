import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The project's structural rules, executable (README "Architecture"; each folder's README says what
 * it owns and must never import). Reads the TypeScript sources, not the build.
 */
const ROOT = resolve(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

interface Import {
  file: string;
  spec: string;
  typeOnly: boolean;
  /** The imported file relative to ROOT, without extension (product code), or the package name. */
  target: string;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: Import[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|require\('([^']+)'\)|import\('([^']+)'\)/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4] ?? m[5] ?? m[6]!;
    const typeOnly = !!m[2];
    const target = spec.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), spec)) : spec.startsWith('node:') ? spec : spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
    out.push({ file, spec, typeOnly, target });
  }
  return out;
}

/** The module a product file belongs to: `shared/<folder>`, a top-level shared file, or a top folder. */
function moduleOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'shared') {
    if (parts.length === 2) return `shared/${parts[1]!.replace(/\.ts$/, '')}`;
    return `shared/${parts[1]}`;
  }
  return parts[0]!;
}

/** Plain helpers every layer may use. */
const LEAF = ['shared/errors', 'shared/concurrency', 'shared/progress', 'shared/redact'];
/** Which product modules each module may import (besides itself). `type:` = type-only imports. */
const ALLOWED: Record<string, string[]> = {
  'shared/errors': ['shared/redact'],
  'shared/concurrency': [],
  'shared/progress': [],
  'shared/redact': [],
  'shared/m365': [...LEAF],
  'shared/config': [...LEAF],
  'shared/storage': [...LEAF],
  'shared/crypto': [...LEAF],
  'shared/repo': [...LEAF, 'shared/storage', 'shared/crypto'],
  'shared/graph': [...LEAF, 'shared/m365', 'shared/config'],
  'shared/tenants': [...LEAF, 'shared/config', 'shared/crypto', 'shared/graph', 'shared/storage', 'shared/repo', 'shared/m365'],
  'shared/backup': [...LEAF, 'shared/repo', 'shared/graph', 'shared/m365', 'shared/crypto', 'shared/config', 'type:shared/storage'],
  'shared/restore': [...LEAF, 'shared/repo', 'shared/graph', 'shared/m365', 'shared/crypto', 'shared/config', 'type:shared/storage'],
  'shared/browse': [...LEAF, 'shared/repo', 'shared/m365', 'shared/crypto', 'shared/restore', 'shared/tenants', 'shared/config', 'shared/app'],
  'shared/retention': [...LEAF, 'shared/repo', 'shared/m365'],
  'shared/notify': [...LEAF, 'shared/repo'],
  'shared/app': [...LEAF, 'shared/config', 'shared/crypto', 'shared/graph', 'shared/repo', 'shared/storage', 'shared/tenants', 'shared/m365'],
  'shared/local': [...LEAF],
  functions: ['shared/*', '!shared/local', '!shared/storage'],
  cli: ['shared/*', 'simulator', 'functions'],
  simulator: [...LEAF, 'shared/local', 'shared/graph/quickXorHash', 'shared/restore/m365/naming'],
  bench: ['shared/*', 'simulator', 'cli'],
  /** The web console's browser code: talks to the server only over the HTTP API, imports nothing of the product. */
  web: [],
};

function allowed(from: string, imp: Import): boolean {
  const to = moduleOf(imp.target);
  if (to === from) return true;
  const rules = ALLOWED[from];
  if (!rules) return false;
  if (rules.includes(`!${to}`)) return false;
  return rules.some((r) => r === to || r === imp.target || (r === 'shared/*' && to.startsWith('shared/')) || (imp.typeOnly && r === `type:${to}`));
}

/** Third-party SDKs and where they may be imported (the edges of the system). */
const SDK_EDGES: Record<string, (file: string) => boolean> = {
  '@azure/storage-blob': (f) => f.startsWith('shared/storage/'),
  '@azure/data-tables': (f) => f.startsWith('shared/storage/'),
  '@azure/keyvault-keys': (f) => f === 'shared/crypto/keyVaultProvider.ts',
  '@microsoft/microsoft-graph-client': (f) => f.startsWith('shared/graph/'),
  '@azure/identity': (f) => ['shared/graph/', 'shared/storage/', 'shared/app/'].some((p) => f.startsWith(p)) || f === 'shared/crypto/keyVaultProvider.ts',
  'durable-functions': (f) => f.startsWith('functions/') || f.startsWith('shared/local/durable/'),
  '@azure/functions': (f) => f.startsWith('functions/') || f.startsWith('shared/local/durable/'),
};

const PRODUCT = ['shared', 'functions', 'cli', 'simulator', 'bench', 'web'].flatMap(sources);


describe('architecture rules', () => {
  test('imports point one way (the dependency table in README "Architecture")', () => {
    const bad: string[] = [];
    for (const file of PRODUCT)
      for (const imp of importsOf(file)) {
        if (!imp.spec.startsWith('.')) continue;
        if (!allowed(moduleOf(file), imp)) bad.push(`${file} imports ${imp.spec} (${moduleOf(imp.target)})`);
      }
    assert.deepEqual(bad, []);
  });

  test('nothing in shared/ imports functions/, cli/, simulator/, bench/ or test/; restore/ never imports backup/', () => {
    const bad = PRODUCT.filter((f) => f.startsWith('shared/')).flatMap((f) =>
      importsOf(f)
        .filter((i) => /^(functions|cli|simulator|bench|test)(\/|$)/.test(i.target) || (f.startsWith('shared/restore/') && i.target.startsWith('shared/backup')))
        .map((i) => `${f} imports ${i.spec}`),
    );
    assert.deepEqual(bad, []);
  });

  test('the Azure, Graph and Durable SDKs are imported only at their edges', () => {
    const bad: string[] = [];
    for (const file of PRODUCT)
      for (const imp of importsOf(file)) {
        const edge = SDK_EDGES[imp.target];
        if (edge && !edge(file)) bad.push(`${file} imports ${imp.spec}`);
      }
    assert.deepEqual(bad, []);
  });

  test('orchestrators do no I/O: their files import only durable-functions, the contracts and the pure domain module', () => {
    const orchestratorFiles = PRODUCT.filter((f) => /\.orchestration\(/.test(readFileSync(join(ROOT, f), 'utf8')) && f.startsWith('functions/'));
    assert.ok(orchestratorFiles.length >= 2, `orchestrator files: ${orchestratorFiles.join(', ')}`);
    const bad: string[] = [];
    for (const f of orchestratorFiles)
      for (const imp of importsOf(f)) {
        const ok = imp.spec === 'durable-functions' || imp.target === 'functions/contracts' || imp.target.startsWith('shared/m365') || imp.typeOnly;
        if (!ok) bad.push(`${f} imports ${imp.spec}`);
      }
    assert.deepEqual(bad, []);
  });

  test("the repository is sealed: only shared/repo/ touches a repository's blobs, tables, stores or keys", () => {
    const bad: string[] = [];
    for (const file of PRODUCT) {
      if (file.startsWith('shared/repo/') || file.startsWith('shared/storage/')) continue;
      const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (/\b[rR]epo\??\.(blobs|tables|stores|keys)\b/.test(line)) bad.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(bad, []);
  });

  test('every folder of the product says in a README what it owns and must never import', () => {
    const folders = ['functions', 'cli', 'simulator', 'test', 'infra', 'bench', 'docs', 'web', ...readdirSync(join(ROOT, 'shared')).filter((n) => statSync(join(ROOT, 'shared', n)).isDirectory()).map((n) => `shared/${n}`)];
    const missing = folders.filter((f) => !existsSync(join(ROOT, f, 'README.md')));
    assert.deepEqual(missing, []);
  });
});
