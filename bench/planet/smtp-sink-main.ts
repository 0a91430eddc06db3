/**
 * Child process: an SMTP sink on 127.0.0.1 (the `smtp-server` package) that accepts every message as fast as it can
 * and discards it, counting messages, bytes, connections and recipients (a recipient that gets two messages in one
 * cycle is counted as a duplicate: "nothing doubled" checked at benchmark scale). No AUTH, no STARTTLS: plain SMTP on
 * loopback, so the figures measure planet-digest, not TLS. Started by planet-bench.ts through startChildServer.
 */
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { serveParentRequests } from './child-server.js';

/** Counters since the last reset. */
export interface SmtpSinkStats {
  messages: number;
  bytes: number;
  connections: number;
  maxConcurrentConnections: number;
  /** Distinct RCPT TO addresses. */
  recipients: number;
  /** Messages to a recipient that already got one since the last reset. */
  duplicateRecipients: number;
  /** Sink process RSS now and at its peak, bytes. */
  rss: number;
  maxRss: number;
}

let counters = { messages: 0, bytes: 0, connections: 0, maxConcurrentConnections: 0, duplicateRecipients: 0 };
let recipients = new Set<string>();
let open = 0;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  disableReverseLookup: true,
  logger: false,
  closeTimeout: 200,
  onConnect(_session, callback) {
    counters.connections++;
    open++;
    counters.maxConcurrentConnections = Math.max(counters.maxConcurrentConnections, open);
    callback();
  },
  onClose() {
    open = Math.max(0, open - 1);
  },
  onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) {
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.on('end', () => {
      counters.messages++;
      counters.bytes += bytes;
      for (const rcpt of session.envelope.rcptTo) {
        const address = rcpt.address.toLowerCase();
        if (recipients.has(address)) counters.duplicateRecipients++;
        else recipients.add(address);
      }
      callback(null);
    });
  },
});

await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => resolve());
});
const port = (server.server.address() as AddressInfo).port;

serveParentRequests(
  { origin: `smtp://127.0.0.1:${port}`, port },
  {
    stats: (): SmtpSinkStats => ({ ...counters, recipients: recipients.size, rss: process.memoryUsage.rss(), maxRss: process.resourceUsage().maxRSS * 1024 }),
    reset: () => {
      counters = { messages: 0, bytes: 0, connections: 0, maxConcurrentConnections: open, duplicateRecipients: 0 };
      recipients = new Set();
      return true;
    },
  },
  () => new Promise<void>((resolve) => server.close(() => resolve())),
);
