import pLimit from 'p-limit';
import type { Digest } from '../model/digest.js';
import type { FeedConfig, FeedState } from '../model/feed.js';
import type { Logger } from '../model/logger.js';
import { channelOf, type Subscriber } from '../model/subscriber.js';
import type { Batch, SeenStore, SubscriberState } from '../store/seen-store.js';
import type { Settings } from '../config/subscribers-schema.js';
import { compileSelection, selectionKey } from '../group/select-entries.js';
import { buildDigest } from '../group/build-digest.js';
import { parseSchedule } from '../schedule/parse-schedule.js';
import { isDue, latestWindow } from '../schedule/schedule-windows.js';
import type { personalizeEmail as PersonalizeEmail, RenderedEmail } from '../render/render-email.js';
import type { SlackMessage } from '../render/render-slack.js';
import type { CompiledTemplates } from '../template/load-template.js';
import { signUnsubscribeToken, unsubscribeUrl } from '../dispatch/unsubscribe-token.js';
import { buildDigestHeaders, digestMessageId } from '../dispatch/build-digest-headers.js';
import type { DigestChannels } from './digest-channels.js';
import type { RunReport } from './run-report.js';

/** After this many consecutive permanent failures a subscriber is marked bouncing and no longer sent to. */
export const BOUNCE_LIMIT = 3;

/** Identity and links used in every digest email. */
export interface MailIdentity {
  from: string;
  /** RFC 2919 List-Id, e.g. "planet-digest.example.org". */
  listId: string;
  /** Domain of Message-IDs. */
  domain: string;
  secret: string;
  baseUrl: string;
  mailto?: string;
}

/** Options of the planning step: who gets a digest this cycle. */
export interface PlanOptions {
  subscribers: Subscriber[];
  settings: Settings;
  store: SeenStore;
  now: Date;
  /** "all": every active subscriber now; "due": only those whose schedule window has come. */
  audience: 'all' | 'due';
  defaultSchedule: string;
  defaultTimezone: string;
  /** Latest batch before this cycle: where new subscribers start. */
  previousSeq: number;
  dryRun: boolean;
  /** True when `subscribers` is the whole configured list (not a preview of one): membership changes are recorded. */
  wholeList: boolean;
}

/** One subscriber that gets a digest this cycle. */
export interface Planned {
  subscriber: Subscriber;
  state: SubscriberState;
  window?: Date;
  /** Sent because its schedule window came (daemon, --due), not because an admin ran a cycle for everyone. */
  scheduled: boolean;
  cap?: number;
  timezone: string;
}

