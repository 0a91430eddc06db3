import type { Command } from 'commander';
import type { Logger } from '../model/logger.js';
import type { SeenStore } from '../store/seen-store.js';
import { openStore } from '../store/open-store.js';
import type { DigestServer } from '../serve/create-server.js';
import { localSecret } from './create-runtime.js';
import type { CliContext } from './main.js';

/** Starts the HTTP endpoints on DIGEST_HTTP_HOST:DIGEST_HTTP_PORT (127.0.0.1:8080 by default). */
export async function startServer(ctx: CliContext, options: { file: string; store: SeenStore; logger: Logger }): Promise<DigestServer> {
  const [{ createServer }, { removeSubscriber }, { AdminError }] = await Promise.all([
    import('../serve/create-server.js'),
    import('../admin/subscriber-commands.js'),
    import('../admin/admin-error.js'),
  ]);
  const env = ctx.env();
  const secret = env.unsubscribe.secret ?? (await localSecret(options.store));
  const server = await createServer({
    host: env.http.host,
    port: env.http.port,
    store: options.store,
    secret,
    logger: options.logger,
    unsubscribe: async (subscriberId) => {
      try {
        await removeSubscriber(options.file, subscriberId);
        return true;
      } catch (error) {
        if (error instanceof AdminError && error.kind === 'not-found') return false;
        throw error;
      }
    },
  });
  options.logger.info({ url: server.url }, 'serving /unsubscribe, /healthz and /metrics');
  return server;
}

/** `planet-digest serve`: the unsubscribe endpoint, /healthz and /metrics, without the daemon. */
export function registerServeCommand(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('Serve one-click unsubscribe (RFC 8058), /healthz and /metrics (Prometheus).')
    .option('-s, --subscribers <file>', 'subscribers file (unsubscribing removes the subscriber from it)')
    .addHelpText(
      'after',
      `
Listens on DIGEST_HTTP_HOST:DIGEST_HTTP_PORT (default 127.0.0.1:8080). Put it behind your
HTTPS reverse proxy and set DIGEST_BASE_URL to its public address, so digest emails carry
working one-click unsubscribe links. Use "daemon --serve" to run both in one process.

Examples:
  $ planet-digest serve
  $ DIGEST_HTTP_PORT=9090 planet-digest serve
  $ curl -s http://127.0.0.1:8080/healthz`,
    )
    .action(async (opts: { subscribers?: string }) => {
      const env = ctx.env();
      const logger = ctx.logger();
      const store = await openStore(env.store.url, { logger });
      const server = await startServer(ctx, { file: ctx.subscribersFile(opts.subscribers), store, logger });
      ctx.print(`Listening on ${server.url} (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        const stop = () => void server.close().then(() => store.close()).then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
