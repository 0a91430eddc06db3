/**
 * One measured Planet-scale benchmark: servers in child processes, a generated subscribers.json, then `runs` times
 * (fresh store each time) cycle 1 (first poll: everything new, settings.firstPollEntries per feed) and cycle 2 (a share
 * of the feeds changed), driven in-process through createRuntime/runDigest so RunReport.phasesMs gives the phases.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFeedServerProcess, type FeedServerProcess } from '../lib/feed-server-process.js';
import { collectGarbage, processMaxRssBytes } from '../lib/peak-rss.js';
import type { CpuProfile } from '../lib/cpu-profile.js';
import { loadEnvConfig } from '../../src/config/load-env-config.js';
import { loadDigestConfig } from '../../src/config/load-digest-config.js';
import { createRuntime } from '../../src/cli/create-runtime.js';
import { silentLogger } from '../../src/model/logger.js';
import type { RunReport } from '../../src/pipeline/run-report.js';
import { startChildServer, type ChildServer } from './child-server.js';
import { generatePlanetConfig, type PlanetConfigStats } from './generate-planet-config.js';
import { PhaseRssTracker, type PhasePeaks } from './phase-rss-tracker.js';
import { startSectionProfiler } from './cpu-profiler.js';
import type { SmtpSinkStats } from './smtp-sink-main.js';
import type { SlackApiStats } from './slack-api-main.js';

/** Benchmark parameters (command-line options of planet-bench.ts). */
export interface PlanetBenchOptions {
  feeds: number;
  emailSubscribers: number;
  slackSubscribers: number;
  runs: number;
  entries: number;
  htmlChars: number;
  firstPollEntries: number;
  maxPerSource: number;
  /** Share of feeds that gain entries before cycle 2. */
  change: number;
  smtpConnections: number;
  sendConcurrency: number;
  feedConcurrency: number;
  /** Per-host fetch limit; all benchmark feeds share one host, a real planet has hundreds. */
  perHostConcurrency: number;
  seed: number;
  profile: boolean;
  /** Print memory snapshots at the end of each segment (where the RSS is). */
  verbose: boolean;
  /** Log progress lines on stderr. */
  log: (line: string) => void;
}

/** What one cycle did and cost. */
export interface CycleResult {
  run: number;
  cycle: 1 | 2;
  wallMs: number;
  cpuMs: number;
  report: RunReport;
  peaks: PhasePeaks;
  /** RSS right before the cycle (after a full GC): config, modules, store handle. */
  rssBeforeBytes: number;
  /** process.memoryUsage() right before the cycle, after a full GC: what is really live. */
  memoryBefore: NodeJS.MemoryUsage;
  heapUsedAfterBytes: number;
  smtp: SmtpSinkStats;
  slack: SlackApiStats;
  feedServer: { requests: number; ok: number; notModified: number; wireBytes: number; bodyBytes: number };
  changedFeeds: number;
}

/** The whole measurement. */
export interface PlanetBenchResult {
  options: Omit<PlanetBenchOptions, 'log'>;
  config: PlanetConfigStats & { loadMs: number; fileBytes: number };
  corpus: { bytes: number; gzipBytes: number; generateMs: number };
  templateCache: { warmedInChildMs: number; fromCache: boolean };
  cycles: CycleResult[];
  profiles: Array<{ run: number; cycle: 1 | 2; profile: CpuProfile }>;
  processMaxRssBytes: number;
}

const HERE = new URL('./', import.meta.url);
const TEMPLATE_WARMER = fileURLToPath(new URL('./warm-template-cache-main.ts', HERE));

