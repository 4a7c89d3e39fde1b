import { mkdirSync, writeFileSync, rmSync, renameSync, appendFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SeededRandom } from '../shared/local';

const MiB = 1024 * 1024;

function write(root: string, rel: string, data: Buffer | string): void {
  const full = join(root, rel);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, data);
}

/** A small, seeded "home folder": documents, mail exports, photos, a video, a link, an empty folder. */
export function createDemoFolder(root: string, seed = 365): void {
  const rnd = new SeededRandom(seed);
  for (let i = 0; i < 400; i++) {
    const words = Array.from({ length: 40 + rnd.int(0, 400) }, () => ['budget', 'meeting', 'Q3', 'forecast', 'contract', 'invoice', 'roadmap'][rnd.int(0, 6)]);
    write(root, `Documents/Project ${i % 12}/notes-${i}.txt`, words.join(' ') + '\n');
  }
  for (let i = 0; i < 150; i++) write(root, `Mail export/Inbox/message-${i}.eml`, `From: colleague${i}@contoso.example\r\nSubject: Status ${i}\r\n\r\n${'Body text. '.repeat(50 + i)}\r\n`);
  for (let i = 0; i < 60; i++) write(root, `Pictures/2026/IMG_${1000 + i}.jpg`, rnd.bytes(rnd.int(200_000, 900_000)));
  write(root, 'Videos/all-hands.mp4', rnd.bytes(24 * MiB));
  write(root, 'Résumé – final (v2).docx', rnd.bytes(40_000));
  mkdirSync(join(root, 'Empty folder'), { recursive: true });
  symlinkSync('Documents', join(root, 'docs-link'));
}

/** A day's worth of changes: edits, new files, a rename and deletions. */
export function changeDemoFolder(root: string, seed = 366): void {
  const rnd = new SeededRandom(seed);
  for (let i = 0; i < 20; i++) appendFileSync(join(root, `Documents/Project ${i % 12}/notes-${i}.txt`), `edited on day two (${i})\n`);
  for (let i = 0; i < 10; i++) write(root, `Pictures/2026/IMG_${2000 + i}.jpg`, rnd.bytes(rnd.int(200_000, 900_000)));
  renameSync(join(root, 'Documents/Project 11'), join(root, 'Documents/Project 11 (archived)'));
  for (let i = 0; i < 15; i++) rmSync(join(root, `Mail export/Inbox/message-${i}.eml`));
  write(root, 'Videos/all-hands-copy.mp4', rnd.bytes(0)); // an empty file
}
