import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/model/digest.js';
import { renderSlack, SLACK_LIMITS, type SlackBlock, type SlackMessage } from '../../src/render/render-slack.js';
import { buildSampleDigest, SAMPLE_NOW, shownEntries, SPECIAL_TITLES } from '../fixtures/render/sample-digest.js';

function sections(messages: SlackMessage[]): string[] {
  return messages.flatMap((m) => m.blocks).flatMap((b) => (b.type === 'section' ? [b.text.text] : []));
}

function allText(messages: SlackMessage[]): string {
  const texts = (b: SlackBlock): string[] =>
    b.type === 'section' ? [b.text.text] : b.type === 'context' ? b.elements.map((e) => e.text) : b.type === 'header' ? [b.text.text] : [];
  return messages.flatMap((m) => [m.text, ...m.blocks.flatMap(texts)]).join('\n');
}

/** Checks every Slack limit on every message. */
function expectWithinLimits(messages: SlackMessage[]): void {
  for (const m of messages) {
    expect(m.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(m.text.length).toBeGreaterThan(0);
    expect(m.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackChars);
    expect(m.unfurl_links).toBe(false);
    expect(m.unfurl_media).toBe(false);
    for (const b of m.blocks) {
      if (b.type === 'section') expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionChars);
      if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerChars);
    }
    // No empty sections, no divider first or last.
    expect(m.blocks[m.blocks.length - 1]?.type).not.toBe('divider');
  }
}

/** Every entry link appears exactly once across all messages. */
function expectEveryEntryOnce(digest: Digest, messages: SlackMessage[]): void {
  const text = sections(messages).join('\n');
  for (const entry of shownEntries(digest)) {
    const occurrences = text.split(`<${entry.link!}|`).length - 1;
    expect(occurrences, entry.link).toBe(1);
  }
}

