/**
 * Training progress and polling pace from what Azure really sends. Workflow-safe: pure functions over plain data.
 * Azure's metrics events carry no `total_steps`, and its `estimated_finish` is sent from creation (about
 * created_at + 900 s) and is unreliable (recorded jobs finished days later): so the total comes from the job's settled
 * epochs and batch size (see activities/jobs.ts), and the ETA and the near-finish pace from the step rate measured
 * while the job runs, never from `estimated_finish` alone.
 */
import type { Polling } from './input';
import { WAITING_JOB_STATUSES, type JobPoll, type JobSnapshot, type PipelineStatus } from './types';

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
  progress.etaSeconds =
    poll.job.status === 'succeeded'
      ? 0
      : from && step !== null && totalSteps && step > from.step && nowSeconds > from.atSeconds
        ? Math.max(0, Math.round(((totalSteps - step) * (nowSeconds - from.atSeconds)) / (step - from.step)))
        : null;
  return progress;
}

/** Seconds until the next poll: slow while the job waits or is paused, fastest once the measured ETA is near. */
export function pollIntervalSeconds(job: JobSnapshot | null, progress: Progress, polling: Pick<Polling, 'queuedIntervalSeconds' | 'runningIntervalSeconds' | 'nearFinishIntervalSeconds'>): number {
  if (!job || (WAITING_JOB_STATUSES as readonly string[]).includes(job.status) || job.status === 'paused') return polling.queuedIntervalSeconds;
  const eta = progress.etaSeconds;
  if (job.status === 'running' && eta !== null && eta <= 2 * polling.runningIntervalSeconds) return polling.nearFinishIntervalSeconds;
  return polling.runningIntervalSeconds;
}
