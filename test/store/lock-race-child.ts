/*
 * Child process for the cross-process lock race in seen-store.test.ts.
 * argv: <store url> <namespace>. Prints "ready" once the store is open. On each stdin line "go <lock name> <epoch ms>"
 * it waits until that instant (so all racers fire together), tries acquireLock and prints {"name","won"} as JSON.
 * "quit" closes the store and exits. Locks won are kept (never released) so a late racer cannot win afterwards.
 */
import { createInterface } from 'node:readline';
import { openStore } from '../../src/store/open-store.js';

const [url, namespace] = process.argv.slice(2);
if (!url || !namespace) throw new Error('usage: lock-race-child.ts <url> <namespace>');
const store = await openStore(url, { namespace });
process.stdout.write('ready\n');

for await (const line of createInterface({ input: process.stdin })) {
  const [command, name, at] = line.trim().split(' ');
  if (command === 'quit') break;
  if (command !== 'go' || !name) continue;
  const wait = Number(at) - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const lock = await store.acquireLock(name, 60_000);
  process.stdout.write(JSON.stringify({ name, won: lock !== undefined }) + '\n');
}
await store.close();
