import type { Digest } from '../model/digest.js';
import type { Entry } from '../model/entry.js';
import { cleanText, MAX_NAME_LENGTH, MAX_SOURCE_TITLE_LENGTH, truncateText } from './clean-text.js';
import { createDateFormatter } from './create-date-formatter.js';
import { entryDateVariant, entryMemoOf, memoEntryDate, memoHttpLink, memoPiece, memoString, memoVariant } from './entry-memo.js';
import { memoHttpUrl } from './http-url.js';
import { escapeFeedHtml, escapeHtml } from './escape-html.js';
import { formatSubject } from './format-subject.js';
import { renderText, visibleEntries } from './render-text.js';
import type { LeadImage } from './sanitize-entry-html.js';
import { pluralizePosts, summarizeCounts } from './summarize-counts.js';
import { fillTemplate, RECIPIENT_PLACEHOLDER, shareBlockData, UNSUBSCRIBE_PLACEHOLDER, type BlockData, type CompiledTemplates } from './template-blocks.js';

/** A digest email before personalization: html and text still hold %%UNSUBSCRIBE_URL%% and %%RECIPIENT%%. */
export interface RenderedEmail {
  subject: string;
  preheader: string;
  html: string;
  text: string;
}

/** Options of renderEmail. */
export interface RenderEmailOptions {
  /** Subject pattern with {count} {sources} {title} {date} (settings.subject). */
  subjectPattern: string;
  /** BCP 47 locale for dates (default en-GB). */
  locale?: string;
  now: Date;
  /** Extra per-source cap on top of what the group stage applied; default: show every entry the group carries. */
  maxPerSource?: number;
  /**
   * Show each entry's first sizeable image (sanitized; http(s) or small data: only), picked by this function: pass
   * pickLeadImage (sanitize-entry-html.ts). Default none: remote images let feed authors see who opens the digest, and
   * they cost size budget. Passed in rather than imported, so digests without images never load sanitize-html
   * (~10 MB of memory).
   */
  leadImages?: (html: string, baseUrl: string) => LeadImage | undefined;
  /** Summaries are cut to this many characters (default 320). */
  summaryMaxChars?: number;
  /** Keep each entry's pieces for the cycle's other digests (default true; see entryMemoOf). */
  rememberEntries?: boolean;
}

/** Longest entry title shown (characters); a feed can put a whole article into a title. */
const MAX_TITLE = 300;

/** Feed text for HTML: one line, no control characters, escaped once, "%%" broken. */
function html(text: string | undefined): string {
  return escapeFeedHtml(cleanText(text ?? ''));
}

/**
 * Renders a digest into the compiled template by filling blocks with escaped values (no MJML at run
 * time), plus the plain-text part and the subject. Entry bodies are never inlined — only the
 * plain-text summary (and, with leadImages, one sanitized image) — which keeps a 10 × 5 digest far
 * under Gmail's 102 KB clipping limit. Pure; a few milliseconds for 50 entries.
 */
export function renderEmail(digest: Digest, templates: CompiledTemplates, options: RenderEmailOptions): RenderedEmail {
  const preheader = summarizeCounts(digest.entryCount, digest.sourceCount);
  const summaryMax = options.summaryMaxChars ?? 320;
  return {
    subject: formatSubject(options.subjectPattern, digest, { locale: options.locale, now: options.now }),
    preheader,
    html: fillTemplate(templates.email, buildEmailData(digest, options)),
    text: renderText(digest, {
      locale: options.locale,
      now: options.now,
      maxPerSource: options.maxPerSource,
      summaryMaxChars: summaryMax,
      rememberEntries: options.rememberEntries,
    }),
  };
}

/**
 * The escaped values and block instances for one digest (what renderEmail fills the template with).
 * Exported so tests can fill the MJML source with the same data and compare against a full MJML render.
 */
