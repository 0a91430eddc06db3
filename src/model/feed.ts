/** A feed as configured in subscribers.json. */
export interface FeedConfig {
  /** Short stable id, referenced by subscribers (letters, digits, - and _). */
  id: string;
  /** http(s) URL, or a local file path (relative paths resolve against the subscribers file). */
  url: string;
  /** Display title; when absent the feed's own title is used. */
  title?: string;
  tags: string[];
}

/** HTTP validators remembered per feed for conditional GET (RFC 9110 §8.8, §13.1). */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/** Why a poll failed, for the admin's feed health view. */
export type FetchErrorKind =
  | 'timeout'
  | 'http'
  | 'tls'
  | 'dns'
  | 'network'
  | 'too-large'
  | 'redirect'
  | 'refused'
  | 'parse'
  | 'file';

/** What the store keeps per feed between cycles: conditional-GET validators and health. */
export interface FeedState {
  feedId: string;
  /** The URL to poll; differs from the configured one after a permanent redirect (301/308). */
  url: string;
  /** The configured URL this state belongs to; a config change resets url. */
  configuredUrl: string;
  validators: Validators;
  /** Feed title and site link from the last successful parse. */
  title?: string;
  link?: string;
  /** ISO timestamps. */
  lastPollAt?: string;
  lastSuccessAt?: string;
  lastErrorAt?: string;
  lastError?: string;
  lastErrorKind?: FetchErrorKind;
  /** HTTP status of the last failure when there was one. */
  lastErrorStatus?: number;
  consecutiveFailures: number;
  /** Failing since (ISO), for "failing for more than X" reports. */
  failingSince?: string;
  /** Earliest time of the next poll (backoff, Retry-After, Cache-Control max-age). */
  nextPollAt?: string;
  /** 410 Gone: not polled again until the admin changes its URL. */
  gone: boolean;
  /** Entries currently remembered for this feed. */
  entryCount: number;
  /** True once a poll succeeded; the first successful poll follows the first-poll policy. */
  polledOnce: boolean;
  /** The configured URL changed since the last successful poll: the next one follows the first-poll policy again. */
  urlChanged?: boolean;
  /**
   * SHA-256 (base64url) of the planet-digest version and the last body that parsed and whose entries were recorded. A
   * server that ignores conditional GET and sends the same bytes again gets treated as a 304: the body is not parsed a
   * second time, until a new version (whose parser may read more) polls it.
   */
  bodyHash?: string;
}