/** Who is due, with their delivery state; new, paused and re-addressed subscribers' states are recorded here. */
export async function planDeliveries(options: PlanOptions, report: RunReport): Promise<Planned[]> {
  const { store, now, settings } = options;
  const t = performance.now();
  const states = await store.getSubscriberStates(options.subscribers.map((s) => s.id));
  // A subscriber removed (or unsubscribed) and added again later starts afresh, like a new one, instead of
  // receiving everything since they left: the store remembers who was configured at the last cycle.
  const known = options.wholeList ? await store.getMeta<string[]>('subscriber-ids') : undefined;
  if (known) {
    const knownSet = new Set(known);
    for (const s of options.subscribers) if (!knownSet.has(s.id)) states.delete(s.id);
  }

  // New subscribers start at the batch before this cycle: they get what this cycle finds, never the whole history.
  const changed = new Map<string, SubscriberState>();
  const plans: Planned[] = [];
  for (const subscriber of options.subscribers) {
    const address = subscriber.email ?? subscriber.slack?.channel;
    let state = states.get(subscriber.id);
    if (!state) {
      // Their first window is the first one after they appeared (a minute of slack for `run --now` at the window).
      state = { subscriberId: subscriber.id, cursor: options.previousSeq, bounces: 0, bouncing: false, address, lastWindow: new Date(now.getTime() - 60_000).toISOString() };
      changed.set(subscriber.id, state);
    }
    if (state.address !== address) {
      // The admin changed the address: bounces belonged to the old one.
      state = { ...state, bounces: 0, bouncing: false, lastError: undefined, address };
      changed.set(subscriber.id, state);
    }
    if (subscriber.paused) {
      report.digests.paused += 1;
      if (!state.pausedAt) changed.set(subscriber.id, { ...state, pausedAt: now.toISOString() });
      continue;
    }
    if (state.bouncing) {
      report.digests.bouncing.push(subscriber.id);
      continue;
    }
    const timezone = subscriber.timezone ?? settings.timezone ?? options.defaultTimezone;
    const schedule = parseSchedule(subscriber.schedule ?? settings.schedule ?? options.defaultSchedule);
    let window: Date | undefined;
    if (options.audience === 'due') {
      const due = isDue(schedule, timezone, now, state.lastWindow ? new Date(state.lastWindow) : undefined);
      if (!due.due) continue;
      // A failed digest stays due, but is retried with backoff rather than on every wake-up.
      if (state.retryAt && now.getTime() < Date.parse(state.retryAt)) continue;
      window = due.window;
    } else {
      window = latestWindow(schedule, timezone, now);
    }
    const cap = state.pausedAt ? settings.resumeCap : undefined;
    plans.push({ subscriber, state, window, scheduled: options.audience === 'due', cap, timezone });
  }
  if (changed.size > 0 && !options.dryRun) await store.setSubscriberStates([...changed.values()]);
  if (options.wholeList && !options.dryRun) await store.setMeta('subscriber-ids', options.subscribers.map((s) => s.id));
  report.digests.due = plans.length;
  report.phasesMs.store += performance.now() - t;
  return plans;
}

