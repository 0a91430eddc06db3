import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSlackChannel } from '../../src/dispatch/slack-channel.js';
import type { SlackChannelOptions, SlackDigestMessage } from '../../src/dispatch/slack-channel.js';
import { startSlackApiServer, type SlackApiServer } from '../helpers/slack-api-server.js';
import { recordingSleep } from './mail-fixtures.js';

const TOKEN = 'xoxb-test-token';
let slack: SlackApiServer;
let sleeps: ReturnType<typeof recordingSleep>;

beforeEach(async () => {
  slack = await startSlackApiServer({ tokens: [TOKEN] });
  sleeps = recordingSleep();
});
afterEach(async () => {
  await slack.stop();
});

function channel(options: Partial<SlackChannelOptions> = {}) {
  return createSlackChannel({ token: TOKEN, apiUrl: slack.url, retries: 2, retryBaseDelayMs: 10, retryMaxDelayMs: 20, sleep: sleeps.sleep, ...options });
}

function digest(count: number, overrides: Partial<SlackDigestMessage> = {}): SlackDigestMessage {
  return {
    channel: 'C0123456789',
    subscriberId: 'team-python',
    messages: Array.from({ length: count }, (_, i) => ({
      text: `Planet digest part ${i + 1}`,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: `Part ${i + 1}` } },
        { type: 'section', text: { type: 'mrkdwn', text: `<https://blog.example.org/${i}|Post ${i}> &amp; more` } },
      ],
    })),
    ...overrides,
  };
}

