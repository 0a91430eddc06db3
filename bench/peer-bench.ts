/**
 * Peer comparison (issue 7): planet-digest against rss2email (Debian `r2e`, digest mode) on the same workload: the
 * peer-bench scripts' 220 feeds (20 items of 1–2 KB HTML each) served on 127.0.0.1 with nginx-like conditional GET,
 * and their SMTP sink with duplicate accounting. Runs the two tools alternately (A B A B…) for --reps pairs through
 * the scenarios of bench_r2e.py — first run, nothing changed (all 304), 5 new items in 50 feeds, nothing changed but
 * the server ignores conditional GET — each tool as a process under /usr/bin/time -v, and prints median wall time,
 * CPU time and peak RSS of both and their ratios. planet-digest's first run is measured twice on a fresh store: with
 * the stock template, which `npm run build` compiled ahead (dist/template-cache), and with a customised copy of it
 * (DIGEST_TEMPLATES), which MJML compiles in that run, as after a user edits the template. Each first run
 * is followed by the floor (bench/peer/fetch-parse-floor.mjs): the same feeds fetched and parsed with rss-parser's
 * defaults and nothing else, which bounds how fast a first run built on them can be here. Prints figures; never fails
 * on speed.
 *
 *   npm run bench:peer                   # 5 pairs
 *   npm run bench:peer -- --reps 3 --json
 *   npm run bench:peer -- --profile      # plus one profiled planet-digest chain: artifacts/peer-bench-DATE/SCENARIO/*.cpuprofile
 *
 * Needs: apt-get install -y rss2email python3-aiosmtpd time; the peer scripts in ../shared/peer-bench (PEERBENCH_SRC).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LAUNCH_NODE_FLAGS } from '../bin/v8-flags.js';
import { formatMachine, machineInfo } from './lib/machine-info.js';
import { median } from './lib/stats.js';
import { fixed, textTable } from './lib/text-table.js';
import type { CpuProfile } from './lib/cpu-profile.js';
import { checkPrerequisites } from './peer/check-prerequisites.js';
import { ensureBuild, SOURCE_FALLBACK_NOTICE, type BuildStatus } from './peer/ensure-build.js';
import { dropSpool, startPeerWorkload, type PeerWorkload } from './peer/peer-workload.js';
import { buildR2eTemplate, copyR2eState, duplicateStats, entryKeysOf, newPdState, runPd, runR2e, writePdSubscribers, type PdState, type R2eState } from './peer/peer-tools.js';
import { timedRun, type TimedRun } from './peer/time-v.js';
import { formatProfileSummary } from './planet/cpu-profiler.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const USAGE = `usage: npm run bench:peer -- [--reps N] [--per-host N] [--json] [--profile] [--keep]
  --reps N     pairs of runs (default 5); medians are printed
  --per-host N planet-digest's DIGEST_FEED_PER_HOST (default 2, its own default; all 220 feeds are on one host)
  --json       print one JSON object as the last line
  --profile    after the measured pairs, run one planet-digest chain with --cpu-prof (artifacts/) and print top functions
  --keep       keep the temporary PEERBENCH_DIR (logs, spooled messages) and print its path
Environment: PEERBENCH_SRC = folder with gen_feeds.py, http_server.py, smtp_sink.py (default ../shared/peer-bench)
`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      reps: { type: 'string' },
      'per-host': { type: 'string' },
      json: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
const opts = parsed.values;
if (opts.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const reps = opts.reps === undefined ? 5 : Number(opts.reps);
if (!Number.isInteger(reps) || reps < 1) {
  process.stderr.write(`--reps must be a positive integer, got "${opts.reps}"\n`);
  process.exit(2);
}
/** planet-digest's total feed concurrency (its default, DIGEST_FEED_CONCURRENCY). */
const FEED_CONCURRENCY = 16;
/**
 * All 220 "sites" are one host here (127.0.0.1), and planet-digest runs with its default of 2 feeds per host at once.
 * It used to need 6: http_server.py writes a response's head and body in two sends without TCP_NODELAY, so every body
 * on a kept-alive connection waited ~40 ms for a delayed ACK (220 bodies: 4.9 s at 2, 1.6 s at 6). fetchFeed now asks
 * for a connection of its own when it expects a body. More than 6 overflow http_server.py's listen backlog of 5 (Linux
 * TcpExtListenOverflows; SYNs retried after 1 s). By hand, 2 runs each (issue 7): first run 4.2-4.5 s at 2 against
 * 4.1-4.4 s at 6; 304s 0.53-0.63 s against 0.52-0.65 s.
 */
