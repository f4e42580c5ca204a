/**
 * `deployment.idle` on the dev server and the emulator: keepAlive schedules calls to the promoted version (each resets
 * the emulator's 15 days without calls), retiring the version deletes its schedule, and a call that finds the
 * deployment gone deletes it too; letExpire leaves the date Azure deletes it in the result, and it is gone 15 emulated
 * days after its last call.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScheduleNotFoundError } from '@temporalio/client';
import type { CognitiveServicesManagementClient } from '@azure/arm-cognitiveservices';
import { createArmClient } from '../../src/azure/clients';
import { keepAliveScheduleId, listSchedules } from '../../src/client/schedules';
import { PipelineInputError, parsePipelineInput } from '../../src/pipeline/input';
import { EMULATOR_PROFILE } from '../../src/stack/emulator-profiles';
import type { keepDeploymentAlive } from '../../workflows';
import { KEEP_ALIVE_WORKFLOW_TYPE, statusQuery } from '../../workflows/messages';
import { until } from '../helpers/until';
import { usePipelineStack } from '../helpers/pipeline';

const DAY_SECONDS = 86_400;

describe('deployment.idle input', () => {
  const base = { runName: 'r', profile: 'p', baseModel: 'gpt-4.1-mini', training: { path: 'train.jsonl' } };
  const issues = (deployment: unknown): string[] => {
    try {
      parsePipelineInput({ ...base, deployment });
      return [];
    } catch (err) {
      assert.ok(err instanceof PipelineInputError);
      return err.issues;
    }
  };

  it('takes keepAlive (with an interval under 15 days) or letExpire, naming the field at fault', () => {
    assert.deepEqual(issues({ name: 'd', idle: { policy: 'keepAlive', everyHours: 24 } }), []);
    assert.deepEqual(issues({ name: 'd', idle: { policy: 'letExpire' } }), []);
    assert.match(issues({ name: 'd', idle: { policy: 'keepAlive', everyHours: 15 * 24 } }).join(), /^deployment\.idle\.everyHours: at most 336 hours/);
    assert.match(issues({ name: 'd', idle: { policy: 'letExpire', everyHours: 24 } }).join(), /^deployment\.idle\.everyHours: applies to policy keepAlive only/);
    assert.match(issues({ name: 'd', type: 'DeveloperTier', idle: { policy: 'keepAlive' } }).join(), /^deployment\.idle\.policy: a Developer-tier deployment is deleted 24 hours after/);
    assert.match(issues({ name: 'd', idle: { policy: 'forever' } }).join(), /^deployment\.idle\.policy: /);
  });
});

describe('deployment.idle in a run', () => {
  const env = usePipelineStack();
  let arm: CognitiveServicesManagementClient;
  const exists = async (name: string): Promise<boolean> => {
    arm ??= createArmClient(env.config.profiles.find((p) => p.name === EMULATOR_PROFILE)!, env.workerEnv);
    const p = env.config.profiles.find((q) => q.name === EMULATOR_PROFILE)!;
    return arm.deployments.get(p.resourceGroup, p.account, name).then(() => true, (err: { statusCode?: number }) => {
      if (err.statusCode === 404) return false;
      throw err;
    });
  };
  const scheduleExists = (id: string): Promise<boolean> =>
    env.temporal.client.schedule.getHandle(id).describe().then(() => true, (err: unknown) => {
      if (err instanceof ScheduleNotFoundError) return false;
      throw err;
    });
  /** Triggers the schedule and returns the result of the keep-alive run it started. */
  const triggerCall = async (scheduleId: string) => {
    const handle = env.temporal.client.schedule.getHandle(scheduleId);
    const before = (await handle.describe()).info.numActionsTaken;
    await handle.trigger();
    const started = await until(async () => {
      const d = await handle.describe().catch(() => undefined);
      return d && d.info.numActionsTaken > before ? d.info.recentActions.at(-1) : undefined;
    }, 'the schedule to start its keep-alive run');
    return env.temporal.client.workflow.getHandle<typeof keepDeploymentAlive>(started.action.workflow.workflowId, started.action.workflow.firstExecutionRunId).result();
  };

  it('keepAlive: a schedule calls the promoted version, which outlives 15 days; retiring it deletes its schedule; a call that finds it gone deletes the schedule', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const name = `idle-${Date.now().toString(36)}`;
    const deployment = { name, type: 'GlobalStandard' as const, keepVersions: 0, idle: { policy: 'keepAlive' as const, everyHours: 168 } };
    await worker.runUntil(async () => {
      const first = await env.start(taskQueue, env.input({ deployment }));
      const result = await first.result();
      assert.equal(result.outcome, 'succeeded');
      const v1 = `${name}-v1`;
      const scheduleId = keepAliveScheduleId(EMULATOR_PROFILE, v1);
      const status = await first.query(statusQuery);
      assert.deepEqual(status.idle?.schedule, { id: scheduleId, everyHours: 168 });
      const schedule = await env.temporal.client.schedule.getHandle(scheduleId).describe();
      assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.workflowType, KEEP_ALIVE_WORKFLOW_TYPE);
      assert.equal(schedule.spec.intervals?.[0]?.every, 168 * 3_600_000);
      assert.ok(result.notes.some((n) => n.startsWith(`Keep-alive: schedule ${scheduleId} calls ${v1}`)), JSON.stringify(result.notes));
      assert.equal(result.ledger?.hosting[0]?.expiry.kind === 'inactivity' && result.ledger.hosting[0].expiry.keptAliveBy, scheduleId);
      assert.ok(result.ledger?.notes.some((n) => n.includes(`kept alive by schedule ${scheduleId}`)));
      // The client's schedule listing (and `ftpipe schedule list`) shows it as a keep-alive, with the version it keeps.
      const listed = await until(async () => (await listSchedules(env.temporal.client)).find((e) => e.scheduleId === scheduleId), 'the keep-alive schedule in the listing');
      assert.deepEqual([listed.kind, listed.keeps], ['keepAlive', { profile: EMULATOR_PROFILE, deployment: v1 }]);

      // Ten emulated days after the smoke test, the schedule's call; ten more, and it is still there (20 > 15 days).
      env.emulator.control.advanceClock(10 * DAY_SECONDS);
      assert.deepEqual(await triggerCall(scheduleId), { profile: EMULATOR_PROFILE, deployment: v1, outcome: 'called', scheduleDeleted: false });
      env.emulator.control.advanceClock(10 * DAY_SECONDS);
      assert.equal(await exists(v1), true, 'the keep-alive call reset the 15 days without calls');

      // A later run promotes v2 and retires v1 (keepVersions 0): v1's schedule goes with it.
      const second = await env.start(taskQueue, env.input({ deployment }));
      const next = await second.result();
      assert.deepEqual(next.deletedDeployments, [v1]);
      assert.equal(await scheduleExists(scheduleId), false, 'the retired version\'s schedule is deleted');
      await until(async () => ((await listSchedules(env.temporal.client)).some((e) => e.scheduleId === scheduleId) ? undefined : true), 'the retired version\'s schedule to leave the listing');
      const v2Schedule = keepAliveScheduleId(EMULATOR_PROFILE, `${name}-v2`);
      assert.equal(await scheduleExists(v2Schedule), true);

      // Without a call for 16 emulated days, Azure deletes v2; the next scheduled call finds it gone and deletes the schedule.
      env.emulator.control.advanceClock(16 * DAY_SECONDS);
      assert.equal(await exists(`${name}-v2`), false, 'gone after 15 days without calls');
      assert.deepEqual(await triggerCall(v2Schedule), { profile: EMULATOR_PROFILE, deployment: `${name}-v2`, outcome: 'gone', scheduleDeleted: true });
      assert.equal(await scheduleExists(v2Schedule), false);
    });
  });

  it('letExpire: the result and the ledger give the date Azure deletes the version if unused, and no schedule calls it', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const name = `expire-${Date.now().toString(36)}`;
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ deployment: { name, type: 'GlobalStandard', idle: { policy: 'letExpire' } } }));
      const result = await handle.result();
      const v1 = `${name}-v1`;
      const { idle } = await handle.query(statusQuery);
      assert.ok(idle && idle.policy === 'letExpire' && idle.schedule === null);
      assert.equal(Date.parse(idle.deletedIfUnusedAt) - Date.parse(idle.lastCalledAt), 15 * DAY_SECONDS * 1000);
      assert.ok(result.notes.some((n) => n === `Left to expire (deployment.idle letExpire): Azure deletes ${v1} (profile ${EMULATOR_PROFILE}) at ${idle.deletedIfUnusedAt} unless something calls it first (15 days after its last call, ${idle.lastCalledAt}).`), JSON.stringify(result.notes));
      const line = result.ledger?.hosting.find((h) => h.name === v1);
      assert.equal(line?.expiry.kind === 'inactivity' && line.expiry.unusedUntil, idle.deletedIfUnusedAt);
      assert.ok(result.ledger?.notes.some((n) => n.startsWith(`${v1}: left to expire: Azure deletes it at ${idle.deletedIfUnusedAt}`) && /at most \$\d+\.\d\d in all if unused/.test(n)), JSON.stringify(result.ledger?.notes));
      assert.equal(await scheduleExists(keepAliveScheduleId(EMULATOR_PROFILE, v1)), false);
      env.emulator.control.advanceClock(14 * DAY_SECONDS);
      assert.equal(await exists(v1), true);
      env.emulator.control.advanceClock(2 * DAY_SECONDS);
      assert.equal(await exists(v1), false, 'Azure deleted it 15 days after its last call');
    });
  });
});
