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
import type { DigestMimeTemplate } from '../dispatch/compose-digest-mime.js';
import type { renderSlack as RenderSlack, SlackMessage } from '../render/render-slack.js';
import type { CompiledTemplates } from '../template/load-template.js';
import { signUnsubscribeToken, unsubscribeUrl } from '../dispatch/unsubscribe-token.js';
import { buildDigestHeaders, digestMessageId } from '../dispatch/build-digest-headers.js';
import type { DigestChannels, OutgoingEmail } from './digest-channels.js';
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
  /**
   * The batch this cycle appended (in a dry run: would have appended), already in memory: only the batches before it
   * are read from the store. Reading back 4,400 fresh entries cost ~90 ms and a second copy of them (issue 7).
   */
  heldBatch?: Batch;
  dryRun: boolean;
  sendConcurrency: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Builds, renders and sends each planned subscriber's digest; records each delivery right after the channel accepted it
 * (in batched writes, see StateWriter). Groups are rendered while earlier groups' digests are still being sent (one
 * bounded SendQueue); RunReport.phasesMs.send is the wall time during which sends were running, so it overlaps select
 * and render instead of adding up with them.
 */
export async function deliverDigests(options: DeliverOptions, report: RunReport): Promise<void> {
  const { store, logger, now, settings, plans } = options;
  if (plans.length === 0) return;
  let t = performance.now();
  const minCursor = Math.min(...plans.map((p) => p.state.cursor));
  const held = options.heldBatch;
  const readUpTo = held ? Math.min(options.latestSeq, held.seq - 1) : options.latestSeq;
  const batches = minCursor < readUpTo ? await store.getBatches(minCursor, readUpTo) : [];
  if (held && held.seq > minCursor) batches.push(held);
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

  // One bounded queue across groups: the next group is built and rendered while earlier digests are still being sent,
  // so the SMTP pool never drains at a group boundary, and at most `capacity` messages (each holding only a reference
  // to its group's shared rendering) wait at any time: nothing like "all messages" is ever in memory.
  const queue = new SendQueue(options.sendConcurrency, Math.max(SEND_QUEUE_MIN, options.sendConcurrency * SEND_QUEUE_PER_SLOT));
  const states = new StateWriter(store);
  // Imported once per cycle: a dynamic import() per group costs a module resolution each time (~0.5 ms under tsx).
  let emailModules: ReturnType<typeof loadEmailModules> | undefined;
  let slackRenderer: Promise<{ renderSlack: typeof RenderSlack }> | undefined;
  let done = 0;
  let failure: { error: unknown } | undefined;
  // Entries' rendered pieces are kept for the other digests of the cycle only when there are others (entry-memo.ts).
  const rememberEntries = groups.size > 1;
  try {
    for (const [key, members] of groups) {
      if (options.signal?.aborted || queue.failed) break;
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
        // Nothing they asked for: move their cursor past what was looked at, so it is not looked at again. Nothing
        // waits on these writes; a failure surfaces from states.flush() below.
        report.digests.empty += members.length;
        if (!options.dryRun) {
          for (const m of members) states.record(advanced(m, options.latestSeq, now, false), 'background').catch(() => undefined);
        }
        continue;
      }
      const entryKeys = digestEntryKeys(digest);
      const kind = channelOf(first.subscriber);
      let email: SharedEmail | undefined;
      let slack: SlackMessage[] | undefined;
      // Renderers (sanitize-html, html-to-text) load on the first digest: a cycle with nothing to send never pays for them.
      // The timers start after the awaits, which let queued sends run: only rendering itself is counted as render.
      if (kind === 'email') {
        const { emailRenderer, prepareDigestMime } = await (emailModules ??= loadEmailModules());
        const templates = await options.templates();
        t = performance.now();
        const rendered = emailRenderer.renderEmail(digest, templates, { subjectPattern: settings.subject, now, rememberEntries });
        report.phasesMs.render += performance.now() - t;
        t = performance.now();
        // The MIME body is encoded once for the whole group; each member's message only stitches in their own
        // headers and footer values (see compose-digest-mime.ts).
        const template = prepareDigestMime({
          from: options.mail.from,
          subject: rendered.subject,
          html: rendered.html,
          text: rendered.text,
          slots: [emailRenderer.UNSUBSCRIBE_PLACEHOLDER, emailRenderer.RECIPIENT_PLACEHOLDER],
        });
        email = { rendered, template, personalize: emailRenderer.personalizeEmail };
        report.phasesMs.compose += performance.now() - t;
      } else {
        const { renderSlack } = await (slackRenderer ??= import('../render/render-slack.js'));
        t = performance.now();
        slack = renderSlack(digest, { rememberEntries });
        report.phasesMs.render += performance.now() - t;
      }
      report.digests.rendered += 1;

      for (const member of members) {
        // Rendering runs ahead of the channels by at most the queue's capacity.
        if (!(await queue.admit())) break;
        if (options.signal?.aborted) break;
        queue.push(async () => {
          // On shutdown, digests not yet started wait for the next cycle; their entries stay queued.
          if (options.signal?.aborted) return;
          const { subscriber } = member;
          const result =
            kind === 'email'
              ? await options.channels.sendEmail(buildEmail(member, email!, digest, entryKeys, options))
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
            // The send slot is held until this subscriber's cursor is stored: at any instant at most sendConcurrency
            // accepted digests are unrecorded, the most a crash can make us send again (same as one write per digest).
            if (!options.dryRun) await states.record(advanced(member, options.latestSeq, now, true));
            return;
          }
          report.digests.failed += 1;
          report.digests.byChannel[kind].failed += 1;
          report.digests.failures.push({ subscriberId: subscriber.id, channel: kind, permanent: result.permanent, message: result.message, entries: digest.entryCount });
          logger.warn({ subscriber: subscriber.id, channel: kind, permanent: result.permanent, err: result.message }, 'digest not delivered; its entries stay queued for the next cycle');
          if (!options.dryRun) await states.record(failed(member, result, now, report));
        });
      }
    }
  } catch (error) {
    failure = { error };
  }
  // Whatever ended the loop (done, shutdown, an error), the digests in flight finish and every accepted one is
  // recorded before this returns; the first error (loop, send, state write) is the one reported.
  await queue.drain();
  report.phasesMs.send += queue.busyMs;
  failure ??= queue.failure;
  try {
    await states.flush();
  } catch (error) {
    failure ??= { error };
  }
  if (failure) throw failure.error;
}

