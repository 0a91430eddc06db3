import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import type { SMTPPoolOptions, SMTPTransportOptions, Transporter, SMTPPoolSentMessageInfo } from 'nodemailer';
import type { Logger } from '../model/logger.js';
import { silentLogger } from '../model/logger.js';
import { backoffDelay, sleep as defaultSleep } from './backoff-delay.js';
import { composeDigestMime } from './compose-digest-mime.js';
import { refuseRecipient } from './refuse-recipient.js';
import type { DeliveryFailure, DeliveryResult } from './delivery-result.js';
import type { EmailChannel, EmailMessage } from './email-channel.js';
import { RateLimiter } from './rate-limiter.js';
import { speedUpDataStream } from './speed-up-data-stream.js';

/** Defaults of SmtpEmailChannel (exported so docs and tests refer to one place). */
export const SMTP_DEFAULTS = {
  maxConnections: 3,
  maxMessages: 100,
  attempts: 3,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
} as const;

/** Options of SmtpEmailChannel. */
export interface SmtpEmailChannelOptions {
  /** SMTP_URL (smtp://user:pass@host:587, smtps://…:465) or nodemailer SMTP options (host, port, secure, auth, tls, timeouts…). */
  smtp: string | SMTPTransportOptions;
  /** Pooled connections open at once (default 3). */
  maxConnections?: number;
  /** Messages per connection before it is replaced (default 100). */
  maxMessages?: number;
  /** Sustained send rate, messages per second (SMTP_RATE_PER_SECOND), every attempt counted; unlimited when absent. See RateLimiter for why not nodemailer's. */
  messagesPerSecond?: number;
  /** Tries per message for transient failures, including the first (default 3). */
  attempts?: number;
  /** First retry delay (default 1000 ms), doubled per retry with jitter, capped at maxDelayMs (default 30 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  logger?: Logger;
}

/** How a failed SMTP attempt is handled. */
export type SmtpFailureKind =
  /** Worth another try now: connection refused/reset/closed, timeouts, 4xx replies. */
  | 'transient'
  /** This recipient or this message is refused for good (5xx to RCPT TO or to the message data). */
  | 'permanent'
  /** Our setup is wrong (authentication, sender refused, TLS): no retry now, not the subscriber's fault, retried next run. */
  | 'setup';

/** The parts of a nodemailer error we read (see nodemailer's NodemailerError). */
interface SmtpError {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  command?: string;
  permanent?: boolean;
  message?: string;
}

/**
 * Sort a nodemailer error. RFC 5321 §4.2.1: 5yz is a permanent negative reply, 4yz transient; 503 (bad sequence) is
 * a session problem, not a refusal of the message (nodemailer's `permanent` flag encodes the same rule). A 5xx to
 * MAIL FROM or AUTH is about our sender or credentials, not the subscriber, so it is "setup".
 */
export function classifySmtpError(err: unknown): SmtpFailureKind {
  const e = (err ?? {}) as SmtpError;
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || e.code === 'EOAUTH2' || e.code === 'ETLS' || e.code === 'ECONFIG' || e.code === 'EREQUIRETLS') return 'setup';
  if (typeof e.responseCode === 'number') {
    const permanent = e.permanent ?? (e.responseCode >= 500 && e.responseCode < 600 && e.responseCode !== 503);
    if (!permanent) return 'transient';
    const command = (e.command ?? '').toUpperCase();
    if (command.startsWith('MAIL') || command.startsWith('AUTH') || command.startsWith('EHLO') || command.startsWith('HELO')) return 'setup';
    return 'permanent';
  }
  // No SMTP reply: the connection failed (ECONNECTION, ESOCKET, ETIMEDOUT, EDNS…) or something unexpected — retrying
  // is the safe side of "nothing lost".
  return 'transient';
}

/**
 * Sends digests over SMTP with nodemailer's pooled transport (RFC 5321). Transient failures are retried inside send()
 * with exponential backoff; the pool's own requeue-on-close is turned off (maxRequeues 0) so there is exactly one retry
 * policy, this one. A retried message keeps its Message-ID, so a duplicate after an ambiguous failure (connection
 * lost after the server accepted the data) is recognisable.
 */
export class SmtpEmailChannel implements EmailChannel {
  readonly #transporter: Transporter<SMTPPoolSentMessageInfo>;
  readonly #attempts: number;
  readonly #backoff: { baseDelayMs: number; maxDelayMs: number; random?: () => number };
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #limiter?: RateLimiter;
  readonly #logger: Logger;
  readonly #where: string;

