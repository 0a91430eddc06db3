/**
 * Ingestion benchmark: `npm run bench:fetch` (node --import tsx bench/fetch-bench.ts).
 *
 * Serves synthetic feeds (default 1,000 × 30 entries of ~2 KB HTML, RSS 2.0 and Atom mixed) from a static server in a
 * separate child process on 127.0.0.1, and measures the ingestion stages as src/pipeline/ingest-feeds.ts chains them:
 * pollFeeds, with each body going decodeFeedBytes + parseFeed → diffEntries (against in-memory seen maps) as soon as it
 * arrives, overlapping the other downloads. Three scenarios per run:
 * cold (no validators, empty seen maps), warm (every feed answers 304) and changed (10 % of the feeds got new entries).
 * Prints medians over runs; it never fails on speed, only when a scenario did not do what it should (e.g. a warm
 * poll that was not all 304), because then its figures would mean nothing.
 *
 * Flags: --runs N (5) --feeds N (1000) --entries N (30) --concurrency N (16) --seed N (1) --no-gzip --json
 *        --profile: instead of the timed runs, profile one cold scenario with `node --cpu-prof` (file in artifacts/)
 *        and print the top self-time functions and where the time goes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { diffEntries } from '../src/diff/diff-entries.js';
import { decodeFeedBytes } from '../src/fetch/decode-feed-bytes.js';
import { pollFeeds, recordParseSuccess, type PollOptions, type PollResult } from '../src/fetch/poll-feeds.js';
import type { FeedConfig, FeedState } from '../src/model/feed.js';
import { parseFeed } from '../src/parse/parse-feed.js';
import type { SeenMap } from '../src/store/seen-store.js';
import { summarizeCpuProfile, type CpuProfile, type ProfileSummary } from './lib/cpu-profile.js';
import { startFeedServerProcess, type FeedServerProcess } from './lib/feed-server-process.js';
import { formatMachine, machineInfo } from './lib/machine-info.js';
import { collectGarbage, processMaxRssBytes, startPeakRssWindow, type PeakRss } from './lib/peak-rss.js';
import { summarize, type SampleSummary } from './lib/stats.js';
import { fixed, textTable } from './lib/text-table.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
/** Pipeline defaults (subscribers-schema firstPollEntries, DIGEST_RETENTION_DAYS, DIGEST_FEED_CONCURRENCY). */
const FIRST_POLL_ENTRIES = 3;
const RETENTION_DAYS = 90;
const DEFAULT_CONCURRENCY = 16;
const CHANGE_FRACTION = 0.1;
const NEW_PER_CHANGE = 2;
const MB = 1e6;
const MIB = 2 ** 20;

const USAGE = `Usage: node --import tsx bench/fetch-bench.ts [options]
  --runs N         timed runs, each cold → warm → changed (default 5)
  --feeds N        synthetic feeds served (default 1000)
  --entries N      entries per feed (default 30)
  --concurrency N  pollFeeds concurrency, total and per host (default 16, the pipeline's total)
  --seed N         content seed (default 1)
  --no-gzip        serve identity bodies only (default: gzip to clients that accept it, as most hosts do)
  --json           also print one JSON object with every figure as the last line
  --profile        instead of the timed runs: one cold scenario under node --cpu-prof, profile in artifacts/
  --help`;

interface Settings {
  runs: number;
  feeds: number;
  entries: number;
  concurrency: number;
  seed: number;
  gzip: boolean;
  json: boolean;
  profile: boolean;
  /** Internal: this process is the profiled child; write phase marks to this file. */
  profileTarget?: string;
}

