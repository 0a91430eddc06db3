/**
 * `planet-digest subscribers list|show|add|remove|pause|resume|set`: plain functions the CLI calls and prints.
 * Every change goes through editSubscribersFile (lock, re-read, validate, atomic write).
 */
import type { ChannelKind } from '../model/subscriber.js';
import { AdminError } from './admin-error.js';
import { deriveId } from './derive-feed-id.js';
import { editSubscribersFile } from './edit-subscribers-file.js';
import type { EditOptions, EditResult, SubscribersDocument } from './edit-subscribers-file.js';
import { didYouMean } from './find-close-matches.js';
import { formatTable } from './format-table.js';
import { parseBooleanValue, parseIntegerValue, parseListValue } from './parse-field-value.js';
import { resolveFeedIds } from '../group/resolve-feed-refs.js';

/** One subscriber as written in subscribers.json (before defaults). */
export type SubscriberEntry = SubscribersDocument['subscribers'][number];

/** What a changing command did: a line for the CLI to print, and the edit's details. */
export interface CommandResult {
  message: string;
  edit: EditResult;
}

/** One row of `subscribers list`. */
export interface SubscriberRow {
  id: string;
  name: string;
  channel: ChannelKind;
  /** The email address, or the Slack channel. */
  target: string;
  feeds: string[];
  excludeFeeds: string[];
  /** Own schedule, else the settings' one; undefined means the environment default (DIGEST_CRON, else daily 07:00). */
  schedule?: string;
  /** Own time zone, else the settings' one; undefined means the environment default (DIGEST_TZ, else UTC). */
  timezone?: string;
  paused: boolean;
}

/** Rows for `subscribers list`, in file order. Accepts the raw document or the validated one. */
export function listSubscribers(doc: Pick<SubscribersDocument, 'subscribers' | 'settings'>): SubscriberRow[] {
  return doc.subscribers.map((s) => {
    const row: SubscriberRow = {
      id: s.id,
      name: s.name,
      channel: s.slack ? 'slack' : 'email',
      target: s.slack ? s.slack.channel : (s.email ?? ''),
      feeds: [...(s.feeds ?? ['*'])],
      excludeFeeds: [...(s.excludeFeeds ?? [])],
      paused: s.paused ?? false,
    };
    const schedule = s.schedule ?? doc.settings?.schedule;
    const timezone = s.timezone ?? doc.settings?.timezone;
    if (schedule !== undefined) row.schedule = schedule;
    if (timezone !== undefined) row.timezone = timezone;
    return row;
  });
}

/** `subscribers list` as an aligned text table. */
export function formatSubscriberRows(rows: readonly SubscriberRow[]): string {
  if (rows.length === 0) return 'No subscribers yet. Add one with `planet-digest subscribers add`.';
  return formatTable(
    ['ID', 'NAME', 'CHANNEL', 'FEEDS', 'SCHEDULE', 'TIMEZONE', 'STATUS'],
    rows.map((r) => [
      r.id,
      r.name,
      `${r.channel}:${r.target}`,
      r.feeds.join(',') + (r.excludeFeeds.length > 0 ? ` -${r.excludeFeeds.join(',-')}` : ''),
      r.schedule ?? '(default)',
      r.timezone ?? '(default)',
      r.paused ? 'paused' : 'active',
    ]),
  );
}

function findSubscriberIndex(doc: Pick<SubscribersDocument, 'subscribers'>, id: string, file?: string): number {
  const index = doc.subscribers.findIndex((s) => s.id === id);
  if (index >= 0) return index;
  const ids = doc.subscribers.map((s) => s.id);
  const suggestion = didYouMean(id, ids);
  const known = ids.length === 0 ? ' There are no subscribers.' : suggestion || ` Known ids: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}.`;
  throw new AdminError('not-found', `no subscriber with id "${id}"${file ? ` in ${file}` : ''}.${known}`, {
    hint: 'Run `planet-digest subscribers list` to see the ids.',
  });
}

