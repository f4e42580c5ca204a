/**
 * The `cleanup` stage: after a run that trained, deletes the files its policy says to and builds the result; after a
 * failure or cancellation, walks the run's compensation list once (run.ts `Created`) and undoes what the run created.
 * Workflow-safe.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, upsertSearchAttributes } from '@temporalio/workflow';
import { costLedger } from '../src/pipeline/cost';
import { deletedFilesOf, isTerminalJobStatus, type DeletedFiles, type PipelineResult } from '../src/pipeline/types';
import { buildRunReport } from '../src/report/build';
import { idleNote, liveSummary, remainingNotes } from '../src/report/notes';
import { PROMOTED_MODEL } from '../src/temporal/search-attributes';
import type { PostTrainingOutcome } from './post-training';
import { describeFailure, handlersSettled, nowIso, type Created, type PipelineRun } from './run';
import { deploymentSlotsOn } from './slots';

/** Deletes what the cleanup policy says of a run that trained, and ends it with its result. */
export async function cleanUp(run: PipelineRun, trained: PostTrainingOutcome): Promise<PipelineResult> {
  const { input, status, acts } = run;
  const { job, results, evaluation, chosen, promoted, deletedDeployments, keptVersions } = trained;
  run.setStage('cleanup');
  const ours = run.ownFileIds();
  const deletedFiles: string[] = [];
  const inUse: DeletedFiles['kept'] = [];
  const deleteFiles = async (fileIds: string[]): Promise<void> => {
    const answer = deletedFilesOf(await acts.deleteFiles({ profile: input.profile, fileIds, exceptJob: job.id, withKept: true }));
    deletedFiles.push(...answer.deleted);
    inUse.push(...answer.kept);
  };
  if (input.cleanup.uploadedFiles === 'always' && ours.length > 0) await deleteFiles(ours);
  if (input.cleanup.resultFiles === 'delete' && results.resultFileId) await deleteFiles([results.resultFileId]);

  const createdByRun = status.deployments.filter((d) => !keptVersions.includes(d.name)).map((d) => d.name);
  const notes = [liveSummary(status.deployments, createdByRun), ...remainingNotes(status.deployments), ...(status.idle ? [idleNote(status.idle)] : [])];
  const keptFiles = [...ours.filter((id) => !deletedFiles.includes(id)), ...(results.resultFileId && !deletedFiles.includes(results.resultFileId) ? [results.resultFileId] : [])];
  if (keptFiles.length > 0) notes.push(`Files kept on the account: ${keptFiles.join(', ')}.`);
  for (const { fileId, jobId } of inUse) notes.push(`Kept ${fileId}: in use by job ${jobId}.`);
  if (run.adopted) notes.push(`Carried on from Azure job ${job.id} (fromJob): this run validated, uploaded and trained nothing.`);
  if (!promoted) notes.push(`Not deployed: ${evaluation.decision.reason}.`);
  // What preflight warned about (combinations the dated catalogue does not list, capacity it could not check) stays in the summary.
  for (const warning of status.warnings ?? []) notes.push(`Preflight warning: ${warning}.`);

  const outcome = input.deployment && !promoted ? 'not_promoted' : 'succeeded';
  // The promoted model as Azure takes it for deployment and further fine-tuning: fine_tuned_model or an ftchkpt- id.
  const promotedModel = [{ key: PROMOTED_MODEL, value: chosen.deployAs ?? chosen.id }];
  if (outcome === 'succeeded') {
    if (run.resultUpserts) run.setSearchAttributes(promotedModel);
    else upsertSearchAttributes(promotedModel);
  }
  return run.finish(() => ({
    outcome,
    runName: input.runName,
    jobId: job.id,
    fineTunedModel: results.fineTunedModel,
    trainedTokens: results.trainedTokens,
    resultFileId: results.resultFileId,
    checkpoints: results.checkpoints,
    files: status.files,
    validation: status.validation,
    timeline: status.timeline,
    deletedFiles,
    evaluation,
    approval: status.approval,
    deployments: status.deployments,
    deletedDeployments,
    copies: status.copies,
    notes,
    cost: status.cost,
    // The evaluation's candidates are on the Developer tier (post-training.ts).
    ledger: costLedger(status, { now: nowIso(), keptFromBefore: keptVersions, ...(input.evaluation.evalSet ? { evaluationSku: 'DeveloperTier' } : {}) }),
    report: buildRunReport({ status, execution: 'COMPLETED', outcome, deleted: [...deletedDeployments, ...deletedFiles], generatedAt: nowIso() }),
  }));
}

/**
 * The run failed or is being cancelled: undoes what it created (even while being cancelled), tells its webhooks, and
 * answers the failure the run ends with.
 */
export async function compensate(run: PipelineRun, err: unknown): Promise<unknown> {
  run.endTraining();
  run.closeCopies();
  if (isCancellation(err)) {
    await CancellationScope.nonCancellable(async () => {
      await undoCreated(run, 'cancelled');
      await run.notify('cancelled');
      await handlersSettled();
    });
    return err;
  }
  run.recordError(describeFailure(err));
  await CancellationScope.nonCancellable(async () => {
    await undoCreated(run, 'failed');
    await run.notify('failed', null, describeFailure(err));
    await handlersSettled();
  });
  return runFailure(err);
}

async function undoCreated(run: PipelineRun, outcome: 'failed' | 'cancelled'): Promise<void> {
  run.setStage('cleanup');
  for (const created of run.toUndo()) await undo(run, created);
  run.setStage(outcome);
}

/** Undoes one thing; a failure is recorded and the walk goes on. */
async function undo(run: PipelineRun, created: Created): Promise<void> {
  const { input, status, acts } = run;
  switch (created.kind) {
    case 'deployment':
      try {
        await acts.deleteDeployment({ profile: input.profile, name: created.name, pollIntervalSeconds: input.polling.deploymentIntervalSeconds });
        run.forgetDeployment(created.name);
        if (deploymentSlotsOn()) await run.slots.releaseDeployment({ profile: input.profile, name: created.name });
      } catch (err) {
        run.recordError(`could not delete deployment ${created.name}: ${describeFailure(err)}`);
      }
      return;
    case 'job':
      if (!status.job || isTerminalJobStatus(status.job.status)) return;
      try {
        run.applyJob(await acts.cancelFineTuningJob({ profile: input.profile, jobId: status.job.id }));
      } catch (err) {
        run.recordError(`could not cancel Azure job ${status.job.id}: ${describeFailure(err)}`);
      }
      return;
    case 'slots':
      await run.slots.release();
      return;
    case 'files':
      if (input.cleanup.uploadedFiles === 'never') return;
      try {
        const answer = deletedFilesOf(await acts.deleteFiles({ profile: input.profile, fileIds: created.fileIds, ...(status.job ? { exceptJob: status.job.id } : {}), withKept: true }));
        for (const { fileId, jobId } of answer.kept) run.recordError(`kept uploaded file ${fileId}: in use by job ${jobId}`);
      } catch (err) {
        run.recordError(`could not delete uploaded files ${created.fileIds.join(', ')}: ${describeFailure(err)}`);
      }
      return;
  }
}

/**
 * The failure the run ends with: an activity's own failure (Azure's error, the dataset report) lifted out of its
 * ActivityFailure wrapper, so the Web UI and clients show the reason in plain words, not "Activity task failed".
 */
function runFailure(err: unknown): unknown {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    const cause = err.cause;
    return ApplicationFailure.create({ message: cause.message, type: cause.type ?? 'ActivityFailed', nonRetryable: true, details: cause.details ?? [] });
  }
  return err;
}
