/**
 * A real SMTP server (smtp-server) on 127.0.0.1 that takes its time: each message waits `delayMs` after its data
 * arrived before the 250 reply, so a test can SIGKILL a client at a chosen point of its dispatch. Unlike
 * test/helpers/smtp-sink.ts it keeps raw bytes only (parsed later, with mailparser, by the test), so the moment a message
 * counts as accepted is not delayed by parsing, and it calls hooks around the reply:
 *   - beforeReply: the message is recorded as accepted, the client has not seen the 250 yet;
 *   - afterReply: the 250 went out.
 * A message is recorded (counted as delivered) before the reply: what a real server does once it has the whole message,
 * and the conservative choice for counting duplicates. `dropReply` cuts the connection instead of replying.
 */
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

/** One message the sink accepted. */
export interface SlowDelivery {
  raw: Buffer;
  rcptTo: string[];
  /** 1-based, over the sink's life. */
  index: number;
  /**
   * The sink's `tag` when the client opened the connection the message came on (tests set it to the number of the run
   * in progress): a message sent by a run that was killed meanwhile keeps that run's tag, even when the sink accepts it
   * after the next run began.
   */
  tag: number;
  at: number;
}

/** Hooks around the 250 reply of each accepted message. */
export interface SlowSinkHooks {
  beforeReply?: (delivery: SlowDelivery) => void;
  afterReply?: (delivery: SlowDelivery) => void;
  /** A client connected (in a digest run: rendering is done, sending starts). */
  onConnection?: () => void;
  /**
   * Return true to cut the connection instead of replying 250 to this (already recorded) message: the ambiguous failure
   * of RFC 1047, where the server has the message and the client cannot know.
   */
  dropReply?: (delivery: SlowDelivery) => boolean;
}

/** A running slow sink. */
export interface SlowSmtpSink {
  url: string;
  port: number;
  deliveries: SlowDelivery[];
  /** Wait per message before the reply, ms (changeable at any time). */
  delayMs: number;
  /** Stamped on each delivery; the test sets it before each run. */
  tag: number;
  hooks: SlowSinkHooks;
  stop(): Promise<void>;
}

/** Start a slow sink on 127.0.0.1 with an OS-chosen port. */
export async function startSlowSmtpSink(options: { delayMs?: number } = {}): Promise<SlowSmtpSink> {
  const sockets = new Set<Socket>();
  const socketsByPort = new Map<number, Socket>();
  const tagsByPort = new Map<number, number>();
  const sink: SlowSmtpSink = {
    url: '',
    port: 0,
    deliveries: [],
    delayMs: options.delayMs ?? 0,
    tag: 0,
    hooks: {},
    stop: async () => {},
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 200,
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        setTimeout(() => {
          const delivery: SlowDelivery = {
            raw: Buffer.concat(chunks),
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            index: sink.deliveries.length + 1,
            tag: tagsByPort.get(session.remotePort) ?? sink.tag,
            at: Date.now(),
          };
          sink.deliveries.push(delivery);
          sink.hooks.beforeReply?.(delivery);
          if (sink.hooks.dropReply?.(delivery)) {
            socketsByPort.get(session.remotePort)?.destroy();
            return;
          }
          callback();
          sink.hooks.afterReply?.(delivery);
        }, sink.delayMs);
      });
    },
  });
  // Killed clients leave reset connections behind; expected here.
  server.on('error', () => {});
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    const port = socket.remotePort;
    if (port !== undefined) {
      socketsByPort.set(port, socket);
      tagsByPort.set(port, sink.tag);
    }
    socket.once('close', () => {
      sockets.delete(socket);
      // The tag stays until the port is reused: the delayed reply of a message may come after the close.
      if (port !== undefined && socketsByPort.get(port) === socket) socketsByPort.delete(port);
    });
    sink.hooks.onConnection?.();
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('slow-smtp-sink: no TCP address');
  sink.port = address.port;
  sink.url = `smtp://127.0.0.1:${address.port}`;
  let stopped = false;
  sink.stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return sink;
}