  constructor(options: SmtpEmailChannelOptions) {
    const base: SMTPTransportOptions = typeof options.smtp === 'string' ? { url: options.smtp } : options.smtp;
    const poolOptions: SMTPPoolOptions & { pool: true } = {
      ...base,
      pool: true,
      maxConnections: options.maxConnections ?? SMTP_DEFAULTS.maxConnections,
      maxMessages: options.maxMessages ?? SMTP_DEFAULTS.maxMessages,
      maxRequeues: 0,
      // Digest HTML comes from feeds: never let nodemailer read a file or fetch a URL on its behalf.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    };
    speedUpDataStream();
    this.#transporter = nodemailer.createTransport(poolOptions);
    this.#attempts = Math.max(1, options.attempts ?? SMTP_DEFAULTS.attempts);
    this.#backoff = {
      baseDelayMs: options.baseDelayMs ?? SMTP_DEFAULTS.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? SMTP_DEFAULTS.maxDelayMs,
      random: options.random,
    };
    this.#sleep = options.sleep ?? defaultSleep;
    this.#limiter = options.messagesPerSecond ? new RateLimiter({ perSecond: options.messagesPerSecond, sleep: this.#sleep }) : undefined;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'smtp' });
    this.#where = describeServer(base);
  }

  /** Send one digest; retries transient failures, returns permanent ones at once. */
  async send(msg: EmailMessage): Promise<DeliveryResult> {
    const refused = refuseRecipient(msg);
    if (refused) return refused;
    // The finished message (see composeDigestMime) goes as `raw` with its envelope: nodemailer only dot-stuffs it. A
    // stream over the chunks passes the digest's shared buffers on without copying them per recipient; each attempt
    // gets its own stream.
    const { chunks, envelope } = composeDigestMime(msg);
    let last: DeliveryFailure | undefined;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      await this.#limiter?.acquire();
      try {
        // messageId only names the message for nodemailer (it would otherwise generate one from random bytes).
        const info = await this.#transporter.sendMail({ raw: Readable.from(chunks, { objectMode: false }), envelope, messageId: msg.messageId });
        if (attempt > 1) this.#logger.info({ subscriber: msg.subscriberId, attempt }, 'email delivered after retry');
        return { ok: true, response: info.response };
      } catch (err) {
        const kind = classifySmtpError(err);
        last = this.#failure(kind, err, msg, attempt);
        if (kind !== 'transient') return last;
        if (attempt < this.#attempts) {
          const wait = backoffDelay(attempt, this.#backoff);
          this.#logger.warn({ subscriber: msg.subscriberId, attempt, code: last.code, status: last.status, retryInMs: wait, err: last.message }, 'email delivery failed, retrying');
          await this.#sleep(wait);
        }
      }
    }
    return last as DeliveryFailure;
  }

  /** Close the pool's connections (idle ones at once, busy ones after their message). */
  async close(): Promise<void> {
    this.#transporter.close();
  }

  #failure(kind: SmtpFailureKind, err: unknown, msg: EmailMessage, attempt: number): DeliveryFailure {
    const e = (err ?? {}) as SmtpError;
    const code = e.originalCode ?? e.code;
    const status = e.responseCode;
    const reason = (e.message ?? String(err)).replace(/[\r\n]+/g, ' ');
    const who = `digest for subscriber "${msg.subscriberId}" <${msg.to}>`;
    switch (kind) {
      case 'permanent':
        return { ok: false, permanent: true, code, status, message: `The mail server refused the ${who}: ${reason}. Check the address in subscribers.json; the server's reply is final (not retried).` };
      case 'setup':
        return { ok: false, permanent: false, code, status, message: `Could not send the ${who} through ${this.#where}: ${reason}. Check SMTP_URL (credentials, TLS) and MAIL_FROM; it will be tried again next run.` };
      default:
        return { ok: false, permanent: false, code, status, message: `Could not send the ${who} through ${this.#where} after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${reason}. It stays queued and is tried again next run; if this persists, check that the SMTP server is reachable.` };
    }
  }
}

// For messages: host and port only, never the credentials in SMTP_URL.
function describeServer(options: SMTPTransportOptions): string {
  if (options.url) {
    try {
      const url = new URL(options.url);
      return `${url.protocol}//${url.host}`;
    } catch {
      return 'the SMTP server';
    }
  }
  return options.host ? `${options.host}:${options.port ?? (options.secure ? 465 : 587)}` : 'the SMTP server';
}
