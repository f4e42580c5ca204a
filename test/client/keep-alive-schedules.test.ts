/**
 * Keep-alive schedule ids (src/client/schedules.ts): one per (profile, deployment) pair, however the profile is named,
 * and schedules made under the legacy `<profile>-<deployment>` id still found and deleted as their pair's, only theirs.
 * On the run's dev server; no worker (every first call is a day away).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ScheduleNotFoundError } from '@temporalio/client';
import { createKeepAliveSchedule, deleteKeepAliveSchedule, keepAliveScheduleId } from '../../src/client/schedules';
import { KEEP_ALIVE_WORKFLOW_TYPE } from '../../workflows/messages';
import { useTemporal } from '../helpers/temporal';

describe('keep-alive schedule ids', () => {
  const env = useTemporal();
  const exists = async (scheduleId: string): Promise<boolean> =>
    env.client.schedule.getHandle(scheduleId).describe().then(() => true, (err: unknown) => {
      if (err instanceof ScheduleNotFoundError) return false;
      throw err;
    });
  const keep = (profile: string, deployment: string, taskQueue: string): Promise<string> =>
    createKeepAliveSchedule(env.client, { profile, deployment, everyHours: 24, taskQueue, runName: 'ids' });

  it('gives two pairs whose old ids were the same a schedule each, deleted apart', async () => {
    const tag = randomUUID().slice(0, 8);
    const taskQueue = env.taskQueue();
    const a = await keep(`prod-${tag}`, 'support-v1', taskQueue);
    const b = await keep('prod', `${tag}-support-v1`, taskQueue);
    assert.notEqual(a, b);
    assert.equal(await deleteKeepAliveSchedule(env.client, 'prod', `${tag}-support-v1`), true);
    assert.deepEqual([await exists(a), await exists(b)], [true, false], 'only its own schedule is deleted');
    assert.equal(await deleteKeepAliveSchedule(env.client, `prod-${tag}`, 'support-v1'), true);
    assert.equal(await exists(a), false);
  });

  it('keeps and deletes a schedule made under the legacy id as its pair\'s, and leaves another pair\'s alone', async () => {
    const tag = randomUUID().slice(0, 8);
    const taskQueue = env.taskQueue();
    const legacyId = `ftpipe-keepalive-prod-${tag}-support-v1`;
    // As createKeepAliveSchedule made it before: the id `<profile>-<deployment>`, the pair in the memo.
    await env.client.schedule.create({
      scheduleId: legacyId,
      spec: { intervals: [{ every: '24 hours' }] },
      action: { type: 'startWorkflow', workflowType: KEEP_ALIVE_WORKFLOW_TYPE, taskQueue, workflowId: legacyId, args: [{ profile: `prod-${tag}`, deployment: 'support-v1' }] },
      memo: { ftpipeSchedule: { profile: `prod-${tag}`, deployment: 'support-v1', everyHours: 24 } },
    });
    assert.equal(await keep(`prod-${tag}`, 'support-v1', taskQueue), legacyId, 'a retry after the upgrade keeps the schedule it made');
    assert.equal(await exists(keepAliveScheduleId(`prod-${tag}`, 'support-v1')), false, 'and makes no second one');
    assert.equal(await deleteKeepAliveSchedule(env.client, 'prod', `${tag}-support-v1`), false, 'the other pair of that id has no schedule to delete');
    assert.equal(await exists(legacyId), true);
    assert.equal(await deleteKeepAliveSchedule(env.client, `prod-${tag}`, 'support-v1'), true);
    assert.equal(await exists(legacyId), false);
  });
});
