/**
 * Slack Block Kit rendering of a digest.
 *
 * Split policy (the dispatch layer relies on it): renderSlack returns messages in posting order.
 * messages[0] is the top-level post (header, counts, period); every later message is meant to be
 * posted as a reply in that post's thread (chat.postMessage with thread_ts = ts of messages[0]).
 * When there is more than one message, the first says "part 1 of N — continued in the thread" and every
 * follow-up starts with "(part k of N)". Each message respects Slack's limits: at most 50 blocks, section
 * text at most 3000 characters (a big source is split over several sections, "(continued)"), header at
 * most 150 characters, fallback text at most 4000. Nothing is dropped silently: if a digest would need
 * more than `maxMessages` messages, the last one ends with a section saying how many entries and
 * sources were left out.
 */
import type { Digest } from '../model/digest.js';
import type { Entry } from '../model/entry.js';
import { cleanText, MAX_NAME_LENGTH, MAX_SOURCE_TITLE_LENGTH, truncateText } from './clean-text.js';
import { createDateFormatter } from './create-date-formatter.js';
import { entryDateVariant, entryMemoOf, memoEntryDate, memoHttpLink, memoPiece, memoVariant, type EntryMemo } from './entry-memo.js';
import { memoHttpUrl } from './http-url.js';
import { escapeSlackMrkdwn, escapeSlackPlain, escapeSlackUrl, slackLink } from './escape-slack.js';
import { visibleEntries } from './render-text.js';
import { pluralizePosts, summarizeCounts } from './summarize-counts.js';

/** Slack's documented limits for chat.postMessage with blocks. */
export const SLACK_LIMITS = { blocks: 50, sectionChars: 3000, headerChars: 150, fallbackChars: 4000 } as const;

/** A mrkdwn text object; verbatim stops Slack from auto-linking names and parsing mentions in feed text. */
export interface SlackMrkdwn {
  type: 'mrkdwn';
  text: string;
  verbatim: true;
}

/** The Block Kit blocks renderSlack produces. */
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: true } }
  | { type: 'section'; text: SlackMrkdwn }
  | { type: 'context'; elements: SlackMrkdwn[] }
  | { type: 'divider' };

/** Arguments for one chat.postMessage (plus channel and, for replies, thread_ts). */
export interface SlackMessage {
  /** Fallback for notifications and screen readers. */
  text: string;
  blocks: SlackBlock[];
  unfurl_links: false;
  unfurl_media: false;
}

/** Options of renderSlack. */
export interface RenderSlackOptions {
  locale?: string;
  /** Decides whether dates show the year; default: the end of the digest's period. */
  now?: Date;
  /** Extra per-source cap on top of the group stage's; default: every entry the group carries. */
  maxPerSource?: number;
  /** Most messages for one digest (1 post + replies); default 10. */
  maxMessages?: number;
  /** Per-message limits; tests lower them to exercise splitting. Defaults: SLACK_LIMITS. */
  maxBlocks?: number;
  maxSectionChars?: number;
  /** Keep each entry's pieces for the cycle's other digests (default true; see entryMemoOf). */
  rememberEntries?: boolean;
}

const MAX_TITLE = 250;

function mrkdwn(text: string): SlackMrkdwn {
  return { type: 'mrkdwn', text, verbatim: true };
}

/** Escaped text that fits `max` characters after escaping (escaping can lengthen text). */
function fitEscaped(raw: string, max: number, escape: (s: string) => string): string {
  for (let budget = max; budget > 0; budget -= 10) {
    const text = escape(truncateText(raw, budget));
    if (text.length <= max) return text;
  }
  return '…';
}

/** One entry's mrkdwn line: linked title, then author and date; just the title when it would not fit `budget`. */
function entryLine(entry: Entry, memo: EntryMemo, date: string, sourceUrl: string | undefined, budget: number): string {
  const title = truncateText(cleanText(entry.title), MAX_TITLE) || '(untitled)';
  const meta = [truncateText(cleanText(entry.author ?? ''), MAX_NAME_LENGTH), date].filter((p) => p !== '').join(' · ');
  // A monstrous URL would eat the section budget: link such entries to their source instead.
  const url = (escapeSlackUrl(entry.link)?.length ?? 0) <= 1000 ? memoHttpLink(memo) : sourceUrl;
  const text = `• ${slackLink(url, title)}${meta ? `\n      _${escapeSlackMrkdwn(meta)}_` : ''}`;
  return text.length > budget ? `• ${escapeSlackMrkdwn(truncateText(title, 100))}` : text;
}

interface SectionUnit {
  kind: 'section';
  text: string;
  /** Entries listed in this section (for the "left out" notice). */
  entries: number;
  source: number;
}
type Unit = SectionUnit | { kind: 'divider' };

