import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../model/errors.js';
import type { FeedConfig } from '../model/feed.js';
import type { Subscriber } from '../model/subscriber.js';
import type { Settings, SubscribersFileParsed } from './subscribers-schema.js';
import { describeJsonError } from './describe-json-error.js';
import { validateSubscribersDocument } from '../admin/validate-subscribers-document.js';

/** The validated contents of subscribers.json, with relative feed paths resolved. */
export interface DigestConfig {
  /** Absolute path of the subscribers file. */
  file: string;
  /** Folder of the file: relative feed paths resolve against it, and local feeds may only be read below it. */
  baseDir: string;
  settings: Settings;
  feeds: FeedConfig[];
  subscribers: Subscriber[];
}

/** Reads, parses and validates subscribers.json; throws ConfigError listing every problem with its JSON path. */
export async function loadDigestConfig(file: string): Promise<DigestConfig> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(abs, [{ path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(error)})` }], {
      cause: error,
      hint: code === 'ENOENT' ? 'Create it (see README: subscribers.json) or point --subscribers / DIGEST_SUBSCRIBERS at it.' : undefined,
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(abs, [{ path: '', message: `not valid JSON: ${describeJsonError(text, error)}` }], { cause: error });
  }
  return toDigestConfig(doc, abs);
}

/** Validates an already parsed document (used by loadDigestConfig and tests). */
export function toDigestConfig(doc: unknown, file: string): DigestConfig {
  const result = validateSubscribersDocument(doc, file);
  if (!result.ok) throw new ConfigError(file, result.issues, { hint: 'Fix these entries and run `planet-digest validate` again.' });
  const parsed: SubscribersFileParsed = result.value;
  const baseDir = path.dirname(file);
  return {
    file,
    baseDir,
    settings: parsed.settings,
    feeds: parsed.feeds.map((f) => ({ ...f, url: resolveFeedUrl(f.url, baseDir) })),
    subscribers: parsed.subscribers.map((s) => ({
      ...s,
      keywords: Array.isArray(s.keywords) ? { include: s.keywords, exclude: [] } : s.keywords,
    })),
  };
}

/** http(s) and file: URLs stay as they are; anything else is a path relative to the subscribers file. */
export function resolveFeedUrl(url: string, baseDir: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  return path.resolve(baseDir, url);
}
