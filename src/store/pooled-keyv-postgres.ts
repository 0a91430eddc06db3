import { createRequire } from 'node:module';
import { KeyvPostgres, type KeyvPostgresOptions } from '@keyv/postgres';

/** The slice of pg's Pool used here (pg ships no types of its own; @types/pg is not installed). */
interface PgPool {
  query(sql: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  end(): Promise<void>;
}
type PgPoolConstructor = new (config: Record<string, unknown>) => PgPool;

/** pg exactly as @keyv/postgres resolves it, so both always agree on the version and no direct dependency is needed. */
function loadPgPool(): PgPoolConstructor {
  const require = createRequire(import.meta.url);
  const fromKeyvPostgres = createRequire(require.resolve('@keyv/postgres'));
  return (fromKeyvPostgres('pg') as { Pool: PgPoolConstructor }).Pool;
}

/**
 * KeyvPostgres with a pool of its own. @keyv/postgres keeps one module-wide pool (a second store on the same URL
 * shares it, and disconnecting either ends it for both) and attaches no 'error' listener to it, so a dropped idle
 * connection (database restart) would be an uncaught 'error' event that ends the process. Here each store owns its
 * pool, pool errors become adapter 'error' events (KeyvSeenStore logs them), and connects time out.
 */
export class PooledKeyvPostgres extends KeyvPostgres {
  // `declare`: connect() runs inside super() and sets this field; a class-field initializer would overwrite it afterwards.
  declare private ownPool: PgPool | undefined;

  constructor(options: KeyvPostgresOptions & { uri: string }) {
    super(options);
  }

  override async connect(): Promise<(sql: string, values?: unknown[]) => Promise<unknown[]>> {
    const Pool = loadPgPool();
    const pool = new Pool({
      connectionString: this.opts.uri,
      connectionTimeoutMillis: this.opts.connectionTimeoutMillis ?? 5000,
      max: this.opts.max ?? 4,
      ...(this.opts.ssl !== undefined ? { ssl: this.opts.ssl } : {}),
    });
    pool.on('error', (error) => this.emit('error', error));
    this.ownPool = pool;
    return async (sql, values) => (await pool.query(sql, values)).rows;
  }

  override async disconnect(): Promise<void> {
    const pool = this.ownPool;
    this.ownPool = undefined;
    await pool?.end();
  }
}
