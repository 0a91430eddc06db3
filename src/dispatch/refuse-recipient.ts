import { sanitizeHeaderValue } from './build-digest-headers.js';
import type { DeliveryFailure } from './delivery-result.js';
import type { EmailMessage } from './email-channel.js';

// Deliberately plain: one "@", no spaces or brackets. The config schema validates addresses; this only stops a value
// that would turn into a different envelope once sanitised.
const PLAIN_ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;

/** A permanent failure when the recipient address cannot be used as is (CR/LF, not a plain address), else undefined. */
export function refuseRecipient(msg: Pick<EmailMessage, 'to' | 'subscriberId'>): DeliveryFailure | undefined {
  // eslint-disable-next-line no-control-regex
  const problem = /[\u0000-\u001f\u007f]/.test(msg.to) ? 'contains control characters (CR/LF)' : !PLAIN_ADDRESS.test(msg.to.trim()) ? 'is not a plain address like name@example.org' : undefined;
  if (!problem) return undefined;
  return { ok: false, permanent: true, code: 'EADDRESS', message: `Subscriber "${msg.subscriberId}": email address "${sanitizeHeaderValue(msg.to)}" ${problem}; fix it in subscribers.json.` };
}
