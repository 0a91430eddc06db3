import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/model/errors.js';
import { openStore } from '../../src/store/open-store.js';
import type { SeenMap } from '../../src/store/seen-store.js';
import { findFreePort, startRedis } from '../helpers/start-redis.js';
import { findPostgresBin, startPostgres } from './start-postgres.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'planet-digest-open-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `open` and returns the StoreError it must reject with. */
async function storeErrorOf(open: () => Promise<unknown>): Promise<StoreError> {
  const error = await open().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

describe('openStore with SQLite', () => {
  it('resolves a relative path against cwd and creates the missing directories', async () => {
    const store = await openStore('sqlite://./nested/deeper/planet-digest.sqlite', { cwd: dir });
    await store.setMeta('x', 1);
    await store.close();
    expect(existsSync(join(dir, 'nested', 'deeper', 'planet-digest.sqlite'))).toBe(true);
  });

  it('fails with a StoreError naming the path when the directory cannot be created', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    const error = await storeErrorOf(() => openStore(`sqlite://${join(file, 'x.sqlite')}`));
    expect(error.message).toContain(file);
    expect(error.hint).toMatch(/writable/);
  });

  it('fails with a StoreError when the file is not an SQLite database', async () => {
    const file = join(dir, 'garbage.sqlite');
    await writeFile(file, 'this is not a database, just text that is long enough to look like a header '.repeat(20));
    const error = await storeErrorOf(() => openStore(`sqlite://${file}`));
    expect(error.message).toMatch(/not a database/);
    expect(error.message).toContain(file);
    expect(error.cause).toBeDefined();
  });

  it('rejects a namespace that could clash with the key layout', async () => {
    const error = await storeErrorOf(() => openStore(`sqlite://${join(dir, 'ns.sqlite')}`, { namespace: 'a:b' }));
    expect(error.message).toContain('"a:b"');
  });

  it('rejects an unknown scheme and lists the supported ones', async () => {
    const error = await storeErrorOf(() => openStore('mongodb://u:s3cret@127.0.0.1/x'));
    expect(error.message).not.toContain('s3cret');
    expect(error.hint).toMatch(/sqlite:\/\/.*redis:\/\/.*postgres:\/\//);
  });

  it('measures setSeenMaps/getSeenMaps for 500 feeds of 30 records (printed, not asserted)', async () => {
    const store = await openStore(`sqlite://${join(dir, 'cost', 'planet-digest.sqlite')}`);
    const maps = new Map<string, SeenMap>();
    for (let f = 0; f < 500; f += 1) {
      const map: SeenMap = {};
      for (let e = 0; e < 30; e += 1) {
        map[`feed-${f}:${e.toString(36).padStart(10, 'x')}`] = { first: new Date(Date.UTC(2024, 0, 1, 0, e)).toISOString(), last: '2024-03-01T00:00:00.000Z' };
      }
      maps.set(`feed-${f}`, map);
    }
    const figures: string[] = [];
    for (let round = 0; round < 3; round += 1) {
      let start = performance.now();
      await store.setSeenMaps(maps);
      const written = performance.now() - start;
      start = performance.now();
      const read = await store.getSeenMaps([...maps.keys()]);
      const readMs = performance.now() - start;
      if (round === 0) expect(read).toEqual(maps);
      else expect(read.size).toBe(maps.size);
      figures.push(`${round === 0 ? 'insert' : 'update'} ${written.toFixed(0)} ms / read ${readMs.toFixed(0)} ms`);
    }
    await store.close();
    console.log(`sqlite, 500 seen maps x 30 records: ${figures.join('; ')}`);
  });
});

describe('openStore with an unreachable network store', () => {
  it('gives a StoreError quickly for a Redis nobody listens on, without the password', { timeout: 10_000 }, async () => {
    const port = await findFreePort();
    const error = await storeErrorOf(() => openStore(`redis://:s3cret@127.0.0.1:${port}`));
    expect(error.message).toContain(`redis://:***@127.0.0.1:${port}`);
    expect(error.message).not.toContain('s3cret');
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.hint).toContain(`Redis is running and reachable at 127.0.0.1:${port}`);
  });

  it('gives a StoreError quickly for a PostgreSQL nobody listens on, without the password', { timeout: 10_000 }, async () => {
    const port = await findFreePort();
    const error = await storeErrorOf(() => openStore(`postgres://planet:s3cret@127.0.0.1:${port}/planet`));
    expect(error.message).toContain(`postgres://planet:***@127.0.0.1:${port}/planet`);
    expect(error.message).not.toContain('s3cret');
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.hint).toContain(`PostgreSQL is running and reachable at 127.0.0.1:${port}, that database "planet" exists`);
  });

  it('turns failures into StoreErrors once Redis goes away, and recovers when it is back', { timeout: 20_000 }, async () => {
    const redis = await startRedis();
    const store = await openStore(redis.url, { namespace: 'gone' });
    try {
      await store.setMeta('k', 'v');
      await redis.stop();
      // The first failure's wording depends on timing (socket closed, connection refused); it names the operation and
      // the real cause, never only @keyv/redis' generic "not connected … throwOnConnectError" text.
      const read = await storeErrorOf(() => store.getSeenMaps(['a']));
      expect(read.message).toMatch(/^Store redis:\/\/127\.0\.0\.1:\d+: could not read seen entries: \S/);
      expect(read.hint).toMatch(/Redis is running/);
      const lock = await storeErrorOf(() => store.acquireLock('cycle', 1000));
      expect(lock.message).toMatch(/could not take the cycle lock "cycle": \S/);
      const append = await storeErrorOf(() => store.appendBatch([], new Date()));
      expect(append.message).toMatch(/could not append a batch: \S/);
      for (const error of [read, lock, append]) expect(error.message).not.toMatch(/throwOnConnectError/);
      // The scheduler keeps its store open across cycles: the next operation after Redis is back must work again.
      const again = await startRedis({ port: redis.port });
      try {
        await store.setMeta('k', 'back');
        expect(await store.getMeta('k')).toBe('back');
      } finally {
        await again.stop();
      }
    } finally {
      await store.close();
    }
  });

  const postgresBin = findPostgresBin();
  it.skipIf(postgresBin === undefined)('survives PostgreSQL dropping its idle connections, then fails with StoreErrors', { timeout: 30_000 }, async () => {
    const server = await startPostgres(postgresBin as string);
    const store = await openStore(server.url, { namespace: 'restart' });
    try {
      await store.setMeta('k', 'v');
      // An immediate stop kills the pool's idle connection under it: an unhandled pool 'error' event would end the
      // process (vitest reports it as an unhandled error); it must only be logged, and later calls must be StoreErrors.
      await server.stop();
      await sleep(200);
      const error = await storeErrorOf(() => store.getMeta('k'));
      expect(error.message).toMatch(/could not read meta "k"/);
      expect(error.hint).toMatch(/PostgreSQL is running/);
    } finally {
      await store.close();
    }
  });
});
