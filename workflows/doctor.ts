/**
 * `checkWorker`: the smallest round trip through ftpipe's task queue. `ftpipe doctor` starts it to prove that a worker
 * polls the queue and can run activities; tests use it as the skeleton's workflow.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { WorkerDescription, createActivities } from '../activities';

const { describeWorker } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

export interface CheckWorkerInput {
  /** Free text echoed back, so a caller can tell its own check apart. */
  note?: string;
}

export interface CheckWorkerResult {
  note: string | null;
  workflowId: string;
  worker: WorkerDescription;
}

export async function checkWorker(input: CheckWorkerInput = {}): Promise<CheckWorkerResult> {
  const worker = await describeWorker({});
  return { note: input.note ?? null, workflowId: workflowInfo().workflowId, worker };
}
