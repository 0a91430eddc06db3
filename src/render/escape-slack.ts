/**
 * Escaping feed text for Slack (https://docs.slack.dev/messaging/formatting-message-text/#escaping).
 *
 * - &, <, > become &amp; &lt; &gt; in every text object. This alone defuses every bracketed control
 *   sequence a feed could smuggle in: <!channel>, <!here>, <!everyone>, <@U123>, <#C123>,
 *   <!subteam^S123>, <!date…>, <https://evil|innocent text>.
 * - Bare @channel / @here / @everyone get a WORD JOINER (U+2060, invisible) after the "@", so neither
 *   Slack's mention parsing nor a reader's copy-paste turns them into a notification. (Our mrkdwn text
 *   objects also set verbatim: true, which stops Slack from auto-parsing mentions and channel names.)
 * - mrkdwn has no escape character, so the formatting characters * _ ~ ` in feed text are replaced by
 *   look-alikes that Slack does not interpret: ∗ (U+2217), ˍ (U+02CD), ∼ (U+223C), ˋ (U+02CB). A title
 *   like "Using *args and __init__" then shows as written instead of turning bold/italic half-way.
 *   Only feed text is changed; our own formatting (bold source names) uses the real characters.
 * - Control characters and line breaks are turned into spaces (a title is one line).
 */

const CONTROL = /[\p{Cc}\u2028\u2029]/gu;
const BARE_MENTION = /(?<![\p{L}\p{N}_])@(channel|here|everyone)(?![\p{L}\p{N}_])/giu;
const MRKDWN: Record<string, string> = { '*': '\u2217', _: '\u02CD', '~': '\u223C', '`': '\u02CB' };

/** Escapes &, < and > as Slack requires in text objects. */
export function escapeSlackControl(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Makes bare @channel/@here/@everyone inert by putting U+2060 WORD JOINER after the "@". */
export function neutralizeMentions(text: string): string {
  return text.replace(BARE_MENTION, '@\u2060$1');
}

/** Feed text for a plain_text object: one line, escaped, mentions neutralized. */
export function escapeSlackPlain(text: string): string {
  return neutralizeMentions(escapeSlackControl(text.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim()));
}

/** Feed text for a mrkdwn object: escapeSlackPlain plus look-alikes for * _ ~ ` (see above). */
export function escapeSlackMrkdwn(text: string): string {
  return escapeSlackPlain(text).replace(/[*_~`]/g, (c) => MRKDWN[c] ?? c);
}

/**
 * An http(s)/mailto URL made safe inside <url|text>: characters that would end the URL part or the
 * link ("|", "<", ">", spaces, quotes) are percent-encoded and "&" is escaped. Other schemes → undefined.
 */
export function escapeSlackUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let href: string;
  try {
    const parsed = new URL(url.trim());
    if (!['http:', 'https:', 'mailto:'].includes(parsed.protocol)) return undefined;
    href = parsed.href;
  } catch {
    return undefined;
  }
  return href
    .replace(/[|<>"`\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    .replace(/&/g, '&amp;');
}

/**
 * A mrkdwn link `<url|text>` with escaped text (and "|" in the text replaced by "∣", U+2223, so it
 * cannot end the link text early). Without a usable URL, just the escaped text.
 */
export function slackLink(url: string | undefined, text: string): string {
  const label = escapeSlackMrkdwn(text).replace(/\|/g, '\u2223');
  const href = escapeSlackUrl(url);
  return href ? `<${href}|${label}>` : label;
}
