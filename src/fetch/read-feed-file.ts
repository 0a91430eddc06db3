import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Validators } from '../model/feed.js';
import type { FetchOutcome } from './fetch-feed.js';
import { FetchError } from './fetch-error.js';
import { formatBytes, readCappedBody } from './read-capped-body.js';

/** What readFeedFile needs (a subset of FetchOptions). */
export interface ReadFeedFileOptions {
  /** Directories local feeds may live in; a relative path resolves against the first. Empty/absent: refuse. */
  allowedFileRoots?: string[];
  maxBytes: number;
  /** A previous `etag` from this function makes an unchanged file come back as not-modified. */
  validators?: Validators;
  signal?: AbortSignal;
}

function isInside(child: string, root: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}

function refuse(location: string, roots: string[] | undefined, why: string): FetchError {
  const hint = roots?.length ? `local feed files are allowed only under ${roots.join(', ')}` : 'reading local feed files is not enabled (no allowed file roots)';
  return new FetchError('refused', `Refusing to read ${location}: ${why}; ${hint}`, { url: location, hint });
}

function fileError(location: string, err: unknown): FetchError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const what =
    code === 'ENOENT' ? 'no such file; check the path' : code === 'EACCES' || code === 'EPERM' ? 'permission denied; check the file permissions' : code === 'EISDIR' ? 'it is a directory, not a feed file' : (err as Error).message;
  return new FetchError('file', `Cannot read feed file ${location}: ${what}`, { url: location, cause: err });
}

/**
 * Read a local feed (plain path or file: URL) if it lies under one of allowedFileRoots (symlinks resolved, so a
 * link cannot lead outside). Capped at maxBytes after gunzipping .gz content. The validators are a weak ETag made of
 * size, mtime and inode: an unchanged file gives `not-modified`, like an HTTP 304.
 */
export async function readFeedFile(location: string, options: ReadFeedFileOptions): Promise<FetchOutcome> {
  const roots = options.allowedFileRoots?.filter((r) => r.trim() !== '');
  let given: string;
  if (location.startsWith('file:')) {
    try {
      given = fileURLToPath(location);
    } catch (err) {
      throw new FetchError('refused', `Refusing to read ${location}: not a local file URL; use file:///absolute/path or a plain path`, { url: location, cause: err });
    }
  } else {
    given = location;
  }
  if (!roots || roots.length === 0) throw refuse(location, roots, 'local files are not allowed');
  const absolute = path.resolve(roots[0]!, given);
  const absRoots = roots.map((r) => path.resolve(r));
  if (!absRoots.some((r) => isInside(absolute, r))) throw refuse(location, roots, `${absolute} is outside the allowed directories`);

  let real: string;
  try {
    real = await realpath(absolute);
  } catch (err) {
    throw fileError(absolute, err);
  }
  const realRoots = await Promise.all(absRoots.map((r) => realpath(r).catch(() => r)));
  if (!realRoots.some((r) => isInside(real, r))) throw refuse(location, roots, `${absolute} links to ${real}, outside the allowed directories`);

  let handle;
  try {
    handle = await open(real, 'r');
  } catch (err) {
    throw fileError(absolute, err);
  }
  try {
    const stat = await handle.stat();
    // Devices and FIFOs (/dev/zero, /dev/urandom) would never end.
    if (!stat.isFile()) throw new FetchError('file', `Cannot read feed file ${absolute}: not a regular file`, { url: absolute });
    if (stat.size > options.maxBytes) {
      throw new FetchError('too-large', `Feed file ${absolute} is ${formatBytes(stat.size)}, over the ${formatBytes(options.maxBytes)} limit; raise maxBytes if it really is that large`, { url: absolute });
    }
    const etag = `W/"file-${stat.size}-${Math.round(stat.mtimeMs * 1000)}-${stat.ino}"`;
    const finalUrl = pathToFileURL(real).href;
    if (options.validators?.etag === etag) return { kind: 'not-modified', validators: { etag }, finalUrl };
    let body: Buffer;
    try {
      body = await readCappedBody(handle.createReadStream({ autoClose: false, signal: options.signal }), { maxBytes: options.maxBytes, url: absolute });
    } catch (err) {
      if (err instanceof FetchError || options.signal?.aborted) throw err;
      throw fileError(absolute, err);
    }
    return { kind: 'ok', status: 200, body, finalUrl, validators: { etag }, bytes: body.length };
  } finally {
    await handle.close().catch(() => undefined);
  }
}
