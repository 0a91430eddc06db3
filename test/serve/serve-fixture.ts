import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { removeSubscriber } from '../../src/admin/subscriber-commands.js';
import { AdminError } from '../../src/admin/admin-error.js';
import { subscribersFileSchema } from '../../src/config/subscribers-schema.js';
import type { Logger } from '../../src/model/logger.js';
import { createServer, type DigestServer, type ServerOptions } from '../../src/serve/create-server.js';
import { openStore } from '../../src/store/open-store.js';
import type { SeenStore } from '../../src/store/seen-store.js';

/** Secret the test servers sign and verify with. */
export const SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

// Written piece by piece so a test can build the exact text expected after one subscriber is removed:
// the safe editor must keep the hand-written layout (inline arrays, key order, 2-space indent) of everything else.
const HEAD = `{
  "settings": {
    "title": "Test digest",
    "timezone": "Europe/Berlin",
    "schedule": "daily 07:00"
  },
  "feeds": [
    { "id": "alpha", "url": "feeds/alpha.xml", "title": "Alpha", "tags": ["python", "web"] },
    { "id": "beta", "url": "feeds/beta.xml", "tags": ["rust"] }
  ],
  "subscribers": [
`;
const TAIL = `
  ]
}
`;

/** The subscriber blocks of the fixture file, by id, exactly as written. */
export const SUBSCRIBER_BLOCKS: Record<string, string> = {
  alice: `    {
      "id": "alice",
      "name": "Alice Example",
      "email": "alice@example.org",
      "feeds": ["*"],
      "keywords": { "include": ["asyncio"], "exclude": [] }
    }`,
  bob: `    {
      "id": "bob",
      "name": "Bob",
      "email": "bob@example.org",
      "feeds": ["tag:python"],
      "schedule": "weekly mon 08:00"
    }`,
  'team-news': `    {
      "id": "team-news",
      "name": "Team channel",
      "slack": { "channel": "C0123456789" },
      "feeds": ["alpha", "beta"],
      "paused": false
    }`,
};

/** The fixture subscribers.json with the given subscribers (in this order), as text. */
export function subscribersText(ids: readonly string[] = Object.keys(SUBSCRIBER_BLOCKS)): string {
  return HEAD + ids.map((id) => SUBSCRIBER_BLOCKS[id]).join(',\n') + TAIL;
}

/** Subscriber ids in the file, after checking it still validates against the schema. */
export async function subscriberIds(file: string): Promise<string[]> {
  const parsed = subscribersFileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  return parsed.subscribers.map((s) => s.id);
}

/** A logger that keeps what it was given, so tests can check what reaches the logs. */
export interface RecordingLogger extends Logger {
  lines: Array<{ level: string; obj: unknown; msg?: string }>;
}

/** A Logger recording every call. */
export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const logger: RecordingLogger = {
    lines,
    debug: (obj, msg) => void lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
    child: () => logger,
  };
  return logger;
}

/** The unsubscribe callback wired like src/cli/serve-command.ts: the real removeSubscriber, "not found" means already gone. */
export function unsubscribeFrom(file: string): (subscriberId: string) => Promise<boolean> {
  return async (subscriberId) => {
    try {
      await removeSubscriber(file, subscriberId);
      return true;
    } catch (error) {
      if (error instanceof AdminError && error.kind === 'not-found') return false;
      throw error;
    }
  };
}

/** A temp dir with subscribers.json and a real SQLite store; servers started through it are closed by `dispose`. */
export interface ServeFixture {
  dir: string;
  file: string;
  storeUrl: string;
  store: SeenStore;
  logger: RecordingLogger;
  /** Starts a server on 127.0.0.1:0 over this fixture's file and store. */
  start(overrides?: Partial<ServerOptions>): Promise<DigestServer>;
  /** Closes the servers and the store, then opens the store again (a process restart, as far as the data goes). */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

/** Creates a ServeFixture; its subscribers.json holds alice, bob and team-news. */
export async function createServeFixture(): Promise<ServeFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'planet-digest-serve-'));
  const file = path.join(dir, 'subscribers.json');
  await writeFile(file, subscribersText(), 'utf8');
  const storeUrl = `sqlite://${path.join(dir, 's.sqlite')}`;
  const servers: DigestServer[] = [];
  const fixture: ServeFixture = {
    dir,
    file,
    storeUrl,
    store: await openStore(storeUrl),
    logger: recordingLogger(),
    async start(overrides = {}) {
      const server = await createServer({
        host: '127.0.0.1',
        port: 0,
        store: fixture.store,
        secret: SECRET,
        logger: fixture.logger,
        unsubscribe: unsubscribeFrom(file),
        ...overrides,
      });
      servers.push(server);
      return server;
    },
    async restart() {
      await Promise.all(servers.splice(0).map((s) => s.close()));
      await fixture.store.close();
      fixture.store = await openStore(storeUrl);
    },
    async dispose() {
      await Promise.all(servers.splice(0).map((s) => s.close()));
      await fixture.store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}
