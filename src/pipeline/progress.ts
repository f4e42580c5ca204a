/**
 * Training progress and polling pace from what Azure really sends. Workflow-safe: pure functions over plain data.
 * Azure's metrics events carry no `total_steps`, and its `estimated_finish` is sent from creation (about
 * created_at + 900 s), corrected once training starts and still unreliable (recorded jobs finished days later): so
 * the total comes from the job's settled epochs and batch size (see activities/jobs.ts), and the ETA from
 * `estimated_finish` only when it is credible (credibleFinishSeconds), else from the step rate measured while the job
 * runs, else it is unknown.
 */
import type { Polling } from './input';
import { WAITING_JOB_STATUSES, type JobPoll, type JobSnapshot, type PipelineStatus, type Stage, type StageTask } from './types';

export type Progress = PipelineStatus['progress'];

/** The progress after a poll at `nowSeconds` (workflow time). */
export function nextProgress(previous: Progress, poll: Pick<JobPoll, 'job' | 'latestMetrics' | 'totalSteps'>, nowSeconds: number): Progress {
  const progress: Progress = { ...previous };
  if (poll.latestMetrics) progress.step = poll.latestMetrics.step;
  if (poll.totalSteps !== null) progress.totalSteps = poll.totalSteps;
  if (poll.job.status === 'succeeded' && progress.totalSteps !== null) progress.step = progress.totalSteps;
  const { step, totalSteps } = progress;
  progress.percent = step !== null && totalSteps ? Math.min(100, Math.round((step / totalSteps) * 1000) / 10) : null;
  if (poll.job.status !== 'running' || step === null) {
    // Measured afresh after a pause, or once training starts.
    progress.rateFrom = null;
  } else if (!progress.rateFrom || step < progress.rateFrom.step) {
    progress.rateFrom = { step, atSeconds: nowSeconds };
  }
  const from = progress.rateFrom;
  const rateEta = from && step !== null && totalSteps && step > from.step && nowSeconds > from.atSeconds
    ? Math.max(0, Math.round(((totalSteps - step) * (nowSeconds - from.atSeconds)) / (step - from.step)))
    : null;
  const azureEta = credibleFinishSeconds(poll.job, step, rateEta, nowSeconds);
  progress.etaSeconds = poll.job.status === 'succeeded' ? 0 : (azureEta ?? rateEta);
  progress.etaBasis = poll.job.status === 'succeeded' || progress.etaSeconds === null ? null : azureEta !== null ? 'estimated_finish' : 'step_rate';
  progress.measuredAtSeconds = nowSeconds;
  return progress;
}

/**
 * How far Azure's `estimated_finish` may lie from the step rate's ETA (either way, as a ratio of the time left) and
 * still be believed. The recordings show it at creation (about created_at + 900 s) until training starts, and even
 * corrected well before jobs that trained for days finished, so one that disagrees more than this with what the steps
 * show is a guess, not a forecast.
 */
export const ESTIMATED_FINISH_AGREEMENT = 2;

/**
 * Seconds left by Azure's `estimated_finish` when it is credible at `nowSeconds`, else null. Credible: the job is
 * running and has trained a step, the estimate lies after now, and it agrees within ESTIMATED_FINISH_AGREEMENT with
 * the measured step rate's ETA, or that ETA is not known yet (Azure's is then the only figure once steps move).
 */
export function credibleFinishSeconds(job: Pick<JobSnapshot, 'status' | 'estimatedFinish'>, step: number | null, rateEtaSeconds: number | null, nowSeconds: number): number | null {
  if (job.status !== 'running' || job.estimatedFinish === null || step === null || step < 1) return null;
  const left = Math.round(job.estimatedFinish - nowSeconds);
  if (left <= 0) return null;
  if (rateEtaSeconds === null) return left;
  const ratio = left / Math.max(1, rateEtaSeconds);
  return ratio <= ESTIMATED_FINISH_AGREEMENT && ratio >= 1 / ESTIMATED_FINISH_AGREEMENT ? left : null;
}

