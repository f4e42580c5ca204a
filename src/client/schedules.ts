/**
 * Scheduled retraining on Temporal Schedules: a named schedule starts a pipeline run from one input on a cron
 * expression or an interval, with an overlap policy, a catch-up window and pause-on-failure.
 *
 *   const schedules = new FtpipeSchedules(ftpipe);          // or the functions below with a Temporal Client
 *   await schedules.create({ name: 'support-weekly', cron: '0 3 * * MON', input });
 *   const details = await schedules.describe('support-weekly');
 *
 * Schedule ids are `ftpipe-schedule-<name>`; the runs' workflow ids are `ftpipe-<name>-<time>` (Temporal appends the
 * scheduled time). The runs form a lineage (the input's `lineage`, else `{ name: <name> }`: each run continues from the
 * lineage's latest promoted model and skips unchanged data) and carry the search attributes FtpipeLineage and FtpipeRunName.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleExecutionResult, type ScheduleHandle } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import { isRunName, parsePipelineInput, type PipelineInputDraft } from '../pipeline/input';
import { TASK_QUEUE } from '../temporal/constants';
import { LINEAGE, startingSearchAttributes } from '../temporal/search-attributes';
import { KEEP_ALIVE_WORKFLOW_TYPE, PIPELINE_WORKFLOW_TYPE } from '../../workflows/messages';

const SCHEDULE_ID_PREFIX = 'ftpipe-schedule-';
/** The memo key under which a schedule keeps its spec as the user wrote it (Temporal turns cron into calendars). */
const MEMO_KEY = 'ftpipeSchedule';

export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'buffer_all', 'allow_all', 'cancel_other', 'terminate_other'] as const;
/** What happens when a run is due while the schedule's previous run is still open. */
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

const TO_TEMPORAL: Record<OverlapPolicy, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  buffer_all: ScheduleOverlapPolicy.BUFFER_ALL,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
  terminate_other: ScheduleOverlapPolicy.TERMINATE_OTHER,
};

export interface CreateScheduleOptions {
  /** Letters, digits, `.`, `_`, `-`; the schedule id is `ftpipe-schedule-<name>`. */
  name: string;
  /** An interval such as `2s`, `6h`, `7 days` (exactly one of `every` and `cron`). */
  every?: string | number;
  /** A cron expression such as `0 3 * * MON` (Temporal's cron syntax, UTC). */
  cron?: string;
  /** The pipeline input every run starts with; validated first (errors name the field). Without a `lineage`, the
   * runs get `lineage: { name }` (the schedule's name). */
  input: PipelineInputDraft;
  /** Default `skip`: a run that falls due while the previous one is open is not started. */
  overlap?: OverlapPolicy;
  /** How late a missed run (server down, schedule paused) may still start; default `1 hour`. */
  catchupWindow?: string | number;
  /** Pause the schedule when one of its runs fails or times out; default true. */
  pauseOnFailure?: boolean;
  paused?: boolean;
  note?: string;
  /** Task queue of the runs; default `fine-tuning`. */
  taskQueue?: string;
}

/** The schedule's spec as it was given. */
export interface ScheduleSpecText {
  every?: string;
  cron?: string;
}

export interface ScheduledRun {
  workflowId: string;
  runId: string;
  scheduledAt: Date;
  startedAt: Date;
}

export interface ScheduleListEntry {
  /** A retraining schedule's name; a keep-alive schedule's id (it has no name of its own). */
  name: string;
  scheduleId: string;
  /** `retraining`: starts pipeline runs (`ftpipe schedule create`); `keepAlive`: calls a promoted deployment so that
   * Azure does not delete it after 15 days without calls (`deployment.idle: keepAlive`; removed with the deployment). */
  kind: 'retraining' | 'keepAlive';
  /** The deployment a keep-alive schedule keeps (kind `keepAlive`). */
  keeps?: { profile: string; deployment: string };
  spec: ScheduleSpecText;
  paused: boolean;
  note: string | undefined;
  nextRunTimes: Date[];
  recentRuns: ScheduledRun[];
}

export interface ScheduleDetails extends ScheduleListEntry {
  policies: { overlap: OverlapPolicy; catchupWindowMs: number; pauseOnFailure: boolean };
  taskQueue: string;
  /** The workflow id prefix of the runs (Temporal appends the scheduled time). */
  workflowIdPrefix: string;
  input: PipelineInputDraft;
  /** Runs started by the schedule that are still open. */
  runningWorkflowIds: string[];
  counts: { started: number; skippedOverlap: number; missedCatchupWindow: number };
  createdAt: Date;
}

