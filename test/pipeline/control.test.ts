import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { SAMPLE_TRAINING, SAMPLE_VALIDATION, usePipelineStack } from '../helpers/pipeline';
import { holdClockOnceTraining, jobsOfRun, liveFiles } from '../helpers/emulator-state';
import { until } from '../helpers/until';
import { pauseSignal, pauseUpdate, resumeSignal, resumeUpdate, statusQuery } from '../../workflows/messages';

// A slower emulated clock than the other pipeline tests, so that a job trains long enough to be paused by hand.
const CLOCK_SCALE = 200;
const WAIT_MS = 8 * 60_000;

describe('steering a run: pause, resume, cancel', () => {
  const env = usePipelineStack({ clockScale: CLOCK_SCALE });
  const twoEpochs = { hyperparameters: { nEpochs: 2 } };

  it('pauses and resumes through validated updates, and Azure sees both', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input(twoEpochs));
      await assert.rejects(
        handle.executeUpdate(pauseUpdate, { args: [{}] }),
        (err: Error) => err instanceof WorkflowUpdateFailedError && /cannot pause: there is no Azure job yet|Azure pauses only running jobs/.test((err.cause as Error).message),
      );
      // The clock stands still until Azure has the pause, so that the job still runs when it comes.
      await holdClockOnceTraining(env.emulator, handle.workflowId, WAIT_MS);
      await env.waitForStatus(handle, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1);
      const paused = await handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice' }] });
      env.emulator.control.setClockScale(CLOCK_SCALE);
      assert.ok(['pausing', 'paused'].includes(paused.jobStatus), paused.jobStatus);
      const whilePaused = await env.waitForStatus(handle, (s) => s.job?.status === 'paused');
      // The first pauseRun may have been refused by the handler on Azure's fresh state: that refusal is kept too.
      assert.deepEqual(whilePaused.requests.filter((r) => r.state !== 'refused').map((r) => [r.kind, r.via, r.state, r.by]), [['pause', 'update', 'done', 'alice']]);

      const resumed = await handle.executeUpdate(resumeUpdate, { args: [{}] });
      assert.ok(['resuming', 'running'].includes(resumed.jobStatus), resumed.jobStatus);
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      const routes = env.emulator.control.requests().filter((r) => r.route === 'jobs.pause' || r.route === 'jobs.resume').map((r) => `${r.route} ${r.status}`);
      assert.deepEqual(routes, ['jobs.pause 200', 'jobs.resume 200']);
    });
  });

  it('records a pause signal that Azure would refuse, with the reason, and carries on', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input());
      // The clock stands still from the job's creation (in the tap of its create exchange, the same tick) until the
      // refusal is recorded, so Azure still has the job pending when the pause reaches it however loaded the machine
      // is: pending lasts 2.1 s at this clock, and at load 31 the job ran before the pause arrived.
      const untap = env.emulator.control.tapExchanges((e) => {
        if (e.route === 'jobs.create' && e.status < 300) env.emulator.control.setClockScale(0);
      });
      try {
        await env.waitForStatus(handle, (s) => s.job !== null && ['pending', 'validating_files', 'queued'].includes(s.job.status));
        assert.equal(env.emulator.control.clockScale(), 0, 'the clock stopped when Azure created the job');
        await handle.signal(pauseSignal, { by: 'ui' });
        const status = await env.waitForStatus(handle, (s) => s.requests.some((r) => r.state !== 'pending'));
        const [request] = status.requests;
        assert.equal(request?.state, 'refused');
        assert.match(request?.reason ?? '', /Azure pauses only running jobs; Azure reports job ftjob-\w+ is (pending|validating_files|queued)/);
      } finally {
        untap();
        env.emulator.control.setClockScale(CLOCK_SCALE);
      }
      await env.waitForStatus(handle, (s) => s.job?.status === 'running');
      await handle.cancel();
    });
  });

  it('pauses through the signal once Azure allows it', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input(twoEpochs));
      await holdClockOnceTraining(env.emulator, handle.workflowId, WAIT_MS);
      await env.waitForStatus(handle, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1);
      await handle.signal(pauseSignal, {});
      await until(async () => (jobsOfRun(env.emulator, handle.workflowId)[0]?.status === 'pausing' ? true : undefined), 'the pause to reach Azure', WAIT_MS);
      env.emulator.control.setClockScale(CLOCK_SCALE);
      await env.waitForStatus(handle, (s) => s.job?.status === 'paused' && s.requests[0]?.state === 'done');
      await handle.signal(resumeSignal, {});
      assert.equal((await handle.result()).outcome, 'succeeded');
    });
  });

  it('cancelling mid-training cancels the Azure job and deletes the files the run uploaded', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      // Content of its own, so the run uploads it rather than reusing an earlier test's upload.
      const dir = mkdtempSync(join(tmpdir(), 'ftpipe-cancel-'));
      writeFileSync(join(dir, 'train.jsonl'), `${readFileSync(SAMPLE_TRAINING, 'utf8')}${readFileSync(SAMPLE_VALIDATION, 'utf8')}`);
      const handle = await env.start(taskQueue, env.input({ training: { path: join(dir, 'train.jsonl') }, validation: undefined }));
      const running = await env.waitForStatus(handle, (s) => s.job?.status === 'running');
      const uploaded = running.files.filter((f) => f.origin === 'uploaded').map((f) => f.fileId);
      assert.equal(uploaded.length, 1);
      assert.equal(liveFiles(env.emulator, uploaded).length, 1);
      await handle.cancel();
      await assert.rejects(handle.result(), (err: Error) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
      const [job] = jobsOfRun(env.emulator, handle.workflowId);
      assert.equal(job?.status, 'cancelled');
      assert.deepEqual(liveFiles(env.emulator, uploaded), [], 'no uploaded file is left behind');
      const final = await handle.query(statusQuery);
      assert.equal(final.stage, 'cancelled');
      assert.deepEqual(final.timeline.slice(-2).map((t) => t.stage), ['cleanup', 'cancelled']);
    });
  });
});
