/**
 * Planet-scale benchmark (issue 7): F feeds served by a local feed server, S email subscribers and K Slack channels
 * with varied selections, a real SMTP sink and a Slack API server, each server in its own child process. Runs full
 * digest cycles in this process through createRuntime/runDigest and prints, per phase (fetch, parse, store, select,
 * render, send), time, throughput and peak RSS, for cycle 1 (first poll) and cycle 2 (some feeds changed); medians of
 * --runs runs, each on a fresh store. Prints figures; never fails on speed.
 *
 *   npm run bench                                   # 500 feeds, 10,000 email + 100 Slack subscribers, 3 runs
 *   npm run bench -- --feeds 100 --email-subscribers 1000 --runs 1
 *   npm run bench -- --json                         # one JSON object as the last line
 *   npm run bench -- --profile                      # .cpuprofile per cycle in artifacts/ + top self-time functions
 *   npm run bench -- --matrix                       # growth: S = 1k/10k/50k at F = 500, F = 100/500/2000 at S = 10k
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import v8 from 'node:v8';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatMachine, machineInfo } from './lib/machine-info.js';
import { fixed, textTable } from './lib/text-table.js';
import { runPlanetBench, type PlanetBenchOptions } from './planet/planet-run.js';
import { formatCycleFacts, formatGoals, formatPhaseTable, planetJson, summarizeCycles } from './planet/format-planet-report.js';
import { formatProfileSummary, writeCpuProfile } from './planet/cpu-profiler.js';
import { applyCliV8Flags, CLI_V8_FLAGS, LAUNCH_NODE_FLAGS } from '../bin/v8-flags.js';
import { digestsInFlight } from '../src/cli/create-runtime.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const USAGE = `usage: npm run bench -- [options]
  --feeds N                feeds (default 500)
  --email-subscribers N    email subscribers (default 10000)
  --slack-subscribers N    Slack channels (default 100)
  --runs N                 runs, each on a fresh store: cycle 1 + cycle 2 (default 3); medians are printed
  --entries N              entries per feed document (default 20)
  --html-chars N           HTML per entry, characters (default 2000)
  --first-poll-entries N   settings.firstPollEntries: new entries per feed in cycle 1 (default 5)
  --max-per-source N       settings.maxPerSource (default 5)
  --change F               share of feeds that gain 2 entries before cycle 2 (default 0.1)
  --smtp-connections N     SMTP_MAX_CONNECTIONS (default 16: one digest is in flight per connection, so 16 connections keep
                           16 digests in flight; planet-digest's own default is 3, for remote relays)
  --send-concurrency N     digests sent at once (default as planet-digest: one per SMTP connection)
  --feed-concurrency N     DIGEST_FEED_CONCURRENCY (default 16)
  --per-host N             feeds fetched at once per host (default = --feed-concurrency: the benchmark serves every
                           feed from one host, a real planet has hundreds; planet-digest's own default is 2)
  --heap-mb N              run with node --max-old-space-size=N (a V8 heap cap, as on a small VM)
  --seed N                 fixture seed (default 1)
  --json                   print one JSON object as the last line
  --profile                CPU-profile each cycle of run 1 into artifacts/*.cpuprofile and print top self-time functions
  --verbose                memory snapshots (RSS, V8 heap, external) at the end of each segment of a cycle
  --matrix                 growth matrix, each point in its own process (--runs per point, default 1; --point-timeout cap)
  --point-timeout S        matrix: give up on a point after S seconds (default 1800)
`;

function intOpt(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be an integer >= ${min}, got "${value}"\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      feeds: { type: 'string' },
      'email-subscribers': { type: 'string' },
      'slack-subscribers': { type: 'string' },
      runs: { type: 'string' },
      entries: { type: 'string' },
      'html-chars': { type: 'string' },
      'first-poll-entries': { type: 'string' },
      'max-per-source': { type: 'string' },
      change: { type: 'string' },
      'smtp-connections': { type: 'string' },
      'send-concurrency': { type: 'string' },
      'feed-concurrency': { type: 'string' },
      'per-host': { type: 'string' },
      'heap-mb': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      matrix: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'point-timeout': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
const v = parsed.values;
if (v.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const change = v.change === undefined ? 0.1 : Number(v.change);
if (!(change >= 0 && change <= 1)) {
  process.stderr.write(`--change must be a share between 0 and 1, got "${v.change}"\n`);
  process.exit(2);
}
const feedConcurrency = intOpt(v['feed-concurrency'], 'feed-concurrency', 16, 1);
const smtpConnections = intOpt(v['smtp-connections'], 'smtp-connections', 16, 1);
const heapMb = v['heap-mb'] === undefined ? undefined : intOpt(v['heap-mb'], 'heap-mb', 0, 64);
// A V8 heap cap and the CLI's launch flags (bin/v8-flags.js) apply only at process start: without them, run this
// script again in a child with them (as `npm run bench` and the Docker image start node). The child sees
// PLANET_BENCH_CHILD and does not re-spawn.
const flagName = (flag: string) => flag.split('=')[0];
const missingLaunchFlags = LAUNCH_NODE_FLAGS.filter((f) => !process.execArgv.some((a) => flagName(a) === flagName(f)));
if ((heapMb !== undefined || missingLaunchFlags.length > 0) && process.env.PLANET_BENCH_CHILD !== '1') {
  const heapFlag = heapMb === undefined ? [] : [`--max-old-space-size=${heapMb}`];
  const child = spawn(process.execPath, [...heapFlag, ...missingLaunchFlags, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, PLANET_BENCH_CHILD: '1' },
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => child.kill(sig));
  await new Promise(() => undefined);
}
// The V8 flags the CLI sets for itself (bin/v8-flags.js): cycles run in this process and must run as `planet-digest run` does.
applyCliV8Flags();
const options: PlanetBenchOptions = {
  feeds: intOpt(v.feeds, 'feeds', 500, 1),
  emailSubscribers: intOpt(v['email-subscribers'], 'email-subscribers', 10_000),
  slackSubscribers: intOpt(v['slack-subscribers'], 'slack-subscribers', 100),
  runs: intOpt(v.runs, 'runs', 3, 1),
  entries: intOpt(v.entries, 'entries', 20, 1),
  htmlChars: intOpt(v['html-chars'], 'html-chars', 2000),
  firstPollEntries: intOpt(v['first-poll-entries'], 'first-poll-entries', 5),
  maxPerSource: intOpt(v['max-per-source'], 'max-per-source', 5, 1),
  change,
  smtpConnections,
  sendConcurrency: intOpt(v['send-concurrency'], 'send-concurrency', digestsInFlight(smtpConnections), 1),
  feedConcurrency,
  perHostConcurrency: intOpt(v['per-host'], 'per-host', feedConcurrency, 1),
  seed: intOpt(v.seed, 'seed', 1),
  profile: v.profile,
  verbose: v.verbose,
  log: (line) => process.stderr.write(`${line}\n`),
};

const machine = machineInfo();
/** Runs per matrix point: 1 unless --runs says otherwise (a 50,000-subscriber point takes many minutes). */
const matrixRuns = v.runs === undefined ? 1 : options.runs;
const out = (text = ''): void => void process.stdout.write(`${text}\n`);

