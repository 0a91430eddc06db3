import { DigestError } from '../model/errors.js';

/** Why an admin command refused to act. */
export type AdminErrorKind = 'not-found' | 'duplicate' | 'in-use' | 'invalid-input' | 'file';

/**
 * An admin command (subscribers/feeds add, remove, set, OPML import) was refused; nothing was written.
 * Uses the CONFIG_INVALID code because the request would have made subscribers.json wrong or refers to
 * something that is not in it.
 */
export class AdminError extends DigestError {
  readonly kind: AdminErrorKind;
  constructor(kind: AdminErrorKind, message: string, options?: { cause?: unknown; hint?: string }) {
    super('CONFIG_INVALID', message, options);
    this.kind = kind;
  }
}