/** The options do not describe a valid schedule (the message names the option). */
export class ScheduleOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleOptionsError';
  }
}

export class UnknownScheduleError extends Error {
  constructor(readonly scheduleName: string) {
    super(`no schedule named "${scheduleName}" (schedule id ${scheduleIdOf(scheduleName)})`);
    this.name = 'UnknownScheduleError';
  }
}

export class ScheduleExistsError extends Error {
  constructor(readonly scheduleName: string) {
    super(`a schedule named "${scheduleName}" already exists; delete it first or pick another name`);
    this.name = 'ScheduleExistsError';
  }
}

export function scheduleIdOf(name: string): string {
  return `${SCHEDULE_ID_PREFIX}${name}`;
}

export function scheduleWorkflowIdPrefix(name: string): string {
  return `ftpipe-${name}`;
}

/** A Temporal client, or anything that carries one (an `FtpipeClient`), without importing the client module back. */
type ClientLike = Client | { readonly client: Client };

function temporalClient(client: ClientLike): Client {
  return 'schedule' in client ? client : client.client;
}

/** Milliseconds of a duration such as `2s`, `1 hour` or a number of milliseconds; the message names the option. */
export function parseDurationOption(option: string, value: string | number): number {
  // ms() reads a bare number as milliseconds, so "--every 3" would ask for 3 ms, which the server refuses as "too small".
  if (typeof value === 'string' && /^\s*[\d.]+\s*$/.test(value)) throw new ScheduleOptionsError(`${option}: "${value}" has no unit (examples: 30s, 15m, 6h, 7d, "1 hour")`);
  let millis: number;
  try {
    millis = msToNumber(value as Parameters<typeof msToNumber>[0]);
  } catch {
    throw new ScheduleOptionsError(`${option}: "${String(value)}" is not a duration (examples: 30s, 15m, 6h, 7d, "1 hour")`);
  }
  if (!(millis > 0)) throw new ScheduleOptionsError(`${option}: must be longer than zero`);
  return millis;
}

function checkName(name: string): void {
  if (!isRunName(name)) {
    throw new ScheduleOptionsError(`name: "${name}" must be letters, digits, ".", "_" or "-", starting with a letter or digit, at most 100`);
  }
}

function specText(memo: Record<string, unknown> | undefined): ScheduleSpecText {
  const stored = memo?.[MEMO_KEY];
  if (!stored || typeof stored !== 'object') return {};
  const { every, cron } = stored as Record<string, unknown>;
  return { ...(typeof every === 'string' ? { every } : {}), ...(typeof cron === 'string' ? { cron } : {}) };
}

function runsOf(actions: ScheduleExecutionResult[]): ScheduledRun[] {
  return actions.map((a) => ({ workflowId: a.action.workflow.workflowId, runId: a.action.workflow.firstExecutionRunId, scheduledAt: a.scheduledAt, startedAt: a.takenAt }));
}

async function withHandle<T>(client: ClientLike, name: string, use: (handle: ScheduleHandle) => Promise<T>): Promise<T> {
  try {
    return await use(temporalClient(client).schedule.getHandle(scheduleIdOf(name)));
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new UnknownScheduleError(name);
    throw err;
  }
}

