import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type ICALModule from 'ical.js' with { 'resolution-mode': 'import' };
import type { Expected } from './expected';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ICAL = require('ical.js') as typeof ICALModule;

function listFiles(root: string, dir = root, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) listFiles(root, full, out);
    else if (name !== '_items.json') out.push(relative(root, full));
  }
  return out;
}

/**
 * Differences between a restored folder and what the simulator says it must hold (empty = equal):
 * files and MIME byte for byte; .ics and .vcf parsed back and compared on their fields.
 */
export function compareRestore(target: string, expected: { files: Map<string, Expected>; dirs: Set<string> }): string[] {
  const problems: string[] = [];
  const found = new Set(listFiles(target));
  for (const p of found) if (!expected.files.has(p)) problems.push(`unexpected file ${p}`);
  for (const d of expected.dirs) if (!statSync(join(target, d), { throwIfNoEntry: false })?.isDirectory()) problems.push(`missing folder ${d}`);
  for (const [path, want] of expected.files) {
    if (!found.has(path)) {
      problems.push(`missing file ${path}`);
      continue;
    }
    const data = readFileSync(join(target, path));
    if (want.kind === 'bytes') {
      if (!data.equals(want.data)) problems.push(`${path} differs`);
    } else if (want.kind === 'json') {
      try {
        JSON.parse(data.toString('utf8'));
      } catch {
        problems.push(`${path} is not JSON`);
      }
    } else if (want.kind === 'ics') {
      const ev = new ICAL.Component(ICAL.parse(data.toString('utf8'))).getFirstSubcomponent('vevent');
      const start = ev?.getFirstPropertyValue('dtstart') as ICALModule.Time | null;
      if (ev?.getFirstPropertyValue('summary') !== want.event.subject) problems.push(`${path}: summary differs`);
      if (!start || (want.event.isAllDay ? start.toString().slice(0, 10) !== want.event.start.slice(0, 10) : start.toJSDate().getTime() !== Date.parse(want.event.start))) problems.push(`${path}: start differs`);
    } else {
      const card = new ICAL.Component(ICAL.parse(data.toString('utf8')));
      if (card.getFirstPropertyValue('fn') !== want.contact.displayName) problems.push(`${path}: FN differs`);
      const emails = card.getAllProperties('email').map((p) => String(p.getFirstValue()));
      if (emails.join(',') !== want.contact.emailAddresses.map((e) => e.address).join(',')) problems.push(`${path}: EMAIL differs`);
    }
  }
  return problems;
}
