import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { LockedError } from '../../src/model/errors.js';
import { openStore } from '../../src/store/open-store.js';
import type { SeenStore } from '../../src/store/seen-store.js';
import { backends, type StoreTarget } from './store-backends.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens a store that is closed when the (possibly concurrent) test finishes. */
async function open(target: StoreTarget, context: TestContext): Promise<SeenStore> {
  const store = await openStore(target.url, { namespace: target.namespace });
  context.onTestFinished(() => store.close());
  return store;
}

// Concurrent: the tests wait for expiries and child processes, and each uses its own namespace or file.
describe.concurrent.each(backends)('$name cycle lock', (backend) => {
  beforeAll(() => backend.start());
  afterAll(() => backend.stop());

  it('lets exactly one of two acquirers in one process win, on one store and across two stores', async (context) => {
    const target = backend.fresh();
    const a = await open(target, context);
    const b = await open(target, context);
    const same = await Promise.all([a.acquireLock('cycle', 60_000), a.acquireLock('cycle', 60_000)]);
    expect(same.filter((l) => l !== undefined)).toHaveLength(1);
    expect(await b.acquireLock('cycle', 60_000)).toBeUndefined();
    const across = await Promise.all([a.acquireLock('other', 60_000), b.acquireLock('other', 60_000)]);
    expect(across.filter((l) => l !== undefined)).toHaveLength(1);
    // Locks are per store namespace: another planet-digest instance on the same database is not blocked.
    const neighbour = await open({ url: target.url, namespace: `${target.namespace}-neighbour` }, context);
    expect(await neighbour.acquireLock('cycle', 60_000)).toBeDefined();
  });

  it('is free again after release; release is idempotent and refresh after release fails', async (context) => {
    const target = backend.fresh();
    const a = await open(target, context);
    const b = await open(target, context);
    const lock = await a.acquireLock('cycle', 60_000);
    expect(lock).toBeDefined();
    await lock?.release();
    await lock?.release();
    expect(await b.acquireLock('cycle', 60_000)).toBeDefined();
    await expect(lock?.refresh()).rejects.toBeInstanceOf(LockedError);
    expect(await a.acquireLock('cycle', 60_000)).toBeUndefined();
  });

  it('lets a stale lock be taken over after its ttl; the old owner can then neither release nor refresh it', async (context) => {
    const target = backend.fresh();
    const a = await open(target, context);
    const b = await open(target, context);
    const stale = await a.acquireLock('cycle', 1500);
    expect(stale).toBeDefined();
    expect(await b.acquireLock('cycle', 60_000)).toBeUndefined();
    await sleep(1800);
    const taken = await b.acquireLock('cycle', 60_000);
    expect(taken).toBeDefined();
    // The crashed-and-revived owner must not free the new owner's lock…
    await stale?.release();
    expect(await a.acquireLock('cycle', 60_000)).toBeUndefined();
    // …nor extend it.
    const revived = await a.acquireLock('other', 1500);
    await sleep(1800);
    expect(await b.acquireLock('other', 60_000)).toBeDefined();
    await expect(revived?.refresh()).rejects.toBeInstanceOf(LockedError);
    expect(await a.acquireLock('other', 60_000)).toBeUndefined();
  });

  it('an owner whose lock was taken over and released meanwhile cannot refresh it back', async (context) => {
    const target = backend.fresh();
    const a = await open(target, context);
    const b = await open(target, context);
    const stalled = await a.acquireLock('cycle', 1500);
    expect(stalled).toBeDefined();
    await sleep(1800);
    const other = await b.acquireLock('cycle', 60_000);
    expect(other).toBeDefined();
    await other?.release();
    // The stalled cycle wakes up: the run that overtook it may have moved cursors, so its lock is lost, not re-taken.
    await expect(stalled?.refresh()).rejects.toBeInstanceOf(LockedError);
    expect(await b.acquireLock('cycle', 60_000)).toBeDefined();
  });

  it('extends the expiry on refresh', async (context) => {
    const target = backend.fresh();
    const a = await open(target, context);
    const b = await open(target, context);
    const lock = await a.acquireLock('cycle', 1500);
    expect(lock).toBeDefined();
    await sleep(1000);
    await lock?.refresh();
    await sleep(1000);
    // At least 2000 ms after acquiring: past the first expiry, within the refreshed one.
    expect(await b.acquireLock('cycle', 60_000)).toBeUndefined();
    await lock?.release();
    expect(await b.acquireLock('cycle', 60_000)).toBeDefined();
  });

  it('rejects a ttl that is not a positive whole number of milliseconds', async (context) => {
    const store = await open(backend.fresh(), context);
    await expect(store.acquireLock('cycle', 0)).rejects.toThrow(/positive integer/);
    await expect(store.acquireLock('cycle', 1.5)).rejects.toThrow(/positive integer/);
  });

  it('lets exactly one of two racing processes win, every round', async () => {
    const target = backend.fresh();
    const racers = await Promise.all([0, 1].map(() => startRacer(target)));
    try {
      for (let round = 0; round < 10; round += 1) {
        const name = `race-${round}`;
        // All racers fire at the same wall-clock instant, so their acquisitions really overlap.
        const at = Date.now() + 100;
        for (const racer of racers) racer.send(`go ${name} ${at}`);
        const results = (await Promise.all(racers.map((r) => r.next()))).map((line) => JSON.parse(line) as { name: string; won: boolean });
        expect(results.map((r) => r.name)).toEqual([name, name]);
        expect(results.filter((r) => r.won), `winners of round ${round}`).toHaveLength(1);
      }
    } finally {
      await Promise.all(racers.map((r) => r.quit()));
    }
  });
});

interface Racer {
  send(line: string): void;
  next(): Promise<string>;
  quit(): Promise<void>;
}

/** Spawns test/store/lock-race-child.ts on the store and waits until it has opened it. */
async function startRacer(target: StoreTarget): Promise<Racer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/store/lock-race-child.ts', target.url, target.namespace], { cwd: repoRoot, stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  const waiting: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(line);
    else lines.push(line);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code) => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`racer exited with code ${code}: ${stderr}`));
  });
  const racer: Racer = {
    send: (line) => child.stdin.write(line + '\n'),
    next: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      if (child.exitCode !== null) return Promise.reject(new Error(`racer exited with code ${child.exitCode}: ${stderr}`));
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    quit: async () => {
      if (child.exitCode === null) child.stdin.end('quit\n');
      await exited;
    },
  };
  expect(await racer.next()).toBe('ready');
  return racer;
}