const DEFAULT_PER_HOST = 2;
const perHost = opts['per-host'] === undefined ? DEFAULT_PER_HOST : Number(opts['per-host']);
if (!Number.isInteger(perHost) || perHost < 1 || perHost > 256) {
  process.stderr.write(`--per-host must be an integer from 1 to 256, got "${opts['per-host']}"\n`);
  process.exit(2);
}

type Tool = 'pd' | 'pd-cold' | 'r2e';
type Scenario = 'a_first' | 'b_nochange' | 'c_bump' | 'd_nochange_no304';
const SCENARIOS: Array<{ id: Scenario; label: string; expectedEntries: number }> = [
  { id: 'a_first', label: 'first run, sends everything', expectedEntries: 4400 },
  { id: 'b_nochange', label: 'nothing changed (220 × 304)', expectedEntries: 0 },
  { id: 'c_bump', label: '+5 items in 50 feeds', expectedEntries: 250 },
  { id: 'd_nochange_no304', label: 'nothing changed, server ignores conditional GET', expectedEntries: 0 },
];
const EXPECTED_MESSAGES: Record<'pd' | 'r2e', Record<Scenario, number>> = {
  r2e: { a_first: 220, b_nochange: 0, c_bump: 50, d_nochange_no304: 0 },
  pd: { a_first: 1, b_nochange: 0, c_bump: 1, d_nochange_no304: 0 },
};
const TOOL_LABEL: Record<Tool, string> = { pd: 'planet-digest', 'pd-cold': 'planet-digest (customised template, compiled in the run)', r2e: 'rss2email (digest)' };
/** The issue's baseline for rss2email digest mode on this kind of machine (medians of 3). */
const BASELINE: Partial<Record<Scenario, string>> = { a_first: '12.2 s / 33 MB', b_nochange: '0.81 s', c_bump: '2.69 s', d_nochange_no304: '5.11 s' };

