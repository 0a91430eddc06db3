import path from 'node:path';
import type { RunReport } from '../pipeline/run-report.js';

/** The human summary of one cycle, printed by `run` (the daemon logs the one-line form). */
export function formatSummary(report: RunReport, options: { cwd: string; outboxDir?: string; maxFiles?: number }): string {
  const f = report.feeds;
  const d = report.digests;
  const lines: string[] = [];
  const polled = f.total - f.skipped;
  lines.push(
    `${report.dryRun ? 'Dry run: ' : ''}${polled} feed${polled === 1 ? '' : 's'} polled (${f.ok} updated, ${f.notModified} not modified, ${f.failed} failed${f.gone ? `, ${f.gone} gone` : ''}${f.skipped ? `; ${f.skipped} not due yet` : ''}), ` +
      `${report.entries.fresh} new entr${report.entries.fresh === 1 ? 'y' : 'ies'}` +
      (report.entries.backlog
        ? ` (${report.entries.backlog} older entr${report.entries.backlog === 1 ? 'y' : 'ies'} of newly added feeds ${report.dryRun ? 'would be' : ''} marked as seen)`.replace('  ', ' ')
        : '') +
      `, in ${(report.durationMs / 1000).toFixed(1)} s.`,
  );
  // .eml per email and .json per Slack digest: when every digest went to the outbox, say "written", else "sent".
  const outboxDigests = report.outboxFiles.filter((f) => f.endsWith('.eml') || f.endsWith('.json')).length;
  const verb = report.dryRun ? 'rendered (not sent)' : outboxDigests > 0 && outboxDigests === d.sent ? 'written' : 'sent';
  if (d.sent > 0) {
    lines.push(`${d.sent} digest${d.sent === 1 ? '' : 's'} ${verb}: ${d.byChannel.email.sent} email, ${d.byChannel.slack.sent} Slack.`);
  } else if (d.failed === 0) {
    lines.push(d.due === 0 ? 'No subscriber is due now; nothing sent.' : 'Nothing new for any subscriber; no digest written.');
  }
  if (d.empty > 0 && d.sent > 0) lines.push(`${d.empty} subscriber${d.empty === 1 ? ' had' : 's had'} nothing new in their selection.`);
  if (d.paused > 0) lines.push(`${d.paused} paused subscriber${d.paused === 1 ? '' : 's'} skipped (their place is kept).`);
  for (const failure of d.failures) {
    lines.push(`FAILED ${failure.channel} digest for ${failure.subscriberId}: ${failure.message}${failure.permanent ? '' : ` (${failure.entries} entries kept for the next cycle)`}`);
  }
  if (d.bouncing.length > 0) lines.push(`Bouncing, no longer sent to: ${[...new Set(d.bouncing)].join(', ')} (fix the address in subscribers.json to retry).`);
  for (const failure of f.failures) {
    lines.push(`feed ${failure.feedId}: ${failure.message}${failure.nextPollAt ? ` (retry after ${failure.nextPollAt})` : ''}`);
  }
  for (const moved of f.moved) lines.push(`feed ${moved.feedId} moved permanently to ${moved.to}: update its url in subscribers.json.`);
  for (const long of f.longFailing) lines.push(`feed ${long.feedId} has been failing since ${long.since}.`);
  if (report.outboxFiles.length > 0) {
    const max = options.maxFiles ?? 12;
    const where = options.outboxDir ? path.relative(options.cwd, path.resolve(options.outboxDir)) || '.' : undefined;
    lines.push(`Written to ${where ? `./${where.replace(/^\.\//, '')}` : 'the outbox'}:`);
    for (const file of report.outboxFiles.slice(0, max)) lines.push(`  ${path.relative(options.cwd, file)}`);
    if (report.outboxFiles.length > max) lines.push(`  … and ${report.outboxFiles.length - max} more`);
    if (report.outboxFiles.some((f) => f.endsWith('.html'))) lines.push('Open a .html file in a browser to see the digest as the reader will.');
  }
  return lines.join('\n');
}

/** The one-line form for logs. */
export function summaryFields(report: RunReport): Record<string, unknown> {
  return {
    feedsOk: report.feeds.ok,
    feedsNotModified: report.feeds.notModified,
    feedsFailed: report.feeds.failed,
    feedsSkipped: report.feeds.skipped,
    newEntries: report.entries.fresh,
    digestsSent: report.digests.sent,
    digestsFailed: report.digests.failed,
    durationMs: report.durationMs,
    // Where the cycle's time went, for admins tuning concurrency; send overlaps select, render and compose.
    phasesMs: Object.fromEntries(Object.entries(report.phasesMs).map(([phase, ms]) => [phase, Math.round(ms)])),
  };
}
