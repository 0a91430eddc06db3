import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/main.js';

/** Runs the CLI in-process with its own env and cwd, capturing stdout and stderr. */
export async function runCliCaptured(argv: string[], options: { env: Record<string, string | undefined>; cwd: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runCli(argv, { env: { DIGEST_LOG_LEVEL: 'warn', ...options.env }, cwd: options.cwd, stdout, stderr });
  return { code, stdout: out, stderr: err };
}