describe('renderSlack on the small sample', () => {
  const digest = buildSampleDigest();
  const messages = renderSlack(digest, { now: SAMPLE_NOW });

  it('is one message: header, counts, one section per source with dividers between', () => {
    expect(messages).toHaveLength(1);
    const types = messages[0]!.blocks.map((b) => b.type);
    expect(types).toEqual(['header', 'context', 'section', 'divider', 'section', 'divider', 'section', 'divider', 'section', 'divider', 'section']);
    expect(messages[0]!.text).toBe('Planet Python digest: 12 new posts from 5 sources');
    expectWithinLimits(messages);
    expectEveryEntryOnce(digest, messages);
  });

  it('links each source title and lists entries as bullets with author and date', () => {
    const first = sections(messages)[0]!;
    expect(first.startsWith('*<https://pythoninsider.blogspot.com/|Python Insider>* · 3 new posts\n• <https://pythoninsider.blogspot.com/')).toBe(true);
    expect(first).toContain('_Hugo van Kemenade · 13 May, 06:30_');
  });

  it('says "and N more" for a source beyond its maximum', () => {
    expect(sections(messages)[1]).toContain('… and 1 more from <https://realpython.com/|Real Python>');
  });

  it('escapes feed text and neutralizes mentions and formatting characters', () => {
    const text = allText(messages);
    expect(text).toContain('AT&amp;T &lt;script&gt;alert(1)&lt;/script&gt; &amp; "quotes"');
    expect(text).toContain('Why &amp;amp; shows up in your HTML');
    expect(text).toContain('Heads up &lt;!channel&gt; and @\u2060here: &lt;@U123ABC&gt; moved to &lt;#C0123ABCD&gt;');
    expect(text).toContain('Using ∗args, ˍprivate names, ∼tilde∼ and ˋcodeˋ in titles');
    expect(text).not.toMatch(/<[!@#]/);
  });

  it('keeps RTL, CJK and emoji text intact', () => {
    const text = allText(messages);
    for (const t of [SPECIAL_TITLES.russian, SPECIAL_TITLES.urdu, SPECIAL_TITLES.chinese, SPECIAL_TITLES.emoji]) expect(text).toContain(t);
  });

  it('uses verbatim mrkdwn so Slack does not auto-parse mentions or channel names', () => {
    for (const b of messages[0]!.blocks) {
      if (b.type === 'section') expect(b.text.verbatim).toBe(true);
    }
  });
});

describe('renderSlack with 200 entries', () => {
  it('splits 40 sources × 5 entries into a post and thread replies within every limit', () => {
    const digest = buildSampleDigest({ sources: 40, entriesPerSource: 5, withoutContent: true });
    const messages = renderSlack(digest, { now: SAMPLE_NOW });
    expect(shownEntries(digest)).toHaveLength(200);
    expect(messages.length).toBeGreaterThan(1);
    expectWithinLimits(messages);
    expectEveryEntryOnce(digest, messages);
    const n = messages.length;
    expect(messages[0]!.blocks[0]!.type).toBe('header');
    expect(JSON.stringify(messages[0]!.blocks[1])).toContain(`part 1 of ${n}, continued in the thread`);
    messages.slice(1).forEach((m, i) => {
      expect(m.blocks[0]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: `*Planet Python digest* (part ${i + 2} of ${n})`, verbatim: true }] });
      expect(m.text).toBe(`Planet Python digest (part ${i + 2} of ${n})`);
      expect(m.blocks.some((b) => b.type === 'header')).toBe(false);
    });
  });

  it('splits a large source over several ≤3000-character sections marked "(continued)"', () => {
    const digest = buildSampleDigest({ sources: 4, entriesPerSource: 50, maxPerSource: 50, longTitles: true, withoutContent: true });
    const messages = renderSlack(digest, { now: SAMPLE_NOW });
    expectWithinLimits(messages);
    expectEveryEntryOnce(digest, messages);
    const all = sections(messages);
    expect(all.length).toBeGreaterThan(8);
    expect(all.filter((s) => s.includes('(continued)')).length).toBeGreaterThan(4);
  });

  it('packs 200 single-entry sources into as many messages as needed', () => {
    const digest = buildSampleDigest({ sources: 200, entriesPerSource: 1, withoutContent: true });
    const messages = renderSlack(digest, { now: SAMPLE_NOW });
    expectWithinLimits(messages);
    expectEveryEntryOnce(digest, messages);
    expect(messages.length).toBeGreaterThanOrEqual(5);
  });

  it('says what was left out when the digest needs more than maxMessages', () => {
    const digest = buildSampleDigest({ sources: 200, entriesPerSource: 1, withoutContent: true });
    const messages = renderSlack(digest, { now: SAMPLE_NOW, maxMessages: 2 });
    expect(messages).toHaveLength(2);
    expectWithinLimits(messages);
    const shown = sections(messages).join('\n').split('\n• ').length - 1;
    const notice = sections(messages).at(-1)!;
    const m = /too long for Slack: (\d+) more entries from (\d+) sources are not shown/.exec(notice);
    expect(m).not.toBeNull();
    expect(shown + Number(m![1])).toBe(200);
    expect(Number(m![2])).toBe(200 - shown);
  });

  it('honours lower limits passed in (blocks per message, section length)', () => {
    const digest = buildSampleDigest({ sources: 6, entriesPerSource: 10, maxPerSource: 10, withoutContent: true });
    const messages = renderSlack(digest, { now: SAMPLE_NOW, maxBlocks: 6, maxSectionChars: 600 });
    for (const m of messages) expect(m.blocks.length).toBeLessThanOrEqual(6);
    for (const s of sections(messages)) expect(s.length).toBeLessThanOrEqual(600);
    expectEveryEntryOnce(digest, messages);
  });
});

describe('renderSlack edge cases', () => {
  it('renders an empty digest as one message saying so', () => {
    const digest: Digest = { ...buildSampleDigest(), groups: [], entryCount: 0, sourceCount: 0 };
    const messages = renderSlack(digest, { now: SAMPLE_NOW });
    expect(messages).toHaveLength(1);
    expect(sections(messages)).toEqual(['No new posts in this period.']);
  });

  it('caps a very long digest title in the header at 150 characters', () => {
    const digest = { ...buildSampleDigest(), title: 'Digest & news '.repeat(30) };
    const header = renderSlack(digest, { now: SAMPLE_NOW })[0]!.blocks[0]!;
    expect(header.type).toBe('header');
    if (header.type === 'header') {
      expect(header.text.text.length).toBeLessThanOrEqual(150);
      expect(header.text.text.endsWith('…')).toBe(true);
    }
  });

  it('does not link entries whose link is not http(s)', () => {
    const digest = buildSampleDigest();
    digest.groups[0]!.entries[0]!.link = 'javascript:alert(1)';
    const text = sections(renderSlack(digest, { now: SAMPLE_NOW })).join('\n');
    expect(text).not.toContain('javascript:');
  });
});
