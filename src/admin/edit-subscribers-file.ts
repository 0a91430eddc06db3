import { writeFileAtomic } from '../util/write-file-atomic.js';
import { describeJsonError } from '../config/describe-json-error.js';
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SubscribersFileInput, SubscribersFileParsed } from '../config/subscribers-schema.js';
import { ConfigError, DigestError, LockedError } from '../model/errors.js';
import { acquireFileLock } from './acquire-file-lock.js';
import { stringifyPreservingFormat } from './stringify-preserving-format.js';
import { validateSubscribersDocument } from './validate-subscribers-document.js';

export { validateSubscribersDocument, formatJsonPath } from './validate-subscribers-document.js';
export type { SubscribersValidation } from './validate-subscribers-document.js';

/** subscribers.json as written by people: the raw JSON (no defaults filled in); edits mutate it in place. */
export type SubscribersDocument = SubscribersFileInput;

/** Options for editSubscribersFile. */
export interface EditOptions {
  /** Keep the previous version as `<file>.bak` (default true). */
  backup?: boolean;
  /** How long to wait for another editor to finish (default 10 s). */
  lockTimeoutMs?: number;
  /** A lock not refreshed for this long is taken over (default 30 s). */
  staleLockMs?: number;
}

/** What an edit did. */
export interface EditResult {
  /** Real path of the file (symlinks resolved). */
  file: string;
  /** False when the edit left the document as it was; nothing was written then. */
  changed: boolean;
  /** Where the previous version was kept, when a backup was written. */
  backupPath?: string;
  /** The document after the edit, as written. */
  document: SubscribersDocument;
  /** The validated document with defaults applied. */
  value: SubscribersFileParsed;
}

const BOM = '\uFEFF';

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

async function readDocument(file: string): Promise<{ text: string; doc: SubscribersDocument }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    throw new ConfigError(file, [{ path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(error)})` }], { cause: error });
  }
  const body = text.startsWith(BOM) ? text.slice(1) : text;
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `not valid JSON: ${describeJsonError(body, error)}` }], {
      cause: error,
      hint: 'Fix the syntax by hand (or restore the .bak next to it) before editing it with planet-digest.',
    });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(file, [{ path: '', message: 'expected a JSON object with "feeds" and "subscribers"' }]);
  }
  // Edits may assume both lists exist; everything else is checked after the edit (so an edit can repair it).
  const missing = (['feeds', 'subscribers'] as const).filter((key) => !Array.isArray((doc as Record<string, unknown>)[key]));
  if (missing.length > 0) {
    throw new ConfigError(file, missing.map((key) => ({ path: key, message: 'expected a list ([ ... ]); add it, even if empty' })));
  }
  return { text, doc: doc as SubscribersDocument };
}

/** File-system failures (permissions, full disk) as a ConfigError naming the file; our own errors pass through. */
function fileSystemError(file: string, error: unknown, what: string): unknown {
  const code = errnoCode(error);
  if (error instanceof DigestError || code === undefined) return error;
  return new ConfigError(file, [{ path: '', message: `${what} (${code}); nothing was changed` }], {
    cause: error,
    hint: 'planet-digest needs write access to the folder of subscribers.json (for the lock, temp and backup files).',
  });
}

/**
 * The one way subscribers.json is changed (CLI, unsubscribe endpoint). Under an exclusive `<file>.lock` it reads the
 * current file, applies `edit` to the parsed document, validates the result (schema and cross-checks) and writes it
 * atomically in the file's own formatting, keeping the previous version as `<file>.bak`. An invalid result throws
 * ConfigError listing every problem; an edit that throws propagates its error. Either way the file is untouched.
 */
export async function editSubscribersFile(
  file: string,
  edit: (doc: SubscribersDocument) => void | Promise<void>,
  options: EditOptions = {},
): Promise<EditResult> {
  let real: string;
  try {
    real = await realpath(file);
  } catch (error) {
    throw new ConfigError(path.resolve(file), [{ path: '', message: errnoCode(error) === 'ENOENT' ? 'file not found' : `cannot open the file (${String(error)})` }], {
      cause: error,
      hint: 'Check --subscribers / DIGEST_SUBSCRIBERS.',
    });
  }
  const lock = await acquireFileLock(`${real}.lock`, {
    timeoutMs: options.lockTimeoutMs,
    staleMs: options.staleLockMs,
    what: path.basename(real),
  }).catch((error: unknown) => {
    throw fileSystemError(real, error, `cannot create the lock file ${real}.lock`);
  });
  try {
    const { text, doc } = await readDocument(real);
    await edit(doc);
    const validation = validateSubscribersDocument(doc, real);
    if (!validation.ok) {
      throw new ConfigError(real, validation.issues, { hint: 'Nothing was written; the file is unchanged.' });
    }
    const bom = text.startsWith(BOM) ? BOM : '';
    const next = bom + stringifyPreservingFormat(text.slice(bom.length), doc);
    if (next === text) return { file: real, changed: false, document: doc, value: validation.value };
    const { mode } = await stat(real);
    // A holder that stalled past the stale limit may have been taken over; writing now could lose the other's update.
    const ensureHeld = async (): Promise<void> => {
      if (!(await lock.isHeld())) {
        throw new LockedError(`lost the lock on ${path.basename(real)} (this edit stalled and another admin took over); nothing was written, try again`);
      }
    };
    await ensureHeld();
    let backupPath: string | undefined;
    try {
      if (options.backup ?? true) {
        backupPath = `${real}.bak`;
        await writeFileAtomic(backupPath, text, { mode: mode & 0o777 });
      }
      await writeFileAtomic(real, next, { mode: mode & 0o777, beforeRename: ensureHeld });
    } catch (error) {
      throw fileSystemError(real, error, 'cannot write the file');
    }
    return { file: real, changed: true, backupPath, document: doc, value: validation.value };
  } finally {
    await lock.release();
  }
}