interface Row {
  rep: number;
  scenario: Scenario;
  tool: Tool;
  run: TimedRun;
  messages: number;
  bytes: number;
  entries: number;
  dupsWithin: number;
  resent: number;
  http200: number;
  http304: number;
  httpOther: number;
  errorLines: number;
  /** bin/planet-digest.js ran the TypeScript sources (src/ changed after the build): not the compiled CLI. */
  fromSource: boolean;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const out = (text = ''): void => void process.stdout.write(`${text}\n`);

function errorLines(file: string, tool: Tool): number {
  const text = readFileSync(file, 'utf8');
  if (tool === 'r2e') return (text.match(/\[(ERROR|CRITICAL)\]|Traceback/g) ?? []).length;
  // planet-digest logs JSON lines when stderr is not a terminal: pino levels 50 (error) and 60 (fatal); plus CLI errors.
  return text.split('\n').filter((l) => /"level":(50|60)/.test(l) || l.startsWith('error:')).length;
}

async function measure(w: PeerWorkload, scenario: Scenario, tool: Tool, rep: number, seen: Set<string>, run: () => Promise<TimedRun>): Promise<Row> {
  const mark = w.mark();
  const result = await run();
  if (tool !== 'r2e' && result.exitStatus >= 2) {
    // 2 = configuration error, 3 = locked, 4 = runtime error: nothing was measured; say why instead of printing zeros.
    const stderr = readFileSync(result.stderrFile, 'utf8').trim().split('\n').slice(0, 8).join('\n');
    throw new Error(`planet-digest exited with ${result.exitStatus} in ${scenario} (rep ${rep}); its stderr:\n${stderr}`);
  }
  await new Promise((r) => setTimeout(r, 200)); // the sink logs before it answers 250; this is belt and braces
  const messages = w.messagesSince(mark);
  const requests = w.requestsSince(mark);
  const keys: string[] = [];
  for (const m of messages) keys.push(...(await entryKeysOf(m, tool === 'r2e' ? 'r2e' : 'pd')));
  dropSpool(messages);
  const dups = duplicateStats(keys, seen);
  for (const k of keys) seen.add(k);
  const row: Row = {
    rep,
    scenario,
    tool,
    run: result,
    messages: messages.length,
    bytes: messages.reduce((s, m) => s + m.bytes, 0),
    entries: keys.length,
    dupsWithin: dups.within,
    resent: dups.resent,
    http200: requests.filter((r) => r.status === 200).length,
    http304: requests.filter((r) => r.status === 304).length,
    httpOther: requests.filter((r) => r.status !== 200 && r.status !== 304).length,
    errorLines: errorLines(result.stderrFile, tool),
    fromSource: tool !== 'r2e' && readFileSync(result.stderrFile, 'utf8').includes(SOURCE_FALLBACK_NOTICE),
  };
  log(
    `[rep ${rep}] ${scenario.padEnd(16)} ${tool.padEnd(7)} wall ${fixed(result.wallS, 2).padStart(6)} s  cpu ${fixed(result.cpuS, 2).padStart(6)} s  rss ${fixed(result.maxRssMb).padStart(4)} MB  ` +
      `msgs ${row.messages}  entries ${row.entries}  dup ${row.dupsWithin}  resent ${row.resent}  http 200/304 ${row.http200}/${row.http304}  exit ${result.exitStatus}${row.errorLines ? `  errors ${row.errorLines} (see ${result.stderrFile})` : ''}` +
      (row.fromSource ? '  RAN FROM SOURCE (src/ changed during the benchmark): excluded from the figures' : ''),
  );
  return row;
}

function largestProfile(dir: string): CpuProfile | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  // Node writes one profile per thread; the main thread's is the largest.
  const best = files.sort((a, b) => statSync(path.join(dir, b)).size - statSync(path.join(dir, a)).size)[0];
  return best ? (JSON.parse(readFileSync(path.join(dir, best), 'utf8')) as CpuProfile) : undefined;
}

