/** The run's side of its resource's admission queue (workflows/admission.ts): joining it, and checking holders. */
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { DEFAULT_LIMITS, type ResourceLimits, type SlotAmounts } from '../src/admission/limits';
import { accountResourceId } from '../src/config/profile';
import { admissionWorkflowId, deploymentSlotKey } from '../src/admission/types';
import { admissionTaskQueue } from '../src/temporal/constants';
import { azureFailure, isAzureNotFound } from '../src/azure/errors';
import { admissionQuery, joinQueueUpdate, releaseSlotsSignal, requestSlotsSignal, type AdmissionInput, type AdmissionNotice, type AdmissionView, type DeploymentSlotCheck, type resourceAdmission, type SlotRequest } from '../workflows/admission';
import { ADMISSION_WORKFLOW_TYPE } from '../workflows/messages';
import type { AzureAccess } from './deps';

export interface JoinQueueInput {
  profile: string;
  holder: string;
  runName: string;
  amounts: SlotAmounts;
  priority: number;
  /** A deployment slot: the deployment's name on the profile's resource (the grant is keyed by it, not by the run). */
  deployment?: string;
}

export interface JoinedQueue {
  queue: string;
  resource: string;
  limits: ResourceLimits;
  /** The queue's answer to the joinQueue update: granted, or the run's position; absent when the join had to signal. */
  reply?: AdmissionNotice;
}

export interface QueueTarget {
  queue: string;
  resource: string;
  limits: ResourceLimits;
}

export function admissionActivities(azure: AzureAccess) {
  const target = (profileName: string): QueueTarget => {
    const profile = azure.profile(profileName);
    const resource = accountResourceId(profile);
    return { queue: admissionWorkflowId(resource, Context.current().info.taskQueue), resource, limits: profile.limits ?? DEFAULT_LIMITS };
  };
  return {
    /**
     * Queues the run for slots on its profile's resource, starting the resource's queue on first use: by
     * update-with-start, returning the queue's answer (granted, or the run's position). A queue on a build without the
     * update (an older worker still serving it) refuses it: then by signal-with-start, and the grant comes by notice. Idempotent:
     * the queue keys requests by the run's workflow id, so a retry changes nothing (and is answered the same way).
     */
    async joinAdmissionQueue(input: JoinQueueInput): Promise<JoinedQueue> {
      const { queue, resource, limits } = target(input.profile);
      const request: SlotRequest = { holder: input.holder, runName: input.runName, amounts: input.amounts, priority: input.priority, limits };
      if (input.deployment !== undefined) {
        request.key = deploymentSlotKey(input.deployment);
        request.deployment = { profile: input.profile, name: input.deployment };
      }
      const { client, info } = Context.current();
      // A queue already open stays where it started (on the runs' own task queue, before queues had theirs).
      const start = { workflowId: queue, taskQueue: admissionTaskQueue(info.taskQueue), args: [{ resource, limits }] as [AdmissionInput] };
      try {
        const reply = await client.workflow.executeUpdateWithStart(joinQueueUpdate, {
          args: [request],
          startWorkflowOperation: new WithStartWorkflowOperation<typeof resourceAdmission>(ADMISSION_WORKFLOW_TYPE, { ...start, workflowIdConflictPolicy: 'USE_EXISTING' }),
        });
        return { queue, resource, limits, reply };
      } catch (err) {
        if (!(err instanceof WorkflowUpdateFailedError)) throw err;
      }
      await client.workflow.signalWithStart<typeof resourceAdmission, [SlotRequest]>(ADMISSION_WORKFLOW_TYPE, { ...start, signal: requestSlotsSignal, signalArgs: [request] });
      return { queue, resource, limits };
    },

    /**
     * Gives the holder's slots back to its queue, or only the deployment slot `key`: a signal, run as a local activity
     * (workflows/slots.ts) so that it costs the run no workflow task of its own, as a signal from the workflow does
     * (the server answers each with a task). Idempotent: a slot released twice is released once; a queue that no
     * longer runs has nothing to give back.
     */
    async releaseAdmissionSlots(input: { queue: string; holder: string; key?: string }): Promise<void> {
      try {
        await Context.current().client.workflow.getHandle(input.queue).signal(releaseSlotsSignal, { holder: input.holder, ...(input.key !== undefined ? { key: input.key } : {}) });
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },

    /** The queue's view of a resource (limits, free slots, queue) without joining it; null when no queue runs yet. */
    async admissionView(input: { profile: string }): Promise<{ target: QueueTarget; view: AdmissionView | null }> {
      const t = target(input.profile);
      try {
        return { target: t, view: await Context.current().client.workflow.getHandle(t.queue).query(admissionQuery) };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { target: t, view: null };
        throw err;
      }
    },

    /**
     * Which of these workflows are no longer open (or never existed): their slots go back to the queue. With
     * `deployments` (deployment slots, by key), also the keys of those whose run has ended and whose deployment Azure no
     * longer has (deleted by a run, or by Azure after 24 h / 15 idle days): a live deployment keeps its slot.
     */
    async closedWorkflows(input: { workflowIds: string[]; deployments?: DeploymentSlotCheck[] }): Promise<string[]> {
      const client = Context.current().client;
      const closed: string[] = [];
      for (const id of new Set([...input.workflowIds, ...(input.deployments ?? []).map((d) => d.holder)])) {
        try {
          const description = await client.workflow.getHandle(id).describe();
          if (description.status.name !== 'RUNNING') closed.push(id);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) closed.push(id);
          else throw err;
        }
      }
      const gone: string[] = [];
      for (const d of input.deployments ?? []) {
        if (!closed.includes(d.holder)) continue;
        const profile = azure.profile(d.deployment.profile);
        try {
          await azure.arm(d.deployment.profile).deployments.get(profile.resourceGroup, profile.account, d.deployment.name);
        } catch (err) {
          if (isAzureNotFound(err)) gone.push(d.key);
          else throw azureFailure(err, `get deployment ${d.deployment.name}`);
        }
      }
      return [...closed.filter((id) => input.workflowIds.includes(id)), ...gone];
    },
  };
}
