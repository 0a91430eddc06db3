import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddressObject } from 'mailparser';
import { SmtpEmailChannel, classifySmtpError } from '../../src/dispatch/smtp-email-channel.js';
import type { SmtpEmailChannelOptions } from '../../src/dispatch/smtp-email-channel.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { DATE, digestEmail, expectDigestHeaders, rawHeaders, recordingSleep } from './mail-fixtures.js';

describe('SmtpEmailChannel against a real SMTP server (smtp-sink)', () => {
  let sink: SmtpSink;
  let channel: SmtpEmailChannel | undefined;
  let sleeps: ReturnType<typeof recordingSleep>;

  beforeEach(async () => {
    sink = await startSmtpSink();
    sleeps = recordingSleep();
  });
  afterEach(async () => {
    await channel?.close();
    channel = undefined;
    await sink.stop();
  });

  function open(options: Partial<SmtpEmailChannelOptions> = {}): SmtpEmailChannel {
    channel = new SmtpEmailChannel({ smtp: sink.url, baseDelayMs: 10, maxDelayMs: 50, sleep: sleeps.sleep, ...options });
    return channel;
  }

  function firstAddress(a: AddressObject | AddressObject[] | undefined) {
    return (Array.isArray(a) ? a[0] : a)?.value[0];
  }

  describe('SmtpEmailChannel delivery', () => {
    it('delivers a multipart/alternative digest with both parts and every list header', async () => {
      const msg = digestEmail(1);
      const result = await open().send(msg);
      expect(result).toMatchObject({ ok: true });
      expect(result.ok && result.response).toMatch(/^250/);

      expect(sink.messages).toHaveLength(1);
      const [delivery] = sink.deliveries;
      const parsed = delivery!.parsed;
      expect(parsed.text?.trim()).toBe(msg.text.trim());
      expect(parsed.html).toContain('<h1>Digest 1</h1>');
      expect(parsed.subject).toBe('1 new posts from Planet Test');
      expect(parsed.messageId).toBe(msg.messageId);
      expect(parsed.date?.toISOString()).toBe(DATE.toISOString());
      expect(firstAddress(parsed.to)).toEqual({ address: 'reader1@example.org', name: 'Reader 1' });
      expect(firstAddress(parsed.from)).toEqual({ address: 'digest@example.org', name: 'Planet digest' });
      expect(delivery!.rcptTo).toEqual(['reader1@example.org']);
      expect(delivery!.mailFrom).toBe('digest@example.org');

      const raw = rawHeaders(delivery!.raw);
      expect(raw.get('content-type')?.[0]).toMatch(/^multipart\/alternative; boundary=/);
      // Exactly one Message-ID and Date, although buildDigestHeaders also returns them.
      expectDigestHeaders(raw, msg);
    });

    it('MIME-encodes non-ASCII subject and name, so the header block stays ASCII', async () => {
      const result = await open().send(digestEmail(2, { subject: 'Ünïcödé — 3 nouveaux articles ✓', toName: 'Zoë Ågren' }));
      expect(result.ok).toBe(true);
      const { parsed, raw } = sink.deliveries[0]!;
      expect(parsed.subject).toBe('Ünïcödé — 3 nouveaux articles ✓');
      expect(firstAddress(parsed.to)?.name).toBe('Zoë Ågren');
      const headerBlock = raw.toString('latin1').split(/\r\n\r\n/)[0] ?? '';
      // eslint-disable-next-line no-control-regex
      expect(headerBlock).toMatch(/^[\u0000-\u007f]*$/);
    });

    it('strips CR/LF from subject, names and custom headers (no header injection)', async () => {
      const msg = digestEmail(3, {
        subject: 'Hello\r\nBcc: evil@example.org',
        toName: 'Eve\r\nX-Injected: yes',
        from: 'Planet digest\r\nX-From-Injected: yes <digest@example.org>',
        headers: { ...digestEmail(3).headers, 'X-Custom': 'a\r\nX-Header-Injected: yes', 'Bad Name': 'dropped' },
      });
      const result = await open().send(msg);
      expect(result.ok).toBe(true);
      const { parsed, raw, rcptTo } = sink.deliveries[0]!;
      expect(rcptTo).toEqual(['reader3@example.org']);
      expect(parsed.subject).toBe('Hello Bcc: evil@example.org');
      const headers = rawHeaders(raw);
      for (const injected of ['bcc', 'x-injected', 'x-from-injected', 'x-header-injected', 'bad name']) {
        expect(headers.has(injected), injected).toBe(false);
      }
      expect(headers.get('x-custom')).toEqual(['a X-Header-Injected: yes']);
    });

    it('refuses an address with CR/LF as a permanent failure, without connecting', async () => {
      const result = await open().send(digestEmail(4, { to: 'reader4@example.org\r\nRCPT TO:<evil@example.org>' }));
      expect(result).toMatchObject({ ok: false, permanent: true, code: 'EADDRESS' });
      expect(!result.ok && result.message).toMatch(/sub4.*subscribers\.json/);
      expect(sink.stats.connections).toBe(0);
    });
  });

  describe('SmtpEmailChannel pooling and rate', () => {
    it('sends many messages over at most maxConnections connections', async () => {
      const ch = open({ maxConnections: 2 });
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => ch.send(digestEmail(i + 1))));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(sink.messages).toHaveLength(8);
      expect(sink.stats.connections).toBeLessThanOrEqual(2);
      expect(new Set(sink.deliveries.map((d) => d.sessionId)).size).toBeLessThanOrEqual(2);
      expect(new Set(sink.messages.map((m) => m.messageId)).size).toBe(8);
    });

    it('honours messagesPerSecond (lower bound only: 5 messages at 10/s need at least 4 intervals)', async () => {
      const ch = open({ messagesPerSecond: 10, maxConnections: 3 });
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => ch.send(digestEmail(i + 1))));
      const elapsed = Date.now() - started;
      expect(results.every((r) => r.ok)).toBe(true);
      // The 5th send may not start before 4 × 100 ms; 350 leaves room for timer granularity. No upper bound (CI speed varies).
      expect(elapsed).toBeGreaterThanOrEqual(350);
    });
  });

  describe('SmtpEmailChannel failures', () => {
    it('retries a 451 on the 3rd message and delivers every message exactly once', async () => {
      await sink.setFaults({ rejectData: [{ attempt: 3, code: 451, message: 'Try again later' }] });
      const ch = open();
      const results = [];
      for (let i = 1; i <= 5; i++) results.push(await ch.send(digestEmail(i)));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(sink.stats.dataAttempts).toBe(6);
      expect(sink.stats.failedData).toBe(1);
      expect(sink.messages.map((m) => m.subject)).toEqual([1, 2, 3, 4, 5].map((n) => `${n} new posts from Planet Test`));
      expect(sleeps.calls).toHaveLength(1);
    });

    it('retries when the connection drops in the middle of DATA', async () => {
      await sink.setFaults({ dropMidData: [{ attempt: 1, afterBytes: 50 }] });
      const result = await open().send(digestEmail(1));
      expect(result.ok).toBe(true);
      expect(sink.stats.dataAttempts).toBe(2);
      expect(sink.stats.connections).toBe(2);
      expect(sink.messages).toHaveLength(1);
    });

    it('returns a 550 recipient refusal as permanent, without retrying', async () => {
      await sink.setFaults({ rejectRecipients: [{ address: 'gone@example.org', code: 550, message: 'No such user' }] });
      const result = await open().send(digestEmail(1, { to: 'gone@example.org', subscriberId: 'gone' }));
      expect(result).toMatchObject({ ok: false, permanent: true, status: 550, code: 'EENVELOPE' });
      expect(!result.ok && result.message).toMatch(/"gone".*No such user/);
      expect(sink.stats.rejectedRecipients).toBe(1);
      expect(sleeps.calls).toEqual([]);
    });

    it('returns a 554 to the message data as permanent, without retrying', async () => {
      await sink.setFaults({ rejectData: [{ attempt: 1, code: 554, message: 'Content rejected' }] });
      const result = await open().send(digestEmail(1));
      expect(result).toMatchObject({ ok: false, permanent: true, status: 554 });
      expect(sink.stats.dataAttempts).toBe(1);
    });

    it('retries a 450 recipient deferral, then reports a transient failure', async () => {
      await sink.setFaults({ rejectRecipients: [{ address: 'busy@example.org', code: 450, message: 'Mailbox busy' }] });
      const result = await open({ attempts: 3 }).send(digestEmail(1, { to: 'busy@example.org' }));
      expect(result).toMatchObject({ ok: false, permanent: false, status: 450 });
      expect(sink.stats.rejectedRecipients).toBe(3);
      expect(sleeps.calls).toHaveLength(2);
    });

    it('reports a transient failure after `attempts` tries when the server is down, and recovers when it is back', async () => {
      await sink.setFaults({ down: true });
      const ch = open({ attempts: 3 });
      const result = await ch.send(digestEmail(1));
      expect(result).toMatchObject({ ok: false, permanent: false, code: 'ECONNREFUSED' });
      expect(!result.ok && result.message).toMatch(/after 3 attempts/);
      expect(!result.ok && result.message).toContain(`smtp://127.0.0.1:${sink.port}`);
      // two backoff waits between three attempts, within [base/2, maxDelay]
      expect(sleeps.calls).toHaveLength(2);
      expect(sleeps.calls.every((ms) => ms >= 5 && ms <= 50)).toBe(true);

      await sink.setFaults({});
      expect((await ch.send(digestEmail(2))).ok).toBe(true);
      expect(sink.messages).toHaveLength(1);
    });

    it('treats a connection closed before the greeting as transient', async () => {
      await sink.setFaults({ dropOnConnect: true });
      const result = await open({ attempts: 2 }).send(digestEmail(1));
      expect(result).toMatchObject({ ok: false, permanent: false, code: 'ECONNECTION' });
      expect(sink.stats.connections).toBe(2);
    });

    it('never puts SMTP credentials in messages', async () => {
      await sink.setFaults({ down: true });
      const ch = open({ smtp: `smtp://user:s3cret@127.0.0.1:${sink.port}`, attempts: 1 });
      const result = await ch.send(digestEmail(1));
      expect(!result.ok && result.message).not.toContain('s3cret');
    });
  });
});

describe('classifySmtpError', () => {
  it.each([
    [{ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', permanent: true }, 'permanent'],
    [{ code: 'EMESSAGE', responseCode: 552, command: 'DATA' }, 'permanent'],
    [{ code: 'EMESSAGE', responseCode: 451, command: 'DATA', permanent: false }, 'transient'],
    [{ code: 'EENVELOPE', responseCode: 421, command: 'RCPT TO' }, 'transient'],
    [{ code: 'EPROTOCOL', responseCode: 503, command: 'DATA' }, 'transient'],
    [{ code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM' }, 'setup'],
    [{ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }, 'setup'],
    [{ code: 'ETLS' }, 'setup'],
    [{ code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN' }, 'transient'],
    [{ code: 'ECONNECTION' }, 'transient'],
    [{ code: 'ETIMEDOUT' }, 'transient'],
    [new Error('something unexpected'), 'transient'],
  ])('%j -> %s', (err, kind) => {
    expect(classifySmtpError(err)).toBe(kind);
  });
});
