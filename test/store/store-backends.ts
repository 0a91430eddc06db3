import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import KeyvRedis from '@keyv/redis';
import { KeyvSqlite } from '@keyv/sqlite';
import Keyv from 'keyv';
import { PooledKeyvPostgres } from '../../src/store/pooled-keyv-postgres.js';
import { startRedis, type RedisServer } from '../helpers/start-redis.js';
import { findPostgresBin, startPostgres, type PostgresServer } from './start-postgres.js';

/** One store a test may use alone: a fresh SQLite file, or a fresh namespace on a shared server. */
export interface StoreTarget {
  url: string;
  namespace: string;
}

/** A real backend the store tests run against. */
export interface BackendFixture {
  name: 'sqlite' | 'redis' | 'postgres';
  start(): Promise<void>;
  stop(): Promise<void>;
  fresh(): StoreTarget;
  /**
   * A Keyv on the same data built independently of openStore, to play a crashed process that wrote some of the
   * documented keys (see the key layout in keyv-seen-store.ts). Disconnect it after use.
   */
  raw(target: StoreTarget): Keyv;
}

let counter = 0;
const uniqueNamespace = (): string => `t${process.pid}_${(counter += 1)}`;
const json = { serialize: JSON.stringify, deserialize: JSON.parse } as const;

function sqliteBackend(): BackendFixture {
  let dir = '';
  return {
    name: 'sqlite',
    async start() {
      dir = await mkdtemp(join(tmpdir(), 'planet-digest-store-'));
    },
    async stop() {
      await rm(dir, { recursive: true, force: true });
    },
    fresh() {
      // A nested directory that does not exist yet: openStore must create it.
      return { url: `sqlite://${join(dir, uniqueNamespace(), 'data', 'planet-digest.sqlite')}`, namespace: 'planet-digest' };
    },
    raw(target) {
      return new Keyv(new KeyvSqlite({ uri: target.url, busyTimeout: 5000 }), { namespace: target.namespace, throwOnErrors: true, ...json });
    },
  };
}

function redisBackend(): BackendFixture {
  let server: RedisServer | undefined;
  return {
    name: 'redis',
    async start() {
      server = await startRedis();
    },
    async stop() {
      await server?.stop();
    },
    fresh() {
      if (!server) throw new Error('redis backend not started');
      return { url: server.url, namespace: uniqueNamespace() };
    },
    raw(target) {
      const adapter = new KeyvRedis(target.url, { namespace: target.namespace, throwOnErrors: true });
      return new Keyv(adapter, { namespace: target.namespace, useKeyPrefix: false, throwOnErrors: true, ...json });
    },
  };
}

function postgresBackend(bin: string): BackendFixture {
  let server: PostgresServer | undefined;
  return {
    name: 'postgres',
    async start() {
      server = await startPostgres(bin);
    },
    async stop() {
      await server?.stop();
    },
    fresh() {
      if (!server) throw new Error('postgres backend not started');
      return { url: server.url, namespace: uniqueNamespace() };
    },
    raw(target) {
      return new Keyv(new PooledKeyvPostgres({ uri: target.url }), { namespace: target.namespace, throwOnErrors: true, ...json });
    },
  };
}

const postgresBin = findPostgresBin();
if (postgresBin === undefined) {
  // Visible in the test output; the postgres URL mapping is still covered by store-url.test.ts.
  console.warn('store tests: PostgreSQL server binaries (initdb, pg_ctl) not found; the postgres backend is not tested against a real server.');
}

/** Backends to run the store tests against: SQLite and Redis always (Redis must be installed), PostgreSQL when its binaries are. */
export const backends: BackendFixture[] = [sqliteBackend(), redisBackend(), ...(postgresBin ? [postgresBackend(postgresBin)] : [])];