function readSettings(argv: string[]): Settings {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        runs: { type: 'string' },
        feeds: { type: 'string' },
        entries: { type: 'string' },
        concurrency: { type: 'string' },
        seed: { type: 'string' },
        'no-gzip': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        profile: { type: 'boolean', default: false },
        'profile-target': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const int = (name: keyof typeof values, fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}, got "${String(raw)}"`);
    return n;
  };
  return {
    runs: int('runs', 5, 1, 1000),
    feeds: int('feeds', 1000, 1, 100_000),
    entries: int('entries', 30, 1, 5000),
    concurrency: int('concurrency', DEFAULT_CONCURRENCY, 1, 256),
    seed: int('seed', 1, 0, 2 ** 31),
    gzip: !values['no-gzip'],
    json: values.json,
    profile: values.profile,
    ...(values['profile-target'] ? { profileTarget: values['profile-target'] } : {}),
  };
}

function fail(message: string): never {
  process.stderr.write(`fetch-bench: ${message}\n`);
  process.exit(2);
}

function progress(message: string): void {
  process.stderr.write(message + '\n');
}

/** Monotonic microseconds in the clock V8's profiler uses on Linux (CLOCK_MONOTONIC). */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Figures of one scenario in one run. */
interface ScenarioSample {
  pollMs: number;
  decodeMs: number;
  parseMs: number;
  diffMs: number;
  totalMs: number;
  /** CPU time (user + system, all threads) of this process during the scenario. */
  cpuMs: number;
  ok: number;
  notModified: number;
  failed: number;
  /** Decoded body bytes parsed. */
  bytes: number;
  wireBytes: number;
  fresh: number;
  entries: number;
  peakRss: PeakRss;
  /** Monotonic µs: start, end of poll, end of scenario (for the profile). */
  marksUs: { start: number; pollEnd: number; end: number };
}

/** Mutable ingestion state carried from one scenario to the next within a run (as the seen-store would keep it). */
interface IngestState {
  states: Map<string, FeedState>;
  seen: Map<string, SeenMap>;
}

/** What a scenario must produce for its figures to mean anything. */
interface Expectation {
  ok: number;
  notModified: number;
  fresh: number;
}

async function runScenario(name: string, feeds: FeedConfig[], ingest: IngestState, poll: Omit<PollOptions, 'now'>, server: FeedServerProcess, expected: Expectation): Promise<ScenarioSample> {
  await server.resetStats();
  collectGarbage();
  const window = startPeakRssWindow();
  const now = new Date();
  const start = monotonicUs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();

  // The same sequence as ingestFeeds: each body is decoded → parsed → diffed as soon as it arrives (one at a time, in
  // arrival order, after yielding so pending requests go out first), then dropped from its poll result; its fetch
  // slot stays taken until then, so at most `concurrency` bodies wait.
  let decodeMs = 0;
  let parseMs = 0;
  let diffMs = 0;
  let bytes = 0;
  let fresh = 0;
  let entries = 0;
  const failures: string[] = [];
  const parsedInfo = new Map<PollResult, { title?: string; link?: string; entryCount: number }>();
  const handle = async (result: PollResult): Promise<void> => {
    const body = result.body ?? Buffer.alloc(0);
    delete result.body;
    bytes += body.length;
    try {
      let t = performance.now();
      const decoded = decodeFeedBytes(body, result.contentType);
      decodeMs += performance.now() - t;
      t = performance.now();
      const parsed = await parseFeed(decoded.text, { feedId: result.feed.id, url: result.finalUrl ?? result.state.url });
      parseMs += performance.now() - t;
      t = performance.now();
      const diff = diffEntries(parsed.entries, ingest.seen.get(result.feed.id), { now, firstPoll: !result.state.polledOnce, firstPollEntries: FIRST_POLL_ENTRIES, retentionDays: RETENTION_DAYS });
      diffMs += performance.now() - t;
      if (diff.changed) ingest.seen.set(result.feed.id, diff.seen);
      fresh += diff.fresh.length;
      entries += parsed.entries.length;
      parsedInfo.set(result, { title: parsed.title, link: parsed.link, entryCount: Object.keys(diff.seen).length });
    } catch (err) {
      failures.push(`${result.feed.id}: parse: ${(err as Error).message}`);
    }
  };
  let queue: Promise<void> = Promise.resolve();
  const results = await pollFeeds(feeds, ingest.states, {
    ...poll,
    now: () => new Date(),
    onFetched: (result) => {
      if (result.outcome !== 'ok') return;
      queue = queue.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(() => handle(result));
      return queue; // holds the fetch slot until parsed, as ingestFeeds does
    },
  });
  const pollMs = performance.now() - t0;
  const pollEnd = monotonicUs();
  await queue;

  let ok = 0;
  let notModified = 0;
  for (const result of results) {
    let state = result.state;
    if (result.outcome === 'ok') {
      ok++;
      const info = parsedInfo.get(result);
      if (info) state = recordParseSuccess(state, info, now);
    } else if (result.outcome === 'not-modified') {
      notModified++;
    } else {
      failures.push(`${result.feed.id}: ${result.outcome}: ${result.error?.message ?? result.skipReason ?? ''}`);
    }
    ingest.states.set(result.feed.id, state);
  }
  const totalMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const end = monotonicUs();
  const peakRss = window.stop();
  const serverStats = await server.stats();

  const problems: string[] = [];
  if (failures.length) problems.push(`${failures.length} feed(s) failed, e.g. ${failures.slice(0, 3).join(' | ')}`);
  if (ok !== expected.ok || notModified !== expected.notModified) problems.push(`expected ${expected.ok} × 200 and ${expected.notModified} × 304, got ${ok} and ${notModified}`);
  if (serverStats.ok !== ok || serverStats.notModified !== notModified) problems.push(`server counted ${serverStats.ok} × 200 and ${serverStats.notModified} × 304`);
  if (fresh !== expected.fresh) problems.push(`expected ${expected.fresh} new entries from the diff, got ${fresh}`);
  if (problems.length) throw new Error(`scenario "${name}" did not behave as designed, so its figures would be meaningless: ${problems.join('; ')}`);
  return { pollMs, decodeMs, parseMs, diffMs, totalMs, cpuMs: (cpu.user + cpu.system) / 1000, ok, notModified, failed: failures.length, bytes, wireBytes: serverStats.wireBytes, fresh, entries, peakRss, marksUs: { start, pollEnd, end } };
}

interface Bench {
  settings: Settings;
  server: FeedServerProcess;
  feeds: FeedConfig[];
  poll: Omit<PollOptions, 'now'>;
}

function feedConfigs(server: FeedServerProcess, count: number): FeedConfig[] {
  return Array.from({ length: count }, (_, i) => ({ id: `f${String(i).padStart(4, '0')}`, url: server.feedUrl(i), tags: [] }));
}

function pollOptions(settings: Settings): Omit<PollOptions, 'now'> {
  return {
    userAgent: 'planet-digest-bench/0.1 (fetch-bench; 127.0.0.1 only)',
    allowPrivate: true,
    concurrency: settings.concurrency,
    // All benchmark feeds live on 127.0.0.1; the pipeline's 2 per host would serialize them, while a real
    // Planet spreads its feeds over many hosts. So per-host = total here (printed with the results).
    perHostConcurrency: settings.concurrency,
  };
}

const SCENARIOS = ['cold', 'warm', 'changed'] as const;
type ScenarioName = (typeof SCENARIOS)[number];
const LABEL: Record<ScenarioName, string> = { cold: 'cold', warm: 'warm (304)', changed: `${CHANGE_FRACTION * 100}% changed` };

async function coldExpectation(bench: Bench): Promise<Expectation> {
  return { ok: bench.settings.feeds, notModified: 0, fresh: bench.settings.feeds * Math.min(FIRST_POLL_ENTRIES, bench.settings.entries) };
}

/** One run: cold → warm → changed, from a freshly reset server and empty state. */
async function runOnce(bench: Bench): Promise<Record<ScenarioName, ScenarioSample>> {
  const { settings, server, feeds, poll } = bench;
  await server.reset();
  const ingest: IngestState = { states: new Map(), seen: new Map() };
  const cold = await runScenario('cold', feeds, ingest, poll, server, await coldExpectation(bench));
  const warm = await runScenario('warm', feeds, ingest, poll, server, { ok: 0, notModified: settings.feeds, fresh: 0 });
  const changedIds = await server.change(CHANGE_FRACTION);
  const changed = await runScenario('changed', feeds, ingest, poll, server, {
    ok: changedIds.length,
    notModified: settings.feeds - changedIds.length,
    fresh: changedIds.length * Math.min(NEW_PER_CHANGE, settings.entries),
  });
  return { cold, warm, changed };
}

interface PhaseFigures {
  ms: SampleSummary;
  feeds: number;
  bytes: number;
  feedsPerSecond: number;
  mbPerSecond: number;
}

interface ScenarioFigures {
  phases: { poll: PhaseFigures; decode: PhaseFigures; parse: PhaseFigures; decodeParse: PhaseFigures; diff: PhaseFigures; total: PhaseFigures };
  ok: number;
  notModified: number;
  entriesParsed: number;
  freshEntries: number;
  wireBytes: number;
  peakRssMiB: SampleSummary;
  peakRssSource: PeakRss['source'];
  cpuMs: SampleSummary;
}

function aggregate(samples: ScenarioSample[], feedsPolled: number): ScenarioFigures {
  const first = samples[0]!;
  const phase = (pick: (s: ScenarioSample) => number, feeds: number, bytes: number): PhaseFigures => {
    const ms = summarize(samples.map(pick));
    const seconds = ms.median / 1000;
    return { ms, feeds, bytes, feedsPerSecond: seconds > 0 ? feeds / seconds : NaN, mbPerSecond: seconds > 0 && bytes > 0 ? bytes / MB / seconds : NaN };
  };
  return {
    phases: {
      poll: phase((s) => s.pollMs, feedsPolled, first.bytes),
      decode: phase((s) => s.decodeMs, first.ok, first.bytes),
      parse: phase((s) => s.parseMs, first.ok, first.bytes),
      decodeParse: phase((s) => s.decodeMs + s.parseMs, first.ok, first.bytes),
      diff: phase((s) => s.diffMs, first.ok, 0),
      total: phase((s) => s.totalMs, feedsPolled, first.bytes),
    },
    ok: first.ok,
    notModified: first.notModified,
    entriesParsed: first.entries,
    freshEntries: first.fresh,
    wireBytes: first.wireBytes,
    peakRssMiB: summarize(samples.map((s) => s.peakRss.bytes / MIB)),
    peakRssSource: first.peakRss.source,
    cpuMs: summarize(samples.map((s) => s.cpuMs)),
  };
}

/** Load average line, with a warning when other processes compete for the CPU (figures are then noisy). */
function describeLoad(when: string, load: number[], cores: number): string {
  const [one = 0, five = 0] = load;
  const busy = one > cores * 0.5;
  return `load average ${when}: ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min) on ${cores} cores${busy ? ' — other processes are using the CPU: expect noisy, pessimistic figures' : ''}`;
}

function describeWorkload(bench: Bench): string[] {
  const { corpus } = bench.server;
  const rss = (corpus.styles['rss-wordpress'] ?? 0) + (corpus.styles['rss-escaped'] ?? 0);
  const styles = Object.entries(corpus.styles)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const types = Object.entries(corpus.contentTypes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const s = bench.settings;
  return [
    `workload  ${s.feeds} feeds × ${s.entries} entries (~2 KB HTML each), ${rss} RSS 2.0 / ${corpus.feeds - rss} Atom 1.0 (${styles}); ` +
      `${(corpus.bytes / MB).toFixed(1)} MB of XML${s.gzip ? `, ${(corpus.gzipBytes / MB).toFixed(1)} MB gzipped` : ''}; seed ${s.seed}`,
    `          Content-Type: ${types}`,
    `server    separate process (pid ${bench.server.pid}) at ${bench.server.origin}/feeds/NNNN.xml, nginx-like: ETag + Last-Modified on 200 and 304, ` +
      `${s.gzip ? 'gzip when accepted' : 'no compression'}, no Cache-Control; generated in ${corpus.generateMs} ms`,
    `poll      pollFeeds, allowPrivate, concurrency ${s.concurrency} total and perHostConcurrency ${s.concurrency}: NOT the pipeline's default of 2 per host, ` +
      `because every benchmark feed is on 127.0.0.1 while a real Planet spreads its feeds over many hosts`,
    `stages    as ingestFeeds: pollFeeds, and each ok body decodeFeedBytes → parseFeed → diffEntries as soon as it arrives, one at a time, overlapping the poll (a fetch slot is held until its body is parsed) ` +
      `(in-memory seen maps, firstPollEntries ${FIRST_POLL_ENTRIES}); "poll (HTTP)" = until the last response, parsing included; "decode+parse" and "diff" = time spent in them wherever it fell`,
  ];
}