async function loadEmailModules() {
  const [emailRenderer, { prepareDigestMime }] = await Promise.all([import('../render/render-email.js'), import('../dispatch/compose-digest-mime.js')]);
  return { emailRenderer, prepareDigestMime };
}

/** Queue room per send slot: enough for rendering to stay ahead of the channels, small enough to stay cheap in memory. */
const SEND_QUEUE_PER_SLOT = 4;
const SEND_QUEUE_MIN = 16;

/**
 * A bounded send queue: runs at most `concurrency` tasks at once and admits at most `capacity` unfinished ones, so the
 * producer (build + render) runs ahead of the channels by a bounded amount. The first task error stops admission and
 * the queued tasks that have not started (the cycle then ends with that error, as one rejected send ended it before).
 */
class SendQueue {
  readonly #limit: ReturnType<typeof pLimit>;
  readonly #capacity: number;
  readonly #unfinished = new Set<Promise<void>>();
  #room: Array<() => void> = [];
  #running = 0;
  #busySince = 0;
  #error: { value: unknown } | undefined;
  /** Wall time with at least one send running: what the channels took, including the time render ran alongside. */
  busyMs = 0;

  constructor(concurrency: number, capacity: number) {
    this.#limit = pLimit(Math.max(1, concurrency));
    this.#capacity = Math.max(1, capacity);
  }

  get failed(): boolean {
    return this.#error !== undefined;
  }

