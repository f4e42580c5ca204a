/**
 * Worker Versioning on the real dev server: a run starts on build A (pinned), build B with an incompatibly changed
 * workflow becomes the deployment's current version, the open run finishes on A (B could not replay it: its workflow
 * starts with a timer), its executions continued as new after that stay on A, and a new run goes to B. The resource's
 * admission queue (one long-lived workflow, auto-upgrade) moves to B at its next workflow task, so A drains.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { FAST_POLLING, usePipelineStack } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';
import { until } from '../helpers/until';
import { approveUpdate, statusQuery } from '../../workflows/messages';

const { VERSIONING_BEHAVIOR_PINNED: PINNED, VERSIONING_BEHAVIOR_AUTO_UPGRADE: AUTO_UPGRADE } = temporal.api.enums.v1.VersioningBehavior;
const { VERSION_DRAINAGE_STATUS_DRAINED } = temporal.api.enums.v1.VersionDrainageStatus;

describe('Worker Versioning: shipping new workflow code while runs are open', () => {
  // The server refreshes a draining version's status every 3 minutes after a 3-minute grace; here every second.
  const env = usePipelineStack({}, ownServer('sets the namespace\'s worker deployment versions and the drainage refresh', {
    dynamicConfig: { 'matching.wv.VersionDrainageStatusVisibilityGracePeriod': '1s', 'matching.wv.VersionDrainageStatusRefreshInterval': '1s' },
  }));

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

  /** Every execution of the workflow (it may continue as new), newest first. */
  async function executions(workflowId: string): Promise<{ runId: string; history: temporal.api.history.v1.IHistory; info: temporal.api.workflow.v1.IWorkflowExecutionInfo }[]> {
    const found = [];
    for await (const e of env.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const handle = env.temporal.client.workflow.getHandle(workflowId, e.runId);
      found.push({ runId: e.runId, history: await handle.fetchHistory(), info: (await handle.describe()).raw.workflowExecutionInfo ?? {} });
    }
    return found;
  }

  /** The build ids that completed the execution's workflow tasks, in order. */
  function taskBuilds(history: temporal.api.history.v1.IHistory): string[] {
    return (history.events ?? []).flatMap((e) => {
      const attrs = e.workflowTaskCompletedEventAttributes;
      return attrs ? [attrs.deploymentVersion?.buildId ?? attrs.workerDeploymentVersion?.split('.').pop() ?? '(unversioned)'] : [];
    });
  }

  const buildIds = (history: temporal.api.history.v1.IHistory): Set<string> => new Set(taskBuilds(history));

  /** The open execution's versioning as the server has it. */
  async function versioningOf(workflowId: string): Promise<temporal.api.workflow.v1.IWorkflowExecutionVersioningInfo | null | undefined> {
    return (await env.temporal.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo;
  }

  /** Open executions pinned to the version, by the visibility query the README gives. */
  async function pinnedTo(deploymentName: string, buildId: string): Promise<string[]> {
    const ids = [];
    for await (const e of env.temporal.client.workflow.list({ query: `BuildIds = 'pinned:${deploymentName}:${buildId}' AND ExecutionStatus = 'Running'` })) ids.push(e.workflowId);
    return ids;
  }

  it('open runs finish on build A, new runs and the admission queue move to B, and A drains', async () => {
    const deploymentName = `ftpipe-test-${randomUUID().slice(0, 8)}`;
    const taskQueue = env.temporal.taskQueue();
    const common = { taskQueue, config: env.config, env: env.workerEnv };
    const workerA = await env.temporal.createWorker({ ...common, deployment: { deploymentName, buildId: 'A' } });
    await workerA.runUntil(async () => {
      await setCurrentVersion(deploymentName, 'A');
      // Waits for approval at the end: open for as long as the test needs, like a week-long run. It continues as new
      // every 100 events, so that it has executions that start after B became current. A slow clock until it trains,
      // so that a loaded machine cannot see the job finish first.
      env.emulator.control.setClockScale(10);
      const onA: WorkflowHandle = await env.start(taskQueue, env.input({
        deployment: { name: `versioned-${randomUUID().slice(0, 6)}`, type: 'GlobalStandard', requireApproval: true },
        polling: { ...FAST_POLLING, continueAsNewAfterEvents: 100 },
      }));
      const training = await env.waitForStatus(onA, (s) => s.stage === 'train');
      // Azure's clock stands still: the job trains no further, the run polls it and continues as new meanwhile.
      env.emulator.control.setClockScale(0);
      const queue = training.admission!.queue;
      const onAVersioning = await versioningOf(queue);
      assert.equal(onAVersioning?.behavior, AUTO_UPGRADE, 'the admission queue is auto-upgrade');
      assert.equal(onAVersioning?.deploymentVersion?.buildId, 'A', 'the admission queue started on build A');

      const workerB = await env.temporal.createWorker({ ...common, deployment: { deploymentName, buildId: 'B' }, workflowSource: { workflowsPath: require.resolve('../fixtures/versioned-workflows') } });
      await workerB.runUntil(async () => {
        await setCurrentVersion(deploymentName, 'B');
        // The execution answering now was open when B became current: the next one continued as new after that.
        const continuedBefore = (await onA.query(statusQuery)).continuations;
        await env.waitForStatus(onA, (s) => s.continuations > continuedBefore);
        env.emulator.control.setClockScale(1000);

        const onB = await env.start(taskQueue, env.input());
        assert.equal((await onB.result()).outcome, 'succeeded');

        await env.waitForStatus(onA, (s) => s.stage === 'await_approval');
        // The README's query for what still holds A (the server's own drainage query): the open run, not the queue.
        await until(async () => {
          const ids = await pinnedTo(deploymentName, 'A');
          return ids.length === 1 && ids[0] === onA.workflowId ? ids : undefined;
        }, 'the open run, and only it, listed as pinned to A');
        const record = await onA.executeUpdate(approveUpdate, { args: [{ by: 'versioning-test' }] });
        assert.equal(record.decision, 'approved');
        assert.equal(((await onA.result()) as { outcome: string }).outcome, 'succeeded');

        const openRun = await executions(onA.workflowId);
        assert.ok(openRun.length >= continuedBefore + 2, `the open run continued as new after B became current (${openRun.length} executions)`);
        for (const e of openRun) {
          assert.deepEqual([...buildIds(e.history)], ['A'], `run ${e.runId} of the open run: every workflow task on build A`);
          assert.equal(e.info.versioningInfo?.behavior, PINNED, `run ${e.runId} of the open run: pinned`);
        }
        const newRuns = await executions(onB.workflowId);
        for (const e of newRuns) assert.deepEqual([...buildIds(e.history)], ['B'], `run ${e.runId} of the new run: on build B`);
        const first = newRuns.at(-1)!.history.events ?? [];
        const firstCommand = first.find((ev) => ev.timerStartedEventAttributes || ev.activityTaskScheduledEventAttributes);
        assert.ok(firstCommand?.timerStartedEventAttributes, 'the new run ran B\'s changed code (a timer first)');

        // The queue served both runs and is still open: on A until B became current, on B since (never back on A).
        const queueVersioning = await versioningOf(queue);
        assert.equal(queueVersioning?.behavior, AUTO_UPGRADE, 'the admission queue is still auto-upgrade');
        assert.equal(queueVersioning?.deploymentVersion?.buildId, 'B', 'the admission queue is on build B now');
        const queueTasks = (await executions(queue)).reverse().flatMap((e) => taskBuilds(e.history));
        const firstOnB = queueTasks.indexOf('B');
        assert.ok(firstOnB > 0 && queueTasks.slice(firstOnB).every((b) => b === 'B'), `the admission queue's tasks: A, then B (${queueTasks.join(' ')})`);

        // Nothing open is pinned to A any more, so the server reports it drained: its workers may stop.
        await until(async () => ((await pinnedTo(deploymentName, 'A')).length === 0 ? true : undefined), 'no open execution listed as pinned to A');
        await until(async () => {
          const { workerDeploymentVersionInfo } = await env.temporal.connection.workflowService.describeWorkerDeploymentVersion({ namespace: env.temporal.server.namespace, deploymentVersion: { deploymentName, buildId: 'A' } });
          const status = workerDeploymentVersionInfo?.drainageInfo?.status;
          if (status !== VERSION_DRAINAGE_STATUS_DRAINED) throw new Error(`its drainage status is ${status === undefined || status === null ? 'not set' : temporal.api.enums.v1.VersionDrainageStatus[status]}`);
          return status;
        }, 'build A drained', 120_000);
      });
    });
  });
});
