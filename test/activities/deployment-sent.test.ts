/**
 * createDeployment's final failures say whether the activity had sent its create (`details: [{sent}]`), so a run
 * deletes a deployment it made and leaves one of that name it did not (workflows/post-training.ts, a copy's deploy).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { deploymentActivities } from '../../activities/deployments';
import { NOT_DONE_YET, WAIT_LIMIT_MS } from '../../activities/waiting';
import { activityEnvironment, runActivity, startActivityTestEnv, trainedJob, type ActivityTestEnv } from './helpers';

const SWC = 'ftpipe-swc';

describe('a deployment create that fails for good says whether it sent the create (emulator)', () => {
  let t: ActivityTestEnv;
  let acts: ReturnType<typeof deploymentActivities>;
  let model: string;
  before(async () => {
    t = await startActivityTestEnv({ timings: { deploymentCreateSeconds: 600 } });
    acts = deploymentActivities(t.deps, t.azure);
    ({ model } = await trainedJob(t, SWC));
  });
  after(() => t.emu.stop());

  const failureOf = async (call: () => Promise<unknown>, env: ReturnType<typeof activityEnvironment>): Promise<ApplicationFailure> => {
    const err = await runActivity(call, [], env).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ApplicationFailure, String(err));
    return err;
  };

  it('{sent: true} after its own PUT (an earlier attempt heartbeated it), {sent: false} for a deployment of that name it found', async () => {
    // The deployment stays Creating: each attempt finds it not done.
    const scale = t.emu.control.clockScale();
    t.emu.control.setClockScale(0);
    try {
      const create = () => acts.createDeployment({ profile: SWC, name: 'sent-v1', model, type: 'GlobalStandard', capacity: 1, pollIntervalSeconds: 0.05 });
      const heartbeats: unknown[] = [];
      const first = await runActivity(create, heartbeats).then(() => undefined, (e: unknown) => e);
      assert.ok(first instanceof ApplicationFailure && first.type === NOT_DONE_YET, String(first));
      assert.deepEqual(heartbeats, [{ sent: true }], 'heartbeated before the PUT');
      const longAgo = Date.now() - WAIT_LIMIT_MS;
      const mine = await failureOf(create, activityEnvironment({ attempt: 40, scheduledTimestampMs: longAgo, heartbeatDetails: heartbeats.at(-1) }));
      assert.deepEqual([mine.type, mine.nonRetryable, mine.details], ['DeploymentTimedOut', true, [{ sent: true }]]);
      const theirs = await failureOf(create, activityEnvironment({ attempt: 40, scheduledTimestampMs: longAgo }));
      assert.deepEqual([theirs.type, theirs.details], ['DeploymentTimedOut', [{ sent: false }]], 'another activity found it there');
    } finally {
      t.emu.control.setClockScale(scale);
    }
  });
});
