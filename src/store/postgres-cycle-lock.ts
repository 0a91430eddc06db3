import { LockedError } from '../model/errors.js';
import { checkLockTtl, createLockOwner, type CycleLockProvider } from './cycle-lock-provider.js';
import type { CycleLock } from './seen-store.js';

/** Runs one SQL statement with $n parameters on the store's pool and returns its rows (KeyvPostgres#query). */
export type PostgresQuery = (sql: string, values?: unknown[]) => Promise<unknown[]>;

/** Table holding the cycle locks, in the same database (and search_path schema) as keyv's table. */
export const POSTGRES_LOCK_TABLE = 'planet_digest_locks';

/*
 * Why a table and not pg_try_advisory_lock: advisory locks belong to a session, and our queries go through a pool, so
 * the lock would need a connection pinned for the whole cycle, and a hung-but-connected run would hold it forever.
 * A row with an expiry gives the same TTL semantics as the other backends. INSERT … ON CONFLICT DO UPDATE … WHERE is
 * atomic in PostgreSQL: a racing insert waits for the other's row lock and then re-evaluates the WHERE against the
 * committed row, so exactly one racer gets a RETURNING row. Expiry uses the database server's clock (clock_timestamp()),
 * so clocks of the machines running planet-digest do not matter.
 */
const TAKE = `INSERT INTO ${POSTGRES_LOCK_TABLE} (name, owner, expires_at)
  VALUES ($1, $2, clock_timestamp() + $3::double precision * interval '1 millisecond')
  ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
  WHERE ${POSTGRES_LOCK_TABLE}.expires_at <= clock_timestamp() OR ${POSTGRES_LOCK_TABLE}.owner = excluded.owner
  RETURNING owner`;
// Only while our row is still there: an expired row nobody took over is still ours, but a row another run took over
// and then released is gone, and re-creating it would let a stalled cycle carry on from cursors that run moved.
const REFRESH = `UPDATE ${POSTGRES_LOCK_TABLE} SET expires_at = clock_timestamp() + $3::double precision * interval '1 millisecond'
  WHERE name = $1 AND owner = $2 RETURNING owner`;
const RELEASE = `DELETE FROM ${POSTGRES_LOCK_TABLE} WHERE name = $1 AND owner = $2`;

/** Cycle lock stored as a row with an expiry in PostgreSQL, taken with a single atomic upsert. */
export class PostgresCycleLock implements CycleLockProvider {
  private readonly query: PostgresQuery;
  private readonly prefix: string;

  constructor(query: PostgresQuery, options: { namespace: string }) {
    this.query = query;
    this.prefix = `${options.namespace}:`;
  }

  /** Creates the lock table if needed; call once after connecting. */
  async init(): Promise<void> {
    try {
      await this.query(`CREATE TABLE IF NOT EXISTS ${POSTGRES_LOCK_TABLE} (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)`);
    } catch (error) {
      // Two processes creating the table at the same moment: IF NOT EXISTS is not race-free in PostgreSQL, the loser gets
      // a unique violation (23505) or "already exists" (42P07) while the table is there — nothing to do.
      const code = (error as { code?: unknown }).code;
      if (code !== '23505' && code !== '42P07') throw error;
    }
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
        if (released || (await this.query(REFRESH, [key, owner, ttlMs])).length !== 1) {
          throw new LockedError(`The cycle lock "${name}" was lost: it ${released ? 'was released' : 'expired and another run took it over'}`, {
            hint: 'Raise the lock TTL or refresh the lock more often during long cycles.',
          });
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        await this.query(RELEASE, [key, owner]);
      },
    };
  }

  private async take(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const rows = (await this.query(TAKE, [key, owner, ttlMs])) as Array<{ owner?: string }>;
    return rows.length === 1 && rows[0]?.owner === owner;
  }
}
