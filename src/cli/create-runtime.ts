import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { EnvConfig } from '../config/load-env-config.js';
import type { DigestConfig } from '../config/load-digest-config.js';
import { ConfigError } from '../model/errors.js';
import type { Logger } from '../model/logger.js';
import { openStore } from '../store/open-store.js';
import type { SeenStore } from '../store/seen-store.js';
import { loadTemplates, type CompiledTemplates } from '../template/load-template.js';
import { runDigest, type RunDeps, type RunOptions } from '../pipeline/run-digest.js';
import type { RunReport } from '../pipeline/run-report.js';
import type { MailIdentity } from '../pipeline/deliver-digests.js';
import { createDigestChannels, type CollectedDigests } from './create-digest-channels.js';

/** The User-Agent planet-digest sends: names the software and its version, as feed hosts expect. */
export function userAgent(version: string): string {
  return `planet-digest/${version} (self-hosted feed digest bot)`;
}

/** A ready-to-run cycle: store, channels, templates wired from the environment. */
export interface Runtime {
  deps: RunDeps;
  store: SeenStore;
  outboxDir?: string;
  collected?: CollectedDigests;
  run(options?: RunOptions): Promise<RunReport>;
  close(): Promise<void>;
}

/** Options of createRuntime. */
export interface RuntimeOptions {
  env: EnvConfig;
  config: DigestConfig;
  logger: Logger;
  now: () => Date;
  version: string;
  /** Refuse to send over SMTP without DIGEST_SECRET (unsubscribe links must be signed with a stable secret). */
  requireSecret: boolean;
  /** Collect digests in memory instead of sending (preview). */
  collect?: boolean;
  /** Refuse feed URLs on private networks unless DIGEST_ALLOW_PRIVATE_NETWORKS says otherwise (daemon default). */
  defaultAllowPrivate?: boolean;
}

/** The composition root: builds everything a cycle needs from the environment and subscribers.json. */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { env, config, logger } = options;
  if (options.requireSecret && env.email.smtpUrl && !env.unsubscribe.baseUrl) {
    throw new ConfigError('environment', [{ path: 'DIGEST_BASE_URL', message: 'required when SMTP_URL is set: it is where the unsubscribe links in every email point' }], {
      hint: 'Set DIGEST_BASE_URL to the public https address of `planet-digest serve` (or `daemon --serve`), e.g. https://digest.example.org.',
    });
  }
  if (options.requireSecret && env.email.smtpUrl && !env.unsubscribe.secret) {
    throw new ConfigError('environment', [{ path: 'DIGEST_SECRET', message: 'required when SMTP_URL is set: one-click unsubscribe links (RFC 8058) are signed with it' }], {
      hint: 'Set DIGEST_SECRET to a long random value, e.g. DIGEST_SECRET=$(openssl rand -hex 32), and keep it stable.',
    });
  }
  const store = await openStore(env.store.url, { logger });
  try {
    // Previews and dry runs never write to the store, not even the local secret: a throwaway one signs their links.
    const secret = env.unsubscribe.secret ?? (options.collect ? randomBytes(32).toString('hex') : await localSecret(store));
    const baseUrl = (env.unsubscribe.baseUrl ?? `http://${env.http.host.includes(':') ? `[${env.http.host}]` : env.http.host}:${env.http.port}`).replace(/\/+$/, '');
    const mail: MailIdentity = {
      from: env.email.from,
      listId: `planet-digest.${new URL(baseUrl).hostname || 'localhost'}`,
      domain: mailDomain(env.email.from),
      secret,
      baseUrl,
      mailto: env.unsubscribe.mailto,
    };
    const outboxDir = path.resolve(env.outboxDir);
    const channels = createDigestChannels({ env, logger, outboxDir, collect: options.collect ?? false });
    let templates: Promise<CompiledTemplates> | undefined;
    const deps: RunDeps = {
      config,
      store,
      channels: channels.channels,
      templates: () => (templates ??= loadTemplates({ dir: env.templatesDir, cacheDir: path.resolve(env.cacheDir, 'templates'), logger })),
      mail,
      logger,
      now: options.now,
      poll: {
        userAgent: userAgent(options.version),
        bodyHashSalt: options.version,
        timeoutMs: env.fetch.timeoutMs,
        maxBytes: env.fetch.maxBytes,
        allowPrivate: env.fetch.allowPrivate ?? options.defaultAllowPrivate ?? true,
        allowedFileRoots: [config.baseDir],
        concurrency: env.fetch.concurrency,
        perHostConcurrency: env.fetch.perHost,
      },
      defaultSchedule: env.schedule.cron ?? 'daily 07:00',
      defaultTimezone: env.schedule.timezone ?? 'UTC',
      retentionDays: env.store.retentionDays,
      failingHours: env.fetch.failingHours,
      lockTtlMs: env.store.lockTtlSeconds === undefined ? undefined : env.store.lockTtlSeconds * 1000,
      sendConcurrency: digestsInFlight(env.email.maxConnections),
    };
    return {
      deps,
      store,
      outboxDir: channels.usesOutbox ? outboxDir : undefined,
      collected: channels.collected,
      run: (runOptions) => runDigest(deps, runOptions),
      async close() {
        await channels.channels.close().catch(() => undefined);
        await store.close();
      },
    };
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

/** Without DIGEST_SECRET (outbox only) a random secret is kept in the store, so `serve` accepts the tokens it signed. */
export async function localSecret(store: SeenStore): Promise<string> {
  const existing = await store.getMeta<string>('local-secret');
  if (existing) return existing;
  const secret = randomBytes(32).toString('hex');
  await store.setMeta('local-secret', secret);
  return secret;
}

function mailDomain(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  return match?.[1] ?? 'localhost';
}

/**
 * Digests in flight at once: one per SMTP connection. A digest's send slot is held until its delivery is recorded,
 * so a hard crash repeats at most one accepted-but-unrecorded digest per connection (README, Delivery guarantee).
 * Two per connection kept the pool busier (+10-20% messages/s to a local sink), but then a connection could get its
 * next message accepted before the previous one was recorded, and a kill repeated two: the SIGKILL fault test saw
 * it on a loaded machine.
 */
export function digestsInFlight(smtpConnections: number): number {
  return Math.max(1, smtpConnections);
}
