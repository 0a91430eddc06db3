import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { composeDigestMime, prepareDigestMime, stitchDigestMime, stitchedBytes, type DigestMimeTemplate } from '../../src/dispatch/compose-digest-mime.js';
import { buildDigestHeaders, digestMessageId } from '../../src/dispatch/build-digest-headers.js';
import type { EmailMessage } from '../../src/dispatch/email-channel.js';
import { OutboxEmailChannel } from '../../src/dispatch/outbox-email-channel.js';
import { SmtpEmailChannel } from '../../src/dispatch/smtp-email-channel.js';
import { personalizeEmail, RECIPIENT_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER, type RenderedEmail } from '../../src/render/render-email.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { DATE, expectDigestHeaders, rawHeaders } from './mail-fixtures.js';

const SLOTS = [UNSUBSCRIBE_PLACEHOLDER, RECIPIENT_PLACEHOLDER];
const FROM = 'Planet digest <digest@example.org>';

/**
 * A rendered digest with what makes quoted-printable and stitching hard: ~40 KB of HTML with long lines, non-ASCII
 * (2-, 3- and 4-byte UTF-8), "=" and "." at line starts, trailing spaces before line breaks, and the placeholders at the
 * very start, back to back, at the end of a line and at the very end.
 */
function renderedDigest(): RenderedEmail {
  const entry = (i: number) =>
    `<tr><td style="padding:0 0 12px 0;font-family:Arial,sans-serif"><a href="https://blog.example.org/posts/${i}?utm=a&amp;b=c" style="color:#1d4ed8">Entry ${i}: Ünïcödé — naïve café ✓ 漢字 😀</a><p style="margin:0">${'Summary text with = signs, 100% safe. '.repeat(6)}</p></td></tr>`;
  const html = [
    `${UNSUBSCRIBE_PLACEHOLDER}<!doctype html><html><head><meta charset="utf-8"><title>Digest</title></head><body>`,
    '<table role="presentation" width="100%">',
    Array.from({ length: 60 }, (_, i) => entry(i)).join(''),
    '</table>\n.leading dot line\n=leading equals   \n',
    `<p>You receive this digest because ${RECIPIENT_PLACEHOLDER} is subscribed.<br><a href="${UNSUBSCRIBE_PLACEHOLDER}">Unsubscribe</a></p>`,
    `<p>${RECIPIENT_PLACEHOLDER}${UNSUBSCRIBE_PLACEHOLDER}</p></body></html>${UNSUBSCRIBE_PLACEHOLDER}`,
  ].join('\n');
  const text = [
    'Planet Test — 60 new posts',
    '',
    ...Array.from({ length: 60 }, (_, i) => `Entry ${i}: Ünïcödé — naïve café ✓ 漢字 😀\nhttps://blog.example.org/posts/${i}?utm=a&b=c   \n.dot\n`),
    `You receive this digest because ${RECIPIENT_PLACEHOLDER} is subscribed.`,
    `Unsubscribe: ${UNSUBSCRIBE_PLACEHOLDER}`,
    // A long unbroken line right before a slot: its last encoded line must leave room for the soft break.
    `${'x'.repeat(301)}${UNSUBSCRIBE_PLACEHOLDER}`,
    `${UNSUBSCRIBE_PLACEHOLDER}`,
  ].join('\n');
  return { subject: 'Ünïcödé — 60 nouveaux articles ✓ from a digest whose subject is long enough to be folded', preheader: '60 new posts', html, text };
}

/** One recipient's message as the pipeline builds it, with the shared template and its slot values. */
function recipientMessage(template: DigestMimeTemplate, rendered: RenderedEmail, n: number, overrides: { name?: string; url?: string } = {}): EmailMessage & { personal: RenderedEmail } {
  const subscriberId = `sub${n}`;
  const url = overrides.url ?? `https://digest.example.org/unsubscribe?token=tok${n}`;
  const to = `reader${n}@example.org`;
  const values = { unsubscribeUrl: url, recipient: to };
  const personal = personalizeEmail(rendered, values);
  const slot = (token: string) => personalizeEmail({ subject: '', preheader: '', html: token, text: token }, values);
  const messageId = digestMessageId({ subscriberId, fromSeq: 0, entryKeys: [`k${n}`], domain: 'example.org' });
  return {
    personal,
    to,
    toName: overrides.name ?? `Reader ${n}`,
    from: FROM,
    subject: rendered.subject,
    html: personal.html,
    text: personal.text,
    messageId,
    headers: buildDigestHeaders({ subscriberId, listId: 'planet-digest.example.org', unsubscribeHttpsUrl: url, unsubscribeMailto: 'unsubscribe@example.org', messageId, date: DATE }),
    date: DATE,
    subscriberId,
    mime: { template, values: { html: Object.fromEntries(SLOTS.map((s) => [s, slot(s).html])), text: Object.fromEntries(SLOTS.map((s) => [s, slot(s).text])) } },
  };
}

