/**
 * A promoted deployment's keep-alive (`deployment.idle: keepAlive`): the schedule that calls it, and the call. Azure
 * deletes a fine-tuned deployment after 15 days without chat completions or responses calls; one tiny chat completion
 * before then resets that clock.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { azureErrorInfo, azureFailure } from '../src/azure/errors';
import { createKeepAliveSchedule, deleteKeepAliveSchedule } from '../src/client/schedules';
import { armDeploymentExists } from './azure-access';
import type { AzureAccess } from './deps';
import { SMOKE_PROMPT, throwIfCancelled } from './deployments';

export interface ScheduleKeepAliveInput {
  profile: string;
  deployment: string;
  everyHours: number;
  runName: string;
}

export interface KeepAliveTarget {
  profile: string;
  deployment: string;
}

export interface KeepAliveCall {
  /** `called`: it answered; `gone`: Azure no longer has it, so its schedule was deleted. */
  outcome: 'called' | 'gone';
  /** The deployment's keep-alive schedule was deleted by this call (outcome `gone`). */
  scheduleDeleted: boolean;
}

export function keepAliveActivities(azure: AzureAccess) {
  return {
    /** Creates the deployment's keep-alive schedule on this worker's task queue (idempotent); returns its id. */
    async scheduleKeepAlive(input: ScheduleKeepAliveInput): Promise<{ scheduleId: string }> {
      const context = Context.current();
      const scheduleId = await createKeepAliveSchedule(context.client, { ...input, taskQueue: context.info.taskQueue });
      return { scheduleId };
    },

    /** Deletes the deployment's keep-alive schedule, if it has one (a retired version's). */
    async removeKeepAlive(input: KeepAliveTarget): Promise<{ deleted: boolean }> {
      return { deleted: await deleteKeepAliveSchedule(Context.current().client, input.profile, input.deployment) };
    },

    /**
     * One chat completion to the deployment (the smoke test's prompt; no max_tokens, which reasoning models refuse).
     * When Azure no longer has the deployment (deleted outside ftpipe, or by Azure), its schedule is deleted: nothing
     * is left calling a deployment that is not there.
     */
    async pingDeployment(input: KeepAliveTarget): Promise<KeepAliveCall> {
      const context = Context.current();
      try {
        await azure.openai(input.profile).chat.completions.create(
          { model: input.deployment, messages: [{ role: 'user', content: SMOKE_PROMPT }] },
          { signal: context.cancellationSignal },
        );
        return { outcome: 'called', scheduleDeleted: false };
      } catch (err) {
        throwIfCancelled();
        if (azureErrorInfo(err)?.code !== 'DeploymentNotFound') throw azureFailure(err, `keep-alive call to deployment ${input.deployment}`);
        if (await armDeploymentExists(azure, input.profile, input.deployment)) {
          throw ApplicationFailure.retryable(`keep-alive call to deployment ${input.deployment}: Azure answered DeploymentNotFound while ARM lists it; trying again`, 'DeploymentNotServing');
        }
        context.log.info(`deployment ${input.deployment} is gone; deleting its keep-alive schedule`);
        return { outcome: 'gone', scheduleDeleted: await deleteKeepAliveSchedule(context.client, input.profile, input.deployment) };
      }
    },
  };
}
