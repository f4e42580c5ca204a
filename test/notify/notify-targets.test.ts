/**
 * The notify activity on its own (a mock activity context, a local receiver, no server): a target that takes only
 * other events is skipped, and the others keep their place in the input's `notify` in errors and delivery ids.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { notifyActivities } from '../../activities/notify';
import { createLogger } from '../../src/logging';
import type { RunNotice } from '../../src/notify/message';
import { parsePipelineInput } from '../../src/pipeline/input';
import { runActivity } from '../activities/helpers';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver';

const NOTICE: RunNotice = {
  event: 'failed', runName: 'targets', workflowId: 'ftpipe-targets', runId: 'run-1', namespace: 'default', stage: 'failed', at: '2026-12-03T00:00:00.000Z',
  outcome: null, jobId: null, fineTunedModel: null, reason: 'test', chosenCheckpoint: null, scores: [], deployments: [],
};

describe('notify targets', () => {
  let receiver: HttpReceiver<Record<string, unknown>>;
  before(async () => {
    receiver = await startHttpReceiver({ status: (path) => (path === '/dead' ? 500 : 200) });
  });
  after(() => receiver?.close());

  it('names a failed target by its place in the input\'s notify, past targets of other events', async () => {
    const { notify } = parsePipelineInput({
      runName: 'targets', profile: 'p', baseModel: 'gpt-4.1-mini', training: { path: 'a.jsonl' },
      notify: [{ url: `${receiver.url}/approvals`, events: ['awaiting_approval'] }, { url: `${receiver.url}/ok` }, { url: `${receiver.url}/dead` }],
    });
    const activities = notifyActivities({ config: { profiles: [] }, logger: createLogger({ level: 'silent' }), version: 'test', env: {} });
    await assert.rejects(runActivity(() => activities.notifyRun({ notice: NOTICE, targets: notify })), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.message, 'notification failed not delivered: notify[2]: HTTP 500');
      return true;
    });
    assert.deepEqual(receiver.received.map((r) => [r.path, r.headers['x-ftpipe-delivery']]), [
      ['/ok', 'ftpipe-targets/run-1/failed/1'],
      ['/dead', 'ftpipe-targets/run-1/failed/2'],
    ]);
  });
});
