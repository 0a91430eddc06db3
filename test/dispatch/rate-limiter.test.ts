import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/dispatch/rate-limiter.js';
import { backoffDelay } from '../../src/dispatch/backoff-delay.js';

// A fake clock: sleep advances time, so slot arithmetic is checked exactly, without waiting.
function fakeClock() {
  let now = 1_000_000;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('RateLimiter', () => {
  it('spaces concurrent callers evenly from the first', async () => {
    // The clock stands still: five callers arrive at the same instant; each must be told to wait one more interval.
    const asked: number[] = [];
    const limiter = new RateLimiter({ perSecond: 10, now: () => 5_000, sleep: async (ms) => void asked.push(ms) });
    await Promise.all(Array.from({ length: 5 }, () => limiter.acquire()));
    expect(asked).toEqual([100, 200, 300, 400]);
  });

  it('does not bank unused slots: after idling, the next caller goes at once but the one after waits', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ perSecond: 2, now: clock.now, sleep: clock.sleep });
    await limiter.acquire();
    clock.advance(10_000);
    const t = clock.now();
    await limiter.acquire();
    expect(clock.now()).toBe(t);
    await limiter.acquire();
    expect(clock.now()).toBe(t + 500);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses perSecond %s', (perSecond) => {
    expect(() => new RateLimiter({ perSecond })).toThrow(RangeError);
  });
});

describe('backoffDelay', () => {
  it.each([
    [1, 0, 50],
    [1, 0.999, 100],
    [2, 0, 100],
    [3, 0, 200],
    [10, 0, 500], // capped at maxDelayMs 1000, half fixed
    [10, 0.999, 1000],
  ])('retry %i with random %f -> %i ms', (retry, random, expected) => {
    expect(backoffDelay(retry, { baseDelayMs: 100, maxDelayMs: 1000, random: () => random })).toBe(expected);
  });
});
