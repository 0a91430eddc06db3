import { createHash } from 'node:crypto';
import path from 'node:path';

/** `<dir>/<yyyy-mm-dd>/<subscriberId>-<12 hex of sha256(id)>`, shared by the outbox channels. */
export function outboxBasePath(dir: string, date: Date, subscriberId: string, id: string): string {
  const day = date.toISOString().slice(0, 10);
  const short = createHash('sha256').update(id).digest('hex').slice(0, 12);
  return path.join(dir, day, `${safeFileName(subscriberId)}-${short}`);
}

// Subscriber ids are validated by the config schema; this keeps a path separator or ".." out of a file name anyway.
function safeFileName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return safe.slice(0, 64) || '_';
}
