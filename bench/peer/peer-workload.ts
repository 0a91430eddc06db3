/**
 * The shared workload of the peer comparison: the peer-bench scripts copied into a temporary PEERBENCH_DIR (never
 * into the repository), their feed server (http_server.py, nginx-like conditional GET) and SMTP sink (smtp_sink.py,
 * aiosmtpd, one JSON line per message, raw messages spooled) on free ports of 127.0.0.1, and gen_feeds.py to reset
 * and change the 220 feeds. Both tools talk to the same servers, so they see the same bytes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { PEER_SCRIPTS } from './check-prerequisites.js';

/** One message the sink accepted (a line of run/smtp_log.jsonl), with its spool file. */
export interface SinkMessage {
  t: number;
  bytes: number;
  from: string;
  rcpt: string[];
  subject: string;
  message_id: string;
  feed: string;
  ids: string[];
  ctype: string;
  /** Raw message as the sink spooled it. */
  spoolFile: string;
}

/** One request the feed server logged. */
export interface HttpRequestLine {
  path: string;
  status: number;
  bytes: number;
}

/** Handle on the running workload. */
export interface PeerWorkload {
  dir: string;
  httpPort: number;
  smtpPort: number;
  /** "name url" of every feed (gen_feeds.py list). */
  feeds: Array<{ name: string; url: string }>;
  env: NodeJS.ProcessEnv;
  gen(...args: string[]): string;
  /** Make the feed server ignore conditional headers (run/no_conditional), or honour them again. */
  setConditionalGet(enabled: boolean): void;
  /** Positions in the logs, to read what one run added. */
  mark(): { smtp: number; http: number };
  messagesSince(mark: { smtp: number }): SinkMessage[];
  requestsSince(mark: { http: number }): HttpRequestLine[];
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before listening on 127.0.0.1:${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

function readLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/** Copy the scripts from `peerDir` into `dir` (the temp PEERBENCH_DIR), start both servers and reset the feeds. */
export async function startPeerWorkload(peerDir: string, dir: string): Promise<PeerWorkload> {
  mkdirSync(path.join(dir, 'run'), { recursive: true });
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  for (const script of PEER_SCRIPTS) copyFileSync(path.join(peerDir, script), path.join(dir, script));
  const [httpPort, smtpPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = { ...process.env, PEERBENCH_DIR: dir, PEERBENCH_HTTP_PORT: String(httpPort), PEERBENCH_SMTP_PORT: String(smtpPort), PEERBENCH_HTTP_MODE: 'nginx' };
  const gen = (...args: string[]): string => {
    const r = spawnSync('/usr/bin/python3', [path.join(dir, 'gen_feeds.py'), ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gen_feeds.py ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.trim();
  };
  gen('reset');
  const feeds = gen('list')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([name, url]) => ({ name: name!, url: url! }));
  const spool = path.join(dir, 'spool');
  mkdirSync(spool, { recursive: true });
  const children: ChildProcess[] = [];
  const startOne = (name: string, args: string[]): ChildProcess => {
    const child = spawn('/usr/bin/python3', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    return child;
  };
  const close = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    const http = startOne('http_server.py', [path.join(dir, 'http_server.py'), '--port', String(httpPort), '--mode', 'nginx']);
    const smtp = startOne('smtp_sink.py', [path.join(dir, 'smtp_sink.py'), '--port', String(smtpPort), '--spool', spool]);
    await Promise.all([waitForPort(httpPort, http, 'http_server.py'), waitForPort(smtpPort, smtp, 'smtp_sink.py')]);
  } catch (error) {
    await close();
    throw error;
  }
  const smtpLog = path.join(dir, 'run', 'smtp_log.jsonl');
  const httpLog = path.join(dir, 'run', 'http_requests.tsv');
  const noConditional = path.join(dir, 'run', 'no_conditional');
  return {
    dir,
    httpPort,
    smtpPort,
    feeds,
    env,
    gen,
    setConditionalGet(enabled) {
      if (enabled) rmSync(noConditional, { force: true });
      else writeFileSync(noConditional, '');
    },
    mark: () => ({ smtp: readLines(smtpLog).length, http: readLines(httpLog).length }),
    messagesSince(mark) {
      // The sink numbers spool files 1, 2, 3… in the order it logs messages.
      return readLines(smtpLog)
        .map((line, i) => ({ ...(JSON.parse(line) as Omit<SinkMessage, 'spoolFile'>), spoolFile: path.join(spool, `${String(i + 1).padStart(7, '0')}.eml`) }))
        .slice(mark.smtp);
    },
    requestsSince(mark) {
      return readLines(httpLog)
        .slice(mark.http)
        .map((line) => {
          const [, p, status, bytes] = line.split('\t');
          return { path: p ?? '', status: Number(status), bytes: Number(bytes) };
        });
    },
    close,
  };
}

/** Delete spooled messages already accounted for (a first run of rss2email spools ~10 MB per rep). */
export function dropSpool(messages: SinkMessage[]): void {
  for (const m of messages) {
    try {
      unlinkSync(m.spoolFile);
    } catch {
      // already gone
    }
  }
}
