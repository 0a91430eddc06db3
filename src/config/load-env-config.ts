import * as z from 'zod';
import { ConfigError, type ConfigIssue, type StoreError } from '../model/errors.js';
import { parseStoreUrl } from '../store/store-url.js';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes' || v === 'on');

const positiveNumber = z.coerce.number().positive();

/** Every environment variable planet-digest reads, with its default. The names are a contract (README: configuration). */
const envSchema = z.object({
  DIGEST_SUBSCRIBERS: z.string().min(1).default('subscribers.json'),
  DIGEST_STORE_URL: z.string().min(1).default('sqlite://./data/planet-digest.sqlite'),
  DIGEST_OUTBOX: z.string().min(1).default('./outbox'),
  DIGEST_CRON: z.string().min(1).optional(),
  DIGEST_TZ: z.string().min(1).optional(),
  DIGEST_TEMPLATES: z.string().min(1).optional(),
  DIGEST_CACHE_DIR: z.string().min(1).default('./data/cache'),
  DIGEST_SECRET: z.string().min(16, 'use at least 16 characters (e.g. `openssl rand -hex 32`)').optional(),
  DIGEST_BASE_URL: z.url('expected the public base URL of `planet-digest serve`, e.g. https://digest.example.org').optional(),
  DIGEST_UNSUBSCRIBE_MAILTO: z.email().optional(),
  DIGEST_RETENTION_DAYS: positiveNumber.default(90),
  DIGEST_ALLOW_PRIVATE_NETWORKS: bool.optional(),
  DIGEST_FEED_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  DIGEST_FEED_PER_HOST: z.coerce.number().int().min(1).max(256).default(2),
  DIGEST_FEED_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  DIGEST_FEED_MAX_BYTES: z.coerce.number().int().min(1024).default(10 * 1024 * 1024),
  DIGEST_POLL_MINUTES: z.coerce.number().int().min(1).default(60),
  DIGEST_LOCK_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).optional(),
  DIGEST_FAILING_HOURS: positiveNumber.default(48),
  DIGEST_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  DIGEST_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  DIGEST_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'expected smtp://user:pass@host:587 or smtps://…').optional(),
  SMTP_RATE_PER_SECOND: positiveNumber.optional(),
  SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(50).default(3),
  SMTP_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(20).optional(),
  SMTP_RETRY_BASE_MS: z.coerce.number().int().min(0).max(600_000).optional(),
  MAIL_FROM: z.string().min(3).default('Planet digest <digest@localhost>'),
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  SLACK_API_URL: z.url().optional(),
});

/** Configuration that comes from the environment, one typed slice per component. */
export interface EnvConfig {
  subscribersFile: string;
  /** lockTtlSeconds: how long a crashed cycle's lock blocks the next one (default in runDigest: 10 minutes). */
  store: { url: string; retentionDays: number; lockTtlSeconds?: number };
  outboxDir: string;
  schedule: { cron?: string; timezone?: string; pollMinutes: number };
  templatesDir?: string;
  /** Compiled templates are cached here, so MJML is not even loaded when the template did not change. */
  cacheDir: string;
  unsubscribe: { secret?: string; baseUrl?: string; mailto?: string };
  /** concurrency: feeds fetched at once in total; perHost: at once from one host (politeness; raise it for your own server). */
  fetch: { allowPrivate?: boolean; concurrency: number; perHost: number; timeoutMs: number; maxBytes: number; failingHours: number };
  http: { host: string; port: number };
  /** retryAttempts/retryBaseMs: SMTP tries per message and first retry delay (defaults in SmtpEmailChannel: 3, 1000 ms). */
  email: { smtpUrl?: string; ratePerSecond?: number; maxConnections: number; retryAttempts?: number; retryBaseMs?: number; from: string };
  slack: { defaultToken?: string; apiUrl?: string };
  logLevel: string;
  /** The whole environment, for per-workspace Slack tokens named in subscribers.json (slack.tokenEnv). */
  vars: Readonly<Record<string, string | undefined>>;
}

/** Reads and validates the environment; every problem is reported at once, by variable name. */
export function loadEnvConfig(env: Readonly<Record<string, string | undefined>>): EnvConfig {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issues: ConfigIssue[] = parsed.error.issues.map((i) => ({ path: String(i.path[0] ?? ''), message: i.message }));
    throw new ConfigError('environment', issues, { hint: 'Fix the variables above (in the environment or in .env) and run again.' });
  }
  const e = parsed.data;
  try {
    // Only the form is checked here (the path base does not matter); reaching the store is openStore's job.
    parseStoreUrl(e.DIGEST_STORE_URL, '/');
  } catch (error) {
    const store = error as StoreError;
    throw new ConfigError('environment', [{ path: 'DIGEST_STORE_URL', message: store.message }], { hint: store.hint });
  }
  return {
    subscribersFile: e.DIGEST_SUBSCRIBERS,
    store: { url: e.DIGEST_STORE_URL, retentionDays: e.DIGEST_RETENTION_DAYS, lockTtlSeconds: e.DIGEST_LOCK_TTL_SECONDS },
    outboxDir: e.DIGEST_OUTBOX,
    schedule: { cron: e.DIGEST_CRON, timezone: e.DIGEST_TZ, pollMinutes: e.DIGEST_POLL_MINUTES },
    templatesDir: e.DIGEST_TEMPLATES,
    cacheDir: e.DIGEST_CACHE_DIR,
    unsubscribe: { secret: e.DIGEST_SECRET, baseUrl: e.DIGEST_BASE_URL, mailto: e.DIGEST_UNSUBSCRIBE_MAILTO },
    fetch: {
      allowPrivate: e.DIGEST_ALLOW_PRIVATE_NETWORKS,
      concurrency: e.DIGEST_FEED_CONCURRENCY,
      perHost: e.DIGEST_FEED_PER_HOST,
      timeoutMs: e.DIGEST_FEED_TIMEOUT_MS,
      maxBytes: e.DIGEST_FEED_MAX_BYTES,
      failingHours: e.DIGEST_FAILING_HOURS,
    },
    http: { host: e.DIGEST_HTTP_HOST, port: e.DIGEST_HTTP_PORT },
    email: {
      smtpUrl: e.SMTP_URL,
      ratePerSecond: e.SMTP_RATE_PER_SECOND,
      maxConnections: e.SMTP_MAX_CONNECTIONS,
      retryAttempts: e.SMTP_RETRY_ATTEMPTS,
      retryBaseMs: e.SMTP_RETRY_BASE_MS,
      from: e.MAIL_FROM,
    },
    slack: { defaultToken: e.SLACK_BOT_TOKEN, apiUrl: e.SLACK_API_URL },
    logLevel: e.DIGEST_LOG_LEVEL,
    vars: env,
  };
}
