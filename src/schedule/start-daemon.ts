import cron from 'node-cron';
import type { Logger as CronLogger } from 'node-cron';
import { DigestError } from '../model/errors.js';
import type { Logger } from '../model/logger.js';
import { isValidTimeZone } from './zone-time.js';

/** Options of startDaemon. */
export interface DaemonOptions {
  /** One cycle; it decides itself which subscribers are due (isDue), so a late or skipped wake-up loses nothing. */
  tick: (now: Date) => Promise<void>;
  /** How often to wake up (node-cron syntax); default every minute. */
  cronExpression?: string;
  /** Zone the wake-up expression is read in (only matters for expressions with fixed hours); default the system zone. */
  timezone?: string;
  logger: Logger;
  /** Clock passed to tick; default the system clock. */
  now?: () => Date;
}

/** A running daemon. */
export interface Daemon {
  /** Stops waking up and resolves once a tick that is still running has finished. */
  stop(): Promise<void>;
}

/**
 * Runs tick once right away (catching up a window missed while the daemon was down) and then on every wake-up of the cron
 * expression, with node-cron 4. Ticks never overlap: a wake-up that finds the previous tick still running is skipped and
 * logged. Signal handling is the caller's job (call stop()).
 */
export function startDaemon(options: DaemonOptions): Daemon {
  const { tick, logger } = options;
  const expression = options.cronExpression ?? '* * * * *';
  const now = options.now ?? (() => new Date());
  if (!cron.validate(expression)) {
    throw new DigestError('CONFIG_INVALID', `daemon wake-up expression "${expression}" is not a valid cron expression`, {
      hint: 'Use a cron expression such as "* * * * *" (every minute) or "*/5 * * * *".',
    });
  }
  if (options.timezone !== undefined && !isValidTimeZone(options.timezone)) {
    throw new DigestError('CONFIG_INVALID', `daemon time zone "${options.timezone}" is not an IANA time zone`, { hint: 'Use a name such as Europe/Berlin or UTC.' });
  }

  let running: Promise<void> | undefined;
  let stopped = false;

  const runTick = (reason: 'start' | 'scheduled'): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      logger.warn({ reason }, 'previous tick still running; skipping this wake-up');
      return Promise.resolve();
    }
    const at = now();
    running = (async () => {
      try {
        await tick(at);
      } catch (error) {
        // A failed tick must not stop the daemon; the next wake-up tries again.
        logger.error({ err: error, at: at.toISOString() }, 'tick failed');
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const task = cron.schedule(expression, () => runTick('scheduled'), {
    name: 'planet-digest',
    ...(options.timezone !== undefined ? { timezone: options.timezone } : {}),
    // Our own guard covers the start tick too; node-cron's guard is the second line.
    noOverlap: true,
    // A busy event loop delays the wake-up; running late is better than skipping a minute.
    missedExecutionTolerance: 30_000,
    logger: cronLogger(logger),
  });
  task.on('execution:missed', (context) => {
    logger.debug({ at: context.date.toISOString() }, 'wake-up missed (event loop busy); the next one catches up');
  });
  logger.info({ expression, timezone: options.timezone }, 'daemon started');
  void runTick('start');

  let stopping: Promise<void> | undefined;
  return {
    stop(): Promise<void> {
      stopping ??= (async () => {
        stopped = true;
        await task.destroy();
        if (running) await running;
        logger.info({}, 'daemon stopped');
      })();
      return stopping;
    },
  };
}

/** node-cron's own messages (overlap, missed runs) go to our logger. */
function cronLogger(logger: Logger): CronLogger {
  const child = logger.child({ component: 'node-cron' });
  const text = (message: string | Error, err?: Error): [object, string] => [
    err !== undefined ? { err } : {},
    message instanceof Error ? message.message : message,
  ];
  return {
    info: (message) => child.info({}, message),
    warn: (message) => child.warn({}, message),
    error: (message, err) => child.error(...text(message, err)),
    debug: (message, err) => child.debug(...text(message, err)),
  };
}
