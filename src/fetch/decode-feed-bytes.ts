import { isAscii as isAsciiNative } from 'node:buffer';
import { createRequire } from 'node:module';
import type iconvLite from 'iconv-lite';

/** A feed body turned into text, with what was declared and what was actually used. */
export interface DecodedFeed {
  /** The document as a string: BOM removed, the XML declaration's encoding attribute dropped. */
  text: string;
  /** Canonical lower-case name of the charset actually used (e.g. "utf-8", "windows-1252", "utf-16le", "gb18030"). */
  encoding: string;
  /** Charset labels as declared, lower-cased: HTTP charset parameter, XML declaration, byte order mark. */
  declared?: { http?: string; xml?: string; bom?: string };
  /** Set when the declarations disagree or the bytes did not decode cleanly (feedparser's "bozo"); says what was done. */
  mismatch?: string;
}

/** Media type and charset parameter of a Content-Type header value. */
export interface ParsedContentType {
  /** Lower-cased type/subtype, "" when absent. */
  mediaType: string;
  /** Lower-cased charset parameter, quotes removed; undefined when absent or empty. */
  charset?: string;
}

/**
 * Parse a Content-Type value (RFC 9110 §8.3). Lenient like feedparser: accepts spaces around "=" and single or
 * double quotes, ignores malformed parameters such as `charset:iso-8859-1`.
 */
