/** `ftpipe schedule create|list|describe|pause|unpause|trigger|delete`: scheduled retraining on Temporal Schedules. */
import type { Command } from 'commander';
import {
  FtpipeSchedules,
  OVERLAP_POLICIES,
  PIPELINE_WORKFLOW_TYPE,
  parseDurationOption,
  ScheduleOptionsError,
  type OverlapPolicy,
  type ScheduleDetails,
  type ScheduleListEntry,
} from '../../client';
import { PipelineInputError } from '../../pipeline/input';
import { connect, withConnectionFlags, type ConnectionFlags } from '../connection';
import { usageError } from '../usage';
import { checkPipelineInput, readPipelineSource } from './runs';

/** On the command line the policies are spelled with dashes (`buffer-one`). */
const OVERLAP_FLAGS = OVERLAP_POLICIES.map((p) => p.replace(/_/g, '-'));

function overlapFromFlag(flag: string): OverlapPolicy {
  const policy = OVERLAP_POLICIES[OVERLAP_FLAGS.indexOf(flag)];
  if (!policy) throw usageError(`--overlap: "${flag}" is not one of ${OVERLAP_FLAGS.join(', ')}`);
  return policy;
}

/** The client's errors name its options (`cron: ...`); on the command line they are flags (`--cron: ...`). */
const FLAG_OF: Record<string, string> = { cron: '--cron', every: '--every', catchupWindow: '--catchup-window', overlap: '--overlap' };
function asFlags(message: string): string {
  return message.replace(/^(\w+): /, (whole, option: string) => (FLAG_OF[option] ? `${FLAG_OF[option]}: ` : whole));
}

async function withSchedules<T>(flags: ConnectionFlags, use: (schedules: FtpipeSchedules) => Promise<T>): Promise<T> {
  const client = await connect(flags);
  try {
    return await use(new FtpipeSchedules(client));
  } finally {
    await client.close();
  }
}

function specLine(spec: ScheduleListEntry['spec']): string {
  return spec.cron ? `cron ${spec.cron}` : spec.every ? `every ${spec.every}` : '-';
}

function formatSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

export function formatSchedule(d: ScheduleDetails): string {
  const lines = [
    `schedule ${d.name} (${d.scheduleId}): ${specLine(d.spec)}, ${d.paused ? 'PAUSED' : 'active'}${d.note ? ` (note: ${d.note})` : ''}`,
    `  runs: workflow type ${PIPELINE_WORKFLOW_TYPE}, task queue ${d.taskQueue}, workflow ids ${d.workflowIdPrefix}-<time>, run name ${d.input.runName}`,
    `  policies: overlap ${d.policies.overlap.replace(/_/g, '-')}, catch-up window ${formatSeconds(d.policies.catchupWindowMs)}, pause on failure ${d.policies.pauseOnFailure ? 'yes' : 'no'}`,
    `  started ${d.counts.started}, skipped (overlap) ${d.counts.skippedOverlap}, missed (catch-up window) ${d.counts.missedCatchupWindow}`,
  ];
  for (const t of d.nextRunTimes.slice(0, 3)) lines.push(`  next run: ${t.toISOString()}`);
  for (const r of d.recentRuns.slice(-5)) lines.push(`  recent run: ${r.startedAt.toISOString()} ${r.workflowId}${d.runningWorkflowIds.includes(r.workflowId) ? ' (running)' : ''}`);
  return lines.join('\n');
}

