/**
 * The indexOf-based SMTP dot-stuffing installed on nodemailer's DataStream must produce byte for byte what nodemailer's
 * own loop produces, for any input split into any chunks (a nodemailer upgrade that changes its rules fails here).
 */
import DataStream from 'nodemailer/lib/smtp-connection/data-stream.js';
import { describe, expect, it } from 'vitest';
import { fastDataStreamTransformForTests, originalDataStreamTransform, speedUpDataStream } from '../../src/dispatch/speed-up-data-stream.js';
import { createSeededRandom } from '../../bench/lib/seeded-random.js';

type Transform = typeof originalDataStreamTransform;

/** Runs `chunks` through a DataStream whose _transform is `transform`; returns the bytes and the byte counters. */
async function stuff(transform: Transform, chunks: (Buffer | string)[]): Promise<{ out: Buffer; inBytes: number; outBytes: number }> {
  const stream = new DataStream();
  (stream as unknown as { _transform: Transform })._transform = transform;
  const out: Buffer[] = [];
  stream.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await ended;
  const counters = stream as unknown as { inByteCount: number; outByteCount: number };
  return { out: Buffer.concat(out), inBytes: counters.inByteCount, outBytes: counters.outByteCount };
}


/** Splits `bytes` at random points (empty chunks included: nodemailer skips them). */
function split(bytes: Buffer, random: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = Math.floor(random() * 12);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

describe('speedUpDataStream: dot-stuffing equal to nodemailer', () => {
  it.each([
    ['clean CRLF text', ['Subject: x\r\n\r\nline one\r\nline two\r\n']],
    ['a dot at the very start', ['.hidden\r\n']],
    ['dots at line starts', ['a\r\n.b\r\n..c\r\n.\r\n']],
    ['bare LF', ['a\nb\n.c\n']],
    ['bare CR, then a dot (smuggling)', ['a\r.\r\nb\rc']],
    ['CR at a chunk end, LF at the next start', ['a\r', '\nb']],
    ['CR at a chunk end, dot at the next start', ['a\r', '.b']],
    ['LF at a chunk end, dot at the next start', ['a\r\n', '.b']],
    ['strings as well as buffers', ['a\n', Buffer.from('.b\r'), 'c']],
    ['empty chunks', ['', 'a', '', '\n.', '']],
    ['only a CR', ['\r']],
    ['ends in LF', ['x\n']],
  ])('%s', async (_name, chunks) => {
    const expected = await stuff(originalDataStreamTransform, chunks);
    const actual = await stuff(fastDataStreamTransformForTests, chunks);
    expect(actual.out.toString('latin1')).toBe(expected.out.toString('latin1'));
    expect(actual.inBytes).toBe(expected.inBytes);
    expect(actual.outBytes).toBe(expected.outBytes);
  });

  it('matches on 2,000 random inputs of CR, LF, dots and letters in random chunks', async () => {
    const alphabet = [0x0d, 0x0a, 0x2e, 0x61, 0x62, 0x20];
    for (let seed = 1; seed <= 2000; seed++) {
      const random = createSeededRandom(seed).next;
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => alphabet[Math.floor(random() * alphabet.length)]!));
      const chunks = split(bytes, random);
      const expected = await stuff(originalDataStreamTransform, chunks);
      const actual = await stuff(fastDataStreamTransformForTests, chunks);
      expect(actual.out.equals(expected.out), `seed ${seed}: ${JSON.stringify(bytes.toString('latin1'))}`).toBe(true);
      expect(actual.outBytes, `seed ${seed}`).toBe(expected.outBytes);
    }
  });

  it('is what nodemailer uses once installed', () => {
    speedUpDataStream();
    expect((DataStream.prototype as unknown as { _transform: Transform })._transform).toBe(fastDataStreamTransformForTests);
  });
});
