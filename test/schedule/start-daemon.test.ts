import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../src/model/logger.js';
import { DigestError } from '../../src/model/errors.js';
import { parseSchedule } from '../../src/schedule/parse-schedule.js';
import { isDue, latestWindow } from '../../src/schedule/schedule-windows.js';
import { startDaemon } from '../../src/schedule/start-daemon.js';

interface LogLine {
  level: string;
  obj: object | string;
  msg?: string;
}

function recordingLogger(lines: LogLine[]): Logger {
  const logger: Logger = {
    debug: (obj, msg) => void lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
    child: () => logger,
  };
  return logger;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const MINUTE = 60_000;

describe('startDaemon', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2025-07-15T10:00:30.000Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks once at start, then on every wake-up, with the clock it was given', async () => {
    const lines: LogLine[] = [];
    const seen: string[] = [];
    const daemon = startDaemon({ tick: async (now) => void seen.push(now.toISOString()), logger: recordingLogger(lines) });
    await vi.advanceTimersByTimeAsync(3 * MINUTE);
    await daemon.stop();
    expect(seen).toEqual(['2025-07-15T10:00:30.000Z', '2025-07-15T10:01:00.000Z', '2025-07-15T10:02:00.000Z', '2025-07-15T10:03:00.000Z']);
    // Stopped: no more ticks.
    await vi.advanceTimersByTimeAsync(5 * MINUTE);
    expect(seen).toHaveLength(4);
  });

  it('never runs two ticks at once: wake-ups during a long tick are skipped and logged', async () => {
    const lines: LogLine[] = [];
    const gate = deferred();
    let active = 0;
    let maxActive = 0;
    const starts: string[] = [];
    const daemon = startDaemon({
      logger: recordingLogger(lines),
      tick: async (now) => {
        starts.push(now.toISOString());
        active += 1;
        maxActive = Math.max(maxActive, active);
        if (starts.length === 1) await gate.promise; // the start tick hangs for a while
        active -= 1;
      },
    });
    await vi.advanceTimersByTimeAsync(3 * MINUTE + 10_000);
    expect(starts).toEqual(['2025-07-15T10:00:30.000Z']);
    const skips = lines.filter((l) => l.level === 'warn' && /skipping/.test(l.msg ?? ''));
    expect(skips).toHaveLength(3);
    gate.resolve();
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(starts).toEqual(['2025-07-15T10:00:30.000Z', '2025-07-15T10:04:00.000Z']);
    expect(maxActive).toBe(1);
    await daemon.stop();
  });

  it('a slow scheduled tick also blocks the next wake-ups (node-cron noOverlap), then ticking resumes', async () => {
    const lines: LogLine[] = [];
    const gate = deferred();
    const starts: string[] = [];
    const daemon = startDaemon({
      logger: recordingLogger(lines),
      tick: async (now) => {
        starts.push(now.toISOString());
        if (starts.length === 2) await gate.promise;
      },
    });
    await vi.advanceTimersByTimeAsync(4 * MINUTE);
    expect(starts).toEqual(['2025-07-15T10:00:30.000Z', '2025-07-15T10:01:00.000Z']);
    expect(lines.some((l) => l.level === 'warn')).toBe(true);
    gate.resolve();
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(starts.at(-1)).toBe('2025-07-15T10:05:00.000Z');
    await daemon.stop();
  });

  it('stop() waits for the running tick to finish', async () => {
    const gate = deferred();
    let finished = false;
    const daemon = startDaemon({
      logger: recordingLogger([]),
      tick: async () => {
        await gate.promise;
        finished = true;
      },
    });
    let stopped = false;
    const stopping = daemon.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(2 * MINUTE);
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(finished).toBe(true);
    expect(stopped).toBe(true);
  });

  it('a failing tick is logged and the daemon keeps going', async () => {
    const lines: LogLine[] = [];
    let calls = 0;
    const daemon = startDaemon({
      logger: recordingLogger(lines),
      tick: async () => {
        calls += 1;
        if (calls === 1) throw new Error('store unreachable');
      },
    });
    await vi.advanceTimersByTimeAsync(2 * MINUTE);
    await daemon.stop();
    expect(calls).toBe(3);
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['tick failed']);
  });

  it('uses the given now() and cron expression', async () => {
    const seen: string[] = [];
    const daemon = startDaemon({
      logger: recordingLogger([]),
      cronExpression: '*/5 * * * *',
      now: () => new Date('2030-01-01T00:00:00Z'),
      tick: async (now) => void seen.push(now.toISOString()),
    });
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    await daemon.stop();
    // Start tick + wake-ups at 10:05 and 10:10.
    expect(seen).toEqual(['2030-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z']);
  });

  it.each([
    { cronExpression: 'every minute', timezone: undefined },
    { cronExpression: undefined, timezone: 'Mars/Olympus_Mons' },
  ])('rejects invalid options: %j', (bad) => {
    expect(() => startDaemon({ tick: async () => {}, logger: recordingLogger([]), ...bad })).toThrow(DigestError);
  });
});

