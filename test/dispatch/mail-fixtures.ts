// Shared by the email channel tests: a realistic digest message and a raw-header reader.
import { expect } from 'vitest';
import { buildDigestHeaders, digestMessageId } from '../../src/dispatch/build-digest-headers.js';
import type { EmailMessage } from '../../src/dispatch/email-channel.js';

export const DATE = new Date('2025-11-25T07:00:00.000Z');

/** A digest email as the pipeline builds it; `n` varies the Message-ID. */
export function digestEmail(n = 1, overrides: Partial<EmailMessage> = {}): EmailMessage {
  const subscriberId = overrides.subscriberId ?? `sub${n}`;
  const messageId = digestMessageId({ subscriberId, fromSeq: 0, entryKeys: [`k${n}`], domain: 'example.org' });
  return {
    to: `reader${n}@example.org`,
    toName: `Reader ${n}`,
    from: 'Planet digest <digest@example.org>',
    subject: `${n} new posts from Planet Test`,
    html: `<!doctype html><html><body><h1>Digest ${n}</h1><p><a href="https://blog.example.org/${n}">Post ${n}</a></p></body></html>`,
    text: `Digest ${n}\n\nPost ${n}: https://blog.example.org/${n}\n`,
    messageId,
    headers: buildDigestHeaders({
      subscriberId,
      listId: 'planet-digest.example.org',
      unsubscribeHttpsUrl: `https://digest.example.org/unsubscribe?token=tok${n}`,
      unsubscribeMailto: 'unsubscribe@example.org',
      messageId,
      date: DATE,
    }),
    date: DATE,
    subscriberId,
    ...overrides,
  };
}

/** The header block of a raw RFC 5322 message, unfolded: name (lower-case) -> values in order. */
export function rawHeaders(raw: Buffer | string): Map<string, string[]> {
  const text = raw.toString();
  const end = text.search(/\r?\n\r?\n/);
  const block = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const headers = new Map<string, string[]>();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return headers;
}

/**
 * The per-recipient and list headers of a digest built like digestEmail (subscriber "subN", token "tokN"), as they
 * arrive: Message-ID and Date once, RFC 2369/8058 unsubscribe, RFC 2919 List-Id, RFC 3834 auto-submitted, bulk.
 */
export function expectDigestHeaders(headers: Map<string, string[]>, msg: EmailMessage): void {
  expect(headers.get('message-id')).toEqual([msg.messageId]);
  expect(headers.get('date')).toEqual(['Tue, 25 Nov 2025 07:00:00 +0000']);
  expect(headers.get('list-unsubscribe')).toEqual([
    `<https://digest.example.org/unsubscribe?token=tok${msg.subscriberId.slice(3)}>, <mailto:unsubscribe@example.org?subject=unsubscribe%20${msg.subscriberId}>`,
  ]);
  expect(headers.get('list-unsubscribe-post')).toEqual(['List-Unsubscribe=One-Click']);
  expect(headers.get('list-id')).toEqual(['<planet-digest.example.org>']);
  expect(headers.get('auto-submitted')).toEqual(['auto-generated']);
  expect(headers.get('precedence')).toEqual(['bulk']);
  expect(headers.get('x-auto-response-suppress')).toEqual(['OOF']);
}

/** A sleep that records what it was asked and really waits (so retries stay honest). */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    sleep: (ms: number) => {
      calls.push(ms);
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
  };
}
