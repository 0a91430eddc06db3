import { DigestError } from '../model/errors.js';
import type { FetchErrorKind } from '../model/feed.js';

/** Details carried by a FetchError besides its kind and message. */
export interface FetchErrorDetails {
  /** The URL (or file path) being fetched when it failed. */
  url: string;
  /** HTTP status of the failing response, when there was one. */
  status?: number;
  /** Retry-After of a 429/503 response, in seconds from now. */
  retryAfterSeconds?: number;
  /** True for 410 Gone: the feed is not polled again until its configured URL changes. */
  gone?: boolean;
  cause?: unknown;
  hint?: string;
}

/** A feed could not be fetched; `kind` says why (shown in the feed health view), the message says what to do. */
export class FetchError extends DigestError {
  readonly kind: FetchErrorKind;
  readonly url: string;
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  readonly gone?: boolean;
  constructor(kind: FetchErrorKind, message: string, details: FetchErrorDetails) {
    super('FETCH_FAILED', message, { cause: details.cause, hint: details.hint });
    this.kind = kind;
    this.url = details.url;
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterSeconds !== undefined) this.retryAfterSeconds = details.retryAfterSeconds;
    if (details.gone) this.gone = true;
  }
}
