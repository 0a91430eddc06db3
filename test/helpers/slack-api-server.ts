/**
 * An HTTP server on 127.0.0.1 speaking enough of Slack's Web API for tests: chat.postMessage (threads included) and
 * auth.test. Point @slack/web-api at it with `new WebClient(token, { slackApiUrl: server.url })` (or SLACK_API_URL).
 *
 * Usage:
 *   const slack = await startSlackApiServer({ tokens: ['xoxb-test'] });
 *   slack.setFaults([{ call: 1, fault: { kind: 'rate-limited', retryAfter: 1 } }]);
 *   ... code under test posts ...
 *   expect(slack.messages[0]?.blocks).toEqual([...]);
 *   await slack.stop();
 *
 * Behaviour, as Slack documents it:
 *   - requests are POST /api/<method> with a form-encoded or JSON body; the token comes from `Authorization: Bearer`
 *     (or a `token` field). No token -> {ok:false,error:'not_authed'}; a token outside `tokens` -> 'invalid_auth'.
 *   - API errors are HTTP 200 with {ok:false,error}; rate limits are HTTP 429 with Retry-After (seconds).
 *   - chat.postMessage answers {ok:true, channel, ts, message}; ts values are unique and increasing.
 *   - thread_ts must be the ts of a message posted earlier in the same channel, else 'thread_not_found'
 *     (stricter than Slack, to catch threading bugs).
 *   - with `channels`, any other channel gets 'channel_not_found'; without, every channel exists.
 * Form fields holding JSON (blocks, attachments, metadata) are parsed, and "true"/"false" become booleans, so `args`
 * look the same whichever encoding the client used.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a fault makes the server answer. */
export type SlackFault =
  /** HTTP 429 with `Retry-After: <retryAfter>` and {ok:false,error:'ratelimited'}. */
  | { kind: 'rate-limited'; retryAfter: number }
  /** An HTTP error status (500, 502, 503…) with a short text body. */
  | { kind: 'http'; status: number; body?: string }
  /** HTTP 200 with {ok:false,error} — a Slack API error such as channel_not_found, not_in_channel, invalid_auth. */
  | { kind: 'error'; error: string }
  /** Destroy the connection without answering (a network failure for the client). */
  | { kind: 'drop' };

/**
 * When a fault applies. Every given condition must match; the first matching rule wins.
 * `call` is the 1-based number of the request among ALL requests this server received (retries count).
 * `times` limits how often the rule fires (default: every time it matches).
 */
export interface SlackFaultRule {
  method?: string;
  call?: number;
  channel?: string;
  times?: number;
  fault: SlackFault;
}

/** One request as received, with what was answered. */
export interface SlackApiCall {
  /** 1-based request number. */
  call: number;
  method: string;
  /** Token from Authorization: Bearer or the token field. */
  token?: string;
  contentType: string;
  args: Record<string, unknown>;
  /** HTTP status answered (0 when the connection was dropped). */
  status: number;
  /** Slack error code answered, when {ok:false}. */
  error?: string;
}

/** A message chat.postMessage accepted. */
export interface PostedSlackMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown;
  unfurl_links?: unknown;
  unfurl_media?: unknown;
  token?: string;
  /** All arguments as received (normalised). */
  args: Record<string, unknown>;
}

/** Options of startSlackApiServer. */
export interface SlackApiServerOptions {
  /** Accepted tokens; default: any non-empty token. */
  tokens?: string[];
  /** Existing channels (ids or names as the client sends them); default: every channel exists. */
  channels?: string[];
  faults?: SlackFaultRule[];
}

/** A running fake Slack API. */
export interface SlackApiServer {
  /** Base URL for slackApiUrl / SLACK_API_URL: http://127.0.0.1:<port>/api/ */
  url: string;
  port: number;
  /** Every request, in order (including those answered with a fault). */
  calls: SlackApiCall[];
  /** Messages posted successfully, in order. */
  messages: PostedSlackMessage[];
  /** Messages removed again with chat.delete (a rolled-back partial digest). */
  deleted: PostedSlackMessage[];
  /** Replace the fault rules (counters of `times` restart with the new rules). */
  setFaults(rules: SlackFaultRule[]): void;
  /** Close the server and every open connection; safe to call twice. */
  stop(): Promise<void>;
}

const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata']);
const BOOLEAN_FIELDS = new Set(['unfurl_links', 'unfurl_media', 'reply_broadcast', 'mrkdwn', 'as_user', 'link_names']);

