import type { Command } from 'commander';
import { loadDigestConfig, type DigestConfig } from '../config/load-digest-config.js';
import { LockedError } from '../model/errors.js';
import { createRuntime } from './create-runtime.js';
import { summaryFields } from './format-summary.js';
import type { CliContext } from './main.js';

/** `planet-digest daemon`: wake every minute, poll feeds, send each subscriber's digest at their scheduled time. */
export function registerDaemonCommand(program: Command, ctx: CliContext): void {
  program
    .command('daemon')
    .description("Run continuously: send each subscriber's digest at their scheduled time (default DIGEST_CRON, 07:00 in DIGEST_TZ).")
    .option('-s, --subscribers <file>', 'subscribers file')
    .option('--serve', 'also serve the unsubscribe, /healthz and /metrics endpoints in the same process')
    .addHelpText(
      'after',
      `
The daemon wakes every minute. A subscriber is due when their schedule's latest window
has not been served yet; a window missed while the daemon was down is sent once at start.
Feeds are polled when someone is due, and at least every DIGEST_POLL_MINUTES (default 60).
subscribers.json is re-read on every wake-up; an invalid edit is logged and the previous
version stays in use. SIGINT/SIGTERM finish the message in flight, then exit.`,
    )
    .action(async (opts: { subscribers?: string; serve?: boolean }) => {
      const env = ctx.env();
      const logger = ctx.logger();
      const file = ctx.subscribersFile(opts.subscribers);
      let config: DigestConfig = await loadDigestConfig(file);
      const runtime = await createRuntime({ env, config, logger, now: () => new Date(), version: ctx.version, requireSecret: true, defaultAllowPrivate: false });
      const { startDaemon } = await import('../schedule/start-daemon.js');
      const shutdown = new AbortController();
      const server = opts.serve ? await (await import('./serve-command.js')).startServer(ctx, { file, store: runtime.store, logger }) : undefined;
      const daemon = startDaemon({
        logger,
        tick: async () => {
          try {
            config = await loadDigestConfig(file);
            runtime.deps.config = config;
          } catch (error) {
            logger.error({ err: error instanceof Error ? error.message : String(error) }, 'subscribers file is invalid; keeping the previous version until it is fixed');
          }
          try {
            const report = await runtime.run({ audience: 'due', idlePollMinutes: env.schedule.pollMinutes, signal: shutdown.signal });
            if (!report.idle) logger.info(summaryFields(report), 'cycle finished');
            server?.recordCycle(report);
          } catch (error) {
            if (error instanceof LockedError) logger.warn('another cycle holds the store lock; skipping this wake-up');
            else logger.error({ err: error instanceof Error ? error.message : String(error) }, 'cycle failed; retrying at the next wake-up');
          }
        },
      });
      logger.info({ subscribers: config.subscribers.length, feeds: config.feeds.length, serve: Boolean(server) }, 'daemon started');
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            logger.warn({ signal }, 'second signal: exiting now');
            process.exit(130);
          }
          stopping = true;
          logger.info({ signal }, 'stopping: finishing the message in flight');
          shutdown.abort();
          void (async () => {
            await daemon.stop();
            await server?.close();
            await runtime.close();
            resolve();
          })();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      logger.info('daemon stopped');
    });
}
