/** Names shared by clients, workers and workflows. Workflow-safe: no Node imports. */
export const TASK_QUEUE = 'fine-tuning';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/**
 * The task queue of dataset validations for workflows on `taskQueue`: CPU-heavy, so each worker process serves it
 * with a few slots of its own, and validations wait for a slot in Temporal rather than inside an activity.
 */
export function validationTaskQueue(taskQueue: string): string {
  return `${taskQueue}-validation`;
}

/**
 * The task queue of the admission queues (workflows/admission.ts) for runs on `taskQueue`: each worker process serves
 * it with a workflow thread and slots of its own, so a queue's grants do not wait behind the runs' workflow tasks.
 */
export function admissionTaskQueue(taskQueue: string): string {
  return `${taskQueue}-admission`;
}
