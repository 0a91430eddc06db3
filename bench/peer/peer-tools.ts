/**
 * The two contenders of the peer comparison, each run as its own process under /usr/bin/time -v:
 *   - rss2email (Debian `r2e`), digest mode (one digest per feed), configured like bench_r2e.py does it;
 *   - planet-digest, the real CLI (`node bin/planet-digest.js run`, compiled dist/), one subscriber taking all 220
 *     feeds in one digest, firstPollEntries 20 and maxPerSource 20 so a first run sends every entry, like rss2email.
 * And the duplicate accounting: rss2email messages carry X-RSS-Feed/X-RSS-ID (the sink logs them); planet-digest
 * sends one message per subscriber, so its entries are counted by their links in the spooled message's text part.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { LAUNCH_NODE_FLAGS } from '../../bin/v8-flags.js';
import { timedRun, type TimedRun } from './time-v.js';
import type { SinkMessage } from './peer-workload.js';

const R2E = '/usr/bin/r2e';

/** Paths of one rss2email state (config + data file). */
export interface R2eState {
  dir: string;
  cfg: string;
  data: string;
}

function r2eState(dir: string): R2eState {
  return { dir, cfg: path.join(dir, 'rss2email.cfg'), data: path.join(dir, 'rss2email.json') };
}

function setOptions(cfgFile: string, options: Record<string, string>): void {
  let text = readFileSync(cfgFile, 'utf8');
  for (const [key, value] of Object.entries(options)) {
    const re = new RegExp(`^${key.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')} = .*$`, 'm');
    if (!re.test(text)) throw new Error(`${cfgFile} has no "${key} = …" line; is this rss2email 3.13?`);
    text = text.replace(re, `${key} = ${value}`);
  }
  writeFileSync(cfgFile, text);
}

/**
 * The rss2email template: `r2e new`, the SMTP and digest options bench_r2e.py sets, and the 220 feeds. The feeds are
 * written the way `r2e add` writes them ([feed.NAME] url = … in the config, an empty record in the data file) instead
 * of 220 `r2e add` processes (a minute or two), then `r2e list` checks that rss2email reads all of them.
 */
export function buildR2eTemplate(dir: string, smtpPort: number, feeds: Array<{ name: string; url: string }>): R2eState {
  mkdirSync(dir, { recursive: true });
  const s = r2eState(dir);
  const run = (...args: string[]): string => {
    const r = spawnSync(R2E, ['-c', s.cfg, '-d', s.data, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`r2e ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  run('new', 'bench@localhost');
  setOptions(s.cfg, { from: 'r2e@localhost', 'email-protocol': 'smtp', 'smtp-server': '127.0.0.1', 'smtp-port': String(smtpPort), digest: 'True' });
  writeFileSync(s.cfg, readFileSync(s.cfg, 'utf8').trimEnd() + '\n' + feeds.map((f) => `\n[feed.${f.name}]\nurl = ${f.url}\n`).join(''));
  writeFileSync(s.data, JSON.stringify({ version: 2, feeds: feeds.map((f) => ({ name: f.name, etag: null, modified: null, seen: {} })) }, null, 2));
  const listed = run('list').split('\n').filter((l) => l.trim() !== '').length;
  if (listed !== feeds.length) throw new Error(`r2e list shows ${listed} feeds, expected ${feeds.length}`);
  return s;
}

/** A fresh copy of the template (rss2email's "fresh state"). */
export function copyR2eState(template: R2eState, dir: string): R2eState {
  cpSync(template.dir, dir, { recursive: true });
  return r2eState(dir);
}

/** `r2e run` under /usr/bin/time -v. */
export function runR2e(state: R2eState, logPrefix: string, env: NodeJS.ProcessEnv): Promise<TimedRun> {
  return timedRun([R2E, '-c', state.cfg, '-d', state.data, 'run'], { cwd: state.dir, env, logPrefix });
}

/** One planet-digest installation: its subscribers.json, store and template cache. */
export interface PdState {
  dir: string;
  subscribersFile: string;
  storeFile: string;
  cacheDir: string;
}

/** subscribers.json for the peer workload: every feed, one email subscriber, everything a first run finds goes out. */
export function writePdSubscribers(file: string, feeds: Array<{ name: string; url: string }>): void {
  const doc = {
    settings: { title: 'Peer bench', timezone: 'UTC', firstPollEntries: 20, maxPerSource: 20 },
    feeds: feeds.map((f) => ({ id: f.name, url: f.url, tags: [] })),
    subscribers: [{ id: 'bench', name: 'Bench', email: 'bench@example.org', feeds: ['*'] }],
  };
  writeFileSync(file, JSON.stringify(doc, null, 2));
}

/** A fresh planet-digest state in `dir` (empty store) using the template cache in `cacheDir` (empty = cold). */
export function newPdState(dir: string, subscribersFile: string, cacheDir: string): PdState {
  mkdirSync(dir, { recursive: true });
  mkdirSync(cacheDir, { recursive: true });
  return { dir, subscribersFile, storeFile: path.join(dir, 'store.sqlite'), cacheDir };
}

/**
 * `node --max-semi-space-size=8 bin/planet-digest.js run` (as `npm start` runs it: LAUNCH_NODE_FLAGS) under
 * /usr/bin/time -v, configured through the environment like a cron job; `nodeArgs` come after (e.g. --cpu-prof).
 */
export function runPd(root: string, state: PdState, smtpPort: number, logPrefix: string, baseEnv: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<TimedRun> {
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    NODE_OPTIONS: '',
    PLANET_DIGEST_SOURCE: '',
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    MAIL_FROM: 'Planet digest <digest@example.org>',
    DIGEST_SECRET: 'peer-bench-secret-0123456789abcdef',
    DIGEST_BASE_URL: 'https://digest.example.org',
    DIGEST_STORE_URL: `sqlite://${state.storeFile}`,
    DIGEST_CACHE_DIR: state.cacheDir,
    DIGEST_OUTBOX: path.join(state.dir, 'outbox'),
    DIGEST_ALLOW_PRIVATE_NETWORKS: 'true',
  };
  return timedRun([process.execPath, ...LAUNCH_NODE_FLAGS, ...nodeArgs, path.join(root, 'bin', 'planet-digest.js'), 'run', '--subscribers', state.subscribersFile], { cwd: state.dir, env, logPrefix });
}

/** Keys of the entries a message carries: rss2email's (feed, X-RSS-ID); planet-digest's entry links. */
export async function entryKeysOf(message: SinkMessage, tool: 'r2e' | 'pd'): Promise<string[]> {
  if (tool === 'r2e') return (message.ids.length > 0 ? message.ids : [message.message_id]).map((id) => `${message.feed}\u0000${id}`);
  const parsed = await simpleParser(readFileSync(message.spoolFile));
  // The text part lists each entry's link on its own line, indented by two spaces (src/render/render-text.ts);
  // source links stand at the start of a line.
  return [...(parsed.text ?? '').matchAll(/^ {2}(https?:\/\/\S+)\s*$/gm)].map((m) => m[1]!);
}

/** Duplicates inside one run, and entries already delivered by an earlier run of the same chain (bench_lib.dup_stats). */
export function duplicateStats(keys: string[], seenBefore: Set<string>): { within: number; resent: number } {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  let within = 0;
  let resent = 0;
  for (const [k, c] of counts) {
    if (c > 1) within += c - 1;
    if (seenBefore.has(k)) resent++;
  }
  return { within, resent };
}