/** Everything `subscribers show` prints. */
export interface SubscriberDetails {
  row: SubscriberRow;
  /** The entry exactly as in the file. */
  subscriber: SubscriberEntry;
  /** Feed ids this subscriber receives, with "*", tags and excludeFeeds resolved. */
  resolvedFeeds: string[];
}

/** One subscriber with its resolved feed list; AdminError (with close matches) for an unknown id. */
export function showSubscriber(doc: Pick<SubscribersDocument, 'subscribers' | 'settings' | 'feeds'>, id: string): SubscriberDetails {
  const index = findSubscriberIndex(doc, id);
  const subscriber = doc.subscribers[index] as SubscriberEntry;
  const row = listSubscribers({ subscribers: [subscriber], settings: doc.settings })[0] as SubscriberRow;
  return { row, subscriber, resolvedFeeds: resolveFeedIds(subscriber, doc.feeds) };
}

/** `subscribers show` as text: the entry as JSON, then the feeds it resolves to. */
export function formatSubscriberDetails(details: SubscriberDetails): string {
  const { row, subscriber, resolvedFeeds } = details;
  return [
    `${row.id} (${row.name}) — ${row.channel} ${row.target}, ${row.paused ? 'paused' : 'active'}`,
    `schedule: ${row.schedule ?? '(default)'}; time zone: ${row.timezone ?? '(default)'}`,
    `receives ${resolvedFeeds.length} feed${resolvedFeeds.length === 1 ? '' : 's'}: ${resolvedFeeds.join(', ') || '(none)'}`,
    JSON.stringify(subscriber, null, 2),
  ].join('\n');
}

/** What `subscribers add` takes; lists may be given as "a,b" strings. */
export interface AddSubscriberInput {
  /** Derived from the name when absent (then made unique). */
  id?: string;
  name: string;
  email?: string;
  /** Slack channel id (C…) or name (#news). */
  slack?: string;
  /** Environment variable holding the workspace's bot token (Slack only). */
  slackTokenEnv?: string;
  feeds?: string | string[];
  excludeFeeds?: string | string[];
  /** Keywords to include. */
  keywords?: string | string[];
  /** Keywords to exclude. */
  excludeKeywords?: string | string[];
  schedule?: string;
  timezone?: string;
  paused?: boolean;
  maxPerSource?: number;
  sendEmpty?: boolean;
  title?: string;
}

/** Builds the entry in the key order used across subscribers.json; only what was given is written. */
function buildSubscriber(input: AddSubscriberInput, id: string): SubscriberEntry {
  const entry: Record<string, unknown> = { id, name: input.name.trim() };
  if (input.email !== undefined) entry['email'] = input.email.trim();
  if (input.slack !== undefined) {
    entry['slack'] = input.slackTokenEnv !== undefined ? { channel: input.slack.trim(), tokenEnv: input.slackTokenEnv.trim() } : { channel: input.slack.trim() };
  }
  if (input.feeds !== undefined) entry['feeds'] = parseListValue(input.feeds);
  if (input.excludeFeeds !== undefined) entry['excludeFeeds'] = parseListValue(input.excludeFeeds);
  if (input.keywords !== undefined || input.excludeKeywords !== undefined) {
    const include = input.keywords !== undefined ? parseListValue(input.keywords) : [];
    entry['keywords'] = input.excludeKeywords !== undefined ? { include, exclude: parseListValue(input.excludeKeywords) } : include;
  }
  for (const key of ['schedule', 'timezone', 'paused', 'maxPerSource', 'sendEmpty', 'title'] as const) {
    const value = input[key];
    if (value !== undefined) entry[key] = typeof value === 'string' ? value.trim() : value;
  }
  return entry as SubscriberEntry;
}

