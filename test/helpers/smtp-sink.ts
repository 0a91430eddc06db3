/**
 * A real SMTP server (the `smtp-server` package) on 127.0.0.1 for tests: it keeps every message it accepts,
 * parsed with mailparser, and can be scripted to fail in the ways real servers fail.
 *
 * Usage:
 *   const sink = await startSmtpSink();
 *   // point the code under test at sink.url (smtp://127.0.0.1:<port>)
 *   await sink.setFaults({ rejectData: [{ attempt: 3, code: 451 }] });
 *   ...
 *   expect(sink.messages[0]?.subject).toBe('…');
 *   await sink.stop();
 *
 * Faults are matched against counters that start at 1 and never reset (not even by setFaults):
 *   - `attempt` counts DATA transactions (every message a client tries to send, including retries);
 *   - recipients are matched case-insensitively on the address.
 * No TLS (STARTTLS is disabled) and authentication is optional: any AUTH is accepted.
 */
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { simpleParser } from 'mailparser';
import type { ParsedMail } from 'mailparser';

/** Scriptable failures; every field is optional and `setFaults` replaces the whole set. */
export interface SmtpFaults {
  /** Answer the DATA transaction number `attempt` (1-based, counted over the sink's life) with `code` (e.g. 451 or 554). */
  rejectData?: Array<{ attempt: number; code: number; message?: string }>;
  /** Refuse these recipients at RCPT TO with `code` (e.g. 550 "no such user", 450 "mailbox busy"). */
  rejectRecipients?: Array<{ address: string; code: number; message?: string }>;
  /** Destroy the TCP connection in the middle of DATA transaction number `attempt`, once `afterBytes` (default 1) bytes arrived. */
  dropMidData?: Array<{ attempt: number; afterBytes?: number }>;
  /** Accept TCP connections and close them at once, before the greeting (the client sees a closed connection). */
  dropOnConnect?: boolean;
  /** Stop listening: connections are refused (ECONNREFUSED) until `down` is set back to false; open connections are cut. */
  down?: boolean;
}

/** One accepted message with its SMTP envelope and raw bytes. */
export interface SinkDelivery {
  /** The message as mailparser sees it. */
  parsed: ParsedMail;
  /** Exact bytes received in DATA (dot-unstuffed). */
  raw: Buffer;
  mailFrom: string;
  rcptTo: string[];
  /** smtp-server session id: messages sent over one connection share it. */
  sessionId: string;
  /** DATA transaction number (see SmtpFaults). */
  attempt: number;
  /** Date.now() when the message was accepted. */
  receivedAt: number;
}

/** Counters, for asserting on pooling and retries. */
export interface SmtpSinkStats {
  /** TCP connections accepted (including dropped ones). */
  connections: number;
  /** Largest number of connections open at the same time. */
  maxConcurrentConnections: number;
  /** DATA transactions started (accepted, rejected or dropped). */
  dataAttempts: number;
  /** RCPT TO commands refused by a fault. */
  rejectedRecipients: number;
  /** DATA transactions refused or dropped by a fault. */
  failedData: number;
}

/** A running sink. */
export interface SmtpSink {
  host: '127.0.0.1';
  port: number;
  /** smtp://127.0.0.1:<port> — the shape of SMTP_URL. */
  url: string;
  /** Parsed messages in the order they were accepted (the same objects as deliveries[i].parsed). */
  messages: ParsedMail[];
  /** Accepted messages with envelope and raw bytes. */
  deliveries: SinkDelivery[];
  stats: SmtpSinkStats;
  /** Replace the fault script (resolves once a `down` change took effect). */
  setFaults(faults: SmtpFaults): Promise<void>;
  /** Resolve once at least `count` messages were accepted; reject after `timeoutMs` (default 5000). */
  waitForMessages(count: number, timeoutMs?: number): Promise<void>;
  /** Close everything; safe to call twice. */
  stop(): Promise<void>;
}

