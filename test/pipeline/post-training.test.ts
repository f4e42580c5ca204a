import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { PipelineResult } from '../../src/pipeline/types';
import { deploymentNames, liveFiles } from '../helpers/emulator-state';
import { ROOT } from '../helpers/cli';
import { FAST_POLLING, uniqueTrainingFile, usePipelineStack } from '../helpers/pipeline';
import { approveSignal, approveUpdate, copyToRegionSignal, rejectSignal, statusQuery } from '../../workflows/messages';

const EVAL_SET = join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl');
/** Emulated ARM and inference waits made short, so deployments finish in real milliseconds at the test clock. */
const FAST_DEPLOYMENTS = { deploymentCreateSeconds: 30, deploymentDeleteSeconds: 10, deploymentNotReadySeconds: 20, copySeconds: 60 };

describe('after training: evaluate, approve, deploy, copy', () => {
  const env = usePipelineStack({ timings: FAST_DEPLOYMENTS });
  const deploymentsOn = (account: string): string[] => deploymentNames(env.emulator, account);

  it('picks the checkpoint with the lowest validation loss on an overfitting curve, deploys it as a new version, retires old versions', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const deployment = { name: 'bikes', type: 'GlobalStandard' as const, keepVersions: 1 };
    const results: PipelineResult[] = await worker.runUntil(async () => {
      const out: PipelineResult[] = [];
      for (let i = 0; i < 3; i++) out.push(await (await env.start(taskQueue, env.input({ seed: 7, deployment }))).result());
      return out;
    });
    const [first, second, third] = results as [PipelineResult, PipelineResult, PipelineResult];
    const analysis = first.evaluation!.analysis;
    assert.equal(analysis.policy, 'lowest_valid_loss');
    const lowest = first.checkpoints.reduce((a, b) => ((a.metrics.fullValidLoss ?? 9) <= (b.metrics.fullValidLoss ?? 9) ? a : b));
    assert.equal(analysis.chosen.id, lowest.id);
    assert.notEqual(analysis.chosen.id, first.checkpoints.at(-1)!.id, 'the final epoch overfits, so it is not the chosen one');
    assert.equal(analysis.overfitting.detected, true);
    assert.ok(analysis.curve.length > 0 && analysis.curve.length <= 200);

    // Not the final checkpoint, so deployed by its checkpoint id (deployment guide), not by its `:ckpt-step-N` name.
    assert.match(analysis.chosen.id, /^ftchkpt-[0-9a-f]{32}$/);
    assert.deepEqual(first.deployments.map((d) => [d.name, d.model, d.provisioningState]), [['bikes-v1', analysis.chosen.id, 'Succeeded']]);
    assert.deepEqual(second.deployments.map((d) => d.name), ['bikes-v2', 'bikes-v1']);
    assert.deepEqual(third.deployments.map((d) => d.name), ['bikes-v3', 'bikes-v2']);
    assert.deepEqual(third.deletedDeployments, ['bikes-v1']);
    assert.deepEqual(deploymentsOn('ftpipe-swc').filter((n) => n.startsWith('bikes')), ['bikes-v2', 'bikes-v3']);
    assert.ok(third.notes.some((n) => n.startsWith('bikes-v3 (GlobalStandard') && n.includes('hourly hosting fee') && n.includes('15 days')));
    assert.equal(third.report?.metrics?.chosen.id, third.evaluation?.analysis.chosen.id);
    assert.deepEqual(third.report?.deleted, ['bikes-v1']);
    // The summary says what stays live and billed: the new version and the one keepVersions kept.
    assert.equal(third.notes[0], 'Live after this run: 2 fine-tuned deployments: bikes-v3 (GlobalStandard, profile emulator, new in this run, $1.70/hour), bikes-v2 (GlobalStandard, profile emulator, kept from before by keepVersions, $1.70/hour); all are billed by the hour until deleted, $3.40/hour in all (prices from Azure\'s fine-tuning cost guide: check Azure OpenAI pricing for your region).');
    assert.equal(third.report?.cost?.hourlyUsdWhileLive, 3.4, 'the report prices what stays live');
    assert.deepEqual(third.report?.cost?.hosting.map((h) => [h.name, h.since === null]), [['bikes-v3', false], ['bikes-v2', true]], 'the kept version\'s hosting is not this run\'s');
    assert.ok((third.report?.cost?.training.billedUsd ?? 0) > 0, JSON.stringify(third.report?.cost?.training));
    assert.equal(third.report?.state?.final, true);
    assert.equal(third.report?.state?.outcome, 'succeeded');
    assert.ok(Number(third.report?.hyperparameters?.n_epochs ?? 0) >= 1, JSON.stringify(third.report?.hyperparameters));
    assert.ok((third.report?.dataset?.trainingExamples ?? 0) > 0 && (third.report?.dataset?.trainedTokens ?? 0) > 0, JSON.stringify(third.report?.dataset));
    assert.deepEqual(third.report?.stages?.map((s) => s.stage), ['preflight', 'validate', 'await_slot', 'upload', 'create_job', 'train', 'collect', 'evaluate', 'deploy', 'cleanup', 'completed']);
  });

  it('waits for approval: approved through the update (recorded who and when), rejected through the signal, rejected on timeout', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      // Three runs side by side: each waits for its own decision.
      const approved = await env.start(taskQueue, env.input({ deployment: { name: 'approved', requireApproval: true, type: 'GlobalStandard' } }));
      const rejected = await env.start(taskQueue, env.input({ deployment: { name: 'rejected', requireApproval: true, type: 'GlobalStandard' } }));
      const timingOut = await env.start(taskQueue, env.input({ deployment: { name: 'timeout', requireApproval: true, approvalTimeoutSeconds: 1, type: 'GlobalStandard' } }));
      await env.waitForStatus(approved, (s) => s.stage === 'await_approval');
      const record = await approved.executeUpdate(approveUpdate, { args: [{ by: 'carol', comment: 'looks good' }] });
      assert.equal(record.by, 'carol');
      const approvedResult = await approved.result();
      assert.equal(approvedResult.outcome, 'succeeded');
      assert.deepEqual([approvedResult.approval?.decision, approvedResult.approval?.by], ['approved', 'carol']);
      assert.deepEqual(approvedResult.deployments.map((d) => d.name), ['approved-v1']);

      await env.waitForStatus(rejected, (s) => s.stage === 'await_approval');
      await rejected.signal(rejectSignal, { by: 'dave' });
      const rejectedResult = await rejected.result();
      assert.equal(rejectedResult.outcome, 'not_promoted');
      assert.equal(rejectedResult.evaluation?.decision.reason, 'rejected by dave');
      assert.deepEqual(rejectedResult.deployments, []);

      const timedOut = await timingOut.result();
      assert.equal(timedOut.outcome, 'not_promoted');
      assert.equal(timedOut.approval?.by, 'timeout');
    });
    assert.deepEqual(deploymentsOn('ftpipe-swc').filter((n) => /^(rejected|timeout)/.test(n)), []);
  });

  it('refuses an approval sent before the run awaits it, by signal (in status.requests) as by update (to its caller): none is kept for later', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ deployment: { name: 'early', requireApproval: true, type: 'GlobalStandard' } }));
      await env.waitForStatus(handle, (s) => s.job?.status === 'running');
      // The job stays in training while the early decisions arrive.
      env.emulator.control.setClockScale(0);
      try {
        await handle.signal(approveSignal, { by: 'early-signal' });
        await handle.signal(rejectSignal, { by: 'early-reject' });
        await assert.rejects(handle.executeUpdate(approveUpdate, { args: [{ by: 'early-update' }] }), (err: Error) =>
          err instanceof WorkflowUpdateFailedError && /the run is not awaiting approval \(stage train\)/.test(String(err.cause?.message)));
        const refusals = await env.waitForStatus(handle, (s) => s.requests.length >= 2 || s.approval !== null);
        assert.deepEqual(refusals.requests.map((r) => [r.kind, r.via, r.state, r.reason]), [
          ['approve', 'signal', 'refused', 'the run is not awaiting approval (stage train)'],
          ['reject', 'signal', 'refused', 'the run is not awaiting approval (stage train)'],
        ]);
        assert.equal(refusals.approval, null, 'no decision kept for later');
      } finally {
        env.emulator.control.setClockScale(1000);
      }
      const waiting = await env.waitForStatus(handle, (s) => s.stage === 'await_approval' || s.approval !== null);
      assert.deepEqual([waiting.stage, waiting.approval], ['await_approval', null], 'the run waits for a decision in its stage');
      await handle.signal(approveSignal, { by: 'in-stage' });
      const result = await handle.result();
      assert.deepEqual([result.outcome, result.approval?.decision, result.approval?.by], ['succeeded', 'approved', 'in-stage']);
    });
  });

  it('evaluates every checkpoint on Developer deployments against a baseline, promotes only with enough lift, deletes the eval deployments', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const evaluation = { evalSet: { path: EVAL_SET }, baseline: { model: 'gpt-4.1-mini' } };
    await worker.runUntil(async () => {
      // Two runs side by side: they deploy under names of their own.
      const promotedRun = await env.start(taskQueue, env.input({ evaluation, deployment: { name: 'evaluated', type: 'GlobalStandard' } }));
      const strictRun = await env.start(taskQueue, env.input({ evaluation: { ...evaluation, minLift: 1 }, deployment: { name: 'strict', type: 'GlobalStandard' } }));
      const promoted = await promotedRun.result();
      const scores = promoted.evaluation!.scores;
      assert.equal(scores.filter((s) => s.kind === 'candidate').length, 3);
      const baseline = scores.find((s) => s.kind === 'baseline')!;
      assert.equal(baseline.score, 0);
      const best = Math.max(...scores.filter((s) => s.kind === 'candidate').map((s) => s.score));
      assert.ok(best > 0);
      assert.equal(promoted.outcome, 'succeeded');
      // A checkpoint deploys by its ftchkpt- id, the final one by the job's fine_tuned_model (deployment guide).
      const chosen = promoted.evaluation!.analysis.chosen;
      const finalStep = Math.max(...promoted.checkpoints.map((c) => c.step));
      assert.equal(promoted.deployments[0]?.model, chosen.step === finalStep ? promoted.fineTunedModel : chosen.id);
      assert.match(promoted.deployments[0]?.model ?? '', /^ftchkpt-[0-9a-f]{32}$|\.ft-[0-9a-f]{32}/);

      const strict = await strictRun.result();
      assert.equal(strict.outcome, 'not_promoted');
      assert.match(strict.evaluation!.decision.reason, /^not promoted: best checkpoint scores .* vs baseline 0\.000/);
    });
    assert.deepEqual(deploymentsOn('ftpipe-swc').filter((n) => n.startsWith('ftpipe-eval-') || n.startsWith('strict')), []);
  });

  it('copies the chosen checkpoint to another region and deploys it there; a copy whose prerequisite fails says why', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const ncus = env.emulator.account('ftpipe-ncus');
    const eus2 = env.emulator.account('ftpipe-eus2');
    await worker.runUntil(async () => {
      // The copy API needs at least one fine-tuning job in the destination account.
      await (await env.start(taskQueue, env.input({ profile: 'ftpipe-ncus' }))).result();
      const handle = await env.start(taskQueue, env.input({
        copies: [{ destinationResourceId: ncus.armId, region: 'northcentralus', deploy: { profile: 'ftpipe-ncus', name: 'bikes-ncus', type: 'GlobalStandard' } }],
      }));
      await handle.signal(copyToRegionSignal, { destinationResourceId: eus2.armId, region: 'eastus2' });
      const result = await handle.result();
      const [toNcus, toEus2] = result.copies;
      assert.equal(toNcus?.status, 'Completed');
      assert.equal(toNcus?.checkpoint, result.evaluation!.analysis.chosen.id);
      assert.equal(toNcus?.deployment?.name, 'bikes-ncus');
      // The destination deploys the copy under the checkpoint's own name, not the origin's model through `source`.
      assert.equal(toNcus?.deployment?.model, result.evaluation!.analysis.chosen.id);
      assert.equal(toEus2?.status, 'Failed');
      assert.match(toEus2?.error ?? '', /fine-tuning job/i);
      assert.ok(result.deployments.some((d) => d.name === 'bikes-ncus' && d.profile === 'ftpipe-ncus'));
      // The Web UI's current details carry each copy's outcome, the failed one's reason too.
      const details = (await handle.query<{ currentDetails?: string }, []>('__temporal_workflow_metadata')).currentDetails ?? '';
      assert.match(details, /^copy to northcentralus: Completed$/m);
      assert.match(details, /^copy to eastus2: Failed: .*fine-tuning job/im);
    });
    assert.deepEqual(deploymentsOn('ftpipe-ncus'), ['bikes-ncus']);
  });
});

