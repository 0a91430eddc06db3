/**
 * The floor of a first run in the peer benchmark: fetch every feed and parse it with rss-parser's defaults, nothing else
 * (no store, no diff, no rendering, no mail). Whatever planet-digest does on top of the chosen HTTP client and parser
 * costs more than this, so it bounds how fast any first run on this machine can be. Plain JavaScript, so no TypeScript
 * loader is measured; run by bench/peer-bench.ts under /usr/bin/time -v, with the CLI's launch flags.
 *
 *   node bench/peer/fetch-parse-floor.mjs URLS_FILE [CONCURRENCY]
 *
 * Fetches CONCURRENCY (default 2) at a time, each on a connection of its own (as planet-digest's first run does),
 * prints {"feeds","bytes","items","failed"} and exits 1 if any feed failed.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import Parser from 'rss-parser';

const [urlsFile, concurrencyArg] = process.argv.slice(2);
if (!urlsFile) {
  process.stderr.write('usage: node bench/peer/fetch-parse-floor.mjs URLS_FILE [CONCURRENCY]\n');
  process.exit(2);
}
const urls = readFileSync(urlsFile, 'utf8').split('\n').filter(Boolean);
const concurrency = Number(concurrencyArg ?? 2);
const parser = new Parser();

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`HTTP ${res.statusCode} from ${url}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

let next = 0;
let bytes = 0;
let items = 0;
let failed = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < urls.length) {
      const url = urls[next++];
      try {
        const body = await get(url);
        bytes += body.length;
        const feed = await parser.parseString(body.toString('utf8'));
        items += feed.items.length;
      } catch (error) {
        failed++;
        process.stderr.write(`${url}: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  }),
);
process.stdout.write(`${JSON.stringify({ feeds: urls.length, bytes, items, failed })}\n`);
process.exitCode = failed > 0 ? 1 : 0;