/** Start a sink on 127.0.0.1 with an OS-chosen port. */
export async function startSmtpSink(initialFaults: SmtpFaults = {}): Promise<SmtpSink> {
  let faults: SmtpFaults = initialFaults;
  const messages: ParsedMail[] = [];
  const deliveries: SinkDelivery[] = [];
  const stats: SmtpSinkStats = { connections: 0, maxConcurrentConnections: 0, dataAttempts: 0, rejectedRecipients: 0, failedData: 0 };
  // Raw sockets by remote port, so a fault can cut the TCP connection of a given SMTP session.
  const sockets = new Map<number, Socket>();
  const waiters: Array<() => void> = [];
  let stopped = false;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Short grace period: stop() must not hang on a client that keeps a pooled connection open.
    closeTimeout: 200,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'test' });
    },
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const rule = faults.rejectRecipients?.find((r) => r.address.toLowerCase() === address.address.toLowerCase());
      if (rule) {
        stats.rejectedRecipients++;
        callback(smtpError(rule.code, rule.message ?? `Recipient <${address.address}> rejected by test fault`));
        return;
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const attempt = ++stats.dataAttempts;
      const drop = faults.dropMidData?.find((d) => d.attempt === attempt);
      const reject = faults.rejectData?.find((r) => r.attempt === attempt);
      const chunks: Buffer[] = [];
      let bytes = 0;
      let dropped = false;
      stream.on('data', (chunk: Buffer) => {
        if (dropped) return;
        chunks.push(chunk);
        bytes += chunk.length;
        if (drop && bytes >= (drop.afterBytes ?? 1)) {
          dropped = true;
          stats.failedData++;
          sockets.get(session.remotePort)?.destroy();
        }
      });
      stream.on('end', () => {
        if (dropped) return; // the connection is gone; nobody is listening for a reply
        if (reject) {
          stats.failedData++;
          callback(smtpError(reject.code, reject.message ?? `Message rejected by test fault (attempt ${attempt})`));
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            // Recorded before the 250 goes out, so a client's resolved send() always finds its message here.
            messages.push(parsed);
            deliveries.push({
              parsed,
              raw,
              mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              rcptTo: session.envelope.rcptTo.map((r) => r.address),
              sessionId: session.id,
              attempt,
              receivedAt: Date.now(),
            });
            for (const wake of waiters.splice(0)) wake();
            callback();
          },
          (err: unknown) => callback(smtpError(554, `Test sink could not parse the message: ${String(err)}`)),
        );
      });
    },
  });
  // Errors of dropped sockets surface here; they are expected in fault tests and must not crash the run.
  server.on('error', () => {});

  server.server.on('connection', (socket: Socket) => {
    stats.connections++;
    if (faults.dropOnConnect) {
      socket.destroy();
      return;
    }
    const port = socket.remotePort;
    if (port !== undefined) sockets.set(port, socket);
    stats.maxConcurrentConnections = Math.max(stats.maxConcurrentConnections, sockets.size);
    socket.once('close', () => {
      if (port !== undefined && sockets.get(port) === socket) sockets.delete(port);
    });
  });

  await listen(server, 0);
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('smtp-sink: server has no TCP address');
  const port = address.port;
  let isDown = false;

  async function setDown(down: boolean): Promise<void> {
    if (down === isDown || stopped) return;
    isDown = down;
    if (down) {
      const closed = new Promise<void>((resolve) => server.server.close(() => resolve()));
      for (const socket of sockets.values()) socket.destroy();
      await closed;
    } else {
      await listen(server, port);
    }
  }

  return {
    host: '127.0.0.1',
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    deliveries,
    stats,
    async setFaults(next: SmtpFaults) {
      faults = next;
      await setDown(next.down ?? false);
    },
    waitForMessages(count: number, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`smtp-sink: ${messages.length}/${count} messages after ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          if (messages.length >= count) {
            clearTimeout(timer);
            resolve();
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const socket of sockets.values()) socket.destroy();
      if (isDown) return;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

function listen(server: SMTPServer, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.server.off('error', onError);
      resolve();
    });
  });
}
