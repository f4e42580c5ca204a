/**
 * A copy's deploy in the destination account that fails after its create was sent (Azure's provisioning ends Failed):
 * the run deletes that deployment, as it deletes a failed new version of its own, and the copy says so.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { deploymentNames } from '../helpers/emulator-state';
import { usePipelineStack } from '../helpers/pipeline';

const FAST_DEPLOYMENTS = { deploymentCreateSeconds: 30, deploymentDeleteSeconds: 10, deploymentNotReadySeconds: 20, copySeconds: 60 };

describe('a copy whose deployment fails to provision', () => {
  const env = usePipelineStack({ timings: FAST_DEPLOYMENTS });

  it('deletes the failed deployment in the destination account; the run still succeeds', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const ncus = env.emulator.account('ftpipe-ncus');
    const name = `copy-fails-${randomUUID().slice(0, 6)}`;
    const result = await worker.runUntil(async () => {
      // The copy API needs at least one fine-tuning job in the destination account.
      await (await env.start(taskQueue, env.input({ profile: 'ftpipe-ncus' }))).result();
      env.emulator.control.failDeployment({ account: 'ftpipe-ncus', deployment: name }, { code: 'InternalServerError', message: 'The deployment failed to provision.' });
      return (await env.start(taskQueue, env.input({
        copies: [{ destinationResourceId: ncus.armId, region: 'northcentralus', deploy: { profile: 'ftpipe-ncus', name, type: 'GlobalStandard' } }],
      }))).result();
    });
    assert.equal(result.outcome, 'succeeded');
    const [copy] = result.copies;
    assert.equal(copy?.status, 'Failed');
    assert.match(copy?.error ?? '', new RegExp(`create deployment ${name} on .*: the deployment exists in state Failed.*; deployment ${name} was deleted$`));
    assert.equal(copy?.deployment ?? null, null);
    assert.ok(!result.deployments.some((d) => d.name === name), 'not among the run\'s live deployments');
    assert.ok(!deploymentNames(env.emulator, 'ftpipe-ncus').includes(name), 'gone from the destination account');
  });
});
