import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import Keyv from 'keyv';
import { StoreError } from '../model/errors.js';
import { silentLogger, type Logger } from '../model/logger.js';
import { describeError, KeyvSeenStore } from './keyv-seen-store.js';
import type { RedisLockClient } from './redis-cycle-lock.js';
import type { SeenStore } from './seen-store.js';
import { parseStoreUrl, redactStoreUrl } from './store-url.js';

/** Options of openStore. */
export interface OpenStoreOptions {
  logger?: Logger;
  /** Key namespace, so several planet-digest instances can share one database (default "planet-digest"). */
  namespace?: string;
  /** Directory relative SQLite paths resolve against (default process.cwd()). */
  cwd?: string;
  /** How long to wait for a network store to accept a connection (default 3000 ms). */
  connectTimeoutMs?: number;
}

/** Default key namespace. */
export const DEFAULT_STORE_NAMESPACE = 'planet-digest';

/** How long a SQLite statement waits for another process's write to finish before failing with SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

// Plain JSON: keyv's default serializer also escapes strings starting with ":" and revives ":base64:" as Buffers,
// which our values never need; JSON.parse/stringify is faster and stores exactly what it says.
const jsonOptions = { serialize: JSON.stringify, deserialize: JSON.parse } as const;

/**
 * Opens the seen-store named by `url` and checks it answers:
 * sqlite://<path> (@keyv/sqlite; parent directory created), redis:// or rediss:// (@keyv/redis),
 * postgres:// or postgresql:// (@keyv/postgres). Throws StoreError with a hint on an unknown scheme or when the
 * store cannot be reached; messages show the URL without its password.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<SeenStore> {
  const logger = options.logger ?? silentLogger;
  const namespace = options.namespace ?? DEFAULT_STORE_NAMESPACE;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(namespace)) {
    throw new StoreError(`Store namespace "${namespace}" is not valid`, { hint: 'Use 1 to 64 letters, digits, ".", "-" or "_".' });
  }
  const target = parseStoreUrl(url, options.cwd ?? process.cwd());
  const label = redactStoreUrl(url);
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000;

  switch (target.kind) {
    case 'sqlite': {
      const hint =
        target.path === ':memory:'
          ? undefined
          : `Check that ${dirname(target.path)} exists or can be created and ${target.path} is writable by this user and is an SQLite database.`;
      if (target.path !== ':memory:') {
        try {
          await mkdir(dirname(target.path), { recursive: true });
        } catch (error) {
          throw new StoreError(`Store ${label}: cannot create directory ${dirname(target.path)}: ${describeError(error)}`, { cause: error, hint });
        }
      }
      // Adapters load on demand: each pulls in a driver (sqlite3, @redis/client, pg) the other backends never need.
      const [{ BatchingKeyvSqlite }, { SqliteCycleLock }] = await Promise.all([import('./batching-keyv-sqlite.js'), import('./sqlite-cycle-lock.js')]);
      const adapter = new BatchingKeyvSqlite({ uri: `sqlite://${target.path}`, busyTimeout: SQLITE_BUSY_TIMEOUT_MS });
      // Keyv must be attached synchronously: the adapter opens the file right away and reports failure as an 'error' event.
      const keyv = new Keyv(adapter, { namespace, throwOnErrors: true, ...jsonOptions });
      const locks = new SqliteCycleLock((sql, ...params) => adapter.query(sql, ...params) as Promise<unknown[]>, { namespace });
      const store = new KeyvSeenStore(keyv, { locks, label, hint, logger });
      // WAL with synchronous=NORMAL: a commit survives a crash of the process (SIGKILL) without an fsync per
      // delivery record; only an OS crash or power loss can lose the last commits (those digests are sent again).
      await checkOpened(store, label, hint, async () => {
        await adapter.query('PRAGMA journal_mode=WAL');
        await adapter.query('PRAGMA synchronous=NORMAL');
        await locks.init();
      });
      return store;
    }
    case 'redis': {
      const where = describeHost(target.url, 6379);
      const hint = `Check that Redis is running and reachable at ${where}, and that the password, database number and TLS (rediss://) in the URL are right.`;
      const [{ default: KeyvRedis, createClient }, { RedisCycleLock }] = await Promise.all([import('@keyv/redis'), import('./redis-cycle-lock.js')]);
      const client = createClient({
        url: target.url,
        socket: {
          connectTimeout: connectTimeoutMs,
          // A few quick retries, then fail the command: a down Redis must give a StoreError, not a hang. KeyvRedis
          // reconnects on the next operation, so a long-running scheduler recovers once Redis is back.
          reconnectStrategy: (retries: number) => (retries >= 2 ? false : 200 * (retries + 1)),
        },
      });
      // Without a listener, a connection error event would be thrown as an uncaught exception.
      client.on('error', (error: unknown) => logger.debug({ err: error, store: label }, 'redis client error'));
      try {
        await client.connect();
      } catch (error) {
        throw new StoreError(`Cannot connect to store ${label}: ${describeError(error)}`, { cause: error, hint });
      }
      const adapter = new KeyvRedis(client, { namespace, throwOnErrors: true, throwOnConnectError: true, connectionTimeout: connectTimeoutMs * 4 });
      // KeyvRedis prefixes keys itself ("<ns>::key"), so keyv must not add its own prefix too.
      const keyv = new Keyv(adapter, { namespace, useKeyPrefix: false, throwOnErrors: true, ...jsonOptions });
      const locks = new RedisCycleLock(async () => (await adapter.getClient()) as unknown as RedisLockClient, { namespace });
      const store = new KeyvSeenStore(keyv, { locks, label, hint, logger });
      await checkOpened(store, label, hint);
      return store;
    }
    case 'postgres': {
      const where = describeHost(target.url, 5432);
      const database = decodeURIComponent(new URL(target.url).pathname.replace(/^\//, '')) || '(default)';
      const hint = `Check that PostgreSQL is running and reachable at ${where}, that database "${database}" exists and that the user name and password in the URL are right.`;
      const [{ PooledKeyvPostgres }, { PostgresCycleLock }] = await Promise.all([import('./pooled-keyv-postgres.js'), import('./postgres-cycle-lock.js')]);
      const adapter = new PooledKeyvPostgres({ uri: target.url, connectionTimeoutMillis: connectTimeoutMs });
      const keyv = new Keyv(adapter, { namespace, throwOnErrors: true, ...jsonOptions });
      const locks = new PostgresCycleLock((sql, values) => adapter.query(sql, values) as Promise<unknown[]>, { namespace });
      const store = new KeyvSeenStore(keyv, { locks, label, hint, logger });
      await checkOpened(store, label, hint, () => locks.init());
      return store;
    }
  }
}

/** Pings a just-opened store (and runs its set-up); on failure closes it and throws a StoreError saying what to check. */
async function checkOpened(store: KeyvSeenStore, label: string, hint: string | undefined, setUp?: () => Promise<void>): Promise<void> {
  try {
    await store.ping();
    await setUp?.();
  } catch (error) {
    await store.close().catch(() => undefined);
    const cause = error instanceof StoreError && error.cause !== undefined ? error.cause : error;
    throw new StoreError(`Cannot open store ${label}: ${describeError(cause)}`, { cause, hint });
  }
}

/** "host:port" of a network store URL, for hints. */
function describeHost(url: string, defaultPort: number): string {
  const parsed = new URL(url);
  return `${parsed.hostname || 'localhost'}:${parsed.port || defaultPort}`;
}
