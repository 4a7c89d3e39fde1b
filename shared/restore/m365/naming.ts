import { createHash } from 'node:crypto';

/** A file-system-safe name: no separators or control characters, bounded length, never "." or "..". */
export function safeName(name: string, max = 120): string {
  let s = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_').trim();
  if (s === '' || s === '.' || s === '..') s = '_';
  if (Buffer.byteLength(s) > max) {
    while (Buffer.byteLength(s) > max) s = s.slice(0, -1);
    s = s.trimEnd();
  }
  return s;
}

/** "<readable name> [<8 hex of the id>].<ext>": readable, and unique even when names repeat. */
export function itemFileName(readable: string, id: string, ext: string): string {
  const tag = createHash('sha256').update(id).digest('hex').slice(0, 8);
  return `${safeName(readable || 'untitled', 80)} [${tag}].${ext}`;
}
