/**
 * Issue 13: at hundreds of concurrent runs every workflow task, activity task and upsert costs the server and the
 * worker CPU, so the work before training is bounded here, counted from the run's history (never from time).
 * bench/workflow-tasks.ts prints the same counts for the demo, stage by stage.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FtpipeClient } from '../../src/client';
import { historyCostAroundTraining, historyCostByStage, stageSetBy } from '../../src/telemetry/history-cost';
import { JOB_ID } from '../../src/temporal/search-attributes';
import { usePipelineStack } from '../helpers/pipeline';

/**
 * A run started by ftpipe's client with a training and a validation file, before training: the start (with preflight's
 * local reads), validate (with the admission queue's local join), the queue's grant, the two uploads, the files' one
 * processing wait and the job's create. (Before issue 13's changes: 11 tasks; preflight, the credentials' proof and
 * the join were activities of their own, each file had its own wait.)
 */
const WORKFLOW_TASKS_BEFORE_TRAINING = 7;
/** One upsert per stage change (validate, await_slot with the data hash, upload, create_job); the client set the rest. Before: 10. */
const UPSERTS_BEFORE_TRAINING = 4;

describe('workflow cost of a run before training', () => {
  const env = usePipelineStack();

  it('runs preflight\'s reads and the queue\'s join locally, waits for both files in one activity, and upserts once per stage change', async (t) => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const run = await new FtpipeClient(env.temporal.client).startPipeline(env.input({ hyperparameters: { nEpochs: 1 } }), { taskQueue });
    const result = await worker.runUntil(run.result());
    assert.equal(result.outcome, 'succeeded');

    const events = (await run.workflow.fetchHistory()).events ?? [];
    const { beforeTraining: before } = historyCostAroundTraining(historyCostByStage(events));
    const trainAt = events.findIndex((e) => stageSetBy(e) === 'train');
    assert.ok(trainAt > 0, 'the run entered train');
    const untilTraining = events.slice(0, trainAt);
    const scheduled = untilTraining.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    t.diagnostic(`before training: ${before.workflowTasks} workflow tasks (${before.continuationTasks} continuations), ${before.activityTasks} activity tasks for ${scheduled.join(', ')}, ${before.localActivities} local, ${before.events} events, ${before.searchAttributeUpserts} upserts (+${before.changeVersionUpserts} TemporalChangeVersion), ${before.timers} timers`);

    assert.deepEqual(scheduled.sort(), ['awaitFilesProcessed', 'createFineTuningJob', 'uploadFile', 'uploadFile', 'validateTrainingData'], 'the activities before training');
    assert.equal(before.localActivities, 3, 'preflight, the credentials\' proof and the queue\'s join, as local activities');
    // A local activity past 80% of the task timeout (a loaded machine) makes the SDK complete the task early and go on in another.
    assert.ok(before.workflowTasks - before.continuationTasks <= WORKFLOW_TASKS_BEFORE_TRAINING, `${before.workflowTasks} workflow tasks (${before.continuationTasks} continuations), bound ${WORKFLOW_TASKS_BEFORE_TRAINING}`);
    assert.equal(before.searchAttributeUpserts, UPSERTS_BEFORE_TRAINING, 'one upsert per stage change, none of what the client set');
    assert.equal(before.timers, 0, 'no timer before training');
    // The job id goes with the stage change to train, in one upsert.
    const trainUpsert = events[trainAt];
    assert.ok(trainUpsert?.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[JOB_ID.name], 'FtpipeJobId is upserted with the stage train');
  });
});
