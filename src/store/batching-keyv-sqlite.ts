import { KeyvSqlite } from '@keyv/sqlite';

/** Rows per INSERT: 2 bound parameters each, far below SQLite's 32766-parameter limit (since 3.32). */
const ROWS_PER_STATEMENT = 1000;

/**
 * KeyvSqlite with a native setMany. @keyv/sqlite 4 has none, so keyv falls back to one INSERT per key, each its own
 * transaction with its own journal sync: the first write of 500 seen maps took about 7 s here. One multi-row upsert
 * is one transaction: fast, and all-or-nothing for up to ROWS_PER_STATEMENT keys (KeyvSeenStore writes 500 at most).
 * Multi-row VALUES with bound parameters measured 3–10× faster than passing the rows as one JSON array to json_each.
 */
export class BatchingKeyvSqlite extends KeyvSqlite {
  /** Upserts the entries (values already serialized by keyv), one statement per ROWS_PER_STATEMENT rows. */
  async setMany(entries: Array<{ key: string; value: unknown }>): Promise<void> {
    for (let i = 0; i < entries.length; i += ROWS_PER_STATEMENT) {
      const rows = entries.slice(i, i + ROWS_PER_STATEMENT);
      await this.query(
        `INSERT INTO ${this.opts.table} (key, value) VALUES ${rows.map(() => '(?, ?)').join(', ')}
         ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        ...rows.flatMap((row) => [row.key, row.value]),
      );
    }
  }
}