export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('Scheduled retraining: Temporal Schedules that start pipeline runs');

  withConnectionFlags(schedule.command('create <name>'))
    .description('Create a schedule that starts a run of the pipeline file on a cron expression or an interval')
    .option('--cron <expr>', 'cron expression, e.g. "0 3 * * MON" (UTC)')
    .option('--every <duration>', 'interval, e.g. 30m, 6h, 7d')
    .requiredOption('--config <pipeline-file>', 'the pipeline file (YAML or JSON workflow input) each run starts with')
    .option('--overlap <policy>', `when a run falls due while the previous one is open: ${OVERLAP_FLAGS.join(', ')}`, 'skip')
    .option('--catchup-window <duration>', 'how late a missed run may still start', '1h')
    .option('--no-pause-on-failure', 'keep the schedule going when one of its runs fails')
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note shown with the schedule')
    .option('--task-queue <name>', 'task queue of the runs (default fine-tuning)')
    .action(async (name: string, opts: ConnectionFlags & { cron?: string; every?: string; config: string; overlap: string; catchupWindow: string; pauseOnFailure: boolean; paused?: boolean; note?: string; taskQueue?: string }) => {
      if ((opts.cron === undefined) === (opts.every === undefined)) throw usageError('give exactly one of --cron <expr> and --every <duration>');
      const overlap = overlapFromFlag(opts.overlap);
      try {
        if (opts.every !== undefined) parseDurationOption('--every', opts.every);
        parseDurationOption('--catchup-window', opts.catchupWindow);
      } catch (err) {
        throw usageError((err as Error).message);
      }
      const pipeline = readPipelineSource(opts.config);
      checkPipelineInput(pipeline);
      const { input } = pipeline;
      await withSchedules(opts, async (schedules) => {
        try {
          const id = await schedules.create({
            name,
            ...(opts.cron !== undefined ? { cron: opts.cron } : { every: opts.every! }),
            input,
            overlap,
            catchupWindow: opts.catchupWindow,
            pauseOnFailure: opts.pauseOnFailure,
            ...(opts.paused ? { paused: true } : {}),
            ...(opts.note ? { note: opts.note } : {}),
            ...(opts.taskQueue ? { taskQueue: opts.taskQueue } : {}),
          });
          const first = (await schedules.describe(name)).nextRunTimes[0];
          const when = opts.paused ? 'paused: nothing runs until ftpipe schedule unpause' : first ? `first run at ${first.toISOString()}` : 'no run time ahead';
          console.log(`created schedule ${name} (${id})${opts.paused ? ', paused' : ''}; ${when}${first && opts.paused ? ` (next time due: ${first.toISOString()})` : ''}`);
        } catch (err) {
          if (err instanceof PipelineInputError) throw usageError(`${opts.config}: ${err.issues.join('; ')}`);
          if (err instanceof ScheduleOptionsError) throw usageError(asFlags(err.message));
          throw err;
        }
      });
    });

  withConnectionFlags(schedule.command('list'))
    .description('List ftpipe\'s schedules: retraining schedules, then the keep-alive calls of promoted deployments')
    .option('--json', 'print JSON')
    .action(async (opts: ConnectionFlags & { json?: boolean }) => {
      const entries = await withSchedules(opts, (s) => s.list());
      if (opts.json) {
        console.log(JSON.stringify(entries, null, 2));
        return;
      }
      if (entries.length === 0) console.log('no schedules');
      for (const e of entries) {
        const last = e.recentRuns.at(-1);
        const keeps = e.kind === 'keepAlive' ? `  keep-alive of deployment ${e.keeps ? `${e.keeps.deployment} (profile ${e.keeps.profile})` : '(unknown)'}: removed when ftpipe retires it` : '';
        console.log(`${e.name.padEnd(24)} ${specLine(e.spec).padEnd(22)} ${(e.paused ? 'paused' : 'active').padEnd(7)} next ${e.nextRunTimes[0]?.toISOString() ?? '-'}  last ${last?.workflowId ?? '-'}${keeps}`);
      }
    });

  withConnectionFlags(schedule.command('describe <name>'))
    .description('Show a schedule: spec, state, policies, next run times and recent runs')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: ConnectionFlags & { json?: boolean }) => {
      const details = await withSchedules(opts, (s) => s.describe(name));
      console.log(opts.json ? JSON.stringify(details, null, 2) : formatSchedule(details));
    });

  withConnectionFlags(schedule.command('pause <name>'))
    .description('Pause a schedule (runs already started go on)')
    .option('--note <text>', 'why, shown with the schedule')
    .action(async (name: string, opts: ConnectionFlags & { note?: string }) => {
      await withSchedules(opts, (s) => s.pause(name, opts.note));
      console.log(`paused schedule ${name}`);
    });

  withConnectionFlags(schedule.command('unpause <name>'))
    .description('Unpause a schedule')
    .option('--note <text>', 'shown with the schedule')
    .action(async (name: string, opts: ConnectionFlags & { note?: string }) => {
      await withSchedules(opts, (s) => s.unpause(name, opts.note));
      console.log(`unpaused schedule ${name}`);
    });

  withConnectionFlags(schedule.command('trigger <name>'))
    .description('Start a run of the schedule now (its overlap policy applies unless --overlap is given)')
    .option('--overlap <policy>', `overlap policy for this run: ${OVERLAP_FLAGS.join(', ')}`)
    .action(async (name: string, opts: ConnectionFlags & { overlap?: string }) => {
      const overlap = opts.overlap !== undefined ? overlapFromFlag(opts.overlap) : undefined;
      const outcome = await withSchedules(opts, (s) => s.trigger(name, overlap));
      const open = outcome.openRunIds.join(', ') || 'none';
      const policy = outcome.policy.replace(/_/g, '-');
      if (outcome.result === 'started') console.log(`triggered schedule ${name}: started ${outcome.run?.workflowId ?? 'a run'}`);
      else if (outcome.result === 'skipped') {
        process.exitCode = 1;
        console.log(`schedule ${name}: trigger skipped by the overlap policy ${policy}: a run is open (${open}); nothing started. Wait for it, or trigger with --overlap allow-all (or buffer-one)`);
      } else if (outcome.result === 'buffered') console.log(`schedule ${name}: trigger buffered by the overlap policy ${policy}: it starts when the open run closes (${open})`);
      else console.log(`schedule ${name}: triggered, but the schedule had not acted on it yet; see ftpipe schedule describe ${name}`);
    });

  withConnectionFlags(schedule.command('delete <name>'))
    .description('Delete a schedule (runs it started are left alone)')
    .action(async (name: string, opts: ConnectionFlags) => {
      await withSchedules(opts, (s) => s.delete(name));
      console.log(`deleted schedule ${name}`);
    });
}
