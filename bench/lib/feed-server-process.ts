/**
 * Starts the static feed server (feed-server-main.ts) in a child process and drives it through its control endpoints.
 * The child is a separate `node --import tsx` process, so its CPU time and resident memory never show up in the
 * measured process's figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CorpusInfo, FeedServerStats, StaticFeedServerOptions } from './static-feed-server.js';
import { feedPath } from './static-feed-server.js';

/** Handle on the server child process. */
export interface FeedServerProcess {
  /** "http://127.0.0.1:PORT" */
  origin: string;
  corpus: CorpusInfo;
  pid: number;
  /** Absolute URL of feed `index`. */
  feedUrl(index: number): string;
  /** Prepend new entries to round(fraction × feeds) feeds; returns their indices. */
  change(fraction: number): Promise<number[]>;
  /** All feeds back to their initial documents. */
  reset(): Promise<void>;
  stats(): Promise<FeedServerStats>;
  resetStats(): Promise<void>;
  /** Stop the child (SIGTERM) and wait for it to exit. */
  close(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('./feed-server-main.ts', import.meta.url));

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Spawn the server, wait until it has generated every feed and listens, and return a handle. */
export async function startFeedServerProcess(options: StaticFeedServerOptions & { startTimeoutMs?: number }): Promise<FeedServerProcess> {
  const args = ['--import', 'tsx', MAIN, '--exit-with-stdin', '--feeds', String(options.feeds), '--entries', String(options.entries), '--seed', String(options.seed)];
  if (options.port !== undefined) args.push('--port', String(options.port));
  if (options.newPerChange !== undefined) args.push('--new-per-change', String(options.newPerChange));
  if (options.htmlChars !== undefined) args.push('--html-chars', String(options.htmlChars));
  if (options.gzip === false) args.push('--no-gzip');
  // execArgv deliberately not inherited: a --cpu-prof given to the benchmark must not profile the server too.
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
  const lines = createInterface({ input: child.stdout! });
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  let ready: { origin: string; corpus: CorpusInfo };
  try {
    ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`feed server did not start within ${timeoutMs} ms`)), timeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`feed server exited before it was ready (code ${code}, signal ${signal}); see its stderr above`));
      });
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as { origin: string; corpus: CorpusInfo });
        } catch {
          reject(new Error(`feed server printed something unexpected instead of its ready line: ${line.slice(0, 200)}`));
        }
      });
    });
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(ready.origin)) {
    child.kill('SIGTERM');
    throw new Error(`feed server reported origin ${ready.origin}; only 127.0.0.1 is allowed`);
  }

  const control = async <T>(method: 'GET' | 'POST', action: string): Promise<T> => {
    const res = await fetch(`${ready.origin}/_control/${action}`, { method });
    const body = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`feed server /_control/${action} answered ${res.status}: ${body.error ?? ''}`);
    return body;
  };

  return {
    origin: ready.origin,
    corpus: ready.corpus,
    pid: child.pid!,
    feedUrl: (index) => ready.origin + feedPath(index),
    change: async (fraction) => (await control<{ changed: number[] }>('POST', `change?fraction=${fraction}`)).changed,
    reset: async () => void (await control('POST', 'reset')),
    stats: () => control<FeedServerStats>('GET', 'stats'),
    resetStats: async () => void (await control('POST', 'reset-stats')),
    close: async () => {
      lines.close();
      child.kill('SIGTERM');
      child.stdin?.end();
      await waitForExit(child);
    },
  };
}
