/**
 * The job's automatic evaluations (Azure's full validation pass at each epoch's checkpoint) through whole runs on the
 * dev server and the strict emulator: read into the status and the report while the job trains, and
 * `evaluation.stopEarly` cancelling a job whose evaluation stays flat.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeIssues, safeParsePipelineInput } from '../../src/pipeline/input';
import { statusQuery } from '../../workflows/messages';
import { SAMPLE_TRAINING, SHORT_PREPARATION, usePipelineStack } from '../helpers/pipeline';

describe('pipeline: Azure\'s automatic evaluations and evaluation.stopEarly', () => {
  // Azure's steps (which say when an epoch, and so an evaluation, ended) are listed every few polls: a clock slow
  // enough that the polls see each epoch; Azure's waits before training short.
  const env = usePipelineStack({ clockScale: 100, timings: SHORT_PREPARATION });

  it('reads each epoch\'s automatic evaluation while the job trains, into the status and the report', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const reads = env.emulator.control.requests({ route: 'jobs.checkpoints' }).length;
      const handle = await env.start(taskQueue, env.input({ hyperparameters: { nEpochs: 3 } }));
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      const status = await handle.query(statusQuery);
      const read = status.automaticEvaluations ?? [];
      assert.ok(read.length >= 1, 'read while training');
      for (const e of read) assert.ok(typeof e.fullValidLoss === 'number' && typeof e.fullValidMeanTokenAccuracy === 'number', JSON.stringify(e));
      const reported = result.report?.automaticEvaluations ?? [];
      assert.deepEqual(reported.map((e) => e.step), result.checkpoints.map((c) => c.step), 'the report has one per epoch checkpoint');
      assert.ok(reported.every((e) => typeof e.fullValidLoss === 'number'));
      // One read per epoch that ended while training (the last one's comes with the collected checkpoints), plus collect's.
      const calls = env.emulator.control.requests({ route: 'jobs.checkpoints' }).length - reads;
      assert.ok(calls >= 2 && calls <= 4, `checkpoint reads: ${calls}`);
    });
  });

  it('evaluation.stopEarly cancels the job once its full validation loss stops improving, and the run ends as stopped_early', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ hyperparameters: { nEpochs: 16 }, evaluation: { stopEarly: { patience: 2 } } }));
      const result = await handle.result();
      assert.equal(result.outcome, 'stopped_early');
      assert.match(result.notes[0] ?? '', /^Stopped early: the job's automatic evaluation stayed flat: full validation loss [\d.]+ at step \d+, no better than [\d.]+ at step \d+ by more than 0 for 2 evaluations/);
      assert.equal(result.report?.stoppedBy?.kind, 'stopEarly');
      assert.match(result.report?.decision.reason ?? '', /stopEarly/);
      assert.deepEqual(result.deployments, []);
      const status = await handle.query(statusQuery);
      const losses = (status.automaticEvaluations ?? []).map((e) => e.fullValidLoss!);
      const best = Math.min(...losses);
      assert.ok(losses.slice(-2).every((l) => l >= best), `the last two did not improve: ${losses.join(', ')}`);
      const job = env.emulator.control.dumpState().jobs.find((j) => j.id === result.jobId) as { status: string; hyperparameters?: unknown };
      assert.equal(job.status, 'cancelled', 'ftpipe cancelled the job');
      assert.ok((status.progress.step ?? 0) < (status.progress.totalSteps ?? 0), 'before its last step');
    });
  });

  it('refuses stopEarly without a validation file, or for reinforcement fine-tuning, naming the field', () => {
    const base = { runName: 'r', profile: 'p', baseModel: 'gpt-4.1-mini', training: { path: SAMPLE_TRAINING }, evaluation: { stopEarly: { patience: 2 } } };
    const without = safeParsePipelineInput(base);
    assert.ok(!without.success);
    assert.deepEqual(describeIssues(without.error), ['evaluation.stopEarly: needs a validation file: Azure evaluates the job automatically only on its validation file']);
    const bad = safeParsePipelineInput({ ...base, validation: { path: SAMPLE_TRAINING }, evaluation: { stopEarly: { patience: 0, minDelta: -1 } } });
    assert.ok(!bad.success);
    assert.deepEqual(describeIssues(bad.error).map((m) => m.split(':')[0]), ['evaluation.stopEarly.patience', 'evaluation.stopEarly.minDelta']);
  });
});
