import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NotFoundError } from 'openai';
import { advanceUntil, chatJsonl, startTestEmulator, uploadProcessed, type TestEmulator } from './helpers';

const SOURCE = 'ftpipe-swc';
const DESTINATION = 'ftpipe-eus2';
const COPY_SECONDS = 900;
const PREVIEW = { 'aoai-copy-ft-checkpoints': 'preview' };

interface CopyStatus {
  checkpointedModelName: string;
  fineTuningJobId: string;
  copiedAccountDetails: { destinationResourceId: string; region: string; status: string }[];
}

describe('emulator checkpoint copy (preview)', () => {
  let t: TestEmulator;
  let jobId: string;
  let checkpoint: { id: string; name: string };
  let copyPath: string;

  const copy = (body: Record<string, unknown>, headers: Record<string, string> = PREVIEW) => t.v1(SOURCE).post<CopyStatus>(copyPath, { body, headers });
  const copyStatus = () => t.v1(SOURCE).get<CopyStatus>(copyPath, { headers: PREVIEW });
  const toDestination = () => ({ destinationResourceId: t.emu.account(DESTINATION).armId, region: 'East US2' });

  before(async () => {
    t = await startTestEmulator();
    const client = t.openai(SOURCE);
    const training = await uploadProcessed(t, SOURCE, chatJsonl(10, 'copy'));
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1', training_file: training, seed: 5 });
    jobId = job.id;
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
    const c = (await client.fineTuning.jobs.checkpoints.list(job.id)).data[1]!;
    checkpoint = { id: c.id, name: c.fine_tuned_model_checkpoint };
    copyPath = `/fine_tuning/jobs/${jobId}/checkpoints/${checkpoint.id}/copy`;
  });
  after(() => t.emu.stop());

  it('requires the preview header and a known destination in the stated region', async () => {
    await assert.rejects(copy(toDestination(), {}), (err: { status?: number; message?: string }) => err.status === 400 && /aoai-copy-ft-checkpoints/.test(err.message ?? ''));
    await assert.rejects(copy({ ...toDestination(), region: 'westeurope' }), (err: { status?: number; param?: string }) => err.status === 400 && err.param === 'region');
    await assert.rejects(
      copy({ ...toDestination(), destinationResourceId: '/subscriptions/x/resourceGroups/y/providers/Microsoft.CognitiveServices/accounts/z' }),
      (err: { status?: number; param?: string }) => err.status === 400 && err.param === 'destinationResourceId',
    );
    await assert.rejects(copyStatus(), NotFoundError);
    // The path takes the checkpoint id (fine_tuning_checkpoint_id), not its ...:ckpt-step-N name.
    await assert.rejects(
      t.v1(SOURCE).post(`/fine_tuning/jobs/${jobId}/checkpoints/${encodeURIComponent(checkpoint.name)}/copy`, { body: toDestination(), headers: PREVIEW }),
      NotFoundError,
    );
    // The dated family has no copy route.
    await assert.rejects(t.openai(SOURCE).post(copyPath, { body: toDestination(), headers: PREVIEW }), NotFoundError);
  });

  it('fails when the destination has no fine-tuning job, and completes once it has one; the copy is then deployable there', async () => {
    const first = await copy(toDestination());
    assert.deepEqual(first, {
      checkpointedModelName: checkpoint.id,
      fineTuningJobId: jobId,
      copiedAccountDetails: [{ destinationResourceId: t.emu.account(DESTINATION).armId, region: 'eastus2', status: 'InProgress' }],
    });
    t.emu.control.advanceClock(COPY_SECONDS);
    assert.equal((await copyStatus()).copiedAccountDetails[0]!.status, 'Failed');

    const destination = t.openai(DESTINATION);
    const file = await uploadProcessed(t, DESTINATION, chatJsonl(10, 'dest'));
    await destination.fineTuning.jobs.create({ model: 'gpt-4.1', training_file: file, trainingType: 'globalstandard' } as Parameters<typeof destination.fineTuning.jobs.create>[0]);
    assert.equal((await copy(toDestination())).copiedAccountDetails[0]!.status, 'InProgress');
    t.emu.control.advanceClock(COPY_SECONDS / 2);
    assert.equal((await copyStatus()).copiedAccountDetails[0]!.status, 'InProgress');
    t.emu.control.advanceClock(COPY_SECONDS / 2);
    assert.equal((await copyStatus()).copiedAccountDetails[0]!.status, 'Completed');

    // Not in the destination's checkpoint list (there is no job there), but deployable by the same name - from the
    // destination's copy, not the origin: a checkpoint with `source` pointing at the origin is refused.
    const p = t.profile(DESTINATION);
    await assert.rejects(
      t.arm(DESTINATION).deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'from-origin', {
        sku: { name: 'Standard', capacity: 1 },
        properties: { model: { format: 'OpenAI', name: checkpoint.id, version: '1', source: t.emu.account(SOURCE).armId } },
      }),
      (err: { statusCode?: number; code?: string }) => err.statusCode === 400 && err.code === 'DeploymentModelNotSupported',
    );
    const poller = await t.arm(DESTINATION).deployments.beginCreateOrUpdate(
      p.resourceGroup,
      p.account,
      'copied',
      { sku: { name: 'Standard', capacity: 1 }, properties: { model: { format: 'OpenAI', name: checkpoint.id, version: '1' } } },
      { updateIntervalInMs: 5 },
    );
    t.emu.control.advanceClock(600);
    assert.equal((await poller.pollUntilDone()).properties?.provisioningState, 'Succeeded');
    t.emu.control.advanceClock(120);
    const answer = await destination.chat.completions.create({ model: 'copied', messages: [{ role: 'user', content: 'copy question 1' }] });
    assert.equal(answer.model, checkpoint.id);

    // ...and fine-tunable there (continuous fine-tuning in the destination region).
    const continued = await destination.fineTuning.jobs.create({ model: checkpoint.id, training_file: file, trainingType: 'globalstandard' } as Parameters<typeof destination.fineTuning.jobs.create>[0]);
    assert.equal(continued.model, checkpoint.id);
  });
});
