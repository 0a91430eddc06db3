import type { Digest } from '../model/digest.js';
import { cleanText, truncateText } from './clean-text.js';
import { createDateFormatter } from './create-date-formatter.js';
import { memoString } from './entry-memo.js';

/** Longest subject we produce (characters); longer ones are cut at a word boundary with "…". */
export const MAX_SUBJECT_LENGTH = 150;

/** Options of formatSubject. */
export interface FormatSubjectOptions {
  locale?: string;
  now: Date;
}

const cleanTitles = new Map<string, string>();

/** "A, B, C +2 more": the first three source titles. */
function describeSources(digest: Digest): string {
  // Only the first three non-empty titles are shown: clean no more than needed (every digest of a cycle repeats them).
  const titles: string[] = [];
  for (const g of digest.groups) {
    if (titles.length === 3) break;
    const title = memoString(cleanTitles, g.title, () => cleanText(g.title));
    if (title !== '') titles.push(title);
  }
  const shown = titles.join(', ');
  const rest = digest.groups.length - Math.min(3, digest.groups.length);
  return rest > 0 ? `${shown} +${rest} more` : shown;
}

/**
 * Fills a subject pattern: {count} new entries, {sources} (first 3 source titles, "+N more"), {title},
 * {date} (end of the period, subscriber's zone). Unknown {names} stay as written. The result has no
 * CR/LF or control characters (RFC 5322 header safety), collapsed whitespace, and at most 150 characters.
 */
export function formatSubject(pattern: string, digest: Digest, options: FormatSubjectOptions): string {
  const dates = createDateFormatter(digest.timezone, { locale: options.locale, now: options.now });
  const values: Record<string, () => string> = {
    count: () => String(digest.entryCount),
    sources: () => describeSources(digest),
    title: () => digest.title,
    date: () => dates.day(digest.periodEnd),
  };
  // "1 new posts" reads wrong: with one entry, the plural noun right after {count} becomes singular.
  const agreed = digest.entryCount === 1 ? pattern.replace(/(\{count\}\s+(?:new\s+)?)(post|entrie|article|item|storie|update)s\b/gi, (_, lead: string, noun: string) => lead + singular(noun)) : pattern;
  // One pass: a value containing "{count}" is not expanded again.
  const filled = agreed.replace(/\{(count|sources|title|date)\}/g, (_, name: string) => values[name]!());
  return truncateText(cleanText(filled), MAX_SUBJECT_LENGTH);
}

function singular(stem: string): string {
  if (/^entrie$/i.test(stem)) return stem.slice(0, -2) + (stem === stem.toUpperCase() ? 'Y' : 'y');
  if (/^storie$/i.test(stem)) return stem.slice(0, -2) + (stem === stem.toUpperCase() ? 'Y' : 'y');
  return stem;
}
