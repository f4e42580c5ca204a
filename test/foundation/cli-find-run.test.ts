/**
 * A run name whose default workflow id (`ftpipe-<runName>`) has no run, while runs of that name have other ids (a
 * schedule's, or `--workflow-id`): the CLI names those ids. On the run's dev server, no worker: the runs never start.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { TypedSearchAttributes } from '@temporalio/common';
import { RUN_NAME } from '../../src/temporal/search-attributes';
import { PIPELINE_WORKFLOW_TYPE } from '../../workflows/messages';
import { runCli } from '../helpers/cli';
import { useTemporal } from '../helpers/temporal';
import { until } from '../helpers/until';

describe('ftpipe status <run name> of runs under other workflow ids', () => {
  const env = useTemporal();

  it('says which workflow ids the runs of that name have, newest first', async (t) => {
    const runName = `named-${randomUUID().slice(0, 8)}`;
    const taskQueue = env.taskQueue();
    const ids = [`${runName}-sched-1`, `${runName}-sched-2`];
    for (const workflowId of ids) {
      await env.client.workflow.start(PIPELINE_WORKFLOW_TYPE, { taskQueue, workflowId, args: [{}], typedSearchAttributes: new TypedSearchAttributes([{ key: RUN_NAME, value: runName }]) });
    }
    t.after(() => Promise.all(ids.map((id) => env.client.workflow.getHandle(id).terminate('test over'))));
    await until(async () => ((await env.client.workflow.count(`${RUN_NAME.name} = '${runName}'`)).count === 2 ? true : undefined), 'visibility to index both runs');

    const status = await runCli(['status', runName, '--address', env.server.address]);
    assert.equal(status.code, 1, status.output);
    assert.equal(status.output.trim(), `ftpipe: no run with workflow id "${runName}" or "ftpipe-${runName}"; runs named "${runName}" have workflow ids ${ids[1]}, ${ids[0]} (newest first): give one of those instead of the name`);
  });
});
