/**
 * A run's slots on its resource: joins the resource's admission queue (workflows/admission.ts), waits for the grant
 * while `status.admission` and the `FtpipeQueuePosition` search attribute say where it stands and why, and gives the
 * slots back. Workflow-side; the handler is registered when the run starts, so no notice is missed.
 */
import { condition, getExternalWorkflowHandle, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SlotAmounts } from '../src/admission/limits';
import { admissionWorkflowId } from '../src/admission/types';
import type { DataSource, PipelineInput } from '../src/pipeline/input';
import type { PipelineStatus, ValidationSummary } from '../src/pipeline/types';
import { QUEUE_POSITION } from '../src/temporal/search-attributes';
import { recordAdmissionWait } from '../src/telemetry/workflow-metrics';
import type { PipelineActivities } from './activity-stubs';
import { admissionNoticeSignal, releaseSlotsSignal } from './admission';

export interface RunSlots {
  /** Waits until the run holds `amounts` on `resource` (the account's ARM id); at once if it already does. */
  acquire(resource: string, amounts: SlotAmounts): Promise<void>;
  /** Gives the slots back (or leaves the queue); safe to call more than once. */
  release(): Promise<void>;
}

/** What a run takes: one job place, and the files it will upload with their bytes (given file ids are already there). */
export function slotAmounts(input: PipelineInput, validation: ValidationSummary | null): SlotAmounts {
  const sources: [string, DataSource | undefined][] = [['training', input.training], ['validation', input.validation]];
  let files = 0;
  let fileBytes = 0;
  for (const [role, source] of sources) {
    if (!source || 'fileId' in source) continue;
    files++;
    fileBytes += validation?.files.find((f) => f.role === role)?.uploadBytes ?? 0;
  }
  return { jobs: 1, files, fileBytes, deployments: 0 };
}

export function runSlots(ctx: {
  input: PipelineInput;
  status: PipelineStatus;
  acts: Pick<PipelineActivities, 'joinAdmissionQueue'>;
  now: () => string;
  /** Called when the admission state changes (the run refreshes its Web UI details). */
  changed: () => void;
}): RunSlots {
  const { status } = ctx;
  const holder = workflowInfo().workflowId;

  setHandler(admissionNoticeSignal, (notice) => {
    const admission = status.admission;
    if (!admission || admission.state === 'released' || admission.state === 'granted') return;
    admission.reason = notice.reason;
    if (notice.state === 'granted') {
      admission.state = 'granted';
      admission.position = null;
      admission.grantedAt = ctx.now();
      admission.waitedSeconds = Math.round((Date.parse(admission.grantedAt) - Date.parse(admission.requestedAt)) / 1000);
      recordAdmissionWait(admission.resource, admission.waitedSeconds);
      upsertSearchAttributes([{ key: QUEUE_POSITION, value: null }]);
    } else {
      admission.state = 'waiting';
      admission.position = notice.position;
      upsertSearchAttributes([{ key: QUEUE_POSITION, value: notice.position }]);
    }
    ctx.changed();
  }, { description: 'Sent by the resource\'s admission queue: the run\'s position while it waits, then its grant.' });

  return {
    async acquire(resource, amounts) {
      if (status.admission?.state === 'granted') return;
      const requestedAt = ctx.now();
      status.admission = {
        queue: admissionWorkflowId(resource, workflowInfo().taskQueue), resource, state: 'requested', position: null,
        reason: `asking ${resource} for slots`, amounts, requestedAt, grantedAt: null, waitedSeconds: null,
      };
      ctx.changed();
      await ctx.acts.joinAdmissionQueue({ profile: ctx.input.profile, holder, runName: ctx.input.runName, amounts, priority: ctx.input.admission.priority });
      await condition(() => status.admission?.state === 'granted');
    },
    async release() {
      const admission = status.admission;
      if (!admission || admission.state === 'released') return;
      const wasWaiting = admission.state !== 'granted';
      admission.state = 'released';
      admission.position = null;
      try {
        await getExternalWorkflowHandle(admission.queue).signal(releaseSlotsSignal, { holder });
      } catch {
        // No queue to tell (it was never started, or was terminated): there is nothing to give back.
      }
      if (wasWaiting) upsertSearchAttributes([{ key: QUEUE_POSITION, value: null }]);
    },
  };
}
