import MimeNode from 'nodemailer/lib/mime-node';
import { formatRfc5322Date, sanitizeHeaderValue } from './build-digest-headers.js';
import type { EmailMessage } from './email-channel.js';
import { encodeQuotedPrintable } from './encode-quoted-printable.js';

/*
 * A digest is rendered once and sent to every subscriber with the same selection; only the addressing headers and two
 * placeholders in the footer (unsubscribe link, recipient address) differ. Composing each copy with nodemailer's
 * MailComposer re-encoded ~50 KB of quoted-printable per recipient (≈40% of a Planet-scale cycle). Here the body is
 * encoded once per digest and each recipient's message is stitched from shared pieces:
 *
 *   <recipient headers: To, Message-ID, Date, List-Unsubscribe…>   built per recipient by nodemailer's MimeNode
 *   <digest headers: From, Subject, MIME-Version, Content-Type>     built once by MimeNode (Subject MIME-encoded)
 *   --boundary / text/plain part / --boundary / text/html part / --boundary--   (RFC 2046 §5.1.1 framing)
 *
 * Both parts are quoted-printable (RFC 2045 §6.7), encoded and wrapped by encodeQuotedPrintable. A placeholder
 * ("slot") splits a part into segments, each encoded on its own; a recipient's value is encoded the same way and
 * joined to its neighbours by soft line breaks ("=" CRLF), which decoders remove (rule 5). So the decoded part is
 * exactly segment + value + segment…, and no line exceeds 76 characters.
 */

/** Longest subject we send; RFC 5322 §2.1.1 recommends header lines under 78 characters, folding handles the rest. */
export const MAX_SUBJECT_LENGTH = 250;

/** Line length the qp segments are wrapped to: a soft break ("=") appended after a segment's last line makes 76 (RFC 2045 §6.7). */
const QP_LINE = 75;
const CRLF = '\r\n';
const SOFT_BREAK = Buffer.from(`=${CRLF}`, 'latin1');

/** A text part of the template: encoded segments with the names of the slots between them (segments.length = slots.length + 1). */
interface EncodedPart {
  header: Buffer;
  segments: Buffer[];
  slots: string[];
}

/** A digest's MIME body and shared headers, encoded once for every recipient of one rendered digest (see prepareDigestMime). */
export interface DigestMimeTemplate {
  readonly envelopeFrom: string;
  /** From, Subject, MIME-Version, Content-Type (with the boundary); CRLF-terminated. */
  readonly header: Buffer;
  readonly boundary: string;
  /** Slot tokens found in html or text (what a recipient's `values` fill). */
  readonly slots: readonly string[];
  readonly text: EncodedPart;
  readonly html: EncodedPart;
  /** Bytes of everything shared, for accounting. */
  readonly size: number;
}

/** Input of prepareDigestMime: one rendered digest, placeholders still in it. */
export interface DigestMimeContent {
  /** Sender, "Name <address>" or a bare address. */
  from: string;
  subject: string;
  html: string;
  text: string;
  /** Placeholder tokens (e.g. "%%UNSUBSCRIBE_URL%%") filled per recipient; every occurrence in html and text becomes a slot. */
  slots?: readonly string[];
}

/** One recipient's fields of a stitched message. */
export interface DigestMimeRecipient {
  /** Plain address (see refuseRecipient). */
  to: string;
  toName?: string;
  /** With or without angle brackets. */
  messageId: string;
  date: Date;
  /** Extra headers (List-Unsubscribe…); reserved names (From, To, Subject, Message-ID, Date, MIME and content headers) are ignored. */
  headers: Record<string, string>;
  /** Value of each slot token, as it goes into the html part (already HTML-escaped) and into the text part. */
  values?: { html: Record<string, string>; text: Record<string, string> };
}

/**
 * A complete message (RFC 5322, CRLF line ends) and its SMTP envelope, for nodemailer's `raw` + `envelope`. The bytes
 * are `chunks` in order: the large encoded segments are the template's own buffers (shared, never copied per
 * recipient), the small per-recipient pieces between them are merged.
 */
export interface StitchedMessage {
  chunks: Buffer[];
  /** Total length of the chunks. */
  size: number;
  envelope: { from: string; to: string[] };
}

