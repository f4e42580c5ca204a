/**
 * Workflow runs whose histories are recorded into test/histories/*.json and replayed by test/foundation/replay.test.ts,
 * so that a nondeterministic change to a workflow fails CI. Re-record deliberately (npx tsx test/histories/record.ts)
 * only when a change is meant to be incompatible, and version the workflow (patched()) when runs may be in flight.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { RunningEmulator } from '../../src/emulator';
import type { PipelineInputDraft } from '../../src/pipeline/input';
import type { PipelineStatus } from '../../src/pipeline/types';
import { EMULATOR_PROFILE } from '../../src/stack/emulator-profiles';
import type { FtpipeWorker } from '../../workers/worker';
import type { ControlOutcome, fineTunePipeline } from '../../workflows';
import { SAMPLE_TRAINING, SAMPLE_VALIDATION } from '../helpers/pipeline';

export interface RecordingContext {
  client: Client;
  emulator: RunningEmulator;
  taskQueue: string;
  createWorker: (taskQueue: string) => Promise<FtpipeWorker>;
}

export interface Scenario {
  name: string;
  /** Runs the workflow and returns the execution to record (workflow id, and run id when not the latest). */
  run(ctx: RecordingContext): Promise<{ workflowId: string; runId?: string }>;
}

const polling = { queuedIntervalSeconds: 0.2, runningIntervalSeconds: 0.2, nearFinishIntervalSeconds: 0.1, fileIntervalSeconds: 0.1, deploymentIntervalSeconds: 0.1 };

function pipelineInput(overrides: Partial<PipelineInputDraft> = {}): PipelineInputDraft {
  return {
    runName: `recorded-${randomUUID().slice(0, 8)}`,
    profile: EMULATOR_PROFILE,
    baseModel: 'gpt-4.1-mini',
    training: { path: SAMPLE_TRAINING },
    validation: { path: SAMPLE_VALIDATION },
    seed: 3,
    polling,
    ...overrides,
  };
}

async function startPipeline(ctx: RecordingContext, input: PipelineInputDraft): Promise<WorkflowHandle<typeof fineTunePipeline>> {
  return ctx.client.workflow.start<typeof fineTunePipeline>('fineTunePipeline', { taskQueue: ctx.taskQueue, workflowId: `${input.runName}-${ctx.taskQueue}`, args: [input] });
}

async function waitFor(handle: WorkflowHandle, predicate: (s: PipelineStatus) => boolean): Promise<PipelineStatus> {
  for (let i = 0; i < 600; i++) {
    const status = await handle.query<PipelineStatus, []>('status').catch(() => undefined);
    if (status && predicate(status)) return status;
    await sleep(100);
  }
  throw new Error('recording: the run never reached the expected state');
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'check-worker',
    async run({ client, taskQueue, createWorker }) {
      const workflowId = `record-check-worker-${taskQueue}`;
      const worker = await createWorker(taskQueue);
      await worker.runUntil(client.workflow.execute('checkWorker', { taskQueue, workflowId, args: [{ note: 'recorded' }] }));
      return { workflowId };
    },
  },
  {
    name: 'pipeline-succeeded',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const handle = await startPipeline(ctx, pipelineInput({ suffix: 'recorded' }));
      await worker.runUntil(handle.result());
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-paused-resumed',
    async run(ctx) {
      ctx.emulator.control.setClockScale(200);
      const worker = await ctx.createWorker(ctx.taskQueue);
      const handle = await startPipeline(ctx, pipelineInput({ hyperparameters: { nEpochs: 2 } }));
      await worker.runUntil(async () => {
        await waitFor(handle, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1);
        await handle.executeUpdate<ControlOutcome, [object]>('pauseRun', { args: [{ by: 'recording' }] });
        await waitFor(handle, (s) => s.job?.status === 'paused');
        await handle.signal('resume', {});
        await handle.result();
      });
      ctx.emulator.control.setClockScale(1000);
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-cancelled',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const handle = await startPipeline(ctx, pipelineInput());
      await worker.runUntil(async () => {
        await waitFor(handle, (s) => s.job?.status === 'running');
        await handle.cancel();
        await handle.result().catch(() => undefined);
      });
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-job-failed',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const handle = await startPipeline(ctx, pipelineInput());
      await worker.runUntil(async () => {
        const running = await waitFor(handle, (s) => s.job?.status === 'running');
        ctx.emulator.control.failJob(running.job!.id, { code: 'internal_error', message: 'recorded failure' });
        await handle.result().catch(() => undefined);
      });
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-approved-deployed-copied',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const ncus = ctx.emulator.account('ftpipe-ncus');
      const handle = await worker.runUntil(async () => {
        // The copy needs a fine-tuning job in the destination account.
        await (await startPipeline(ctx, pipelineInput({ profile: 'ftpipe-ncus' }))).result();
        const run = await startPipeline(ctx, pipelineInput({
          deployment: { name: 'recorded', type: 'GlobalStandard', requireApproval: true },
          copies: [{ destinationResourceId: ncus.armId, region: 'northcentralus' }],
        }));
        await waitFor(run, (s) => s.stage === 'await_approval');
        await run.signal('approve', { by: 'recording' });
        await run.result();
        return run;
      });
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-continued-as-new',
    async run(ctx) {
      ctx.emulator.control.setClockScale(100);
      const worker = await ctx.createWorker(ctx.taskQueue);
      const fast = { queuedIntervalSeconds: 0.1, runningIntervalSeconds: 0.1, nearFinishIntervalSeconds: 0.1, fileIntervalSeconds: 0.1 };
      const handle = await startPipeline(ctx, pipelineInput({ polling: fast, hyperparameters: { nEpochs: 1 } }));
      await worker.runUntil(handle.result());
      ctx.emulator.control.setClockScale(1000);
      // The first execution of the chain: it ends by continuing as new.
      const firstRunId = (await handle.describe()).raw.workflowExecutionInfo?.firstRunId;
      if (!firstRunId) throw new Error('recording: no first run id');
      return { workflowId: handle.workflowId, runId: firstRunId };
    },
  },
];