/** Renders a digest as one Slack post plus thread replies when it does not fit one message (see the split policy above). */
export function renderSlack(digest: Digest, options: RenderSlackOptions = {}): SlackMessage[] {
  const maxBlocks = Math.max(4, options.maxBlocks ?? SLACK_LIMITS.blocks);
  const maxSection = Math.min(SLACK_LIMITS.sectionChars, options.maxSectionChars ?? SLACK_LIMITS.sectionChars);
  const maxMessages = Math.max(1, options.maxMessages ?? 10);
  const now = options.now ?? new Date(digest.periodEnd);
  const dates = createDateFormatter(digest.timezone, { locale: options.locale, now });
  const rawTitle = cleanText(digest.title) || 'Digest';
  const summary = summarizeCounts(digest.entryCount, digest.sourceCount);
  const period = dates.period(digest.periodStart, digest.periodEnd);
  const dateVariant = entryDateVariant(dates);

  // 1. Every source becomes one or more sections (split at entry boundaries), with dividers between sources.
  const units: Unit[] = [];
  digest.groups.forEach((group, s) => {
    const sourceTitle = truncateText(cleanText(group.title), MAX_SOURCE_TITLE_LENGTH) || group.feedId;
    const sourceUrl = memoHttpUrl(group.link);
    const heading = `*${slackLink(sourceUrl, sourceTitle)}* · ${pluralizePosts(group.count)}`;
    const continued = `*${escapeSlackMrkdwn(sourceTitle)}* (continued)`;
    const { entries, more } = visibleEntries(group, options.maxPerSource);
    const budget = maxSection - continued.length - 2;
    // An entry's line depends only on its fields and these (see entry-memo.ts).
    const variant = memoVariant(`slack\0${dates.key}\0${budget}\0${sourceUrl ?? ''}`);
    const lines: Array<{ text: string; entries: number }> = entries.map((entry) => {
      const memo = entryMemoOf(entry, options.rememberEntries);
      return { text: memoPiece(memo, variant, () => entryLine(entry, memo, memoEntryDate(memo, dates, dateVariant), sourceUrl, budget)), entries: 1 };
    });
    if (more > 0) lines.push({ text: `… and ${more} more from ${slackLink(sourceUrl, sourceTitle)}`, entries: 0 });
    if (s > 0) units.push({ kind: 'divider' });
    let text = heading.length <= maxSection - 200 ? heading : continued;
    let count = 0;
    for (const line of lines) {
      if (text.length + 1 + line.text.length > maxSection) {
        units.push({ kind: 'section', text, entries: count, source: s });
        text = continued;
        count = 0;
      }
      text += `\n${line.text}`;
      count += line.entries;
    }
    units.push({ kind: 'section', text, entries: count, source: s });
  });
  if (digest.groups.length === 0) units.push({ kind: 'section', text: 'No new posts in this period.', entries: 0, source: -1 });

  // 2. Pack units into messages: the first has 2 prefix blocks (header, context), later ones 1 (context).
  const messages: Unit[][] = [[]];
  const capacity = (i: number) => maxBlocks - (i === 0 ? 2 : 1);
  for (const unit of units) {
    let current = messages[messages.length - 1]!;
    if (unit.kind === 'divider') {
      // A divider is worth a block only between two sections of the same message.
      if (current.length > 0 && current.length + 2 <= capacity(messages.length - 1)) current.push(unit);
      continue;
    }
    if (current.length + 1 > capacity(messages.length - 1)) {
      if (current[current.length - 1]?.kind === 'divider') current.pop();
      current = [];
      messages.push(current);
    }
    current.push(unit);
  }

  // 3. Never cut silently: beyond maxMessages, the last message ends with what was left out.
  if (messages.length > maxMessages) {
    const kept = messages.slice(0, maxMessages);
    const dropped = messages.slice(maxMessages).flat().filter((u): u is SectionUnit => u.kind === 'section');
    const last = kept[kept.length - 1]!;
    const cap = capacity(kept.length - 1);
    while (last.length >= cap) {
      const removed = last.pop()!;
      if (removed.kind === 'section') dropped.unshift(removed);
    }
    if (last[last.length - 1]?.kind === 'divider') last.pop();
    const leftEntries = dropped.reduce((n, u) => n + u.entries, 0);
    const leftSources = new Set(dropped.map((u) => u.source)).size;
    last.push({
      kind: 'section',
      text: `:warning: This digest was too long for Slack: ${leftEntries} more entr${leftEntries === 1 ? 'y' : 'ies'} from ${leftSources} source${leftSources === 1 ? '' : 's'} are not shown.`,
      entries: 0,
      source: -1,
    });
    messages.length = 0;
    messages.push(...kept);
  }

  // 4. Prefix blocks and fallback texts, now that the number of parts is known.
  const total = messages.length;
  const headerText = fitEscaped(rawTitle, SLACK_LIMITS.headerChars, escapeSlackPlain);
  return messages.map((body, i) => {
    const part = total > 1 ? `part ${i + 1} of ${total}` : '';
    const blocks: SlackBlock[] = [];
    let fallback: string;
    if (i === 0) {
      blocks.push({ type: 'header', text: { type: 'plain_text', text: headerText, emoji: true } });
      const context = [summary, period, part ? `${part}, continued in the thread` : ''].filter((p) => p !== '').join(' · ');
      blocks.push({ type: 'context', elements: [mrkdwn(escapeSlackPlain(context))] });
      fallback = `${fitEscaped(rawTitle, 1000, escapeSlackPlain)}: ${escapeSlackPlain(summary)}${part ? ` (${part})` : ''}`;
    } else {
      blocks.push({ type: 'context', elements: [mrkdwn(`*${fitEscaped(rawTitle, 1000, escapeSlackMrkdwn)}* (${part})`)] });
      fallback = `${fitEscaped(rawTitle, 1000, escapeSlackPlain)} (${part})`;
    }
    for (const unit of body) blocks.push(unit.kind === 'divider' ? { type: 'divider' } : { type: 'section', text: mrkdwn(unit.text) });
    return { text: fallback.slice(0, SLACK_LIMITS.fallbackChars), blocks, unfurl_links: false, unfurl_media: false };
  });
}
