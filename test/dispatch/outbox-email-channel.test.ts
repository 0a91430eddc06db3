import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { OutboxEmailChannel } from '../../src/dispatch/outbox-email-channel.js';
import { SmtpEmailChannel } from '../../src/dispatch/smtp-email-channel.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { digestEmail, rawHeaders } from './mail-fixtures.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pd-outbox-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('OutboxEmailChannel', () => {
  it('writes a valid multipart/alternative .eml and the HTML part, named by date, subscriber and Message-ID', async () => {
    const msg = digestEmail(1, { subject: 'Ünïcödé digest' });
    const channel = new OutboxEmailChannel({ dir });
    const result = await channel.send(msg);
    await channel.close();

    expect(result.ok).toBe(true);
    const files = result.ok ? (result.files ?? []) : [];
    expect(files).toHaveLength(2);
    const [eml, html] = files as [string, string];
    expect(path.dirname(eml)).toBe(path.join(dir, '2025-11-25'));
    expect(path.basename(eml)).toMatch(/^sub1-[0-9a-f]{12}\.eml$/);
    expect(html).toBe(eml.replace(/\.eml$/, '.html'));

    const raw = await readFile(eml);
    expect(raw.includes('\r\n')).toBe(true);
    expect(/[^\r]\n/.test(raw.toString('latin1'))).toBe(false); // CRLF throughout, as on the wire
    const parsed = await simpleParser(raw);
    expect(rawHeaders(raw).get('content-type')?.[0]).toMatch(/^multipart\/alternative;/);
    expect(parsed.subject).toBe('Ünïcödé digest');
    expect(parsed.text?.trim()).toBe(msg.text.trim());
    expect(parsed.html).toContain('<h1>Digest 1</h1>');
    expect(parsed.messageId).toBe(msg.messageId);
    expect(await readFile(html, 'utf8')).toBe(msg.html);
  });

  it('writes the same headers the SMTP channel sends', async () => {
    const sink = await startSmtpSink();
    const smtp = new SmtpEmailChannel({ smtp: sink.url });
    const outbox = new OutboxEmailChannel({ dir });
    try {
      const msg = digestEmail(2);
      expect((await smtp.send(msg)).ok).toBe(true);
      const result = await outbox.send(msg);
      const written = rawHeaders(await readFile((result.ok && result.files?.[0]) || ''));
      const sent = rawHeaders(sink.deliveries[0]!.raw);
      // Everything but the MIME boundary is identical.
      const strip = (h: Map<string, string[]>) => new Map([...h].map(([k, v]) => [k, k === 'content-type' ? v.map((x) => x.replace(/boundary="?[^";]+"?/, '')) : v]));
      expect(strip(written)).toEqual(strip(sent));
      expect(written.get('list-unsubscribe-post')).toEqual(['List-Unsubscribe=One-Click']);
    } finally {
      await smtp.close();
      await sink.stop();
    }
  });

  it('replaces its files when the same digest is written again (no doubles, no temp files left)', async () => {
    const channel = new OutboxEmailChannel({ dir });
    const first = await channel.send(digestEmail(3));
    const again = await channel.send(digestEmail(3));
    const other = await channel.send(digestEmail(4));
    expect(first.ok && again.ok && other.ok).toBe(true);
    expect(first.ok && first.files).toEqual(again.ok && again.files);
    const names = await readdir(path.join(dir, '2025-11-25'));
    expect(names.sort()).toHaveLength(4);
    expect(names.every((n) => /^sub[34]-[0-9a-f]{12}\.(eml|html)$/.test(n))).toBe(true);
  });

  it('keeps path separators in a subscriber id out of the file name', async () => {
    const result = await new OutboxEmailChannel({ dir }).send(digestEmail(5, { subscriberId: '../../etc/passwd' }));
    expect(result.ok).toBe(true);
    for (const file of (result.ok && result.files) || []) {
      expect(path.dirname(file)).toBe(path.join(dir, '2025-11-25'));
    }
  });

  it('reports an unwritable outbox as a transient failure naming the directory', async () => {
    const blocked = path.join(dir, 'not-a-dir');
    await writeFile(blocked, 'a file where the outbox should be');
    const result = await new OutboxEmailChannel({ dir: blocked }).send(digestEmail(6));
    expect(result).toMatchObject({ ok: false, permanent: false });
    expect(!result.ok && result.code).toMatch(/^(ENOTDIR|EEXIST)$/);
    expect(!result.ok && result.message).toContain('DIGEST_OUTBOX');
  });
});
