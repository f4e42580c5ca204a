/**
 * Worker Versioning on the real dev server: a run starts on build A (pinned), build B with an incompatibly changed
 * workflow becomes the deployment's current version, the open run finishes on A (B could not replay it: its workflow
 * starts with a timer), and a new run goes to B.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { usePipelineStack } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';
import { approveUpdate } from '../../workflows/messages';

describe('Worker Versioning: shipping new workflow code while runs are open', () => {
  const env = usePipelineStack({}, ownServer('sets the namespace\'s worker deployment versions'));

  /** Makes `buildId` the deployment's current version, once its workers have polled (the server knows it then). */
  async function setCurrentVersion(deploymentName: string, buildId: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await env.temporal.connection.workflowService.setWorkerDeploymentCurrentVersion({ namespace: env.temporal.server.namespace, deploymentName, buildId, identity: 'worker-versioning-test' });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await delay(200);
      }
    }
  }

  /** Every execution of the run (it may continue as new), newest first. */
  async function executions(workflowId: string): Promise<{ runId: string; history: temporal.api.history.v1.IHistory; info: temporal.api.workflow.v1.IWorkflowExecutionInfo }[]> {
    const found = [];
    for await (const e of env.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const handle = env.temporal.client.workflow.getHandle(workflowId, e.runId);
      found.push({ runId: e.runId, history: await handle.fetchHistory(), info: (await handle.describe()).raw.workflowExecutionInfo ?? {} });
    }
    return found;
  }

  /** The build ids that completed the execution's workflow tasks. */
  function buildIds(history: temporal.api.history.v1.IHistory): Set<string> {
    return new Set((history.events ?? []).flatMap((e) => {
      const attrs = e.workflowTaskCompletedEventAttributes;
      return attrs ? [attrs.deploymentVersion?.buildId ?? attrs.workerDeploymentVersion?.split('.').pop() ?? '(unversioned)'] : [];
    }));
  }

  it('the open run finishes on build A; a run started after B became current runs on B', async () => {
    const deploymentName = `ftpipe-test-${randomUUID().slice(0, 8)}`;
    const taskQueue = env.temporal.taskQueue();
    const common = { taskQueue, config: env.config, env: env.workerEnv };
    const workerA = await env.temporal.createWorker({ ...common, deployment: { deploymentName, buildId: 'A' } });
    await workerA.runUntil(async () => {
      await setCurrentVersion(deploymentName, 'A');
      // Waits for approval: open for as long as the test needs, like a week-long run.
      const onA: WorkflowHandle = await env.start(taskQueue, env.input({ deployment: { name: `versioned-${randomUUID().slice(0, 6)}`, type: 'GlobalStandard', requireApproval: true } }));
      await env.waitForStatus(onA, (s) => s.stage === 'await_approval', 120_000);

      const workerB = await env.temporal.createWorker({ ...common, deployment: { deploymentName, buildId: 'B' }, workflowSource: { workflowsPath: require.resolve('../fixtures/versioned-workflows') } });
      await workerB.runUntil(async () => {
        await setCurrentVersion(deploymentName, 'B');
        const onB = await env.start(taskQueue, env.input());
        assert.equal((await onB.result()).outcome, 'succeeded');

        const record = await onA.executeUpdate(approveUpdate, { args: [{ by: 'versioning-test' }] });
        assert.equal(record.decision, 'approved');
        assert.equal(((await onA.result()) as { outcome: string }).outcome, 'succeeded');

        for (const e of await executions(onA.workflowId)) {
          assert.deepEqual([...buildIds(e.history)], ['A'], `run ${e.runId} of the open run: every workflow task on build A`);
          assert.equal(e.info.versioningInfo?.behavior, 1, 'pinned (VERSIONING_BEHAVIOR_PINNED)');
        }
        const newRuns = await executions(onB.workflowId);
        for (const e of newRuns) assert.deepEqual([...buildIds(e.history)], ['B'], `run ${e.runId} of the new run: on build B`);
        const first = newRuns.at(-1)!.history.events ?? [];
        const firstCommand = first.find((ev) => ev.timerStartedEventAttributes || ev.activityTaskScheduledEventAttributes);
        assert.ok(firstCommand?.timerStartedEventAttributes, 'the new run ran B\'s changed code (a timer first)');
      });
    });
  });
});
