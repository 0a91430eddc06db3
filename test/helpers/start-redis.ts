import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';

/** A throwaway redis-server for tests. */
export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Stops the server (idempotent). */
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export async function findFreePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not get a free port');
  return address.port;
}

/**
 * Starts a real redis-server on 127.0.0.1 on a free port (or `port`, e.g. to restart one), without persistence, and
 * waits until it answers PING. Throws (never skips) when redis-server is not installed: the store tests need it.
 */
export async function startRedis(options: { port?: number } = {}): Promise<RedisServer> {
  if (options.port !== undefined) return startOn(options.port);
  let lastError: unknown;
  // The free port can be taken between findFreePort() and redis binding it; try a few ports.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await findFreePort();
    try {
      return await startOn(port);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') throw error;
      lastError = error;
    }
  }
  throw lastError;
}

async function startOn(port: number): Promise<RedisServer> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir(), '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(
          Object.assign(
            new Error('redis-server is not installed (not found on PATH). The store tests need a real Redis: install it, e.g. `apt-get install -y redis-server`.'),
            { code: 'ENOENT' },
          ),
        );
      } else reject(error);
    });
    child.once('exit', (code, signal) => reject(new Error(`redis-server exited early (code ${code}, signal ${signal}): ${output.trim()}`)));
  });
  spawnError.catch(() => undefined);
  const server: RedisServer = { url: `redis://127.0.0.1:${port}`, port, stop: () => stopChild(child) };
  try {
    await Promise.race([waitForPong(port, 10_000), spawnError]);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return server;
}

async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
