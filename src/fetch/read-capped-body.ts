import { Readable } from 'node:stream';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { FetchError } from './fetch-error.js';

/** How readCappedBody decodes and limits a body. */
export interface CappedBodyOptions {
  /** Maximum size of the DECODED body, bytes; exceeding it aborts the read at once. */
  maxBytes: number;
  /** Content-Encoding header value(s) (RFC 9110 §8.4), e.g. "gzip" or "gzip, br"; identity when absent. */
  contentEncoding?: string;
  /** For error messages. */
  url: string;
}

/** "10 MiB", "512 KiB", "300 bytes". */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

async function* asBuffers(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<Buffer> {
  for await (const chunk of source) yield typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Run chunks through a zlib stream, pulling (so zlib's backpressure bounds memory) and destroying everything on early exit. */
async function* throughZlib(source: AsyncIterable<Buffer>, z: Transform): AsyncGenerator<Buffer> {
  const input = Readable.from(source);
  // Errors of either side surface through iterating `z` (pipeline destroys it with the error).
  const piping = pipeline(input, z).catch(() => undefined);
  try {
    for await (const chunk of z) yield chunk as Buffer;
  } finally {
    input.destroy();
    z.destroy();
    await piping;
  }
}

/** Read the first `n` bytes, then hand back an iterable that replays them followed by the rest. */
async function peek(source: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; rest: AsyncGenerator<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  try {
    while (length < n) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      chunks.push(r.value);
      length += r.value.length;
    }
  } catch (err) {
    await it.return?.();
    throw err;
  }
  const head = Buffer.concat(chunks, length);
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }
  return { head, rest: rest() };
}

/** "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send raw deflate; sniff the zlib header. */
async function* inflateAuto(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const { head, rest } = await peek(source, 2);
  const zlibWrapped = head.length >= 2 && (head[0]! & 0x0f) === 8 && ((head[0]! << 8) | head[1]!) % 31 === 0;
  yield* throughZlib(rest, zlibWrapped ? zlib.createInflate() : zlib.createInflateRaw());
}

/** Gunzip when the bytes start with the gzip magic (a .gz file, or gzip sent without Content-Encoding). */
async function* gunzipIfMagic(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const { head, rest } = await peek(source, 2);
  if (head[0] === 0x1f && head[1] === 0x8b) yield* throughZlib(rest, zlib.createGunzip());
  else yield* rest;
}

function decoderFor(coding: string, url: string): (s: AsyncIterable<Buffer>) => AsyncIterable<Buffer> {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return (s) => throughZlib(s, zlib.createGunzip());
    case 'deflate':
      return inflateAuto;
    case 'br':
      return (s) => throughZlib(s, zlib.createBrotliDecompress());
    default:
      throw new FetchError('http', `Unsupported Content-Encoding "${coding}" from ${url}: the server must send gzip, deflate, br or no encoding`, { url });
  }
}

/**
 * Read a body stream, undoing Content-Encoding (applied in reverse order) and a gzip layer detected by its magic
 * bytes, streaming and pulling so memory stays bounded. Throws FetchError 'too-large' as soon as more than
 * maxBytes DECODED bytes arrive (a gzip bomb is stopped after maxBytes of output, not after it is inflated).
 */
export async function readCappedBody(source: AsyncIterable<Uint8Array | string>, options: CappedBodyOptions): Promise<Buffer> {
  const codings = (options.contentEncoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  let stream: AsyncIterable<Buffer> = asBuffers(source);
  for (const coding of codings.reverse()) stream = decoderFor(coding, options.url)(stream);
  stream = gunzipIfMagic(stream);

  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > options.maxBytes) {
      throw new FetchError('too-large', `Body of ${options.url} exceeds the ${formatBytes(options.maxBytes)} limit (counted after decompression); raise maxBytes if the feed really is that large`, {
        url: options.url,
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