/** The message as one Buffer (the outbox file; tests). */
export function stitchedBytes(message: StitchedMessage): Buffer {
  return Buffer.concat(message.chunks, message.size);
}

// Set from the message's own fields; a copy among the custom headers would be duplicated.
const RESERVED_HEADERS = new Set(['message-id', 'date', 'from', 'to', 'cc', 'bcc', 'subject', 'reply-to', 'sender', 'content-type', 'content-transfer-encoding', 'mime-version']);
// RFC 5322 §2.2 field-name: printable US-ASCII except ":".
const FIELD_NAME = /^[!-9;-~]+$/;

/**
 * The bytes both email channels send for a message (SMTP DATA, outbox .eml): stitched from msg.mime when the pipeline
 * prepared the digest once for many recipients, else from msg.html/msg.text encoded now.
 */
export function composeDigestMime(msg: EmailMessage): StitchedMessage {
  const template = msg.mime?.template ?? prepareDigestMime({ from: msg.from, subject: msg.subject, html: msg.html, text: msg.text });
  return stitchDigestMime(template, { to: msg.to, toName: msg.toName, messageId: msg.messageId, date: msg.date, headers: msg.headers, values: msg.mime?.values });
}

/** Encode a rendered digest once: shared headers and quoted-printable parts split at the slot tokens. */
export function prepareDigestMime(content: DigestMimeContent): DigestMimeTemplate {
  // One tree for the shared nodes; the holder is never emitted, it only makes the others non-root, so MimeNode adds no
  // Date/Message-ID of its own.
  const holder = new MimeNode(false, { disableFileAccess: true, disableUrlAccess: true });
  const root = holder.createChild('multipart/alternative');
  root.setHeader('From', sanitizeHeaderValue(content.from));
  root.setHeader('Subject', truncate(sanitizeHeaderValue(content.subject), MAX_SUBJECT_LENGTH));
  root.setHeader('MIME-Version', '1.0');
  const rootHeaders = root.buildHeaders();
  const boundary = root.boundary;
  if (!boundary) throw new Error('prepareDigestMime: nodemailer generated no multipart boundary');
  const envelopeFrom = root.getEnvelope().from;
  if (!envelopeFrom) throw new Error(`prepareDigestMime: no sender address in "${sanitizeHeaderValue(content.from)}"`);
  const slots = content.slots ?? [];
  const text = encodePart(root, 'text/plain; charset=utf-8', content.text, slots);
  const html = encodePart(root, 'text/html; charset=utf-8', content.html, slots);
  const header = Buffer.from(`${rootHeaders}${CRLF}`, 'latin1');
  const size = header.length + [text, html].reduce((n, p) => n + p.header.length + p.segments.reduce((m, s) => m + s.length, 0), 0);
  return { envelopeFrom, header, boundary, slots: [...new Set([...text.slots, ...html.slots])], text, html, size };
}

/** The message for one recipient: their headers, the shared ones, and the parts with their slot values encoded in. */
export function stitchDigestMime(template: DigestMimeTemplate, recipient: DigestMimeRecipient): StitchedMessage {
  // A header-only node: never multipart, so it needs no boundary (given one, MimeNode skips its crypto.randomBytes).
  const node = new MimeNode(false, { rootNode: HEADER_ROOT, baseBoundary: 'none', disableFileAccess: true, disableUrlAccess: true });
  const address = sanitizeHeaderValue(recipient.to);
  const toName = recipient.toName ? sanitizeHeaderValue(recipient.toName) : '';
  // An address object: nodemailer quotes or MIME-encodes the name itself (RFC 5322 §3.4, RFC 2047). The declared
  // header types only know strings; MimeNode's address parser takes {name, address} (as sendMail's `to` does).
  node.setHeader('To', (toName ? { name: toName, address } : address) as unknown as string);
  node.setHeader('Message-ID', `<${sanitizeHeaderValue(recipient.messageId).replace(/^<|>$/g, '')}>`);
  node.setHeader('Date', formatRfc5322Date(recipient.date));
  for (const [key, value] of Object.entries(recipient.headers)) {
    if (!FIELD_NAME.test(key) || RESERVED_HEADERS.has(key.toLowerCase())) continue;
    const clean = sanitizeHeaderValue(String(value));
    if (clean) node.setHeader(key, clean);
  }
  const chunks: Buffer[] = [Buffer.from(`${node.buildHeaders()}${CRLF}`, 'latin1'), template.header, Buffer.from(CRLF, 'latin1')];
  const delimiter = Buffer.from(`--${template.boundary}${CRLF}`, 'latin1');
  for (const [part, values] of [
    [template.text, recipient.values?.text],
    [template.html, recipient.values?.html],
  ] as const) {
    chunks.push(delimiter, part.header);
    appendSegments(chunks, part, values ?? {});
    chunks.push(Buffer.from(CRLF, 'latin1'));
  }
  chunks.push(Buffer.from(`--${template.boundary}--${CRLF}`, 'latin1'));
  return { ...mergeSmallChunks(chunks), envelope: { from: template.envelopeFrom, to: [address] } };
}