try {
  if (v.matrix) await runMatrix();
  else await runSingle();
} catch (error) {
  process.stderr.write(`planet-bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}

async function runSingle(): Promise<void> {
  const load0 = os.loadavg();
  const result = await runPlanetBench(options);
  const load1 = os.loadavg();
  const summaries = summarizeCycles(result.cycles);
  const o = options;
  out(`planet-digest Planet-scale benchmark (npm run bench), medians of ${o.runs} run${o.runs === 1 ? '' : 's'} on a fresh store each`);
  out(`machine: ${formatMachine(machine)}; load average ${load0.map((l) => l.toFixed(1)).join(' ')} at start, ${load1.map((l) => l.toFixed(1)).join(' ')} at end`);
  out(
    `workload: ${o.feeds} feeds × ${o.entries} entries (~${o.htmlChars} chars of HTML each; ${fixed(result.corpus.bytes / 2 ** 20, 1)} MB, ${fixed(result.corpus.gzipBytes / 2 ** 20, 1)} MB gzipped), ` +
      `${o.emailSubscribers} email subscribers + ${o.slackSubscribers} Slack channels drawn from ${result.config.profiles} interest profiles ` +
      `(${result.config.distinctSelections} distinct selection × channel × time zone combinations); firstPollEntries ${o.firstPollEntries}, maxPerSource ${o.maxPerSource}; ` +
      `${fixed(o.change * 100)}% of feeds gain 2 entries before cycle 2`,
  );
  out(
    `servers: feed server, SMTP sink (smtp-server, no TLS, discarding) and Slack API server each in its own process on 127.0.0.1; ` +
      `SMTP_MAX_CONNECTIONS ${o.smtpConnections}, send concurrency ${o.sendConcurrency}, fetch concurrency ${o.feedConcurrency} (${o.perHostConcurrency} per host); V8 heap limit ${fixed(v8.getHeapStatistics().heap_size_limit / 2 ** 20)} MB${heapMb ? ` (--heap-mb ${heapMb})` : ' (node default)'}; V8 flags as the CLI: ${[...LAUNCH_NODE_FLAGS, ...CLI_V8_FLAGS].join(' ')}`,
  );
  out(
    `template cache: warm (compiled in a child process in ${result.templateCache.warmedInChildMs} ms; MJML is never loaded in the measured process); ` +
      `subscribers.json (${fixed(result.config.fileBytes / 2 ** 20, 1)} MiB) read and validated in ${fixed(result.config.loadMs)} ms (not part of the cycle)`,
  );
  for (const s of summaries) {
    out();
    out(`cycle ${s.cycle}${s.cycle === 1 ? ' (first poll: everything new)' : ' (some feeds changed, the rest answer 304)'}`);
    out(formatPhaseTable(s));
    out(formatCycleFacts(s));
  }
  const c1 = summaries.find((s) => s.cycle === 1);
  if (c1) {
    out();
    out(formatGoals(c1, o.feeds, o.emailSubscribers));
  }
  out();
  out('Peak RSS: fetch, parse and store are exact kernel peaks (VmHWM) of those segments; select, render and send interleave per digest group and are sampled every 20 ms (lower bounds); the cycle figure is exact.');
  out(`Process peak RSS (harness, config and all runs): ${fixed(result.processMaxRssBytes / 2 ** 20)} MB.`);

  let profileFiles: string[] = [];
  if (result.profiles.length > 0) {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    for (const p of result.profiles) {
      const file = writeCpuProfile(p.profile, path.join(ROOT, 'artifacts'), `planet-bench-${o.feeds}f-${o.emailSubscribers}s-cycle${p.cycle}-${stamp}`);
      profileFiles.push(file);
      out();
      out(`CPU profile of run ${p.run} cycle ${p.cycle}: ${path.relative(ROOT, file)} (timings of profiled cycles include the profiler's overhead)`);
      out(formatProfileSummary(p.profile, ROOT).text);
    }
  }
  if (v.json) {
    profileFiles = profileFiles.map((f) => path.relative(ROOT, f));
    out(JSON.stringify(planetJson(result, summaries, { machine: formatMachine(machine), heap_limit_mb: Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20), load_average: load0.map((l) => Number(l.toFixed(2))), profiles: profileFiles })));
  }
}

