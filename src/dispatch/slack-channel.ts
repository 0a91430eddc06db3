import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import type { ChatPostMessageArguments, Logger as SlackLogger, WebAPICallResult } from '@slack/web-api';
import type { Logger } from '../model/logger.js';
import { silentLogger } from '../model/logger.js';
import { sleep as defaultSleep } from './backoff-delay.js';
import type { DeliveryFailure, DeliveryResult } from './delivery-result.js';

/** One Slack message of a digest: fallback/notification text plus Block Kit blocks. */
export interface SlackPost {
  text: string;
  blocks: object[];
}

/** A digest for one Slack channel: messages[0] is posted to the channel, the rest as replies in its thread. */
export interface SlackDigestMessage {
  /** Channel id (C…) or name (#news). */
  channel: string;
  subscriberId: string;
  messages: SlackPost[];
  /** Stable id of the digest content (digestMessageId); names the outbox file when given. */
  digestId?: string;
}

/** DeliveryResult plus the ts of the first (parent) message when it was posted, and how many messages went out. */
export type SlackDeliveryResult = DeliveryResult & { ts?: string; posted?: number };

/** Where Slack digests go: the Web API, or files in an outbox directory. */
export interface SlackChannel {
  /** Post one digest; never throws for a delivery problem (the result says what happened). */
  send(msg: SlackDigestMessage): Promise<SlackDeliveryResult>;
  close(): Promise<void>;
}

/** Defaults of createSlackChannel. */
export const SLACK_DEFAULTS = {
  retries: 3,
  maxRetryAfterSeconds: 30,
  retryBaseDelayMs: 1000,
  retryMaxDelayMs: 10_000,
  timeoutMs: 30_000,
} as const;

/** Options of createSlackChannel. */
export interface SlackChannelOptions {
  /** Bot token (xoxb-…). */
  token: string;
  /** SLACK_API_URL: base URL of the Web API (default https://slack.com/api/); tests point it at a local server. */
  apiUrl?: string;
  logger?: Logger;
  /**
   * Retries per API call (default 3), for 5xx answers and network errors (by the WebClient, exponential backoff from
   * retryBaseDelayMs) and, separately, for 429 answers (by us, waiting Retry-After).
   */
  retries?: number;
  /** Longest Retry-After we wait inside a run (default 30 s); a longer one fails the digest transiently (next run). */
  maxRetryAfterSeconds?: number;
  /** First WebClient retry delay (default 1000 ms), factor 2, capped at retryMaxDelayMs (default 10 s). */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Injectable for tests (Retry-After waits). */
  sleep?: (ms: number) => Promise<void>;
}

/** Payload of one chat.postMessage call, as posted (replies get thread_ts at post time). */
export type SlackPostPayload = {
  channel: string;
  text: string;
  blocks: object[];
  unfurl_links: false;
  unfurl_media: false;
  thread_ts?: string;
};

/** The chat.postMessage payloads of a digest, without thread_ts (known only once the first message is posted). */
export function buildSlackPayloads(msg: SlackDigestMessage): SlackPostPayload[] {
  // No unfurls: a digest links many posts, and previews of each would bury the digest itself.
  return msg.messages.map((m) => ({ channel: msg.channel, text: m.text, blocks: m.blocks, unfurl_links: false, unfurl_media: false }));
}

