import { join } from 'node:path';

/** The source checkout (tests run from dist/test/format, the committed data lives in test/). */
export const SOURCE_ROOT = join(__dirname, '..', '..', '..');
export const VECTORS_FILE = join(SOURCE_ROOT, 'test', 'format', 'vectors.json');
export const FROZEN_REPO_DIR = join(SOURCE_ROOT, 'test', 'fixtures', 'frozen-repo');