export function buildEmailData(digest: Digest, options: Omit<RenderEmailOptions, 'subjectPattern'>): BlockData {
  const dates = createDateFormatter(digest.timezone, { locale: options.locale, now: options.now });
  const summaryMax = options.summaryMaxChars ?? 320;
  const preheader = summarizeCounts(digest.entryCount, digest.sourceCount);
  const title = cleanText(digest.title) || 'Digest';
  // Variants for the entry memo (see entry-memo.ts): everything an entry's block depends on besides its own fields.
  const baseVariant = memoVariant(`html-base\0${summaryMax}\0${options.leadImages ? 1 : 0}`);
  const dateVariant = entryDateVariant(dates);
  const blockVariant = `html\0${dates.key}\0${summaryMax}\0${options.leadImages ? 1 : 0}`;
  const positions: number[] = [];
  const positionVariant = (j: number): number => (positions[j] ??= memoVariant(`${blockVariant}\0${j}`));

  const sources: BlockData[] = digest.groups.map((group, i) => {
    const anchor = `src-${i + 1}`;
    const sourceUrl = memoHttpUrl(group.link);
    const sourceHref = sourceUrl ? escapeFeedHtml(sourceUrl) : `#${anchor}`;
    const { entries, more } = visibleEntries(group, options.maxPerSource);
    const entryData: BlockData[] = entries.map((entry, j) => {
      const memo = entryMemoOf(entry, options.rememberEntries);
      const link = memoHttpLink(memo);
      // Without a usable link of its own, an entry links to (and resolves its lead image against) its source.
      const imageBase = link ?? sourceUrl ?? '';
      const own = link === undefined ? `\0${sourceHref}\0${imageBase}` : '';
      return memoPiece(memo, own ? memoVariant(`${blockVariant}\0${j}${own}`) : positionVariant(j), () => {
        const base = memoPiece(memo, own ? memoVariant(`html-base\0${summaryMax}\0${options.leadImages ? 1 : 0}${own}`) : baseVariant, () =>
          htmlEntryBase(entry, link, sourceHref, imageBase, summaryMax, options.leadImages),
        );
        return shareBlockData(entryBlockData(base, memoEntryDate(memo, dates, dateVariant), j));
      });
    });
    return {
      values: {
        // escapeFeedHtml(a || b) equals escapeFeedHtml(a) || escapeFeedHtml(b): only the title part is memoized.
        SOURCE_TITLE: memoString(sourceTitles, group.title, () => escapeFeedHtml(truncateText(cleanText(group.title), MAX_SOURCE_TITLE_LENGTH))) || escapeFeedHtml(group.feedId),
        SOURCE_URL: sourceHref,
        SOURCE_ANCHOR: anchor,
        SOURCE_COUNT: String(group.count),
        SOURCE_COUNT_LABEL: pluralizePosts(group.count),
        SOURCE_INDEX: String(i + 1),
      },
      blocks: {
        entry: entryData,
        more: more > 0 ? [{ values: { MORE_COUNT: String(more), MORE_LABEL: `and ${more} more` } }] : [],
      },
    };
  });

  return {
    values: {
      DIGEST_TITLE: escapeFeedHtml(title),
      PREHEADER: escapeHtml(preheader),
      SUMMARY_LINE: escapeHtml(preheader),
      PERIOD: escapeHtml(dates.period(digest.periodStart, digest.periodEnd)),
      PERIOD_START: escapeHtml(digest.periodStart ?? ''),
      PERIOD_END: escapeHtml(digest.periodEnd),
      TIMEZONE: escapeHtml(digest.timezone),
      DIGEST_ENTRY_COUNT: String(digest.entryCount),
      DIGEST_SOURCE_COUNT: String(digest.sourceCount),
    },
    blocks: {
      // A table of contents for a single source would only repeat its heading.
      toc: sources.length >= 2 ? [{ values: {}, blocks: { 'toc-item': sources } }] : [],
      source: sources,
      empty: sources.length === 0 ? [{ values: {} }] : [],
    },
  };
}

/** What an entry's block shows that does not depend on the time zone or its position (escaped for HTML). */
interface HtmlEntryBase {
  title: string;
  url: string;
  /** Author, cleaned and shortened, not escaped (joined with the date into ENTRY_META). */
  author: string;
  authorHtml: string;
  datetime: string;
  summary: string;
  image?: BlockData;
}

function htmlEntryBase(entry: Entry, link: string | undefined, fallbackHref: string, imageBase: string, summaryMax: number, leadImages: RenderEmailOptions['leadImages']): HtmlEntryBase {
  const image = leadImages && entry.contentHtml ? leadImages(entry.contentHtml, imageBase) : undefined;
  const author = truncateText(cleanText(entry.author ?? ''), MAX_NAME_LENGTH);
  return {
    title: escapeFeedHtml(truncateText(cleanText(entry.title), MAX_TITLE) || '(untitled)'),
    url: link ? escapeFeedHtml(link) : fallbackHref,
    author,
    authorHtml: escapeFeedHtml(author),
    datetime: escapeHtml(entry.published ?? entry.updated ?? ''),
    summary: escapeFeedHtml(truncateText(cleanText(entry.summary), summaryMax)),
    image: image ? { values: { IMAGE_URL: escapeFeedHtml(image.src), IMAGE_ALT: html(image.alt) } } : undefined,
  };
}

/** The escaped values of one entry's block (and its lead image, when enabled and found). */
function entryBlockData(base: HtmlEntryBase, date: string, j: number): BlockData {
  return {
    values: {
      ENTRY_TITLE: base.title,
      ENTRY_URL: base.url,
      ENTRY_AUTHOR: base.authorHtml,
      ENTRY_DATE: escapeHtml(date),
      ENTRY_DATETIME: base.datetime,
      ENTRY_META: escapeFeedHtml([base.author, date].filter((s) => s !== '').join(' · ')),
      ENTRY_SUMMARY: base.summary,
      ENTRY_INDEX: String(j + 1),
    },
    blocks: base.image ? { 'entry-image': [base.image] } : undefined,
  };
}

const sourceTitles = new Map<string, string>();

const PLACEHOLDERS = /%%(UNSUBSCRIBE_URL|RECIPIENT)%%/g;
const CONTROL = /\p{Cc}/gu;

/**
 * Fills the per-subscriber placeholders of a rendered digest: HTML-escaped in html, raw in text
 * (control characters removed). One pass, so a value that itself contains a placeholder stays literal.
 */
export function personalizeEmail(rendered: RenderedEmail, values: { unsubscribeUrl: string; recipient: string }): RenderedEmail {
  const raw: Record<string, string> = {
    UNSUBSCRIBE_URL: values.unsubscribeUrl.replace(CONTROL, ''),
    RECIPIENT: values.recipient.replace(CONTROL, ''),
  };
  const escaped: Record<string, string> = { UNSUBSCRIBE_URL: escapeHtml(raw.UNSUBSCRIBE_URL!), RECIPIENT: escapeHtml(raw.RECIPIENT!) };
  return {
    ...rendered,
    html: rendered.html.replace(PLACEHOLDERS, (_, name: string) => escaped[name]!),
    text: rendered.text.replace(PLACEHOLDERS, (_, name: string) => raw[name]!),
  };
}

/** The per-subscriber placeholder tokens personalizeEmail fills (re-exported for the dispatch layer). */
export { RECIPIENT_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER };
