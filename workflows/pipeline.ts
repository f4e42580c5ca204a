/**
 * `fineTunePipeline`: one run from a dataset to a trained (and, when asked, evaluated, approved, deployed and copied)
 * model. The run reads as its stages:
 *
 *   prepare (preflight -> validate -> await_slot -> upload -> create_job)     prepare.ts
 *   train (poll the job, carry out pause/resume, continue as new)             training.ts
 *   post-training (collect -> evaluate -> await_approval -> deploy, copies)   post-training.ts
 *   cleanup (delete per policy, the result) -> completed                      cleanup.ts
 *   on failure or cancellation: undo what the run created -> failed|cancelled cleanup.ts
 *
 * The run's state and its transitions are one class (run.ts), its signals, updates and query one module
 * (handlers.ts, defined in messages.ts). Durable: every step is an idempotent activity (a retried upload or create
 * finds what an earlier attempt made).
 */
import { ContinueAsNew } from '@temporalio/workflow';
import type { PipelineResult } from '../src/pipeline/types';
import { parseWorkflowArgs, type PipelineWorkflowInput } from './boundary';
import { cleanUp, compensate } from './cleanup';
import { registerHandlers } from './handlers';
import { postTraining } from './post-training';
import { prepare } from './prepare';
import { PipelineRun } from './run';
import { train } from './training';

export type { PipelineContinuation, PipelineWorkflowInput } from './boundary';

export async function fineTunePipeline(args: PipelineWorkflowInput): Promise<PipelineResult> {
  const run = new PipelineRun(parseWorkflowArgs(args));
  registerHandlers(run);
  try {
    if (!run.continued && !(await prepare(run))) {
      return await run.finish(() => run.withoutModel('skipped_no_new_data', null, [`skipped: no new data since the lineage's last run (data ${run.dataHash()})`]));
    }
    const job = await train(run);
    const { budgetHold, stoppedEarly } = run.status;
    if (stoppedEarly) return await run.finish(() => run.withoutModel('stopped_early', job.id, [`Stopped early: ${stoppedEarly.explanation}.`]));
    if (budgetHold && job.status === 'paused') return await run.finish(() => run.withoutModel('stopped_at_budget', job.id, [`Stopped: ${budgetHold.explanation}.`]));
    if (job.status === 'cancelled') return await run.finish(() => run.withoutModel('cancelled_in_azure', job.id, []));
    // Azure's own outcomes end the run with nothing deployed: its safety verdict, or its billing limit past the budget.
    const notDeployable = job.notDeployable;
    if (notDeployable) return await run.finish(() => run.withoutModel('not_deployable', job.id, [`Not deployed: ${notDeployable.reason}`]));
    const hold = run.status.azureHold;
    if (hold?.action === 'stop') return await run.finish(() => run.withoutModel('stopped_at_billing_limit', job.id, [`Stopped: ${hold.explanation}.`]));
    return await cleanUp(run, await postTraining(run, job));
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    throw await compensate(run, err);
  }
}
