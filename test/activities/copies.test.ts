import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { copyActivities } from '../../activities/copies';
import { deploymentActivities } from '../../activities/deployments';
import { emulatedDeployments, failure, runActivity, runUntilDone, startActivityTestEnv, startJob, trainedJob, type ActivityTestEnv } from './helpers';

const SOURCE = 'ftpipe-swc';
const DESTINATION = 'ftpipe-ncus';
const NO_JOB = 'ftpipe-eus2';
// Emulated seconds; at clock scale 2000 a copy takes 1 s real.
const TIMINGS = { copySeconds: 2000, deploymentCreateSeconds: 600, deploymentNotReadySeconds: 200 };

describe('checkpoint copy activities (emulator)', () => {
  let t: ActivityTestEnv;
  let copies: ReturnType<typeof copyActivities>;
  let deployments: ReturnType<typeof deploymentActivities>;
  let jobId: string;
  let checkpoint: string;

  const copyInput = (account: string) => ({ profile: SOURCE, jobId, checkpoint, destinationResourceId: t.emu.account(account).armId, region: t.emu.account(account).region });
  const copyPosts = () => t.emu.control.requests({ route: 'checkpoints.copy' });

  before(async () => {
    t = await startActivityTestEnv({ timings: TIMINGS });
    copies = copyActivities(t.azure);
    deployments = deploymentActivities(t.deps, t.azure);
    const trained = await trainedJob(t, SOURCE);
    jobId = trained.jobId;
    checkpoint = trained.checkpoints.at(-1)!;
  });
  after(() => t.emu.stop());

  it('copies a checkpoint to a second region once the destination has a fine-tuning job, then deploys it there', async () => {
    await startJob(t, DESTINATION, 'dest');
    t.emu.control.clearRequests();
    const input = copyInput(DESTINATION);
    const started = await runActivity(() => copies.startCheckpointCopy(input));
    assert.deepEqual(started, { destinationResourceId: input.destinationResourceId, region: 'northcentralus', checkpoint, status: 'InProgress', deployment: null, error: null });
    // A retried start finds the copy under way and asks for nothing.
    assert.equal((await runActivity(() => copies.startCheckpointCopy(input))).status, 'InProgress');
    assert.equal(copyPosts().length, 1);
    for (const r of t.emu.control.requests({ route: 'checkpoints.*' })) assert.equal(r.family, 'v1');

    // Each check is one short attempt: while the copy runs, Temporal is asked to check again later (no slot held).
    const statusReads = () => t.emu.control.requests({ route: 'checkpoints.copyStatus' }).length;
    const readsBefore = statusReads();
    const done = await runUntilDone(() => copies.awaitCheckpointCopy({ ...input, intervalSeconds: 0.1 }));
    assert.equal(done.result.status, 'Completed');
    assert.ok(done.notYet.length >= 1, 'checked while in progress');
    for (const e of done.notYet) assert.match(e.message, /copy of checkpoint .*: InProgress; checking again in/);
    assert.equal(statusReads() - readsBefore, done.notYet.length + 1, 'one status read per check');
    assert.equal((await runActivity(() => copies.startCheckpointCopy(input))).status, 'Completed', 'a completed copy is not requested again');
    assert.equal(copyPosts().length, 1);

    // The copy keeps the checkpoint's name (its ftchkpt- id) in the destination: the deployment names that copy, with no
    // `source` pointing back at the origin account (which would make it depend on the origin instead of the copy).
    assert.match(checkpoint, /^ftchkpt-[0-9a-f]{32}$/);
    const deployment = { profile: DESTINATION, name: 'copied-v1', model: checkpoint, type: 'Standard' as const, capacity: 1 };
    const { result: info } = await runUntilDone(() => deployments.createDeployment({ ...deployment, pollIntervalSeconds: 0.05 }));
    assert.deepEqual(info, { profile: DESTINATION, name: 'copied-v1', model: checkpoint, sku: 'Standard', capacity: 1, provisioningState: 'Succeeded' });
    const served = emulatedDeployments(t.emu, DESTINATION).find((d) => d.name === 'copied-v1')?.model;
    assert.equal(served?.name, checkpoint);
    assert.equal(served?.source, undefined);
    const { result: smoke } = await runUntilDone(() => deployments.smokeTestDeployment({ profile: DESTINATION, deployment: 'copied-v1', intervalSeconds: 0.05, timeoutSeconds: 30 }));
    assert.equal(smoke.ok, true);
  });

  it('fails clearly, not by hanging, when the destination has no fine-tuning job', async () => {
    const input = copyInput(NO_JOB);
    assert.equal((await runActivity(() => copies.startCheckpointCopy(input))).status, 'InProgress');
    await assert.rejects(
      runUntilDone(() => copies.awaitCheckpointCopy({ ...input, intervalSeconds: 0.1 })),
      failure('CheckpointCopyFailed', true, /Failed: the destination account must already have at least one fine-tuning job/),
    );
    // Once the prerequisite holds, asking again starts a new copy, which completes.
    await startJob(t, NO_JOB, 'late');
    assert.equal((await runActivity(() => copies.startCheckpointCopy(input))).status, 'InProgress');
    assert.equal((await runUntilDone(() => copies.awaitCheckpointCopy({ ...input, intervalSeconds: 0.1 }))).result.status, 'Completed');
  });

  it('starts one copy when the response to its request is lost, found by the retried activity', async () => {
    const trained = await trainedJob(t, SOURCE);
    const input = { ...copyInput(DESTINATION), jobId: trained.jobId, checkpoint: trained.checkpoints.at(-1)! };
    t.emu.control.clearRequests();
    t.emu.control.addFault({ route: 'checkpoints.copy', action: 'lostResponse', times: 1 });
    await assert.rejects(runActivity(() => copies.startCheckpointCopy(input)), failure('Azure500', false));
    assert.equal((await runActivity(() => copies.startCheckpointCopy(input))).status, 'InProgress');
    assert.equal(copyPosts().length, 1, 'the retry read the status and asked for nothing');
    assert.equal((await runUntilDone(() => copies.awaitCheckpointCopy({ ...input, intervalSeconds: 0.1 }))).result.status, 'Completed');
  });

  it('reports a request Azure refuses, and a copy never started, as final failures', async () => {
    const trained = await trainedJob(t, SOURCE);
    const fresh = { ...copyInput(DESTINATION), jobId: trained.jobId, checkpoint: trained.checkpoints[0]! };
    await assert.rejects(
      runActivity(() => copies.startCheckpointCopy({ ...fresh, region: 'westeurope' })),
      failure('CheckpointCopyRejected', true, /Azure refused the copy .*invalidPayload: The destination resource is in region 'northcentralus', not 'westeurope'/),
    );
    await assert.rejects(runActivity(() => copies.awaitCheckpointCopy({ ...fresh, intervalSeconds: 0.1 })), failure('CheckpointCopyNotFound', true, /start it first/));
  });
});