/** Options of the delivery half of a cycle. */
export interface DeliverOptions {
  plans: Planned[];
  feeds: FeedConfig[];
  feedStates: Map<string, FeedState>;
  settings: Settings;
  store: SeenStore;
  channels: DigestChannels;
  templates: () => Promise<CompiledTemplates>;
  mail: MailIdentity;
  logger: Logger;
  now: Date;
  /** Batch holding this cycle's fresh entries (virtual in dry-run). */
  latestSeq: number;
  /** Extra in-memory batch (dry-run: this cycle's entries were not stored). */
  virtualBatch?: Batch;
  dryRun: boolean;
  sendConcurrency: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Builds, renders and sends each planned subscriber's digest; records delivery per digest, right after the channel accepted it. */
export async function deliverDigests(options: DeliverOptions, report: RunReport): Promise<void> {
  const { store, logger, now, settings, plans } = options;
  if (plans.length === 0) return;
  let t = performance.now();
  const minCursor = Math.min(...plans.map((p) => p.state.cursor));
  const batches = minCursor < options.latestSeq ? await store.getBatches(minCursor, options.latestSeq) : [];
  if (options.virtualBatch) batches.push(options.virtualBatch);
  report.phasesMs.store += performance.now() - t;

  const feedDisplay = new Map(
    options.feeds.map((f) => {
      const state = options.feedStates.get(f.id);
      return [f.id, { title: f.title ?? state?.title, link: state?.link, fallbackTitle: f.id }] as const;
    }),
  );

  // Subscribers whose digests would be identical share one selection, one digest and one render.
  const groups = new Map<string, Planned[]>();
  const selections = new Map<string, ReturnType<typeof compileSelection>>();
  t = performance.now();
  // Many subscribers share the same feed references and keywords: compile each distinct one once per cycle.
  const compiled = new Map<string, ReturnType<typeof compileSelection>>();
  for (const plan of plans) {
    const { feeds, excludeFeeds, keywords } = plan.subscriber;
    const refsKey = JSON.stringify([feeds, excludeFeeds, keywords]);
    let selection = compiled.get(refsKey);
    if (!selection) compiled.set(refsKey, (selection = compileSelection(plan.subscriber, options.feeds)));
    const title = plan.subscriber.title ?? settings.title;
    const maxPerSource = plan.subscriber.maxPerSource ?? settings.maxPerSource;
    const sendEmpty = plan.subscriber.sendEmpty ?? settings.sendEmpty;
    const key = [channelOf(plan.subscriber), selectionKey(selection), plan.state.cursor, plan.cap ?? '', title, plan.timezone, maxPerSource, sendEmpty].join('\u0000');
    selections.set(key, selection);
    const list = groups.get(key);
    if (list) list.push(plan);
    else groups.set(key, [plan]);
  }
  report.phasesMs.select += performance.now() - t;

  const limit = pLimit(options.sendConcurrency);
  let done = 0;
  for (const [key, members] of groups) {
    if (options.signal?.aborted) break;
    const first = members[0]!;
    t = performance.now();
    const digest = buildDigest({
      batches,
      cursor: first.state.cursor,
      selection: selections.get(key)!,
      feeds: feedDisplay,
      title: first.subscriber.title ?? settings.title,
      timezone: first.timezone,
      now,
      maxPerSource: first.subscriber.maxPerSource ?? settings.maxPerSource,
      cap: first.cap,
    });
    report.phasesMs.select += performance.now() - t;
    const sendEmpty = first.subscriber.sendEmpty ?? settings.sendEmpty;
    if (digest.entryCount === 0 && !sendEmpty) {
      // Nothing they asked for: move their cursor past what was looked at, so it is not looked at again.
      report.digests.empty += members.length;
      if (!options.dryRun) {
        for (const m of members) await store.setSubscriberState(advanced(m, options.latestSeq, now, false));
      }
      continue;
    }
    const entryKeys = digestEntryKeys(digest);
    t = performance.now();
    const kind = channelOf(first.subscriber);
    let email: RenderedEmail | undefined;
    let slack: SlackMessage[] | undefined;
    let personalize: typeof PersonalizeEmail | undefined;
    // Renderers (sanitize-html, html-to-text) load on the first digest: a cycle with nothing to send never pays for them.
    if (kind === 'email') {
      const emailRenderer = await import('../render/render-email.js');
      email = emailRenderer.renderEmail(digest, await options.templates(), { subjectPattern: settings.subject, now });
      personalize = emailRenderer.personalizeEmail;
    } else {
      slack = (await import('../render/render-slack.js')).renderSlack(digest);
    }
    report.digests.rendered += 1;
    report.phasesMs.render += performance.now() - t;

    t = performance.now();
    await Promise.all(
      members.map((member) =>
        limit(async () => {
          // On shutdown, digests not yet started wait for the next cycle; their entries stay queued.
          if (options.signal?.aborted) return;
          const { subscriber } = member;
          const result =
            kind === 'email'
              ? await options.channels.sendEmail(buildEmail(member, email!, personalize!, digest, entryKeys, options))
              : await options.channels.sendSlack(subscriber, {
                  subscriberId: subscriber.id,
                  channel: subscriber.slack!.channel,
                  messages: slackMessages(slack!),
                  entryKeys,
                  digestId: digestMessageId({ subscriberId: subscriber.id, fromSeq: member.state.cursor, entryKeys, domain: options.mail.domain }),
                });
          done += 1;
          options.onProgress?.(done, plans.length);
          if (result.ok) {
            report.digests.sent += 1;
            report.digests.byChannel[kind].sent += 1;
            if (result.files) report.outboxFiles.push(...result.files);
            if (!options.dryRun) await store.setSubscriberState(advanced(member, options.latestSeq, now, true));
            return;
          }
          report.digests.failed += 1;
          report.digests.byChannel[kind].failed += 1;
          report.digests.failures.push({ subscriberId: subscriber.id, channel: kind, permanent: result.permanent, message: result.message, entries: digest.entryCount });
          logger.warn({ subscriber: subscriber.id, channel: kind, permanent: result.permanent, err: result.message }, 'digest not delivered; its entries stay queued for the next cycle');
          if (!options.dryRun) await store.setSubscriberState(failed(member, result, now, report));
        }),
      ),
    );
    report.phasesMs.send += performance.now() - t;
  }
}

/** Retry delays after consecutive failures: 15 min, 30 min, 1 h … capped at 6 h (the next window comes first for most schedules). */
const RETRY_BASE_MS = 15 * 60_000;
const RETRY_MAX_MS = 6 * 3_600_000;

/**
 * State after a failed delivery: the cursor stays (the entries wait), a retry time is set, and a permanent failure
 * counts as a bounce at most once per schedule window, so retries of one digest do not add up to "bouncing".
 */
function failed(plan: Planned, result: { permanent: boolean; message: string }, now: Date, report: RunReport): SubscriberState {
  const window = plan.window?.toISOString();
  // Automatic retries of one scheduled digest count once; every cycle an admin runs by hand counts.
  const repeat = plan.scheduled && window !== undefined && plan.state.failedWindow === window;
  const bounces = result.permanent && !repeat ? plan.state.bounces + 1 : plan.state.bounces;
  const bouncing = bounces >= BOUNCE_LIMIT;
  if (bouncing) report.digests.bouncing.push(plan.subscriber.id);
  const failures = (plan.state.failures ?? 0) + 1;
  return {
    ...plan.state,
    bounces,
    bouncing,
    lastError: result.message,
    address: plan.subscriber.email ?? plan.subscriber.slack?.channel,
    failures,
    failedWindow: window,
    retryAt: new Date(now.getTime() + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failures - 1))).toISOString(),
  };
}

