import { readFile } from 'node:fs/promises';
import type { SubscribersDocument } from '../admin/edit-subscribers-file.js';
import { ConfigError } from '../model/errors.js';

/** The raw subscribers.json (for listings); edits go through editSubscribersFile. */
export async function readSubscribersDocument(file: string): Promise<SubscribersDocument> {
  try {
    const doc = JSON.parse(await readFile(file, 'utf8')) as SubscribersDocument;
    return { ...doc, feeds: doc.feeds ?? [], subscribers: doc.subscribers ?? [] };
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: error instanceof SyntaxError ? `not valid JSON: ${error.message}` : `cannot read the file: ${(error as Error).message}` }], {
      cause: error,
      hint: 'Run `planet-digest validate` for details.',
    });
  }
}
