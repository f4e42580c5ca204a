/**
 * A new version whose create made nothing of the run's (Azure refused the PUT): the run does not delete the name, which
 * could hold another run's deployment (two runs of one deployment.name at once can pick the same version).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { usePipelineStack } from '../helpers/pipeline';

const FAST_DEPLOYMENTS = { deploymentCreateSeconds: 30, deploymentDeleteSeconds: 10, deploymentNotReadySeconds: 20 };

describe('a new version whose create Azure refused', () => {
  const env = usePipelineStack({ timings: FAST_DEPLOYMENTS });

  it('fails the run without deleting the name it never created', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const name = `refused-${randomUUID().slice(0, 6)}`;
    const requestsFor = (route: string) => env.emulator.control.requests({ route }).filter((r) => r.path.includes(`/deployments/${name}-v1`));
    env.emulator.control.addFault({ route: 'arm.deployments.put', action: 'error', status: 400, times: 1 });
    const err = await worker.runUntil(async () => (await env.start(taskQueue, env.input({ deployment: { name, type: 'GlobalStandard' } }))).result().then(() => undefined, (e: unknown) => e));
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
    assert.equal(err.cause.type, 'DeploymentFailed');
    assert.match(err.cause.message, new RegExp(`^deployment ${name}-v1 failed \\(.*Azure answered HTTP 400.*\\); the run made none to delete and the previous versions stay live$`));
    assert.equal(requestsFor('arm.deployments.put').length, 1, 'the one refused create');
    assert.deepEqual(requestsFor('arm.deployments.delete'), [], 'no delete of a name the run did not create');
  });
});