// Parent of the per-recipient header nodes (never emitted); shared, it only counts node ids.
const HEADER_ROOT = new MimeNode(false, { baseBoundary: 'none' });

function encodePart(parent: MimeNode, contentType: string, body: string, slots: readonly string[]): EncodedPart {
  const node = parent.createChild(contentType);
  node.setHeader('Content-Transfer-Encoding', 'quoted-printable');
  const header = Buffer.from(`${node.buildHeaders()}${CRLF}${CRLF}`, 'latin1');
  const { segments, names } = splitAtSlots(body, slots);
  return { header, segments: segments.map(encodeSegment), slots: names };
}

/** One left-to-right pass, like personalizeEmail's replace: a value never gets split into slots itself. */
function splitAtSlots(body: string, slots: readonly string[]): { segments: string[]; names: string[] } {
  if (slots.length === 0) return { segments: [body], names: [] };
  const pattern = new RegExp(slots.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  const segments: string[] = [];
  const names: string[] = [];
  let last = 0;
  for (const match of body.matchAll(pattern)) {
    segments.push(body.slice(last, match.index));
    names.push(match[0]);
    last = match.index + match[0].length;
  }
  segments.push(body.slice(last));
  return { segments, names };
}

/**
 * Quoted-printable of one piece of a text part: line breaks become CRLF (the canonical form of text, RFC 2045 §6.7
 * rule 4; SMTP would turn a bare LF into CRLF anyway), so they stay hard breaks and decode as before. A "." starting a
 * line is written "=2E", so SMTP's dot-stuffing (RFC 5321 §4.5.2) has nothing to insert and nodemailer passes the shared
 * buffers on instead of copying each one per recipient (MJML's <style> block alone has a dozen such lines).
 */
function encodeSegment(segment: string): Buffer {
  return segment === '' ? Buffer.alloc(0) : encodeQuotedPrintable(segment, QP_LINE);
}

function appendSegments(chunks: Buffer[], part: EncodedPart, values: Record<string, string>): void {
  let open = false; // the last chunk ends mid-line
  const add = (piece: Buffer) => {
    if (piece.length === 0) return;
    if (open) chunks.push(SOFT_BREAK);
    chunks.push(piece);
    open = !endsWithCrlf(piece);
  };
  part.segments.forEach((segment, i) => {
    add(segment);
    const slot = part.slots[i];
    if (slot !== undefined) add(encodeSegment(values[slot] ?? slot));
  });
}

/** Chunks at least this large are passed on as they are (shared template buffers); smaller neighbours are joined. */
const SHARED_CHUNK_MIN = 4096;

function mergeSmallChunks(chunks: Buffer[]): { chunks: Buffer[]; size: number } {
  const merged: Buffer[] = [];
  let run: Buffer[] = [];
  let size = 0;
  const flush = () => {
    if (run.length > 0) merged.push(run.length === 1 ? run[0]! : Buffer.concat(run));
    run = [];
  };
  for (const chunk of chunks) {
    size += chunk.length;
    if (chunk.length >= SHARED_CHUNK_MIN) {
      flush();
      merged.push(chunk);
    } else if (chunk.length > 0) {
      run.push(chunk);
    }
  }
  flush();
  return { chunks: merged, size };
}

function endsWithCrlf(piece: Buffer): boolean {
  return piece.length >= 2 && piece[piece.length - 2] === 0x0d && piece[piece.length - 1] === 0x0a;
}

function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