/** Start the fake Slack API on 127.0.0.1 with an OS-chosen port. */
export async function startSlackApiServer(options: SlackApiServerOptions = {}): Promise<SlackApiServer> {
  let rules: Array<SlackFaultRule & { fired: number }> = [];
  const calls: SlackApiCall[] = [];
  const messages: PostedSlackMessage[] = [];
  const deleted: PostedSlackMessage[] = [];
  let tsCounter = 0;
  let stopped = false;

  const setFaults = (next: SlackFaultRule[]) => {
    rules = next.map((r) => ({ ...r, fired: 0 }));
  };
  setFaults(options.faults ?? []);

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { ok: false, error: 'fake_server_error', detail: String(err) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const callNo = calls.length + 1;
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const contentType = String(req.headers['content-type'] ?? '');
    const raw = await readBody(req);
    const args = parseArgs(raw, contentType);
    const bearer = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    delete args.token;
    const call: SlackApiCall = { call: callNo, method, token, contentType, args, status: 200 };
    calls.push(call);

    if (req.method !== 'POST' || !(req.url ?? '').startsWith('/api/')) {
      call.status = 404;
      send(res, 404, 'not found');
      return;
    }
    const channel = typeof args.channel === 'string' ? args.channel : undefined;
    const rule = rules.find(
      (r) =>
        (r.times === undefined || r.fired < r.times) &&
        (r.call === undefined || r.call === callNo) &&
        (r.method === undefined || r.method === method) &&
        (r.channel === undefined || r.channel === channel),
    );
    if (rule) {
      rule.fired++;
      const f = rule.fault;
      switch (f.kind) {
        case 'rate-limited':
          call.status = 429;
          call.error = 'ratelimited';
          send(res, 429, { ok: false, error: 'ratelimited' }, { 'Retry-After': String(f.retryAfter) });
          return;
        case 'http':
          call.status = f.status;
          send(res, f.status, f.body ?? `fake slack: HTTP ${f.status}`);
          return;
        case 'error':
          call.error = f.error;
          send(res, 200, { ok: false, error: f.error });
          return;
        case 'drop':
          call.status = 0;
          req.socket.destroy();
          return;
      }
    }

    const fail = (error: string) => {
      call.error = error;
      send(res, 200, { ok: false, error });
    };
    if (!token) return fail('not_authed');
    if (options.tokens && !options.tokens.includes(token)) return fail('invalid_auth');

    switch (method) {
      case 'auth.test':
        send(res, 200, { ok: true, url: 'https://fake.slack.test/', team: 'Fake', user: 'planet-digest', team_id: 'T000FAKE', user_id: 'U000FAKE', bot_id: 'B000FAKE' });
        return;
      case 'chat.postMessage': {
        if (!channel) return fail('channel_not_found');
        if (options.channels && !options.channels.includes(channel)) return fail('channel_not_found');
        if (args.text === undefined && args.blocks === undefined && args.attachments === undefined) return fail('no_text');
        const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
        if (threadTs && !messages.some((m) => m.channel === channel && m.ts === threadTs && m.thread_ts === undefined)) {
          return fail('thread_not_found');
        }
        tsCounter++;
        const ts = `${1_700_000_000 + tsCounter}.${String(tsCounter).padStart(6, '0')}`;
        const posted: PostedSlackMessage = {
          channel,
          ts,
          thread_ts: threadTs,
          text: typeof args.text === 'string' ? args.text : undefined,
          blocks: args.blocks,
          unfurl_links: args.unfurl_links,
          unfurl_media: args.unfurl_media,
          token,
          args,
        };
        messages.push(posted);
        send(res, 200, {
          ok: true,
          channel,
          ts,
          message: { type: 'message', bot_id: 'B000FAKE', text: posted.text, blocks: posted.blocks, ts, ...(threadTs ? { thread_ts: threadTs } : {}) },
        });
        return;
      }
      case 'chat.delete': {
        // Like Slack: a bot may delete its own message; it disappears from `messages` (kept in `deleted`).
        const index = messages.findIndex((m) => m.channel === channel && m.ts === args.ts);
        if (index < 0) return fail('message_not_found');
        deleted.push(...messages.splice(index, 1));
        send(res, 200, { ok: true, channel, ts: args.ts });
        return;
      }
      default:
        fail('unknown_method');
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    port,
    calls,
    messages,
    deleted,
    setFaults,
    async stop() {
      if (stopped) return;
      stopped = true;
      // fetch keeps connections alive; close them or server.close() waits for their idle timeout.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (!raw) return {};
  if (/application\/json/i.test(contentType)) {
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === 'object' ? { ...(parsed as Record<string, unknown>) } : {};
  }
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(key)) {
      try {
        args[key] = JSON.parse(value);
        continue;
      } catch {
        // keep the string: the test can see what was sent
      }
    }
    args[key] = BOOLEAN_FIELDS.has(key) && (value === 'true' || value === 'false') ? value === 'true' : value;
  }
  return args;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const isText = typeof body === 'string';
  const payload = isText ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', ...headers });
  res.end(payload);
}