/** Validates the options and the input, then creates the schedule. Returns the schedule id. */
export async function createSchedule(client: ClientLike, options: CreateScheduleOptions): Promise<string> {
  checkName(options.name);
  if ((options.every === undefined) === (options.cron === undefined)) throw new ScheduleOptionsError('give exactly one of every (an interval) and cron (an expression)');
  const everyMs = options.every !== undefined ? parseDurationOption('every', options.every) : undefined;
  if (options.cron !== undefined && options.cron.trim() === '') throw new ScheduleOptionsError('cron: empty expression');
  const catchupWindowMs = parseDurationOption('catchupWindow', options.catchupWindow ?? '1 hour');
  const overlap = options.overlap ?? 'skip';
  if (!OVERLAP_POLICIES.includes(overlap)) throw new ScheduleOptionsError(`overlap: "${String(overlap)}" is not one of ${OVERLAP_POLICIES.join(', ')}`);
  const parsed = parsePipelineInput(options.input);
  // A schedule's runs form a lineage, named after the schedule unless the input names one.
  const input: PipelineInputDraft = options.input.lineage ? options.input : { ...options.input, lineage: { name: options.name } };
  const lineage = parsed.lineage?.name ?? options.name;
  const scheduleId = scheduleIdOf(options.name);
  const spec: ScheduleSpecText = options.every !== undefined ? { every: typeof options.every === 'number' ? `${options.every}ms` : options.every } : { cron: options.cron! };
  try {
    await temporalClient(client).schedule.create({
      scheduleId,
      // Temporal counts intervals from the Unix epoch (`every: 7d` alone fires on Thursdays at 00:00 UTC); the offset
      // makes the first run one interval from now, as "every 7d" reads.
      spec: everyMs !== undefined ? { intervals: [{ every: everyMs, offset: Date.now() % everyMs }] } : { cronExpressions: [options.cron!] },
      action: {
        type: 'startWorkflow',
        workflowType: PIPELINE_WORKFLOW_TYPE,
        taskQueue: options.taskQueue ?? TASK_QUEUE,
        workflowId: scheduleWorkflowIdPrefix(options.name),
        args: [input],
        typedSearchAttributes: [{ key: LINEAGE, value: lineage }, ...startingSearchAttributes(parsed)],
        staticSummary: `Scheduled run of "${options.name}": fine-tune ${parsed.baseModel} (profile ${parsed.profile})`,
        staticDetails: `Started by ftpipe schedule "${options.name}" (${spec.every ? `every ${spec.every}` : `cron ${spec.cron}`}); run name "${parsed.runName}", lineage "${lineage}".`,
      },
      policies: { overlap: TO_TEMPORAL[overlap], catchupWindow: catchupWindowMs, pauseOnFailure: options.pauseOnFailure ?? true },
      state: { ...(options.paused !== undefined ? { paused: options.paused } : {}), ...(options.note !== undefined ? { note: options.note } : {}) },
      memo: { [MEMO_KEY]: { name: options.name, ...spec } },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) throw new ScheduleExistsError(options.name);
    // The SDK raises a TypeError for a spec the server refuses, e.g. a malformed cron expression.
    if (err instanceof TypeError) throw new ScheduleOptionsError(`${options.cron !== undefined ? 'cron' : 'every'}: ${err.message}`);
    throw err;
  }
  return scheduleId;
}

/** What a keep-alive schedule's memo says it keeps (createKeepAliveSchedule writes it), or undefined. */
function keepAliveMemo(memo: Record<string, unknown> | undefined): { keeps: NonNullable<ScheduleListEntry['keeps']>; spec: ScheduleSpecText } | undefined {
  const stored = memo?.[MEMO_KEY];
  if (!stored || typeof stored !== 'object') return undefined;
  const { profile, deployment, everyHours } = stored as Record<string, unknown>;
  if (typeof profile !== 'string' || typeof deployment !== 'string') return undefined;
  return { keeps: { profile, deployment }, spec: typeof everyHours === 'number' ? { every: `${everyHours}h` } : {} };
}

/**
 * ftpipe's schedules: the retraining schedules (id prefix `ftpipe-schedule-`), then the promoted deployments'
 * keep-alive schedules (`ftpipe-keepalive-`, kind `keepAlive`, with the deployment each keeps). The list is
 * eventually consistent.
 */
export async function listSchedules(client: ClientLike): Promise<ScheduleListEntry[]> {
  const entries: ScheduleListEntry[] = [];
  for await (const s of temporalClient(client).schedule.list()) {
    const state = { paused: s.state.paused, note: s.state.note || undefined, nextRunTimes: s.info.nextActionTimes, recentRuns: runsOf(s.info.recentActions) };
    if (s.scheduleId.startsWith(SCHEDULE_ID_PREFIX)) {
      entries.push({ name: s.scheduleId.slice(SCHEDULE_ID_PREFIX.length), scheduleId: s.scheduleId, kind: 'retraining', spec: specText(s.memo), ...state });
    } else if (s.scheduleId.startsWith(KEEP_ALIVE_SCHEDULE_PREFIX)) {
      const memo = keepAliveMemo(s.memo);
      entries.push({ name: s.scheduleId, scheduleId: s.scheduleId, kind: 'keepAlive', ...(memo ? { keeps: memo.keeps } : {}), spec: memo?.spec ?? {}, ...state });
    }
  }
  return entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'retraining' ? -1 : 1));
}

function overlapOf(policy: ScheduleDescription['policies']['overlap']): OverlapPolicy {
  const found = OVERLAP_POLICIES.find((p) => TO_TEMPORAL[p] === policy);
  // The server reports an unset policy as unspecified, which it treats as skip.
  return found ?? 'skip';
}

