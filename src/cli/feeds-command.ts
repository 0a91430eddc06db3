import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { formatTable } from '../admin/format-table.js';

// The admin code (OPML parser, validation) loads only for the command that needs it.
const admin = () => import('../admin/feed-commands.js');
import type { FeedState } from '../model/feed.js';
import { openStore } from '../store/open-store.js';
import { redactStoreUrl } from '../store/store-url.js';
import type { CliContext } from './main.js';
import { readSubscribersDocument } from './read-subscribers-document.js';

/** One row of the feed health view. */
interface FeedHealth {
  id: string;
  title?: string;
  url: string;
  state: 'ok' | 'failing' | 'gone' | 'new';
  lastSuccess?: string;
  lastError?: string;
  lastErrorKind?: string;
  consecutiveFailures: number;
  nextPoll?: string;
  entriesKnown: number;
  subscribers: number;
}

/** `planet-digest feeds …`: feed health, and safe edits of the feeds in subscribers.json. */
export function registerFeedsCommand(program: Command, ctx: CliContext): void {
  const feeds = program
    .command('feeds')
    .description('Show feed health (default), or add, remove, import and export feeds.')
    .option('-s, --subscribers <file>', 'subscribers file')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ planet-digest feeds                 # health of every feed\n  $ planet-digest feeds add https://talkpython.fm/episodes/rss --tags python,podcast\n  $ planet-digest feeds import feedly.opml\n  $ planet-digest feeds export > feeds.opml')
    .action(async (opts: { subscribers?: string; json?: boolean }) => showHealth(ctx, opts));

  feeds
    .command('list')
    .description('Feed health: state, last success, last error, failures, next poll, entries known.')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ planet-digest feeds list\n  $ planet-digest feeds list --json | jq \'.feeds[] | select(.state != "ok")\'')
    .action(async (opts: { json?: boolean }) => showHealth(ctx, { ...feeds.opts(), ...opts }));

  feeds
    .command('add')
    .argument('<url>', 'feed URL (or a local path relative to subscribers.json)')
    .option('--id <id>', 'feed id (default: derived from the title or host)')
    .option('--title <title>', 'display title')
    .option('--tags <tags>', 'comma-separated tags')
    .description('Add a feed to subscribers.json.')
    .action(async (url: string, opts: { id?: string; title?: string; tags?: string }) => {
      const result = await (await admin()).addFeed(file(ctx, feeds), { url, id: opts.id, title: opts.title, tags: opts.tags });
      ctx.print(result.message);
    });

  feeds
    .command('remove')
    .argument('<id>', 'feed id')
    .option('--force', 'also remove it from the subscribers that list it')
    .description('Remove a feed (refused while subscribers list it, unless --force).')
    .action(async (id: string, opts: { force?: boolean }) => {
      const result = await (await admin()).removeFeed(file(ctx, feeds), id, { force: opts.force });
      ctx.print(result.message);
    });

  feeds
    .command('set')
    .argument('<id>', 'feed id')
    .argument('<key>', 'url, title or tags')
    .argument('[value]', 'new value (omit to remove an optional field)')
    .description('Change one field of a feed.')
    .action(async (id: string, key: string, value: string | undefined) => {
      const result = await (await admin()).setFeedField(file(ctx, feeds), id, key, value ?? null);
      ctx.print(result.message);
    });

  feeds
    .command('import')
    .argument('<opml-file>', 'OPML exported by a feed reader (Miniflux, FreshRSS, Feedly, …)')
    .option('--dry-run', 'show what would be added without writing')
    .description('Add the feeds of an OPML file; categories become tags; known URLs are skipped.')
    .addHelpText('after', '\nExamples:\n  $ planet-digest feeds import freshrss-export.opml --dry-run\n  $ planet-digest feeds import feedly.opml')
    .action(async (opmlFile: string, opts: { dryRun?: boolean }) => {
      const xml = await readFile(path.resolve(ctx.io.cwd, opmlFile), 'utf8');
      const result = await (await admin()).importOpmlFeeds(file(ctx, feeds), xml, { dryRun: opts.dryRun });
      ctx.print(result.message);
    });

  feeds
    .command('export')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .description('Print the feeds as OPML 2.0 (categories from the first tag).')
    .action(async (opts: { out?: string }) => {
      const opml = await (await admin()).exportOpmlFeeds(file(ctx, feeds), { now: new Date() });
      if (opts.out) {
        await writeFile(path.resolve(ctx.io.cwd, opts.out), opml);
        ctx.print(`Wrote ${opts.out}`);
      } else ctx.io.stdout.write(opml);
    });
}

function file(ctx: CliContext, feeds: Command): string {
  return ctx.subscribersFile((feeds.opts() as { subscribers?: string }).subscribers);
}

async function showHealth(ctx: CliContext, opts: { subscribers?: string; json?: boolean }): Promise<void> {
  const doc = await readSubscribersDocument(ctx.subscribersFile(opts.subscribers));
  const rows = (await admin()).listFeeds(doc);
  const store = await openStore(ctx.env().store.url);
  let states: Map<string, FeedState>;
  try {
    states = await store.getFeedStates(rows.map((r) => r.id));
  } finally {
    await store.close();
  }
  const health: FeedHealth[] = rows.map((row) => {
    const s = states.get(row.id);
    return {
      id: row.id,
      title: row.title ?? s?.title,
      url: s?.url ?? row.url,
      state: !s || (!s.polledOnce && s.consecutiveFailures === 0) ? 'new' : s.gone ? 'gone' : s.consecutiveFailures > 0 ? 'failing' : 'ok',
      lastSuccess: s?.lastSuccessAt,
      lastError: s?.lastError,
      lastErrorKind: s?.lastErrorKind,
      consecutiveFailures: s?.consecutiveFailures ?? 0,
      nextPoll: s?.nextPollAt,
      entriesKnown: s?.entryCount ?? 0,
      subscribers: row.subscribers.length,
    };
  });
  if (opts.json) {
    ctx.print(JSON.stringify({ feeds: health }, null, 2));
    return;
  }
  if (health.length === 0) {
    ctx.print('No feeds yet. Add one with `planet-digest feeds add URL` or import an OPML file.');
    return;
  }
  const when = (iso?: string) => (iso ? iso.replace('T', ' ').slice(0, 16) + 'Z' : '-');
  ctx.print(
    formatTable(
      ['ID', 'STATE', 'LAST SUCCESS', 'FAILURES', 'NEXT POLL', 'ENTRIES', 'SUBS', 'LAST ERROR'],
      health.map((h) => [
        h.id,
        h.state,
        when(h.lastSuccess),
        String(h.consecutiveFailures),
        when(h.nextPoll),
        String(h.entriesKnown),
        String(h.subscribers),
        h.lastError ? `${h.lastErrorKind ?? 'error'}: ${h.lastError.slice(0, 60)}` : '',
      ]),
    ) + `\n(feed state from ${redactStoreUrl(ctx.env().store.url)}; "new" means not polled yet)`,
  );
}
