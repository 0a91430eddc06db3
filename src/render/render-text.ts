import type { Digest, SourceGroup } from '../model/digest.js';
import type { Entry } from '../model/entry.js';
import { cleanText, MAX_NAME_LENGTH, MAX_SOURCE_TITLE_LENGTH, neutralizePlaceholders, truncateText } from './clean-text.js';
import { createDateFormatter } from './create-date-formatter.js';
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

/** An http(s) URL from a feed, or undefined. */
export function httpUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
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
  const out: string[] = [];
  out.push(...heading(title, '='));
  out.push(summarizeCounts(digest.entryCount, digest.sourceCount));
  const period = dates.period(digest.periodStart, digest.periodEnd);
  if (period) out.push(period);
  out.push('');

  if (digest.groups.length >= 2) {
    out.push('In this digest:');
    for (const g of digest.groups) out.push(...wrapText(`- ${truncateText(plain(g.title), MAX_SOURCE_TITLE_LENGTH) || plain(g.feedId)} (${g.count})`, width, '  '));
    out.push('');
  }
  if (digest.groups.length === 0) out.push('No new posts in this period.', '');

  for (const group of digest.groups) {
    const sourceUrl = httpUrl(group.link);
    out.push(...heading(`${truncateText(plain(group.title), MAX_SOURCE_TITLE_LENGTH) || plain(group.feedId)} (${pluralizePosts(group.count)})`, '-'));
    if (sourceUrl) out.push(plain(sourceUrl));
    out.push('');
    const { entries, more } = visibleEntries(group, options.maxPerSource);
    for (const entry of entries) {
      const entryTitle = truncateText(plain(entry.title), 300) || '(untitled)';
      const titleLines = wrapText(entryTitle, width, '  ');
      out.push(`* ${titleLines[0]?.slice(2) ?? ''}`, ...titleLines.slice(1));
      const meta = [truncateText(plain(entry.author), MAX_NAME_LENGTH), dates.entry(entry.published ?? entry.updated)].filter((s) => s !== '').join(' · ');
      if (meta) out.push(...wrapText(meta, width, '  '));
      const link = httpUrl(entry.link);
      if (link) out.push(`  ${plain(link)}`);
      const summary = truncateText(plain(entry.summary), summaryMax);
      if (summary) out.push('', ...wrapText(summary, width, '  '));
      out.push('');
    }
    if (more > 0) {
      out.push(`  … and ${more} more${sourceUrl ? ':' : ''}`);
      if (sourceUrl) out.push(`  ${plain(sourceUrl)}`);
      out.push('');
    }
  }

  // "-- " (with the space) is the standard signature separator (RFC 3676 §4.3): readers fold what follows.
  out.push('-- ');
  out.push(...wrapText(`You receive this digest because ${RECIPIENT_PLACEHOLDER} is subscribed to ${title}. Dates are shown in ${plain(digest.timezone)}.`, width));
  out.push(`Unsubscribe: ${UNSUBSCRIBE_PLACEHOLDER}`);
  return out.join('\n') + '\n';
}
