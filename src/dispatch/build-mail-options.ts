import type { SendMailOptions } from 'nodemailer';
import { sanitizeHeaderValue } from './build-digest-headers.js';
import type { DeliveryFailure } from './delivery-result.js';
import type { EmailMessage } from './email-channel.js';

/** Longest subject we send; RFC 5322 §2.1.1 recommends header lines under 78 characters, folding handles the rest. */
export const MAX_SUBJECT_LENGTH = 250;

// Set from the message's own fields; a copy among the custom headers would be overridden or duplicated.
const RESERVED_HEADERS = new Set(['message-id', 'date', 'from', 'to', 'cc', 'bcc', 'subject', 'reply-to', 'sender', 'content-type', 'content-transfer-encoding', 'mime-version']);
// RFC 5322 §2.2 field-name: printable US-ASCII except ":".
const FIELD_NAME = /^[!-9;-~]+$/;
// Deliberately plain: one "@", no spaces or brackets. The config schema validates addresses; this only stops a value
// that would turn into a different envelope once sanitised.
const PLAIN_ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;

/** Message fields in nodemailer's shape, with every header value free of CR/LF and control characters. */
export function buildMailOptions(msg: EmailMessage): SendMailOptions {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(msg.headers)) {
    if (!FIELD_NAME.test(key) || RESERVED_HEADERS.has(key.toLowerCase())) continue;
    const clean = sanitizeHeaderValue(String(value));
    if (clean) headers[key] = clean;
  }
  const toName = msg.toName ? sanitizeHeaderValue(msg.toName) : '';
  const address = sanitizeHeaderValue(msg.to);
  return {
    from: sanitizeHeaderValue(msg.from),
    // An address object: nodemailer quotes or MIME-encodes the name itself (RFC 5322 §3.4, RFC 2047).
    to: toName ? { name: toName, address } : address,
    subject: truncate(sanitizeHeaderValue(msg.subject), MAX_SUBJECT_LENGTH),
    text: msg.text,
    html: msg.html,
    messageId: `<${sanitizeHeaderValue(msg.messageId).replace(/^<|>$/g, '')}>`,
    date: msg.date,
    headers,
  };
}

/** A permanent failure when the recipient address cannot be used as is (CR/LF, not a plain address), else undefined. */
export function refuseRecipient(msg: Pick<EmailMessage, 'to' | 'subscriberId'>): DeliveryFailure | undefined {
  // eslint-disable-next-line no-control-regex
  const problem = /[\u0000-\u001f\u007f]/.test(msg.to) ? 'contains control characters (CR/LF)' : !PLAIN_ADDRESS.test(msg.to.trim()) ? 'is not a plain address like name@example.org' : undefined;
  if (!problem) return undefined;
  return { ok: false, permanent: true, code: 'EADDRESS', message: `Subscriber "${msg.subscriberId}": email address "${sanitizeHeaderValue(msg.to)}" ${problem}; fix it in subscribers.json.` };
}

function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