/**
 * The training monitor lists the job's events (its steps and metrics) on every this-many-th poll while the job's status
 * stays the same, and on every poll that sees it change: about 1.17 Azure calls per poll instead of 2, at the cost of
 * progress (step, ETA, curve) refreshed every 6th poll (6 min at the default 60 s), the job's status every poll.
 */
export const EVENTS_EVERY_POLLS = 6;

/**
 * Seconds until the next poll: slow while the job waits or is paused, fastest once the measured ETA is near. With
 * `nowSeconds`, the ETA counts down from when it was measured (progress is not measured on every poll).
 */
export function pollIntervalSeconds(
  job: JobSnapshot | null,
  progress: Progress,
  polling: Pick<Polling, 'queuedIntervalSeconds' | 'runningIntervalSeconds' | 'nearFinishIntervalSeconds'>,
  nowSeconds?: number,
): number {
  if (!job || (WAITING_JOB_STATUSES as readonly string[]).includes(job.status) || job.status === 'paused') return polling.queuedIntervalSeconds;
  const measured = progress.etaSeconds;
  const eta = measured !== null && nowSeconds !== undefined && progress.measuredAtSeconds !== undefined ? measured - (nowSeconds - progress.measuredAtSeconds) : measured;
  if (job.status === 'running' && eta !== null && eta <= 2 * polling.runningIntervalSeconds) return polling.nearFinishIntervalSeconds;
  return polling.runningIntervalSeconds;
}

/**
 * What a running activity of the run reports in its heartbeats (the client reads them from Temporal's description of
 * the run: they never enter the workflow's history). `details` is the activity's own progress object.
 */
export interface ActivityNews {
  /** The activity type, e.g. `runEvalSet`, `createDeployment`. */
  type: string;
  attempt: number;
  details: unknown;
  /**
   * The message of the last attempt's failure when it was a "not done yet, checking again later" (activities/waiting.ts:
   * waits for Azure end each short attempt so), e.g. `create deployment x on acct: provisioning state Creating; ...`.
   */
  waiting?: string | null;
}

/** The failure type activities/waiting.ts gives a "not done yet" attempt (NOT_DONE_YET there; that module is activity-only). */
export const NOT_DONE_YET_FAILURE = 'AzureNotDoneYet';

/** What the run is doing now, for the CLI bar, `ftpipe status` and `watch`: one stage, one task, its n/N when known. */
export interface ProgressView {
  stage: Stage;
  /** The task in words: "Azure job queued", "training", "scoring checkpoint step 20". */
  doing: string;
  /** Units done and in all (steps, items), when known; `total` null when the count is not known yet. */
  done: number | null;
  total: number | null;
  unit: 'steps' | 'items' | 'models evaluated' | null;
  /** "ETA 4m10s", or why there is none ("ETA unknown: ..."); null where a time left does not apply. */
  eta: string | null;
}

