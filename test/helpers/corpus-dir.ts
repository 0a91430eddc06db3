import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared feed corpus lives beside the repository (../shared/corpus), in development and in CI alike;
 * DIGEST_CORPUS_DIR overrides it. Always ends with a slash so `CORPUS + 'folder/file'` works.
 */
export const CORPUS_DIR = (process.env.DIGEST_CORPUS_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus')).replace(/\/?$/, '/');

// A clone elsewhere would otherwise fail with ENOENT on some corpus file: say what is missing and how to point at it.
if (!existsSync(CORPUS_DIR)) {
  throw new Error(`The shared feed corpus is not at ${CORPUS_DIR}: set DIGEST_CORPUS_DIR to the corpus folder (the one with README.md and expectations).`);
}
