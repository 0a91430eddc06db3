/*
 * Quoted-printable (RFC 2045 §6.7) straight from a JS string into a Buffer, in one pass: UTF-8 encoding, line breaks
 * made CRLF, escaping and soft line breaks together. nodemailer's encode + wrap did the same in four passes over
 * strings (UTF-8 Buffer, escaped string, wrapped string, "." replace, latin1 Buffer): for the 220-feed first run's one
 * 9 MB digest that was ~380 ms and four transient copies of the body. See compose-digest-mime.ts for how it is used.
 */

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const EQUALS = 0x3d;
const DOT = 0x2e;
const HEX = Buffer.from('0123456789ABCDEF', 'latin1');

// 1 for printable ASCII written as is anywhere but at the end of a line: "!" to "~" without "=". "." is one of them
// except at the start of a line, space only when more follows on its line (both checked where they are used).
const PLAIN = new Uint8Array(128);
for (let c = 0x21; c <= 0x7e; c++) PLAIN[c] = c === EQUALS ? 0 : 1;

function grow(out: Buffer, pos: number, more: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, pos + more));
  out.copy(bigger, 0, 0, pos);
  return bigger;
}

/** A soft line break ("=" CRLF, RFC 2045 §6.7 rule 5) at pos; returns the position after it. */
function putSoftBreak(out: Buffer, pos: number): number {
  out[pos] = EQUALS;
  out[pos + 1] = CR;
  out[pos + 2] = LF;
  return pos + 3;
}

function putEscaped(out: Buffer, pos: number, byte: number): number {
  out[pos] = EQUALS;
  out[pos + 1] = HEX[byte >> 4]!;
  out[pos + 2] = HEX[byte & 15]!;
  return pos + 3;
}

/**
 * Quoted-printable bytes of `text` (UTF-8), every line at most `lineLength` characters (a soft break's "=" included;
 * at least 13). Every CR, LF or CRLF becomes a CRLF hard break. Escaped, beyond what RFC 2045 requires ("=", bytes
 * outside printable ASCII, a space or tab before a line break or at the very end): a "." starting a line, so SMTP's
 * dot-stuffing (RFC 5321 §4.5.2) never has to copy the message. A UTF-8 sequence is never split by a soft break.
 */
export function encodeQuotedPrintable(text: string, lineLength = 76): Buffer {
  if (!(lineLength >= 13)) throw new RangeError(`lineLength must be at least 13 (4 escaped bytes and "="), got ${lineLength}`);
  const n = text.length;
  let out: Buffer = Buffer.allocUnsafe(n + (n >> 3) + 64);
  let limit = out.length - 16; // room for a soft break and 4 escaped bytes
  let pos = 0;
  let col = 0; // characters on the current output line
  const room = lineLength - 1; // a character that does not end its line leaves the last column for a soft break's "="
  for (let i = 0; i < n; i++) {
    if (pos > limit) {
      out = grow(out, pos, (n - i) * 3 + 64);
      limit = out.length - 16;
    }
    let c = text.charCodeAt(i);
    // The common case: a printable character with room to spare on its line.
    if (col < room && c < 0x80) {
      if (PLAIN[c] === 1 && (c !== DOT || col !== 0)) {
        out[pos++] = c;
        col++;
        continue;
      }
      if (c === SPACE) {
        const next = text.charCodeAt(i + 1);
        if (next === next && next !== CR && next !== LF) {
          out[pos++] = c;
          col++;
          continue;
        }
      }
    }
    if (c === CR || c === LF) {
      if (c === CR && text.charCodeAt(i + 1) === LF) i++;
      out[pos++] = CR;
      out[pos++] = LF;
      col = 0;
      continue;
    }
    // Whether this character ends its line: then it may use the line's last column.
    const next = text.charCodeAt(i + 1);
    const endsLine = next !== next || next === CR || next === LF; // NaN at the end of the text
    if (c < 0x80) {
      const literal = c >= SPACE ? c !== EQUALS && c !== 0x7f && !(c === SPACE && endsLine) && !(c === DOT && col === 0) : c === TAB && !endsLine;
      let width = literal ? 1 : 3;
      if (col + width + (endsLine ? 0 : 1) > lineLength) {
        pos = putSoftBreak(out, pos);
        col = 0;
        if (c === DOT) width = 3; // now starts a line
      }
      if (width === 1) out[pos++] = c;
      else pos = putEscaped(out, pos, c);
      col += width;
      continue;
    }
    // UTF-8, as Buffer.from(text, 'utf8') writes it (a lone surrogate becomes U+FFFD).
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    const bytes = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    const after = text.charCodeAt(i + 1);
    const lastOnLine = after !== after || after === CR || after === LF;
    if (col + bytes * 3 + (lastOnLine ? 0 : 1) > lineLength) {
      pos = putSoftBreak(out, pos);
      col = 0;
    }
    if (bytes === 2) {
      pos = putEscaped(out, pos, 0xc0 | (c >> 6));
    } else if (bytes === 3) {
      pos = putEscaped(out, pos, 0xe0 | (c >> 12));
      pos = putEscaped(out, pos, 0x80 | ((c >> 6) & 63));
    } else {
      pos = putEscaped(out, pos, 0xf0 | (c >> 18));
      pos = putEscaped(out, pos, 0x80 | ((c >> 12) & 63));
      pos = putEscaped(out, pos, 0x80 | ((c >> 6) & 63));
    }
    pos = putEscaped(out, pos, 0x80 | (c & 63));
    col += bytes * 3;
  }
  // Give back an oversized allocation (text that is mostly escaped grew it); a small slack is not worth a copy.
  return pos < out.length * 0.9 ? Buffer.from(out.subarray(0, pos)) : out.subarray(0, pos);
}