/** Run the benchmark; servers and temp files are cleaned up whatever happens. */
export async function runPlanetBench(options: PlanetBenchOptions): Promise<PlanetBenchResult> {
  const { log } = options;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'planet-bench-'));
  let feedServer: FeedServerProcess | undefined;
  let smtp: ChildServer<{ origin: string; port: number }> | undefined;
  let slack: ChildServer<{ origin: string; port: number }> | undefined;
  // Stopped from outside (the growth matrix's time cap): still remove the temp files; the servers exit on their own
  // when their IPC channel or stdin closes.
  const onTerm = (): void => {
    rmSync(tmp, { recursive: true, force: true });
    process.exit(143);
  };
  process.once('SIGTERM', onTerm);
  try {
    log(`generating ${options.feeds} feeds × ${options.entries} entries in the feed server process…`);
    [feedServer, smtp, slack] = await Promise.all([
      startFeedServerProcess({ feeds: options.feeds, entries: options.entries, seed: options.seed, htmlChars: options.htmlChars, newPerChange: 2, gzip: true, startTimeoutMs: 600_000 }),
      startChildServer<{ origin: string; port: number }>(new URL('./smtp-sink-main.ts', HERE)),
      startChildServer<{ origin: string; port: number }>(new URL('./slack-api-main.ts', HERE)),
    ]);

    // The template cache is warmed in a child process: MJML never enters the measured process (README: Templates).
    const cacheDir = path.join(tmp, 'cache');
    const warm = spawnSync(process.execPath, ['--import', 'tsx', TEMPLATE_WARMER, path.join(cacheDir, 'templates')], {
      cwd: fileURLToPath(new URL('../../', HERE)),
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    if (warm.status !== 0) throw new Error(`could not compile the email template in a child process: ${warm.stderr || warm.stdout}`);
    const warmed = JSON.parse(warm.stdout.trim().split('\n').pop()!) as { fromCache: boolean; ms: number };

    const fs = feedServer;
    const generated = generatePlanetConfig({
      seed: options.seed,
      feeds: options.feeds,
      emailSubscribers: options.emailSubscribers,
      slackSubscribers: options.slackSubscribers,
      feedUrl: (i) => fs.feedUrl(i),
      firstPollEntries: options.firstPollEntries,
      maxPerSource: options.maxPerSource,
    });
    const configFile = path.join(tmp, 'subscribers.json');
    const json = JSON.stringify(generated.doc);
    writeFileSync(configFile, json);
    // Measured like the CLI does it: read, parse and validate subscribers.json.
    let t = performance.now();
    const config = await loadDigestConfig(configFile);
    const loadMs = performance.now() - t;
    log(`subscribers.json: ${options.feeds} feeds, ${config.subscribers.length} subscribers (${generated.stats.distinctSelections} distinct selections × channel × time zone), ${(json.length / 2 ** 20).toFixed(1)} MiB, loaded and validated in ${loadMs.toFixed(0)} ms`);

    const cycles: CycleResult[] = [];
    const profiles: PlanetBenchResult['profiles'] = [];
    for (let run = 1; run <= options.runs; run++) {
      await fs.reset();
      const runDir = path.join(tmp, `run-${run}`);
      const env = loadEnvConfig({
        DIGEST_STORE_URL: `sqlite://${path.join(runDir, 'store.sqlite')}`,
        DIGEST_CACHE_DIR: cacheDir,
        DIGEST_OUTBOX: path.join(runDir, 'outbox'),
        DIGEST_SECRET: 'planet-bench-secret-0123456789abcdef',
        DIGEST_BASE_URL: 'https://digest.example.org',
        DIGEST_ALLOW_PRIVATE_NETWORKS: 'true',
        DIGEST_FEED_CONCURRENCY: String(options.feedConcurrency),
        SMTP_URL: `smtp://127.0.0.1:${smtp.ready.port}`,
        SMTP_MAX_CONNECTIONS: String(options.smtpConnections),
        MAIL_FROM: 'Planet digest <digest@example.org>',
        SLACK_BOT_TOKEN: 'xoxb-planet-bench',
        SLACK_API_URL: `${slack.ready.origin}/api/`,
      });
      const runtime = await createRuntime({ env, config, logger: silentLogger, now: () => new Date(), version: '0.0.0-bench', requireSecret: true });
      try {
        runtime.deps.sendConcurrency = options.sendConcurrency;
        runtime.deps.poll = { ...runtime.deps.poll, perHostConcurrency: options.perHostConcurrency };
        const tracker = new PhaseRssTracker(runtime);
        for (const cycle of [1, 2] as const) {
          const changedFeeds = cycle === 2 ? (await fs.change(options.change)).length : 0;
          await Promise.all([fs.resetStats(), smtp.request('reset'), slack.request('reset')]);
          collectGarbage();
          const memoryBefore = process.memoryUsage();
          const rssBefore = memoryBefore.rss;
          const profiler = options.profile && run === 1 ? await startSectionProfiler() : undefined;
          const cpu0 = process.cpuUsage();
          tracker.start();
          t = performance.now();
          const report = await runtime.run();
          const wallMs = performance.now() - t;
          const peaks = tracker.stop();
          const cpu = process.cpuUsage(cpu0);
          if (profiler) profiles.push({ run, cycle, profile: await profiler.stop() });
          const [smtpStats, slackStats, serverStats] = await Promise.all([smtp.request<SmtpSinkStats>('stats'), slack.request<SlackApiStats>('stats'), fs.stats()]);
          const result: CycleResult = {
            run,
            cycle,
            wallMs,
            cpuMs: (cpu.user + cpu.system) / 1000,
            report,
            peaks,
            rssBeforeBytes: rssBefore,
            memoryBefore,
            heapUsedAfterBytes: process.memoryUsage().heapUsed,
            smtp: smtpStats,
            slack: slackStats,
            feedServer: serverStats,
            changedFeeds,
          };
          cycles.push(result);
          log(describeCycle(result));
          if (options.verbose) {
            for (const m of peaks.snapshots) {
              const mb = (n: number) => (n / 2 ** 20).toFixed(0);
              log(`  end of ${m.segment.padEnd(7)} peak ${mb(m.peak)} MB; now RSS ${mb(m.rss)} MB, V8 heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MB, external ${mb(m.external)} MB (array buffers ${mb(m.arrayBuffers)} MB)`);
            }
          }
          for (const problem of checkCycle(result)) log(`  WARNING: ${problem}`);
        }
      } finally {
        await runtime.close();
      }
      rmSync(runDir, { recursive: true, force: true });
    }
    return {
      options: { ...options, log: undefined } as unknown as PlanetBenchResult['options'],
      config: { ...generated.stats, loadMs, fileBytes: json.length },
      corpus: { bytes: fs.corpus.bytes, gzipBytes: fs.corpus.gzipBytes, generateMs: fs.corpus.generateMs },
      templateCache: { warmedInChildMs: warmed.ms, fromCache: warmed.fromCache },
      cycles,
      profiles,
      processMaxRssBytes: processMaxRssBytes(),
    };
  } finally {
    process.off('SIGTERM', onTerm);
    await Promise.allSettled([feedServer?.close(), smtp?.close(), slack?.close()]);
    rmSync(tmp, { recursive: true, force: true });
  }
}

function describeCycle(c: CycleResult): string {
  const r = c.report;
  return (
    `run ${c.run} cycle ${c.cycle}: ${(c.wallMs / 1000).toFixed(2)} s wall, ${(c.cpuMs / 1000).toFixed(2)} s CPU; feeds ${r.feeds.ok} ok / ${r.feeds.notModified} not modified / ${r.feeds.failed} failed; ` +
    `${r.entries.fresh} new entries; ${r.digests.sent} digests sent (${r.digests.byChannel.email.sent} email, ${r.digests.byChannel.slack.sent} Slack), ${r.digests.rendered} rendered, ${r.digests.empty} empty; ` +
    `peak RSS ${(c.peaks.cycle / 2 ** 20).toFixed(0)} MB`
  );
}

/** Figures that would make the measurement meaningless (not speed: correctness of what was measured). */
export function checkCycle(c: CycleResult): string[] {
  const r = c.report;
  const problems: string[] = [];
  if (r.feeds.failed > 0) problems.push(`${r.feeds.failed} feeds failed: ${r.feeds.failures.slice(0, 3).map((f) => `${f.feedId}: ${f.message}`).join('; ')}`);
  if (r.digests.failed > 0) problems.push(`${r.digests.failed} digests not delivered: ${r.digests.failures.slice(0, 3).map((f) => f.message).join('; ')}`);
  if (c.smtp.messages !== r.digests.byChannel.email.sent) problems.push(`the SMTP sink received ${c.smtp.messages} messages, the report says ${r.digests.byChannel.email.sent} emails sent`);
  if (c.smtp.duplicateRecipients > 0) problems.push(`${c.smtp.duplicateRecipients} recipients got more than one email in one cycle`);
  if (c.slack.digests !== r.digests.byChannel.slack.sent) problems.push(`the Slack server received ${c.slack.digests} digests, the report says ${r.digests.byChannel.slack.sent}`);
  if (c.slack.duplicateChannels > 0) problems.push(`${c.slack.duplicateChannels} Slack channels got more than one digest in one cycle`);
  return problems;
}
