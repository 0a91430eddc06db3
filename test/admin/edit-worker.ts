/**
 * Child process for the concurrency and crash tests (run with `node --import tsx`):
 *   add FILE ID GOFILE  — print "ready", wait until GOFILE exists, add subscriber ID, print "span BEGIN END" (ms)
 *   crash FILE          — start an edit and SIGKILL itself in the middle of it (lock held, nothing written)
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { editSubscribersFile } from '../../src/admin/edit-subscribers-file.js';
import { addSubscriber } from '../../src/admin/subscriber-commands.js';

const [mode, file = '', id = '', goFile = ''] = process.argv.slice(2);

if (mode === 'add') {
  process.stdout.write('ready\n');
  while (!existsSync(goFile)) await sleep(5);
  const begin = Date.now();
  await addSubscriber(file, { id, name: `Subscriber ${id}`, email: `${id}@example.org`, feeds: 'python' }, { lockTimeoutMs: 60_000 });
  process.stdout.write(`span ${begin} ${Date.now()}\n`);
} else if (mode === 'crash') {
  await editSubscribersFile(file, (doc) => {
    doc.subscribers.push({ id: 'never', name: 'Never written', email: 'never@example.org' });
    process.kill(process.pid, 'SIGKILL');
  });
} else {
  throw new Error(`unknown mode ${mode}`);
}
