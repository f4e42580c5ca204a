/** The run's side of its resource's admission queue (workflows/admission.ts): joining it, and checking holders. */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { DEFAULT_LIMITS, type ResourceLimits, type SlotAmounts } from '../src/admission/limits';
import { accountResourceId } from '../src/config/profile';
import { admissionWorkflowId } from '../src/admission/types';
import type { AdmissionView, SlotRequest } from '../workflows/admission';
import type { AzureAccess } from './deps';

export interface JoinQueueInput {
  profile: string;
  holder: string;
  runName: string;
  amounts: SlotAmounts;
  priority: number;
}

export interface JoinedQueue {
  queue: string;
  resource: string;
  limits: ResourceLimits;
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
     * Queues the run for slots on its profile's resource: signal-with-start, so the resource's queue starts on first
     * use. Idempotent: the queue keys requests by the run's workflow id, so a retry changes nothing.
     */
    async joinAdmissionQueue(input: JoinQueueInput): Promise<JoinedQueue> {
      const { queue, resource, limits } = target(input.profile);
      const request: SlotRequest = { holder: input.holder, runName: input.runName, amounts: input.amounts, priority: input.priority, limits };
      await Context.current().client.workflow.signalWithStart('resourceAdmission', {
        workflowId: queue,
        taskQueue: Context.current().info.taskQueue,
        args: [{ resource, limits }],
        signal: 'requestSlots',
        signalArgs: [request],
      });
      return { queue, resource, limits };
    },

    /** The queue's view of a resource (limits, free slots, queue) without joining it; null when no queue runs yet. */
    async admissionView(input: { profile: string }): Promise<{ target: QueueTarget; view: AdmissionView | null }> {
      const t = target(input.profile);
      try {
        return { target: t, view: await Context.current().client.workflow.getHandle(t.queue).query<AdmissionView, []>('admission') };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { target: t, view: null };
        throw err;
      }
    },

    /** Which of these workflows are no longer open (or never existed): their slots go back to the queue. */
    async closedWorkflows(input: { workflowIds: string[] }): Promise<string[]> {
      const client = Context.current().client;
      const closed: string[] = [];
      for (const id of input.workflowIds) {
        try {
          const description = await client.workflow.getHandle(id).describe();
          if (description.status.name !== 'RUNNING') closed.push(id);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) closed.push(id);
          else throw err;
        }
      }
      return closed;
    },
  };
}
