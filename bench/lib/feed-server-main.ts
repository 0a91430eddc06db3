/**
 * Child-process entry of the static feed server, so the server's CPU and memory stay out of the measured process:
 *
 *   node --import tsx bench/lib/feed-server-main.ts --feeds 1000 --entries 30 [--seed 1] [--port 0] [--no-gzip]
 *
 * Prints one JSON line {"ready":true,"origin":…,"corpus":…} on stdout once every feed is generated and the server
 * listens on 127.0.0.1, then serves until SIGTERM/SIGINT (or, with --exit-with-stdin, until its stdin closes).
 */
import { parseArgs } from 'node:util';
import { StaticFeedServer } from './static-feed-server.js';

function intOption(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`feed-server: --${name} must be an integer >= ${min}, got "${value}"\n`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    feeds: { type: 'string' },
    entries: { type: 'string' },
    seed: { type: 'string' },
    port: { type: 'string' },
    'new-per-change': { type: 'string' },
    'html-chars': { type: 'string' },
    'no-gzip': { type: 'boolean', default: false },
    'exit-with-stdin': { type: 'boolean', default: false },
  },
  strict: true,
});

const server = await StaticFeedServer.start({
  feeds: intOption(values.feeds, 'feeds', 1000, 1),
  entries: intOption(values.entries, 'entries', 30, 1),
  seed: intOption(values.seed, 'seed', 1, 0),
  port: intOption(values.port, 'port', 0, 0),
  newPerChange: intOption(values['new-per-change'], 'new-per-change', 2, 0),
  htmlChars: intOption(values['html-chars'], 'html-chars', 2000, 0),
  gzip: !values['no-gzip'],
});
process.stdout.write(JSON.stringify({ ready: true, origin: server.origin, corpus: server.corpus }) + '\n');

let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  void server.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Started by a parent holding our stdin pipe: its end means the parent is gone, so do not outlive it.
if (values['exit-with-stdin']) {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
