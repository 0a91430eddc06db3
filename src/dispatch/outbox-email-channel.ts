import type { Logger } from '../model/logger.js';
import { silentLogger } from '../model/logger.js';
import { composeDigestMime, stitchedBytes } from './compose-digest-mime.js';
import { refuseRecipient } from './refuse-recipient.js';
import { outboxBasePath } from './outbox-base-path.js';
import type { DeliveryResult } from './delivery-result.js';
import type { EmailChannel, EmailMessage } from './email-channel.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';

/** Options of OutboxEmailChannel. */
export interface OutboxEmailChannelOptions {
  /** Outbox directory (DIGEST_OUTBOX); created when missing. */
  dir: string;
  logger?: Logger;
}

/**
 * Writes each digest to `<dir>/<yyyy-mm-dd>/<subscriberId>-<id>.eml` (the complete RFC 5322 message with CRLF line
 * ends: the same bytes, from composeDigestMime, that the SMTP channel sends as DATA before dot-stuffing) and `<…>.html` (the HTML part,
 * to open in a browser). The date is the message's Date in UTC; `<id>` is derived from the Message-ID, so a digest
 * written again after a crash replaces its files instead of doubling them. Both files are written atomically.
 */
export class OutboxEmailChannel implements EmailChannel {
  readonly #dir: string;
  readonly #logger: Logger;

  constructor(options: OutboxEmailChannelOptions) {
    this.#dir = options.dir;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'outbox' });
  }

  /** Write the .eml and .html files; a write error is a transient failure (disk full, permissions). */
  async send(msg: EmailMessage): Promise<DeliveryResult> {
    const refused = refuseRecipient(msg);
    if (refused) return refused;
    const base = outboxBasePath(this.#dir, msg.date, msg.subscriberId, msg.messageId);
    const files = [`${base}.eml`, `${base}.html`];
    try {
      const eml = stitchedBytes(composeDigestMime(msg));
      // HTML first: an .eml is the "delivered" marker a reader looks for, so it is written last.
      await writeFileAtomic(files[1] as string, msg.html);
      await writeFileAtomic(files[0] as string, eml);
      this.#logger.debug({ subscriber: msg.subscriberId, files }, 'digest written to outbox');
      return { ok: true, files, response: `written to ${files[0]}` };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return {
        ok: false,
        permanent: false,
        code: e.code,
        message: `Could not write the digest for subscriber "${msg.subscriberId}" to ${files[0]}: ${e.message}. Check that DIGEST_OUTBOX (${this.#dir}) is writable and the disk has room.`,
      };
    }
  }

  /** Nothing to release (files are written and closed per message). */
  async close(): Promise<void> {}
}
