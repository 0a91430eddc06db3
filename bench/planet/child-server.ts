/**
 * Runs a benchmark server (SMTP sink, Slack API) in its own Node process, so its CPU time and resident memory stay out
 * of the measured process's figures. The child is forked with tsx and an IPC channel: it sends {type:'ready', ...}
 * once it listens on 127.0.0.1, answers {type:'request', id, action} with {type:'reply', id, value}, and exits when
 * the channel closes (so it never outlives the benchmark).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Handle on a running child server. */
export interface ChildServer<Ready> {
  pid: number;
  ready: Ready;
  /** Ask the child something (stats, reset); resolves with its reply. */
  request<T>(action: string): Promise<T>;
  /** Close the IPC channel and SIGTERM the child; resolves when it exited. */
  close(): Promise<void>;
}

interface ReplyMessage {
  type: 'reply';
  id: number;
  value?: unknown;
  error?: string;
}

/** Fork `entry` (a .ts file under bench/) and wait for its ready message. */
export async function startChildServer<Ready extends { origin: string }>(entry: URL, args: string[] = [], timeoutMs = 60_000): Promise<ChildServer<Ready>> {
  // execArgv is explicit: a --cpu-prof or --inspect given to the benchmark must not apply to its servers.
  const child: ChildProcess = fork(fileURLToPath(entry), args, {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`${entry.pathname} did not get ready within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${entry.pathname} exited before it was ready (code ${code}, signal ${signal}); see its stderr above`));
    });
    child.on('message', function onMessage(message: { type?: string }) {
      if (message?.type !== 'ready') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as unknown as Ready);
    });
  });
  if (!/^(http|smtp):\/\/127\.0\.0\.1:\d+\/?/.test(ready.origin)) {
    child.kill('SIGTERM');
    throw new Error(`${entry.pathname} reported origin ${ready.origin}; only 127.0.0.1 is allowed`);
  }

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (message: ReplyMessage) => {
    if (message?.type !== 'reply') return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(message.error));
    else waiter.resolve(message.value);
  });
  child.once('exit', () => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${entry.pathname} exited`));
    pending.clear();
  });

  return {
    pid: child.pid!,
    ready,
    request<T>(action: string): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ type: 'request', id, action });
      });
    },
    async close(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Child side: announce readiness and answer requests with `handlers`; exit when the parent goes away. */
export function serveParentRequests(ready: Record<string, unknown>, handlers: Record<string, () => unknown | Promise<unknown>>, onExit: () => Promise<void>): void {
  if (!process.send) throw new Error('this entry must be started by startChildServer (it needs an IPC channel)');
  let exiting = false;
  const exit = (): void => {
    if (exiting) return;
    exiting = true;
    void onExit().finally(() => process.exit(0));
  };
  process.on('message', (message: { type?: string; id?: number; action?: string }) => {
    if (message?.type !== 'request' || typeof message.id !== 'number') return;
    const handler = handlers[message.action ?? ''];
    const id = message.id;
    if (!handler) {
      process.send!({ type: 'reply', id, error: `unknown action "${message.action}"` });
      return;
    }
    Promise.resolve()
      .then(handler)
      .then(
        (value) => process.send!({ type: 'reply', id, value }),
        (error: unknown) => process.send!({ type: 'reply', id, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  process.on('disconnect', exit);
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.send({ type: 'ready', ...ready });
}
