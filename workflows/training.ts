/**
 * The `train` stage: polls the Azure job until it ends, on a timer that signals and updates cut short, and carries out
 * the pause and resume signals between polls. Bounded history: the run continues as new between polls, never with a
 * handler running. Workflow-safe.
 */
import { ApplicationFailure, allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';
import { patched } from './patches';
import { HISTORY_EVENT_BUDGET } from '../src/pipeline/input';
import { pollIntervalSeconds } from '../src/pipeline/progress';
import { isTerminalJobStatus, type JobSnapshot } from '../src/pipeline/types';
import { askPatchesAhead, localPollOn, nowMs, type PipelineRun } from './run';
import { automaticEvaluationsDue, pauseAtBudget, watchAutomaticEvaluations } from './training-watch';
import { releasingSteps } from './waits';

/**
 * Runs that started before the budget grew continued as new at 150 events, about every 13 polls, which closed the
 * Web UI's page under its users; they (and their recorded histories) keep that budget, new runs take the input's.
 */
const LEGACY_HISTORY_EVENT_BUDGET = 150;

function historyBudget(run: PipelineRun): number {
  if (!patched('ftpipe-history-budget')) return LEGACY_HISTORY_EVENT_BUDGET;
  return run.input.polling.continueAsNewAfterEvents ?? HISTORY_EVENT_BUDGET;
}

/**
 * Polls until the job ends (or Azure holds it where the budget says stop) and gives its slots back; a failed job fails
 * the run, unless Azure's safety evaluation failed it (the run's own outcome, `not_deployable`). Continues as new when
 * history is long.
 */
export async function train(run: PipelineRun): Promise<JobSnapshot> {
  // A succeeded job adopted with `fromJob` has nothing left to watch: the run goes on from collect.
  const job = run.adopted && run.job.status === 'succeeded' ? run.job : await monitor(run);
  run.endTraining();
  await run.slots.release();
  if (job.status === 'failed' && !job.notDeployable) {
    const code = job.error?.code ?? 'unknown';
    throw ApplicationFailure.nonRetryable(
      `Azure fine-tuning job ${job.id} failed: ${code}: ${job.error?.message ?? 'no message'}`,
      'AzureJobFailed',
      { jobId: job.id, code, message: job.error?.message ?? null, param: job.error?.param ?? null },
    );
  }
  return job;
}

/**
 * The loop's patch decisions are taken here, once per execution and before its first poll, never right after a poll:
 * the poll is a local activity, and when the SDK core answers a query while the poll's result waits for the workflow
 * code, it records the result in one workflow task and the code after it in the next. On replay the core resolves the
 * poll within the first task, before it announces the second's patch markers, so a `patched()` first asked after the
 * poll returns false there and replay fails (docs/how-a-run-works.md, "History and polling"). The flags also stand
 * for `ftpipe-budget-hold-refusal`, which a pause or resume decides right after its fresh read of the job (run.ts
 * controlRefusal). Runs and histories from before keep deciding them after the read.
 */
function monitorFlagsOn(): boolean {
  return patched('ftpipe-monitor-flags');
}

async function monitor(run: PipelineRun): Promise<JobSnapshot> {
  const { input, status } = run;
  run.setStage('train');
  const flags = monitorFlagsOn();
  if (flags) askPatchesAhead();
  run.monitorFlags = flags;
  // Asked first when the execution started (src/telemetry/workflow-interceptors.ts); with it, the loop skips the steps
  // that have nothing to do (each an async call: promises the SDK's promise hook captures a stack for).
  const lean = patched('ftpipe-lean-spans');
  // The poll and the wait hold nothing for the execution's life (waits.ts).
  const step = releasingSteps();
  for (;;) {
    const info = workflowInfo();
    if (info.historyLength >= historyBudget(run) || info.continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return run.continueAsNew();
    }
    const trainingExamples = status.validation?.files.some((f) => f.role === 'training') ? status.validation.examples.training : null;
    await step(() => run.pollJob(trainingExamples));
    run.showDetails();
    if (isTerminalJobStatus(run.job.status) || status.azureHold?.action === 'stop') return run.job;
    const budget = input.budget.maxTrainingUsd;
    if (budget !== undefined && (flags || patched('ftpipe-budget-pause')) && (await pauseAtBudget(run, budget))) return run.job;
    if (input.validation && (flags || patched('ftpipe-automatic-evaluations')) && (!lean || automaticEvaluationsDue(run)) && (await watchAutomaticEvaluations(run))) return run.job;
    if (!lean || run.hasPendingSignals()) await run.processSignalledRequests();
    run.wakeUp = false;
    const interval = pollIntervalSeconds(status.job, status.progress, input.polling, localPollOn() ? nowMs() / 1000 : undefined);
    await step(() => condition(() => run.wakeUp, `${interval} seconds`));
    if (!lean || run.hasPendingSignals()) await run.processSignalledRequests();
  }
}
