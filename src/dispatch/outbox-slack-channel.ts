import type { Logger } from '../model/logger.js';
import { silentLogger } from '../model/logger.js';
import { outboxBasePath } from './outbox-base-path.js';
import { buildSlackPayloads } from './slack-channel.js';
import type { SlackChannel, SlackDeliveryResult, SlackDigestMessage } from './slack-channel.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';

/** Options of OutboxSlackChannel. */
export interface OutboxSlackChannelOptions {
  /** Outbox directory (DIGEST_OUTBOX); created when missing. */
  dir: string;
  /** Date of the day folder (UTC); injectable for tests. */
  now?: () => Date;
  logger?: Logger;
}

/** Placeholder written as thread_ts of replies: the real value is the ts Slack gives the first message. */
export const PARENT_TS_PLACEHOLDER = '<ts of posts[0]>';

/**
 * Writes each Slack digest to `<dir>/<yyyy-mm-dd>/<subscriberId>-<id>.json`: `{ subscriberId, channel, posts }` where
 * posts are the chat.postMessage payloads exactly as createSlackChannel would post them (channel, text, blocks,
 * unfurl flags; replies with thread_ts = PARENT_TS_PLACEHOLDER). `<id>` comes from digestId (else the content), so a
 * re-run replaces the file instead of doubling it. Written atomically.
 */
export class OutboxSlackChannel implements SlackChannel {
  readonly #dir: string;
  readonly #now: () => Date;
  readonly #logger: Logger;

  constructor(options: OutboxSlackChannelOptions) {
    this.#dir = options.dir;
    this.#now = options.now ?? (() => new Date());
    this.#logger = (options.logger ?? silentLogger).child({ component: 'outbox' });
  }

  /** Write the JSON file; a write error is a transient failure. */
  async send(msg: SlackDigestMessage): Promise<SlackDeliveryResult> {
    if (msg.messages.length === 0) {
      return { ok: false, permanent: true, code: 'no_messages', message: `Slack digest for subscriber "${msg.subscriberId}" has no messages to post (a rendering bug).` };
    }
    const posts = buildSlackPayloads(msg).map((p, i) => (i === 0 ? p : { ...p, thread_ts: PARENT_TS_PLACEHOLDER }));
    const body = `${JSON.stringify({ subscriberId: msg.subscriberId, channel: msg.channel, posts }, null, 2)}\n`;
    const file = `${outboxBasePath(this.#dir, this.#now(), msg.subscriberId, msg.digestId ?? body)}.json`;
    try {
      await writeFileAtomic(file, body);
      this.#logger.debug({ subscriber: msg.subscriberId, file }, 'Slack digest written to outbox');
      return { ok: true, files: [file], posted: posts.length, response: `written to ${file}` };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return {
        ok: false,
        permanent: false,
        code: e.code,
        message: `Could not write the Slack digest for subscriber "${msg.subscriberId}" to ${file}: ${e.message}. Check that DIGEST_OUTBOX (${this.#dir}) is writable and the disk has room.`,
      };
    }
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}
