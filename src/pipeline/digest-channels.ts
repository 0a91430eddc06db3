import type { EmailMessage } from '../dispatch/email-channel.js';
import type { Subscriber } from '../model/subscriber.js';

/** A digest email ready to send to one subscriber: the dispatch stage's message plus delivery accounting. */
export interface OutgoingEmail extends EmailMessage {
  /** Entry keys in the digest, for delivery accounting. */
  entryKeys: string[];
}

/** A Slack digest (one or more messages; the rest go in a thread under the first) for one channel. */
export interface OutgoingSlack {
  subscriberId: string;
  channel: string;
  messages: Array<{ text: string; blocks: object[] }>;
  entryKeys: string[];
  /** Stable id of this digest content (same role as an email Message-ID). */
  digestId: string;
}

/** Whether a channel accepted a digest. Permanent failures count as bounces; others are retried next cycle. */
export type ChannelResult = { ok: true; files?: string[] } | { ok: false; permanent: boolean; message: string; code?: string };

/** Where digests go; the CLI wires SMTP/outbox and Slack/outbox, tests and previews wire collectors. */
export interface DigestChannels {
  sendEmail(message: OutgoingEmail): Promise<ChannelResult>;
  sendSlack(subscriber: Subscriber, message: OutgoingSlack): Promise<ChannelResult>;
  close(): Promise<void>;
}
