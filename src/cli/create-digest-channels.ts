import type { EnvConfig } from '../config/load-env-config.js';
import type { Logger } from '../model/logger.js';
import type { Subscriber } from '../model/subscriber.js';
import { OutboxEmailChannel, SmtpEmailChannel, type EmailChannel } from '../dispatch/email-channel.js';
import { createSlackChannel, type SlackChannel } from '../dispatch/slack-channel.js';
import { OutboxSlackChannel } from '../dispatch/outbox-slack-channel.js';
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

  let email: EmailChannel | undefined;
  const emailChannel = () =>
    (email ??= env.email.smtpUrl
      ? new SmtpEmailChannel({
          smtp: env.email.smtpUrl,
          maxConnections: env.email.maxConnections,
          messagesPerSecond: env.email.ratePerSecond,
          attempts: env.email.retryAttempts,
          baseDelayMs: env.email.retryBaseMs,
          logger,
        })
      : new OutboxEmailChannel({ dir: outboxDir, logger }));
  const slackByToken = new Map<string, SlackChannel>();
  let slackOutbox: SlackChannel | undefined;

  const slackFor = (subscriber: Subscriber): SlackChannel | { error: string } => {
    const tokenEnv = subscriber.slack?.tokenEnv;
    const token = tokenEnv ? env.vars[tokenEnv] : env.slack.defaultToken;
    if (tokenEnv && !token) {
      return { error: `subscriber "${subscriber.id}" posts with the token in ${tokenEnv}, but ${tokenEnv} is not set: set it to that workspace's bot token (xoxb-…)` };
    }
    if (!token) return (slackOutbox ??= new OutboxSlackChannel({ dir: outboxDir, logger }));
    let channel = slackByToken.get(token);
    if (!channel) {
      channel = createSlackChannel({ token, apiUrl: env.slack.apiUrl, logger });
      slackByToken.set(token, channel);
    }
    return channel;
  };

  const usesOutbox = !env.email.smtpUrl || !env.slack.defaultToken;
  return {
    usesOutbox,
    channels: {
      async sendEmail(message: OutgoingEmail): Promise<ChannelResult> {
        const result = await emailChannel().send(message);
        return result.ok ? { ok: true, files: result.files } : { ok: false, permanent: result.permanent, message: result.message, code: result.code };
      },
      async sendSlack(subscriber: Subscriber, message: OutgoingSlack): Promise<ChannelResult> {
        const channel = slackFor(subscriber);
        if ('error' in channel) return { ok: false, permanent: false, message: channel.error, code: 'token_missing' };
        const result = await channel.send({ channel: message.channel, subscriberId: message.subscriberId, messages: message.messages, digestId: message.digestId });
        return result.ok ? { ok: true, files: result.files } : { ok: false, permanent: result.permanent, message: result.message, code: result.code };
      },
      async close() {
        await Promise.all([email?.close(), slackOutbox?.close(), ...[...slackByToken.values()].map((c) => c.close())]);
      },
    },
  };
}
