import { createRequire } from 'node:module';
import { pino } from 'pino';
import type { Logger } from '../model/logger.js';
import type PinoPretty from 'pino-pretty';

// pino-pretty is loaded only for a terminal: scripts and services (JSON lines) never pay for it.
const require = createRequire(import.meta.url);

/** pino logger: JSON lines when stderr is not a terminal (for log collectors), short readable lines when it is. */
export function createLogger(options: { level: string; pretty?: boolean; destination?: NodeJS.WritableStream }): Logger {
  const usePretty = options.pretty ?? Boolean(process.stderr.isTTY);
  if (usePretty) {
    const pretty = require('pino-pretty') as typeof PinoPretty;
    const stream = pretty({ sync: true, destination: 2, translateTime: 'HH:MM:ss', ignore: 'pid,hostname', singleLine: true });
    return pino({ level: options.level, base: undefined }, stream);
  }
  return pino({ level: options.level, base: undefined }, (options.destination as never) ?? pino.destination({ fd: 2, sync: true }));
}
