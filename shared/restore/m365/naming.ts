import { createHash } from 'node:crypto';

/** Names Windows refuses whatever their extension (CON, CON.txt, COM1, ...). */
const DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;
/** An extension worth keeping when a name is shortened or tagged: short, no spaces. */
const EXTENSION = /^\.[^.\s]{1,15}$/;

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
function cutBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** "report.final.pdf" -> ["report.final", ".pdf"]; ".bashrc" and "notes" have no extension. */
export function splitExtension(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return [name, ''];
  const ext = name.slice(dot);
  return EXTENSION.test(ext) ? [name.slice(0, dot), ext] : [name, ''];
}

/** Fits stem + suffix + ext into `max` bytes by shortening the stem; never ends in a dot or a space. */
function fit(stem: string, suffix: string, ext: string, max: number): string {
  const room = max - Buffer.byteLength(suffix) - Buffer.byteLength(ext);
  let s = cutBytes(stem, Math.max(room, 1)).replace(/[. ]+$/, '');
  if (s === '') s = '_';
  return s + suffix + ext;
}

/**
 * A name every target file system accepts (Linux, Windows, macOS, zip readers): no separators,
 * reserved or control characters, no trailing dots or spaces, no device names, never "." or "..",
 * at most `max` UTF-8 bytes (the extension kept when shortening). Different names can map to one
 * safe name: `NameSpace` makes them distinct.
 */
export function safeName(name: string, max = 120): string {
  let s = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_').trim();
  s = s.replace(/[. ]+$/, '');
  if (s === '') s = '_';
  if (DEVICE_NAME.test(s)) s = `_${s}`;
  if (Buffer.byteLength(s) > max) {
    const [stem, ext] = splitExtension(s);
    s = fit(stem, '', ext, max);
  }
  return s;
}

/** Eight hex digits derived from an item id: the same tag for the same item in every restore. */
export const idTag = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 8);

/** "<readable name> [<8 hex of the id>].<ext>": readable, and unique even when names repeat. */
export function itemFileName(readable: string, id: string, ext: string): string {
  return `${safeName(readable || 'untitled', 80)} [${idTag(id)}].${ext}`;
}

/**
 * Restore targets are treated as case-insensitive and normalisation-insensitive always (Windows,
 * macOS, and zip files opened there), so "Report.txt" and "report.txt" are one name.
 */
export const nameKey = (name: string) => name.normalize('NFC').toLowerCase();

/**
 * The names already used in one folder of a restore. `claim` returns the safe form of a name, or,
 * when that is taken, a form tagged with the item id ("name [1a2b3c4d].ext", then "... (2).ext"):
 * deterministic for the same items claimed in the same order, never a silent overwrite.
 */
export class NameSpace {
  private readonly used = new Set<string>();

  constructor(reserved: readonly string[] = []) {
    for (const r of reserved) this.used.add(nameKey(r));
  }

  has(name: string): boolean {
    return this.used.has(nameKey(name));
  }

  claim(wanted: string, id: string, max = 120): string {
    let name = safeName(wanted, max);
    if (this.has(name)) {
      const [stem, ext] = splitExtension(name);
      const tag = ` [${idTag(id)}]`;
      name = fit(stem, tag, ext, max);
      for (let n = 2; this.has(name); n++) name = fit(stem, `${tag} (${n})`, ext, max);
    }
    this.used.add(nameKey(name));
    return name;
  }
}

/** Whether sanitising changes a name: such names claim theirs after the names that need no change. */
export const isLossy = (name: string, max = 120) => safeName(name, max) !== name;
