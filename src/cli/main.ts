import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { config as loadDotenv } from 'dotenv';
import { loadEnvConfig, type EnvConfig } from '../config/load-env-config.js';
import { loadDigestConfig } from '../config/load-digest-config.js';
import { ConfigError, DigestError, LockedError } from '../model/errors.js';
import type { Logger } from '../model/logger.js';
import { createLogger } from '../util/create-logger.js';
import { loadTemplates } from '../template/load-template.js';
import { createRuntime } from './create-runtime.js';
import { formatSummary, summaryFields } from './format-summary.js';
import { registerInspectCommand } from './inspect-command.js';
import { registerPreviewCommand } from './preview-command.js';
import { registerDaemonCommand } from './daemon-command.js';
import { registerFeedsCommand } from './feeds-command.js';
import { registerSubscribersCommand } from './subscribers-command.js';
import { registerServeCommand } from './serve-command.js';

/** Exit codes: a contract for cron jobs and scripts (README: exit codes). */
export const EXIT = {
  ok: 0,
  deliveryFailed: 1,
  config: 2,
  locked: 3,
  runtime: 4,
} as const;

/** Streams and environment of one CLI invocation (tests pass their own). */
export interface CliIo {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** What every command gets: parsed env config, a logger, and helpers to print. */
export interface CliContext {
  io: CliIo;
  version: string;
  env(): EnvConfig;
  logger(level?: string): Logger;
  print(text: string): void;
  /** A progress line on a terminal, nothing elsewhere. */
  progress(text: string | undefined): void;
  subscribersFile(option?: string): string;
  setExitCode(code: number): void;
}

/** package.json version, read once (src/cli and dist/cli are both two levels below the package root). */
export function readVersion(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const pkg = JSON.parse(readFileSync(path.resolve(here, '../../package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Builds the commander program. */
export function createProgram(io: CliIo): { program: Command; exitCode: () => number } {
  const version = readVersion();
  let exitCode: number = EXIT.ok;
  let envConfig: EnvConfig | undefined;
  let progressShown = false;
  const ctx: CliContext = {
    io,
    version,
    env() {
      envConfig ??= loadEnvConfig(io.env);
      return envConfig;
    },
    logger(level) {
      return createLogger({ level: level ?? ctx.env().logLevel, pretty: Boolean(io.stderr.isTTY), destination: io.stderr });
    },
    print(text) {
      ctx.progress(undefined);
      io.stdout.write(text.endsWith('\n') ? text : text + '\n');
    },
    progress(text) {
      if (!io.stderr.isTTY) return;
      if (text === undefined) {
        if (progressShown) io.stderr.write('\r\x1b[2K');
        progressShown = false;
        return;
      }
      io.stderr.write('\r\x1b[2K' + text);
      progressShown = true;
    },
    subscribersFile(option) {
      return path.resolve(io.cwd, option ?? ctx.env().subscribersFile);
    },
    setExitCode(code) {
      exitCode = Math.max(exitCode, code);
    },
  };

  const program = new Command('planet-digest')
    .version(version, '-V, --version')
    .description('Turns many feeds into one good digest per person (email) or per Slack channel.')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run planet-digest --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Quick start (offline, on the bundled sample feeds; digests land in ./outbox):
  $ planet-digest run
  $ planet-digest preview ada --out digest.html

Configuration comes from subscribers.json (feeds and subscribers; see README) and
environment variables (or a .env file): DIGEST_STORE_URL, SMTP_URL, MAIL_FROM,
DIGEST_OUTBOX, SLACK_BOT_TOKEN, SLACK_API_URL, DIGEST_CRON, DIGEST_TZ, DIGEST_SECRET,
DIGEST_BASE_URL. Without SMTP_URL / SLACK_BOT_TOKEN digests are written to the outbox.

Exit codes: 0 ok, 1 some digests not delivered, 2 configuration error,
3 another cycle is running, 4 store or other runtime error.`,
    );

  program
    .command('run')
    .description('Run one digest cycle: poll feeds, find new entries, send each subscriber their digest.')
    .option('-s, --subscribers <file>', 'subscribers file (default: $DIGEST_SUBSCRIBERS or ./subscribers.json)')
    .option('--dry-run', 'render the digests but neither send nor record anything')
    .addOption(new Option('--now <iso>', 'act as if it were this instant and send only to subscribers due then (for cron and tests)'))
    .option('--due', 'send only to subscribers whose schedule is due now (default: everyone)')
    .option('--force-poll', 'poll every feed now, ignoring backoff and Cache-Control')
    .addHelpText(
      'after',
      `
Examples:
  $ planet-digest run                          # everyone, now (demo, manual runs, system cron)
  $ planet-digest run --due                    # only subscribers whose schedule has come (cron every 5 min)
  $ planet-digest run --now 2026-06-01T05:00Z  # as if it were that instant
  $ planet-digest run --dry-run                # see what would go out`,
    )
    .action(async (opts: { subscribers?: string; dryRun?: boolean; now?: string; due?: boolean; forcePoll?: boolean }) => {
      let fixedNow: Date | undefined;
      if (opts.now !== undefined) {
        fixedNow = new Date(opts.now);
        if (Number.isNaN(fixedNow.getTime())) throw new ConfigError('--now', [{ path: '--now', message: `"${opts.now}" is not an ISO 8601 instant, e.g. 2026-06-01T07:00:00+02:00` }]);
      }
      const env = ctx.env();
      const logger = ctx.logger(io.env.DIGEST_LOG_LEVEL ?? (io.stderr.isTTY ? 'warn' : 'info'));
      const config = await loadDigestConfig(ctx.subscribersFile(opts.subscribers));
      const offset = fixedNow ? fixedNow.getTime() - Date.now() : 0;
      const scheduled = Boolean(opts.due || fixedNow);
      const runtime = await createRuntime({
        env,
        config,
        logger,
        now: () => new Date(Date.now() + offset),
        version,
        requireSecret: !opts.dryRun,
        collect: opts.dryRun,
        // Scheduled runs (cron) act like the daemon: feed URLs on private networks are refused unless allowed.
        defaultAllowPrivate: !scheduled,
      });
      try {
        runtime.deps.onProgress = (phase, done, total) => ctx.progress(phase === 'fetch' ? `polling feeds ${done}/${total}` : `sending digests ${done}/${total}`);
        const report = await runtime.run({ dryRun: opts.dryRun, audience: scheduled ? 'due' : 'all', forcePoll: opts.forcePoll });
        ctx.progress(undefined);
        logger.info(summaryFields(report), 'cycle finished');
        ctx.print(formatSummary(report, { cwd: io.cwd, outboxDir: runtime.outboxDir }));
        if (runtime.collected) {
          // Dry run: say what would have gone where, without sending it.
          const entries = (n: number) => `${n} entr${n === 1 ? 'y' : 'ies'}`;
          for (const m of runtime.collected.emails) ctx.print(`  would email ${m.to}: "${m.subject}" (${entries(m.entryKeys.length)})`);
          for (const m of runtime.collected.slack) ctx.print(`  would post to Slack ${m.channel} (${m.subscriberId}): ${m.messages.length} message${m.messages.length === 1 ? '' : 's'}, ${entries(m.entryKeys.length)}`);
        }
        if (report.digests.failed > 0) ctx.setExitCode(EXIT.deliveryFailed);
      } finally {
        await runtime.close();
      }
    });

  program
    .command('validate')
    .description('Check subscribers.json and the environment; print every problem with its path.')
    .option('-s, --subscribers <file>', 'subscribers file')
    .addHelpText('after', '\nExamples:\n  $ planet-digest validate\n  $ planet-digest validate --subscribers /etc/planet-digest/subscribers.json && systemctl reload planet-digest\n\nExit 0 when everything is valid, 2 with one line per problem otherwise.')
    .action(async (opts: { subscribers?: string }) => {
      const file = ctx.subscribersFile(opts.subscribers);
      const problems: string[] = [];
      try {
        ctx.env();
      } catch (error) {
        if (error instanceof ConfigError) problems.push(...error.issues.map((i) => `environment ${i.path}: ${i.message}`));
        else throw error;
      }
      let summary = '';
      try {
        const config = await loadDigestConfig(file);
        summary = `${path.relative(io.cwd, file) || file}: ${config.feeds.length} feeds, ${config.subscribers.length} subscribers.`;
      } catch (error) {
        if (error instanceof ConfigError) problems.push(...error.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)));
        else throw error;
      }
      // The email template too (DIGEST_TEMPLATES or the stock one): compiled and cached, so MJML mistakes show here.
      if (problems.length === 0) {
        try {
          const env = ctx.env();
          await loadTemplates({ dir: env.templatesDir, cacheDir: path.resolve(io.cwd, env.cacheDir, 'templates') });
          summary += ' Email template OK.';
        } catch (error) {
          if (error instanceof DigestError && error.code === 'TEMPLATE_INVALID') problems.push(`template: ${error.message}`);
          else throw error;
        }
      }
      if (problems.length > 0) {
        io.stderr.write(`${path.relative(io.cwd, file) || file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  ${p}\n`).join('')}`);
        ctx.setExitCode(EXIT.config);
        return;
      }
      ctx.print(`OK. ${summary}`);
    });

  registerInspectCommand(program, ctx);
  registerPreviewCommand(program, ctx);
  registerDaemonCommand(program, ctx);
  registerFeedsCommand(program, ctx);
  registerSubscribersCommand(program, ctx);
  registerServeCommand(program, ctx);

  return { program, exitCode: () => exitCode };
}

/** Runs the CLI and returns the exit code; errors become messages, never stack traces, unless DEBUG is set. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const { program, exitCode } = createProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode();
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // commander already printed the message (or the help/version).
    return error.exitCode === 0 ? EXIT.ok : EXIT.config;
  }
  if (error instanceof ConfigError) {
    io.stderr.write(`error: ${error.message}\n${error.hint ? `${error.hint}\n` : ''}`);
    return EXIT.config;
  }
  if (error instanceof LockedError) {
    io.stderr.write(`error: ${error.message}. ${error.hint ?? ''}\n`);
    return EXIT.locked;
  }
  if (error instanceof DigestError) {
    io.stderr.write(`error: ${error.message}\n${error.hint ? `${error.hint}\n` : ''}`);
    if (io.env.DEBUG && error.cause) io.stderr.write(`cause: ${String((error.cause as Error).stack ?? error.cause)}\n`);
    return error.code === 'TEMPLATE_INVALID' || error.code === 'CONFIG_INVALID' ? EXIT.config : EXIT.runtime;
  }
  io.stderr.write(`error: ${error instanceof Error ? (io.env.DEBUG ? error.stack : error.message) : String(error)}\n(set DEBUG=1 for the stack trace)\n`);
  return EXIT.runtime;
}

/** Entry point of bin/planet-digest.js. */
export async function main(): Promise<void> {
  const cwd = process.cwd();
  const envFile = path.join(cwd, '.env');
  if (existsSync(envFile)) loadDotenv({ path: envFile, quiet: true });
  const code = await runCli(process.argv.slice(2), { env: process.env, cwd, stdout: process.stdout, stderr: process.stderr });
  process.exitCode = code;
  // Every command has finished its work (store closed, messages sent, servers stopped) when runCli returns: exit now
  // instead of waiting for Node's teardown of the event loop and the heap, 20-60 ms on every run (issue 7). Output
  // is flushed first (pipes are asynchronous on macOS); pino flushes its own destinations on 'exit'.
  await Promise.all([flushStream(process.stdout), flushStream(process.stderr)]);
  process.exit(code);
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function flushStream(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}
