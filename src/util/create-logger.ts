import { pino } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '../model/logger.js';

/** pino logger: JSON lines when stderr is not a terminal (for log collectors), short readable lines when it is. */
export function createLogger(options: { level: string; pretty?: boolean; destination?: NodeJS.WritableStream }): Logger {
  const usePretty = options.pretty ?? Boolean(process.stderr.isTTY);
  if (usePretty) {
    const stream = pretty({ sync: true, destination: 2, translateTime: 'HH:MM:ss', ignore: 'pid,hostname', singleLine: true });
    return pino({ level: options.level, base: undefined }, stream);
  }
  return pino({ level: options.level, base: undefined }, (options.destination as never) ?? pino.destination({ fd: 2, sync: true }));
}
