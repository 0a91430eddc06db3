import { isAbsolute, resolve } from 'node:path';
import { StoreError } from '../model/errors.js';

/** A store URL after parsing: which keyv adapter serves it and how to reach it. */
export type StoreTarget =
  | { kind: 'sqlite'; /** Absolute file path, or ':memory:'. */ path: string }
  | { kind: 'redis'; url: string }
  | { kind: 'postgres'; url: string };

/** The store URL schemes planet-digest understands, for error hints. */
export const STORE_URL_HINT =
  'Use one of: sqlite://./data/planet-digest.sqlite (a file path, relative to the working directory or absolute), ' +
  'redis://[:password@]host:6379[/db] (or rediss:// for TLS), postgres://user:password@host:5432/database (or postgresql://).';

/** Maps a store URL to its backend; relative SQLite paths resolve against `cwd`. Throws StoreError for an unknown or malformed URL. */
export function parseStoreUrl(url: string, cwd: string): StoreTarget {
  const trimmed = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    // Not parsed with URL(): "sqlite://./data/x.sqlite" would make "." a host name. Everything after "sqlite://" is the path.
    const path = trimmed.replace(/^sqlite:(\/\/)?/i, '');
    if (path === '') {
      throw new StoreError(`Store URL "${url}" has no file path`, { hint: STORE_URL_HINT });
    }
    if (path === ':memory:') return { kind: 'sqlite', path };
    return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) };
  }
  if (scheme === 'redis' || scheme === 'rediss' || scheme === 'postgres' || scheme === 'postgresql') {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch (error) {
      throw new StoreError(`Store URL "${redactStoreUrl(url)}" is not a valid URL`, { cause: error, hint: STORE_URL_HINT });
    }
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
      throw new StoreError(`Store URL "${redactStoreUrl(url)}" names no host`, { hint: STORE_URL_HINT });
    }
    return scheme.startsWith('redis') ? { kind: 'redis', url: trimmed } : { kind: 'postgres', url: trimmed };
  }
  throw new StoreError(
    scheme === undefined
      ? `Store URL "${redactStoreUrl(url)}" has no scheme`
      : `Store URL "${redactStoreUrl(url)}" uses the unsupported scheme "${scheme}:"`,
    { hint: STORE_URL_HINT },
  );
}

/** The URL with its password (and a password query parameter) replaced by "***", safe for logs and error messages. */
export function redactStoreUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    // Not a URL we can take apart: blank out anything between "//" and "@" so a user:password never leaks.
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
  if (parsed.password !== '') parsed.password = '***';
  for (const key of ['password', 'pass']) {
    if (parsed.searchParams.has(key)) parsed.searchParams.set(key, '***');
  }
  // URL() turns "sqlite://./x" into "sqlite://./x" unchanged, but keep non-special schemes exactly as given when nothing was secret.
  return parsed.password === '' && !/[?&](password|pass)=/.test(url) ? url.trim() : parsed.toString();
}
