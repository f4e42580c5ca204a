/**
 * ftpipe's figures emitted from workflow code (workflow-safe): the SDK's workflow metric meter sends them to the
 * worker's Prometheus endpoint and drops them while replaying, so a replayed or retried task never counts twice.
 * Tags the SDK adds: namespace, task_queue, workflow_type.
 */
import { metricMeter } from '@temporalio/workflow';

/** Runs entering each stage (`stage="train"`, ..., and the ends `completed`, `failed`, `cancelled`). */
export function recordStageEntered(stage: string): void {
  metricMeter.createCounter('ftpipe_run_stage_entered', undefined, 'Runs that entered each stage').add(1, { stage });
}

/** For admission (per-resource slots): how many runs wait for `resource` now. */
export function recordAdmissionQueueLength(resource: string, waiting: number): void {
  metricMeter.createGauge('ftpipe_admission_queue_length', 'int', undefined, 'Runs waiting for an admission slot').set(waiting, { resource });
}

/** For admission: how long a run waited for its slot on `resource`. */
export function recordAdmissionWait(resource: string, seconds: number): void {
  metricMeter.createHistogram('ftpipe_admission_wait', 'float', 's', 'Time runs waited for an admission slot').record(seconds, { resource });
}