function advanced(plan: Planned, latestSeq: number, now: Date, delivered: boolean): SubscriberState {
  return {
    ...plan.state,
    cursor: Math.max(plan.state.cursor, latestSeq),
    lastDeliveredAt: delivered ? now.toISOString() : plan.state.lastDeliveredAt,
    lastWindow: plan.window ? plan.window.toISOString() : plan.state.lastWindow,
    bounces: delivered ? 0 : plan.state.bounces,
    lastError: delivered ? undefined : plan.state.lastError,
    pausedAt: undefined,
    address: plan.subscriber.email ?? plan.subscriber.slack?.channel,
    failures: undefined,
    failedWindow: undefined,
    retryAt: undefined,
  };
}

function digestEntryKeys(digest: Digest): string[] {
  return digest.groups.flatMap((g) => g.entries.map((e) => e.key));
}

function slackMessages(rendered: SlackMessage[]): Array<{ text: string; blocks: object[] }> {
  return rendered.map((m) => ({ text: m.text, blocks: m.blocks }));
}

function buildEmail(member: Planned, rendered: RenderedEmail, personalizeEmail: typeof PersonalizeEmail, digest: Digest, entryKeys: string[], options: DeliverOptions) {
  const { subscriber, state } = member;
  const { mail, now } = options;
  const token = signUnsubscribeToken(mail.secret, { subscriberId: subscriber.id, issuedAt: now });
  const url = unsubscribeUrl(mail.baseUrl, token);
  const personal = personalizeEmail(rendered, { unsubscribeUrl: url, recipient: subscriber.email! });
  const messageId = digestMessageId({ subscriberId: subscriber.id, fromSeq: state.cursor, entryKeys, domain: mail.domain });
  return {
    subscriberId: subscriber.id,
    to: subscriber.email!,
    toName: subscriber.name,
    from: mail.from,
    subject: personal.subject,
    html: personal.html,
    text: personal.text,
    messageId,
    headers: buildDigestHeaders({
      subscriberId: subscriber.id,
      listId: mail.listId,
      unsubscribeHttpsUrl: url.startsWith('https:') || url.startsWith('http:') ? url : undefined,
      unsubscribeMailto: mail.mailto,
      messageId,
      date: now,
    }),
    date: now,
    entryKeys: digest.entryCount > 0 ? entryKeys : [],
  };
}
