/**
 * What a notification says, in three shapes: ftpipe's own JSON, Slack's incoming-webhook message (`text` + Block Kit)
 * and a Microsoft Teams incoming-webhook message (an Adaptive Card attachment). Names, ids, scores and links only.
 */
import type { NotifyEvent, NotifyFormat } from './schema';

/** What the workflow tells the notify activity (no secrets, no training content). */
export interface RunNotice {
  event: NotifyEvent;
  runName: string;
  workflowId: string;
  runId: string;
  namespace: string;
  stage: string;
  at: string;
  outcome: string | null;
  jobId: string | null;
  fineTunedModel: string | null;
  /** Why the run failed (failed), or the evaluation's decision. */
  reason: string | null;
  chosenCheckpoint: { step: number; model: string } | null;
  scores: { candidate: string; kind: 'candidate' | 'baseline'; score: number }[];
  deployments: string[];
}

export interface NoticeLinks {
  webUi: string | null;
  approve: string | null;
  reject: string | null;
}

const TITLES: Record<NotifyEvent, string> = {
  awaiting_approval: 'awaits approval',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'was cancelled',
};

export function noticeLinks(notice: RunNotice, webUiUrl: string | undefined): NoticeLinks {
  const webUi = webUiUrl
    ? `${webUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(notice.namespace)}/workflows/${encodeURIComponent(notice.workflowId)}/${encodeURIComponent(notice.runId)}/history`
    : null;
  const awaiting = notice.event === 'awaiting_approval';
  return {
    webUi,
    approve: awaiting ? `ftpipe approve ${notice.workflowId} --by NAME` : null,
    reject: awaiting ? `ftpipe reject ${notice.workflowId} --by NAME --comment WHY` : null,
  };
}

function lines(notice: RunNotice, links: NoticeLinks): string[] {
  const out = [`ftpipe run ${notice.runName} ${TITLES[notice.event]}${notice.outcome ? ` (${notice.outcome})` : ''}, stage ${notice.stage}`];
  if (notice.jobId) out.push(`job: ${notice.jobId}${notice.fineTunedModel ? `, model ${notice.fineTunedModel}` : ''}`);
  if (notice.chosenCheckpoint) out.push(`chosen checkpoint: step ${notice.chosenCheckpoint.step} (${notice.chosenCheckpoint.model})`);
  for (const s of notice.scores) out.push(`score ${s.kind} ${s.candidate}: ${s.score.toFixed(3)}`);
  if (notice.reason) out.push(notice.reason);
  if (notice.deployments.length > 0) out.push(`live: ${notice.deployments.join(', ')}`);
  if (links.approve) out.push(`approve: ${links.approve}`, `reject: ${links.reject!}`);
  if (links.webUi) out.push(`Web UI: ${links.webUi}`);
  return out;
}

export function noticeBody(format: NotifyFormat, notice: RunNotice, links: NoticeLinks): unknown {
  const text = lines(notice, links);
  switch (format) {
    case 'json':
      return { type: `ftpipe.run.${notice.event}`, ...notice, links, summary: text[0] };
    case 'slack':
      return {
        text: text[0],
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: text.map((l, i) => (i === 0 ? `*${l}*` : l)).join('\n') } },
          ...(links.webUi ? [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Temporal' }, url: links.webUi }] }] : []),
        ],
      };
    case 'teams':
      return {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            contentUrl: null,
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.4',
              body: text.map((l, i) => ({ type: 'TextBlock', text: l, wrap: true, ...(i === 0 ? { weight: 'Bolder', size: 'Medium' } : {}) })),
              ...(links.webUi ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in Temporal', url: links.webUi }] } : {}),
            },
          },
        ],
      };
  }
}
