import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { CycleLock } from './seen-store.js';

/** Backend-specific, cross-process atomic lock that KeyvSeenStore.acquireLock delegates to. */
export interface CycleLockProvider {
  /** Takes lock `name` for `ttlMs`, or returns undefined when another live owner holds it. */
  acquire(name: string, ttlMs: number): Promise<CycleLock | undefined>;
}

/** A unique owner token per acquisition: host and pid help an admin see who holds a lock; the UUID makes it unique. */
export function createLockOwner(): string {
  return `${hostname()}/${process.pid}/${randomUUID()}`;
}

/** Rejects lock parameters that would make a lock that never expires or expires at once. */
export function checkLockTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`lock ttlMs must be a positive integer number of milliseconds, got ${ttlMs}`);
  }
}
