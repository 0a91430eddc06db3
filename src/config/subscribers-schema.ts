import * as z from 'zod';

const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const idMessage = 'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** A feed id, "tag:NAME" or "*". */
const feedRef = z
  .string()
  .regex(/^(\*|tag:[A-Za-z0-9_.-]+|[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$/, 'expected a feed id, "tag:NAME" or "*"');

const keywordList = z.array(z.string().min(1).max(200)).max(200);

/** One feed under "feeds". */
export const feedSchema = z
  .object({
    id: z.string().regex(idPattern, idMessage).describe('Short stable id that subscribers refer to.'),
    url: z.string().min(1).max(2048).describe('http(s) URL of the feed, or a local file path (relative to this file).'),
    title: z.string().min(1).max(200).optional().describe("Display title; defaults to the feed's own title."),
    tags: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'tags use letters, digits, ".", "_" or "-"')).max(50).default([]),
  })
  .strict();

/** One subscriber under "subscribers": an email address or a Slack channel. */
export const subscriberSchema = z
  .object({
    id: z.string().regex(idPattern, idMessage).describe('Short stable id; the delivery ledger is keyed by it.'),
    name: z.string().min(1).max(200),
    email: z.email('not an email address').max(254).optional(),
    slack: z
      .object({
        channel: z.string().regex(/^(#?[a-z0-9_-]{1,80}|[CGD][A-Z0-9]{6,})$/, 'expected a channel id such as C0123456789 or a channel name such as #python-news'),
        tokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the NAME of an environment variable holding the bot token').optional(),
      })
      .strict()
      .optional(),
    feeds: z.array(feedRef).min(1, 'list at least one feed id, "tag:NAME" or "*"').default(['*']),
    excludeFeeds: z.array(feedRef).default([]),
    keywords: z
      .union([keywordList, z.object({ include: keywordList.default([]), exclude: keywordList.default([]) }).strict()])
      .default({ include: [], exclude: [] })
      .describe('Case-insensitive whole words or "quoted phrases" matched on title and summary; a plain list means include.'),
    schedule: z.string().min(1).max(100).optional().describe('"daily 07:00", "weekly mon 08:00", "hourly", "twice-daily 07:00,19:00" or a cron expression.'),
    timezone: z.string().min(1).max(64).optional().describe('IANA time zone, e.g. Europe/Berlin.'),
    paused: z.boolean().default(false),
    maxPerSource: z.number().int().min(1).max(100).optional(),
    sendEmpty: z.boolean().optional(),
    title: z.string().min(1).max(150).optional(),
  })
  .strict();

/** Settings shared by every subscriber unless they override them. */
export const settingsSchema = z
  .object({
    title: z.string().min(1).max(150).default('Planet digest').describe('Default digest title.'),
    timezone: z.string().min(1).max(64).optional().describe('Default IANA time zone (else DIGEST_TZ, else UTC).'),
    schedule: z.string().min(1).max(100).optional().describe('Default schedule (else DIGEST_CRON, else "daily 07:00").'),
    firstPollEntries: z.number().int().min(0).max(1000).default(3).describe('On the first successful poll of a feed, how many of its newest entries count as new; the rest are its backlog and are only marked as seen.'),
    maxPerSource: z.number().int().min(1).max(100).default(5).describe('Entries shown per source before "and N more".'),
    resumeCap: z.number().int().min(0).max(10000).default(50).describe('A resumed subscriber gets at most this many of the newest entries missed while paused.'),
    sendEmpty: z.boolean().default(false),
    subject: z.string().min(1).max(200).default('{count} new posts from {sources}').describe('Email subject pattern: {count}, {sources}, {title}, {date}.'),
  })
  .strict();

/** The whole subscribers.json file. */
export const subscribersFileSchema = z
  .object({
    $schema: z.string().optional(),
    settings: settingsSchema.default(settingsSchema.parse({})),
    feeds: z.array(feedSchema).max(100_000),
    subscribers: z.array(subscriberSchema).max(1_000_000),
  })
  .strict();

export type SubscribersFileInput = z.input<typeof subscribersFileSchema>;
export type SubscribersFileParsed = z.output<typeof subscribersFileSchema>;
export type Settings = z.output<typeof settingsSchema>;