/** One point of the growth matrix: this script with --json in a fresh process, so each point's RSS is its own. */
async function runPoint(feeds: number, emailSubscribers: number, timeoutS: number): Promise<Record<string, unknown> | { error: string }> {
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--json', '--feeds', String(feeds), '--email-subscribers', String(emailSubscribers)];
  args.push('--runs', String(matrixRuns));
  for (const name of ['slack-subscribers', 'entries', 'html-chars', 'first-poll-entries', 'max-per-source', 'change', 'smtp-connections', 'send-concurrency', 'feed-concurrency', 'per-host', 'heap-mb', 'seed'] as const) {
    const value = v[name];
    if (value !== undefined) args.push(`--${name}`, String(value));
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '', PLANET_BENCH_HEAP_MB: '' } });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      // Our own child: SIGTERM it; its servers exit when their IPC channel or stdin closes.
      child.kill('SIGTERM');
    }, timeoutS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) return resolve(JSON.parse(last) as Record<string, unknown>);
      resolve({ error: signal ? `stopped after ${timeoutS} s (time cap)` : `exited with code ${code}` });
    });
  });
}

async function runMatrix(): Promise<void> {
  const timeoutS = intOpt(v['point-timeout'], 'point-timeout', 1800, 10);
  const points: Array<[number, number]> = [
    [500, 1_000],
    [500, 10_000],
    [500, 50_000],
    [100, 10_000],
    [2_000, 10_000],
  ];
  const load0 = os.loadavg();
  const rows: string[][] = [];
  const results: Array<Record<string, unknown>> = [];
  for (const [feeds, subs] of points) {
    process.stderr.write(`\n=== matrix point: ${feeds} feeds, ${subs} email subscribers ===\n`);
    const started = Date.now();
    const r = await runPoint(feeds, subs, timeoutS);
    const took = (Date.now() - started) / 1000;
    results.push({ feeds, email_subscribers: subs, ...r });
    if ('error' in r) {
      rows.push([String(feeds), String(subs), `— (${r.error})`, '', '', '', '', '', '', '', '', '', '', '']);
      continue;
    }
    const n = (key: string, obj: Record<string, unknown> = r): number => Number(obj[key]);
    const c2 = (r.cycle2 ?? {}) as Record<string, unknown>;
    rows.push([
      String(feeds),
      String(n('subscribers')),
      String(n('digests')),
      fixed(n('cycle_ms') / 1000, 1),
      fixed(n('cpu_ms') / 1000, 1),
      fixed(n('fetch_ms') / 1000, 1),
      fixed(n('parse_ms') / 1000, 1),
      `${n('digests_rendered')}`,
      fixed(n('render_ms') / 1000, 2),
      fixed(n('send_ms') / 1000, 1),
      fixed(n('send_per_s')),
      fixed(n('peak_rss_mb')),
      fixed(n('cycle_ms', c2) / 1000, 1),
      `${fixed(took)} s`,
    ]);
  }
  out(`planet-digest growth matrix (npm run bench -- --matrix), each point in its own process, ${matrixRuns === 1 ? '1 run' : `medians of ${matrixRuns} runs`} per point (cycle 1 = first poll, cycle 2 = 10% of feeds changed); wall times on a shared machine, see CPU`);
  out(`machine: ${formatMachine(machine)}; load average at start ${load0.map((l) => l.toFixed(1)).join(' ')}`);
  out();
  out(
    textTable(
      ['feeds', 'subscribers', 'digests sent', 'cycle 1 wall s', 'CPU s', 'fetch s', 'parse s', 'rendered', 'render s', 'send s', 'send msg/s', 'peak RSS MB', 'cycle 2 wall s', 'point took'],
      rows,
      new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]),
    ),
  );
  if (v.json) out(JSON.stringify({ machine: formatMachine(machine), points: results }));
}
