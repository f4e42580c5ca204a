import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES, searchAttributeTypeName } from '../../src/temporal/search-attributes';
import type { CheckWorkerResult } from '../../workflows';
import { runCli } from '../helpers/cli';
import { useTemporal } from '../helpers/temporal';
import { CHECK_WORKER_WORKFLOW_TYPE } from '../../workflows/messages';

describe('skeleton workflow on the real dev server', () => {
  const env = useTemporal();

  it('runs checkWorker round trip through its activity', async () => {
    const taskQueue = env.taskQueue();
    const worker = await env.createWorker({ taskQueue, config: { profiles: [] } });
    const result = await worker.runUntil(
      env.client.workflow.execute(CHECK_WORKER_WORKFLOW_TYPE, { taskQueue, workflowId: `check-${taskQueue}`, args: [{ note: 'hello' }] }),
    ) as CheckWorkerResult;
    assert.equal(result.note, 'hello');
    assert.equal(result.workflowId, `check-${taskQueue}`);
    assert.equal(result.worker.taskQueue, taskQueue);
    assert.equal(result.worker.nodeVersion, process.version);
    assert.deepEqual(result.worker.profiles, []);

    const history = await env.client.workflow.getHandle(`check-${taskQueue}`).fetchHistory();
    const scheduled = history.events?.filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) ?? [];
    assert.equal(scheduled.length, 1, 'exactly one activity ran');
    assert.equal(scheduled[0]?.activityTaskScheduledEventAttributes?.activityType?.name, 'describeWorker');
  });

  it('registers ftpipe\'s search attributes with their types (Keyword, the queue position Int)', async () => {
    const response = await env.connection.operatorService.listSearchAttributes({ namespace: env.server.namespace });
    const { INDEXED_VALUE_TYPE_KEYWORD, INDEXED_VALUE_TYPE_INT } = temporal.api.enums.v1.IndexedValueType;
    for (const key of SEARCH_ATTRIBUTES) {
      assert.equal(response.customAttributes?.[key.name], searchAttributeTypeName(key) === 'Int' ? INDEXED_VALUE_TYPE_INT : INDEXED_VALUE_TYPE_KEYWORD, key.name);
    }
  });

  it('ftpipe doctor --task-queue checks the worker of that queue, and says when none answers', async () => {
    const taskQueue = env.taskQueue();
    const worker = await env.createWorker({ taskQueue, config: { profiles: [] } });
    const address = ['--address', env.server.address];
    const ok = await worker.runUntil(runCli(['doctor', '--task-queue', taskQueue, ...address]));
    assert.equal(ok.code, 0, ok.output);
    assert.match(ok.output, new RegExp(`ok: a worker .* serves "${taskQueue}"`));
    const none = await runCli(['doctor', '--task-queue', `${taskQueue}-nobody`, '--timeout', '2', ...address]);
    assert.equal(none.code, 1, none.output);
    assert.match(none.output, new RegExp(`no worker answered on task queue "${taskQueue}-nobody" of .* within 2 s: start one there`));
  });
});
