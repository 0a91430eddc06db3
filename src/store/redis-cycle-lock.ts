import { LockedError } from '../model/errors.js';
import { checkLockTtl, createLockOwner, type CycleLockProvider } from './cycle-lock-provider.js';
import type { CycleLock } from './seen-store.js';

/** The slice of @redis/client (v5) the lock uses; the client is the one @keyv/redis talks through. */
export interface RedisLockClient {
  set(key: string, value: string, options: { condition: 'NX'; expiration: { type: 'PX'; value: number } }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/*
 * SET key owner NX PX ttl is Redis' own atomic "take if absent, with expiry" (https://redis.io/docs/latest/commands/set/),
 * and the server expires the key, so no clock comparison happens on our side. Refresh and release must only touch our
 * own lock: a GET-compare-then-write from the client would race with a takeover, so both run as Lua scripts, which
 * Redis executes atomically.
 */
// Only while the key still holds our owner. Redis deletes an expired key, so after expiry "nobody took it" cannot be told
// from "another run took it and released it": re-creating it could let a stalled cycle carry on from cursors that
// run moved, so an expired lock counts as lost.
const REFRESH = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** Cycle lock as a Redis key taken with SET NX PX; refresh and release compare the owner in a Lua script. */
export class RedisCycleLock implements CycleLockProvider {
  private readonly client: () => Promise<RedisLockClient>;
  private readonly prefix: string;

  /** `client` returns the connected client (reconnecting when needed); keys are `<namespace>::lock:<name>`, beside keyv's `<namespace>::…`. */
  constructor(client: () => Promise<RedisLockClient>, options: { namespace: string }) {
    this.client = client;
    this.prefix = `${options.namespace}::lock:`;
  }

  async acquire(name: string, ttlMs: number): Promise<CycleLock | undefined> {
    checkLockTtl(ttlMs);
    const key = this.prefix + name;
    const owner = createLockOwner();
    const reply = await (await this.client()).set(key, owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } });
    if (reply !== 'OK') return undefined;
    let released = false;
    return {
      refresh: async () => {
        // Extends our own lock while it has not expired (see REFRESH).
        const ok = !released && Number(await (await this.client()).eval(REFRESH, { keys: [key], arguments: [owner, String(ttlMs)] })) === 1;
        if (!ok) {
          throw new LockedError(`The cycle lock "${name}" was lost: it ${released ? 'was released' : 'expired, and another run may have taken it'}`, {
            hint: 'Raise the lock TTL or refresh the lock more often during long cycles.',
          });
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        await (await this.client()).eval(RELEASE, { keys: [key], arguments: [owner] });
      },
    };
  }
}
