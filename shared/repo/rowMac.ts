import { timingSafeEqual } from 'node:crypto';
import { hmac } from '../crypto';
import type { Row } from '../storage';

/**
 * Every index row carries `mac`: HMAC-SHA-256 (row-MAC key) over its table, keys and properties,
 * so a flipped byte in any field is detected by `verify` without the password.
 * The one mutable field, an item version's end `t`, has its own MAC `tm` bound to `mac`, so ending
 * a version is a small merge of (t, tm) that never rewrites (or needs to read) the payload.
 */
const SKIP = new Set(['partitionKey', 'rowKey', 'mac', 'etag', 't', 'tm']);

export function rowMac(macKey: Uint8Array, table: string, row: Row): Buffer {
  const parts: (string | Uint8Array)[] = [table, '\0', row.partitionKey, '\0', row.rowKey, '\0'];
  for (const k of Object.keys(row).sort()) {
    if (SKIP.has(k)) continue;
    const v = row[k];
    if (v === undefined) continue;
    parts.push(k, '=');
    if (v instanceof Uint8Array) parts.push('b', v);
    else parts.push(typeof v === 'number' ? 'n' : typeof v === 'boolean' ? 'o' : 's', String(v));
    parts.push('\0');
  }
  return hmac(macKey, ...parts);
}

export function endMac(macKey: Uint8Array, table: string, partitionKey: string, rowKey: string, t: number, mac: Uint8Array): Buffer {
  return hmac(macKey, 'end\0', table, '\0', partitionKey, '\0', rowKey, '\0', String(t), '\0', mac);
}

export function withMac<T extends Row>(macKey: Uint8Array, table: string, row: T): T & { mac: Uint8Array } {
  const { mac: _old, etag: _etag, tm: _tm, ...rest } = row as T & { mac?: unknown; etag?: unknown; tm?: unknown };
  const clean = rest as unknown as T;
  const mac = rowMac(macKey, table, clean);
  const out: Row = { ...clean, mac };
  if (typeof clean.t === 'number') out.tm = endMac(macKey, table, clean.partitionKey, clean.rowKey, clean.t, mac);
  return out as T & { mac: Uint8Array };
}

export function macValid(macKey: Uint8Array, table: string, row: Row): boolean {
  const mac = row.mac;
  if (!(mac instanceof Uint8Array) || mac.length !== 32) return false;
  if (!timingSafeEqual(Buffer.from(mac), rowMac(macKey, table, row))) return false;
  if (row.t === undefined) return row.tm === undefined;
  const tm = row.tm;
  if (!(tm instanceof Uint8Array) || tm.length !== 32 || typeof row.t !== 'number') return false;
  return timingSafeEqual(Buffer.from(tm), endMac(macKey, table, row.partitionKey, row.rowKey, row.t, mac));
}