export async function describeSchedule(client: ClientLike, name: string): Promise<ScheduleDetails> {
  const d = await withHandle(client, name, (h) => h.describe());
  return {
    name,
    scheduleId: d.scheduleId,
    kind: 'retraining',
    spec: specText(d.memo),
    paused: d.state.paused,
    note: d.state.note || undefined,
    nextRunTimes: d.info.nextActionTimes,
    recentRuns: runsOf(d.info.recentActions),
    policies: { overlap: overlapOf(d.policies.overlap), catchupWindowMs: d.policies.catchupWindow, pauseOnFailure: d.policies.pauseOnFailure },
    taskQueue: d.action.taskQueue,
    workflowIdPrefix: d.action.workflowId,
    input: d.action.args?.[0] as PipelineInputDraft,
    runningWorkflowIds: d.info.runningActions.map((a) => a.workflow.workflowId),
    counts: { started: d.info.numActionsTaken, skippedOverlap: d.info.numActionsSkippedOverlap, missedCatchupWindow: d.info.numActionsMissedCatchupWindow },
    createdAt: d.info.createdAt,
  };
}

export function pauseSchedule(client: ClientLike, name: string, note?: string): Promise<void> {
  return withHandle(client, name, (h) => h.pause(note ?? 'paused through ftpipe'));
}

export function unpauseSchedule(client: ClientLike, name: string, note?: string): Promise<void> {
  return withHandle(client, name, (h) => h.unpause(note ?? 'unpaused through ftpipe'));
}

/** What a trigger did, once the schedule has acted on it. */
export interface TriggerOutcome {
  /** `started`: a run started; `skipped`: the overlap policy dropped it (a run was open); `buffered`: it starts when the
   * open run closes; `pending`: the schedule had not acted on it within the wait. */
  result: 'started' | 'skipped' | 'buffered' | 'pending';
  policy: OverlapPolicy;
  /** The run it started (result `started`). */
  run: ScheduledRun | null;
  /** The schedule's runs open when it was triggered (why it was skipped or buffered). */
  openRunIds: string[];
}

interface ScheduleCounters {
  taken: number;
  skipped: number;
  buffered: number;
}

function countersOf(d: ScheduleDescription): ScheduleCounters {
  return { taken: d.info.numActionsTaken, skipped: d.info.numActionsSkippedOverlap, buffered: Number(d.raw.info?.bufferSize ?? 0) };
}

/**
 * Starts a run now; the overlap policy (the schedule's unless given) decides whether it starts while a run is open.
 * Waits (up to `waitMs`, default 10 s) until the schedule has acted on the trigger, and says what it did.
 */
export function triggerSchedule(client: ClientLike, name: string, overlap?: OverlapPolicy, waitMs = 10_000): Promise<TriggerOutcome> {
  return withHandle(client, name, async (h) => {
    const before = await h.describe();
    // The SDK's trigger defaults to allow-all, which would also leave the run out of the schedule's overlap and
    // pause-on-failure tracking; apply the schedule's own policy, as `temporal schedule trigger` does.
    const policy = overlap ?? overlapOf(before.policies.overlap);
    const openRunIds = before.info.runningActions.map((a) => a.workflow.workflowId);
    const was = countersOf(before);
    await h.trigger(TO_TEMPORAL[policy]);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const now = await h.describe();
      const counters = countersOf(now);
      if (counters.taken > was.taken) {
        const started = runsOf(now.info.recentActions).sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0] ?? null;
        return { result: 'started', policy, run: started, openRunIds };
      }
      if (counters.skipped > was.skipped) return { result: 'skipped', policy, run: null, openRunIds };
      if (counters.buffered > was.buffered) return { result: 'buffered', policy, run: null, openRunIds };
      if (Date.now() >= deadline) return { result: 'pending', policy, run: null, openRunIds };
      await sleep(200);
    }
  });
}

/** Deletes the schedule; runs it started are left alone. */
export function deleteSchedule(client: ClientLike, name: string): Promise<void> {
  return withHandle(client, name, (h) => h.delete());
}

/** Keep-alive schedules (`deployment.idle: keepAlive`) have their own id prefix: `ftpipe schedule list` marks them apart. */
export const KEEP_ALIVE_SCHEDULE_PREFIX = 'ftpipe-keepalive-';

/**
 * `ftpipe-keepalive-<profile>/<deployment>`. A deployment name has no `/` (Azure: letters, digits, `-`, `_`, `.`),
 * so no two (profile, deployment) pairs share an id, whatever the profile is called.
 */
export function keepAliveScheduleId(profile: string, deployment: string): string {
  return `${KEEP_ALIVE_SCHEDULE_PREFIX}${profile}/${deployment}`;
}

