/**
 * What a channel reports for one digest. Per-subscriber failures are values, never exceptions (see CONTEXT: errors):
 * `permanent: true` means sending the same digest again would fail the same way (unknown mailbox, missing Slack
 * channel, revoked token); `permanent: false` means it may go through on a later attempt (server down, 4xx, 5xx).
 */
export type DeliveryResult =
  | {
      ok: true;
      /** The server's last reply (SMTP "250 …") or a short note. */
      response?: string;
      /** Files written (outbox channels). */
      files?: string[];
    }
  | {
      ok: false;
      permanent: boolean;
      /** Machine-readable cause: nodemailer/Node code (EENVELOPE, ECONNREFUSED…) or Slack error (channel_not_found…). */
      code?: string;
      /** SMTP reply code or HTTP status, when the failure carried one. */
      status?: number;
      /** What happened and what to do about it, naming the subscriber. */
      message: string;
    };

/** A failed DeliveryResult. */
export type DeliveryFailure = Extract<DeliveryResult, { ok: false }>;
