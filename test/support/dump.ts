import type { BlobStore, TableStore } from '../../shared/storage';

/** Every byte the storage account holds for us: all blobs of all containers, all rows of all tables. */
export async function dumpStorage(blobs: BlobStore, tables: TableStore, containers: string[]): Promise<{ blobs: Map<string, Buffer>; rows: Buffer }> {
  const out = new Map<string, Buffer>();
  for (const c of containers) for await (const b of blobs.list(c)) out.set(`${c}/${b.name}`, await blobs.getBlob(c, b.name));
  const rowParts: Buffer[] = [];
  for (const t of await tables.listTables())
    for await (const row of tables.query(t)) {
      for (const [k, v] of Object.entries(row)) {
        rowParts.push(Buffer.from(k));
        rowParts.push(v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v)));
      }
    }
  return { blobs: out, rows: Buffer.concat(rowParts) };
}
