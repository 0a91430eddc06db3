/**
 * Starts a real `planet-digest run` process: `node bin/planet-digest.js run …` with PLANET_DIGEST_SOURCE=1 (the TypeScript
 * sources through tsx) and an environment built from scratch (only PATH, HOME and TMPDIR are inherited), so nothing of
 * the developer's DIGEST_* or SMTP_* settings leaks in. The cwd is the test's temp dir, so no .env of the repo is read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'bin', 'planet-digest.js');

/** How a run process ended. */
export interface RunExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from spawn to exit. */
  ms: number;
}

/** A started run process. */
export interface RunProcess {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  exited: Promise<RunExit>;
  /** True once the process has exited. */
  readonly done: boolean;
  /** SIGKILL, only if still running; returns whether a signal was sent. */
  kill(): boolean;
}

/** Spawns `planet-digest run --subscribers <file> [...extra]` with `env` on top of a minimal base environment. */
export function spawnRun(options: { cwd: string; subscribersFile: string; env: Record<string, string>; extraArgs?: string[] }): RunProcess {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? options.cwd,
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    PLANET_DIGEST_SOURCE: '1',
    DIGEST_LOG_LEVEL: 'warn',
    ...options.env,
  };
  const startedAt = Date.now();
  const child = spawn(process.execPath, [BIN, 'run', '--subscribers', options.subscribersFile, ...(options.extraArgs ?? [])], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let done = false;
  const exited = new Promise<RunExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal, stdout, stderr, ms: Date.now() - startedAt });
    });
  });
  if (child.pid === undefined) throw new Error('could not spawn planet-digest');
  return {
    child,
    pid: child.pid,
    startedAt,
    exited,
    get done() {
      return done;
    },
    kill() {
      if (done || child.exitCode !== null || child.signalCode !== null) return false;
      return child.kill('SIGKILL');
    },
  };
}
