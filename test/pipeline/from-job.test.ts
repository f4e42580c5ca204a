import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { stringify } from 'yaml';
import { TASK_QUEUE } from '../../src/temporal/constants';
import { runCli } from '../helpers/cli';
import { countRequests, jobsOfRun } from '../helpers/emulator-state';
import { FAST_POLLING, SAMPLE_TRAINING, SAMPLE_VALIDATION, usePipelineStack } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';
import { admissionQuery } from '../../workflows/admission';
import { statusQuery } from '../../workflows/messages';

/** The stages that validate, upload and create: a run that carries on from a job enters none of them. */
const TRAINING_SETUP = ['validate', 'await_slot', 'upload', 'create_job'];

async function refusalOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError, `the run fails; got ${String(err)}`);
  assert.ok(err.cause instanceof ApplicationFailure, `with an application failure; got ${String(err.cause)}`);
  return err.cause;
}

describe('carrying on from an Azure job (fromJob, ftpipe run --from-job)', () => {
  const env = usePipelineStack({}, ownServer('`ftpipe run` starts runs on the default task queue'));

  it('adopts a succeeded job from the CLI and goes on from collect without training, uploading or creating a job', async () => {
    const worker = await env.createWorker(TASK_QUEUE);
    await worker.runUntil(async () => {
      const first = await (await env.start(TASK_QUEUE, env.input())).result();
      assert.equal(first.outcome, 'succeeded');
      const jobId = first.jobId!;

      const dir = mkdtempSync(join(tmpdir(), 'ftpipe-from-job-'));
      const runName = `from-job-${Date.now()}`;
      writeFileSync(join(dir, 'pipeline.yaml'), stringify({
        runName, profile: 'emulator', baseModel: 'gpt-4.1-mini', training: { path: SAMPLE_TRAINING }, validation: { path: SAMPLE_VALIDATION }, polling: FAST_POLLING,
      }));
      const creates = countRequests(env.emulator, 'jobs.create');
      const uploads = countRequests(env.emulator, 'files.upload');
      const address = ['--address', env.temporal.server.address];
      const run = await runCli(['run', join(dir, 'pipeline.yaml'), '--from-job', jobId, '--wait', ...address]);
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, new RegExp(`^succeeded: run ${runName}, job ${jobId}$`, 'm'));
      assert.match(run.output, new RegExp(`note: Carried on from Azure job ${jobId} \\(fromJob\\)`));
      assert.equal(countRequests(env.emulator, 'jobs.create'), creates, 'no job created');
      assert.equal(countRequests(env.emulator, 'files.upload'), uploads, 'nothing uploaded');

      const status = await runCli(['status', runName, '--json', ...address]);
      const parsed = JSON.parse(status.output.slice(status.output.indexOf('{'))) as { timeline: { stage: string }[]; files: unknown[]; job: { id: string }; admission: unknown };
      const stages = parsed.timeline.map((t) => t.stage);
      assert.deepEqual(stages.filter((s) => [...TRAINING_SETUP, 'train'].includes(s)), [], `no setup or training stage: ${stages.join(' > ')}`);
      assert.deepEqual(stages.slice(0, 2), ['preflight', 'collect']);
      assert.equal(parsed.admission, null, 'a succeeded job takes no admission slot');
      assert.equal(parsed.job.id, jobId);
      assert.equal(parsed.files.length, 0);

      const bad = await runCli(['run', join(dir, 'pipeline.yaml'), '--from-job', 'job-1', ...address]);
      assert.equal(bad.code, 2, bad.output);
      assert.match(bad.output, /pipeline\.yaml: --from-job: must be an Azure fine-tuning job id/);
    });
  });

  it('adopts a job still training (its first run gone without cleanup) and monitors it to the end', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const lost = await env.start(taskQueue, env.input({ hyperparameters: { nEpochs: 3 } }));
      env.emulator.control.setClockScale(20);
      let jobId: string;
      try {
        const training = await env.waitForStatus(lost, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1);
        // The job holds still while the first run is gone and the second one adopts it.
        env.emulator.control.setClockScale(0);
        jobId = training.job!.id;
        await lost.terminate('test: the run is lost, its job trains on');

        const creates = countRequests(env.emulator, 'jobs.create');
        const handle = await env.start(taskQueue, env.input({ fromJob: jobId }));
        // The job holds one of the resource's job places on Azure, so the run holds it in the admission queue too.
        const adopted = await env.waitForStatus(handle, (s) => s.stage === 'train' && s.job?.id === jobId && s.admission?.state === 'granted');
        assert.equal(adopted.job?.status, 'running');
        assert.deepEqual(adopted.admission?.amounts, { jobs: 1, files: 0, fileBytes: 0, deployments: 0 });
        const queue = env.temporal.client.workflow.getHandle(adopted.admission.queue);
        const holding = await queue.query(admissionQuery);
        assert.deepEqual(holding.holders.filter((h) => h.holder === handle.workflowId).map((h) => h.amounts.jobs), [1], 'one job place, held while it trains');
        env.emulator.control.setClockScale(1000);
        const result = await handle.result();
        const after = await queue.query(admissionQuery);
        assert.equal(after.holders.filter((h) => h.holder === handle.workflowId).length, 0, 'given back when the job ended');
        assert.equal((await handle.query(statusQuery)).admission?.state, 'released');
        assert.equal(result.outcome, 'succeeded');
        assert.equal(result.jobId, jobId);
        assert.ok(result.fineTunedModel);
        assert.equal(countRequests(env.emulator, 'jobs.create'), creates, 'no job created');
        assert.equal(jobsOfRun(env.emulator, handle.workflowId).length, 0, 'the job stays the first run\'s (its metadata)');
        const stages = result.timeline.map((t) => t.stage);
        assert.deepEqual(stages.filter((s) => TRAINING_SETUP.includes(s)), [], stages.join(' > '));
        assert.deepEqual(stages.slice(0, 3), ['preflight', 'train', 'collect']);
      } finally {
        env.emulator.control.setClockScale(1000);
      }
    });
  });

  it('refuses an unknown job, a job of another model or method, and a failed job, naming fromJob and what Azure reports', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const unknown = await refusalOf((await env.start(taskQueue, env.input({ fromJob: 'ftjob-0123456789abcdef0123456789abcdef' }))).result());
      assert.equal(unknown.type, 'FromJobRefused');
      assert.match(unknown.message, /^fromJob: Azure has no fine-tuning job ftjob-0123456789abcdef0123456789abcdef in the account of profile "emulator"/);

      const succeeded = await (await env.start(taskQueue, env.input())).result();
      const otherModel = await refusalOf((await env.start(taskQueue, env.input({ baseModel: 'gpt-4.1', fromJob: succeeded.jobId! }))).result());
      assert.equal(otherModel.type, 'FromJobRefused');
      assert.match(otherModel.message, new RegExp(`^fromJob: job ${succeeded.jobId} fine-tunes gpt-4\\.1-mini\\S*, not the input's baseModel \\(gpt-4\\.1`));
      const otherMethod = await refusalOf((await env.start(taskQueue, env.input({ method: { type: 'dpo' }, fromJob: succeeded.jobId! }))).result());
      assert.equal(otherMethod.type, 'FromJobRefused');
      assert.match(otherMethod.message, /uses the supervised method, not the input's method\.type \(dpo\)/);

      const failing = await env.start(taskQueue, env.input());
      const running = await env.waitForStatus(failing, (s) => s.job?.status === 'running');
      env.emulator.control.failJob(running.job!.id, { code: 'internal_error', message: 'the test failed it' });
      await refusalOf(failing.result());
      const failed = await refusalOf((await env.start(taskQueue, env.input({ fromJob: running.job!.id }))).result());
      assert.equal(failed.type, 'FromJobRefused');
      assert.match(failed.message, new RegExp(`^fromJob: Azure reports job ${running.job!.id} is failed \\(the test failed it\\)`));
    });
  });
});
