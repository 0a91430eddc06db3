import type { DeliveryResult } from './delivery-result.js';
import type { DigestMimeTemplate } from './compose-digest-mime.js';

export type { DeliveryResult, DeliveryFailure } from './delivery-result.js';
// The implementations live in files named after them; re-exported so callers can import everything email from here.
export { SmtpEmailChannel, type SmtpEmailChannelOptions } from './smtp-email-channel.js';
export { OutboxEmailChannel, type OutboxEmailChannelOptions } from './outbox-email-channel.js';

/** One digest email for one subscriber, fully rendered and personalised. */
export interface EmailMessage {
  /** Recipient address. */
  to: string;
  /** Recipient display name (non-ASCII is MIME-encoded by nodemailer; CR/LF are stripped). */
  toName?: string;
  /** Sender, "Name <address>" or a bare address (MAIL_FROM). */
  from: string;
  subject: string;
  html: string;
  text: string;
  /** Message-ID (see digestMessageId), with or without angle brackets. */
  messageId: string;
  /** Extra headers (see buildDigestHeaders); Message-ID, Date, From, To and Subject here are ignored in favour of the fields. */
  headers: Record<string, string>;
  date: Date;
  subscriberId: string;
  /**
   * The digest encoded once for every recipient of one rendered digest (prepareDigestMime) and this recipient's slot
   * values; the channels stitch the message from it instead of encoding html and text again. html and text must be
   * what the stitched parts decode to (they remain for the outbox .html file and previews). From and Subject come from
   * the template when this is set.
   */
  mime?: { template: DigestMimeTemplate; values: { html: Record<string, string>; text: Record<string, string> } };
}

/** Where digest emails go: SMTP, or files in an outbox directory. */
export interface EmailChannel {
  /** Deliver one message; never throws for a delivery problem (the result says what happened). */
  send(msg: EmailMessage): Promise<DeliveryResult>;
  /** Release connections; call once at the end of a run. */
  close(): Promise<void>;
}
