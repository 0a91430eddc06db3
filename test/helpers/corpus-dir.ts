import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared feed corpus lives beside the repository (../shared/corpus), in development and in CI alike;
 * DIGEST_CORPUS_DIR overrides it. Always ends with a slash so `CORPUS + 'folder/file'` works.
 */
export const CORPUS_DIR = (process.env.DIGEST_CORPUS_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus')).replace(/\/?$/, '/');
