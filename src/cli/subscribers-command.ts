import type { Command } from 'commander';
import type { CliContext } from './main.js';
import { readSubscribersDocument } from './read-subscribers-document.js';

// The admin code (validation, schedules, locking) loads only for the command that needs it.
const admin = () => import('../admin/subscriber-commands.js');
/** Keys `subscribers set` accepts (kept in step with SUBSCRIBER_FIELDS by a test). */
export const SETTABLE_SUBSCRIBER_KEYS = ['name', 'email', 'slack', 'slack.channel', 'slack.tokenEnv', 'feeds', 'excludeFeeds', 'keywords', 'keywords.include', 'keywords.exclude', 'schedule', 'timezone', 'paused', 'maxPerSource', 'sendEmpty', 'title'];

/** `planet-digest subscribers …`: list and safely edit the subscribers in subscribers.json. */
export function registerSubscribersCommand(program: Command, ctx: CliContext): void {
  const subscribers = program
    .command('subscribers')
    .description('List, add, remove, pause, resume or change subscribers (validated, atomic edits of subscribers.json).')
    .option('-s, --subscribers <file>', 'subscribers file')
    .addHelpText(
      'after',
      `
Examples:
  $ planet-digest subscribers add --name "Ada Lovelace" --email ada@example.org --feeds tag:python
  $ planet-digest subscribers add --id python-news --name "#python-news" --slack C0123456789 --schedule "weekdays 09:00"
  $ planet-digest subscribers set ada timezone Europe/Berlin
  $ planet-digest subscribers pause ada        # keeps their place; resume gets what is new since (capped)`,
    );
  const file = () => ctx.subscribersFile((subscribers.opts() as { subscribers?: string }).subscribers);

  subscribers
    .command('list', { isDefault: true })
    .option('--json', 'machine-readable output')
    .description('List subscribers.')
    .action(async (opts: { json?: boolean }) => {
      const rows = (await admin()).listSubscribers(await readSubscribersDocument(file()));
      ctx.print(opts.json ? JSON.stringify({ subscribers: rows }, null, 2) : (await admin()).formatSubscriberRows(rows));
    });

  subscribers
    .command('show')
    .argument('<id>')
    .description('Show one subscriber and the feeds their selection resolves to.')
    .action(async (id: string) => {
      ctx.print((await admin()).formatSubscriberDetails((await admin()).showSubscriber(await readSubscribersDocument(file()), id)));
    });

  subscribers
    .command('add')
    .requiredOption('--name <name>', 'display name')
    .option('--id <id>', 'id (default: derived from the name)')
    .option('--email <address>', 'email address')
    .option('--slack <channel>', 'Slack channel id (C…) or #name')
    .option('--slack-token-env <NAME>', 'environment variable with this workspace\'s bot token')
    .option('--feeds <list>', 'comma-separated feed ids, tag:NAME or * (default *)')
    .option('--exclude-feeds <list>', 'feed ids or tag:NAME to leave out')
    .option('--keywords <list>', 'only entries matching one of these words or "phrases"')
    .option('--exclude-keywords <list>', 'leave out entries matching these')
    .option('--schedule <schedule>', 'daily 07:00 | weekdays 09:00 | weekly mon 08:00 | twice-daily 07:00,19:00 | hourly | cron')
    .option('--timezone <zone>', 'IANA time zone, e.g. Europe/Berlin')
    .option('--max-per-source <n>', 'entries per source before "and N more"', (v) => Number(v))
    .option('--title <title>', 'custom digest title')
    .option('--paused', 'add paused')
    .description('Add a subscriber (email or Slack channel).')
    .action(async (opts: Record<string, unknown>) => {
      const result = await (await admin()).addSubscriber(file(), {
        id: opts.id as string | undefined,
        name: opts.name as string,
        email: opts.email as string | undefined,
        slack: opts.slack as string | undefined,
        slackTokenEnv: opts.slackTokenEnv as string | undefined,
        feeds: opts.feeds as string | undefined,
        excludeFeeds: opts.excludeFeeds as string | undefined,
        keywords: opts.keywords as string | undefined,
        excludeKeywords: opts.excludeKeywords as string | undefined,
        schedule: opts.schedule as string | undefined,
        timezone: opts.timezone as string | undefined,
        maxPerSource: opts.maxPerSource as number | undefined,
        title: opts.title as string | undefined,
        paused: opts.paused as boolean | undefined,
      });
      ctx.print(result.message);
    });

  subscribers
    .command('remove')
    .argument('<id>')
    .description('Remove a subscriber (their delivery record stays; if they come back they start afresh).')
    .addHelpText('after', '\nExample:\n  $ planet-digest subscribers remove ada')
    .action(async (id: string) => ctx.print((await (await admin()).removeSubscriber(file(), id)).message));

  subscribers
    .command('pause')
    .argument('<id>')
    .description('Pause a subscriber; they keep their place.')
    .action(async (id: string) => ctx.print((await (await admin()).pauseSubscriber(file(), id)).message));

  subscribers
    .command('resume')
    .argument('<id>')
    .description('Resume a paused subscriber; they get what is new since, up to settings.resumeCap entries.')
    .action(async (id: string) => ctx.print((await (await admin()).resumeSubscriber(file(), id)).message));

  subscribers
    .command('set')
    .argument('<id>')
    .argument('<key>', `one of: ${SETTABLE_SUBSCRIBER_KEYS.join(', ')}`)
    .argument('[value]', 'new value (lists comma-separated; omit to remove an optional field)')
    .description('Change one field of a subscriber (validated before it is written).')
    .action(async (id: string, key: string, value: string | undefined) => ctx.print((await (await admin()).setSubscriberField(file(), id, key, value ?? null)).message));
}