export function parseContentType(value: string | undefined): ParsedContentType {
  if (!value) return { mediaType: '' };
  const [type = '', ...params] = value.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const m = /^\s*([^=\s]+)\s*=\s*(.*?)\s*$/.exec(param);
    if (!m || m[1]!.toLowerCase() !== 'charset') continue;
    const v = m[2]!.replace(/^(["'])(.*)\1$/, '$2').trim().toLowerCase();
    if (v) charset = v;
  }
  return { mediaType: type.trim().toLowerCase(), charset };
}

// Labels grouped by the canonical decoder we use. ISO-8859-1 and US-ASCII labels are decoded as windows-1252 the
// way browsers do (WHATWG Encoding), except that an *explicit* us-ascii is checked strictly so feedparser's
// "declared us-ascii but has 8-bit bytes" case is reported; gb2312/gbk go to gb18030, their superset (as feedparser).
const LABELS: Record<string, string[]> = {
  'utf-8': ['utf-8', 'utf8', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'x-unicode20utf8'],
  'utf-16': ['utf-16', 'utf16', 'utf_16', 'u16', 'ucs-2', 'ucs2', 'iso-10646-ucs-2', 'csunicode', 'unicode'],
  'utf-16le': ['utf-16le', 'utf_16le', 'utf-16-le', 'utf_16_le', 'unicodefeff'],
  'utf-16be': ['utf-16be', 'utf_16be', 'utf-16-be', 'utf_16_be', 'unicodefffe'],
  'utf-32': ['utf-32', 'utf32', 'utf_32', 'u32', 'ucs-4', 'ucs4', 'iso-10646-ucs-4', 'csucs4'],
  'utf-32le': ['utf-32le', 'utf_32le', 'utf-32-le', 'utf_32_le'],
  'utf-32be': ['utf-32be', 'utf_32be', 'utf-32-be', 'utf_32_be'],
  'us-ascii': ['us-ascii', 'ascii', 'ansi_x3.4-1968', 'iso646-us', 'us', 'csascii', 'iso-ir-6', 'cp367', 'ibm367'],
  'windows-1252': [
    'windows-1252', 'cp1252', 'x-cp1252', 'iso-8859-1', 'iso8859-1', 'iso_8859-1', 'iso88591', 'iso_8859-1:1987',
    'latin1', 'latin-1', 'l1', 'cp819', 'ibm819', 'csisolatin1', 'iso-ir-100', '8859-1',
  ],
  gb18030: [
    'gb18030', 'gb2312', 'gbk', 'x-gbk', 'chinese', 'csgb2312', 'csiso58gb231280', 'gb_2312', 'gb_2312-80',
    'iso-ir-58', 'cp936', 'ms936', 'windows-936', 'euc-cn', 'euccn',
  ],
  big5: ['big5', 'big5-hkscs', 'cn-big5', 'csbig5', 'x-x-big5', 'cp950'],
  'euc-kr': ['euc-kr', 'euckr', 'cseuckr', 'ks_c_5601-1987', 'ks_c_5601-1989', 'ksc5601', 'ksc_5601', 'korean', 'iso-ir-149', 'windows-949', 'cp949', 'uhc'],
  shift_jis: ['shift_jis', 'shift-jis', 'sjis', 'ms_kanji', 'csshiftjis', 'windows-31j', 'x-sjis', 'cp932', 'ms932'],
  'euc-jp': ['euc-jp', 'eucjp', 'x-euc-jp', 'cseucpkdfmtjapanese'],
  'koi8-r': ['koi8-r', 'koi8r', 'koi8', 'cskoi8r', 'koi'],
  'koi8-u': ['koi8-u', 'koi8u', 'koi8-ru'],
};
const LABEL_TO_CANONICAL = new Map<string, string>(Object.entries(LABELS).flatMap(([canonical, labels]) => labels.map((l) => [l, canonical] as const)));

type Iconv = typeof iconvLite;
let iconvModule: Iconv | undefined;
/**
 * iconv-lite, loaded on first use: most feeds are UTF-8 or ASCII, and its tables are half a megabyte of JavaScript that
 * every start would otherwise compile, a cycle that finds nothing new included (issue 7). A plain require() keeps
 * decodeFeedBytes synchronous; the bundle leaves it to Node's resolution from node_modules.
 */
function iconv(): Iconv {
  return (iconvModule ??= createRequire(import.meta.url)('iconv-lite') as Iconv);
}

// What iconv-lite calls the decoders whose canonical name it does not know under that name.
const ICONV_NAME: Record<string, string> = { 'euc-kr': 'cp949', shift_jis: 'cp932' };

// UTF-7 (and the ISO-2022 "replacement" family) are refused as the WHATWG Encoding standard does: they are
// script-injection vectors and no real feed needs them.
const REFUSED = /^(?:utf-?7|csunicode11utf7|unicode-1-1-utf-7|x-unicode2-0-utf-7|iso-2022-(?:kr|cn|cn-ext)|hz-gb-2312|replacement)$/;

/** Canonical charset name for a label, or undefined when the label is unknown or refused. */
export function canonicalCharset(label: string): string | undefined {
  const l = label.trim().toLowerCase();
  if (!l || REFUSED.test(l)) return undefined;
  const known = LABEL_TO_CANONICAL.get(l);
  if (known) return known;
  const win = /^(?:windows-?|x-cp|cp)(125\d)$/.exec(l);
  if (win) return `windows-${win[1]}`;
  const iso = /^iso[-_]?8859[-_]?(\d{1,2})(?::\d+)?$/.exec(l);
  if (iso) return iso[1] === '1' ? 'windows-1252' : `iso-8859-${iso[1]}`;
  return iconv().encodingExists(l) ? l : undefined;
}

const UNICODE = new Set(['utf-8', 'utf-16', 'utf-16le', 'utf-16be', 'utf-32', 'utf-32le', 'utf-32be']);
/** Encodings whose first 128 code points are ASCII bytes, so an ASCII-only body decodes identically. */
function asciiCompatible(enc: string): boolean {
  return !enc.startsWith('utf-16') && !enc.startsWith('utf-32');
}
/** "utf-16" (no byte order) matches utf-16le and utf-16be; likewise utf-32. */
function sameCharset(a: string, b: string): boolean {
  if (a === b) return true;
  for (const fam of ['utf-16', 'utf-32']) if ((a === fam && b.startsWith(fam)) || (b === fam && a.startsWith(fam))) return true;
  return false;
}

interface Bom {
  encoding: string;
  length: number;
}
function sniffBom(b: Uint8Array): Bom | undefined {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return { encoding: 'utf-32le', length: 4 };
  if (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return { encoding: 'utf-32be', length: 4 };
  if (b[0] === 0xfe && b[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  if (b[0] === 0xff && b[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  return undefined;
}

/** UTF-16/32 without a BOM, from where the zero bytes of the first (ASCII) characters sit (XML 1.0 Appendix F). */
function sniffWidePattern(b: Uint8Array): string | undefined {
  if (b.length < 4) return undefined;
  const [b0, b1, b2, b3] = [b[0]!, b[1]!, b[2]!, b[3]!];
  if (b0 === 0 && b1 === 0 && b2 === 0 && b3 !== 0) return 'utf-32be';
  if (b0 !== 0 && b1 === 0 && b2 === 0 && b3 === 0) return 'utf-32le';
  if (b0 === 0 && b1 !== 0 && b2 === 0 && b3 !== 0) return 'utf-16be';
  if (b0 !== 0 && b1 === 0 && b2 !== 0 && b3 === 0) return 'utf-16le';
  return undefined;
}

/** Pick a byte order for "utf-16"/"utf-32" without BOM or pattern: the one putting zero bytes in the high half. */
function guessByteOrder(family: string, b: Uint8Array): string {
  const unit = family === 'utf-32' ? 4 : 2;
  let lowZeros = 0;
  let highZeros = 0;
  const n = Math.min(b.length - (b.length % unit), 4096);
  for (let i = 0; i < n; i += unit) {
    if (b[i] === 0) highZeros++; // big-endian ASCII has its zero byte first
    if (b[i + unit - 1] === 0) lowZeros++;
  }
  return `${family}${highZeros > lowZeros ? 'be' : 'le'}`;
}

const XML_DECL_ENCODING = /^\s*<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([^"'<>]*)\1/;
function readXmlDeclEncoding(head: string): string | undefined {
  const m = XML_DECL_ENCODING.exec(head);
  return m ? m[2]!.trim().toLowerCase() || undefined : undefined;
}

// windows-1252 as WHATWG defines it: Latin-1 except 0x80-0x9F, where cp1252 has its typographic characters and the
// five bytes it leaves undefined stay C1 controls, so the last-resort decoder always succeeds.
let cp1252C1: Map<string, string> | undefined;
function cp1252Table(): Map<string, string> {
  if (!cp1252C1) {
    cp1252C1 = new Map();
    for (let i = 0x80; i <= 0x9f; i++) {
      const ch = iconv().decode(Buffer.from([i]), 'windows-1252');
      if (ch !== '\ufffd') cp1252C1.set(String.fromCharCode(i), ch);
    }
  }
  return cp1252C1;
}
function decodeWindows1252(b: Uint8Array): string {
  const table = cp1252Table();
  // Buffer's native latin1 decoding, then only the C1 range remapped: fast on multi-megabyte feeds.
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength)
    .toString('latin1')
    .replace(/[\u0080-\u009f]/g, (c) => table.get(c) ?? c);
}

/** Only 7-bit bytes (node's SIMD check: a 50 KB body in microseconds). */
function isAscii(b: Uint8Array): boolean {
  return isAsciiNative(b);
}

/** ASCII bytes as a string: every ASCII-compatible charset gives the same text, and latin1 is a plain copy. */
function decodeAscii(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function countChar(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

/** U+FFFD code units genuinely present in UTF-16/32 input (so they are not mistaken for decoding errors). */
function encodedReplacementChars(b: Uint8Array, enc: string): number {
  const pattern = iconv().encode('\ufffd', enc);
  const unit = pattern.length;
  let n = 0;
  outer: for (let i = 0; i + unit <= b.length; i += unit) {
    for (let k = 0; k < unit; k++) if (b[i + k] !== pattern[k]) continue outer;
    n++;
  }
  return n;
}

interface Attempt {
  text: string;
  clean: boolean;
}

/** Decode with a canonical (byte-order-resolved) charset; `clean` is false when some bytes were invalid. */
function decodeWith(b: Uint8Array, enc: string): Attempt {
  switch (enc) {
    case 'utf-8':
      // Most feeds are pure ASCII; UTF-8 decoding costs several times a copy.
      if (isAscii(b)) return { text: decodeAscii(b), clean: true };
      try {
        return { text: strictUtf8.decode(b), clean: true };
      } catch {
        return { text: lossyUtf8.decode(b), clean: false };
      }
    case 'us-ascii':
      // Check first: a text/xml feed without charset that is not ASCII is decoded again as something else anyway.
      return isAscii(b) ? { text: decodeAscii(b), clean: true } : { text: '', clean: false };
    case 'windows-1252':
      return { text: decodeWindows1252(b), clean: true };
    case 'utf-16le':
    case 'utf-16be':
    case 'utf-32le':
    case 'utf-32be': {
      const unit = enc.startsWith('utf-16') ? 2 : 4;
      const text = iconv().decode(Buffer.from(b.buffer, b.byteOffset, b.byteLength), enc, { stripBOM: false });
      const bad = countChar(text, '\ufffd') - encodedReplacementChars(b, enc);
      return { text, clean: bad === 0 && b.length % unit === 0 };
    }
    default: {
      const text = iconv().decode(Buffer.from(b.buffer, b.byteOffset, b.byteLength), ICONV_NAME[enc] ?? enc, { stripBOM: false });
      // Legacy charsets cannot encode U+FFFD (gb18030 can, but a feed containing it is vanishingly rare), so any
      // U+FFFD in the output marks a byte sequence that is invalid in the charset.
      return { text, clean: !text.includes('\ufffd') };
    }
  }
}

/** Remove the encoding attribute from the XML declaration: the text is already decoded, nothing downstream may re-decode it. */
function neutralizeXmlDeclaration(text: string): string {
  const m = /^\s*(<\?xml\s[^>]*?\?>)/.exec(text);
  if (!m) return text;
  // Whitespace before the declaration makes strict XML parsers fail ("XML declaration allowed only at the start").
  const decl = m[1]!.replace(/\s+encoding\s*=\s*(["'])[^"'<>]*\1/, '');
  return decl + text.slice(m[0].length);
}

interface Candidate {
  enc: string;
  source: 'bom' | 'http' | 'http-default' | 'xml' | 'pattern' | 'default' | 'fallback';
  label: string;
}

function describe(c: Candidate): string {
  switch (c.source) {
    case 'bom':
      return `byte order mark ${c.enc}`;
    case 'http':
      return `Content-Type charset ${c.label}`;
    case 'http-default':
      return `text/* Content-Type without charset (us-ascii per RFC 3023)`;
    case 'xml':
      return `XML declaration encoding ${c.label}`;
    case 'pattern':
      return `${c.enc} byte pattern`;
    case 'default':
      return 'the utf-8 default';
    case 'fallback':
      return 'the windows-1252 fallback';
  }
}

/**
 * Decode a feed body to text the way feedparser / RFC 7303 prescribe: byte order mark first, then the HTTP charset
 * parameter, then (for text/* without charset, RFC 3023) us-ascii, then the XML declaration (read in UTF-16/32 when
 * the first bytes show that pattern), then UTF-8. A charset that fails to decode strictly falls through to the next
 * candidate and finally to windows-1252; a declared legacy charset whose bytes are in fact valid UTF-8 (a lying
 * prolog, common in the wild, see Miniflux) is decoded as UTF-8. Both set `mismatch`.
 */
export function decodeFeedBytes(bytes: Uint8Array, contentType?: string): DecodedFeed {
  const problems: string[] = [];
  const declared: NonNullable<DecodedFeed['declared']> = {};

  const bom = sniffBom(bytes);
  const body = bom ? bytes.subarray(bom.length) : bytes;
  const pattern = bom ? undefined : sniffWidePattern(body);

  const { mediaType, charset } = parseContentType(contentType);

  // Read the XML declaration in the byte layout the BOM or the first bytes announce.
  const layout = bom?.encoding ?? pattern;
  const headBytes = body.subarray(0, 1024);
  // The declaration is ASCII: a latin1 copy finds it (no windows-1252 table, no iconv-lite for a UTF-8 feed).
  const head = layout && !asciiCompatible(layout) ? decodeWith(headBytes, layout).text : decodeAscii(headBytes);
  const xmlLabel = readXmlDeclEncoding(head);

  if (bom) declared.bom = bom.encoding;
  if (charset) declared.http = charset;
  if (xmlLabel) declared.xml = xmlLabel;

  const candidates: Candidate[] = [];
  if (bom) candidates.push({ enc: bom.encoding, source: 'bom', label: bom.encoding });
  // A UTF-16/32 byte pattern is as unmistakable as a BOM: an 8-bit charset cannot produce "<" followed by NUL.
  if (charset) {
    const enc = canonicalCharset(charset);
    if (!enc) problems.push(`unknown charset "${charset}" in Content-Type ignored`);
    else if (pattern && asciiCompatible(enc)) problems.push(`Content-Type charset ${charset} ignored: the bytes are ${pattern}`);
    else candidates.push({ enc, source: 'http', label: charset });
  } else if (mediaType.startsWith('text/')) {
    if (pattern) problems.push(`text/* Content-Type without charset implies us-ascii (RFC 3023) but the bytes are ${pattern}`);
    else candidates.push({ enc: 'us-ascii', source: 'http-default', label: 'us-ascii' });
  }
  if (xmlLabel) {
    const enc = canonicalCharset(xmlLabel);
    if (!enc) problems.push(`unknown encoding "${xmlLabel}" in the XML declaration ignored`);
    else if (pattern && asciiCompatible(enc)) problems.push(`XML declaration says ${xmlLabel} but the bytes are ${pattern}`);
    else if (!layout && !asciiCompatible(enc)) problems.push(`XML declaration says ${xmlLabel} but the bytes are not ${enc}`);
    else candidates.push({ enc, source: 'xml', label: xmlLabel });
  }
  if (pattern) candidates.push({ enc: pattern, source: 'pattern', label: pattern });
  candidates.push({ enc: 'utf-8', source: 'default', label: 'utf-8' });

  // Resolve "utf-16"/"utf-32" to a byte order: BOM, then the <?xml pattern, then where the zero bytes sit.
  for (const c of candidates) {
    if (c.enc === 'utf-16' || c.enc === 'utf-32') {
      const known = bom?.encoding ?? pattern;
      c.enc = known?.startsWith(c.enc) ? known : guessByteOrder(c.enc, body);
    }
  }

  const first = candidates[0]!;
  let used = first;
  let attempt = decodeWith(body, first.enc);

  if (!attempt.clean) {
    if (first.source === 'bom') {
      // A byte order mark is strong evidence of the charset; keep the valid parts readable rather than guess.
      problems.push(`invalid ${first.enc} bytes after a ${first.enc} byte order mark were replaced with U+FFFD`);
    } else {
      let found = false;
      for (const c of [...candidates.slice(1), { enc: 'windows-1252', source: 'fallback', label: 'windows-1252' } as Candidate]) {
        if (sameCharset(c.enc, first.enc)) continue;
        const next = decodeWith(body, c.enc);
        if (next.clean) {
          problems.push(`bytes are not valid ${first.enc} (${describe(first)}); decoded as ${c.enc}`);
          used = c;
          attempt = next;
          found = true;
          break;
        }
      }
      if (!found) problems.push(`bytes are not valid ${first.enc}; decoded with replacement characters`);
    }
  }
  if (used.source !== 'bom' && !UNICODE.has(used.enc) && used.enc !== 'us-ascii' && !isAscii(body)) {
    // A declared legacy charset over bytes that form valid UTF-8: real Latin-1/Cyrillic/CJK text almost never
    // does, while UTF-8 feeds with a stale prolog or a wrong server default are common (Miniflux does the same).
    const utf8 = decodeWith(body, 'utf-8');
    if (utf8.clean && utf8.text !== attempt.text) {
      problems.push(`${describe(used)} but the bytes are valid UTF-8; decoded as utf-8`);
      used = { enc: 'utf-8', source: 'default', label: 'utf-8' };
      attempt = utf8;
    }
  }

  // Declarations that disagree with the one used matter only when they would give different text.
  if (used === first) {
    for (const c of candidates.slice(1)) {
      if (c.source === 'default' || c.source === 'fallback' || c.source === 'http-default' || c.source === 'pattern' || sameCharset(c.enc, used.enc)) continue;
      if (asciiCompatible(c.enc) && asciiCompatible(used.enc) && isAscii(body)) continue;
      if (decodeWith(body, c.enc).text !== attempt.text) problems.push(`${describe(c)} disagrees with ${describe(used)}, which wins`);
    }
  }

  let text = attempt.text;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  text = neutralizeXmlDeclaration(text);

  const result: DecodedFeed = { text, encoding: used.enc };
  if (Object.keys(declared).length > 0) result.declared = declared;
  if (problems.length > 0) result.mismatch = problems.join('; ');
  return result;
}