describe('after training: failures and cancellation leave only what was promoted', () => {
  const env = usePipelineStack({ timings: FAST_DEPLOYMENTS });
  const deploymentsOn = (account: string): string[] => deploymentNames(env.emulator, account);

  it('a new version that fails its smoke test is deleted and the previous version stays live', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const deployment = { name: 'rollback', type: 'GlobalStandard' as const, smokeTestTimeoutSeconds: 2 };
    await worker.runUntil(async () => {
      const first = await (await env.start(taskQueue, env.input({ deployment }))).result();
      assert.deepEqual(first.deployments.map((d) => d.name), ['rollback-v1']);
      env.emulator.control.addFault({ route: 'chat.completions', action: 'error', status: 500, times: 1000 });
      const err = await (await env.start(taskQueue, env.input({ deployment }))).result().then(() => undefined, (e: unknown) => e);
      env.emulator.control.clearFaults();
      assert.ok(err instanceof WorkflowFailedError);
      assert.equal((err.cause as ApplicationFailure).type, 'DeploymentFailed');
      assert.match((err.cause as ApplicationFailure).message, /^deployment rollback-v2 failed .*it was deleted and the previous versions stay live$/);
    });
    assert.deepEqual(deploymentsOn('ftpipe-swc').filter((n) => n.startsWith('rollback')), ['rollback-v1']);
  });

  it('a failure during evaluation (a bad eval set) deletes the evaluation deployment and the run\'s uploads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-evalset-'));
    writeFileSync(join(dir, 'eval.jsonl'), '{"messages": [{"role": "user", "content": "hi"}], "reference": "hello"}\nnot json\n');
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() }, evaluation: { evalSet: { path: join(dir, 'eval.jsonl') } } }));
      const err = await handle.result().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError);
      assert.match((err.cause as ApplicationFailure).message, /eval\.jsonl: line 2: not valid JSON/);
      const status = await handle.query(statusQuery);
      assert.equal(status.stage, 'failed');
      assert.deepEqual(liveFiles(env.emulator, status.files.filter((f) => f.origin === 'uploaded').map((f) => f.fileId)), []);
    });
    assert.deepEqual(deploymentsOn('ftpipe-swc').filter((n) => n.startsWith('ftpipe-eval-')), []);
  });

  it('cancelling during evaluation deletes the evaluation deployments and the run\'s uploads', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      // Slow evaluation deployments down so the cancellation lands while one exists.
      env.emulator.control.setClockScale(50);
      const handle = await env.start(taskQueue, env.input({
        training: { path: uniqueTrainingFile() },
        evaluation: { evalSet: { path: EVAL_SET } },
        polling: { ...FAST_POLLING },
      }));
      env.emulator.control.setClockScale(1000);
      await env.waitForStatus(handle, (s) => s.stage === 'evaluate', 60_000);
      for (let i = 0; i < 100 && !deploymentsOn('ftpipe-swc').some((n) => n.startsWith('ftpipe-eval-')); i++) await new Promise((r) => setTimeout(r, 50));
      env.emulator.control.setClockScale(20);
      assert.ok(deploymentsOn('ftpipe-swc').some((n) => n.startsWith('ftpipe-eval-')), 'an evaluation deployment exists when the run is cancelled');
      await handle.cancel();
      await handle.result().catch(() => undefined);
      env.emulator.control.setClockScale(1000);
      const status = await handle.query(statusQuery);
      assert.equal(status.stage, 'cancelled');
      assert.deepEqual(status.errors.filter((e) => e.stage === 'cleanup'), []);
      const history = await handle.fetchHistory();
      const names = (history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []);
      assert.ok(names.includes('deleteDeployment'), names.join(','));
      assert.deepEqual(liveFiles(env.emulator, status.files.filter((f) => f.origin === 'uploaded').map((f) => f.fileId)), []);
    });
    assert.deepEqual(deploymentsOn('ftpipe-swc').filter((n) => n.startsWith('ftpipe-eval-')), [], JSON.stringify(env.emulator.control.dumpState().deployments));
  });
});

