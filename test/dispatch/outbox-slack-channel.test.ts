import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxSlackChannel, PARENT_TS_PLACEHOLDER } from '../../src/dispatch/outbox-slack-channel.js';
import { createSlackChannel, type SlackDigestMessage } from '../../src/dispatch/slack-channel.js';
import { startSlackApiServer } from '../helpers/slack-api-server.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pd-slack-outbox-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const now = () => new Date('2025-11-25T23:30:00Z');
const msg: SlackDigestMessage = {
  channel: '#python-news',
  subscriberId: 'team-python',
  digestId: '<digest.0123@example.org>',
  messages: [
    { text: 'Planet digest: 4 new posts', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'Planet digest' } }] },
    { text: 'more', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Source B*' } }] },
  ],
};

describe('OutboxSlackChannel', () => {
  it('writes the chat.postMessage payloads exactly as they would be posted', async () => {
    const result = await new OutboxSlackChannel({ dir, now }).send(msg);
    expect(result).toMatchObject({ ok: true, posted: 2 });
    const file = (result.ok && result.files?.[0]) || '';
    expect(path.dirname(file)).toBe(path.join(dir, '2025-11-25'));
    expect(path.basename(file)).toMatch(/^team-python-[0-9a-f]{12}\.json$/);

    const written = JSON.parse(await readFile(file, 'utf8'));
    expect(written).toEqual({
      subscriberId: 'team-python',
      channel: '#python-news',
      posts: [
        { channel: '#python-news', text: msg.messages[0]!.text, blocks: msg.messages[0]!.blocks, unfurl_links: false, unfurl_media: false },
        { channel: '#python-news', text: 'more', blocks: msg.messages[1]!.blocks, unfurl_links: false, unfurl_media: false, thread_ts: PARENT_TS_PLACEHOLDER },
      ],
    });
  });

  it('matches what the Web API channel really posts (apart from the real thread_ts)', async () => {
    const slack = await startSlackApiServer();
    try {
      expect((await createSlackChannel({ token: 'xoxb-t', apiUrl: slack.url }).send(msg)).ok).toBe(true);
      const result = await new OutboxSlackChannel({ dir, now }).send(msg);
      const { posts } = JSON.parse(await readFile((result.ok && result.files?.[0]) || '', 'utf8')) as { posts: Array<Record<string, unknown>> };
      posts.forEach((post, i) => {
        const sent = slack.messages[i]!;
        expect({ ...post, thread_ts: post.thread_ts === undefined ? undefined : sent.thread_ts }).toEqual({
          channel: sent.channel,
          text: sent.text,
          blocks: sent.blocks,
          unfurl_links: sent.unfurl_links,
          unfurl_media: sent.unfurl_media,
          thread_ts: sent.thread_ts,
        });
      });
    } finally {
      await slack.stop();
    }
  });

  it('rewrites the same file for the same digest and leaves no temp files', async () => {
    const channel = new OutboxSlackChannel({ dir, now });
    const a = await channel.send(msg);
    const b = await channel.send(msg);
    expect(a.ok && a.files).toEqual(b.ok && b.files);
    expect(await readdir(path.join(dir, '2025-11-25'))).toHaveLength(1);
  });
});
