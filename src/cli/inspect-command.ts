import path from 'node:path';
import type { Command } from 'commander';
import { userAgent } from './create-runtime.js';
import type { CliContext } from './main.js';

/** `planet-digest inspect URL_OR_PATH [--json]`: fetch and parse one feed, print what planet-digest sees. */
export function registerInspectCommand(program: Command, ctx: CliContext): void {
  program
    .command('inspect')
    .argument('<url-or-path>', 'feed URL (http/https) or local file')
    .description('Fetch and parse one feed and show the entries planet-digest sees (nothing is recorded).')
    .option('--json', 'print {"feed":{title,link},"entries":[{id,title,link,published,author,summary}]}')
    .option('--allow-private', 'allow a URL on a private or loopback address')
    .addHelpText('after', '\nExamples:\n  $ planet-digest inspect https://realpython.com/atom.xml\n  $ planet-digest inspect examples/feeds/real-python.xml --json | jq .entries[0]')
    .action(async (target: string, opts: { json?: boolean; allowPrivate?: boolean }) => {
      const [{ fetchFeed }, { decodeFeedBytes }, { parseFeed }] = await Promise.all([
        import('../fetch/fetch-feed.js'),
        import('../fetch/decode-feed-bytes.js'),
        import('../parse/parse-feed.js'),
      ]);
      const env = ctx.env();
      const isUrl = /^https?:\/\//i.test(target);
      const url = isUrl ? target : path.resolve(ctx.io.cwd, target);
      const outcome = await fetchFeed(url, {
        userAgent: userAgent(ctx.version),
        timeoutMs: env.fetch.timeoutMs,
        maxBytes: env.fetch.maxBytes,
        allowPrivate: opts.allowPrivate ?? env.fetch.allowPrivate ?? true,
        allowedFileRoots: isUrl ? [] : [path.dirname(url)],
      });
      if (outcome.kind !== 'ok') throw new Error(`unexpected ${outcome.kind} answer for an unconditional request`);
      const decoded = decodeFeedBytes(outcome.body, outcome.contentType);
      const feed = await parseFeed(decoded.text, { feedId: 'inspect', url: outcome.finalUrl });
      if (opts.json) {
        ctx.print(
          JSON.stringify({
            feed: { title: feed.title, link: feed.link ?? null, format: feed.format, encoding: decoded.encoding },
            entries: feed.entries.map((e) => ({ id: e.id, title: e.title, link: e.link ?? null, published: e.published ?? null, author: e.author ?? null, summary: e.summary })),
          }),
        );
        return;
      }
      const lines = [
        `${feed.title || '(no title)'}  [${feed.format}, ${decoded.encoding}${decoded.mismatch ? `, ${decoded.mismatch}` : ''}]`,
        feed.link ? feed.link : '(no site link)',
        `${feed.entries.length} entr${feed.entries.length === 1 ? 'y' : 'ies'}${feed.warnings.length ? `; warnings: ${feed.warnings.join('; ')}` : ''}`,
        '',
        ...feed.entries.flatMap((e) => [`- ${e.title || '(untitled)'}`, `  ${[e.published?.slice(0, 10), e.author].filter(Boolean).join(' · ') || 'no date'}`, `  ${e.link ?? '(no link)'}`, `  id: ${e.id}`]),
      ];
      ctx.print(lines.join('\n'));
    });
}
