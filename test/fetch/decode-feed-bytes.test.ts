import { CORPUS_DIR } from '../helpers/corpus-dir.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canonicalCharset, decodeFeedBytes, parseContentType } from '../../src/fetch/decode-feed-bytes.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/fetch/', import.meta.url));
const CORPUS = CORPUS_DIR;

function titleOf(text: string): string | undefined {
  return /<title>([^<]*)<\/title>/.exec(text)?.[1];
}

describe('decodeFeedBytes: our fixtures (HTTP charset vs XML declaration vs BOM)', () => {
  // [fixture, Content-Type, encoding used, title (null: not checked), mismatch expected]
  const cases: [string, string | undefined, string, string | null, boolean][] = [
    ['windows-1251.xml', undefined, 'windows-1251', 'Новости дня', false],
    ['windows-1251.xml', 'application/rss+xml; charset=windows-1251', 'windows-1251', 'Новости дня', false],
    ['koi8-r-no-decl.xml', 'application/rss+xml; charset=KOI8-R', 'koi8-r', 'Пример ленты', false],
    // No declaration anywhere: UTF-8 fails, windows-1252 is the last resort and the result is flagged.
    ['koi8-r-no-decl.xml', undefined, 'windows-1252', null, true],
    ['iso-8859-1.xml', undefined, 'windows-1252', 'Café crème à la française', false],
    ['iso-8859-1.xml', 'application/xml', 'windows-1252', 'Café crème à la française', false],
    // text/* without charset means us-ascii (RFC 3023); 8-bit bytes contradict it (feedparser: bozo).
    ['iso-8859-1.xml', 'text/xml', 'windows-1252', 'Café crème à la française', true],
    ['big5.xml', undefined, 'big5', '新聞標題', false],
    ['gb2312.xml', 'application/atom+xml', 'gb18030', '新闻标题', false],
    ['euc-kr.xml', undefined, 'euc-kr', '뉴스 제목', false],
    ['shift_jis.xml', undefined, 'shift_jis', 'ニュースの見出し', false],
    ['utf-16le-bom.xml', undefined, 'utf-16le', 'Ünïcödé ✓ 日本', false],
    // The BOM beats the HTTP charset (RFC 7303 §4.3).
    ['utf-16le-bom.xml', 'application/xml; charset=iso-8859-1', 'utf-16le', 'Ünïcödé ✓ 日本', true],
    ['utf-16be-no-bom.xml', undefined, 'utf-16be', 'Ünïcödé ✓ 日本', false],
    ['utf-16be-no-bom.xml', 'application/rss+xml', 'utf-16be', 'Ünïcödé ✓ 日本', false],
    ['utf-16be-no-bom.xml', 'application/xml; charset=windows-1251', 'utf-16be', 'Ünïcödé ✓ 日本', true],
    ['utf-8-bom.xml', undefined, 'utf-8', 'Café ✓', false],
    ['utf-8-bom.xml', 'text/html; charset=windows-1252', 'utf-8', 'Café ✓', true],
    // Lying declarations.
    ['utf-8-declared-latin1.xml', undefined, 'utf-8', 'Café ✓', true],
    ['utf-8-declared-latin1.xml', 'application/rss+xml; charset=iso-8859-1', 'utf-8', 'Café ✓', true],
    ['cp1252-declared-utf-8.xml', undefined, 'windows-1252', '“Smart” quotes – naïve', true],
    ['cp1252-no-decl.xml', undefined, 'windows-1252', 'Déjà vu — encore', true],
    ['unknown-charset.xml', undefined, 'utf-8', 'Qapla’', true],
    ['unknown-charset.xml', 'application/rss+xml; charset=x-bogus', 'utf-8', 'Qapla’', true],
    // HTTP charset beats the XML declaration; they disagree in a way that matters, so it is flagged.
    ['cp1251-declared-koi8-r.xml', 'application/rss+xml; charset=windows-1251', 'windows-1251', 'Новости', true],
    // Without the HTTP header the (wrong) declaration is all there is: precedence, not guessing.
    ['cp1251-declared-koi8-r.xml', undefined, 'koi8-r', 'мНБНЯРХ', false],
  ];

  it.each(cases)('%s with %s -> %s', (file, contentType, encoding, title, mismatch) => {
    const result = decodeFeedBytes(readFileSync(FIXTURES + file), contentType);
    expect(result.encoding).toBe(encoding);
    if (title !== null) expect(titleOf(result.text)).toBe(title);
    if (mismatch) expect(result.mismatch).toEqual(expect.any(String));
    else expect(result.mismatch).toBeUndefined();
    expect(result.text.charCodeAt(0)).not.toBe(0xfeff);
    expect(result.text).not.toMatch(/^<\?xml[^>]*encoding=/);
  });

  it('reports every declaration it saw', () => {
    const result = decodeFeedBytes(readFileSync(FIXTURES + 'utf-16le-bom.xml'), 'application/xml; charset="ISO-8859-1"');
    expect(result.declared).toEqual({ bom: 'utf-16le', http: 'iso-8859-1', xml: 'utf-16' });
  });
});

