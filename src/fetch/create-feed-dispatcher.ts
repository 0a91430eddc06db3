import { Agent } from 'undici';
import { createGuardedLookup } from './is-private-address.js';

/** Options of the undici Agent used for feed fetching. */
export interface FeedDispatcherOptions {
  /** false: connections only go to public addresses (host names are resolved through the private-address guard). */
  allowPrivate: boolean;
  /** TCP+TLS connect timeout, ms (default 10000). */
  connectTimeoutMs?: number;
  /** Upper bound for waiting on headers and between body chunks, ms (default 30000); fetchFeed's total timeout applies on top. */
  timeoutMs?: number;
}

/**
 * An undici Agent for feeds: connect timeout, and unless allowPrivate, a DNS lookup that refuses loopback / private /
 * link-local / CGNAT / multicast addresses. Share one per run (HTTPS connections are reused; fetchFeed closes plain-HTTP
 * ones after each response) and `close()` it afterwards.
 */
export function createFeedDispatcher(options: FeedDispatcherOptions): Agent {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Agent({
    connect: {
      timeout: options.connectTimeoutMs ?? 10_000,
      ...(options.allowPrivate ? {} : { lookup: createGuardedLookup() }),
    },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // No redirect interceptor: fetchFeed follows redirects itself so every hop is checked.
  });
}