/** `subscribers add`: appends a subscriber; refuses a duplicate id and requires exactly one of email / slack. */
export async function addSubscriber(file: string, input: AddSubscriberInput, options?: EditOptions): Promise<CommandResult & { subscriber: SubscriberEntry }> {
  if (input.email === undefined && input.slack === undefined) {
    throw new AdminError('invalid-input', 'a subscriber needs an email address or a Slack channel', { hint: 'Pass --email ADDRESS or --slack CHANNEL.' });
  }
  if (input.email !== undefined && input.slack !== undefined) {
    throw new AdminError('invalid-input', 'give either an email address or a Slack channel, not both (add two subscribers to reach both)');
  }
  if (input.slackTokenEnv !== undefined && input.slack === undefined) {
    throw new AdminError('invalid-input', 'a Slack token variable only applies to a Slack subscriber');
  }
  let subscriber: SubscriberEntry | undefined;
  const edit = await editSubscribersFile(
    file,
    (doc) => {
      const taken = new Set(doc.subscribers.map((s) => s.id));
      let id = input.id?.trim();
      if (id !== undefined && taken.has(id)) {
        const other = doc.subscribers.find((s) => s.id === id);
        throw new AdminError('duplicate', `a subscriber with id "${id}" already exists (${other?.name ?? ''}, ${other?.slack?.channel ?? other?.email ?? ''})`, {
          hint: 'Choose another id, or change the existing subscriber with `planet-digest subscribers set`.',
        });
      }
      id ??= deriveId(input.name, taken, input.email?.split('@')[0] ?? 'subscriber');
      subscriber = buildSubscriber(input, id);
      doc.subscribers.push(subscriber);
    },
    options,
  );
  const added = subscriber as SubscriberEntry;
  const channel = added.slack ? `Slack ${added.slack.channel}` : `email ${added.email ?? ''}`;
  return { message: `Added subscriber "${added.id}" (${added.name}, ${channel}).`, edit, subscriber: added };
}

/** `subscribers remove`: deletes the entry; AdminError listing close matches for an unknown id. */
export async function removeSubscriber(file: string, id: string, options?: EditOptions): Promise<CommandResult & { subscriber: SubscriberEntry }> {
  let removed: SubscriberEntry | undefined;
  const edit = await editSubscribersFile(
    file,
    (doc) => {
      const index = findSubscriberIndex(doc, id, file);
      [removed] = doc.subscribers.splice(index, 1);
    },
    options,
  );
  return { message: `Removed subscriber "${id}". Their delivery history stays in the store until it expires.`, edit, subscriber: removed as SubscriberEntry };
}

async function setPaused(file: string, id: string, paused: boolean, options?: EditOptions): Promise<CommandResult> {
  let resumeCap = 50;
  const edit = await editSubscribersFile(
    file,
    (doc) => {
      const subscriber = doc.subscribers[findSubscriberIndex(doc, id, file)] as SubscriberEntry;
      subscriber.paused = paused;
      resumeCap = doc.settings?.resumeCap ?? resumeCap;
    },
    options,
  );
  if (!edit.changed) return { message: `Subscriber "${id}" is already ${paused ? 'paused' : 'active'}.`, edit };
  const message = paused
    ? `Paused subscriber "${id}"; no digests until \`planet-digest subscribers resume ${id}\`.`
    : `Resumed subscriber "${id}"; the next digest includes at most ${resumeCap} of the newest entries missed while paused (settings.resumeCap).`;
  return { message, edit };
}

/** `subscribers pause`: sets paused true. */
export function pauseSubscriber(file: string, id: string, options?: EditOptions): Promise<CommandResult> {
  return setPaused(file, id, true, options);
}

/** `subscribers resume`: sets paused false. */
export function resumeSubscriber(file: string, id: string, options?: EditOptions): Promise<CommandResult> {
  return setPaused(file, id, false, options);
}

type FieldKind = 'string' | 'list' | 'boolean' | 'integer';

/** Fields `subscribers set` can change, with how their value is read. */
export const SUBSCRIBER_FIELDS: Readonly<Record<string, FieldKind>> = {
  name: 'string',
  email: 'string',
  slack: 'string',
  'slack.channel': 'string',
  'slack.tokenEnv': 'string',
  feeds: 'list',
  excludeFeeds: 'list',
  keywords: 'list',
  'keywords.include': 'list',
  'keywords.exclude': 'list',
  schedule: 'string',
  timezone: 'string',
  paused: 'boolean',
  maxPerSource: 'integer',
  sendEmpty: 'boolean',
  title: 'string',
};

