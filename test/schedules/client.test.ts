import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { PipelineResult } from '../../src/pipeline/types';
import { FtpipeClient, FtpipeSchedules, ScheduleExistsError, ScheduleOptionsError, UnknownScheduleError, scheduleIdOf, type ScheduleDetails } from '../../src/client';
import { PipelineInputError } from '../../src/pipeline/input';
import { LINEAGE, RUN_NAME } from '../../src/temporal/search-attributes';
import { TASK_QUEUE } from '../../src/temporal/constants';
import type { FtpipeWorker } from '../../workers/worker';
import { jobsOfRun } from '../helpers/emulator-state';
import { SAMPLE_TRAINING, SAMPLE_VALIDATION, usePipelineStack } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';
import { until, within } from '../helpers/until';

/** A bound on one scheduled run (a whole pipeline on the 1000x clock), only so a broken run fails its test. */
const RUN_MS = 180_000;

/** Polls the schedule until `predicate` holds. */
async function waitForSchedule(schedules: FtpipeSchedules, name: string, predicate: (d: ScheduleDetails) => boolean, timeoutMs = 20_000): Promise<ScheduleDetails> {
  const deadline = Date.now() + timeoutMs;
  let last: ScheduleDetails | undefined;
  while (Date.now() < deadline) {
    last = await schedules.describe(name);
    if (predicate(last)) return last;
    await sleep(200);
  }
  throw new Error(`schedule ${name} never matched; last: ${JSON.stringify(last)}`);
}

/**
 * Ends a schedule and every run it started, within a bound, before the test's worker shuts down: pauses it (it starts
 * no more), deletes it, terminates its open runs (the schedule's own list of them, the server's, and `knownRunIds`),
 * and waits until the worker runs no local activity. A scheduled run left open at the worker's shutdown hung the file
 * at load 18: its join of the admission queue, a local activity, waited for an answer from the admission worker that
 * was shutting down with it (workers/worker.ts now stops that one last); no run outlives its test either way.
 */
