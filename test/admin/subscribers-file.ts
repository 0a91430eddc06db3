import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A hand-written subscribers.json with habits a generic serializer would destroy: 4-space indentation, inline
 * objects and arrays, keys in an unusual order (name before id), a $schema line and a trailing newline.
 */
export const SUBSCRIBERS_JSON = `{
    "$schema": "./schema/subscribers.schema.json",
    "settings": {
        "title": "Team digest",
        "timezone": "Europe/Berlin",
        "schedule": "daily 07:00",
        "resumeCap": 20
    },
    "feeds": [
        { "id": "python", "url": "https://planetpython.org/rss20.xml", "title": "Planet Python", "tags": ["python", "community"] },
        {
            "url": "https://blog.rust-lang.org/feed.xml",
            "id": "rust",
            "tags": ["systems"]
        },
        { "id": "lwn", "url": "https://lwn.net/headlines/rss", "tags": ["systems", "linux"] }
    ],
    "subscribers": [
        {
            "name": "Alice",
            "id": "alice",
            "email": "alice@example.org",
            "feeds": ["python", "tag:systems"],
            "keywords": ["asyncio", "\\"type hints\\""]
        },
        {
            "id": "news-channel",
            "name": "#news",
            "slack": { "channel": "#news" },
            "feeds": ["*"],
            "excludeFeeds": ["lwn"],
            "schedule": "weekly mon 08:00",
            "paused": false
        }
    ]
}
`;

/**
 * Parsed JSON for assertions and for tests that deliberately break the document's shape.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary, intentionally invalid JSON
export type LooseJson = any;

/** A temp folder holding a subscribers.json; `cleanup` removes it. */
export interface TempSubscribers {
  dir: string;
  file: string;
  read(): Promise<string>;
  readJson(): Promise<LooseJson>;
  /** Names in the folder other than the file itself (backups, locks, temp files). */
  others(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** Copies `text` (default SUBSCRIBERS_JSON) to subscribers.json in a fresh temp folder. */
export async function tempSubscribers(text: string = SUBSCRIBERS_JSON): Promise<TempSubscribers> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pd-admin-'));
  const file = path.join(dir, 'subscribers.json');
  await writeFile(file, text);
  const read = (): Promise<string> => readFile(file, 'utf8');
  return {
    dir,
    file,
    read,
    readJson: async () => JSON.parse(await read()) as LooseJson,
    others: async () => (await readdir(dir)).filter((n) => n !== 'subscribers.json').sort(),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
