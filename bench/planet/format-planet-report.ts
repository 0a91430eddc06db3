/** Tables and the JSON summary of planet-bench results (medians over runs). */
import { median } from '../lib/stats.js';
import { fixed, textTable } from '../lib/text-table.js';
import type { PhaseName } from './phase-rss-tracker.js';
import type { CycleResult, PlanetBenchResult } from './planet-run.js';

const PHASES: PhaseName[] = ['fetch', 'parse', 'store', 'select', 'render', 'compose', 'send'];
const DELIVER: PhaseName[] = ['select', 'render', 'compose', 'send'];
const MB = 2 ** 20;

/** Medians of one cycle number over the runs. */
export interface CycleSummary {
  cycle: 1 | 2;
  runs: number;
  wallMs: number;
  cpuMs: number;
  phasesMs: Record<PhaseName, number>;
  phasePeakMb: Record<PhaseName, number>;
  phaseCpuMs: Record<PhaseName, number>;
  heapUsedBeforeMb: number;
  externalBeforeMb: number;
  peakRssMb: number;
  rssBeforeMb: number;
  feedsOk: number;
  feedsNotModified: number;
  feedsFailed: number;
  changedFeeds: number;
  freshEntries: number;
  due: number;
  sent: number;
  emailSent: number;
  slackSent: number;
  rendered: number;
  empty: number;
  failed: number;
  smtpBytes: number;
  smtpConnections: number;
  wireBytes: number;
  bodyBytes: number;
  requests: number;
  /** Samples of the wall time, in run order (to show the spread). */
  wallSamples: number[];
}

const med = (xs: number[]): number => median(xs);

/** Medians per cycle number. */
export function summarizeCycles(cycles: CycleResult[]): CycleSummary[] {
  const out: CycleSummary[] = [];
  for (const n of [1, 2] as const) {
    const cs = cycles.filter((c) => c.cycle === n);
    if (cs.length === 0) continue;
    const pick = (f: (c: CycleResult) => number): number => med(cs.map(f));
    const phasesMs = Object.fromEntries(PHASES.map((p) => [p, pick((c) => c.report.phasesMs[p])])) as Record<PhaseName, number>;
    const phasePeakMb = Object.fromEntries(PHASES.map((p) => [p, pick((c) => c.peaks.phases[p] / MB)])) as Record<PhaseName, number>;
    const phaseCpuMs = Object.fromEntries(PHASES.map((p) => [p, pick((c) => c.peaks.cpuMs[p])])) as Record<PhaseName, number>;
    out.push({
      cycle: n,
      phaseCpuMs,
      heapUsedBeforeMb: pick((c) => c.memoryBefore.heapUsed / MB),
      externalBeforeMb: pick((c) => c.memoryBefore.external / MB),
      runs: cs.length,
      wallMs: pick((c) => c.wallMs),
      cpuMs: pick((c) => c.cpuMs),
      phasesMs,
      phasePeakMb,
      peakRssMb: pick((c) => c.peaks.cycle / MB),
      rssBeforeMb: pick((c) => c.rssBeforeBytes / MB),
      feedsOk: pick((c) => c.report.feeds.ok),
      feedsNotModified: pick((c) => c.report.feeds.notModified),
      feedsFailed: pick((c) => c.report.feeds.failed),
      changedFeeds: pick((c) => c.changedFeeds),
      freshEntries: pick((c) => c.report.entries.fresh),
      due: pick((c) => c.report.digests.due),
      sent: pick((c) => c.report.digests.sent),
      emailSent: pick((c) => c.report.digests.byChannel.email.sent),
      slackSent: pick((c) => c.report.digests.byChannel.slack.sent),
      rendered: pick((c) => c.report.digests.rendered),
      empty: pick((c) => c.report.digests.empty),
      failed: pick((c) => c.report.digests.failed),
      smtpBytes: pick((c) => c.smtp.bytes),
      smtpConnections: pick((c) => c.smtp.connections),
      wireBytes: pick((c) => c.feedServer.wireBytes),
      bodyBytes: pick((c) => c.feedServer.bodyBytes),
      requests: pick((c) => c.feedServer.requests),
      wallSamples: cs.map((c) => c.wallMs),
    });
  }
  return out;
}

