/**
 * Workflow runs whose histories are recorded into test/histories/*.json and replayed by test/foundation/replay.test.ts,
 * so that a nondeterministic change to a workflow fails CI. Re-record deliberately (npx tsx test/histories/record.ts)
 * only when a change is meant to be incompatible, and version the workflow (patched()) when runs may be in flight.
 */
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';

export interface RecordingContext {
  client: Client;
  taskQueue: string;
  createWorker: (taskQueue: string) => Promise<Worker>;
}

export interface Scenario {
  name: string;
  /** Runs the workflow to completion and returns its workflow id. */
  run(ctx: RecordingContext): Promise<string>;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'check-worker',
    async run({ client, taskQueue, createWorker }) {
      const workflowId = `record-check-worker-${taskQueue}`;
      const worker = await createWorker(taskQueue);
      await worker.runUntil(client.workflow.execute('checkWorker', { taskQueue, workflowId, args: [{ note: 'recorded' }] }));
      return workflowId;
    },
  },
];