async function endSchedule(client: Client, worker: FtpipeWorker, name: string, knownRunIds: string[] = []): Promise<void> {
  const schedules = new FtpipeSchedules(client);
  await within((async () => {
    const open = new Set(knownRunIds);
    try {
      await schedules.pause(name, 'test done');
      for (const id of (await schedules.describe(name)).runningWorkflowIds) open.add(id);
      await schedules.delete(name);
    } catch (err) {
      // A test that deleted it already (to make it anew, or to check the deletion).
      if (!(err instanceof UnknownScheduleError)) throw err;
    }
    for await (const run of client.workflow.list({ query: `TemporalScheduledById = "${scheduleIdOf(name)}" AND ExecutionStatus = "Running"` })) open.add(run.workflowId);
    await Promise.all([...open].map((id) => client.workflow.getHandle(id).terminate('test done').catch((err: unknown) => {
      // It had closed.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    })));
    // A terminated run's local activity runs on to its end.
    await until(async () => (worker.main.getStatus().numInFlightLocalActivities === 0 ? true : undefined), 'no local activity in flight');
  })(), `schedule ${name} and its runs to end`);
}

describe('schedules through the client, on the real dev server', () => {
  const env = usePipelineStack({}, ownServer('schedules start runs on the default task queue'));
  const uniqueName = (): string => `sched-${randomUUID().slice(0, 8)}`;

  it('starts a run every 2 seconds; the runs form a lineage: unchanged data is skipped, new data fine-tunes the last model', async () => {
    const ftpipe = new FtpipeClient(env.temporal.client);
    const schedules = new FtpipeSchedules(ftpipe);
    const name = uniqueName();
    // A data folder: each run reads its newest file.
    const folder = mkdtempSync(join(tmpdir(), 'ftpipe-scheduled-data-'));
    copyFileSync(SAMPLE_TRAINING, join(folder, 'week-1.jsonl'));
    const input = env.input({ suffix: 'sched', training: { path: folder } });
    const resultOf = (workflowId: string): Promise<PipelineResult> => within(env.temporal.client.workflow.getHandle(workflowId).result() as Promise<PipelineResult>, `run ${workflowId} to end`, RUN_MS);
    const worker = await env.createWorker(TASK_QUEUE);
    await worker.runUntil(async () => {
      assert.equal(await schedules.create({ name, every: '2s', input }), `ftpipe-schedule-${name}`);
      try {
        // Overlap skip: the second run starts only once the first has fine-tuned, so wait for the first run's end rather
        // than for both within 30 s (at load ~30 the first run alone took longer).
        const started = await waitForSchedule(schedules, name, (d) => d.recentRuns.length >= 1, 30_000);
        await resultOf(started.recentRuns[0]!.workflowId).catch(() => undefined);
        const described = await waitForSchedule(schedules, name, (d) => d.recentRuns.length >= 2, 30_000);
        assert.deepEqual(described.spec, { every: '2s' });
        assert.deepEqual(described.policies, { overlap: 'skip', catchupWindowMs: 3_600_000, pauseOnFailure: true });
        assert.equal(described.taskQueue, TASK_QUEUE);
        assert.equal(described.input.runName, input.runName);
        assert.deepEqual(described.input.lineage, { name }, 'the runs form a lineage named after the schedule');
        assert.ok(described.nextRunTimes.length > 0 && described.nextRunTimes[0]!.getTime() > described.recentRuns.at(-1)!.scheduledAt.getTime(), 'the next run comes after the last one');
        const [first, second] = described.recentRuns;
        assert.notEqual(first!.workflowId, second!.workflowId);
        const firstResult = await resultOf(first!.workflowId);
        assert.equal(firstResult.outcome, 'succeeded');
        assert.match(firstResult.fineTunedModel ?? '', /\.ft-/);
        // Overlap skip: the second run started only once the first had completed.
        const firstClosed = (await env.temporal.client.workflow.getHandle(first!.workflowId).describe()).closeTime;
        assert.ok(second!.startedAt.getTime() >= (firstClosed?.getTime() ?? Infinity) - 1_000);
        for (const run of [first!, second!]) {
          assert.ok(run.workflowId.startsWith(`ftpipe-${name}-`), run.workflowId);
          const attrs = (await env.temporal.client.workflow.getHandle(run.workflowId).describe()).typedSearchAttributes;
          assert.equal(attrs.get(LINEAGE), name);
          assert.equal(attrs.get(RUN_NAME), input.runName);
        }
        // Same data as the lineage's last run: the second run ends early without training.
        const skipped = await resultOf(second!.workflowId);
        assert.equal(skipped.outcome, 'skipped_no_new_data');
        assert.equal(skipped.jobId, null);

        // New data arrives (renamed into the folder whole, so no run reads half a file): the next run trains on it,
        // starting from the model the first run promoted.
        const staging = join(mkdtempSync(join(tmpdir(), 'ftpipe-staging-')), 'week-2.jsonl');
        writeFileSync(staging, `${readFileSync(SAMPLE_TRAINING, 'utf8')}${readFileSync(SAMPLE_VALIDATION, 'utf8')}`);
        utimesSync(staging, new Date(), new Date(Date.now() + 1_000));
        const arrived = Date.now();
        renameSync(staging, join(folder, 'week-2.jsonl'));
        const later = await waitForSchedule(schedules, name, (d) => d.recentRuns.some((r) => r.startedAt.getTime() > arrived));
        const next = later.recentRuns.find((r) => r.startedAt.getTime() > arrived)!;
        const nextResult = await resultOf(next.workflowId);
        assert.equal(nextResult.outcome, 'succeeded');
        const [job] = jobsOfRun(env.emulator, next.workflowId) as { model?: string }[];
        assert.equal(job?.model, firstResult.evaluation!.analysis.chosen.model, 'the new run fine-tunes the first run\'s promoted model');
      } finally {
        await endSchedule(env.temporal.client, worker, name);
      }
    });
    await assert.rejects(schedules.describe(name), UnknownScheduleError);
  });

  it('trigger starts a run now; overlap skip holds while that run is open, for ticks and triggers alike', async () => {
    const schedules = new FtpipeSchedules(env.temporal.client);
    const name = uniqueName();
    // Polls once a minute: the run stays open for the length of the test.
    const slow = { queuedIntervalSeconds: 60, runningIntervalSeconds: 60, nearFinishIntervalSeconds: 60, fileIntervalSeconds: 60 };
    const worker = await env.createWorker(TASK_QUEUE);
    // The runs of the schedule's first making, which its second does not know.
    const earlierRuns: string[] = [];
    await worker.runUntil(async () => {
      await schedules.create({ name, every: '1h', input: env.input({ polling: slow }) });
      try {
        const triggered = await schedules.trigger(name);
        assert.equal(triggered.result, 'started', JSON.stringify(triggered));
        const started = await waitForSchedule(schedules, name, (d) => d.recentRuns.length === 1 && d.runningWorkflowIds.length === 1);
        const runId = started.recentRuns[0]!.workflowId;
        earlierRuns.push(runId);
        assert.equal(triggered.run?.workflowId, runId);
        assert.deepEqual(started.runningWorkflowIds, [runId]);

        const again = await schedules.trigger(name);
        assert.deepEqual({ result: again.result, policy: again.policy, openRunIds: again.openRunIds }, { result: 'skipped', policy: 'skip', openRunIds: [runId] });
        const skipped = await waitForSchedule(schedules, name, (d) => d.counts.skippedOverlap >= 1);
        assert.equal(skipped.recentRuns.length, 1, 'a trigger while the run is open starts nothing');
        assert.deepEqual(skipped.runningWorkflowIds, [runId]);

        // The same holds for the schedule's own ticks: make it tick every second for a while.
        await schedules.delete(name);
        await schedules.create({ name, every: '1s', input: env.input({ polling: slow }) });
        const first = await waitForSchedule(schedules, name, (d) => d.recentRuns.length === 1);
        const ticked = await waitForSchedule(schedules, name, (d) => d.counts.skippedOverlap >= 2);
        assert.deepEqual(ticked.recentRuns.map((r) => r.workflowId), [first.recentRuns[0]!.workflowId]);
        assert.deepEqual(ticked.runningWorkflowIds, [first.recentRuns[0]!.workflowId]);
      } finally {
        await endSchedule(env.temporal.client, worker, name, earlierRuns);
      }
    });
  });

  it('pauses the schedule when a scheduled run fails (pause-on-failure), and not when it is turned off', async () => {
    const schedules = new FtpipeSchedules(env.temporal.client);
    const pausing = uniqueName();
    const lenient = uniqueName();
    // A profile the worker does not have: the run fails at preflight.
    const failing = env.input({ profile: 'no-such-profile' });
    const worker = await env.createWorker(TASK_QUEUE);
    await worker.runUntil(async () => {
      await schedules.create({ name: pausing, every: '1h', input: failing });
      await schedules.create({ name: lenient, every: '1h', input: failing, pauseOnFailure: false });
      try {
        await schedules.trigger(pausing);
        await schedules.trigger(lenient);
        const paused = await waitForSchedule(schedules, pausing, (d) => d.paused);
        assert.equal(paused.recentRuns.length, 1);
        // The server writes the note from the failure it stores, which the codec encrypts; the client decodes the reason.
        assert.match(paused.note ?? '', /workflow failure/);
        const failedHandle = env.temporal.client.workflow.getHandle(paused.recentRuns[0]!.workflowId);
        assert.equal((await failedHandle.describe()).status.name, 'FAILED');
        await assert.rejects(within(failedHandle.result(), 'the failed run\'s result'), (err: Error & { cause?: Error }) => /unknown Azure profile "no-such-profile"/.test(err.cause?.message ?? ''));

        const other = await waitForSchedule(schedules, lenient, (d) => d.recentRuns.length === 1 && d.runningWorkflowIds.length === 0);
        const otherRun = await env.temporal.client.workflow.getHandle(other.recentRuns[0]!.workflowId).describe();
        assert.equal(otherRun.status.name, 'FAILED');
        // The scheduler has seen the run close (it is no longer running), so it has made its pause decision.
        assert.equal(other.paused, false);
      } finally {
        await endSchedule(env.temporal.client, worker, pausing);
        await endSchedule(env.temporal.client, worker, lenient);
      }
    });
  });

  it('refuses bad options and bad input before creating anything, naming the problem', async () => {
    const schedules = new FtpipeSchedules(env.temporal.client);
    const name = uniqueName();
    const input = env.input();
    await assert.rejects(schedules.create({ name, input }), (e: Error) => e instanceof ScheduleOptionsError && /exactly one of every/.test(e.message));
    await assert.rejects(schedules.create({ name, every: '1h', cron: '0 3 * * *', input }), ScheduleOptionsError);
    await assert.rejects(schedules.create({ name, every: 'soon', input }), (e: Error) => e instanceof ScheduleOptionsError && /^every: "soon" is not a duration/.test(e.message));
    await assert.rejects(schedules.create({ name, every: '1h', catchupWindow: '0s', input }), /catchupWindow: must be longer than zero/);
    await assert.rejects(schedules.create({ name: 'has spaces', every: '1h', input }), (e: Error) => e instanceof ScheduleOptionsError && /^name: "has spaces"/.test(e.message));
    await assert.rejects(schedules.create({ name, cron: 'not a cron', input }), (e: Error) => e instanceof ScheduleOptionsError && /^cron: /.test(e.message));
    await assert.rejects(schedules.create({ name, every: '1h', input: { ...input, seed: -1 } }), (e: Error) => e instanceof PipelineInputError && e.issues.some((i) => i.startsWith('seed: ')));
    await assert.rejects(schedules.describe(name), UnknownScheduleError);

    const lineage = { name: 'support-line', skipUnchangedData: false };
    await schedules.create({ name, cron: '0 3 * * MON', input: { ...input, lineage }, paused: true, note: 'weekly', overlap: 'buffer_one', catchupWindow: '10m' });
    try {
      await assert.rejects(schedules.create({ name, every: '1h', input }), ScheduleExistsError);
      const d = await schedules.describe(name);
      assert.deepEqual(d.spec, { cron: '0 3 * * MON' });
      assert.deepEqual(d.input.lineage, lineage, 'a lineage the input names is kept');
      assert.equal(d.paused, true);
      assert.equal(d.note, 'weekly');
      assert.deepEqual(d.policies, { overlap: 'buffer_one', catchupWindowMs: 600_000, pauseOnFailure: true });
      assert.equal(d.nextRunTimes[0]!.getUTCDay(), 1);
      assert.equal(d.nextRunTimes[0]!.getUTCHours(), 3);
    } finally {
      await schedules.delete(name);
    }

    // An interval's first run is one interval after the schedule was made (Temporal alone would count from the epoch).
    const weekly = uniqueName();
    const before = Date.now();
    await schedules.create({ name: weekly, every: '7d', input, paused: true });
    try {
      const next = (await schedules.describe(weekly)).nextRunTimes[0]!.getTime();
      const week = 7 * 24 * 3600_000;
      assert.ok(next >= before + week - 1_000 && next <= Date.now() + week + 1_000, `first run ${new Date(next).toISOString()} is a week after ${new Date(before).toISOString()}`);
    } finally {
      await schedules.delete(weekly);
    }
  });
});
