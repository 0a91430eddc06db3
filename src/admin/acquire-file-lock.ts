import { randomUUID } from 'node:crypto';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockedError } from '../model/errors.js';

/** What a lock file holds: who took it and when, plus a token that tells this holder's lock from a successor's. */
export interface LockOwner {
  pid: number;
  hostname: string;
  /** ISO time the lock was taken. */
  since: string;
  token: string;
}

/** A held lock; the holder keeps it fresh until release(). */
export interface FileLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** True while the lock file still carries this holder's token (false after a takeover). */
  isHeld(): Promise<boolean>;
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): Promise<void>;
}

/** Options for acquireFileLock. */
export interface AcquireFileLockOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** A lock whose file was not refreshed for this long is abandoned and may be taken over (default 30 s). */
  staleMs?: number;
  /** What is being locked, for the error message (e.g. "subscribers.json"). */
  what?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STALE_MS = 30_000;
// The takeover guard is held for a handful of file operations; older than this means its holder died.
const GUARD_STALE_MS = 5_000;

interface Observed {
  text: string;
  owner?: LockOwner;
  mtimeMs: number;
  ino: number;
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid === 'number' && typeof value.token === 'string') {
      return { pid: value.pid, hostname: String(value.hostname ?? ''), since: String(value.since ?? ''), token: value.token };
    }
  } catch {
    // A lock file being written right now is empty or partial: judged by its age only.
  }
  return undefined;
}

async function observe(lockPath: string): Promise<Observed | undefined> {
  try {
    const [info, text] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    return { text, owner: parseOwner(text), mtimeMs: info.mtimeMs, ino: info.ino };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** A process on this host that no longer exists cannot hold anything. */
function ownerIsDead(owner: LockOwner | undefined): boolean {
  if (!owner || owner.hostname !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return errnoCode(error) === 'ESRCH';
  }
}

/**
 * Removes an abandoned lock file. Breakers serialize through `<lock>.takeover` (O_EXCL) and re-check, inside it,
 * that the lock file is still the very one judged stale, so a fresh lock taken meanwhile is never removed.
 */
async function breakStaleLock(lockPath: string, observed: Observed): Promise<boolean> {
  const guardPath = `${lockPath}.takeover`;
  let guard;
  try {
    guard = await open(guardPath, 'wx');
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
    const info = await stat(guardPath).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > GUARD_STALE_MS) await unlink(guardPath).catch(() => undefined);
    return false;
  }
  try {
    const now = await observe(lockPath);
    if (now && now.ino === observed.ino && now.text === observed.text && now.mtimeMs === observed.mtimeMs) {
      await unlink(lockPath).catch((error: unknown) => {
        if (errnoCode(error) !== 'ENOENT') throw error;
      });
    }
    return true;
  } finally {
    await guard.close();
    await unlink(guardPath).catch(() => undefined);
  }
}

function describeHolder(observed: Observed | undefined): string {
  const owner = observed?.owner;
  if (!owner) return 'lock file present';
  const host = owner.hostname && owner.hostname !== hostname() ? ` on ${owner.hostname}` : '';
  return `lock held by pid ${owner.pid}${host} since ${owner.since}`;
}

/**
 * Takes an exclusive lock by creating `lockPath` with O_EXCL (holding pid, host, time and a token). Waits with short
 * randomized sleeps while another holder has it; takes over a lock that is stale (not refreshed for `staleMs`, or
 * whose process on this host is gone). Throws LockedError after `timeoutMs`.
 */
export async function acquireFileLock(lockPath: string, options: AcquireFileLockOptions = {}): Promise<FileLock> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const what = options.what ?? path.basename(lockPath).replace(/\.lock$/, '');
  const deadline = Date.now() + timeoutMs;
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), since: new Date().toISOString(), token: randomUUID() };
  let lastSeen: Observed | undefined;
  for (;;) {
    const handle = await open(lockPath, 'wx').catch((error: unknown) => {
      if (errnoCode(error) === 'EEXIST') return undefined;
      throw error;
    });
    if (handle) {
      try {
        owner.since = new Date().toISOString();
        await handle.writeFile(JSON.stringify(owner) + '\n');
        await handle.sync();
        await handle.close();
      } catch (error) {
        // Do not leave a half-written lock behind to block everyone until it goes stale.
        await handle.close().catch(() => undefined);
        await unlink(lockPath).catch(() => undefined);
        throw error;
      }
      return heldLock(lockPath, owner, staleMs);
    }
    const observed = await observe(lockPath);
    if (observed) {
      lastSeen = observed;
      if (Date.now() - observed.mtimeMs > staleMs || ownerIsDead(observed.owner)) {
        // Another process is breaking it: give it a moment instead of spinning.
        if (!(await breakStaleLock(lockPath, observed))) await sleep(10);
        if (Date.now() < deadline) continue;
      }
    }
    if (Date.now() >= deadline) {
      throw new LockedError(`another admin is editing ${what} (${describeHolder(lastSeen)}); try again`, {
        hint: `If no planet-digest command is running, the lock is abandoned: it is taken over automatically after ${Math.round(staleMs / 1000)} s, or delete ${lockPath}.`,
      });
    }
    if (observed) await sleep(15 + Math.random() * 35);
  }
}

function heldLock(lockPath: string, owner: LockOwner, staleMs: number): FileLock {
  // Refresh the lock's mtime so a long edit is not mistaken for an abandoned one.
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(lockPath, now, now).catch(() => undefined);
  }, Math.max(50, Math.floor(staleMs / 3)));
  heartbeat.unref();
  let released = false;
  const isHeld = async (): Promise<boolean> => (await observe(lockPath))?.owner?.token === owner.token;
  return {
    path: lockPath,
    owner,
    isHeld,
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      if (await isHeld()) await unlink(lockPath).catch(() => undefined);
    },
  };
}
