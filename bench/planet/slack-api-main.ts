/**
 * Child process: an HTTP server on 127.0.0.1 speaking the one Slack Web API method a digest uses, chat.postMessage
 * (form-encoded or JSON, as @slack/web-api sends it), answering {ok:true, channel, ts} and counting posts per channel.
 * Started by planet-bench.ts through startChildServer; SLACK_API_URL points at `${origin}/api/`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveParentRequests } from './child-server.js';

/** Counters since the last reset. */
export interface SlackApiStats {
  /** chat.postMessage calls answered ok. */
  posts: number;
  /** Posts that started a digest (no thread_ts). */
  digests: number;
  /** Distinct channels that received a digest. */
  channels: number;
  /** Digests to a channel that already received one since the last reset. */
  duplicateChannels: number;
  bytes: number;
  rss: number;
  maxRss: number;
}

let counters = { posts: 0, digests: 0, duplicateChannels: 0, bytes: 0 };
let channels = new Set<string>();
let tsCounter = 0;

function fieldsOf(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(raw));
}

const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || !req.url?.endsWith('/chat.postMessage')) return reply(404, { ok: false, error: 'unknown_method' });
    const raw = Buffer.concat(chunks);
    let fields: Record<string, unknown>;
    try {
      fields = fieldsOf(raw.toString('utf8'), String(req.headers['content-type'] ?? ''));
    } catch {
      return reply(200, { ok: false, error: 'invalid_form_data' });
    }
    const channel = typeof fields.channel === 'string' ? fields.channel : '';
    if (!channel || (typeof fields.text !== 'string' && fields.blocks === undefined)) return reply(200, { ok: false, error: 'no_text' });
    counters.posts++;
    counters.bytes += raw.length;
    if (!fields.thread_ts) {
      counters.digests++;
      if (channels.has(channel)) counters.duplicateChannels++;
      else channels.add(channel);
    }
    tsCounter++;
    const ts = `1700000000.${String(tsCounter).padStart(6, '0')}`;
    reply(200, { ok: true, channel, ts, message: { type: 'message', ts } });
  });
});

await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => resolve());
});
const port = (server.address() as AddressInfo).port;

serveParentRequests(
  { origin: `http://127.0.0.1:${port}`, port },
  {
    stats: (): SlackApiStats => ({ ...counters, channels: channels.size, rss: process.memoryUsage.rss(), maxRss: process.resourceUsage().maxRSS * 1024 }),
    reset: () => {
      counters = { posts: 0, digests: 0, duplicateChannels: 0, bytes: 0 };
      channels = new Set();
      return true;
    },
  },
  async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  },
);
