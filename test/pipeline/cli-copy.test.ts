/** `ftpipe copy` and the typed client's `copy()`: the `copyToRegionRun` update's checks, from both, on a real run. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyRequestError, FtpipeClient } from '../../src/client';
import { runCli } from '../helpers/cli';
import { usePipelineStack } from '../helpers/pipeline';

describe('ftpipe copy', () => {
  const env = usePipelineStack({ timings: { deploymentCreateSeconds: 30, copySeconds: 60 } });

  it('queues a copy while the run goes, names the flag at fault, and is refused once the run has ended', { timeout: 600_000 }, async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const ncus = env.emulator.account('ftpipe-ncus');
    const address = ['--address', env.temporal.server.address];
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ deployment: { name: 'copy-me', type: 'GlobalStandard', requireApproval: true } }));
      await env.waitForStatus(handle, (s) => s.stage === 'await_approval', 120_000);
      const run = new FtpipeClient(env.temporal.client).getPipeline(handle.workflowId);

      const badId = await runCli(['copy', handle.workflowId, '--to', 'accounts/x', '--region', 'northcentralus', ...address]);
      assert.equal(badId.code, 2, badId.output);
      assert.match(badId.output, /ftpipe: copy: --to: must be a full ARM id/);
      const noProfile = await runCli(['copy', handle.workflowId, '--to', ncus.armId, '--region', 'northcentralus', '--deploy-name', 'bikes-ncus', ...address]);
      assert.equal(noProfile.code, 2, noProfile.output);
      assert.match(noProfile.output, /--deploy-name needs --deploy-profile/);
      await assert.rejects(run.copy({ destinationResourceId: ncus.armId, region: '' }), (err: unknown) => err instanceof CopyRequestError && /^invalid copy request: region: /.test(err.message));
      assert.deepEqual((await run.status()).copies, [], 'nothing refused was queued');

      const queued = await runCli(['copy', handle.workflowId, '--to', ncus.armId, '--region', 'northcentralus', '--deploy-name', 'bikes-ncus', '--deploy-profile', 'ftpipe-ncus', ...address]);
      assert.equal(queued.code, 0, queued.output);
      assert.match(queued.output, new RegExp(`^copy of ${handle.workflowId}'s chosen checkpoint to northcentralus \\(${ncus.armId}\\) requested, then deployed there as bikes-ncus \\(profile ftpipe-ncus\\)`, 'm'));
      assert.deepEqual((await run.status()).copies.map((c) => [c.destinationResourceId, c.region, c.status]), [[ncus.armId, 'northcentralus', 'requested']]);

      await run.reject({ by: 'test' });
      const result = await run.result();
      // The run started the copy it was asked for; the destination has no fine-tuning job yet, which the copy API requires.
      assert.equal(result.copies.length, 1);
      assert.equal(result.copies[0]?.status, 'Failed');
      assert.match(result.copies[0]?.error ?? '', /fine-tuning job/i);

      await assert.rejects(run.copy({ destinationResourceId: ncus.armId, region: 'northcentralus' }), /already completed/);
      const late = await runCli(['copy', handle.workflowId, '--to', ncus.armId, '--region', 'northcentralus', ...address]);
      assert.equal(late.code, 1, late.output);
      assert.match(late.output, new RegExp(`ftpipe: run ${handle.workflowId} has closed \\(completed\\): a copy is asked for while the run goes`));
    });
  });
});
