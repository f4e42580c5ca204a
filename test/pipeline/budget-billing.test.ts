/**
 * Money during the run, through whole pipeline runs on the dev server and the strict emulator: Azure's $5,000 billing
 * limit for reinforcement fine-tuning (the run stops by its budget, or waits for a resume), and ftpipe's own pause when
 * the training spend counted from Azure's events passes `budget.maxTrainingUsd`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { PipelineInputDraft } from '../../src/pipeline/input';
import { buildRunReport } from '../../src/report/build';
import { pauseSignal, pauseUpdate, resumeSignal, resumeUpdate, statusQuery } from '../../workflows/messages';
import { SAMPLE_TRAINING, SAMPLE_VALIDATION, usePipelineStack } from '../helpers/pipeline';
import { until } from '../helpers/until';

/** The sample conversations as reinforcement data (the last answer becomes the graded reference), in a file of their own. */
function rftDataset(source: string, tag: string): string {
  const lines = readFileSync(source, 'utf8').trim().split('\n').map((l, i) => {
    const example = JSON.parse(l) as { messages: { role: string; content: string }[] };
    return JSON.stringify({ messages: example.messages.slice(0, -1), answer: `${example.messages.at(-1)!.content} (${tag} ${i})` });
  });
  const path = join(mkdtempSync(join(tmpdir(), 'ftpipe-rft-')), `${tag}.jsonl`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const GRADER = { type: 'string_check' as const, name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' as const };

describe('pipeline: money during the run (RFT billing limit, budget pause)', () => {
  // One emulated hour per step: $100 of reinforcement training a step, so Azure's $5,000 limit falls at step 50 of 64.
  const env = usePipelineStack({ clockScale: 10_000, timings: { stepBaseSeconds: 3600, stepSecondsPer1kTokens: 0 } });
  const rft = (overrides: Partial<PipelineInputDraft>): PipelineInputDraft => env.input({
    baseModel: 'o4-mini', method: { type: 'reinforcement', grader: GRADER }, hyperparameters: { nEpochs: 2, batchSize: 1 },
    training: { path: rftDataset(SAMPLE_TRAINING, `train-${Date.now()}`) }, validation: { path: rftDataset(SAMPLE_VALIDATION, `valid-${Date.now()}`) },
    ...overrides,
  });

  it('at Azure\'s billing limit a budget of at most $5,000 ends the run as stopped_at_billing_limit, the job left paused with its checkpoint', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    // A budget at Azure's own limit is met by Azure's pause (its figure counts grading too), though ftpipe's count at the
    // catalogue's $110 an hour passes $5,000 a few steps earlier.
    const result = await worker.runUntil(async () => (await env.start(taskQueue, rft({ budget: { maxTrainingUsd: 5000 } }))).result());
    assert.equal(result.outcome, 'stopped_at_billing_limit');
    assert.match(result.notes[0] ?? '', /^Stopped: Azure paused the job at the \$5,000 billing limit/);
    assert.match(result.report?.decision.reason ?? '', /billing limit/);
    const job = env.emulator.control.dumpState().jobs.find((j) => j.id === result.jobId) as { status: string };
    assert.equal(job.status, 'paused', 'the job is left paused, not cancelled');
    assert.equal(env.emulator.control.requests({ route: 'jobs.pause' }).length, 0, 'Azure paused it, not ftpipe');
    assert.equal(env.emulator.control.requests({ route: 'jobs.cancel' }).length, 0);
    assert.deepEqual(result.deployments, []);
    // The ledger: RFT has no estimate; what Azure's step events show (50 steps of an hour at the catalogue's $110) is counted.
    assert.equal(result.ledger?.training.estimatedUsd, null);
    assert.equal(result.ledger?.training.countedUsd, 5500);
  });

  it('at Azure\'s billing limit without such a budget the run waits for a resume, then trains on to success', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, rft({}));
      const held = await env.waitForStatus(handle, (s) => s.azureHold?.cause === 'billingLimit');
      assert.equal(held.azureHold?.action, 'wait_for_resume');
      assert.equal(held.job?.status, 'paused');
      assert.equal(held.stage, 'train');
      assert.ok(!held.requests.some((r) => r.kind === 'pause'), 'not a user pause');
      assert.match(buildRunReport({ status: held, execution: 'RUNNING', generatedAt: new Date().toISOString() }).state?.summary ?? '', /Azure paused the job at the \$5,000 billing limit for reinforcement fine-tuning .*: send resume to continue/, 'the report of the running run says Azure holds it');
      await handle.executeUpdate(resumeUpdate, { args: [{ by: 'test' }] });
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(env.emulator.control.requests({ route: 'jobs.resume' }).length >= 1, true);
      // Azure's billed figure for time-billed training ("Training hours billed: 64.000", 64 steps of an hour) is the ledger's.
      const status = await handle.query(statusQuery);
      assert.equal(status.job?.billedHours, 64);
      assert.deepEqual(result.ledger?.training && { billedHours: result.ledger.training.billedHours, billedUsd: result.ledger.training.billedUsd, basis: result.ledger.training.basis },
        { billedHours: 64, billedUsd: 7040, basis: 'Azure billed 64 training hours x $110 per hour' });
      assert.equal(result.report?.cost?.training.billedHours, 64, 'the report carries it');
    });
  });

  it('a budget below what Azure\'s step events show pauses the job (not as a user pause) and ends the run as stopped_at_budget', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const pausesBefore = env.emulator.control.requests({ route: 'jobs.pause' }).length;
      const handle = await env.start(taskQueue, rft({ budget: { maxTrainingUsd: 1000 } }));
      const result = await handle.result();
      assert.equal(result.outcome, 'stopped_at_budget');
      assert.match(result.notes[0] ?? '', /^Stopped: the training spend \$[\d.]+ passed budget\.maxTrainingUsd \$1000\.00 \([\d.]+ training hours between Azure's step events x \$110 per hour\)/);
      assert.match(result.report?.decision.reason ?? '', /budget\.maxTrainingUsd/);
      assert.equal(result.report?.stoppedBy?.kind, 'budget');
      const status = await handle.query(statusQuery);
      const spent = status.budgetHold?.spentUsd ?? 0;
      assert.ok(spent > 1000 && spent < 5000, `paused at $${spent}`);
      assert.ok(!status.requests.some((r) => r.kind === 'pause'), 'not a user pause: no pause request');
      assert.equal(status.azureHold, null, 'not Azure\'s hold either');
      assert.equal(status.job?.status, 'paused');
      assert.equal(env.emulator.control.requests({ route: 'jobs.pause' }).length, pausesBefore + 1, 'ftpipe paused it once');
      const job = env.emulator.control.dumpState().jobs.find((j) => j.id === result.jobId) as { status: string };
      assert.equal(job.status, 'paused', 'left paused: its checkpoint is deployable, a resume trains on');
      // The ledger shows estimated (none for hourly RFT) against what was counted as billed.
      assert.equal(result.ledger?.training.estimatedUsd, null);
      assert.ok((result.ledger?.training.countedUsd ?? 0) > 1000, `counted ${result.ledger?.training.countedUsd}`);
      assert.match(result.ledger?.training.basis ?? '', /counted so far from Azure's events/);
    });
  });
});

