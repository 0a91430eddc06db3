import { spawn } from 'node:child_process';
import { mkdir, readFile, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireFileLock } from '../../src/admin/acquire-file-lock.js';
import { editSubscribersFile } from '../../src/admin/edit-subscribers-file.js';
import { ConfigError, LockedError } from '../../src/model/errors.js';
import { SUBSCRIBERS_JSON, tempSubscribers } from './subscribers-file.js';
import type { TempSubscribers } from './subscribers-file.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const worker = path.join(here, 'edit-worker.ts');

/** Runs the worker script in a real child process; resolves with its exit code/signal and output. */
function runWorker(args: string[], onReady?: () => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (onReady && stdout.includes('ready\n')) {
        const callback = onReady;
        onReady = undefined;
        callback();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

let temp: TempSubscribers;
beforeEach(async () => {
  temp = await tempSubscribers();
});
afterEach(async () => {
  await temp.cleanup();
});

describe('editSubscribersFile', () => {
  it('applies the edit, keeps formatting, and writes a backup of the previous version', async () => {
    const result = await editSubscribersFile(temp.file, (doc) => {
      doc.subscribers.push({ id: 'bob', name: 'Bob', email: 'bob@example.org' });
    });
    expect(result.changed).toBe(true);
    expect(result.value.subscribers.map((s) => s.id)).toEqual(['alice', 'news-channel', 'bob']);
    const after = await temp.read();
    // Everything up to the end of the last existing subscriber is untouched, byte for byte.
    const lastEnd = SUBSCRIBERS_JSON.lastIndexOf('        }\n    ]') + '        }'.length;
    expect(after.slice(0, lastEnd)).toBe(SUBSCRIBERS_JSON.slice(0, lastEnd));
    // The new entry uses the file's 4-space indentation and inline style; the trailing newline stays.
    expect(after.slice(lastEnd)).toBe(',\n        {\n            "id": "bob",\n            "name": "Bob",\n            "email": "bob@example.org"\n        }\n    ]\n}\n');
    expect(result.backupPath).toBe(`${temp.file}.bak`);
    expect(await readFile(`${temp.file}.bak`, 'utf8')).toBe(SUBSCRIBERS_JSON);
    expect(await temp.others()).toEqual(['subscribers.json.bak']);
  });

  it('does not write (nor back up) when the edit changes nothing', async () => {
    const result = await editSubscribersFile(temp.file, (doc) => {
      doc.subscribers[0]!.name = 'Alice';
    });
    expect(result.changed).toBe(false);
    expect(await temp.read()).toBe(SUBSCRIBERS_JSON);
    expect(await temp.others()).toEqual([]);
  });

  it('can skip the backup', async () => {
    const result = await editSubscribersFile(temp.file, (doc) => void (doc.subscribers[0]!.paused = true), { backup: false });
    expect(result.backupPath).toBeUndefined();
    expect(await temp.others()).toEqual([]);
  });

  it('refuses an invalid result with a ConfigError listing every problem; the file stays byte-identical', async () => {
    const error = await editSubscribersFile(temp.file, (doc) => {
      doc.subscribers.push({ id: 'alice', name: 'Second Alice', email: 'not-an-email' });
      doc.subscribers[1]!.timezone = 'Atlantis/Capital';
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((i) => i.path)).toEqual(['subscribers[1].timezone', 'subscribers[2].email', 'subscribers[2].id']);
    expect((error as ConfigError).message).toContain(temp.file);
    expect(await temp.read()).toBe(SUBSCRIBERS_JSON);
    expect(await temp.others()).toEqual([]);
  });

  it('leaves the original intact when the edit throws midway, and releases the lock', async () => {
    const error = await editSubscribersFile(temp.file, (doc) => {
      doc.subscribers.splice(0, 1);
      throw new Error('boom in the middle of the edit');
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('boom in the middle of the edit');
    expect(await temp.read()).toBe(SUBSCRIBERS_JSON);
    expect(await temp.others()).toEqual([]);
    // The lock was released: the next edit goes through at once.
    await editSubscribersFile(temp.file, (doc) => void (doc.subscribers[0]!.paused = true), { lockTimeoutMs: 100 });
    expect((await temp.readJson()).subscribers[0].paused).toBe(true);
  });

  it('reads the file as it is inside the lock (an edit never works on a stale copy)', async () => {
    await writeFile(temp.file, SUBSCRIBERS_JSON.replace('"Alice"', '"Alice Changed Elsewhere"'));
    let seen = '';
    await editSubscribersFile(temp.file, (doc) => {
      seen = doc.subscribers[0]!.name;
      doc.subscribers[0]!.paused = true;
    });
    expect(seen).toBe('Alice Changed Elsewhere');
    expect((await temp.readJson()).subscribers[0].name).toBe('Alice Changed Elsewhere');
  });

  it('reports a file that is not valid JSON with line and column, without touching it', async () => {
    // Missing comma after line 13: JSON.parse stops at the next token, line 14.
    const broken = SUBSCRIBERS_JSON.replace('"id": "rust",', '"id": "rust"');
    await writeFile(temp.file, broken);
    const error = await editSubscribersFile(temp.file, () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.message).toMatch(/not valid JSON: .* at line 14, column \d+/);
    expect(await temp.read()).toBe(broken);
  });

  it('reports a missing file as a ConfigError', async () => {
    const error = await editSubscribersFile(path.join(temp.dir, 'nope.json'), () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.message).toBe('file not found');
  });

  it('reports a failed write (here: a directory where the backup goes) as a ConfigError; file intact, no temp files', async () => {
    await mkdir(`${temp.file}.bak`);
    const error = await editSubscribersFile(temp.file, (doc) => void (doc.subscribers[0]!.paused = true)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/cannot write the file \((EISDIR|EPERM|ENOTEMPTY|EEXIST)\); nothing was changed/);
    expect(await temp.read()).toBe(SUBSCRIBERS_JSON);
    expect(await temp.others()).toEqual(['subscribers.json.bak']);
  });

  it('refuses a file without the "feeds" / "subscribers" lists before running the edit', async () => {
    await writeFile(temp.file, '{ "feeds": [] }\n');
    let ran = false;
    const error = await editSubscribersFile(temp.file, () => void (ran = true)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([{ path: 'subscribers', message: 'expected a list ([ ... ]); add it, even if empty' }]);
    expect(ran).toBe(false);
  });

  it('edits the target of a symlink and keeps the link', async () => {
    const link = path.join(temp.dir, 'link.json');
    await symlink(temp.file, link);
    await editSubscribersFile(link, (doc) => void (doc.subscribers[0]!.paused = true));
    expect((await temp.readJson()).subscribers[0].paused).toBe(true);
    expect((await temp.others()).sort()).toEqual(['link.json', 'subscribers.json.bak']);
  });

  it('keeps a byte-order mark', async () => {
    await writeFile(temp.file, '\uFEFF' + SUBSCRIBERS_JSON);
    await editSubscribersFile(temp.file, (doc) => void (doc.subscribers[0]!.paused = true));
    const text = await temp.read();
    expect(text.startsWith('\uFEFF{\n    "$schema"')).toBe(true);
  });

  it('keeps tab indentation and CRLF line endings', async () => {
    const tabbed = JSON.stringify(JSON.parse(SUBSCRIBERS_JSON), null, '\t').replace(/\n/g, '\r\n') + '\r\n';
    await writeFile(temp.file, tabbed);
    await editSubscribersFile(temp.file, (doc) => void doc.feeds.push({ id: 'go', url: 'https://go.dev/blog/feed.atom', tags: [] }));
    const text = await temp.read();
    const expected = JSON.stringify({ ...JSON.parse(SUBSCRIBERS_JSON), feeds: [...JSON.parse(SUBSCRIBERS_JSON).feeds, { id: 'go', url: 'https://go.dev/blog/feed.atom', tags: [] }] }, null, '\t').replace(/\n/g, '\r\n') + '\r\n';
    expect(text).toBe(expected);
  });
});

describe('editSubscribersFile locking', () => {
  it('serializes 8 concurrent writer processes: every subscriber is present and the file is valid', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `worker-${i}`);
    const goFile = path.join(temp.dir, 'go');
    let ready = 0;
    let releaseAll: () => void = () => {};
    const allReady = new Promise<void>((resolve) => (releaseAll = resolve));
    const runs = ids.map((id) =>
      runWorker(['add', temp.file, id, goFile], () => {
        if (++ready === ids.length) releaseAll();
      }),
    );
    await allReady;
    // All workers are loaded and polling: they start their edits within a few milliseconds of each other.
    await writeFile(goFile, '');
    const results = await Promise.all(runs);
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    // The writers really did run at the same time: some of their add calls overlapped.
    const spans = results.map((r) => (/span (\d+) (\d+)/.exec(r.stdout) ?? []).slice(1).map(Number) as [number, number]);
    const overlapping = spans.filter(([begin], i) => spans.some(([b, end], j) => j !== i && b <= begin && begin < end));
    expect(overlapping.length).toBeGreaterThan(0);
    const doc = await temp.readJson();
    expect(doc.subscribers.map((s: { id: string }) => s.id).sort()).toEqual(['alice', 'news-channel', ...ids].sort());
    const check = await editSubscribersFile(temp.file, () => {});
    expect(check.value.subscribers).toHaveLength(10);
    expect((await temp.others()).filter((n) => n !== 'go')).toEqual(['subscribers.json.bak']);
  }, 60_000);

  it('survives a writer killed in the middle of its edit: original intact, its lock taken over at once', async () => {
    const crashed = await runWorker(['crash', temp.file]);
    expect(crashed.signal).toBe('SIGKILL');
    expect(await temp.read()).toBe(SUBSCRIBERS_JSON);
    expect(await temp.others()).toEqual(['subscribers.json.lock']);
    const lock = JSON.parse(await readFile(`${temp.file}.lock`, 'utf8')) as { pid: number };
    expect(lock.pid).not.toBe(process.pid);
    // The dead holder's lock is fresh by age, but its process is gone: taken over without waiting for staleness.
    const result = await editSubscribersFile(temp.file, (doc) => void (doc.subscribers[0]!.paused = true), { lockTimeoutMs: 2_000 });
    expect(result.changed).toBe(true);
    expect(await temp.others()).toEqual(['subscribers.json.bak']);
  }, 30_000);

  it('takes over a lock that has not been refreshed for longer than the stale limit', async () => {
    const lockPath = `${temp.file}.lock`;
    // Held by "pid 1 on another host": liveness cannot be checked, only the age counts.
    await writeFile(lockPath, JSON.stringify({ pid: 1, hostname: 'elsewhere.example', since: '2020-01-01T00:00:00.000Z', token: 'old' }));
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    const result = await editSubscribersFile(temp.file, (doc) => void (doc.subscribers[0]!.paused = true), { lockTimeoutMs: 1_000 });
    expect(result.changed).toBe(true);
    expect(await temp.others()).toEqual(['subscribers.json.bak']);
  });

  it('waits for a live holder and then gives up with a clear LockedError naming pid and time', async () => {
    const lockPath = `${temp.file}.lock`;
    await writeFile(lockPath, JSON.stringify({ pid: 4242, hostname: 'elsewhere.example', since: '2025-03-01T10:00:00.000Z', token: 't' }));
    const started = Date.now();
    const error = await editSubscribersFile(temp.file, (doc) => void (doc.subscribers[0]!.paused = true), { lockTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(error).toBeInstanceOf(LockedError);
    expect((error as LockedError).message).toBe(
      'another admin is editing subscribers.json (lock held by pid 4242 on elsewhere.example since 2025-03-01T10:00:00.000Z); try again',
    );
    expect((error as LockedError).hint).toContain(lockPath);
    expect(await temp.read()).toBe(SUBSCRIBERS_JSON);
    expect(await readFile(lockPath, 'utf8')).toContain('"pid":4242');
  });

  it('waits for a holder in this process and proceeds when it releases; the second edit sees the first', async () => {
    const lock = await acquireFileLock(`${temp.file}.lock`);
    expect(lock.owner).toMatchObject({ pid: process.pid, hostname: hostname() });
    const pending = editSubscribersFile(temp.file, (doc) => void doc.subscribers.push({ id: 'late', name: 'Late', email: 'late@example.org' }), { lockTimeoutMs: 5_000 });
    await sleep(150);
    expect(await temp.read()).toBe(SUBSCRIBERS_JSON);
    await lock.release();
    await pending;
    expect((await temp.readJson()).subscribers.map((s: { id: string }) => s.id)).toContain('late');
  });

  it('keeps a long edit alive (heartbeat) so a waiting editor does not take the lock over', async () => {
    const staleLockMs = 600;
    const slow = editSubscribersFile(
      temp.file,
      async (doc) => {
        await sleep(staleLockMs * 3);
        doc.subscribers.push({ id: 'slow', name: 'Slow', email: 'slow@example.org' });
      },
      { staleLockMs },
    );
    await sleep(50);
    const fast = editSubscribersFile(temp.file, (doc) => void doc.subscribers.push({ id: 'fast', name: 'Fast', email: 'fast@example.org' }), { staleLockMs, lockTimeoutMs: 10_000 });
    await Promise.all([slow, fast]);
    const ids = (await temp.readJson()).subscribers.map((s: { id: string }) => s.id);
    expect(ids).toEqual(['alice', 'news-channel', 'slow', 'fast']);
  });

  it('refuses to write when its lock was taken over during the edit (nothing lost, nothing written)', async () => {
    const lockPath = `${temp.file}.lock`;
    const error = await editSubscribersFile(temp.file, async (doc) => {
      doc.subscribers[0]!.paused = true;
      // Simulate another admin breaking our lock as stale and taking it.
      await unlink(lockPath);
      await writeFile(lockPath, JSON.stringify({ pid: process.pid, hostname: hostname(), since: new Date().toISOString(), token: 'someone-else' }));
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockedError);
    expect((error as LockedError).message).toMatch(/lost the lock/);
    expect(await temp.read()).toBe(SUBSCRIBERS_JSON);
    // The other holder's lock is left alone; no temp files remain.
    expect(await readFile(lockPath, 'utf8')).toContain('someone-else');
    expect((await temp.others()).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