function printResults(bench: Bench, figures: Record<ScenarioName, ScenarioFigures>, runs: number): void {
  const rows: string[][] = [];
  for (const name of SCENARIOS) {
    const f = figures[name];
    const row = (phase: string, p: PhaseFigures, cpu = '', rss = ''): string[] => [
      phase === 'poll (HTTP)' ? LABEL[name] : '',
      phase,
      fixed(p.ms.median, 0),
      fixed(p.ms.p90, 0),
      fixed(p.ms.min, 0),
      fixed(p.ms.max, 0),
      String(p.feeds),
      fixed(p.feedsPerSecond, 0),
      p.bytes ? fixed(p.bytes / MB, 1) : '',
      p.bytes ? fixed(p.mbPerSecond, 1) : '',
      cpu,
      rss,
    ];
    rows.push(row('poll (HTTP)', f.phases.poll));
    if (f.ok > 0) {
      rows.push(row('decode+parse', f.phases.decodeParse));
      rows.push(row('diff', f.phases.diff));
    }
    rows.push(row('total', f.phases.total, fixed(f.cpuMs.median, 0), `${fixed(f.peakRssMiB.median, 0)} (max ${fixed(f.peakRssMiB.max, 0)})`));
  }
  const header = ['scenario', 'phase', 'median ms', 'p90 ms', 'min ms', 'max ms', 'feeds', 'feeds/s', 'MB', 'MB/s', 'CPU ms', 'peak RSS MiB'];
  process.stdout.write(`\nResults: ${runs} run(s); median, p90, min, max over runs; feeds/s and MB/s from the median\n\n`);
  process.stdout.write(textTable(header, rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11])) + '\n\n');
  const cold = figures.cold;
  const changed = figures.changed;
  const share = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(0)}%` : '—');
  const notes = [
    `MB = 10^6 bytes of decoded feed bodies (what parseFeed reads); MB/s of "decode+parse" is the parse throughput. ` +
      `CPU ms = user+system time of this process (all threads) during the scenario, median: far below the wall time means waiting (I/O, or other processes holding the CPU).`,
    `decode alone (decodeFeedBytes): cold ${fixed(cold.phases.decode.ms.median, 0)} ms median = ${share(cold.phases.decode.ms.median, cold.phases.decodeParse.ms.median)} of decode+parse; ` +
      `parseFeed alone: ${fixed(cold.phases.parse.mbPerSecond, 1)} MB/s.`,
    `wire: the cold poll moved ${fixed(cold.wireBytes / MB, 1)} MB over HTTP for ${fixed(cold.phases.poll.bytes / MB, 1)} MB of feeds; ` +
      `the changed poll ${cold.ok ? fixed(changed.wireBytes / MB, 1) : '—'} MB (${changed.ok} × 200, ${changed.notModified} × 304).`,
    `entries: cold parsed ${cold.entriesParsed}, ${cold.freshEntries} new (first poll keeps the newest ${FIRST_POLL_ENTRIES} per feed); ` +
      `changed parsed ${changed.entriesParsed}, ${changed.freshEntries} new (${NEW_PER_CHANGE} prepended per changed feed).`,
    `peak RSS: per scenario, ${cold.peakRssSource === 'vmhwm' ? 'kernel VmHWM reset before each scenario (/proc/self/clear_refs), after a forced GC' : 'sampled every 5 ms (VmHWM reset unavailable), a lower bound'}; ` +
      `whole process, start-up and all runs: ${fixed(processMaxRssBytes() / MIB, 0)} MiB.`,
  ];
  process.stdout.write(notes.map((n) => `- ${n}`).join('\n') + '\n');
}

function jsonFigures(figures: Record<ScenarioName, ScenarioFigures>): unknown {
  const round = (s: SampleSummary): Omit<SampleSummary, 'samples'> & { samples: number[] } => ({
    n: s.n,
    median: +s.median.toFixed(2),
    p90: +s.p90.toFixed(2),
    min: +s.min.toFixed(2),
    max: +s.max.toFixed(2),
    mean: +s.mean.toFixed(2),
    samples: s.samples.map((x) => +x.toFixed(2)),
  });
  return Object.fromEntries(
    SCENARIOS.map((name) => {
      const f = figures[name];
      const phases = Object.fromEntries(
        Object.entries(f.phases).map(([k, p]) => [k, { ms: round(p.ms), feeds: p.feeds, bytes: p.bytes, feedsPerSecond: +p.feedsPerSecond.toFixed(1), mbPerSecond: Number.isFinite(p.mbPerSecond) ? +p.mbPerSecond.toFixed(2) : null }]),
      );
      return [name, { phases, cpuMs: round(f.cpuMs), ok: f.ok, notModified: f.notModified, entriesParsed: f.entriesParsed, freshEntries: f.freshEntries, wireBytes: f.wireBytes, peakRssMiB: round(f.peakRssMiB), peakRssSource: f.peakRssSource }];
    }),
  );
}

async function startBench(settings: Settings): Promise<Bench> {
  const server = await startFeedServerProcess({ feeds: settings.feeds, entries: settings.entries, seed: settings.seed, newPerChange: NEW_PER_CHANGE, gzip: settings.gzip });
  return { settings, server, feeds: feedConfigs(server, settings.feeds), poll: pollOptions(settings) };
}

async function benchmark(settings: Settings): Promise<void> {
  const machine = machineInfo();
  const loadBefore = loadavg();
  process.stdout.write(`planet-digest ingestion benchmark (poll → decode+parse → diff)\nmachine   ${formatMachine(machine)}\nload      ${describeLoad('before', loadBefore, machine.cores)}\n`);
  progress(`generating ${settings.feeds} feeds in the server process…`);
  const bench = await startBench(settings);
  try {
    process.stdout.write(describeWorkload(bench).join('\n') + '\n');
    const samples: Record<ScenarioName, ScenarioSample[]> = { cold: [], warm: [], changed: [] };
    for (let run = 1; run <= settings.runs; run++) {
      const r = await runOnce(bench);
      for (const name of SCENARIOS) samples[name].push(r[name]);
      progress(`run ${run}/${settings.runs}: ${SCENARIOS.map((n) => `${LABEL[n]} ${r[n].totalMs.toFixed(0)} ms (poll ${r[n].pollMs.toFixed(0)})`).join(', ')}`);
    }
    const figures = Object.fromEntries(SCENARIOS.map((n) => [n, aggregate(samples[n], settings.feeds)])) as Record<ScenarioName, ScenarioFigures>;
    printResults(bench, figures, settings.runs);
    const serverStats = await bench.server.stats();
    process.stdout.write(`- server process peak RSS (not included above): ${fixed(serverStats.maxRss / MIB, 0)} MiB.\n`);
    const loadAfter = loadavg();
    process.stdout.write(`- ${describeLoad('after', loadAfter, machine.cores)}\n`);
    if (settings.json) {
      const out = {
        bench: 'fetch',
        machine,
        settings: { runs: settings.runs, feeds: settings.feeds, entries: settings.entries, concurrency: settings.concurrency, perHostConcurrency: settings.concurrency, gzip: settings.gzip, seed: settings.seed, changeFraction: CHANGE_FRACTION, newPerChange: NEW_PER_CHANGE, firstPollEntries: FIRST_POLL_ENTRIES },
        corpus: bench.server.corpus,
        scenarios: jsonFigures(figures),
        loadAverage1m: { before: +loadBefore[0]!.toFixed(2), after: +loadAfter[0]!.toFixed(2) },
        processMaxRssMiB: +(processMaxRssBytes() / MIB).toFixed(1),
        serverMaxRssMiB: +(serverStats.maxRss / MIB).toFixed(1),
      };
      process.stdout.write(JSON.stringify(out) + '\n');
    }
  } finally {
    await bench.server.close();
  }
}

/** Child side of --profile: one cold scenario, then the phase marks written for the parent. */
async function profileTarget(settings: Settings, marksFile: string): Promise<void> {
  const bench = await startBench(settings);
  try {
    const cold = await runScenario('cold', bench.feeds, { states: new Map(), seen: new Map() }, bench.poll, bench.server, await coldExpectation(bench));
    writeFileSync(marksFile, JSON.stringify({ marksUs: cold.marksUs, pollMs: cold.pollMs, decodeMs: cold.decodeMs, parseMs: cold.parseMs, diffMs: cold.diffMs, totalMs: cold.totalMs, bytes: cold.bytes }));
  } finally {
    await bench.server.close();
  }
}

interface ProfileMarks {
  marksUs: ScenarioSample['marksUs'];
  pollMs: number;
  decodeMs: number;
  parseMs: number;
  diffMs: number;
  totalMs: number;
  bytes: number;
}

async function profile(settings: Settings): Promise<void> {
  const machine = machineInfo();
  process.stdout.write(`planet-digest ingestion benchmark: CPU profile of one cold scenario\nmachine   ${formatMachine(machine)}\n`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const name = `fetch-bench-cold-${stamp}.cpuprofile`;
  const marksFile = `${ARTIFACTS}fetch-bench-cold-${stamp}.marks.json`;
  const args = [
    '--cpu-prof',
    `--cpu-prof-dir=${ARTIFACTS}`,
    `--cpu-prof-name=${name}`,
    '--import',
    'tsx',
    THIS_FILE,
    '--profile-target',
    marksFile,
    '--feeds',
    String(settings.feeds),
    '--entries',
    String(settings.entries),
    '--concurrency',
    String(settings.concurrency),
    '--seed',
    String(settings.seed),
    ...(settings.gzip ? [] : ['--no-gzip']),
  ];
  progress(`profiling: node ${args.join(' ')}`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`the profiled run exited with code ${code}`);
  const profilePath = ARTIFACTS + name;
  const cpu = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
  const marks = JSON.parse(readFileSync(marksFile, 'utf8')) as ProfileMarks;
  const whole = summarizeCpuProfile(cpu, { root: REPO_ROOT, window: { startUs: marks.marksUs.start, endUs: marks.marksUs.end } });
  const pollPart = summarizeCpuProfile(cpu, { root: REPO_ROOT, window: { startUs: marks.marksUs.start, endUs: marks.marksUs.pollEnd } });
  const parsePart = summarizeCpuProfile(cpu, { root: REPO_ROOT, window: { startUs: marks.marksUs.pollEnd, endUs: marks.marksUs.end } });

  const out = process.stdout;
  out.write(`profile   ${relative(REPO_ROOT, profilePath)} (open in Chrome DevTools or speedscope)\n`);
  out.write(
    `cold run  ${settings.feeds} feeds × ${settings.entries} entries, ${(marks.bytes / MB).toFixed(1)} MB: poll ${marks.pollMs.toFixed(0)} ms, decode ${marks.decodeMs.toFixed(0)} ms, ` +
      `parse ${marks.parseMs.toFixed(0)} ms, diff ${marks.diffMs.toFixed(0)} ms, total ${marks.totalMs.toFixed(0)} ms (one run under the profiler: slower than the timed medians)\n`,
  );
  out.write(
    whole.windowApplied
      ? `analysed  ${whole.analysedMs.toFixed(0)} ms of samples inside the cold scenario (start-up, module loading and the server start excluded)\n`
      : `analysed  the whole profile (${whole.analysedMs.toFixed(0)} ms): the scenario's clock marks did not match the profile's clock, so start-up is included\n`,
  );
  printProfile(whole, pollPart, parsePart);
  if (settings.json) {
    const top = (s: ProfileSummary, n: number): unknown => ({
      analysedMs: +s.analysedMs.toFixed(1),
      windowApplied: s.windowApplied,
      topSelf: s.functions.slice(0, n).map((f) => ({ ...f, selfMs: +f.selfMs.toFixed(1), totalMs: +f.totalMs.toFixed(1) })),
      categories: s.categories.map((c) => ({ ...c, selfMs: +c.selfMs.toFixed(1), share: +c.share.toFixed(4) })),
    });
    out.write(JSON.stringify({ bench: 'fetch-profile', machine, profile: relative(REPO_ROOT, profilePath), cold: marks, whole: top(whole, 25), poll: top(pollPart, 10), decodeParseDiff: top(parsePart, 10) }) + '\n');
  }
}

function printProfile(whole: ProfileSummary, pollPart: ProfileSummary, parsePart: ProfileSummary): void {
  const out = process.stdout;
  const pct = (ms: number, of: number): string => (of > 0 ? `${((100 * ms) / of).toFixed(1)}%` : '—');
  out.write(`\nTop 10 functions by self time (whole cold scenario)\n\n`);
  out.write(
    textTable(
      ['self ms', 'self %', 'total ms', 'function', 'category', 'location'],
      whole.functions.slice(0, 10).map((f) => [fixed(f.selfMs, 0), pct(f.selfMs, whole.analysedMs), fixed(f.totalMs, 0), f.name, f.category, f.location]),
      new Set([0, 1, 2]),
    ) + '\n',
  );
  out.write(`\nWhere the time goes: self time by category (built-ins such as RegExp charged to their caller's category)\n\n`);
  const cats = new Set([...whole.categories.slice(0, 14).map((c) => c.category)]);
  const share = (s: ProfileSummary, c: string): string => {
    const hit = s.categories.find((x) => x.category === c);
    return hit ? `${fixed(hit.selfMs, 0)} (${pct(hit.selfMs, s.analysedMs)})` : '—';
  };
  out.write(
    textTable(
      ['category', 'whole ms (%)', 'until last response ms (%)', 'after it ms (%)'],
      [...cats].map((c) => [c, share(whole, c), share(pollPart, c), share(parsePart, c)]),
      new Set([1, 2, 3]),
    ) + '\n',
  );
  out.write(`\nOur code (src/), by inclusive time: where src/ functions spend their time, libraries they call included\n\n`);
  const ours = whole.functions
    .filter((f) => f.category.startsWith('src/'))
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, 15);
  out.write(textTable(['total ms', 'total %', 'self ms', 'function', 'location'], ours.map((f) => [fixed(f.totalMs, 0), pct(f.totalMs, whole.analysedMs), fixed(f.selfMs, 0), f.name, f.location]), new Set([0, 1, 2])) + '\n');
}

const settings = readSettings(process.argv.slice(2));
try {
  if (settings.profileTarget) await profileTarget(settings, settings.profileTarget);
  else if (settings.profile) await profile(settings);
  else await benchmark(settings);
} catch (err) {
  process.stderr.write(`fetch-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
