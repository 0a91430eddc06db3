import type * as z from 'zod';
import { feedSchema, settingsSchema, subscriberSchema, subscribersFileSchema } from '../config/subscribers-schema.js';
import type { SubscribersFileParsed } from '../config/subscribers-schema.js';
import type { ConfigIssue } from '../model/errors.js';
import { parseSchedule } from '../schedule/parse-schedule.js';
import { isValidTimeZone } from '../schedule/zone-time.js';
import { didYouMean } from './find-close-matches.js';

/** Result of validating a subscribers document: the parsed value (defaults applied), or every problem found. */
export type SubscribersValidation = { ok: true; value: SubscribersFileParsed } | { ok: false; issues: ConfigIssue[] };

type PathSegment = PropertyKey;

/** `["subscribers", 2, "email"]` -> `subscribers[2].email`; odd keys are quoted (`settings["my key"]`). */
export function formatJsonPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

const slackKeys = ['channel', 'tokenEnv'];
const keywordKeys = ['include', 'exclude'];

/** Keys allowed at a path, for "did you mean" on unknown keys. */
function allowedKeysAt(path: readonly PathSegment[]): string[] {
  const [top, , key] = path;
  if (path.length === 0) return Object.keys(subscribersFileSchema.shape);
  if (top === 'settings' && path.length === 1) return Object.keys(settingsSchema.shape);
  if (top === 'feeds' && path.length === 2) return Object.keys(feedSchema.shape);
  if (top === 'subscribers' && path.length === 2) return Object.keys(subscriberSchema.shape);
  if (top === 'subscribers' && key === 'slack') return slackKeys;
  if (top === 'subscribers' && key === 'keywords') return keywordKeys;
  return [];
}

/** zod issues -> ConfigIssues with readable paths; unknown keys get one issue each, with a suggestion. */
function fromZodIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: formatJsonPath([...issue.path, key]), message: `unknown key "${key}";${didYouMean(key, allowedKeysAt(issue.path)) || ' remove it'}` });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && /received undefined$/.test(message)) message = `missing (expected ${issue.expected})`;
    if (issue.code === 'invalid_union' && issue.path.at(-1) === 'keywords') {
      message = 'expected a list of keywords, or { "include": [...], "exclude": [...] }';
    }
    out.push({ path: formatJsonPath(issue.path), message });
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function checkTimeZone(value: unknown, path: string, issues: ConfigIssue[]): void {
  if (typeof value === 'string' && value !== '' && !isValidTimeZone(value)) {
    issues.push({ path, message: `"${value}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)` });
  }
}

function checkSchedule(value: unknown, path: string, issues: ConfigIssue[]): void {
  if (typeof value !== 'string' || value === '') return;
  try {
    parseSchedule(value);
  } catch (error) {
    issues.push({ path, message: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * What zod cannot see: duplicate ids, subscribers pointing at feeds or tags that do not exist, one channel per
 * subscriber, time zones and schedules. Works on the raw document, guarding every access, so these problems
 * are reported together with zod's.
 */
function crossCheck(doc: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!isRecord(doc)) return issues;
  const feedIds = new Map<string, number>();
  const tags = new Set<string>();
  const feeds = Array.isArray(doc['feeds']) ? doc['feeds'] : [];
  feeds.forEach((feed, i) => {
    if (!isRecord(feed)) return;
    const id = feed['id'];
    if (typeof id === 'string') {
      const first = feedIds.get(id);
      if (first !== undefined) issues.push({ path: `feeds[${i}].id`, message: `duplicate feed id "${id}" (also feeds[${first}]); ids must be unique` });
      else feedIds.set(id, i);
    }
    if (Array.isArray(feed['tags'])) for (const tag of feed['tags']) if (typeof tag === 'string') tags.add(tag);
  });

  const settings = doc['settings'];
  if (isRecord(settings)) {
    checkTimeZone(settings['timezone'], 'settings.timezone', issues);
    checkSchedule(settings['schedule'], 'settings.schedule', issues);
  }

  const subscriberIds = new Map<string, number>();
  const subscribers = Array.isArray(doc['subscribers']) ? doc['subscribers'] : [];
  subscribers.forEach((subscriber, i) => {
    if (!isRecord(subscriber)) return;
    const at = `subscribers[${i}]`;
    const id = subscriber['id'];
    if (typeof id === 'string') {
      const first = subscriberIds.get(id);
      if (first !== undefined) issues.push({ path: `${at}.id`, message: `duplicate subscriber id "${id}" (also subscribers[${first}]); ids must be unique` });
      else subscriberIds.set(id, i);
    }
    const hasEmail = subscriber['email'] !== undefined;
    const hasSlack = subscriber['slack'] !== undefined;
    if (hasEmail && hasSlack) issues.push({ path: at, message: 'has both "email" and "slack"; a subscriber is reached on exactly one channel, remove one of them' });
    if (!hasEmail && !hasSlack) issues.push({ path: at, message: 'needs an "email" address or a "slack" channel' });
    for (const key of ['feeds', 'excludeFeeds'] as const) {
      const refs = subscriber[key];
      if (!Array.isArray(refs)) continue;
      refs.forEach((ref, j) => {
        if (typeof ref !== 'string' || ref === '*') return;
        if (ref.startsWith('tag:')) {
          const tag = ref.slice(4);
          if (!tags.has(tag)) issues.push({ path: `${at}.${key}[${j}]`, message: `no feed has the tag "${tag}";${didYouMean(tag, tags) || ' check the "tags" of your feeds'}` });
        } else if (!feedIds.has(ref)) {
          issues.push({ path: `${at}.${key}[${j}]`, message: `unknown feed "${ref}";${didYouMean(ref, feedIds.keys()) || ' it must be the id of an entry under "feeds", "tag:NAME" or "*"'}` });
        }
      });
    }
    checkTimeZone(subscriber['timezone'], `${at}.timezone`, issues);
    checkSchedule(subscriber['schedule'], `${at}.schedule`, issues);
  });
  return issues;
}

/**
 * Validates a parsed subscribers.json: the zod schema plus cross-checks (duplicate ids, unknown feed ids and tags,
 * exactly one channel per subscriber, IANA time zones, schedules). Reports every problem at once, each with its JSON
 * path (`subscribers[2].email`). `file` names the document in messages.
 */
export function validateSubscribersDocument(doc: unknown, file: string): SubscribersValidation {
  void file; // issues carry paths inside the document; the caller wraps them in ConfigError(file, issues)
  const parsed = subscribersFileSchema.safeParse(doc);
  const issues = [...(parsed.success ? [] : fromZodIssues(parsed.error.issues)), ...crossCheck(doc)];
  if (issues.length > 0 || !parsed.success) {
    return { ok: false, issues: sortIssues(issues) };
  }
  return { ok: true, value: parsed.data };
}

const SECTION_RANK: Record<string, number> = { settings: 1, feeds: 2, subscribers: 3 };

/** Stable sort by section (settings, feeds, subscribers) and item index, so the problems of one entry sit together. */
function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const rank = (path: string): [number, number] => {
    const match = /^([A-Za-z_$][A-Za-z0-9_$]*)(?:\[(\d+)\])?/.exec(path);
    if (!match) return [0, -1];
    return [SECTION_RANK[match[1] as string] ?? 0, match[2] !== undefined ? Number(match[2]) : -1];
  };
  return issues
    .map((issue) => ({ issue, rank: rank(issue.path) }))
    .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1])
    .map((s) => s.issue);
}