function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : NaN;
}

/** The phase table of one cycle. */
export function formatPhaseTable(s: CycleSummary): string {
  const total = PHASES.reduce((sum, p) => sum + s.phasesMs[p], 0);
  const throughput: Record<PhaseName, string> = {
    fetch: `${fixed(perSecond(s.requests, s.phasesMs.fetch))} feeds/s, ${fixed(perSecond(s.wireBytes / MB, s.phasesMs.fetch), 1)} MB/s on the wire`,
    parse: `${fixed(perSecond(s.feedsOk, s.phasesMs.parse))} feeds/s, ${fixed(perSecond(s.bodyBytes / MB, s.phasesMs.parse), 1)} MB/s of XML`,
    store: '',
    select: `${fixed(perSecond(s.due, s.phasesMs.select))} subscribers/s`,
    render: `${fixed(perSecond(s.rendered, s.phasesMs.render))} digests/s (${s.rendered} distinct)`,
    compose: `${fixed(perSecond(s.rendered, s.phasesMs.compose))} MIME bodies/s (once per distinct email digest)`,
    send: `${fixed(perSecond(s.sent, s.phasesMs.send))} messages/s (${s.sent} sent; wall time with sends in flight)`,
  };
  const rows = PHASES.map((p) => [p, fixed(s.phasesMs[p]), `${fixed((100 * s.phasesMs[p]) / s.wallMs, 1)}%`, fixed(s.phaseCpuMs[p]), throughput[p], fixed(s.phasePeakMb[p])]);
  const deliverCpu = DELIVER.reduce((sum, p) => sum + s.phaseCpuMs[p], 0);
  // Sends run while the next digests are selected, rendered and composed: those wall times overlap.
  rows.push(['deliver CPU', '', '', fixed(deliverCpu), 'select + render + compose + send (the split between them is approximate)', '']);
  if (s.wallMs >= total) rows.push(['(other)', fixed(s.wallMs - total), `${fixed((100 * (s.wallMs - total)) / s.wallMs, 1)}%`, '', 'locks, meta, pruning, gaps between phases', '']);
  else rows.push(['(overlap)', fixed(s.wallMs - total), '', '', 'send ran alongside select, render and compose', '']);
  rows.push(['cycle', fixed(s.wallMs), '100%', fixed(s.cpuMs), `${fixed(perSecond(s.sent, s.wallMs))} digests/s end to end`, fixed(s.peakRssMb)]);
  return textTable(['phase', 'wall ms', 'of cycle', 'CPU ms', 'throughput (wall)', 'peak RSS MB'], rows, new Set([1, 2, 3, 5]));
}

/** One line about what a cycle did. */
export function formatCycleFacts(s: CycleSummary): string {
  const sharing = s.rendered > 0 ? s.sent / s.rendered : NaN;
  return (
    `feeds: ${s.feedsOk} fetched+parsed, ${s.feedsNotModified} not modified (304), ${s.feedsFailed} failed${s.changedFeeds ? `; ${s.changedFeeds} feeds changed before this cycle` : ''}; ` +
    `${s.freshEntries} new entries; ${s.due} subscribers due → ${s.sent} digests sent (${s.emailSent} email, ${s.slackSent} Slack; ${s.empty} had nothing new), ` +
    `${s.rendered} distinct digests rendered (${fixed(sharing, 1)} subscribers per rendered digest); SMTP ${fixed(s.smtpBytes / MB, 1)} MB (${fixed(s.emailSent > 0 ? s.smtpBytes / s.emailSent / 1024 : NaN)} KB per email) over ${s.smtpConnections} connections; ` +
    `before the cycle (after a full GC): RSS ${fixed(s.rssBeforeMb)} MB, V8 heap used ${fixed(s.heapUsedBeforeMb)} MB, external ${fixed(s.externalBeforeMb)} MB; wall samples ${s.wallSamples.map((w) => fixed(w / 1000, 2)).join(', ')} s`
  );
}