export function formatSeconds(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

/**
 * The training ETA at `nowSeconds`: the one measured at the last poll (Azure's `estimated_finish` when credible, else
 * the step rate's; see nextProgress) counted down from that poll. Unknown (said so, never guessed) until there is one;
 * "due" once the countdown has passed (the next poll measures again).
 */
export function trainingEta(progress: Progress, nowSeconds: number, jobCreatedAt?: number): string {
  if (progress.etaSeconds !== null && !(progress.etaBasis === 'estimated_finish' && jobClockAhead(progress, jobCreatedAt))) {
    const left = progress.etaSeconds - Math.max(0, nowSeconds - (progress.measuredAtSeconds ?? nowSeconds));
    if (left <= 0) return 'ETA due now (the next poll measures again)';
    return `ETA ${formatSeconds(left)}${progress.etaBasis === 'estimated_finish' ? ' (Azure\'s estimated_finish)' : ''}`;
  }
  if (progress.totalSteps === null) return 'ETA unknown: the step total is known once Azure settles epochs and batch size';
  return 'ETA unknown: measuring the step rate';
}

/**
 * How far a job's `created_at` may lie after the poll that read it before its timestamps count as another clock's: the
 * emulator's scaled clock (`--clock-scale 100`: a 30 s job's estimated_finish read "ETA 2h09m"), not clock skew.
 */
export const JOB_CLOCK_AHEAD_SECONDS = 60;

/** Whether the job's timestamps run on a clock ahead of the workflow's, so Azure's estimated_finish is not this machine's time. */
function jobClockAhead(progress: Progress, jobCreatedAt: number | undefined): boolean {
  return jobCreatedAt !== undefined && progress.measuredAtSeconds !== undefined && jobCreatedAt > progress.measuredAtSeconds + JOB_CLOCK_AHEAD_SECONDS;
}

const JOB_WAITING: Record<string, string> = {
  pending: 'Azure job pending (not started by Azure yet)',
  validating_files: 'Azure is validating the files',
  queued: 'Azure job queued (waiting for training capacity)',
  pausing: 'Azure job pausing',
  paused: 'Azure job paused (resume it to go on)',
  resuming: 'Azure job resuming',
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
function numberIn(value: Record<string, unknown>, key: string): number | null {
  const found = value[key];
  return typeof found === 'number' ? found : null;
}
function textIn(value: Record<string, unknown>, key: string): string | null {
  const found = value[key];
  return typeof found === 'string' ? found : null;
}

/** The task an activity's heartbeat names (the activities' own progress shapes), with its n/N when it has one. */
function activityTask(news: ActivityNews): Pick<ProgressView, 'doing' | 'done' | 'total' | 'unit'> | null {
  // A wait for Azure says what it waits for and Azure's last answer; its attempts are checks, not retries.
  if (news.waiting) return { doing: news.waiting.replace(/; checking again in [\d.]+ s$/, ''), done: null, total: null, unit: null };
  const d = isObject(news.details) ? news.details : {};
  const retry = news.attempt > 1 ? ` (attempt ${news.attempt})` : '';
  const deployment = textIn(d, 'deployment');
  const none = { done: null, total: null, unit: null };
  switch (news.type) {
    case 'runEvalSet': {
      const done = numberIn(d, 'done');
      const total = numberIn(d, 'total');
      return { doing: `scoring the eval set${retry}`, done, total, unit: 'items' };
    }
    case 'createDeployment':
      // Its first attempt has neither heartbeat nor wait yet, so nothing names the deployment: "the deployment" then.
      return { doing: `creating ${deployment ? `deployment ${deployment}` : 'the deployment'}: ${textIn(d, 'state') ?? 'requested'}${retry}`, ...none };
    case 'smokeTestDeployment':
      return { doing: `smoke test of ${deployment ?? 'the deployment'}: ${numberIn(d, 'attempts') ?? 0} call(s), last ${textIn(d, 'last') ?? 'none yet'}${retry}`, ...none };
    case 'deleteDeployment':
      return { doing: `deleting ${deployment ? `deployment ${deployment}` : 'the deployment'}: ${textIn(d, 'state') ?? 'requested'}${retry}`, ...none };
    case 'awaitCheckpointCopy':
      return { doing: `copying the checkpoint: ${textIn(d, 'status') ?? 'requested'}${retry}`, ...none };
    case 'awaitFileProcessed':
      return { doing: `Azure is processing the uploaded file: ${textIn(d, 'status') ?? 'pending'}${retry}`, ...none };
    case 'validateTrainingData': {
      const read = numberIn(d, 'bytesRead');
      const bytes = numberIn(d, 'bytes');
      const file = textIn(d, 'file') ?? 'data';
      return { doing: `validating the ${file} file${read !== null && bytes ? ` (${Math.round((read / bytes) * 100)}% read)` : ''}${retry}`, ...none };
    }
    case 'analyzeJobMetrics':
      return { doing: `reading results.csv and choosing the checkpoint${retry}`, ...none };
    default:
      return null;
  }
}

const STAGE_TASK: Partial<Record<Stage, string>> = {
  preflight: 'checking the plan and the credentials',
  validate: 'validating the data',
  upload: 'uploading the files',
  create_job: 'creating the Azure job',
  collect: 'collecting the job\'s results',
  evaluate: 'evaluating the checkpoints',
  deploy: 'deploying the chosen checkpoint',
  copy: 'copying the checkpoint to other regions',
  cleanup: 'cleaning up',
  completed: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

/**
 * What the run is doing at `nowSeconds`, from its status and the heartbeats of its running activities. A waiting job
 * is named as waiting (never "0/1 steps"); training shows steps n/N with the measured ETA or why it is unknown; the
 * stages after training show their activity's task and count.
 */
export function progressView(status: PipelineStatus, nowSeconds: number, activities: ActivityNews[] = []): ProgressView {
  const stage = status.stage;
  const base = { stage, done: null, total: null, unit: null, eta: null };
  if (stage === 'await_slot') return { ...base, doing: `queued for a slot on the Azure resource: ${status.admission?.reason ?? 'asking for one'}` };
  if (stage === 'await_approval') return { ...base, doing: `awaiting approval (ftpipe approve ${status.runName} --by NAME, or ftpipe reject)` };
  if (stage === 'train' && status.job) {
    // Azure paused it by itself (preemption, the RFT billing limit): what the run does about it, not "resume it".
    if (status.job.status === 'paused' && status.azureHold) return { ...base, doing: `Azure paused the job: ${status.azureHold.explanation}` };
    if (status.budgetHold && (status.job.status === 'paused' || status.job.status === 'pausing')) return { ...base, doing: `paused at the budget: ${status.budgetHold.explanation}` };
    const waiting = JOB_WAITING[status.job.status];
    if (waiting) return { ...base, doing: waiting };
    const p = status.progress;
    if (status.job.status === 'running') return { stage, doing: 'training', done: p.step ?? 0, total: p.totalSteps, unit: 'steps', eta: trainingEta(p, nowSeconds, status.job.createdAt) };
  }
  // Several at once (a copy beside a deployment): the one with a count first, else the first.
  const tasks = activities.map(activityTask).filter((t): t is NonNullable<typeof t> => t !== null);
  const task = tasks.find((t) => t.total !== null) ?? tasks[0];
  const ended = ['completed', 'failed', 'cancelled'].includes(stage);
  // The workflow's own step names what an activity's count is about (which checkpoint of how many).
  const subject = status.task?.subject;
  if (task && !ended) return { ...base, ...task, doing: subject ? `${subject}: ${task.doing}` : task.doing };
  // Without a heartbeat to read (a client that cannot describe the run), the items the eval activity signalled to the run.
  const items = status.task?.items;
  if (status.task && items && !ended) return { ...base, doing: stageTaskText(status.task), done: items.done, total: items.total, unit: 'items' };
  if (status.task && !ended) return { ...base, doing: stageTaskText(status.task), done: status.task.done, total: status.task.total, unit: status.task.unit };
  return { ...base, doing: STAGE_TASK[stage] ?? stage };
}

/** A stage task in words: `checkpoint 2 of 3 (step 20): smoke test of ...`. */
export function stageTaskText(task: StageTask): string {
  return task.subject ? `${task.subject}: ${task.doing}` : task.doing;
}

/** The view as one line of text (piped output, `ftpipe status`): `stage | task | n/N unit | ETA`. */
export function formatProgressLine(view: ProgressView): string {
  const count = view.unit ? `${view.done ?? 0}/${view.total ?? '?'} ${view.unit}` : '';
  // An ended run's task is its stage again (`failed`): said once.
  return [view.stage, view.doing !== view.stage ? view.doing : '', count, view.eta ?? ''].filter(Boolean).join(' | ');
}