async function main(): Promise<number> {
  const peerSrc = path.resolve(process.env.PEERBENCH_SRC ?? path.join(ROOT, '..', 'shared', 'peer-bench'));
  const problems = checkPrerequisites(peerSrc);
  if (problems.length > 0) {
    process.stderr.write(`The peer benchmark cannot run on this machine yet:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 2;
  }
  const builds: BuildStatus[] = [ensureBuild(ROOT, log)];
  const build = builds[0]!;
  const machine = machineInfo();
  const load0 = os.loadavg();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'planet-digest-peerbench-'));
  log(`PEERBENCH_DIR=${tmp} (scripts copied from ${peerSrc})`);
  const w = await startPeerWorkload(peerSrc, tmp);
  const pdEnv: NodeJS.ProcessEnv = { ...w.env, DIGEST_FEED_CONCURRENCY: String(FEED_CONCURRENCY), DIGEST_FEED_PER_HOST: String(perHost) };
  log(`planet-digest runs with DIGEST_FEED_PER_HOST=${perHost} and DIGEST_FEED_CONCURRENCY=${FEED_CONCURRENCY} (its defaults are 2 and 16); all feeds are on one host`);
  const rows: Row[] = [];
  const floorRuns: TimedRun[] = [];
  const floorUrls = path.join(tmp, 'floor-urls.txt');
  // The stock template plus a comment: another cache key, so MJML compiles it in the run (and each rep's cache is new).
  const customTemplates = path.join(tmp, 'custom-templates');
  mkdirSync(customTemplates, { recursive: true });
  writeFileSync(path.join(customTemplates, 'digest.mjml'), readFileSync(path.join(ROOT, 'templates', 'digest.mjml'), 'utf8').replace('</mjml>', '<!-- customised -->\n</mjml>'));
  writeFileSync(floorUrls, `${w.feeds.map((f) => f.url).join('\n')}\n`);
  const profiles: Array<{ scenario: Scenario; dir: string }> = [];
  try {
    const logs = path.join(tmp, 'logs');
    log(`feeds on http://127.0.0.1:${w.httpPort}/feeds/, SMTP sink on 127.0.0.1:${w.smtpPort}; building the rss2email state (${w.feeds.length} feeds)…`);
    const template = buildR2eTemplate(path.join(tmp, 'r2e', 'template'), w.smtpPort, w.feeds);
    const subscribersFile = path.join(tmp, 'pd', 'subscribers.json');
    newPdState(path.join(tmp, 'pd'), subscribersFile, path.join(tmp, 'pd', 'unused-cache'));
    writePdSubscribers(subscribersFile, w.feeds);

    const runChain = async (rep: number, chain: { r2e?: R2eState; pd: PdState; pdCold?: PdState; profileDir?: string }): Promise<void> => {
      const seen: Record<Tool, Set<string>> = { pd: new Set(), 'pd-cold': new Set(), r2e: new Set() };
      const pdArgs = (scenario: Scenario): string[] => {
        if (!chain.profileDir) return [];
        const dir = path.join(chain.profileDir, scenario);
        profiles.push({ scenario, dir });
        return ['--cpu-prof', '--cpu-prof-dir', dir];
      };
      const step = async (scenario: Scenario): Promise<void> => {
        const prefix = (tool: Tool | 'floor'): string => path.join(logs, `rep${rep}-${scenario}-${tool}`);
        const pdRow = (tool: Tool, state: PdState) => {
          // Others may edit src/ while this runs; bin/planet-digest.js would then run the sources through tsx. Rebuild
          // first (outside the measurement) so every figure is the compiled CLI.
          const rebuilt = ensureBuild(ROOT, log);
          if (rebuilt.built) builds.push(rebuilt);
          const env = tool === 'pd-cold' ? { ...pdEnv, DIGEST_TEMPLATES: customTemplates } : pdEnv;
          return measure(w, scenario, tool, rep, seen[tool], () => runPd(ROOT, state, w.smtpPort, prefix(tool), env, pdArgs(scenario)));
        };
        if (scenario === 'a_first' && chain.pdCold) rows.push(await pdRow('pd-cold', chain.pdCold));
        if (chain.r2e && scenario === 'a_first') {
          // First run: planet-digest compiling a customised template, rss2email, planet-digest with the stock one, the floor.
          const r2e = chain.r2e;
          rows.push(await measure(w, scenario, 'r2e', rep, seen.r2e, () => runR2e(r2e, prefix('r2e'), w.env)));
          rows.push(await pdRow('pd', chain.pd));
          floorRuns.push(await runFloor(floorUrls, prefix('floor'), w.env, rep));
          return;
        }
        const pd = await pdRow('pd', chain.pd);
        if (!chain.profileDir) rows.push(pd);
        if (chain.r2e) {
          const r2e = chain.r2e;
          rows.push(await measure(w, scenario, 'r2e', rep, seen.r2e, () => runR2e(r2e, prefix('r2e'), w.env)));
        }
      };
      w.setConditionalGet(true);
      w.gen('reset');
      await step('a_first');
      await step('b_nochange');
      await new Promise((r) => setTimeout(r, 1100)); // the bumped feeds need a later whole-second mtime
      w.gen('bump', '--feeds', '50', '--items', '5');
      await step('c_bump');
      w.setConditionalGet(false);
      await step('d_nochange_no304');
      w.setConditionalGet(true);
    };

    for (let rep = 1; rep <= reps; rep++) {
      const repDir = path.join(tmp, `rep${rep}`);
      const cache = path.join(repDir, 'pd-cache');
      await runChain(rep, {
        r2e: copyR2eState(template, path.join(repDir, 'r2e')),
        pdCold: newPdState(path.join(repDir, 'pd-cold'), subscribersFile, cache),
        pd: newPdState(path.join(repDir, 'pd'), subscribersFile, cache),
      });
      if (!opts.keep) rmSync(repDir, { recursive: true, force: true });
    }

    if (opts.profile) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const profileDir = path.join(ROOT, 'artifacts', `peer-bench-${stamp}`);
      log(`profiled planet-digest chain (not part of the figures) → ${path.relative(ROOT, profileDir)}`);
      const cache = path.join(tmp, 'profile', 'pd-cache');
      // An unmeasured run first, so files and the page cache are as warm as in the later pairs.
      const warm = newPdState(path.join(tmp, 'profile', 'warm-up'), subscribersFile, cache);
      w.gen('reset');
      await runPd(ROOT, warm, w.smtpPort, path.join(logs, 'profile-warm-up'), pdEnv);
      await runChain(0, { pd: newPdState(path.join(tmp, 'profile', 'pd'), subscribersFile, cache), profileDir });
    }
  } finally {
    await w.close();
  }

  // ---- figures ----
  const pick = (scenario: Scenario, tool: Tool) => rows.filter((r) => r.scenario === scenario && r.tool === tool && !r.fromSource);
  const excluded = rows.filter((r) => r.fromSource).length;
  const med = (rs: Row[], f: (r: Row) => number): number => median(rs.map(f));
  const detailRows: string[][] = [];
  for (const s of SCENARIOS) {
    for (const tool of ['r2e', 'pd-cold', 'pd'] as Tool[]) {
      const rs = pick(s.id, tool);
      if (rs.length === 0) continue;
      const expectedMessages = EXPECTED_MESSAGES[tool === 'r2e' ? 'r2e' : 'pd'][s.id];
      detailRows.push([
        s.id,
        TOOL_LABEL[tool],
        fixed(med(rs, (r) => r.run.wallS), 2),
        fixed(med(rs, (r) => r.run.cpuS), 2),
        fixed(med(rs, (r) => r.run.maxRssMb)),
        `${[...new Set(rs.map((r) => r.messages))].join('/')} (${expectedMessages})`,
        fixed(med(rs, (r) => r.bytes) / 1024),
        `${[...new Set(rs.map((r) => r.entries))].join('/')} (${s.expectedEntries})`,
        `${rs.reduce((n, r) => n + r.dupsWithin, 0)}/${rs.reduce((n, r) => n + r.resent, 0)}`,
        [...new Set(rs.map((r) => `${r.http200}/${r.http304}`))].join(' '),
        [...new Set(rs.map((r) => r.run.exitStatus))].join('/'),
        rs.map((r) => fixed(r.run.wallS, 2)).join(' '),
      ]);
    }
  }
  const ratio = (scenario: Scenario, pdTool: Tool) => {
    const r2e = pick(scenario, 'r2e');
    const pd = pick(scenario, pdTool);
    if (r2e.length === 0 || pd.length === 0) return undefined;
    const m = (rs: Row[], f: (r: Row) => number) => med(rs, f);
    return {
      r2eWall: m(r2e, (r) => r.run.wallS),
      pdWall: m(pd, (r) => r.run.wallS),
      r2eCpu: m(r2e, (r) => r.run.cpuS),
      pdCpu: m(pd, (r) => r.run.cpuS),
      r2eRss: m(r2e, (r) => r.run.maxRssMb),
      pdRss: m(pd, (r) => r.run.maxRssMb),
    };
  };
  const goalOf: Partial<Record<Scenario, number>> = { a_first: 10, b_nochange: 1.5 };
  const compareRows: string[][] = [];
  const jsonScenarios: Record<string, unknown> = {};
  for (const s of SCENARIOS) {
    for (const pdTool of (s.id === 'a_first' ? ['pd', 'pd-cold'] : ['pd']) as Tool[]) {
      const r = ratio(s.id, pdTool);
      if (!r) continue;
      const speedup = r.r2eWall / r.pdWall;
      const goal = goalOf[s.id];
      const rssRatio = r.pdRss / r.r2eRss;
      compareRows.push([
        `${s.label}${pdTool === 'pd-cold' ? ' — customised template, compiled in the run' : s.id === 'a_first' ? ' — stock template, compiled at build' : ''}`,
        `${fixed(r.r2eWall, 2)} / ${fixed(r.pdWall, 2)}`,
        `${fixed(speedup, 2)}×`,
        `${fixed(r.r2eCpu, 2)} / ${fixed(r.pdCpu, 2)}`,
        `${fixed(r.r2eCpu / r.pdCpu, 2)}×`,
        `${fixed(r.r2eRss)} / ${fixed(r.pdRss)}`,
        `${fixed(rssRatio, 2)}×`,
        goal ? `≥ ${goal}× faster: ${speedup >= goal ? 'met' : 'not met'}; ` + `RSS ≤ 3×: ${rssRatio <= 3 ? 'met' : 'not met'}` : `RSS ≤ 3×: ${rssRatio <= 3 ? 'met' : 'not met'}`,
        BASELINE[s.id] ?? '',
      ]);
      const round2 = (n: number): number => Number(n.toFixed(2));
      jsonScenarios[`${s.id}${pdTool === 'pd-cold' ? '_cold' : ''}`] = {
        r2e_wall_s: round2(r.r2eWall),
        pd_wall_s: round2(r.pdWall),
        speedup: round2(speedup),
        r2e_cpu_s: round2(r.r2eCpu),
        pd_cpu_s: round2(r.pdCpu),
        r2e_rss_mb: Math.round(r.r2eRss),
        pd_rss_mb: Math.round(r.pdRss),
        rss_ratio: Number(rssRatio.toFixed(2)),
      };
    }
  }

  out(`planet-digest vs rss2email (npm run bench:peer): ${reps} pair${reps === 1 ? '' : 's'} of runs, A B A B…, medians; every run a process under /usr/bin/time -v`);
  out(`machine: ${formatMachine(machine)}; load average ${load0.map((l) => l.toFixed(1)).join(' ')} at start, ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at end`);
  out(
    `workload: peer-bench gen_feeds.py (220 feeds × 20 items, 1–2 KB HTML), http_server.py --mode nginx (ETag + Last-Modified on 200 and 304), smtp_sink.py (aiosmtpd), ` +
      `on 127.0.0.1, copied to a temporary PEERBENCH_DIR; one subscriber receiving all feeds`,
  );
  out(
    `rss2email ${readR2eVersion()}: digest = True (one digest per feed), email-protocol smtp. planet-digest: \`node ${LAUNCH_NODE_FLAGS.join(' ')} bin/planet-digest.js run\` (as \`npm start\` runs it) from dist/` +
      `${build.built ? ` (built for this run: ${build.reason})` : ''}${builds.length > 1 ? ` (src/ changed during the benchmark: rebuilt ${builds.length - 1} more time${builds.length > 2 ? 's' : ''} between runs)` : ''}` +
      `${excluded > 0 ? `; ${excluded} planet-digest run${excluded === 1 ? '' : 's'} that fell back to the TypeScript sources excluded` : ''}, one digest for the subscriber, firstPollEntries 20 and maxPerSource 20 (a first run sends every entry), ` +
      `SQLite store, fresh for each first run; the stock template was compiled by \`npm run build\` (dist/template-cache), so MJML is not loaded; "customised template": a copy with one comment added (DIGEST_TEMPLATES), which MJML compiles in that run. ` +
      `All 220 feeds are on one host here; planet-digest ran with DIGEST_FEED_PER_HOST=${perHost}${perHost === DEFAULT_PER_HOST ? ' (its default)' : ' (its default is 2)'} ` +
      `and DIGEST_FEED_CONCURRENCY=${FEED_CONCURRENCY}.`,
  );
  out();
  out(
    textTable(
      ['scenario', 'tool', 'wall s', 'CPU s', 'peak RSS MB', 'messages (exp.)', 'KB sent', 'entries (exp.)', 'dup/resent', 'HTTP 200/304', 'exit', 'wall samples s'],
      detailRows,
      new Set([2, 3, 4, 6]),
    ),
  );
  out();
  out(
    textTable(
      ['scenario', 'wall s r2e / pd', 'speedup', 'CPU s r2e / pd', 'CPU ratio', 'RSS MB r2e / pd', 'RSS pd/r2e', 'goal', 'issue baseline (r2e)'],
      compareRows,
    ),
  );
  out();
  const floor = floorRuns.filter((r) => r.exitStatus === 0);
  const r2eFirst = pick('a_first', 'r2e');
  let jsonFloor: Record<string, number> | undefined;
  if (floor.length > 0) {
    const wall = median(floor.map((r) => r.wallS));
    const rss = median(floor.map((r) => r.maxRssMb));
    const r2eWall = r2eFirst.length > 0 ? med(r2eFirst, (r) => r.run.wallS) : NaN;
    const r2eRss = r2eFirst.length > 0 ? med(r2eFirst, (r) => r.run.maxRssMb) : NaN;
    jsonFloor = { wall_s: Number(wall.toFixed(2)), cpu_s: Number(median(floor.map((r) => r.cpuS)).toFixed(2)), rss_mb: Math.round(rss), runs: floor.length };
    out();
    out(
      `Floor of a first run (bench/peer/fetch-parse-floor.mjs: the 220 feeds fetched ${perHost} at a time and parsed with rss-parser's defaults; ` +
        `no store, no rendering, no mail), median of ${floor.length}: ${fixed(wall, 2)} s wall, ${fixed(median(floor.map((r) => r.cpuS)), 2)} s CPU, ${fixed(rss)} MB peak RSS ` +
        `(samples ${floor.map((r) => fixed(r.wallS, 2)).join(' ')} s). Against rss2email's first run that alone is ${fixed(r2eWall / wall, 1)}× faster and ` +
        `${fixed(rss / r2eRss, 1)}× its RSS; the goals ask ≥ 10× (≤ ${fixed(r2eWall / 10, 2)} s) and ≤ 3× (≤ ${fixed(r2eRss * 3)} MB) for the whole run.`,
    );
  }
  if (floorRuns.length > floor.length) out(`${floorRuns.length - floor.length} floor run(s) failed (see their .err logs) and are left out.`);
  out('Entries are counted per entry key: (X-RSS-Feed, X-RSS-ID) for rss2email, the entry links in the text part for planet-digest. dup = repeated inside one run; resent = delivered by an earlier run of the same chain.');

  if (profiles.length > 0) {
    for (const p of profiles) {
      const profile = largestProfile(p.dir);
      if (!profile) continue;
      out();
      out(`CPU profile of planet-digest, ${p.scenario} (stock template): ${path.relative(ROOT, p.dir)}`);
      out(formatProfileSummary(profile, ROOT, 15).text);
    }
  }
  if (opts.keep) out(`\nlogs and spooled messages kept in ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
  if (opts.json) {
    out(
      JSON.stringify({
        machine: formatMachine(machine),
        load_average: load0.map((l) => Number(l.toFixed(2))),
        reps,
        per_host: perHost,
        built_dist: build.built,
        scenarios: jsonScenarios,
        ...(jsonFloor ? { first_run_floor: jsonFloor } : {}),
        rebuilds: builds.length - 1,
        runs: rows.map((r) => ({ from_source: r.fromSource, rep: r.rep, scenario: r.scenario, tool: r.tool, wall_s: r.run.wallS, cpu_s: Number(r.run.cpuS.toFixed(2)), rss_mb: Math.round(r.run.maxRssMb), messages: r.messages, bytes: r.bytes, entries: r.entries, dups: r.dupsWithin, resent: r.resent, exit: r.run.exitStatus })),
      }),
    );
  }
  return 0;
}

/** The first-run floor (see bench/peer/fetch-parse-floor.mjs), under the same launch flags as planet-digest. */
async function runFloor(urlsFile: string, logPrefix: string, env: NodeJS.ProcessEnv, rep: number): Promise<TimedRun> {
  const script = path.join(ROOT, 'bench', 'peer', 'fetch-parse-floor.mjs');
  const run = await timedRun([process.execPath, ...LAUNCH_NODE_FLAGS, script, urlsFile, String(perHost)], { cwd: ROOT, env: { ...env, NODE_OPTIONS: '' }, logPrefix });
  const report = readFileSync(run.stdoutFile, 'utf8').trim();
  log(`[rep ${rep}] a_first          floor   wall ${fixed(run.wallS, 2).padStart(6)} s  cpu ${fixed(run.cpuS, 2).padStart(6)} s  rss ${fixed(run.maxRssMb).padStart(4)} MB  ${report}  exit ${run.exitStatus}`);
  return run;
}

function readR2eVersion(): string {
  try {
    const status = readFileSync('/var/lib/dpkg/status', 'utf8');
    const m = /Package: rss2email\n(?:[^\n]+\n)*?Version: ([^\n]+)/.exec(status);
    return m ? m[1]! : '(version unknown)';
  } catch {
    return '(version unknown)';
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`peer-bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