/** The goals of issue 7 next to the figures (printed, never enforced). */
export function formatGoals(c1: CycleSummary, feeds: number, emailSubscribers: number): string {
  const renderRate = perSecond(c1.rendered, c1.phasesMs.render);
  const sendRate = perSecond(c1.emailSent + c1.slackSent, c1.phasesMs.send);
  const rows: string[][] = [
    [`full cycle, ${feeds} feeds → ${c1.sent} digests`, `${fixed(c1.wallMs / 1000, 1)} s`, feeds === 500 && emailSubscribers === 10_000 ? '< 60 s' : '(goal is for 500 → 10,000)', c1.wallMs < 60_000 ? 'met' : 'not met'],
    ['rendering', `${fixed(renderRate)} digests/s`, '> 1,000 digests/s', renderRate > 1000 ? 'met' : 'not met'],
    ['sending to the local sinks (pooled)', `${fixed(sendRate)} messages/s`, '> 500 messages/s', sendRate > 500 ? 'met' : 'not met'],
    ['peak RSS of the cycle', `${fixed(c1.peakRssMb)} MB`, '< 400 MB', c1.peakRssMb < 400 ? 'met' : 'not met'],
  ];
  return textTable(['goal (cycle 1)', 'measured', 'goal', ''], rows);
}

/** The JSON summary printed as the last line with --json. */
export function planetJson(result: PlanetBenchResult, summaries: CycleSummary[], extra: Record<string, unknown>): Record<string, unknown> {
  const flat = (s: CycleSummary | undefined): Record<string, number> | undefined =>
    s && {
      cycle_ms: Math.round(s.wallMs),
      cpu_ms: Math.round(s.cpuMs),
      fetch_ms: Math.round(s.phasesMs.fetch),
      parse_ms: Math.round(s.phasesMs.parse),
      store_ms: Math.round(s.phasesMs.store),
      select_ms: Math.round(s.phasesMs.select),
      render_ms: Math.round(s.phasesMs.render),
      compose_ms: Math.round(s.phasesMs.compose),
      send_ms: Math.round(s.phasesMs.send),
      new_entries: s.freshEntries,
      digests: s.sent,
      email_digests: s.emailSent,
      slack_digests: s.slackSent,
      digests_rendered: s.rendered,
      digests_empty: s.empty,
      digests_failed: s.failed,
      digests_per_s: Math.round(perSecond(s.sent, s.wallMs)),
      render_per_s: Math.round(perSecond(s.rendered, s.phasesMs.render)),
      send_per_s: Math.round(perSecond(s.sent, s.phasesMs.send)),
      peak_rss_mb: Math.round(s.peakRssMb),
      rss_before_mb: Math.round(s.rssBeforeMb),
      ...Object.fromEntries(PHASES.map((p) => [`${p}_cpu_ms`, Math.round(s.phaseCpuMs[p])])),
      ...Object.fromEntries(PHASES.map((p) => [`${p}_peak_rss_mb`, Math.round(s.phasePeakMb[p])])),
    };
  const c1 = summaries.find((s) => s.cycle === 1);
  const c2 = summaries.find((s) => s.cycle === 2);
  const o = result.options;
  return {
    feeds: o.feeds,
    subscribers: o.emailSubscribers + o.slackSubscribers,
    email_subscribers: o.emailSubscribers,
    slack_subscribers: o.slackSubscribers,
    runs: o.runs,
    entries_per_feed: o.entries,
    first_poll_entries: o.firstPollEntries,
    distinct_selections: result.config.distinctSelections,
    config_load_ms: Math.round(result.config.loadMs),
    ...flat(c1),
    cycle2: flat(c2),
    process_max_rss_mb: Math.round(result.processMaxRssBytes / MB),
    ...extra,
  };
}