describe('decodeFeedBytes: real feeds from the corpus', () => {
  const cases: [string, string | undefined, string, string, boolean][] = [
    ['miniflux/internal/reader/parser/testdata/encoding_ISO-8859-1.xml', undefined, 'windows-1252', 'Golem.de', false],
    ['miniflux/internal/reader/parser/testdata/encoding_WINDOWS-1251.xml', undefined, 'windows-1251', 'iBash.Org.Ru', false],
    ['miniflux/internal/reader/parser/testdata/urdu_UTF8.xml', undefined, 'utf-8', 'BBC News  اردو - پاکستان کے لیے امریکی امداد کی بہار و خزاں', false],
    ['node-feedparser/feeds/iconv.xml', 'application/rss+xml', 'windows-1251', 'Новости Оренбурга и области / Раздел Новости', false],
    ['rss-parser/input/encoding.rss', undefined, 'windows-1252', 'Jornal de Notícias - Últimas Notícias', false],
    ['miniflux/internal/reader/encoding/testdata/utf8.xml', undefined, 'utf-8', '테스트 피드', false],
    ['miniflux/internal/reader/encoding/testdata/iso-8859-1.xml', undefined, 'windows-1252', 'Café', false],
    ['miniflux/internal/reader/encoding/testdata/windows-1252.xml', undefined, 'windows-1252', 'Euro €', false],
    ['miniflux/internal/reader/encoding/testdata/invalid-prolog.xml', undefined, 'utf-8', '테스트 피드', true],
    ['miniflux/internal/reader/encoding/testdata/utf8-incorrect-prolog.xml', undefined, 'utf-8', '테스트 피드', true],
    ['miniflux/internal/reader/encoding/testdata/windows-1252-incorrect-prolog.xml', undefined, 'utf-8', 'Euro €', true],
    ['miniflux/internal/reader/encoding/testdata/koi8r.xml', undefined, 'koi8-r', 'Пример RSS ленты', false],
    ['miniflux/internal/reader/encoding/testdata/koi8r.xml', 'application/rss+xml; charset=KOI8-R', 'koi8-r', 'Пример RSS ленты', false],
  ];
  it.each(cases)('%s', (file, contentType, encoding, title, mismatch) => {
    const result = decodeFeedBytes(readFileSync(CORPUS + file), contentType);
    expect(result.encoding).toBe(encoding);
    expect(titleOf(result.text)).toBe(title);
    expect(result.mismatch !== undefined).toBe(mismatch);
  });

  it('recovers Latin-1 bytes under a utf-8 declaration instead of dropping them', () => {
    const result = decodeFeedBytes(readFileSync(CORPUS + 'miniflux/internal/reader/xml/testdata/iso88591_utf8_mismatch.xml'));
    expect(result.encoding).toBe('windows-1252');
    expect(result.text).toContain('<to>Anaïs</to>');
    expect(result.text).toContain('Jürgen');
    expect(result.mismatch).toMatch(/not valid utf-8/);
  });

  it('decodes ISO-8859-1 without any declaration (Le Cercle Psy) and flags it', () => {
    const result = decodeFeedBytes(readFileSync(CORPUS + 'miniflux/internal/reader/parser/testdata/no_encoding_ISO-8859-1.xml'));
    expect(result.encoding).toBe('windows-1252');
    expect(result.text).toMatch(/psychologie/);
    expect(result.text).not.toContain('\ufffd');
    expect(result.text).toMatch(/[éèà]/);
    expect(result.mismatch).toBeDefined();
  });
});

interface Check {
  path: (string | number)[];
  op: string;
  value?: unknown;
}
interface FeedparserTest {
  file: string;
  suite: string;
  http?: { content_type?: string };
  checks: Check[] | null;
}

describe('decodeFeedBytes: feedparser encoding conformance (expectations.json)', () => {
  const expectations = JSON.parse(readFileSync(CORPUS + 'feedparser/expectations.json', 'utf8')) as { tests: FeedparserTest[] };
  // Cases where feedparser's bozo flag comes from something other than the charset (a later stage's business).
  const notAboutCharset: Record<string, string> = {
    'tests/encoding/bozo_double-encoded-html.xml': 'undefined HTML entities (&acirc;) in XML: the parser flags them',
    'tests/encoding/bozo_http_text_plain.xml': 'text/plain is not an XML media type: the parser flags it',
    'tests/encoding/bozo_http_text_plain_charset.xml': 'text/plain is not an XML media type: the parser flags it',
  };
  // feedparser reports the label; we report the decoder actually used (browsers decode ISO-8859-1 as windows-1252).
  const sameDecoder: Record<string, string> = { 'iso-8859-1': 'windows-1252' };

  const rows = expectations.tests
    .filter((t) => t.suite === 'encoding' && t.checks)
    .map((t) => {
      const encoding = t.checks!.find((c) => c.path[0] === 'encoding' && c.op === 'eq')?.value as string | undefined;
      const bozo = t.checks!.find((c) => c.path[0] === 'bozo');
      return { file: t.file, contentType: t.http?.content_type, encoding, bozo: bozo ? bozo.op === 'truthy' : undefined };
    })
    .filter((r) => r.encoding !== undefined || r.bozo !== undefined);

  it('covers the encoding suite', () => {
    expect(rows.length).toBeGreaterThan(70);
  });

  it.each(rows)('$file ($contentType)', ({ file, contentType, encoding, bozo }) => {
    const result = decodeFeedBytes(readFileSync(CORPUS + 'feedparser/' + file), contentType);
    if (encoding !== undefined) expect(result.encoding).toBe(sameDecoder[encoding] ?? encoding);
    if (bozo !== undefined && !(file in notAboutCharset)) expect(result.mismatch !== undefined, result.mismatch ?? 'no mismatch').toBe(bozo);
    expect(result.text).not.toMatch(/^<\?xml[^>]*encoding=/);
    expect(result.text).toMatch(/<(rss|feed|rdf:RDF)\b/);
  });

  it('keeps the valid UTF-8 around invalid bytes after a UTF-8 BOM', () => {
    const result = decodeFeedBytes(readFileSync(CORPUS + 'feedparser/tests/encoding/bozo_invalid-bytes-with-bom.xml'));
    expect(result.encoding).toBe('utf-8');
    expect(result.text).toContain('Valid UTF8: Ѩ');
    expect(result.text).toContain('Espa\ufffda');
    expect(result.mismatch).toMatch(/byte order mark/);
  });
});

