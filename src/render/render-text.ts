import type { Digest, SourceGroup } from '../model/digest.js';
import type { Entry } from '../model/entry.js';
import { cleanText, MAX_NAME_LENGTH, MAX_SOURCE_TITLE_LENGTH, neutralizePlaceholders, truncateText } from './clean-text.js';
import { createDateFormatter } from './create-date-formatter.js';
import { entryDateVariant, entryMemoOf, memoEntryDate, memoHttpLink, memoPiece, memoString, memoVariant, type EntryMemo } from './entry-memo.js';
import { memoHttpUrl } from './http-url.js';
import { pluralizePosts, summarizeCounts } from './summarize-counts.js';
import { RECIPIENT_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER } from './template-blocks.js';
import { displayWidth, wrapText } from './wrap-text.js';

/** Options shared by the renderers. */
export interface RenderTextOptions {
  locale?: string;
  now: Date;
  /** Show at most this many entries per source (the rest are counted in "and N more"); default: all the group carries. */
  maxPerSource?: number;
  /** Wrap prose at this many columns (default 72, the classic plain-text mail width). */
  width?: number;
  /** Summaries are cut to this many characters (default 320). */
  summaryMaxChars?: number;
  /** Keep each entry's pieces for the cycle's other digests (default true; see entryMemoOf). */
  rememberEntries?: boolean;
}

/** Entries to show and how many more there are, honouring an optional extra per-source cap. */
export function visibleEntries(group: SourceGroup, maxPerSource: number | undefined): { entries: Entry[]; more: number } {
  if (maxPerSource === undefined || group.entries.length <= maxPerSource) return { entries: group.entries, more: group.more };
  return { entries: group.entries.slice(0, maxPerSource), more: group.more + group.entries.length - maxPerSource };
}

/** Plain text of a feed field: one line, no control characters, no "%%" that could look like a placeholder. */
function plain(text: string | undefined): string {
  return neutralizePlaceholders(cleanText(text ?? ''));
}

/** What an entry shows in the plain-text part that does not depend on the time zone. */
interface TextEntryBase {
  /** The title lines, joined. */
  title: string;
  author: string;
  /** What follows the meta lines: the link line, the wrapped summary after an empty line, the closing empty line. */
  rest: string;
}

function textEntryBase(entry: Entry, memo: EntryMemo, width: number, summaryMax: number): TextEntryBase {
  const entryTitle = truncateText(plain(entry.title), 300) || '(untitled)';
  const titleLines = wrapText(entryTitle, width, '  ');
  const lines = [`* ${titleLines[0]?.slice(2) ?? ''}`, ...titleLines.slice(1)];
  let rest = '';
  const link = memoHttpLink(memo);
  if (link) rest += `\n  ${plain(link)}`;
  const summary = truncateText(plain(entry.summary), summaryMax);
  if (summary) rest += `\n\n${wrapText(summary, width, '  ').join('\n')}`;
  return { title: lines.join('\n'), author: truncateText(plain(entry.author), MAX_NAME_LENGTH), rest: `${rest}\n` };
}

/** The lines of one entry in the plain-text part, joined, ending with an empty line. */
function entryText(base: TextEntryBase, date: string, width: number): string {
  const meta = [base.author, date].filter((s) => s !== '').join(' · ');
  return meta ? `${base.title}\n${wrapText(meta, width, '  ').join('\n')}${base.rest}` : `${base.title}${base.rest}`;
}

const sourceTitles = new Map<string, string>();

/** A source's title for the plain-text part (memoized: every digest showing the source repeats it). */
function sourceTitle(group: SourceGroup): string {
  return memoString(sourceTitles, group.title, () => truncateText(plain(group.title), MAX_SOURCE_TITLE_LENGTH)) || plain(group.feedId);
}

const headings = new Map<string, string>();
const wraps = new Map<string, string>();

/** Pushes wrapText's lines as one string (joined below anyway), remembered: digests of a cycle repeat source lines and footers. */
function pushWrapped(out: string[], text: string, width: number, indent: string): void {
  const lines = memoString(wraps, `${width}\0${indent}\0${text}`, () => wrapText(text, width, indent).join('\n'));
  // wrapText never returns an empty line, so '' means no lines at all.
  if (lines !== '') out.push(lines);
}

function heading(text: string, underline: string): string[] {
  return [text, underline.repeat(Math.max(3, Math.min(72, displayWidth(text))))];
}

/**
 * The plain-text part: reads well on its own (headings, bullets, URLs on their own lines, prose
 * wrapped at 72 columns). Feed text is used as is — no HTML entities. Contains %%RECIPIENT%% and
 * %%UNSUBSCRIBE_URL%% for personalizeEmail.
 */
export function renderText(digest: Digest, options: RenderTextOptions): string {
  const width = options.width ?? 72;
  const summaryMax = options.summaryMaxChars ?? 320;
  const dates = createDateFormatter(digest.timezone, { locale: options.locale, now: options.now });
  const title = plain(digest.title) || 'Digest';
  const variant = memoVariant(`text\0${dates.key}\0${width}\0${summaryMax}`);
  const baseVariant = memoVariant(`text-base\0${width}\0${summaryMax}`);
  const dateVariant = entryDateVariant(dates);
  const out: string[] = [];
  out.push(...heading(title, '='));
  out.push(summarizeCounts(digest.entryCount, digest.sourceCount));
  const period = dates.period(digest.periodStart, digest.periodEnd);
  if (period) out.push(period);
  out.push('');

  if (digest.groups.length >= 2) {
    out.push('In this digest:');
    for (const g of digest.groups) pushWrapped(out, `- ${sourceTitle(g)} (${g.count})`, width, '  ');
    out.push('');
  }
  if (digest.groups.length === 0) out.push('No new posts in this period.', '');

  for (const group of digest.groups) {
    const sourceUrl = memoHttpUrl(group.link);
    out.push(memoString(headings, `${sourceTitle(group)} (${pluralizePosts(group.count)})`, (text) => heading(text, '-').join('\n')));
    if (sourceUrl) out.push(plain(sourceUrl));
    out.push('');
    const { entries, more } = visibleEntries(group, options.maxPerSource);
    for (const entry of entries) {
      // An entry's lines depend only on its fields and the variants (see entry-memo.ts); joined here, then once more below.
      const memo = entryMemoOf(entry, options.rememberEntries);
      out.push(
        memoPiece(memo, variant, () =>
          entryText(
            memoPiece(memo, baseVariant, () => textEntryBase(entry, memo, width, summaryMax)),
            memoEntryDate(memo, dates, dateVariant),
            width,
          ),
        ),
      );
    }
    if (more > 0) {
      out.push(`  … and ${more} more${sourceUrl ? ':' : ''}`);
      if (sourceUrl) out.push(`  ${plain(sourceUrl)}`);
      out.push('');
    }
  }

  // "-- " (with the space) is the standard signature separator (RFC 3676 §4.3): readers fold what follows.
  out.push('-- ');
  pushWrapped(out, `You receive this digest because ${RECIPIENT_PLACEHOLDER} is subscribed to ${title}. Dates are shown in ${plain(digest.timezone)}.`, width, '');
  out.push(`Unsubscribe: ${UNSUBSCRIBE_PLACEHOLDER}`);
  return out.join('\n') + '\n';
}