/** The message as the previous per-recipient path composed it: nodemailer's MailComposer from the personalised fields. */
async function composedByNodemailer(msg: EmailMessage): Promise<Buffer> {
  const composer = new MailComposer({
    from: msg.from,
    to: msg.toName ? { name: msg.toName, address: msg.to } : msg.to,
    subject: msg.subject,
    text: msg.text,
    html: msg.html,
    messageId: msg.messageId,
    date: msg.date,
    headers: Object.fromEntries(Object.entries(msg.headers).filter(([k]) => !['message-id', 'date'].includes(k.toLowerCase()))),
    newline: 'windows',
  });
  return composer.compile().build();
}

const firstAddress = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a[0] : a)?.value[0];

/** Lines of a raw message (CRLF separated) and of its quoted-printable parts. */
function lineLengths(raw: Buffer): { all: number[]; qp: number[] } {
  const text = raw.toString('latin1');
  expect(/[^\r]\n|\r[^\n]/.test(text)).toBe(false); // CRLF only
  const all = text.split('\r\n').map((l) => l.length);
  const bodies = text.split(/\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n/).slice(1);
  const qp = bodies.flatMap((b) => b.split(/\r\n--/)[0]!.split('\r\n').map((l) => l.length));
  return { all, qp };
}

describe('prepareDigestMime + stitchDigestMime: one encoding per digest, a correct message per recipient', () => {
  let sink: SmtpSink;
  let channel: SmtpEmailChannel;

  beforeEach(async () => {
    sink = await startSmtpSink();
    channel = new SmtpEmailChannel({ smtp: sink.url, maxConnections: 2, attempts: 1 });
  });
  afterEach(async () => {
    await channel.close();
    await sink.stop();
  });

  it('two recipients of one template each get exactly their personalised html and text, To, Message-ID and unsubscribe headers', async () => {
    const rendered = renderedDigest();
    const template = prepareDigestMime({ from: FROM, subject: rendered.subject, html: rendered.html, text: rendered.text, slots: SLOTS });
    const ada = recipientMessage(template, rendered, 1, { name: 'Zoë Ågren, "the" <reader>' });
    const bob = recipientMessage(template, rendered, 2, { name: 'Bob' });
    const results = await Promise.all([channel.send(ada), channel.send(bob)]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(sink.deliveries).toHaveLength(2);

    for (const msg of [ada, bob]) {
      const delivery = sink.deliveries.find((d) => d.rcptTo[0] === msg.to)!;
      const parsed = delivery.parsed;
      // Decoded parts are byte for byte what personalizeEmail makes of the rendered digest for this recipient.
      expect(parsed.html).toBe(msg.personal.html);
      expect(parsed.text).toBe(msg.personal.text.replace(/\r?\n/g, '\n'));
      expect(parsed.text).toContain(`Unsubscribe: https://digest.example.org/unsubscribe?token=tok${msg.subscriberId.slice(3)}`);
      expect(parsed.subject).toBe(rendered.subject);
      expect(parsed.messageId).toBe(msg.messageId);
      expect(parsed.date?.toISOString()).toBe(DATE.toISOString());
      expect(firstAddress(parsed.to)).toEqual({ address: msg.to, name: msg.toName });
      expect(firstAddress(parsed.from)).toEqual({ address: 'digest@example.org', name: 'Planet digest' });
      expect(delivery.mailFrom).toBe('digest@example.org');
      expect(delivery.rcptTo).toEqual([msg.to]);

      const headers = rawHeaders(delivery.raw);
      expectDigestHeaders(headers, msg);
      expect(headers.get('mime-version')).toEqual(['1.0']);
      expect(headers.get('content-type')?.[0]).toBe(`multipart/alternative; boundary="${template.boundary}"`);
      for (const name of ['from', 'to', 'subject', 'message-id', 'date', 'mime-version', 'content-type']) expect(headers.get(name), name).toHaveLength(1);
      // Header block ASCII only (subject and name MIME-encoded); QP lines within RFC 2045's 76, all within RFC 5322's 998.
      expect(delivery.raw.toString('latin1').split('\r\n\r\n')[0]).toMatch(/^[\u0020-\u007e\r\n\t]*$/);
      const lines = lineLengths(delivery.raw);
      expect(Math.max(...lines.qp)).toBeLessThanOrEqual(76);
      expect(Math.max(...lines.all)).toBeLessThanOrEqual(78);
      expect(lines.qp.length).toBeGreaterThan(500);
      // Lines starting with "." are encoded as "=2E", so SMTP dot-stuffing has nothing to change.
      expect(delivery.raw.toString('latin1')).not.toMatch(/\r\n\./);
    }
    // Each got their own link, never the other's.
    expect(sink.deliveries.find((d) => d.rcptTo[0] === ada.to)!.parsed.html).not.toContain('tok2');
    expect(sink.deliveries.find((d) => d.rcptTo[0] === bob.to)!.parsed.html).not.toContain('tok1');
  });

  it('decodes to the same html, text and headers as nodemailer composing the personalised message (the previous path)', async () => {
    const rendered = renderedDigest();
    const template = prepareDigestMime({ from: FROM, subject: rendered.subject, html: rendered.html, text: rendered.text, slots: SLOTS });
    const msg = recipientMessage(template, rendered, 7, { name: 'Ærøskøbing Ünïcödé' });
    const before = await simpleParser(await composedByNodemailer(msg));
    const after = await simpleParser(stitchedBytes(stitchDigestMime(template, { ...msg, values: msg.mime!.values })));
    const essentials = (p: ParsedMail) => ({
      html: p.html,
      text: p.text,
      subject: p.subject,
      messageId: p.messageId,
      date: p.date?.toISOString(),
      to: p.to,
      from: p.from,
      headers: Object.fromEntries(['list-unsubscribe', 'list-unsubscribe-post', 'list-id', 'auto-submitted', 'precedence', 'x-auto-response-suppress', 'mime-version'].map((h) => [h, p.headers.get(h)])),
    });
    expect(essentials(after)).toEqual(essentials(before));
    expect(after.html).toBe(msg.personal.html);
  });

  it.each([
    ['a 600-character unsubscribe URL', `https://digest.example.org/unsubscribe?token=${'x'.repeat(560)}`],
    ['an URL with characters quoted-printable must escape', 'https://digest.example.org/unsubscribe?token=a=b&c=%20d ü'],
  ])('keeps %s intact, in the footer and in List-Unsubscribe', async (_label, url) => {
    const rendered = renderedDigest();
    const template = prepareDigestMime({ from: FROM, subject: rendered.subject, html: rendered.html, text: rendered.text, slots: SLOTS });
    const msg = recipientMessage(template, rendered, 3, { url: encodeURI(decodeURI(url)) });
    expect((await channel.send(msg)).ok).toBe(true);
    const delivery = sink.deliveries[0]!;
    expect(delivery.parsed.html).toBe(msg.personal.html);
    expect(delivery.parsed.text).toBe(msg.personal.text);
    expect(delivery.parsed.text).toContain(`Unsubscribe: ${encodeURI(decodeURI(url))}`);
    const lines = lineLengths(delivery.raw);
    expect(Math.max(...lines.qp)).toBeLessThanOrEqual(76);
    expect(Math.max(...lines.all)).toBeLessThanOrEqual(998);
  });

  it('a message without a template (composeDigestMime from html/text) is the same message', async () => {
    const rendered = renderedDigest();
    const template = prepareDigestMime({ from: FROM, subject: rendered.subject, html: rendered.html, text: rendered.text, slots: SLOTS });
    const { mime: _mime, personal, ...plain } = recipientMessage(template, rendered, 4);
    const parsed = await simpleParser(stitchedBytes(composeDigestMime(plain)));
    expect(parsed.html).toBe(personal.html);
    expect(parsed.text).toBe(personal.text);
  });

  it('a value that contains a placeholder stays literal (one pass, like personalizeEmail)', async () => {
    const rendered = renderedDigest();
    const template = prepareDigestMime({ from: FROM, subject: rendered.subject, html: rendered.html, text: rendered.text, slots: SLOTS });
    const msg = recipientMessage(template, rendered, 5, { url: `https://digest.example.org/unsubscribe?token=${RECIPIENT_PLACEHOLDER}` });
    const parsed = await simpleParser(stitchedBytes(stitchDigestMime(template, { ...msg, values: msg.mime!.values })));
    expect(parsed.html).toBe(msg.personal.html);
    expect(parsed.text).toBe(msg.personal.text);
    expect(parsed.text).toContain(`token=${RECIPIENT_PLACEHOLDER}`);
  });

  it('the outbox writes the very bytes the SMTP server received', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pd-mime-outbox-'));
    try {
      const rendered = renderedDigest();
      const template = prepareDigestMime({ from: FROM, subject: rendered.subject, html: rendered.html, text: rendered.text, slots: SLOTS });
      const msg = recipientMessage(template, rendered, 6);
      const outbox = new OutboxEmailChannel({ dir });
      const written = await outbox.send(msg);
      expect((await channel.send(msg)).ok).toBe(true);
      expect(written.ok && written.files).toHaveLength(2);
      const [eml, html] = (written.ok && written.files) as string[];
      expect((await readFile(eml!)).equals(sink.deliveries[0]!.raw)).toBe(true);
      expect(await readFile(html!, 'utf8')).toBe(msg.personal.html);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