describe('cancellation at the later stages', () => {
  // Deployments take a few real seconds here, so a cancellation lands while one is being created.
  const env = usePipelineStack({ timings: { deploymentCreateSeconds: 3000, deploymentNotReadySeconds: 20, copySeconds: 60 } });

  it('while awaiting approval and while deploying: nothing the run created is left but the trained model', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const awaiting = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() }, deployment: { name: 'never-approved', requireApproval: true, type: 'GlobalStandard' } }));
      const waiting = await env.waitForStatus(awaiting, (s) => s.stage === 'await_approval');
      await awaiting.cancel();
      await awaiting.result().catch(() => undefined);
      assert.deepEqual(liveFiles(env.emulator, waiting.files.filter((f) => f.origin === 'uploaded').map((f) => f.fileId)), []);
      assert.equal((await awaiting.query(statusQuery)).stage, 'cancelled');

      const deploying = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() }, deployment: { name: 'cancelled-deploy', type: 'GlobalStandard' } }));
      await env.waitForStatus(deploying, (s) => s.stage === 'deploy');
      for (let i = 0; i < 100 && !deploymentNames(env.emulator, 'ftpipe-swc').includes('cancelled-deploy-v1'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(deploymentNames(env.emulator, 'ftpipe-swc').includes('cancelled-deploy-v1'), 'the deployment is being created when the run is cancelled');
      await deploying.cancel();
      await deploying.result().catch(() => undefined);
      assert.equal((await deploying.query(statusQuery)).stage, 'cancelled');
    });
    assert.deepEqual(deploymentNames(env.emulator, 'ftpipe-swc').filter((n) => n.startsWith('never-approved') || n.startsWith('cancelled-deploy')), []);
  });
});
