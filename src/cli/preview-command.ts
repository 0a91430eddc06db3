import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { loadDigestConfig } from '../config/load-digest-config.js';
import { ConfigError } from '../model/errors.js';
import { createRuntime } from './create-runtime.js';
import type { CliContext } from './main.js';

/** `planet-digest preview ID`: render what a subscriber would get now, without sending or recording anything. */
export function registerPreviewCommand(program: Command, ctx: CliContext): void {
  program
    .command('preview')
    .argument('<subscriber-id>', 'id of a subscriber in subscribers.json')
    .description('Render what a subscriber would get now, without sending or recording anything.')
    .option('-s, --subscribers <file>', 'subscribers file')
    .option('-o, --out <file>', 'write the HTML (email) or Block Kit JSON (Slack) here instead of stdout')
    .option('--text', 'print the plain-text part instead of the HTML (email subscribers)')
    .option('--png <file>', 'also save a screenshot (needs Debian chromium: apt-get install chromium)')
    .option('--width <px>', 'screenshot width: 375 (phone) or 800 (desktop)', parseWidth, 800)
    .addHelpText('after', '\nExamples:\n  $ planet-digest preview ada --out digest.html\n  $ planet-digest preview ada --png digest.png --width 375\n  $ planet-digest preview python-news          # Slack: prints the Block Kit payload')
    .action(async (id: string, opts: { subscribers?: string; out?: string; text?: boolean; png?: string; width: number }) => {
      const env = ctx.env();
      const config = await loadDigestConfig(ctx.subscribersFile(opts.subscribers));
      const subscriber = config.subscribers.find((s) => s.id === id);
      if (!subscriber) {
        throw new ConfigError(config.file, [{ path: 'subscribers', message: `no subscriber with id "${id}"; known ids: ${config.subscribers.map((s) => s.id).join(', ')}` }]);
      }
      const logger = ctx.logger(ctx.io.env.DIGEST_LOG_LEVEL ?? 'warn');
      const runtime = await createRuntime({ env, config, logger, now: () => new Date(), version: ctx.version, requireSecret: false, collect: true });
      try {
        await runtime.run({ dryRun: true, subscriberIds: [id], audience: 'all' });
        const email = runtime.collected?.emails.find((m) => m.subscriberId === id);
        const slack = runtime.collected?.slack.find((m) => m.subscriberId === id);
        if (!email && !slack) {
          const state = (await runtime.store.getSubscriberStates([id])).get(id);
          const why = subscriber.paused
            ? `${id} is paused (resume with: planet-digest subscribers resume ${id})`
            : state?.bouncing
              ? `${id} is marked bouncing after repeated permanent failures (${state.lastError ?? 'see the last cycle'}); fix the address to retry`
              : !state
                ? `${id} is new: their first digest holds what the next cycle finds`
                : `nothing new for ${id} right now: every entry of their selection has been delivered`;
          ctx.print(why.charAt(0).toUpperCase() + why.slice(1) + '.');
          return;
        }
        const output = email ? (opts.text ? email.text : email.html) : JSON.stringify(slack!.messages.map((m) => ({ channel: slack!.channel, ...m, unfurl_links: false, unfurl_media: false })), null, 2);
        if (opts.out) {
          await writeFile(path.resolve(ctx.io.cwd, opts.out), output);
          const kb = (Buffer.byteLength(output) / 1024).toFixed(1);
          ctx.print(`Wrote ${opts.out} (${kb} KB)${email ? `: "${email.subject}"` : ''}`);
        } else if (!opts.png) {
          ctx.print(output);
        }
        if (opts.png) {
          if (!email) throw new ConfigError(undefined, [{ path: '--png', message: 'screenshots are for email digests; this subscriber gets Slack messages' }]);
          const { screenshotHtml } = await import('../preview/screenshot-html.js');
          await screenshotHtml(email.html, { width: opts.width, out: path.resolve(ctx.io.cwd, opts.png) });
          ctx.print(`Wrote ${opts.png} (${opts.width} px wide)`);
        }
      } finally {
        await runtime.close();
      }
    });
}

function parseWidth(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 200 || n > 2000) throw new InvalidArgumentError('use a width in pixels between 200 and 2000, e.g. 375 or 800');
  return n;
}