/*
 * The daemon loop as the CLI runs it: startDaemon with a tick that asks isDue for every subscriber and records the
 * window it served as lastWindow. Fake timers move the clock minute by minute across DST changes.
 */
describe('daemon simulation across DST changes', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  interface Sim {
    id: string;
    schedule: string;
    tz: string;
  }

  interface SimOptions {
    /** 'daemon': startDaemon under fake timers (node-cron wakes every minute); 'loop': the same tick called minute by minute, cheaper. */
    driver: 'daemon' | 'loop';
    downtime?: { downAt: string; upAt: string };
  }

  async function simulate(subscribers: Sim[], start: string, days: number, options: SimOptions = { driver: 'daemon' }) {
    const state = new Map<string, Date | undefined>();
    // Each subscriber was served at its latest window before the simulation starts.
    for (const s of subscribers) state.set(s.id, latestWindow(parseSchedule(s.schedule), s.tz, new Date(start)));
    const fired = new Map<string, { at: string; window: string }[]>(subscribers.map((s) => [s.id, []]));
    // What the CLI's tick does for scheduling: ask isDue per subscriber, serve, remember the window.
    const tick = async (now: Date): Promise<void> => {
      for (const s of subscribers) {
        const due = isDue(parseSchedule(s.schedule), s.tz, now, state.get(s.id));
        if (due.due) {
          fired.get(s.id)!.push({ at: now.toISOString(), window: due.window!.toISOString() });
          state.set(s.id, due.window);
        }
      }
    };
    const end = new Date(start).getTime() + days * 86_400_000;
    if (options.driver === 'loop') {
      for (let t = new Date(start).getTime(); t <= end; t += 60_000) await tick(new Date(t));
      return fired;
    }
    vi.useFakeTimers({ now: new Date(start) });
    let daemon = startDaemon({ tick, logger: recordingLogger([]) });
    if (options.downtime) {
      await vi.advanceTimersByTimeAsync(new Date(options.downtime.downAt).getTime() - Date.now());
      await daemon.stop();
      vi.setSystemTime(new Date(options.downtime.upAt));
      daemon = startDaemon({ tick, logger: recordingLogger([]) });
    }
    await vi.advanceTimersByTimeAsync(end - Date.now());
    await daemon.stop();
    return fired;
  }

  it('Europe/Berlin fall-back, 3 days: daily 02:30 fires once per night, hourly once per wall-clock hour', async () => {
    const fired = await simulate(
      [
        { id: 'daily', schedule: 'daily 02:30', tz: 'Europe/Berlin' },
        { id: 'hourly', schedule: 'hourly', tz: 'Europe/Berlin' },
        { id: 'weekly', schedule: 'weekly sun 02:30', tz: 'Europe/Berlin' },
        { id: 'honolulu', schedule: 'daily 07:00', tz: 'Pacific/Honolulu' },
      ],
      '2025-10-25T00:00:00Z',
      3,
    );
    expect(fired.get('daily')!.map((f) => f.at)).toEqual(['2025-10-25T00:30:00.000Z', '2025-10-26T00:30:00.000Z', '2025-10-27T01:30:00.000Z']);
    expect(fired.get('weekly')!.map((f) => f.at)).toEqual(['2025-10-26T00:30:00.000Z']);
    expect(fired.get('honolulu')!.map((f) => f.at)).toEqual(['2025-10-25T17:00:00.000Z', '2025-10-26T17:00:00.000Z', '2025-10-27T17:00:00.000Z']);
    // Local day 2025-10-26 runs from 2025-10-25T22:00Z to 2025-10-26T23:00Z (25 hours): 24 firings, 02:00 only once.
    const hourly = fired.get('hourly')!.map((f) => f.at);
    const onFallBackDay = hourly.filter((t) => t >= '2025-10-25T22:00:00.000Z' && t < '2025-10-26T23:00:00.000Z');
    expect(onFallBackDay).toHaveLength(24);
    expect(onFallBackDay).not.toContain('2025-10-26T01:00:00.000Z'); // the repeated 02:00 (CET)
    expect(hourly).toHaveLength(3 * 24 - 1); // 72 hours of UTC time, one repeated local hour skipped
    for (const list of fired.values()) for (const f of list) expect(f.at).toBe(f.window); // fired on the minute
  });

  it('America/New_York spring-forward: daily 02:30 fires once, at 03:30 EDT; twice-daily keeps local times', async () => {
    const fired = await simulate(
      [
        { id: 'daily', schedule: 'daily 02:30', tz: 'America/New_York' },
        { id: 'twice', schedule: 'twice-daily 07:00,19:00', tz: 'America/New_York' },
      ],
      '2025-03-08T06:00:00Z',
      2.05, // until 2025-03-10T07:12Z
      { driver: 'loop' },
    );
    expect(fired.get('daily')!.map((f) => f.at)).toEqual(['2025-03-08T07:30:00.000Z', '2025-03-09T07:30:00.000Z', '2025-03-10T06:30:00.000Z']);
    expect(fired.get('twice')!.map((f) => f.at)).toEqual([
      '2025-03-08T12:00:00.000Z',
      '2025-03-09T00:00:00.000Z',
      '2025-03-09T11:00:00.000Z',
      '2025-03-09T23:00:00.000Z',
    ]);
  });

  it('Pacific/Auckland spring-forward (UTC+12 -> +13): daily 02:30 fires once per night', async () => {
    const fired = await simulate([{ id: 'daily', schedule: 'daily 02:30', tz: 'Pacific/Auckland' }], '2025-09-27T00:00:00Z', 2, { driver: 'loop' });
    expect(fired.get('daily')!.map((f) => f.at)).toEqual(['2025-09-27T14:30:00.000Z', '2025-09-28T13:30:00.000Z']);
  });

  it('downtime across several windows: one catch-up at restart (the latest window), then back on schedule', async () => {
    const fired = await simulate(
      [
        { id: 'daily', schedule: 'daily 07:00', tz: 'Europe/Berlin' },
        { id: 'hourly', schedule: 'hourly', tz: 'Pacific/Honolulu' },
      ],
      '2025-10-24T12:00:00Z',
      3.5, // until 2025-10-28T00:00Z; only the hours before and after the downtime are simulated
      { driver: 'daemon', downtime: { downAt: '2025-10-24T20:00:30Z', upAt: '2025-10-26T09:10:00Z' } },
    );
    expect(fired.get('daily')).toEqual([
      { at: '2025-10-26T09:10:00.000Z', window: '2025-10-26T06:00:00.000Z' }, // caught up once, for the 26th (25th skipped)
      { at: '2025-10-27T06:00:00.000Z', window: '2025-10-27T06:00:00.000Z' }, // 07:00 CET after the fall-back
    ]);
    const hourly = fired.get('hourly')!;
    const atRestart = hourly.filter((f) => f.at === '2025-10-26T09:10:00.000Z');
    expect(atRestart).toEqual([{ at: '2025-10-26T09:10:00.000Z', window: '2025-10-26T09:00:00.000Z' }]);
    expect(hourly.filter((f) => f.at > '2025-10-24T20:00:30.000Z' && f.at < '2025-10-26T09:10:00.000Z')).toEqual([]);
    expect(hourly[hourly.length - 1]!.at).toBe('2025-10-28T00:00:00.000Z');
  });
});
