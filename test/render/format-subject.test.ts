import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/model/digest.js';
import { formatSubject, MAX_SUBJECT_LENGTH } from '../../src/render/format-subject.js';
import { buildSampleDigest, SAMPLE_NOW } from '../fixtures/render/sample-digest.js';

const opts = { now: SAMPLE_NOW };

function withTitles(titles: string[], digestTitle = 'Planet Python digest'): Digest {
  const base = buildSampleDigest({ sources: titles.length, entriesPerSource: 2 });
  base.groups.forEach((g, i) => (g.title = titles[i]!));
  return { ...base, title: digestTitle };
}

describe('formatSubject', () => {
  it.each([
    ['{count} new posts from {sources}', '12 new posts from Python Insider, Real Python, PyPy +2 more'],
    ['{title}: {count}', 'Planet Python digest: 12'],
    ['{title} for {date}', 'Planet Python digest for 13 May 2025'],
    ['{unknown} stays, {count} fills', '{unknown} stays, 12 fills'],
    ['  lots   of\tspace  ', 'lots of space'],
  ])('%j → %j', (pattern, expected) => {
    expect(formatSubject(pattern, buildSampleDigest(), opts)).toBe(expected);
  });

  it('lists up to three sources without "+N more"', () => {
    expect(formatSubject('{sources}', withTitles(['A', 'B']), opts)).toBe('A, B');
    expect(formatSubject('{sources}', withTitles(['A', 'B', 'C']), opts)).toBe('A, B, C');
    expect(formatSubject('{sources}', withTitles(['A', 'B', 'C', 'D']), opts)).toBe('A, B, C +1 more');
  });

  it('removes CR/LF and control characters (no header injection)', () => {
    const digest = withTitles(['Evil\r\nBcc: victim@example.org', 'Tab\there\u0000\u001b[31m', 'Line\u2028sep']);
    const subject = formatSubject('{sources}', digest, opts);
    expect(subject).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
    expect(subject).toBe('Evil Bcc: victim@example.org, Tab here [31m, Line sep');
  });

  it('does not expand placeholders inside values', () => {
    expect(formatSubject('{title}', buildSampleDigest({ title: 'Digest {count} {sources}' }), opts)).toBe('Digest {count} {sources}');
  });

  it('caps at 150 characters at a word boundary, with an ellipsis', () => {
    const digest = withTitles(['Alpha '.repeat(20).trim(), 'Beta '.repeat(20).trim(), 'Gamma '.repeat(20).trim()]);
    const subject = formatSubject('{count} new posts from {sources}', digest, opts);
    expect(Array.from(subject).length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(subject.endsWith('…')).toBe(true);
    expect(subject.slice(0, -1)).toMatch(/(Alpha|Beta|Gamma|,)$/);
  });

  it('never splits an emoji when cutting', () => {
    const digest = withTitles(['👩‍💻'.repeat(200)]);
    const subject = formatSubject('{sources}', digest, opts);
    expect(subject.endsWith('👩‍💻…')).toBe(true);
    expect(subject).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('survives a round trip through nodemailer and mailparser with Cyrillic and emoji', async () => {
    const digest = withTitles(['Выпуски Python', 'Релиз 🎉🐍', 'پائتھن', '新功能']);
    const subject = formatSubject('{count} новых записей: {sources}', digest, opts);
    expect(subject).toBe('8 новых записей: Выпуски Python, Релиз 🎉🐍, پائتھن +1 more');
    const composer = new MailComposer({ from: 'digest@example.org', to: 'reader@example.org', subject, text: 'x' });
    const raw = await new Promise<Buffer>((resolve, reject) => composer.compile().build((err, message) => (err ? reject(err) : resolve(message))));
    const headerBlock = raw.toString('latin1').split('\r\n\r\n')[0]!;
    // On the wire the subject is RFC 2047 encoded ASCII, on one logical header.
    expect(headerBlock).toMatch(/^Subject: =\?UTF-8\?/m);
    expect(headerBlock).toMatch(/^[\p{ASCII}]*$/u);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(subject);
  });
});
