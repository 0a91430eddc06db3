import { LockedError } from '../model/errors.js';
import { checkLockTtl, createLockOwner, type CycleLockProvider } from './cycle-lock-provider.js';
import type { CycleLock } from './seen-store.js';

/** Runs one SQL statement on the store's SQLite connection and returns its rows (KeyvSqlite#query). */
export type SqliteQuery = (sql: string, ...params: unknown[]) => Promise<unknown[]>;

/** Table holding the cycle locks, next to keyv's own table in the same database file. */
export const SQLITE_LOCK_TABLE = 'planet_digest_locks';

/*
 * Why a table and not a lock file: the lock lives in the same database file as the data, so it follows the file
 * wherever it is copied or mounted, and SQLite already gives us cross-process atomicity: one INSERT … ON CONFLICT …
 * DO UPDATE … WHERE statement runs in its own write transaction, so of two racing processes exactly one sees its row.
 * A lock file would need a separate stale-takeover protocol (read, check expiry, rename) with its own races.
 * Expiry uses this host's clock, which is fine because SQLite files are local to one host.
 */
const TAKE = `INSERT INTO ${SQLITE_LOCK_TABLE} (name, owner, expires_at) VALUES (?1, ?2, ?3)
  ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
  WHERE ${SQLITE_LOCK_TABLE}.expires_at <= ?4 OR ${SQLITE_LOCK_TABLE}.owner = excluded.owner
  RETURNING owner`;
// Only while our row is still there: an expired row nobody took over is still ours, but a row another run took over
// and then released is gone, and re-creating it would let a stalled cycle carry on from cursors that run moved.
const REFRESH = `UPDATE ${SQLITE_LOCK_TABLE} SET expires_at = ?3 WHERE name = ?1 AND owner = ?2 RETURNING owner`;
const RELEASE = `DELETE FROM ${SQLITE_LOCK_TABLE} WHERE name = ?1 AND owner = ?2`;

/** Cycle lock stored in a table of the SQLite database, taken with a single atomic upsert. */
export class SqliteCycleLock implements CycleLockProvider {
  private readonly query: SqliteQuery;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(query: SqliteQuery, options: { namespace: string; now?: () => number }) {
    this.query = query;
    this.prefix = `${options.namespace}:`;
    this.now = options.now ?? Date.now;
  }

  /** Creates the lock table if needed; call once after opening the database. */
  async init(): Promise<void> {
    await this.query(`CREATE TABLE IF NOT EXISTS ${SQLITE_LOCK_TABLE} (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL)`);
  }

  async acquire(name: string, ttlMs: number): Promise<CycleLock | undefined> {
    checkLockTtl(ttlMs);
    const key = this.prefix + name;
    const owner = createLockOwner();
    if (!(await this.take(key, owner, ttlMs))) return undefined;
    let released = false;
    return {
      refresh: async () => {
        // Extends our own lock, also when it expired and nobody else took it meanwhile (see REFRESH).
        if (released || (await this.query(REFRESH, key, owner, this.now() + ttlMs)).length !== 1) {
          throw new LockedError(`The cycle lock "${name}" was lost: it ${released ? 'was released' : 'expired and another run took it over'}`, {
            hint: 'Raise the lock TTL or refresh the lock more often during long cycles.',
          });
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        await this.query(RELEASE, key, owner);
      },
    };
  }

  private async take(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const rows = (await this.query(TAKE, key, owner, now + ttlMs, now)) as Array<{ owner?: string }>;
    return rows.length === 1 && rows[0]?.owner === owner;
  }
}