describe('createSlackChannel', () => {
  it('posts the first message to the channel and the rest as thread replies, with blocks, token and no unfurls', async () => {
    const msg = digest(3);
    const result = await channel().send(msg);

    expect(result).toMatchObject({ ok: true, posted: 3 });
    expect(slack.messages).toHaveLength(3);
    const [parent, ...replies] = slack.messages;
    expect(result.ts).toBe(parent!.ts);
    expect(parent).toMatchObject({ channel: 'C0123456789', text: 'Planet digest part 1', blocks: msg.messages[0]!.blocks, unfurl_links: false, unfurl_media: false, token: TOKEN });
    expect(parent!.thread_ts).toBeUndefined();
    replies.forEach((reply, i) => {
      expect(reply.thread_ts).toBe(parent!.ts);
      expect(reply.blocks).toEqual(msg.messages[i + 1]!.blocks);
      expect(reply).toMatchObject({ unfurl_links: false, unfurl_media: false });
    });
    expect(slack.calls.every((c) => c.method === 'chat.postMessage' && c.token === TOKEN)).toBe(true);
  });

  it('waits Retry-After on a 429, then posts', async () => {
    slack.setFaults([{ call: 1, fault: { kind: 'rate-limited', retryAfter: 1 } }]);
    const result = await channel().send(digest(1));
    expect(result.ok).toBe(true);
    expect(sleeps.calls).toEqual([1000]);
    expect(slack.calls.map((c) => c.status)).toEqual([429, 200]);
    expect(slack.messages).toHaveLength(1);
  });

  it('does not wait a Retry-After above maxRetryAfterSeconds: transient failure for the next run', async () => {
    slack.setFaults([{ fault: { kind: 'rate-limited', retryAfter: 120 } }]);
    const result = await channel({ maxRetryAfterSeconds: 5 }).send(digest(1));
    expect(result).toMatchObject({ ok: false, permanent: false, code: 'rate_limited', status: 429 });
    expect(!result.ok && result.message).toMatch(/120 s/);
    expect(sleeps.calls).toEqual([]);
    expect(slack.calls).toHaveLength(1);
  });

  it('retries a 500 and then posts', async () => {
    slack.setFaults([{ times: 2, fault: { kind: 'http', status: 500 } }]);
    const result = await channel().send(digest(1));
    expect(result.ok).toBe(true);
    expect(slack.calls.map((c) => c.status)).toEqual([500, 500, 200]);
  });

  it('reports a transient failure when 5xx persists beyond the retries', async () => {
    slack.setFaults([{ fault: { kind: 'http', status: 503 } }]);
    const result = await channel({ retries: 2 }).send(digest(2));
    expect(result).toMatchObject({ ok: false, permanent: false, status: 503, posted: 0 });
    expect(slack.calls).toHaveLength(3);
    expect(slack.messages).toHaveLength(0);
  });

  it.each([
    ['channel_not_found', /C0123456789.*"team-python".*subscribers\.json/],
    ['not_in_channel', /\/invite @planet-digest in C0123456789/],
    ['is_archived', /C0123456789.*archived.*subscribers\.json/],
    ['invalid_auth', /"team-python".*SLACK_BOT_TOKEN/],
    ['account_inactive', /"team-python".*slack\.tokenEnv/],
    ['token_revoked', /"team-python".*token/],
  ])('%s is permanent, not retried, with a message saying what to do', async (error, pattern) => {
    slack.setFaults([{ fault: { kind: 'error', error } }]);
    const result = await channel().send(digest(2));
    expect(result).toMatchObject({ ok: false, permanent: true, code: error });
    expect(!result.ok && result.message).toMatch(pattern);
    expect(slack.calls).toHaveLength(1);
  });

  it('a wrong token gets invalid_auth from the server and is permanent', async () => {
    const result = await channel({ token: 'xoxb-wrong' }).send(digest(1));
    expect(result).toMatchObject({ ok: false, permanent: true, code: 'invalid_auth' });
    expect(slack.calls[0]?.token).toBe('xoxb-wrong');
  });

  it('a reply failing after the parent was posted is reported as not delivered, and the partial digest is removed', async () => {
    // call 1 = parent; calls 2..4 = the first reply and its two retries; call 5 = chat.delete of the parent
    slack.setFaults([
      { call: 2, fault: { kind: 'http', status: 500 } },
      { call: 3, fault: { kind: 'http', status: 500 } },
      { call: 4, fault: { kind: 'http', status: 500 } },
    ]);
    const result = await channel({ retries: 2 }).send(digest(3));
    expect(result).toMatchObject({ ok: false, permanent: false, posted: 0, status: 500 });
    expect(!result.ok && result.message).toMatch(/Only 1 of 3 messages.*removed again.*posted next run/);
    // Nothing of it stays in the channel, so the complete digest posted next run shows no entry twice.
    expect(slack.messages).toHaveLength(0);
    expect(slack.deleted).toHaveLength(1);
  });

  it('when the partial digest cannot be removed, the result says so and carries the parent ts', async () => {
    slack.setFaults([
      { call: 2, fault: { kind: 'error', error: 'is_archived' } },
      { method: 'chat.delete', fault: { kind: 'error', error: 'cant_delete_message' } },
    ]);
    const result = await channel().send(digest(3));
    expect(result).toMatchObject({ ok: false, permanent: true, code: 'is_archived', posted: 1 });
    expect(result.ts).toBe(slack.messages[0]?.ts);
    expect(!result.ok && result.message).toMatch(/could not be removed/);
  });

  it('reports an unreachable API as transient, naming the cause', async () => {
    const gone = await startSlackApiServer();
    await gone.stop();
    const result = await createSlackChannel({ token: TOKEN, apiUrl: gone.url, retries: 1, retryBaseDelayMs: 10 }).send(digest(1));
    expect(result).toMatchObject({ ok: false, permanent: false, code: 'ECONNREFUSED' });
    expect(!result.ok && result.message).toMatch(/Could not reach the Slack API/);
  });

  it('refuses an empty digest without calling Slack', async () => {
    const result = await channel().send(digest(0));
    expect(result).toMatchObject({ ok: false, permanent: true, code: 'no_messages' });
    expect(slack.calls).toHaveLength(0);
  });
});
