import { writeFileSync } from 'node:fs';
import { buildVectors } from './vectors';
import { VECTORS_FILE } from './paths';

/**
 * npm run make:format-vectors: writes test/format/vectors.json. Run it only when the format is
 * deliberately extended (a new format version); the committed file is what every version must match.
 */
async function main(): Promise<void> {
  const v = await buildVectors();
  writeFileSync(VECTORS_FILE, JSON.stringify(v, null, 1) + '\n');
  console.log(`wrote ${VECTORS_FILE}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
