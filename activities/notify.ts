/**
 * `notifyRun`: sends a run's notice to its webhooks (the input's `notify`, else the worker's default webhooks).
 * Retried by Temporal a bounded number of times (workflows/activity-stubs.ts); the targets already delivered are kept
 * in heartbeat details, so a retry sends only to the ones that failed. Never receives or logs a secret: the signing
 * key and credential URLs are read from the environment variables the worker configuration names.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { noticeBody, noticeLinks, type RunNotice } from '../src/notify/message';
import type { NotifyTarget } from '../src/notify/schema';
import { postNotice } from '../src/notify/send';
import type { ActivityDeps } from './deps';

export interface NotifyRunInput {
  notice: RunNotice;
  /** The input's `notify`; undefined: the worker's default webhooks. */
  targets: NotifyTarget[] | undefined;
}

export interface NotifyRunResult {
  delivered: string[];
}

export function notifyActivities(deps: ActivityDeps) {
  return {
    async notifyRun({ notice, targets }: NotifyRunInput): Promise<NotifyRunResult> {
      const config = deps.config.notify;
      const env = deps.env ?? process.env;
      const webhooks = config?.webhooks ?? [];
      // Each target keeps its place in the input's `notify`, which names it in errors (`notify[3]`) and in the delivery id.
      const chosen = (targets ?? webhooks.filter((w) => w.default).map((w) => ({ webhook: w.name, format: w.format, events: w.events })))
        .map((target, index) => ({ target, index }))
        .filter(({ target }) => target.events.includes(notice.event));
      let secret: string | undefined;
      if (config?.signingSecretEnv) {
        secret = env[config.signingSecretEnv];
        if (!secret) throw ApplicationFailure.nonRetryable(`notifications: environment variable ${config.signingSecretEnv} (notify.signingSecretEnv) is not set`, 'NotifyConfiguration');
      }
      const ctx = Context.current();
      const delivered = new Set<string>((ctx.info.heartbeatDetails as string[] | undefined) ?? []);
      const failures: string[] = [];
      for (const { target, index } of chosen) {
        const label = 'webhook' in target && target.webhook ? `webhook ${target.webhook}` : `notify[${index}]`;
        if (delivered.has(label)) continue;
        let url = 'url' in target ? target.url : undefined;
        // A named webhook is sent in its configured format (Slack's URL takes only Slack's shape).
        let format = target.format;
        if ('webhook' in target && target.webhook) {
          const named = webhooks.find((w) => w.name === target.webhook);
          if (!named) {
            failures.push(`${label}: not in this worker's configuration (notify.webhooks: ${webhooks.map((w) => w.name).join(', ') || 'none'})`);
            continue;
          }
          // Both filters apply: the input's events and the webhook's own (a Slack channel for approvals only).
          if (!named.events.includes(notice.event)) continue;
          url = named.url ?? env[named.urlEnv!];
          if (!url) {
            failures.push(`${label}: environment variable ${named.urlEnv!} is not set`);
            continue;
          }
          format = named.format;
        }
        try {
          await postNotice(url!, noticeBody(format, notice, noticeLinks(notice, config?.webUiUrl)), {
            ...(secret ? { secret } : {}),
            deliveryId: `${notice.workflowId}/${notice.runId}/${notice.event}/${index}`,
            timeoutMs: 10_000,
          });
          delivered.add(label);
          ctx.heartbeat([...delivered]);
        } catch (err) {
          // The URL is not in the message: a configured one may be a credential.
          failures.push(`${label}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
        }
      }
      if (failures.length > 0) throw ApplicationFailure.retryable(`notification ${notice.event} not delivered: ${failures.join('; ')}`, 'NotifyFailed');
      return { delivered: [...delivered] };
    },
  };
}