/** A SlackChannel posting through @slack/web-api's WebClient. */
export function createSlackChannel(options: SlackChannelOptions): SlackChannel {
  const logger = (options.logger ?? silentLogger).child({ component: 'slack' });
  const retries = Math.max(0, options.retries ?? SLACK_DEFAULTS.retries);
  const maxRetryAfter = options.maxRetryAfterSeconds ?? SLACK_DEFAULTS.maxRetryAfterSeconds;
  const sleep = options.sleep ?? defaultSleep;
  const client = new WebClient(options.token, {
    slackApiUrl: options.apiUrl,
    logger: toSlackLogger(logger),
    timeout: options.timeoutMs ?? SLACK_DEFAULTS.timeoutMs,
    // 5xx and network errors: the WebClient retries with backoff (its default would keep going for ~30 minutes).
    retryConfig: {
      retries,
      factor: 2,
      minTimeout: options.retryBaseDelayMs ?? SLACK_DEFAULTS.retryBaseDelayMs,
      maxTimeout: options.retryMaxDelayMs ?? SLACK_DEFAULTS.retryMaxDelayMs,
      randomize: true,
    },
    // 429: the WebClient would wait whatever Retry-After says, unbounded and pausing its whole queue; we reject and
    // wait ourselves, up to maxRetryAfterSeconds.
    rejectRateLimitedCalls: true,
  });

  async function post(payload: SlackPostPayload): Promise<WebAPICallResult & { ts?: string }> {
    for (let rateLimited = 0; ; rateLimited++) {
      try {
        return await client.chat.postMessage(payload as unknown as ChatPostMessageArguments);
      } catch (err) {
        const retryAfter = rateLimitedSeconds(err);
        if (retryAfter === undefined || retryAfter > maxRetryAfter || rateLimited >= retries) throw err;
        logger.warn({ channel: payload.channel, retryAfterSeconds: retryAfter }, 'Slack rate limit, waiting Retry-After');
        await sleep(Math.max(0, retryAfter) * 1000);
      }
    }
  }

  /** Deletes our own messages (newest first); true when every one is gone. */
  async function deletePosted(channel: string, tsList: string[]): Promise<boolean> {
    let all = true;
    for (const ts of [...tsList].reverse()) {
      try {
        await client.chat.delete({ channel, ts });
      } catch (err) {
        all = false;
        logger.warn({ channel, ts, err: err instanceof Error ? err.message : String(err) }, 'could not remove a partly posted Slack digest message');
      }
    }
    return all;
  }

  return {
    async send(msg: SlackDigestMessage): Promise<SlackDeliveryResult> {
      const payloads = buildSlackPayloads(msg);
      if (payloads.length === 0) {
        return { ok: false, permanent: true, code: 'no_messages', message: `Slack digest for subscriber "${msg.subscriberId}" has no messages to post (a rendering bug).` };
      }
      let parentTs: string | undefined;
      const postedTs: string[] = [];
      for (const [index, payload] of payloads.entries()) {
        try {
          const result = await post(parentTs ? { ...payload, thread_ts: parentTs } : payload);
          if (result.ts) postedTs.push(result.ts);
          if (index === 0) {
            parentTs = result.ts;
            if (!parentTs && payloads.length > 1) {
              return { ok: false, permanent: false, code: 'no_ts', posted: 1, message: `Slack accepted the first message for ${msg.channel} (subscriber "${msg.subscriberId}") but returned no ts, so the rest of the digest cannot be threaded under it; it will be posted again next run.` };
            }
          }
        } catch (err) {
          const failure = describeSlackFailure(err, msg, maxRetryAfter);
          if (index === 0) return { ...failure, posted: 0 };
          // Partial delivery: the parent (and replies 1..index-1) are in the channel, reply `index` is not.
          // Policy: report the digest as NOT delivered, keeping the cause's permanence, and roll the partial digest
          // back (chat.delete, newest first: a bot may delete its own messages), so the complete digest posted next
          // run does not show those entries twice. Only if the rollback fails too do they appear twice; none is lost
          // either way (a visible duplicate beats a silently missing reply). A permanent cause (channel archived
          // meanwhile, content Slack refuses) stays permanent: posting again would fail the same way.
          const rolledBack = await deletePosted(msg.channel, postedTs);
          logger.warn({ subscriber: msg.subscriberId, channel: msg.channel, parentTs, posted: index, total: payloads.length, rolledBack }, 'Slack digest only partly posted');
          return {
            ...failure,
            message:
              `Only ${index} of ${payloads.length} messages of the digest reached ${msg.channel} (thread ${parentTs}); ${failure.message}` +
              (rolledBack ? ' The partial digest was removed again.' : ' The partial digest could not be removed.') +
              (failure.permanent ? '' : ' The whole digest will be posted next run.'),
            ts: rolledBack ? undefined : parentTs,
            posted: rolledBack ? 0 : index,
          };
        }
      }
      return { ok: true, ts: parentTs, posted: payloads.length, response: `posted ${payloads.length} message${payloads.length === 1 ? '' : 's'} to ${msg.channel}` };
    },
    async close(): Promise<void> {
      // The WebClient holds no connections of its own (global fetch); nothing to release.
    },
  };
}

