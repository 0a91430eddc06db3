// Self-tests of the shared helpers (test/helpers/smtp-sink.ts, slack-api-server.ts) that other areas reuse.
import { describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { startSlackApiServer } from '../helpers/slack-api-server.js';

describe('smtp-sink', () => {
  it('accepts authenticated and anonymous mail, counts connections and comes back after being down', async () => {
    const sink = await startSmtpSink();
    try {
      const mail = { from: 'a@example.org', to: 'b@example.org', subject: 's', text: 't' };
      await nodemailer.createTransport({ url: `smtp://user:pass@127.0.0.1:${sink.port}` }).sendMail(mail);
      await nodemailer.createTransport({ url: sink.url }).sendMail(mail);
      expect(sink.messages).toHaveLength(2);
      expect(sink.stats.connections).toBe(2);

      await sink.setFaults({ down: true });
      await expect(nodemailer.createTransport({ url: sink.url }).sendMail(mail)).rejects.toMatchObject({ originalCode: 'ECONNREFUSED' });
      await sink.setFaults({ down: false });
      await nodemailer.createTransport({ url: sink.url }).sendMail(mail);
      await sink.waitForMessages(3, 1000);
      expect(sink.messages).toHaveLength(3);
    } finally {
      await sink.stop();
    }
  });

  it('waitForMessages rejects with a count when messages do not come', async () => {
    const sink = await startSmtpSink();
    try {
      await expect(sink.waitForMessages(1, 50)).rejects.toThrow(/0\/1 messages/);
    } finally {
      await sink.stop();
    }
  });
});

describe('slack-api-server', () => {
  it('accepts JSON bodies as well as form bodies, and requires a token', async () => {
    const slack = await startSlackApiServer();
    try {
      const post = (body: unknown, headers: Record<string, string>) =>
        fetch(`${slack.url}chat.postMessage`, { method: 'POST', headers, body: JSON.stringify(body) }).then((r) => r.json() as Promise<Record<string, unknown>>);
      const ok = await post({ channel: 'C1', text: 'hi', blocks: [{ type: 'divider' }], unfurl_links: false }, { 'Content-Type': 'application/json', Authorization: 'Bearer xoxb-j' });
      expect(ok).toMatchObject({ ok: true, channel: 'C1' });
      expect(slack.messages[0]).toMatchObject({ channel: 'C1', blocks: [{ type: 'divider' }], unfurl_links: false, token: 'xoxb-j' });

      expect(await post({ channel: 'C1', text: 'x' }, { 'Content-Type': 'application/json' })).toEqual({ ok: false, error: 'not_authed' });
      const orphan = await post({ channel: 'C1', text: 'x', thread_ts: '1.000001' }, { 'Content-Type': 'application/json', Authorization: 'Bearer t' });
      expect(orphan).toEqual({ ok: false, error: 'thread_not_found' });
      expect(slack.calls.map((c) => c.error)).toEqual([undefined, 'not_authed', 'thread_not_found']);
    } finally {
      await slack.stop();
    }
  });

  it('applies per-channel faults with a times limit and knows only the configured channels', async () => {
    const slack = await startSlackApiServer({ channels: ['C1', 'C2'], faults: [{ channel: 'C2', times: 1, fault: { kind: 'error', error: 'not_in_channel' } }] });
    try {
      const post = (channel: string) =>
        fetch(`${slack.url}chat.postMessage`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'Bearer t' }, body: new URLSearchParams({ channel, text: 'x' }).toString() }).then(
          (r) => r.json() as Promise<{ ok: boolean; error?: string }>,
        );
      expect((await post('C2')).error).toBe('not_in_channel');
      expect((await post('C2')).ok).toBe(true);
      expect((await post('C3')).error).toBe('channel_not_found');
      expect((await post('C1')).ok).toBe(true);
    } finally {
      await slack.stop();
    }
  });
});