function parseFieldValue(kind: FieldKind, key: string, value: string): unknown {
  switch (kind) {
    case 'list':
      return parseListValue(value);
    case 'boolean':
      return parseBooleanValue(value, key);
    case 'integer':
      return parseIntegerValue(value, key);
    default:
      return value.trim();
  }
}

/**
 * `subscribers set ID KEY VALUE`: changes one field (see SUBSCRIBER_FIELDS; "slack.channel", "keywords.exclude" reach
 * inside). Lists are "a,b" or a JSON array, booleans true/false/yes/no, numbers decimal. `value` null removes an
 * optional field. Setting email on a Slack subscriber (or slack on an email one) switches the channel. The id cannot
 * change: the delivery ledger is keyed by it.
 */
export async function setSubscriberField(file: string, id: string, key: string, value: string | null, options?: EditOptions): Promise<CommandResult> {
  if (key === 'id') {
    throw new AdminError('invalid-input', 'the id of a subscriber cannot be changed: their delivery history is kept under it', {
      hint: 'Add a new subscriber with the new id, then remove the old one.',
    });
  }
  const kind = SUBSCRIBER_FIELDS[key];
  if (kind === undefined) {
    throw new AdminError('invalid-input', `"${key}" is not a subscriber field.${didYouMean(key, Object.keys(SUBSCRIBER_FIELDS))}`, {
      hint: `Fields: ${Object.keys(SUBSCRIBER_FIELDS).join(', ')}.`,
    });
  }
  const parsed = value === null ? undefined : parseFieldValue(kind, key, value);
  const notes: string[] = [];
  const edit = await editSubscribersFile(
    file,
    (doc) => {
      const subscriber = doc.subscribers[findSubscriberIndex(doc, id, file)] as Record<string, unknown> & SubscriberEntry;
      const [top, sub] = key.split('.') as [string, string | undefined];
      if (top === 'slack') {
        if (sub === 'tokenEnv' && !subscriber.slack) throw new AdminError('invalid-input', `subscriber "${id}" is an email subscriber; set slack first`);
        if (parsed === undefined && sub !== 'tokenEnv') {
          delete subscriber.slack;
        } else if (sub === 'tokenEnv') {
          const slack = subscriber.slack as { channel: string; tokenEnv?: string };
          if (parsed === undefined) delete slack.tokenEnv;
          else slack.tokenEnv = parsed as string;
        } else {
          if (subscriber.slack) subscriber.slack.channel = parsed as string;
          else subscriber.slack = { channel: parsed as string };
          if (subscriber.email !== undefined) {
            notes.push(`replaces the email address ${subscriber.email}`);
            delete subscriber.email;
          }
        }
        return;
      }
      if (top === 'email' && parsed !== undefined && subscriber.slack) {
        notes.push(`replaces the Slack channel ${subscriber.slack.channel}`);
        delete subscriber.slack;
      }
      if (top === 'keywords') {
        const current = subscriber.keywords;
        if (parsed === undefined && sub === undefined) {
          delete subscriber.keywords;
          return;
        }
        let include = Array.isArray(current) ? current : (current?.include ?? []);
        let exclude = Array.isArray(current) ? [] : (current?.exclude ?? []);
        if (sub === 'exclude') exclude = (parsed as string[] | undefined) ?? [];
        else include = (parsed as string[] | undefined) ?? [];
        // Keep the shape the admin chose: an object stays an object; a plain list (meaning include) stays a list
        // until exclusions are added.
        if ((current !== undefined && !Array.isArray(current)) || exclude.length > 0) subscriber.keywords = { include, exclude };
        else if (include.length > 0) subscriber.keywords = include;
        else delete subscriber.keywords;
        return;
      }
      if (parsed === undefined) delete subscriber[top];
      else subscriber[top] = parsed;
    },
    options,
  );
  const shown = value === null ? 'removed' : `= ${JSON.stringify(parsed)}`;
  const message = edit.changed ? `Subscriber "${id}": ${key} ${shown}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}.` : `Subscriber "${id}": ${key} already ${value === null ? 'unset' : 'has that value'}.`;
  return { message, edit };
}
