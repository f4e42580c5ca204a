/**
 * Azure's own outcomes through the pipeline, on the dev server and the strict emulator: a model the safety evaluation
 * finds not deployable ends the run as `not_deployable` and deploys nothing; a Developer-tier preemption shows as
 * Azure's hold (not a user pause) and the run waits it out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRunReport } from '../../src/report/build';
import { usePipelineStack } from '../helpers/pipeline';
import { until } from '../helpers/until';
import { statusQuery } from '../../workflows/messages';

describe('pipeline: Azure\'s own outcomes', () => {
  const env = usePipelineStack();

  it('a model Azure\'s safety evaluation finds not deployable ends the run as not_deployable, with Azure\'s reason, and deploys nothing', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    env.emulator.control.setSafetyVerdict({ account: 'ftpipe-swc' }, { deployable: false, categories: ['Violence'] });
    try {
      const result = await worker.runUntil(async () => (await env.start(taskQueue, env.input({ deployment: { name: 'not-deployable', type: 'GlobalStandard' } }))).result());
      assert.equal(result.outcome, 'not_deployable');
      assert.equal(result.fineTunedModel, null);
      assert.deepEqual(result.deployments, []);
      assert.ok(result.notes.some((n) => /^Not deployed: This model is unable to be deployed\. .*\[Violence\]/.test(n)), result.notes.join(' | '));
      assert.match(result.report?.decision.reason ?? '', /safety evaluation found the model not deployable/);
      assert.equal(result.ledger?.training.billedUsd, 0, 'Azure bills no training for a model it found not deployable');
      assert.deepEqual(result.ledger?.hosting, []);
      assert.equal(env.emulator.control.requests({ route: 'arm.deployments.put' }).length, 0, 'no deployment was attempted');
      // Nothing was collected: no results file read, no checkpoint kept (the automatic evaluations may list checkpoints while it trains).
      assert.equal(env.emulator.control.requests({ route: 'files.content' }).length, 0, 'nothing was collected');
      assert.deepEqual(result.checkpoints, [], 'nothing was collected');
    } finally {
      env.emulator.control.setSafetyVerdict({ account: 'ftpipe-swc' }, { deployable: true });
    }
  });

  it('a Developer-tier preemption is Azure\'s hold: the run says so, keeps waiting, and completes when Azure resumes the job', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      // A slow clock until the job has trained a step, then a stopped one while preempted (so that the job cannot finish first on
      // a loaded machine, and the hold is seen at leisure); then Azure's own resume.
      env.emulator.control.setClockScale(10);
      const handle = await env.start(taskQueue, env.input({ trainingType: 'Developer', hyperparameters: { nEpochs: 3 } }));
      await env.waitForStatus(handle, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1);
      env.emulator.control.setClockScale(0);
      env.emulator.control.preemptJob((await handle.query(statusQuery)).job!.id, { resumeAfterSeconds: 600 });
      const held = await env.waitForStatus(handle, (s) => s.azureHold?.cause === 'preemption');
      assert.equal(held.job?.status, 'paused');
      assert.equal(held.job?.pausedBy, 'preemption');
      assert.equal(held.azureHold?.action, 'wait_for_azure');
      assert.equal(held.stage, 'train');
      assert.ok(!held.requests.some((r) => r.kind === 'pause'), 'not a user pause');
      // Its own state wherever the run is shown: the Web UI's current details, and the report of the running run.
      const heldByAzure = /Azure preempted the Developer-tier training; it resumes by itself, and paused time is not billed/;
      await until(async () => (heldByAzure.test((await handle.query<{ currentDetails?: string }, []>('__temporal_workflow_metadata')).currentDetails ?? '') ? true : undefined), 'the hold in the current details');
      assert.match(buildRunReport({ status: held, execution: 'RUNNING', generatedAt: new Date().toISOString() }).state?.summary ?? '', heldByAzure);
      env.emulator.control.setClockScale(1000);
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(env.emulator.control.requests({ route: 'jobs.resume' }).length, 0, 'ftpipe did not resume it: Azure did');
    });
  });
});
