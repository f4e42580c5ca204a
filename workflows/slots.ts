/**
 * A run's slots on its resource: joins the resource's admission queue (workflows/admission.ts), waits for the grant
 * while `status.admission` and the `FtpipeQueuePosition` search attribute say where it stands and why, and gives the
 * slots back. Workflow-side; the handler is registered when the run starts, so no notice is missed.
 */
import { condition, getExternalWorkflowHandle, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { patched } from './patches';
import type { SlotAmounts } from '../src/admission/limits';
import { admissionWorkflowId, deploymentSlotKey, type AdmissionNotice } from '../src/admission/types';
import type { DataSource, PipelineInput } from '../src/pipeline/input';
import type { DeploymentSlot, PipelineStatus, ValidationSummary } from '../src/pipeline/types';
import { QUEUE_POSITION } from '../src/temporal/search-attributes';
import { recordAdmissionWait } from '../src/telemetry/workflow-metrics';
import type { PipelineActivities, PipelineLocalActivities } from './activity-stubs';
import { admissionNoticeSignal, releaseSlotsSignal } from './admission';

export interface RunSlots {
  /**
   * Waits until the run holds `amounts` on `resource` (the account's ARM id); at once if it already does. With
   * `waitForGrant: false`, returns once the queue has the request (the grant arrives later, in status.admission).
   */
  acquire(resource: string, amounts: SlotAmounts, options?: { waitForGrant: boolean }): Promise<void>;
  /** Gives the slots back (or leaves the queue); safe to call more than once. */
  release(): Promise<void>;
  /**
   * Waits for a deployment slot on the profile's resource for the deployment `name` (at once if the run, or an earlier
   * run that deployed under that name, holds it). The slot outlives the run: it is the deployment's.
   */
  acquireDeployment(target: { profile: string; name: string }): Promise<void>;
  /** Gives a deployment's slot back once the deployment is deleted (by this run, or when it retires an earlier version). */
  releaseDeployment(target: { profile: string; name: string }): Promise<void>;
}

const DEPLOYMENT_SLOT: SlotAmounts = { jobs: 0, files: 0, fileBytes: 0, deployments: 1 };

/**
 * Whether this run takes deployment slots: runs recorded before deployment slots existed replay without them. Call it
 * at the call site (`if (deploymentSlotsOn()) await ...`): on replay of such a run, no await is added.
 */
export function deploymentSlotsOn(): boolean {
  return patched('ftpipe-deployment-slots');
}

/**
 * Whether the run's other messages to its queue (deployment slots' joins, every release) and a deployment plan's
 * check run as local activities (`ftpipe-local-bookkeeping`): a join through an activity cost an activity task and a
 * workflow task, a release signalled from the workflow a workflow task (the server answers the signal's delivery with
 * one), five to ten per run that evaluates and deploys. Runs from before keep their activities and signals. Asked
 * ahead (run.ts PATCHES_ASKED_AHEAD): a release can follow the monitor's last poll.
 */
export function localBookkeepingOn(): boolean {
  return patched('ftpipe-local-bookkeeping');
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
  /**
   * The run's own join as a local activity (one signal-with-start to the queue: no activity task and no workflow task
   * of its own); the queue keys requests by holder, so a join run again changes nothing. Runs from before (the
   * patches) join through an activity, and release by a signal from the workflow.
   */
  localActs?: Pick<PipelineLocalActivities, 'joinAdmissionQueue' | 'releaseAdmissionSlots'>;
  now: () => string;
  /** Called when the admission state changes (the run refreshes its Web UI details). */
  changed: () => void;
  /** The run upserts only what changed (run.ts batchedUpserts): no FtpipeQueuePosition removal when none was set. */
  batchedUpserts?: boolean;
}): RunSlots {
  const { status } = ctx;
  const holder = workflowInfo().workflowId;
  /** Admission queues by profile, as the joins answered them (a deployment slot is released on its profile's queue). */
  const queues = new Map<string, string>();
  const slotOf = (profile: string, name: string): DeploymentSlot | undefined => status.deploymentSlots?.find((s) => s.profile === profile && deploymentSlotKey(s.name) === deploymentSlotKey(name));
  /** Deployment slots waiting for their grant: the queue's key, and its resource once the join answered (names may repeat across resources). */
  const awaiting: { key: string; slot: DeploymentSlot; resource: string | null }[] = [];
  /** Gives back the holder's slots on `queue`, or the deployment slot `key`. */
  const releaseOn = async (queue: string, key?: string): Promise<void> => {
    if (ctx.localActs && localBookkeepingOn()) return ctx.localActs.releaseAdmissionSlots({ queue, holder, ...(key !== undefined ? { key } : {}) });
    try {
      await getExternalWorkflowHandle(queue).signal(releaseSlotsSignal, { holder, ...(key !== undefined ? { key } : {}) });
    } catch {
      // No queue to tell (it was never started, or was terminated): there is nothing to give back.
    }
  };
  const stopAwaiting = (slot: DeploymentSlot): void => {
    const i = awaiting.findIndex((a) => a.slot === slot);
    if (i >= 0) awaiting.splice(i, 1);
  };

  /** A notice from the queue, or the queue's reply to a join: the same news either way. */
  const applyNotice = (notice: AdmissionNotice): void => {
    if (notice.key !== undefined) {
      const candidates = awaiting.filter((a) => a.key === notice.key && (a.resource === null || a.resource === notice.resource));
      const entry = candidates.find((a) => a.resource === notice.resource) ?? candidates[0];
      if (!entry) return;
      const slot = entry.slot;
      slot.reason = notice.reason;
      slot.position = notice.state === 'granted' ? null : notice.position;
      if (notice.state === 'granted') {
        slot.state = 'granted';
        stopAwaiting(slot);
      }
      ctx.changed();
      return;
    }
    const admission = status.admission;
    if (!admission || admission.state === 'released' || admission.state === 'granted') return;
    admission.reason = notice.reason;
    if (notice.state === 'granted') {
      const positionShown = admission.state === 'waiting';
      admission.state = 'granted';
      admission.position = null;
      admission.grantedAt = ctx.now();
      admission.waitedSeconds = Math.round((Date.parse(admission.grantedAt) - Date.parse(admission.requestedAt)) / 1000);
      recordAdmissionWait(admission.resource, admission.waitedSeconds);
      if (positionShown || !ctx.batchedUpserts) upsertSearchAttributes([{ key: QUEUE_POSITION, value: null }]);
    } else {
      admission.state = 'waiting';
      admission.position = notice.position;
      upsertSearchAttributes([{ key: QUEUE_POSITION, value: notice.position }]);
    }
    ctx.changed();
  };
  /**
   * The queue's answer in the join's result (activities/admission.ts: the joinQueue update): a run that fits is
   * granted there and sent no notice. No patch: the answer is recorded with the join's result, so a replay takes the
   * same path; runs and histories from before have no answer in it and wait for the notice, as they did.
   */
  const applyReply = (joined: { reply?: AdmissionNotice }): void => {
    if (joined.reply) applyNotice(joined.reply);
  };
  setHandler(admissionNoticeSignal, applyNotice, { description: 'Sent by the resource\'s admission queue: the run\'s position while it waits, then its grant.' });

  return {
    async acquire(resource, amounts, options) {
      if (status.admission?.state === 'granted') return;
      const requestedAt = ctx.now();
      status.admission = {
        queue: admissionWorkflowId(resource, workflowInfo().taskQueue), resource, state: 'requested', position: null,
        reason: `asking ${resource} for slots`, amounts, requestedAt, grantedAt: null, waitedSeconds: null,
      };
      ctx.changed();
      const join = ctx.localActs && patched('ftpipe-local-join') ? ctx.localActs.joinAdmissionQueue : ctx.acts.joinAdmissionQueue;
      const joined = await join({ profile: ctx.input.profile, holder, runName: ctx.input.runName, amounts, priority: ctx.input.admission.priority });
      queues.set(ctx.input.profile, joined.queue);
      applyReply(joined);
      if (options?.waitForGrant === false) return;
      await condition(() => status.admission?.state === 'granted');
    },
    async acquireDeployment({ profile, name }) {
      let slot = slotOf(profile, name);
      if (slot?.state === 'granted') return;
      if (!slot) {
        slot = { profile, name, state: 'waiting', position: null, reason: `asking for a deployment slot for ${name}` };
        (status.deploymentSlots ??= []).push(slot);
      }
      slot.state = 'waiting';
      // Registered before the join: the grant can arrive before the activity's result.
      const entry = { key: deploymentSlotKey(name), slot, resource: null as string | null };
      awaiting.push(entry);
      ctx.changed();
      const join = ctx.localActs && localBookkeepingOn() ? ctx.localActs.joinAdmissionQueue : ctx.acts.joinAdmissionQueue;
      const joined = await join({ profile, holder, runName: ctx.input.runName, amounts: DEPLOYMENT_SLOT, priority: ctx.input.admission.priority, deployment: name });
      queues.set(profile, joined.queue);
      entry.resource = joined.resource;
      applyReply(joined);
      const waited = slot;
      await condition(() => waited.state === 'granted');
    },
    async releaseDeployment({ profile, name }) {
      const slot = slotOf(profile, name);
      const queue = queues.get(profile);
      if (slot) {
        slot.state = 'released';
        slot.position = null;
        stopAwaiting(slot);
      }
      // A queue this execution never joined: the queue takes the slot back once Azure no longer has the deployment.
      if (!queue) return;
      await releaseOn(queue, deploymentSlotKey(name));
    },
    async release() {
      const admission = status.admission;
      if (!admission || admission.state === 'released') return;
      const wasWaiting = ctx.batchedUpserts ? admission.state === 'waiting' : admission.state !== 'granted';
      admission.state = 'released';
      admission.position = null;
      await releaseOn(admission.queue);
      if (wasWaiting) upsertSearchAttributes([{ key: QUEUE_POSITION, value: null }]);
    },
  };
}
