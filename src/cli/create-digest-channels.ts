import type { EnvConfig } from '../config/load-env-config.js';
import type { Logger } from '../model/logger.js';
import type { Subscriber } from '../model/subscriber.js';
import type { EmailChannel } from '../dispatch/email-channel.js';
import type { SlackChannel } from '../dispatch/slack-channel.js';
import type { ChannelResult, DigestChannels, OutgoingEmail, OutgoingSlack } from '../pipeline/digest-channels.js';

/** Digests kept in memory by `preview` and dry runs. */
export interface CollectedDigests {
  emails: OutgoingEmail[];
  slack: OutgoingSlack[];
}

/**
 * Email goes over SMTP when SMTP_URL is set, else to the outbox; Slack goes to the Web API when a token is known for
 * the subscriber's workspace (slack.tokenEnv, else SLACK_BOT_TOKEN), else to the outbox. `collect` keeps everything in memory.
 */
export function createDigestChannels(options: { env: EnvConfig; logger: Logger; outboxDir: string; collect: boolean }): {
  channels: DigestChannels;
  usesOutbox: boolean;
  collected?: CollectedDigests;
} {
  const { env, logger, outboxDir } = options;
  if (options.collect) {
    const collected: CollectedDigests = { emails: [], slack: [] };
    return {
      usesOutbox: false,
      collected,
      channels: {
        async sendEmail(message) {
          collected.emails.push(message);
          return { ok: true };
        },
        async sendSlack(_subscriber, message) {
          collected.slack.push(message);
          return { ok: true };
        },
        async close() {},
      },
    };
  }

  // Channels (and nodemailer / @slack/web-api behind them) are created on the first digest that needs them.
  let email: Promise<EmailChannel> | undefined;
  const emailChannel = () =>
    (email ??= env.email.smtpUrl
      ? import('../dispatch/smtp-email-channel.js').then(
          ({ SmtpEmailChannel }) =>
            new SmtpEmailChannel({
              smtp: env.email.smtpUrl!,
              maxConnections: env.email.maxConnections,
              messagesPerSecond: env.email.ratePerSecond,
              attempts: env.email.retryAttempts,
              baseDelayMs: env.email.retryBaseMs,
              logger,
            }),
        )
      : import('../dispatch/outbox-email-channel.js').then(({ OutboxEmailChannel }) => new OutboxEmailChannel({ dir: outboxDir, logger })));
  const slackByToken = new Map<string, Promise<SlackChannel>>();
  let slackOutbox: Promise<SlackChannel> | undefined;

  const slackFor = (subscriber: Subscriber): Promise<SlackChannel> | { error: string } => {
    const tokenEnv = subscriber.slack?.tokenEnv;
    const token = tokenEnv ? env.vars[tokenEnv] : env.slack.defaultToken;
    if (tokenEnv && !token) {
      return { error: `subscriber "${subscriber.id}" posts with the token in ${tokenEnv}, but ${tokenEnv} is not set: set it to that workspace's bot token (xoxb-…)` };
    }
    if (!token) return (slackOutbox ??= import('../dispatch/outbox-slack-channel.js').then(({ OutboxSlackChannel }) => new OutboxSlackChannel({ dir: outboxDir, logger })));
    let channel = slackByToken.get(token);
    if (!channel) {
      channel = import('../dispatch/slack-channel.js').then(({ createSlackChannel }) => createSlackChannel({ token, apiUrl: env.slack.apiUrl, logger }));
      slackByToken.set(token, channel);
    }
    return channel;
  };

  const usesOutbox = !env.email.smtpUrl || !env.slack.defaultToken;
  return {
    usesOutbox,
    channels: {
      async sendEmail(message: OutgoingEmail): Promise<ChannelResult> {
        const result = await (await emailChannel()).send(message);
        return result.ok ? { ok: true, files: result.files } : { ok: false, permanent: result.permanent, message: result.message, code: result.code };
      },
      async sendSlack(subscriber: Subscriber, message: OutgoingSlack): Promise<ChannelResult> {
        const found = slackFor(subscriber);
        if ('error' in found) return { ok: false, permanent: false, message: found.error, code: 'token_missing' };
        const channel = await found;
        const result = await channel.send({ channel: message.channel, subscriberId: message.subscriberId, messages: message.messages, digestId: message.digestId });
        return result.ok ? { ok: true, files: result.files } : { ok: false, permanent: result.permanent, message: result.message, code: result.code };
      },
      async close() {
        const open: Array<Promise<{ close(): Promise<void> }> | undefined> = [email, slackOutbox, ...slackByToken.values()];
        await Promise.all(open.map(async (c) => (c ? (await c).close() : undefined)));
      },
    },
  };
}
