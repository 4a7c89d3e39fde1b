import { timingSafeEqual } from 'node:crypto';
import { hmac } from '../crypto';
import type { Row } from '../storage';

/**
 * Every index row carries `mac`: HMAC-SHA-256 (row-MAC key) over its table, keys and properties,
 * so a flipped byte in any field is detected by `verify` without the password.
 */
export function rowMac(macKey: Uint8Array, table: string, row: Row): Buffer {
  const parts: (string | Uint8Array)[] = [table, '\0', row.partitionKey, '\0', row.rowKey, '\0'];
  for (const k of Object.keys(row).sort()) {
    if (k === 'partitionKey' || k === 'rowKey' || k === 'mac' || k === 'etag') continue;
    const v = row[k];
    if (v === undefined) continue;
    parts.push(k, '=');
    if (v instanceof Uint8Array) parts.push('b', v);
    else parts.push(typeof v === 'number' ? 'n' : typeof v === 'boolean' ? 'o' : 's', String(v));
    parts.push('\0');
  }
  return hmac(macKey, ...parts);
}

export function withMac<T extends Row>(macKey: Uint8Array, table: string, row: T): T & { mac: Uint8Array } {
  const { mac: _old, etag: _etag, ...rest } = row as T & { mac?: unknown; etag?: unknown };
  const clean = rest as unknown as T;
  return { ...clean, mac: rowMac(macKey, table, clean) };
}

export function macValid(macKey: Uint8Array, table: string, row: Row): boolean {
  const mac = row.mac;
  if (!(mac instanceof Uint8Array) || mac.length !== 32) return false;
  return timingSafeEqual(Buffer.from(mac), rowMac(macKey, table, row));
}