  /** Resolves once there is room for one more task; false when a task failed and nothing more should be sent. */
  async admit(): Promise<boolean> {
    while (!this.#error && this.#unfinished.size >= this.#capacity) await new Promise<void>((resolve) => this.#room.push(resolve));
    return !this.#error;
  }

  push(task: () => Promise<void>): void {
    const run = this.#limit(async () => {
      // After a failure the cycle ends with that error: queued sends that have not started are not started.
      if (this.#error) return;
      if (this.#running++ === 0) this.#busySince = performance.now();
      try {
        await task();
      } finally {
        if (--this.#running === 0) this.busyMs += performance.now() - this.#busySince;
      }
    }).then(
      () => undefined,
      (error: unknown) => {
        this.#error ??= { value: error };
        // Everyone waiting for room learns that nothing more is sent.
        for (const wake of this.#room.splice(0)) wake();
      },
    );
    this.#unfinished.add(run);
    void run.then(() => {
      this.#unfinished.delete(run);
      this.#room.shift()?.();
    });
  }

  /** Wait for every admitted task to finish. */
  async drain(): Promise<void> {
    while (this.#unfinished.size > 0) await Promise.all([...this.#unfinished]);
  }

  /** The first task error, if any. */
  get failure(): { error: unknown } | undefined {
    return this.#error && { error: this.#error.value };
  }
}

/**
 * Subscriber states go to the store in batches (group commit): a write starts at once when none is running, and
 * states recorded meanwhile go together in the next one, as soon as it ends (no timer: a state never waits for a batch
 * to fill). One setSubscriberStates of 8 states costs about a fifth of 8 single writes on SQLite (10,000 single writes:
 * ~1.9 s wall, 1.5 s CPU). record() resolves once that state is stored; flush() waits for everything and reports the
 * first failure.
 *
 * Crash bound: a send task keeps its slot until record() resolved, so at any instant at most sendConcurrency accepted
 * digests are unrecorded, and a crash repeats at most those (the same bound as one awaited write per digest; with one
 * SMTP connection, one). Empty digests' cursor moves are not awaited: losing them only means those selections are
 * looked at again next cycle, nothing is sent twice.
 */
class StateWriter {
  readonly #store: SeenStore;
  // Accepted and failed digests' states go first: a crash repeats whatever was accepted but not yet recorded, so
  // they never wait behind a large batch of empty digests' cursor moves (which only cost a second look if lost).
  #urgent: PendingState[] = [];
  #background: PendingState[] = [];
  #running: Promise<void> | undefined;
  #error: { value: unknown } | undefined;

  constructor(store: SeenStore) {
    this.#store = store;
  }

  record(state: SubscriberState, priority: 'urgent' | 'background' = 'urgent'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      (priority === 'urgent' ? this.#urgent : this.#background).push({ state, resolve, reject });
      this.#running ??= this.#writeAll();
    });
  }

  async #writeAll(): Promise<void> {
    while (this.#urgent.length > 0 || this.#background.length > 0) {
      const batch = this.#urgent.length > 0 ? this.#urgent.splice(0, STATE_BATCH_MAX) : this.#background.splice(0, BACKGROUND_BATCH_MAX);
      try {
        await this.#store.setSubscriberStates(batch.map((p) => p.state));
        for (const p of batch) p.resolve();
      } catch (error) {
        this.#error ??= { value: error };
        for (const p of batch) p.reject(error);
      }
    }
    this.#running = undefined;
  }

  async flush(): Promise<void> {
    while (this.#running) await this.#running;
    if (this.#error) throw this.#error.value;
  }
}

interface PendingState {
  state: SubscriberState;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Empty digests' cursor moves per write: small enough that an accepted digest's state never waits long behind one. */
const BACKGROUND_BATCH_MAX = 50;
const STATE_BATCH_MAX = 500;

/** A group's rendered email, shared by its members. */
interface SharedEmail {
  rendered: RenderedEmail;
  template: DigestMimeTemplate;
  personalize: typeof PersonalizeEmail;
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

function buildEmail(member: Planned, email: SharedEmail, digest: Digest, entryKeys: string[], options: DeliverOptions): OutgoingEmail {
  const { subscriber, state } = member;
  const { mail, now } = options;
  const token = signUnsubscribeToken(mail.secret, { subscriberId: subscriber.id, issuedAt: now });
  const url = unsubscribeUrl(mail.baseUrl, token);
  const values = { unsubscribeUrl: url, recipient: subscriber.email! };
  const messageId = digestMessageId({ subscriberId: subscriber.id, fromSeq: state.cursor, entryKeys, domain: mail.domain });
  // The whole personalised html/text is only built when someone reads it (outbox .html file, preview); sending
  // stitches the shared MIME template with the two slot values, escaped by personalizeEmail itself.
  let personal: RenderedEmail | undefined;
  const personalized = () => (personal ??= email.personalize(email.rendered, values));
  return {
    subscriberId: subscriber.id,
    to: subscriber.email!,
    toName: subscriber.name,
    from: mail.from,
    subject: email.rendered.subject,
    get html() {
      return personalized().html;
    },
    get text() {
      return personalized().text;
    },
    mime: { template: email.template, values: slotValues(email, values) },
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

/** Each slot's value for the html and the text part, exactly as personalizeEmail fills it (it is applied to the bare token). */
function slotValues(email: SharedEmail, values: { unsubscribeUrl: string; recipient: string }): { html: Record<string, string>; text: Record<string, string> } {
  const html: Record<string, string> = {};
  const text: Record<string, string> = {};
  for (const slot of email.template.slots) {
    const filled = email.personalize({ subject: '', preheader: '', html: slot, text: slot }, values);
    html[slot] = filled.html;
    text[slot] = filled.text;
  }
  return { html, text };
}