describe('decodeFeedBytes: details', () => {
  it.each([
    ['pure ASCII (the fast path)', '<?xml version="1.0"?><rss><channel><title>plain ascii &amp; more</title></channel></rss>', undefined],
    ['ASCII with one UTF-8 character at the very end', '<rss><channel><title>' + 'x'.repeat(5000) + '</title></channel></rss><!-- é -->', undefined],
    ['ASCII declared us-ascii by text/xml', '<rss><channel><title>t</title></channel></rss>', 'text/xml'],
    ['ASCII declared windows-1252', '<?xml version="1.0" encoding="windows-1252"?><rss><channel><title>t</title></channel></rss>', 'application/rss+xml'],
  ])('%s: the same text as a UTF-8 decoder gives', (_name, xml, contentType) => {
    const bytes = Buffer.from(xml, 'utf8');
    const decoded = decodeFeedBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), contentType);
    expect(decoded.text).toBe(new TextDecoder().decode(bytes).replace(/\s+encoding="windows-1252"/, ''));
    expect(decoded.mismatch).toBeUndefined();
  });

  it('drops only the encoding attribute of the XML declaration, and whitespace before it', () => {
    const bytes = Buffer.from('  \n<?xml version="1.0" encoding=\'ISO-8859-1\' standalone="yes"?><rss/>', 'latin1');
    expect(decodeFeedBytes(bytes).text).toBe('<?xml version="1.0" standalone="yes"?><rss/>');
  });

  it('decodes JSON Feed bytes as UTF-8 by default', () => {
    const json = '{"version":"https://jsonfeed.org/version/1.1","title":"Ça marche ✓"}';
    const result = decodeFeedBytes(Buffer.from(json), 'application/feed+json');
    expect(result).toEqual({ text: json, encoding: 'utf-8' });
  });

  it('handles an empty body', () => {
    expect(decodeFeedBytes(new Uint8Array(0))).toEqual({ text: '', encoding: 'utf-8' });
  });

  it('maps the five bytes cp1252 leaves undefined to C1 controls instead of failing', () => {
    const result = decodeFeedBytes(Buffer.from([0x3c, 0x61, 0x3e, 0x81, 0x80, 0x9d, 0x3c, 0x2f, 0x61, 0x3e]));
    expect(result.encoding).toBe('windows-1252');
    expect(result.text).toBe('<a>\u0081€\u009d</a>');
  });

  it.each([
    ['text/xml; charset="UTF-8"', { mediaType: 'text/xml', charset: 'utf-8' }],
    ["application/atom+xml;charset='us-ascii'", { mediaType: 'application/atom+xml', charset: 'us-ascii' }],
    ['text/xml;charset = us-ascii', { mediaType: 'text/xml', charset: 'us-ascii' }],
    ['text/xml; charset:iso-8859-1', { mediaType: 'text/xml' }],
    ['text/xml;', { mediaType: 'text/xml' }],
    ['Application/RSS+XML; qs=0.9; Charset=KOI8-R', { mediaType: 'application/rss+xml', charset: 'koi8-r' }],
    [undefined, { mediaType: '' }],
  ])('parseContentType(%j)', (value, expected) => {
    expect(parseContentType(value)).toEqual(expected);
  });

  it.each([
    ['ISO-8859-1', 'windows-1252'],
    ['latin1', 'windows-1252'],
    ['gb2312', 'gb18030'],
    ['GBK', 'gb18030'],
    ['CP1251', 'windows-1251'],
    ['Shift-JIS', 'shift_jis'],
    ['u16', 'utf-16'],
    ['iso8859-15', 'iso-8859-15'],
    ['utf-7', undefined],
    ['bogus', undefined],
  ])('canonicalCharset(%s) = %s', (label, expected) => {
    expect(canonicalCharset(label)).toBe(expected);
  });
});
