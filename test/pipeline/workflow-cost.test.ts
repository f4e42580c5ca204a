/**
 * Issue 13: at hundreds of concurrent runs every workflow task, activity task and upsert costs the server and the
 * worker CPU, so the work of a run is bounded here, before training and after it, counted from the run's history
 * (never from time). bench/workflow-tasks.ts prints the same counts for the demo, stage by stage.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FtpipeClient } from '../../src/client';
import { historyCostAroundTraining, historyCostByStage, historyStepsByStage, stageSetBy } from '../../src/telemetry/history-cost';
import { FINE_TUNED_MODEL, JOB_ID, PROMOTED_MODEL, STAGE } from '../../src/temporal/search-attributes';
import { ROOT } from '../helpers/cli';
import { usePipelineStack } from '../helpers/pipeline';

const EVAL_SET = join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl');
/** evalProgress notices per eval of 10 items (activities/evaluation.ts): after the 1st, 3rd, 5th and 8th answer. Before: 10 or 11. */
const NOTICES_PER_EVAL = 4;

/**
 * A run started by ftpipe's client with a training and a validation file, before training: the start (with preflight's
 * local reads), validate (with the admission queue's local join, whose reply is the grant), the two uploads, the
 * files' one processing wait and the job's create. (Before issue 13's changes: 11 tasks; preflight, the credentials'
 * proof and the join were activities of their own, each file had its own wait; before the joinQueue update: 7, the
 * grant came by a notice signal.)
 */
const WORKFLOW_TASKS_BEFORE_TRAINING = 6;
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
    // One patch marker for every patch of the run (ftpipe-patch-set-1), each with the SDK's TemporalChangeVersion
    // upsert: before, 15 of each before the job existed.
    assert.equal(before.patchMarkers, 1, 'one patch marker before training: the patch set');
    assert.equal(before.changeVersionUpserts, 1, 'one TemporalChangeVersion upsert before training');
    // The job id goes with the stage change to train, in one upsert.
    const trainUpsert = events[trainAt];
    assert.ok(trainUpsert?.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[JOB_ID.name], 'FtpipeJobId is upserted with the stage train');
  });
});

/**
 * After training, a run that scores its checkpoints and a baseline model on an eval set and deploys the best: collect's
 * two reads, the deployment plan's check, and every message to the admission queue (joins and releases of deployment
 * slots) run as local activities; the model's attributes go with the stage changes. What stays a task of its own is
 * Azure's slow work (a deployment's creation and deletion, an eval, the smoke test) and the notification; a free
 * deployment slot is granted in the join's reply (the joinQueue update; before, by a notice signal each). (Before, for the demo's four evaluation deployments: 43 workflow tasks, 38 activity tasks, 45 signals.)
 */
describe('workflow cost of a run after training', () => {
  const env = usePipelineStack();

  it('reads results, checks the plan and joins and releases deployment slots locally, and tells eval progress by quarters', async (t) => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const input = env.input({
      hyperparameters: { nEpochs: 2 },
      evaluation: { evalSet: { path: EVAL_SET }, baseline: { model: 'gpt-4.1-mini' } },
      deployment: { name: `cost-${randomUUID().slice(0, 6)}`, type: 'GlobalStandard' },
    });
    const run = await new FtpipeClient(env.temporal.client).startPipeline(input, { taskQueue });
    const result = await worker.runUntil(run.result());
    assert.equal(result.outcome, 'succeeded');
    assert.equal(readFileSync(EVAL_SET, 'utf8').trim().split('\n').length, 10, 'the eval set NOTICES_PER_EVAL counts for');
    const evals = result.checkpoints.length + 1;
    assert.ok(evals >= 2, `${evals - 1} checkpoints and the baseline scored`);

    const events = (await run.workflow.fetchHistory()).events ?? [];
    const byStage = historyCostByStage(events);
    const { afterTraining: after } = historyCostAroundTraining(byStage);
    const stagesAfter = byStage.slice(byStage.findIndex((s) => s.stage === 'train') + 1).map((s) => s.stage);
    const steps = historyStepsByStage(events).filter((s) => stagesAfter.includes(s.stage));
    const scheduled: Record<string, number> = {};
    const local: Record<string, number> = {};
    const signalsIn: Record<string, number> = {};
    for (const s of steps) {
      for (const [name, a] of Object.entries(s.activities)) scheduled[name] = (scheduled[name] ?? 0) + a.scheduled;
      for (const [name, n] of Object.entries(s.local)) local[name] = (local[name] ?? 0) + n;
      for (const [name, n] of Object.entries(s.signalsIn)) signalsIn[name] = (signalsIn[name] ?? 0) + n;
      assert.deepEqual(s.signalsOut, {}, `${s.stage}: no signal from the workflow (a release is a local activity)`);
    }
    t.diagnostic(`after training (${stagesAfter.join(', ')}): ${after.workflowTasks} workflow tasks (${after.continuationTasks} continuations), ${after.activityTasks} activity tasks for ${JSON.stringify(scheduled)}, local ${JSON.stringify(local)}, signals ${JSON.stringify(signalsIn)}, ${after.events} events, ${after.searchAttributeUpserts} upserts (+${after.changeVersionUpserts} TemporalChangeVersion)`);

    // Every evaluation deployment is created, scored on and deleted; the new version is listed, created and smoke-tested.
    assert.deepEqual(scheduled, { createDeployment: evals + 1, runEvalSet: evals, deleteDeployment: evals, listDeployments: 1, smokeTestDeployment: 1, notifyRun: 1 }, 'the activities after training');
    assert.deepEqual(local, { collectJobResults: 1, analyzeJobMetrics: 1, joinAdmissionQueue: evals + 1, releaseAdmissionSlots: evals, checkDeploymentPlan: 1 }, 'the local activities after training');
    assert.deepEqual(signalsIn, { evalProgress: evals * NOTICES_PER_EVAL }, 'the signals after training: the eval progress (each deployment slot\'s grant came in its join\'s reply)');
    assert.equal(after.timers, 0, 'no timer after training (Azure\'s waits are activity retries)');
    assert.equal(after.patchMarkers, 0, 'no patch marker after training: the patch set asked at the start covers them');
    // One upsert per stage change (collect, evaluate, deploy, cleanup, completed): the fine-tuned model goes with
    // evaluate, the promoted model with completed.
    assert.equal(after.searchAttributeUpserts, stagesAfter.length, `one upsert per stage change (${stagesAfter.join(', ')})`);
    const upsertOf = (stage: string) => events.find((e) => stageSetBy(e) === stage)?.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
    assert.ok(FINE_TUNED_MODEL.name in upsertOf('evaluate') && STAGE.name in upsertOf('evaluate'), 'FtpipeFineTunedModel is upserted with the stage evaluate');
    assert.ok(PROMOTED_MODEL.name in upsertOf('completed'), 'FtpipePromotedModel is upserted with the stage completed');
    // Per evaluation: the grant, the deployment's creation, the eval (and at most a task per notice), its deletion;
    // then the listing, the grant, the creation and the smoke test of the new version, and the notification.
    const bound = evals * (4 + NOTICES_PER_EVAL) + 5;
    assert.ok(after.workflowTasks - after.continuationTasks <= bound, `${after.workflowTasks} workflow tasks (${after.continuationTasks} continuations), bound ${bound}`);
  });
});