// Slack error codes that posting the same digest again would hit again, with what the admin can do.
const PERMANENT_ERRORS: Record<string, (channel: string, subscriber: string) => string> = {
  channel_not_found: (c, s) => `Slack channel ${c} of subscriber "${s}" was not found (channel_not_found). Check slack.channel in subscribers.json; for a private channel use its id (C…) and invite the bot: /invite @planet-digest.`,
  not_in_channel: (c, s) => `The bot is not a member of ${c} (subscriber "${s}", not_in_channel). Invite it: type /invite @planet-digest in ${c}.`,
  is_archived: (c, s) => `Slack channel ${c} of subscriber "${s}" is archived (is_archived). Unarchive it or point slack.channel in subscribers.json at another channel.`,
  invalid_auth: (c, s) => tokenMessage('invalid_auth', c, s),
  not_authed: (c, s) => tokenMessage('not_authed', c, s),
  token_revoked: (c, s) => tokenMessage('token_revoked', c, s),
  token_expired: (c, s) => tokenMessage('token_expired', c, s),
  account_inactive: (c, s) => tokenMessage('account_inactive', c, s),
  missing_scope: (c, s) => `The Slack bot token used for subscriber "${s}" lacks the chat:write scope (missing_scope). Add chat:write under OAuth & Permissions in the Slack app settings and reinstall the app.`,
  restricted_action: (c, s) => `Slack does not let the bot post in ${c} (subscriber "${s}", restricted_action). Ask a workspace admin to allow the app to post there.`,
  ekm_access_denied: (c, s) => `Slack refused posting to ${c} for subscriber "${s}" (ekm_access_denied): workspace admins suspended posting.`,
  team_access_not_granted: (c, s) => `The Slack token used for subscriber "${s}" has no access to the workspace of ${c} (team_access_not_granted). Use that workspace's bot token (slack.tokenEnv).`,
  // Content Slack refuses: a rendering bug, the same digest would be refused again.
  invalid_blocks: (c, s) => contentMessage('invalid_blocks', c, s),
  invalid_blocks_format: (c, s) => contentMessage('invalid_blocks_format', c, s),
  msg_too_long: (c, s) => contentMessage('msg_too_long', c, s),
  msg_blocks_too_long: (c, s) => contentMessage('msg_blocks_too_long', c, s),
  no_text: (c, s) => contentMessage('no_text', c, s),
  invalid_arguments: (c, s) => contentMessage('invalid_arguments', c, s),
};

function tokenMessage(code: string, channel: string, subscriber: string): string {
  return `Slack rejected the bot token used for subscriber "${subscriber}" (${channel}): ${code}. The token is wrong, revoked or its app was uninstalled; put a valid xoxb- token in the variable named by slack.tokenEnv (default SLACK_BOT_TOKEN).`;
}

function contentMessage(code: string, channel: string, subscriber: string): string {
  return `Slack refused the digest's content for ${channel} (subscriber "${subscriber}"): ${code}. This is a rendering bug; please report it with the run log.`;
}

/** Turn a WebClient error into a DeliveryResult (ErrorCode.PlatformError / RateLimitedError / HTTPError / RequestError). */
export function describeSlackFailure(err: unknown, msg: Pick<SlackDigestMessage, 'channel' | 'subscriberId'>, maxRetryAfterSeconds: number): DeliveryFailure {
  const e = (err ?? {}) as {
    code?: string;
    message?: string;
    data?: { error?: string };
    retryAfter?: number;
    statusCode?: number;
    original?: { message?: string; cause?: { code?: string } };
  };
  const where = `${msg.channel} (subscriber "${msg.subscriberId}")`;
  switch (e.code) {
    case ErrorCode.PlatformError: {
      const code = e.data?.error ?? 'unknown_error';
      const describe = PERMANENT_ERRORS[code];
      if (describe) return { ok: false, permanent: true, code, message: describe(msg.channel, msg.subscriberId) };
      return { ok: false, permanent: false, code, message: `Slack answered ${code} when posting to ${where}; it will be tried again next run.` };
    }
    case ErrorCode.RateLimitedError:
      return {
        ok: false,
        permanent: false,
        code: 'rate_limited',
        status: 429,
        message: `Slack rate-limited posting to ${where} and asked to wait ${e.retryAfter ?? '?'} s (more than the ${maxRetryAfterSeconds} s we wait within a run, or too many times); it will be tried again next run.`,
      };
    case ErrorCode.HTTPError:
      return { ok: false, permanent: false, code: 'http_error', status: e.statusCode, message: `Slack answered HTTP ${e.statusCode} when posting to ${where}, also on retries; it will be tried again next run.` };
    case ErrorCode.RequestError: {
      const cause = e.original?.cause?.code ?? e.original?.message ?? e.message ?? 'request failed';
      return { ok: false, permanent: false, code: e.original?.cause?.code ?? 'request_error', message: `Could not reach the Slack API when posting to ${where}: ${cause}. Check network access (and SLACK_API_URL if set); it will be tried again next run.` };
    }
    default:
      return { ok: false, permanent: false, code: e.code, message: `Posting to ${where} failed: ${e.message ?? String(err)}; it will be tried again next run.` };
  }
}

function rateLimitedSeconds(err: unknown): number | undefined {
  const e = err as { code?: string; retryAfter?: number } | undefined;
  return e?.code === ErrorCode.RateLimitedError && typeof e.retryAfter === 'number' ? e.retryAfter : undefined;
}

// The WebClient wants @slack/logger's interface; route it into ours (its debug lines are request traces).
function toSlackLogger(logger: Logger): SlackLogger {
  let level = LogLevel.INFO;
  const text = (parts: unknown[]) => parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  return {
    debug: (...m: unknown[]) => logger.debug({ source: 'web-api' }, text(m)),
    info: (...m: unknown[]) => logger.info({ source: 'web-api' }, text(m)),
    warn: (...m: unknown[]) => logger.warn({ source: 'web-api' }, text(m)),
    error: (...m: unknown[]) => logger.error({ source: 'web-api' }, text(m)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
