import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { TestStorage } from '../support/azurite';
import { inferredNumberType, type TypedRow, type TypedValue } from './spec';

/**
 * The frozen repository's language-neutral dump (test/fixtures/frozen-repo/README.md):
 *   tables/<table>.json  [{PartitionKey, RowKey, properties: {name: {type: "Edm.…", value}}}], sorted
 *   blobs/<container>/<blob name>  the blob's bytes
 * Numbers carry the type the Table service gives an unannotated JSON number (what
 * @azure/data-tables sends for a JS number): Edm.Int32 when it fits, Edm.Double otherwise.
 */

function typed(name: string, v: unknown): TypedValue {
  if (v instanceof Uint8Array) return { type: 'Edm.Binary', value: Buffer.from(v).toString('base64') };
  if (typeof v === 'string') return { type: 'Edm.String', value: v };
  if (typeof v === 'boolean') return { type: 'Edm.Boolean', value: v };
  if (typeof v === 'number') return { type: inferredNumberType(v), value: v };
  if (typeof v === 'bigint') return { type: 'Edm.Int64', value: v.toString() };
  throw new TypeError(`property ${name} has an unexpected type ${typeof v}`);
}

function untyped(p: TypedValue): unknown {
  switch (p.type) {
    case 'Edm.Binary':
      return Buffer.from(p.value, 'base64');
    case 'Edm.Int64':
      return BigInt(p.value);
    default:
      return p.value;
  }
}

export async function dumpRepository(storage: TestStorage, containers: string[], tables: string[], dir: string, skipBlob: (container: string, name: string) => boolean): Promise<void> {
  for (const c of containers)
    for await (const b of storage.blobs.list(c)) {
      if (skipBlob(c, b.name)) continue;
      const path = join(dir, 'blobs', c, ...b.name.split('/'));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, await storage.blobs.getBlob(c, b.name));
    }
  mkdirSync(join(dir, 'tables'), { recursive: true });
  for (const t of tables) {
    const rows: TypedRow[] = [];
    for await (const row of storage.tables.query(t)) {
      const properties: Record<string, TypedValue> = {};
      for (const k of Object.keys(row).sort()) if (!['partitionKey', 'rowKey', 'etag'].includes(k)) properties[k] = typed(k, row[k]);
      rows.push({ PartitionKey: row.partitionKey, RowKey: row.rowKey, properties });
    }
    rows.sort((a, b) => (a.PartitionKey + '\0' + a.RowKey < b.PartitionKey + '\0' + b.RowKey ? -1 : 1));
    writeFileSync(join(dir, 'tables', `${t}.json`), JSON.stringify(rows, null, 1) + '\n');
  }
}

function* files(root: string): Generator<string> {
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

/** Loads a dump into empty storage through the product's own storage classes. */
export async function loadRepository(storage: TestStorage, dir: string): Promise<{ blobs: number; rows: number }> {
  let blobs = 0;
  let rows = 0;
  const blobRoot = join(dir, 'blobs');
  for (const container of readdirSync(blobRoot)) {
    await storage.blobs.ensureContainer(container);
    for (const f of files(join(blobRoot, container))) {
      if (!statSync(f).isFile()) continue;
      await storage.blobs.putBlob(container, relative(join(blobRoot, container), f).split(sep).join('/'), readFileSync(f));
      blobs++;
    }
  }
  for (const f of readdirSync(join(dir, 'tables'))) {
    const table = f.replace(/\.json$/, '');
    await storage.tables.ensureTable(table);
    const list = JSON.parse(readFileSync(join(dir, 'tables', f), 'utf8')) as TypedRow[];
    const ops = list.map((r) => ({
      kind: 'upsert' as const,
      row: { partitionKey: r.PartitionKey, rowKey: r.RowKey, ...Object.fromEntries(Object.entries(r.properties).map(([k, p]) => [k, untyped(p)])) },
    }));
    await storage.tables.batch(table, ops, { concurrency: 1 });
    rows += ops.length;
  }
  return { blobs, rows };
}