/**
 * The id keep-alive schedules had before: `<profile>-<deployment>`, which two pairs could share (profile `prod-eu` with
 * deployment `support-v1`, profile `prod` with `eu-support-v1`). Such a schedule is the pair's only when its memo says so.
 */
function legacyKeepAliveScheduleId(profile: string, deployment: string): string {
  return `${KEEP_ALIVE_SCHEDULE_PREFIX}${profile}-${deployment}`;
}

/** The handle of the pair's schedule under its legacy id, when there is one and it keeps this very pair. */
async function legacyKeepAliveSchedule(client: Client, profile: string, deployment: string): Promise<ScheduleHandle | undefined> {
  const handle = client.schedule.getHandle(legacyKeepAliveScheduleId(profile, deployment));
  try {
    const keeps = keepAliveMemo((await handle.describe()).memo)?.keeps;
    return keeps?.profile === profile && keeps.deployment === deployment ? handle : undefined;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

export interface KeepAliveScheduleOptions {
  profile: string;
  deployment: string;
  everyHours: number;
  /** The worker's task queue, which runs `keepDeploymentAlive` and its call. */
  taskQueue: string;
  /** The run that promoted the deployment (in the schedule's details). */
  runName: string;
}

/**
 * Creates the schedule that calls a promoted deployment every `everyHours` (workflow `keepDeploymentAlive`), so Azure's
 * deletion after 15 days without calls does not come. Idempotent: an existing schedule of the same id is kept (a retry,
 * or a re-run that promoted the same name), and its id returned; so is one of this deployment under its legacy id.
 */
export async function createKeepAliveSchedule(client: ClientLike, options: KeepAliveScheduleOptions): Promise<string> {
  const scheduleId = keepAliveScheduleId(options.profile, options.deployment);
  const everyMs = options.everyHours * 3_600_000;
  const legacy = await legacyKeepAliveSchedule(temporalClient(client), options.profile, options.deployment);
  if (legacy) return legacy.scheduleId;
  try {
    await temporalClient(client).schedule.create({
      scheduleId,
      // First call one interval from now (the smoke test has just called it), as for `every` schedules above.
      spec: { intervals: [{ every: everyMs, offset: Date.now() % everyMs }] },
      action: {
        type: 'startWorkflow',
        workflowType: KEEP_ALIVE_WORKFLOW_TYPE,
        taskQueue: options.taskQueue,
        workflowId: scheduleId,
        args: [{ profile: options.profile, deployment: options.deployment }],
        staticSummary: `Keep-alive call to deployment ${options.deployment} (profile ${options.profile})`,
        staticDetails: `One chat completion every ${options.everyHours} h, so that Azure does not delete the deployment after 15 days without calls (deployment.idle keepAlive of run "${options.runName}"). Deleted when ftpipe retires the deployment, or when a call finds it gone.`,
      },
      // A call missed while the server was down is still worth making within the interval; failures do not pause it.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: everyMs, pauseOnFailure: false },
      memo: { [MEMO_KEY]: { profile: options.profile, deployment: options.deployment, everyHours: options.everyHours } },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  return scheduleId;
}

/** Deletes a deployment's keep-alive schedule (under its id, or its legacy id); false when there was none. */
export async function deleteKeepAliveSchedule(client: ClientLike, profile: string, deployment: string): Promise<boolean> {
  const temporal = temporalClient(client);
  let deleted = false;
  try {
    await temporal.schedule.getHandle(keepAliveScheduleId(profile, deployment)).delete();
    deleted = true;
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  const legacy = await legacyKeepAliveSchedule(temporal, profile, deployment);
  if (!legacy) return deleted;
  try {
    await legacy.delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return deleted;
    throw err;
  }
}

/** The same operations bound to one client: `new FtpipeSchedules(ftpipe).create({...})`. */
export class FtpipeSchedules {
  constructor(private readonly client: ClientLike) {}

  create(options: CreateScheduleOptions): Promise<string> {
    return createSchedule(this.client, options);
  }

  list(): Promise<ScheduleListEntry[]> {
    return listSchedules(this.client);
  }

  describe(name: string): Promise<ScheduleDetails> {
    return describeSchedule(this.client, name);
  }

  pause(name: string, note?: string): Promise<void> {
    return pauseSchedule(this.client, name, note);
  }

  unpause(name: string, note?: string): Promise<void> {
    return unpauseSchedule(this.client, name, note);
  }

  trigger(name: string, overlap?: OverlapPolicy): Promise<TriggerOutcome> {
    return triggerSchedule(this.client, name, overlap);
  }

  delete(name: string): Promise<void> {
    return deleteSchedule(this.client, name);
  }
}
