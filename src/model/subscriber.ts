/** Keyword filter on title and summary: case-insensitive, whole words, "quoted phrases". */
export interface KeywordFilter {
  include: string[];
  exclude: string[];
}

/** A digest recipient as configured in subscribers.json (email address or Slack channel). */
export interface Subscriber {
  id: string;
  name: string;
  email?: string;
  slack?: {
    /** Channel id (C…) or name. */
    channel: string;
    /** Name of the environment variable holding this workspace's bot token; default SLACK_BOT_TOKEN. */
    tokenEnv?: string;
  };
  /** Feed ids, "tag:NAME" or "*" for every feed. */
  feeds: string[];
  /** Feed ids or "tag:NAME" to leave out. */
  excludeFeeds: string[];
  keywords: KeywordFilter;
  /** "daily 07:00", "weekly mon 08:00", "hourly", "twice-daily 07:00,19:00" or a cron expression. */
  schedule?: string;
  /** IANA time zone. */
  timezone?: string;
  paused: boolean;
  /** Maximum entries shown per source before "and N more". */
  maxPerSource?: number;
  /** Send a digest even when it has nothing in it (default false). */
  sendEmpty?: boolean;
  /** Custom digest title. */
  title?: string;
}

/** The channel a subscriber is reached on. */
export type ChannelKind = 'email' | 'slack';

/** Channel of a subscriber. */
export function channelOf(subscriber: Subscriber): ChannelKind {
  return subscriber.slack ? 'slack' : 'email';
}
