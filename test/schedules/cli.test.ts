import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { format } from 'node:util';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main';
import { createKeepAliveSchedule, deleteKeepAliveSchedule, FtpipeSchedules, keepAliveScheduleId, type ScheduleDetails, type ScheduleListEntry } from '../../src/client';
import { TASK_QUEUE } from '../../src/temporal/constants';
import { runCli } from '../helpers/cli';
import { until } from '../helpers/until';
import { SAMPLE_TRAINING, usePipelineStack } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';

/**
 * Runs the CLI in this process, the same commander program `ftpipe` runs: far quicker than a child process, so most
 * steps use it; the first and last steps run the real command in a child process.
 */
async function ftpipe(args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const { log, error } = console;
  const saved = process.exitCode;
  console.log = (...parts: unknown[]) => lines.push(format(...parts));
  console.error = console.log;
  process.exitCode = undefined;
  try {
    await main(['node', 'ftpipe', ...args]);
    return { code: Number(process.exitCode ?? 0), output: lines.join('\n') };
  } finally {
    Object.assign(console, { log, error });
    process.exitCode = saved;
  }
}

function jsonOf<T>(output: string): T {
  return JSON.parse(output.slice(output.search(/[[{]/))) as T;
}

describe('ftpipe schedule on the real dev server', () => {
  const env = usePipelineStack({}, ownServer('schedules start runs on the default task queue'));

  function pipelineFile(overrides: Record<string, unknown> = {}): string {
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-schedule-'));
    copyFileSync(SAMPLE_TRAINING, join(dir, 'train.jsonl'));
    // Slow polling: a triggered run stays open while the test looks at the schedule.
    writeFileSync(join(dir, 'pipeline.yaml'), stringify({
      runName: 'weekly-bikes', profile: 'emulator', baseModel: 'gpt-4.1-mini', training: { path: 'train.jsonl' },
      polling: { queuedIntervalSeconds: 60, runningIntervalSeconds: 60, nearFinishIntervalSeconds: 60, fileIntervalSeconds: 60 },
      ...overrides,
    }));
    return join(dir, 'pipeline.yaml');
  }

  it('creates, lists, describes, pauses, unpauses, triggers and deletes a schedule', async () => {
    const address = ['--address', env.temporal.server.address];
    const name = `cli-${randomUUID().slice(0, 8)}`;
    const file = pipelineFile();
    const worker = await env.createWorker(TASK_QUEUE);
    await worker.runUntil(async () => {
      const created = await runCli(['schedule', 'create', name, '--cron', '0 3 * * MON', '--config', file, '--overlap', 'buffer-one', '--catchup-window', '10m', '--no-pause-on-failure', '--paused', ...address]);
      assert.equal(created.code, 0, created.output);
      assert.match(created.output, new RegExp(`created schedule ${name} \\(ftpipe-schedule-${name}\\), paused; paused: nothing runs until ftpipe schedule unpause \\(next time due: \\d{4}-\\d\\d-\\d\\dT03:00:00\\.000Z\\)`));

      // The schedule list is eventually consistent: wait until the schedule shows up in it.
      const schedules = new FtpipeSchedules(env.temporal.client);
      for (let i = 0; i < 50 && !(await schedules.list()).some((e) => e.name === name); i++) await sleep(200);
      // In-process runs share the console and process.exitCode: one at a time.
      const described = await ftpipe(['schedule', 'describe', name, '--json', ...address]);
      const listed = await ftpipe(['schedule', 'list', ...address]);
      assert.equal(described.code, 0, described.output);
      const d = jsonOf<ScheduleDetails>(described.output);
      assert.deepEqual(d.spec, { cron: '0 3 * * MON' });
      assert.equal(d.paused, true);
      assert.deepEqual(d.policies, { overlap: 'buffer_one', catchupWindowMs: 600_000, pauseOnFailure: false });
      assert.equal(d.input.runName, 'weekly-bikes');
      assert.deepEqual(d.input.lineage, { name });
      assert.equal((d.input.training as { path: string }).path, join(file, '..', 'train.jsonl'), 'dataset paths are made absolute');
      assert.match(listed.output, new RegExp(`^${name}\\s+cron 0 3 \\* \\* MON\\s+paused\\s+next \\d{4}-`, 'm'));

      assert.equal((await ftpipe(['schedule', 'unpause', name, ...address])).code, 0);
      assert.equal((await schedules.describe(name)).paused, false);
      const pause = await ftpipe(['schedule', 'pause', name, '--note', 'data refresh pending', ...address]);
      assert.equal(pause.code, 0, pause.output);
      const trigger = await ftpipe(['schedule', 'trigger', name, ...address]);
      assert.equal(trigger.code, 0, trigger.output);
      assert.match(trigger.output, new RegExp(`^triggered schedule ${name}: started ftpipe-${name}-\\d{4}-`));
      // buffer-one: a second trigger while that run is open waits for it; skip drops it and says so (exit 1).
      const buffered = await ftpipe(['schedule', 'trigger', name, ...address]);
      assert.match(buffered.output, new RegExp(`trigger buffered by the overlap policy buffer-one: it starts when the open run closes \\(ftpipe-${name}-`), buffered.output);
      const skipped = await ftpipe(['schedule', 'trigger', name, '--overlap', 'skip', ...address]);
      assert.equal(skipped.code, 1, skipped.output);
      assert.match(skipped.output, /trigger skipped by the overlap policy skip: a run is open \(ftpipe-.*\); nothing started\. Wait for it, or trigger with --overlap allow-all/);
      let run = '';
      for (let i = 0; i < 50 && !run; i++) {
        await sleep(200);
        run = (await schedules.describe(name)).recentRuns[0]?.workflowId ?? '';
      }
      assert.match(run, new RegExp(`^ftpipe-${name}-\\d{4}-`), 'a trigger starts a run even while the schedule is paused');
      const text = await runCli(['schedule', 'describe', name, ...address]);
      assert.match(text.output, new RegExp(`^schedule ${name} \\(ftpipe-schedule-${name}\\): cron 0 3 \\* \\* MON, PAUSED \\(note: data refresh pending\\)$`, 'm'));
      assert.match(text.output, /policies: overlap buffer-one, catch-up window 10m, pause on failure no/);
      assert.match(text.output, /next run: \d{4}-\d\d-\d\dT03:00:00\.000Z/);
      assert.match(text.output, new RegExp(`recent run: \\S+ ${run} \\(running\\)`));

      // Deleted first, so that its buffered trigger never starts.
      const deleted = await ftpipe(['schedule', 'delete', name, ...address]);
      assert.equal(deleted.code, 0, deleted.output);
      await env.temporal.client.workflow.getHandle(run).terminate('test done');
      const gone = await ftpipe(['schedule', 'describe', name, ...address]);
      assert.equal(gone.code, 1);
      assert.match(gone.output, new RegExp(`no schedule named "${name}"`));
    });
  });

  it('create --every says when the first run will be: one interval from now', async () => {
    const address = ['--address', env.temporal.server.address];
    const name = `cli-every-${randomUUID().slice(0, 8)}`;
    const before = Date.now();
    const created = await runCli(['schedule', 'create', name, '--every', '7d', '--config', pipelineFile(), ...address]);
    const after = Date.now();
    try {
      assert.equal(created.code, 0, created.output);
      const first = new RegExp(`^created schedule ${name} \\(ftpipe-schedule-${name}\\); first run at (\\S+)$`, 'm').exec(created.output)?.[1];
      assert.ok(first, created.output);
      const week = 7 * 86_400_000;
      const at = Date.parse(first);
      assert.ok(at >= before + week - 1_000 && at <= after + week + 1_000, `first run ${first} is a week after the create (${new Date(before).toISOString()})`);
    } finally {
      await ftpipe(['schedule', 'delete', name, ...address]);
    }
  });

  it('lists a promoted deployment\'s keep-alive schedule, marked as keep-alive with the deployment it keeps, until it is deleted', async () => {
    const address = ['--address', env.temporal.server.address];
    const deployment = `kept-${randomUUID().slice(0, 8)}-v1`;
    const scheduleId = keepAliveScheduleId('emulator', deployment);
    const schedules = new FtpipeSchedules(env.temporal.client);
    // Its first call is 24 hours away: the listing is what is under test.
    await createKeepAliveSchedule(env.temporal.client, { profile: 'emulator', deployment, everyHours: 24, taskQueue: env.temporal.taskQueue(), runName: 'kept-run' });
    const entry = await until(async () => (await schedules.list()).find((e) => e.scheduleId === scheduleId), 'the keep-alive schedule in the list');
    assert.deepEqual({ name: entry.name, kind: entry.kind, keeps: entry.keeps, spec: entry.spec, paused: entry.paused }, { name: scheduleId, kind: 'keepAlive', keeps: { profile: 'emulator', deployment }, spec: { every: '24h' }, paused: false });
    const listed = await ftpipe(['schedule', 'list', ...address]);
    assert.equal(listed.code, 0, listed.output);
    assert.match(listed.output, new RegExp(`^${scheduleId}\\s+every 24h\\s+active\\s+next .* keep-alive of deployment ${deployment} \\(profile emulator\\): removed when ftpipe retires it$`, 'm'));
    const json = jsonOf<ScheduleListEntry[]>((await ftpipe(['schedule', 'list', '--json', ...address])).output);
    assert.deepEqual(json.find((e) => e.scheduleId === scheduleId)?.keeps, { profile: 'emulator', deployment });
    const kinds = json.map((e) => e.kind);
    assert.deepEqual(kinds, [...kinds].sort((a, b) => (a === b ? 0 : a === 'retraining' ? -1 : 1)), 'retraining schedules first, then keep-alive ones');

    assert.equal(await deleteKeepAliveSchedule(env.temporal.client, 'emulator', deployment), true);
    await until(async () => ((await schedules.list()).some((e) => e.scheduleId === scheduleId) ? undefined : true), 'the deleted keep-alive schedule to leave the list');
  });

  it('exits 2 on bad usage and names the problem', async () => {
    const address = ['--address', env.temporal.server.address];
    const file = pipelineFile();
    const cases: [string[], RegExp][] = [
      [['--cron', '0 3 * * *', '--every', '1h', '--config', file], /exactly one of --cron <expr> and --every <duration>/],
      [['--every', 'fortnightly', '--config', file], /--every: "fortnightly" is not a duration/],
      [['--every', '1h', '--overlap', 'queue', '--config', file], /--overlap: "queue" is not one of skip, buffer-one, buffer-all, allow-all, cancel-other, terminate-other/],
      [['--cron', 'every monday', '--config', file], /--cron: /],
      [['--every', '1h', '--config', pipelineFile({ trainingType: 'Regional' })], /pipeline\.yaml:\d+: trainingType: Invalid option: expected one of "Standard"\|"Global"\|"Developer"/],
    ];
    const create = (args: string[]): string[] => ['schedule', 'create', `bad-${randomUUID().slice(0, 8)}`, ...args, ...address];
    // The first case in a child process (the real exit code), the others in this process meanwhile, one at a time.
    const spawned = runCli(create(cases[0]![0]));
    const results = [];
    for (const [args] of cases.slice(1)) results.push(await ftpipe(create(args)));
    results.unshift(await spawned);
    results.forEach((result, i) => {
      assert.equal(result.code, 2, `case ${i}: ${result.output}`);
      assert.match(result.output, cases[i]![1], `case ${i}`);
    });
  });
});