describe('pipeline: a run held at its budget refuses pause and resume', () => {
  // As above, and Azure takes 100 emulated hours to pause a job, so the run is seen while it stops at its budget.
  const env = usePipelineStack({ clockScale: 10_000, timings: { stepBaseSeconds: 3600, stepSecondsPer1kTokens: 0, pauseSeconds: 360_000 } });

  it('refuses a pause or resume (update and signal) while the run stops at its budget, naming the budget, and never resumes the job', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({
        baseModel: 'o4-mini', method: { type: 'reinforcement', grader: GRADER }, hyperparameters: { nEpochs: 2, batchSize: 1 },
        training: { path: rftDataset(SAMPLE_TRAINING, `train-held-${Date.now()}`) }, validation: { path: rftDataset(SAMPLE_VALIDATION, `valid-held-${Date.now()}`) },
        budget: { maxTrainingUsd: 1000 },
      }));
      const held = await until(async () => {
        const status = await handle.query(statusQuery);
        return status.budgetHold && status.job?.status === 'pausing' ? status : undefined;
      }, 'the run pausing its job at the budget');
      // Azure's pause stays under way while the refusals are checked.
      env.emulator.control.setClockScale(0);
      const reason = new RegExp(`^cannot (pause|resume): the run stops at budget\\.maxTrainingUsd \\$1000\\.00 \\(spent \\$[\\d.]+\\) and leaves job ${held.job!.id} paused \\(Azure reports it pausing\\); resume it in Azure to train on$`);
      for (const update of [pauseUpdate, resumeUpdate]) {
        await assert.rejects(handle.executeUpdate(update, { args: [{ by: 'test' }] }), (err: Error) => err instanceof WorkflowUpdateFailedError && reason.test((err.cause as Error).message), update.name);
      }
      await handle.signal(pauseSignal, { by: 'test' });
      await handle.signal(resumeSignal, { by: 'test' });
      const signalled = await until(async () => {
        const requests = (await handle.query(statusQuery)).requests.filter((r) => r.via === 'signal');
        return requests.length === 2 && requests.every((r) => r.state === 'refused') ? requests : undefined;
      }, 'both signals refused');
      for (const request of signalled) assert.ok(reason.test(`cannot ${request.kind}: ${request.reason}`), request.reason);

      env.emulator.control.setClockScale(10_000);
      env.emulator.control.advanceClock(360_000);
      const result = await handle.result();
      assert.equal(result.outcome, 'stopped_at_budget');
      assert.equal(env.emulator.control.requests({ route: 'jobs.resume' }).length, 0, 'no resume reached Azure');
      assert.equal(env.emulator.control.requests({ route: 'jobs.pause' }).length, 1, 'only the budget\'s pause reached Azure');
      const job = env.emulator.control.dumpState().jobs.find((j) => j.id === result.jobId) as { status: string };
      assert.equal(job.status, 'paused');
    });
  });
});
