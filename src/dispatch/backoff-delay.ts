import { setTimeout as delay } from 'node:timers/promises';

/** Backoff settings shared by the channels' retry loops. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  baseDelayMs: number;
  /** Upper bound of any single delay. */
  maxDelayMs: number;
  /** Random source in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

/**
 * Delay before retry number `retry` (1 = the first retry): exponential (base × 2^(retry-1), capped) with "equal
 * jitter" — half fixed, half random — so many subscribers failing together do not retry in lockstep.
 */
export function backoffDelay(retry: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const exp = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** Promise-based sleep (the default of every injectable `sleep` option in src/dispatch). */
export function sleep(ms: number): Promise<void> {
  return ms > 0 ? delay(ms) : Promise.resolve();
}
