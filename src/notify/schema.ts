/**
 * Run notifications (webhooks): what a pipeline input may ask for and what the worker's configuration provides.
 * Workflow-safe (zod only). URLs that are credentials themselves (Slack's and Teams' incoming webhooks, Logic Apps
 * triggers) are refused in inputs, which are kept in workflow history: they live in the worker's configuration and
 * an input names them. The signing secret is the worker's too (an environment variable it names).
 */
import { z } from 'zod';

export const NOTIFY_EVENTS = ['awaiting_approval', 'succeeded', 'failed', 'cancelled'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
export const NOTIFY_FORMATS = ['json', 'slack', 'teams'] as const;
export type NotifyFormat = (typeof NOTIFY_FORMATS)[number];

/** Hosts whose webhook URLs carry their secret in the path. */
const SECRET_WEBHOOK_HOSTS = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*\.)?(hooks\.slack\.com|webhook\.office\.com|[^/?#]*\.logic\.azure\.com|outlook\.office\.com)(:\d+)?([/?#]|$)/i;

/**
 * More hosts whose webhook URLs are the credential (Discord's `/api/webhooks/<id>/<token>`, which also takes Slack's
 * shape; Zapier's catch hooks; IFTTT's `.../with/key/<key>`). Not in the schema's refinement: the workflow parses the
 * input at its start, so refusing them there would fail the replay of a run that accepted one. The client refuses them
 * before a start (src/pipeline/input.ts parsePipelineInput) and a new run at its boundary (workflows/boundary.ts).
 */
const MORE_SECRET_WEBHOOK_HOSTS = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*\.)?(discord\.com|discordapp\.com|hooks\.zapier\.com|maker\.ifttt\.com)(:\d+)?([/?#]|$)/i;

const secretWebhookMessage = (who: string): string =>
  `this webhook URL is itself a credential (${who} put the secret in the path) and would be kept in workflow history; define it in the worker configuration under notify.webhooks and give its name as "webhook"`;

/** The field and why, for each target URL of MORE_SECRET_WEBHOOK_HOSTS (the CLI names the field's line in its file). */
export function moreSecretWebhookFields(notify: readonly { url?: string | undefined }[] | undefined): { path: ['notify', number, 'url']; message: string }[] {
  return (notify ?? []).flatMap((target, i) => (target.url !== undefined && MORE_SECRET_WEBHOOK_HOSTS.test(target.url)
    ? [{ path: ['notify', i, 'url'] as ['notify', number, 'url'], message: secretWebhookMessage('Discord, Zapier and IFTTT') }]
    : []));
}

/** `notify.N.url: why` for each target URL of MORE_SECRET_WEBHOOK_HOSTS. */
export function moreSecretWebhookIssues(notify: readonly { url?: string | undefined }[] | undefined): string[] {
  return moreSecretWebhookFields(notify).map(({ path, message }) => `${path.join('.')}: ${message}`);
}

const WebhookUrl = z.string().regex(/^https?:\/\/[^\s]+$/i, 'an http(s) URL');
const Events = z.array(z.enum(NOTIFY_EVENTS)).min(1);

const NotifyTargetSchema = z
  .object({
    /** An endpoint without credentials in it (ftpipe signs each request with the worker's secret). */
    url: WebhookUrl.refine((url) => !SECRET_WEBHOOK_HOSTS.test(url), { message: secretWebhookMessage('Slack, Teams and Logic Apps') }).optional(),
    /** A webhook of the worker's configuration (notify.webhooks[].name). */
    webhook: z.string().min(1).optional(),
    /** For `url` (a named webhook has its own format in the worker configuration). */
    format: z.enum(NOTIFY_FORMATS).default('json'),
    /** Which events to send [all]. */
    events: Events.default([...NOTIFY_EVENTS]),
  })
  .strict()
  .refine((t) => (t.url === undefined) !== (t.webhook === undefined), { message: 'give exactly one of "url" and "webhook"' });
export type NotifyTarget = z.output<typeof NotifyTargetSchema>;
/**
 * The schema of one target of an input's `notify`. A function, not the schema itself: the workflow bundle preloads the
 * input's schemas once per worker and the SDK freezes what preloaded modules export, which zod schemas do not survive
 * (see src/pipeline/input.ts).
 */
export const notifyTargetSchema = (): typeof NotifyTargetSchema => NotifyTargetSchema;

const NotifyConfigSchema = z
  .object({
    /** Base URL of the Temporal Web UI, for the links in notifications (e.g. http://127.0.0.1:8233). */
    webUiUrl: WebhookUrl.optional(),
    /** Environment variable holding the HMAC-SHA256 key that signs every notification (header X-Ftpipe-Signature). */
    signingSecretEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
    webhooks: z
      .array(
        z
          .object({
            name: z.string().min(1),
            /** The URL, or the environment variable holding it (for URLs that are credentials). */
            url: WebhookUrl.optional(),
            urlEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
            format: z.enum(NOTIFY_FORMATS).default('json'),
            events: Events.default([...NOTIFY_EVENTS]),
            /** Sent for runs whose input has no `notify` (an input's `notify: []` turns it off). */
            default: z.boolean().default(false),
          })
          .strict()
          .refine((w) => (w.url === undefined) !== (w.urlEnv === undefined), { message: 'give exactly one of "url" and "urlEnv"' }),
      )
      .default([]),
  })
  .strict();
/** The worker configuration's `notify` schema (a function for the same reason as `notifyTargetSchema`). */
export const notifyConfigSchema = (): typeof NotifyConfigSchema => NotifyConfigSchema;
