/**
 * Workflow runs whose histories are recorded into test/histories/*.json and replayed by test/foundation/replay.test.ts,
 * so that a nondeterministic change to a workflow fails CI. Re-record deliberately (npx tsx test/histories/record.ts)
 * only when a change is meant to be incompatible, and version the workflow (patched()) when runs may be in flight.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WithStartWorkflowOperation, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { FaultRule, RunningEmulator } from '../../src/emulator';
import type { PipelineInputDraft } from '../../src/pipeline/input';
import type { PipelineResult, PipelineStatus } from '../../src/pipeline/types';
import { createOpenAIClient } from '../../src/azure/clients';
import { EMULATOR_PROFILE, emulatorProfiles } from '../../src/stack/emulator-profiles';
import type { FtpipeWorker } from '../../workers/worker';
import { capacity, DEFAULT_LIMITS } from '../../src/admission/limits';
import { admissionWorkflowId } from '../../src/admission/types';
import { accountResourceId } from '../../src/config/profile';
import { admissionTaskQueue } from '../../src/temporal/constants';
import type { fineTunePipeline, keepDeploymentAlive, planPipeline } from '../../workflows';
import { admissionNoticeSignal, admissionQuery, joinQueueUpdate, releaseSlotsSignal, requestSlotsSignal, type AdmissionNotice, type AdmissionView, type resourceAdmission, type SlotRequest } from '../../workflows/admission';
import {
  ADMISSION_WORKFLOW_TYPE, approveSignal, CHECK_WORKER_WORKFLOW_TYPE, KEEP_ALIVE_WORKFLOW_TYPE, pauseUpdate, PIPELINE_WORKFLOW_TYPE, PLAN_WORKFLOW_TYPE, rejectSignal, rejectUpdate, resumeSignal, statusQuery,
} from '../../workflows/messages';
import { ROOT } from '../helpers/cli';
import { FAST_POLLING, SAMPLE_TRAINING, SAMPLE_VALIDATION, uniqueTrainingFile } from '../helpers/pipeline';

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

function pipelineInput(overrides: Partial<PipelineInputDraft> = {}): PipelineInputDraft {
  return {
    runName: `recorded-${randomUUID().slice(0, 8)}`,
    profile: EMULATOR_PROFILE,
    baseModel: 'gpt-4.1-mini',
    training: { path: SAMPLE_TRAINING },
    validation: { path: SAMPLE_VALIDATION },
    seed: 3,
    polling: FAST_POLLING,
    ...overrides,
  };
}

async function startPipeline(ctx: RecordingContext, input: PipelineInputDraft): Promise<WorkflowHandle<typeof fineTunePipeline>> {
  return ctx.client.workflow.start<typeof fineTunePipeline>(PIPELINE_WORKFLOW_TYPE, { taskQueue: ctx.taskQueue, workflowId: `${input.runName}-${ctx.taskQueue}`, args: [input] });
}

async function waitFor(handle: WorkflowHandle, predicate: (s: PipelineStatus) => boolean, what = 'the expected state', attempts = 1200): Promise<PipelineStatus> {
  let last: PipelineStatus | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await handle.query(statusQuery).catch(() => last);
    if (last && predicate(last)) return last;
    await sleep(100);
  }
  throw new Error(`recording: the run never reached ${what}; last status: ${JSON.stringify(last)}`);
}

/** A recording of the wrong path must not be committed: each scenario checks that its run ended as it names. */
function expect(condition: boolean, what: string, detail: unknown): void {
  if (!condition) throw new Error(`recording: expected ${what}; got ${JSON.stringify(detail)}`);
}

async function failureOf(promise: Promise<unknown>): Promise<WorkflowFailedError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof WorkflowFailedError)) throw new Error(`recording: expected the run to fail; got ${String(err)}`);
  return err;
}

function scheduledActivities(history: History): string[] {
  return (history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

/**
 * The run id of the execution, in the chain of continue-as-new runs of `workflowId`, whose history schedules all of
 * `activities` (newest first): a path that spans a continue-as-new must be recorded where it happened.
 */
async function executionScheduling(client: Client, workflowId: string, activities: string[]): Promise<string | undefined> {
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const names = scheduledActivities(history);
    if (activities.every((a) => names.includes(a))) return runId;
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
  }
  return undefined;
}

/** The execution that is to be recorded must schedule `activities` (the path the scenario names). */
async function expectScheduled(client: Client, workflowId: string, runId: string | undefined, activities: string[]): Promise<void> {
  const names = scheduledActivities(await client.workflow.getHandle(workflowId, runId).fetchHistory());
  const missing = activities.filter((a) => !names.includes(a));
  expect(missing.length === 0, `the recorded execution to schedule ${activities.join(', ')}`, { missing, scheduled: [...new Set(names)] });
}

/** Runs `body` with the emulator's clock at `scale`, then puts it back to the recording's 1000x. */
async function atClockScale<T>(ctx: RecordingContext, scale: number, body: () => Promise<T>): Promise<T> {
  ctx.emulator.control.setClockScale(scale);
  try {
    return await body();
  } finally {
    ctx.emulator.control.setClockScale(1000);
  }
}

/** Runs `body` with the emulator's fault `rule` in place, removed afterwards (a one-shot one may have fired by then). */
async function withFault<T>(ctx: RecordingContext, rule: FaultRule, body: () => Promise<T>): Promise<T> {
  const fault = ctx.emulator.control.addFault(rule);
  try {
    return await body();
  } finally {
    ctx.emulator.control.removeFault(fault.id);
  }
}

const EVAL_SET = join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl');

/** The sample conversations as reinforcement data (the last answer becomes the graded reference), in a file of its own. */
function rftDataset(source: string, tag: string): string {
  const lines = readFileSync(source, 'utf8').trim().split('\n').map((l) => {
    const example = JSON.parse(l) as { messages: { role: string; content: string }[] };
    return JSON.stringify({ messages: example.messages.slice(0, -1), answer: example.messages.at(-1)!.content });
  });
  // Under the project (the recording worker's data root), in the ignored local state.
  mkdirSync(join(ROOT, '.ftpipe'), { recursive: true });
  const path = join(mkdtempSync(join(ROOT, '.ftpipe', 'recording-rft-')), `${tag}.jsonl`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'check-worker',
    async run({ client, taskQueue, createWorker }) {
      const workflowId = `record-check-worker-${taskQueue}`;
      const worker = await createWorker(taskQueue);
      await worker.runUntil(client.workflow.execute(CHECK_WORKER_WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ note: 'recorded' }] }));
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
      const worker = await ctx.createWorker(ctx.taskQueue);
      // Slow polls keep each execution long, so the pause and the resume usually land in one.
      const handle = await startPipeline(ctx, pipelineInput({ hyperparameters: { nEpochs: 3 }, polling: { ...FAST_POLLING, runningIntervalSeconds: 1, queuedIntervalSeconds: 0.5 } }));
      const runId = await atClockScale(ctx, 100, () => worker.runUntil(async () => {
        // A continue-as-new can still fall between them: steer again until one execution holds both.
        let found: string | undefined;
        for (let attempt = 0; attempt < 4 && !found; attempt++) {
          await waitFor(handle, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1, 'a running job with a trained step');
          await handle.executeUpdate(pauseUpdate, { args: [{ by: 'recording' }] });
          await waitFor(handle, (s) => s.job?.status === 'paused', 'a paused job');
          await handle.signal(resumeSignal, {});
          await waitFor(handle, (s) => s.job?.status === 'running', 'the job running again');
          found = await executionScheduling(ctx.client, handle.workflowId, ['pauseFineTuningJob', 'resumeFineTuningJob']);
        }
        const result = await handle.result();
        expect(result.outcome === 'succeeded', 'outcome succeeded', result.outcome);
        return found;
      }));
      expect(runId !== undefined, 'one execution that paused and resumed the job', runId);
      return { workflowId: handle.workflowId, runId };
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
        await run.signal(approveSignal, { by: 'recording' });
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
      // The smallest budget: a poll is 6 events, and this short job must still reach it.
      const fast = { queuedIntervalSeconds: 0.1, runningIntervalSeconds: 0.1, nearFinishIntervalSeconds: 0.1, fileIntervalSeconds: 0.1, continueAsNewAfterEvents: 100 };
      const handle = await startPipeline(ctx, pipelineInput({ polling: fast, hyperparameters: { nEpochs: 1 } }));
      await worker.runUntil(handle.result());
      ctx.emulator.control.setClockScale(1000);
      // The first execution of the chain: it ends by continuing as new.
      const firstRunId = (await handle.describe()).raw.workflowExecutionInfo?.firstRunId;
      if (!firstRunId) throw new Error('recording: no first run id');
      const first = await ctx.client.workflow.getHandle(handle.workflowId, firstRunId).describe();
      expect(first.status.name === 'CONTINUED_AS_NEW', 'the first execution to end by continuing as new', first.status.name);
      return { workflowId: handle.workflowId, runId: firstRunId };
    },
  },
  {
    name: 'pipeline-eval-set',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const handle = await startPipeline(ctx, pipelineInput({ evaluation: { evalSet: { path: EVAL_SET }, baseline: { model: 'gpt-4.1-mini' } } }));
      const result = await worker.runUntil(handle.result());
      const scores = result.evaluation?.scores ?? [];
      expect(result.outcome === 'succeeded' && scores.some((s) => s.kind === 'baseline') && scores.filter((s) => s.kind === 'candidate').length === result.checkpoints.length,
        'every checkpoint and the baseline scored on the eval set', { outcome: result.outcome, scores });
      await expectScheduled(ctx.client, handle.workflowId, undefined, ['runEvalSet', 'createDeployment', 'deleteDeployment']);
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-eval-deployment-recreated',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      // As test/pipeline/eval-deployment-lifetime.test.ts: slow chat answers, then the clock moved 25 h mid-eval, so
      // Azure deletes the first Developer-tier eval deployment and the run recreates it (patched branch).
      const slow = ctx.emulator.control.addFault({ route: 'chat.completions', action: 'latency', latencyMs: 1000 });
      const answered = (name: string): number => ctx.emulator.control.requests({ route: 'chat.completions' }).filter((r) => r.path.includes(`/deployments/${name}/`) && r.status === 200).length;
      const handle = await startPipeline(ctx, pipelineInput({ evaluation: { evalSet: { path: EVAL_SET }, concurrency: 1 } }));
      const result = await worker.runUntil(async () => {
        let first: string | undefined;
        for (let i = 0; i < 3000 && !(first && answered(first) >= 2); i++) {
          first ??= (ctx.emulator.control.dumpState().deployments as { name: string; state: string }[]).find((d) => d.name.startsWith('ftpipe-eval-') && d.state === 'Succeeded')?.name;
          await sleep(100);
        }
        ctx.emulator.control.advanceClock(25 * 3600);
        ctx.emulator.control.removeFault(slow.id);
        return handle.result();
      });
      const recreated = (result.evaluation?.scores ?? []).filter((s) => s.deploymentRecreations === 1);
      expect(result.outcome === 'succeeded' && recreated.length === 1, 'one eval deployment recreated after Azure deleted it, the run succeeded', { outcome: result.outcome, scores: result.evaluation?.scores });
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-lineage-skipped',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const lineage = { name: `recorded-${randomUUID().slice(0, 8)}`, skipUnchangedData: true };
      const handle = await worker.runUntil(async () => {
        const first = await (await startPipeline(ctx, pipelineInput({ lineage }))).result();
        expect(first.outcome === 'succeeded', 'the lineage\'s first run to succeed', first.outcome);
        const again = await startPipeline(ctx, pipelineInput({ lineage }));
        const skipped = await again.result();
        expect(skipped.outcome === 'skipped_no_new_data' && skipped.jobId === null, 'the second run on the same data skipped', skipped);
        return again;
      });
      await expectScheduled(ctx.client, handle.workflowId, undefined, ['lineageState']);
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-approval-rejected',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const handle = await startPipeline(ctx, pipelineInput({ deployment: { name: 'recorded-rejected', type: 'GlobalStandard', requireApproval: true } }));
      const result = await worker.runUntil(async () => {
        await waitFor(handle, (s) => s.stage === 'await_approval', 'stage await_approval');
        await handle.executeUpdate(rejectUpdate, { args: [{ by: 'recording', comment: 'recorded rejection' }] });
        return handle.result();
      });
      expect(result.outcome === 'not_promoted' && result.approval?.decision === 'rejected' && result.approval.by === 'recording' && result.deployments.length === 0,
        'not promoted, rejected by recording, nothing deployed', { outcome: result.outcome, approval: result.approval, deployments: result.deployments });
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-approval-early-refused',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const handle = await startPipeline(ctx, pipelineInput({ deployment: { name: 'recorded-early', type: 'GlobalStandard', requireApproval: true } }));
      const result = await worker.runUntil(async () => {
        await waitFor(handle, (s) => s.job?.status === 'running', 'a running job');
        // The clock stops while the job trains, so the approval arrives before the run awaits one.
        const refused = await atClockScale(ctx, 0, async () => {
          await handle.signal(approveSignal, { by: 'recording-early' });
          return waitFor(handle, (s) => s.requests.some((r) => r.kind === 'approve' && r.state === 'refused'), 'the early approval refused');
        });
        expect(refused.stage === 'train' && refused.approval === null, 'the early approval refused in stage train, no decision kept', { stage: refused.stage, approval: refused.approval, requests: refused.requests });
        await waitFor(handle, (s) => s.stage === 'await_approval', 'stage await_approval');
        await handle.signal(rejectSignal, { by: 'recording', comment: 'recorded in-stage rejection' });
        return handle.result();
      });
      expect(result.outcome === 'not_promoted' && result.approval?.by === 'recording', 'not promoted, rejected in stage by recording', { outcome: result.outcome, approval: result.approval });
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-approval-timeout',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const handle = await startPipeline(ctx, pipelineInput({ deployment: { name: 'recorded-timeout', type: 'GlobalStandard', requireApproval: true, approvalTimeoutSeconds: 1 } }));
      const result = await worker.runUntil(handle.result());
      expect(result.outcome === 'not_promoted' && result.approval?.decision === 'rejected' && result.approval.by === 'timeout',
        'not promoted, rejected by the approval timeout', { outcome: result.outcome, approval: result.approval });
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-rollback',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const deployment = { name: 'recorded-rollback', type: 'GlobalStandard' as const, smokeTestTimeoutSeconds: 2 };
      const handle = await worker.runUntil(async () => {
        const first: PipelineResult = await (await startPipeline(ctx, pipelineInput({ deployment }))).result();
        expect(first.deployments.map((d) => d.name).join() === 'recorded-rollback-v1', 'the first version deployed', first.deployments);
        // Every chat completion fails: the new version's smoke test never passes.
        return withFault(ctx, { route: 'chat.completions', action: 'error', status: 500 }, async () => {
          const second = await startPipeline(ctx, pipelineInput({ deployment }));
          const err = await failureOf(second.result());
          const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
          expect(cause?.type === 'DeploymentFailed' && /recorded-rollback-v2 failed .*it was deleted/.test(cause.message), 'DeploymentFailed: v2 deleted', cause?.message ?? String(err.cause));
          return second;
        });
      });
      const live = ctx.emulator.control.dumpState().deployments.map((d) => String(d.name)).filter((n) => n.startsWith('recorded-rollback'));
      expect(live.join() === 'recorded-rollback-v1', 'only the previous version live', live);
      await expectScheduled(ctx.client, handle.workflowId, undefined, ['createDeployment', 'smokeTestDeployment', 'deleteDeployment']);
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-copy-failed',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      // No fine-tuning job ever ran in eastus2's account: Azure refuses the copy's prerequisite.
      const eus2 = ctx.emulator.account('ftpipe-eus2');
      const handle = await startPipeline(ctx, pipelineInput({ copies: [{ destinationResourceId: eus2.armId, region: 'eastus2' }] }));
      const result = await worker.runUntil(handle.result());
      const [copy] = result.copies;
      expect(result.outcome === 'succeeded' && copy?.status === 'Failed' && /fine-tuning job/i.test(copy.error ?? ''), 'the copy failed, saying why, and the run succeeded', { outcome: result.outcome, copies: result.copies });
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-deploy-refused',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      // Azure refuses the new version's create: the run made nothing under that name, so it deletes nothing
      // (patch ftpipe-deploy-nothing-made).
      return withFault(ctx, { route: 'arm.deployments.put', action: 'error', status: 400, times: 1 }, async () => {
        const handle = await startPipeline(ctx, pipelineInput({ deployment: { name: `recorded-refused-${randomUUID().slice(0, 6)}`, type: 'GlobalStandard' } }));
        const err = await worker.runUntil(failureOf(handle.result()));
        const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
        expect(cause?.type === 'DeploymentFailed' && /the run made none to delete/.test(cause.message), 'DeploymentFailed, nothing deleted', cause?.message ?? String(err.cause));
        return { workflowId: handle.workflowId };
      });
    },
  },
  {
    name: 'pipeline-copy-deploy-failed',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const ncus = ctx.emulator.account('ftpipe-ncus');
      const name = `recorded-copy-fails-${randomUUID().slice(0, 6)}`;
      const result = await worker.runUntil(async () => {
        // The copy needs a fine-tuning job in the destination account.
        await (await startPipeline(ctx, pipelineInput({ profile: 'ftpipe-ncus' }))).result();
        // The copy's deployment fails to provision after its create was sent: the run deletes it
        // (patch ftpipe-copy-deploy-undone).
        ctx.emulator.control.failDeployment({ account: 'ftpipe-ncus', deployment: name }, { code: 'InternalServerError', message: 'The deployment failed to provision.' });
        const run = await startPipeline(ctx, pipelineInput({ copies: [{ destinationResourceId: ncus.armId, region: 'northcentralus', deploy: { profile: 'ftpipe-ncus', name, type: 'GlobalStandard' } }] }));
        return { workflowId: run.workflowId, result: await run.result() };
      });
      const [copy] = result.result.copies;
      expect(result.result.outcome === 'succeeded' && copy?.status === 'Failed' && new RegExp(`deployment ${name} was deleted$`).test(copy.error ?? ''), 'the copy failed and its deployment was deleted', result.result.copies);
      return { workflowId: result.workflowId };
    },
  },
  {
    name: 'pipeline-partial-upload-undone',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      // The validation import is refused while the training upload lands: the run records the landed file as its own
      // and its failure cleanup deletes it (patch ftpipe-partial-uploads-undone). A training file of its own bytes, so
      // that the upload is this run's and not a reuse of an earlier recording's.
      // (Under the project, the recording worker's one data root.)
      mkdirSync(join(ROOT, '.ftpipe'), { recursive: true });
      const training = join(mkdtempSync(join(ROOT, '.ftpipe', 'recorded-')), 'train.jsonl');
      copyFileSync(uniqueTrainingFile(), training);
      const url = ctx.emulator.control.putBlob(`recorded-validation-${randomUUID()}.jsonl`, readFileSync(SAMPLE_VALIDATION));
      return withFault(ctx, { route: 'files.import', action: 'error', status: 400, times: 1 }, async () => {
        const handle = await startPipeline(ctx, pipelineInput({ training: { path: training }, validation: { url } }));
        const { err, status } = await worker.runUntil(async () => ({ err: await failureOf(handle.result()), status: await handle.query(statusQuery) }));
        const trainingFile = status.files.find((f) => f.role === 'training');
        expect(err.cause instanceof ApplicationFailure && err.cause.type === 'Azure400' && trainingFile?.origin === 'uploaded', 'the import refused, the landed upload the run\'s', { cause: String(err.cause), files: status.files });
        return { workflowId: handle.workflowId };
      });
    },
  },
  {
    name: 'pipeline-secret-webhook-refused',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      // Started without the client's check, as the Web UI starts one: the workflow's boundary refuses a webhook URL that
      // is itself a credential (patch ftpipe-more-secret-webhook-hosts).
      const handle = await startPipeline(ctx, pipelineInput({ notify: [{ url: 'https://discord.com/api/webhooks/1/recorded' }] }));
      const err = await worker.runUntil(failureOf(handle.result()));
      expect(/notify\.0\.url: this webhook URL is itself a credential/.test(err.cause?.message ?? ''), 'refused at the boundary, naming the field', err.cause?.message);
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-cancelled-cleanup',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const name = 'recorded-cancelled';
      // Imported from a URL of its own: a file this run created, which its cleanup deletes.
      const url = ctx.emulator.control.putBlob(`recorded-${randomUUID()}.jsonl`, readFileSync(SAMPLE_TRAINING));
      // Given by id: a file the run did not create, which its cleanup keeps.
      const { profiles, env } = emulatorProfiles(ctx.emulator);
      const given = await createOpenAIClient(profiles[0]!, env).files.create({ file: new File([readFileSync(SAMPLE_VALIDATION)], 'recorded-validation.jsonl', { type: 'application/jsonl' }), purpose: 'fine-tune' });
      const handle = await startPipeline(ctx, pipelineInput({ training: { url }, validation: { fileId: given.id }, deployment: { name, type: 'GlobalStandard', requireApproval: true } }));
      const status = await worker.runUntil(async () => {
        await waitFor(handle, (s) => s.stage === 'await_approval', 'stage await_approval');
        // A slow clock while the deployment is created, so the cancellation lands while it exists.
        return atClockScale(ctx, 20, async () => {
          await handle.signal(approveSignal, { by: 'recording' });
          await waitFor(handle, (s) => s.stage === 'deploy' && ctx.emulator.control.dumpState().deployments.some((d) => d.name === `${name}-v1`), 'a deployment being created');
          await handle.cancel();
          await handle.result().catch(() => undefined);
          return handle.query(statusQuery);
        });
      });
      const imported = status.files.filter((f) => f.origin === 'imported').map((f) => f.fileId);
      const liveFiles = ctx.emulator.control.dumpState().files.filter((f) => [...imported, given.id].includes(String(f.id)) && f.status !== 'deleted').map((f) => f.id);
      const liveDeployments = ctx.emulator.control.dumpState().deployments.filter((d) => String(d.name).startsWith(name));
      expect(status.stage === 'cancelled' && imported.length === 1 && liveFiles.join() === given.id && liveDeployments.length === 0 && status.errors.every((e) => e.stage !== 'cleanup'),
        'cancelled, the new deployment and the imported file deleted, the given file kept', { stage: status.stage, imported, liveFiles, liveDeployments, errors: status.errors });
      await expectScheduled(ctx.client, handle.workflowId, undefined, ['importFile', 'describeFile', 'createDeployment', 'deleteDeployment', 'deleteFiles']);
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-from-job',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const handle = await worker.runUntil(async () => {
        const first = await (await startPipeline(ctx, pipelineInput())).result();
        expect(first.outcome === 'succeeded' && first.jobId !== null, 'the first run to train a job', first.outcome);
        const again = await startPipeline(ctx, pipelineInput({ fromJob: first.jobId! }));
        const result = await again.result();
        const stages = result.timeline.map((t) => t.stage);
        expect(result.outcome === 'succeeded' && result.jobId === first.jobId && !stages.includes('create_job') && !stages.includes('train'),
          'the second run carried on from the first one\'s job, from collect', { outcome: result.outcome, jobId: result.jobId, stages });
        return again;
      });
      await expectScheduled(ctx.client, handle.workflowId, undefined, ['adoptFineTuningJob', 'collectJobResults']);
      return { workflowId: handle.workflowId };
    },
  },
  {
    // A job still training when its first run was lost: the adopting run holds a job place in the admission queue
    // while it monitors the job (patched('ftpipe-from-job-slot')), and gives it back when the job ends.
    name: 'pipeline-from-running-job',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const handle = await worker.runUntil(async () => {
        const lost = await startPipeline(ctx, pipelineInput({ hyperparameters: { nEpochs: 3 } }));
        const jobId = await atClockScale(ctx, 20, async () => {
          const training = await waitFor(lost, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1, 'the first run\'s job training');
          ctx.emulator.control.setClockScale(0);
          await lost.terminate('recording: the run is lost, its job trains on');
          return training.job!.id;
        });
        ctx.emulator.control.setClockScale(0);
        try {
          const adopted = await startPipeline(ctx, { ...pipelineInput({ fromJob: jobId }), training: undefined });
          await waitFor(adopted, (s) => s.stage === 'train' && s.admission?.state === 'granted', 'the adopted job\'s admission slot granted');
          ctx.emulator.control.setClockScale(1000);
          const result = await adopted.result();
          expect(result.outcome === 'succeeded' && result.jobId === jobId, 'the adopting run to monitor the job to its end', { outcome: result.outcome, jobId: result.jobId });
          return adopted;
        } finally {
          ctx.emulator.control.setClockScale(1000);
        }
      });
      // The adopted job's join is a local activity since ftpipe-local-join (a marker, not a scheduled activity).
      await expectScheduled(ctx.client, handle.workflowId, undefined, ['adoptFineTuningJob', 'collectJobResults']);
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'plan-pipeline',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const workflowId = `record-plan-${ctx.taskQueue}`;
      const input = pipelineInput({ evaluation: { evalSet: { path: EVAL_SET } }, deployment: { name: 'recorded-plan', type: 'GlobalStandard' } });
      const plan = await worker.runUntil(ctx.client.workflow.execute<typeof planPipeline>(PLAN_WORKFLOW_TYPE, { taskQueue: ctx.taskQueue, workflowId, args: [input] }));
      expect(plan.deployments.length === 2 && plan.deployments.every((d) => d.problem === null) && plan.validation !== null, 'an evaluation and a promotion planned, the data validated', plan);
      return { workflowId };
    },
  },
  {
    name: 'pipeline-deployed-kept-alive',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      // Two runs promote the same name with deployment.idle keepAlive: the second schedules v2's calls and retires v1 with its schedule.
      const deployment = { name: `recorded-kept-${randomUUID().slice(0, 6)}`, type: 'GlobalStandard' as const, keepVersions: 0, idle: { policy: 'keepAlive' as const } };
      const handle = await worker.runUntil(async () => {
        await (await startPipeline(ctx, pipelineInput({ deployment }))).result();
        const second = await startPipeline(ctx, pipelineInput({ deployment }));
        const result = await second.result();
        const status = await second.query(statusQuery);
        expect(result.deletedDeployments.join() === `${deployment.name}-v1` && status.idle?.schedule?.id === `ftpipe-keepalive-${EMULATOR_PROFILE}-${deployment.name}-v2`, 'v2 kept alive by its schedule, v1 retired', { deleted: result.deletedDeployments, idle: status.idle });
        await ctx.client.schedule.getHandle(status.idle!.schedule!.id).delete();
        return second;
      });
      await expectScheduled(ctx.client, handle.workflowId, undefined, ['scheduleKeepAlive', 'removeKeepAlive']);
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'keep-deployment-alive',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const workflowId = `record-keep-alive-${ctx.taskQueue}`;
      const name = `recorded-alive-${randomUUID().slice(0, 6)}`;
      const call = await worker.runUntil(async () => {
        await (await startPipeline(ctx, pipelineInput({ deployment: { name, type: 'GlobalStandard' } }))).result();
        // What the keep-alive schedule starts, started by hand: one call to the live deployment.
        return ctx.client.workflow.execute<typeof keepDeploymentAlive>(KEEP_ALIVE_WORKFLOW_TYPE, { taskQueue: ctx.taskQueue, workflowId, args: [{ profile: EMULATOR_PROFILE, deployment: `${name}-v1` }] });
      });
      expect(call.outcome === 'called', 'the deployment answered the keep-alive call', call);
      return { workflowId };
    },
  },
  {
    name: 'resource-admission',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      // Holders are open workflows on a task queue no worker serves: they stay open until terminated.
      const idle = `${ctx.taskQueue}-idle`;
      const holders = await Promise.all(['a', 'b'].map((h) => ctx.client.workflow.start(CHECK_WORKER_WORKFLOW_TYPE, { taskQueue: idle, workflowId: `record-holder-${h}-${ctx.taskQueue}`, args: [{}] })));
      const limits = { ...DEFAULT_LIMITS, runningJobs: 1, queuedJobs: 0, holderCheckSeconds: 0.2 };
      const resource = `/subscriptions/recorded/resourceGroups/recorded/providers/Microsoft.CognitiveServices/accounts/recorded-${randomUUID().slice(0, 8)}`;
      const workflowId = `record-admission-${ctx.taskQueue}`;
      const amounts = { jobs: 1, files: 0, fileBytes: 0, deployments: 0 };
      const request = (holder: WorkflowHandle): SlotRequest => ({ holder: holder.workflowId, runName: holder.workflowId, amounts, priority: 0, limits });
      await worker.runUntil(async () => {
        const queue = await ctx.client.workflow.signalWithStart<typeof resourceAdmission, [SlotRequest]>(ADMISSION_WORKFLOW_TYPE, {
          taskQueue: ctx.taskQueue, workflowId, args: [{ resource, limits }], signal: requestSlotsSignal, signalArgs: [request(holders[0]!)],
        });
        await queue.signal(requestSlotsSignal, request(holders[1]!));
        const view = async (): Promise<AdmissionView> => queue.query(admissionQuery);
        for (let i = 0; i < 1200 && (await view()).queue.length !== 1; i++) await sleep(100);
        // The first holder closes without giving its slot back: the queue's holder check reclaims it for the second.
        await holders[0]!.terminate('recording: a holder that closed');
        let last = await view();
        for (let i = 0; i < 1200 && !(last.reclaimed === 1 && last.holders.map((h) => h.holder).join() === holders[1]!.workflowId); i++) {
          await sleep(100);
          last = await view();
        }
        expect(last.reclaimed === 1 && last.queue.length === 0 && last.holders.map((h) => h.holder).join() === holders[1]!.workflowId, 'the closed holder\'s slot reclaimed and granted to the waiting one', last);
        await Promise.all([queue.terminate('recording: done'), holders[1]!.terminate('recording: done')]);
      });
      await expectScheduled(ctx.client, workflowId, undefined, ['closedWorkflows']);
      return { workflowId };
    },
  },
  {
    name: 'admission-join-queue',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      // Holders are open workflows on a task queue no worker serves: notices to them arrive, they stay open until terminated.
      const idle = `${ctx.taskQueue}-idle`;
      const holders = await Promise.all(['a', 'b'].map((h) => ctx.client.workflow.start(CHECK_WORKER_WORKFLOW_TYPE, { taskQueue: idle, workflowId: `record-join-holder-${h}-${ctx.taskQueue}`, args: [{}] })));
      const limits = { ...DEFAULT_LIMITS, runningJobs: 1, queuedJobs: 0 };
      const resource = `/subscriptions/recorded/resourceGroups/recorded/providers/Microsoft.CognitiveServices/accounts/recorded-${randomUUID().slice(0, 8)}`;
      const workflowId = `record-join-queue-${ctx.taskQueue}`;
      const jobSlot = { jobs: 1, files: 0, fileBytes: 0, deployments: 0 };
      const request = (holder: WorkflowHandle, extra: Partial<SlotRequest> = {}): SlotRequest => ({ holder: holder.workflowId, runName: holder.workflowId, amounts: jobSlot, priority: 0, limits, ...extra });
      // As activities/admission.ts joins: update-with-start, the queue started by the first join.
      const join = (req: SlotRequest): Promise<AdmissionNotice> => ctx.client.workflow.executeUpdateWithStart(joinQueueUpdate, {
        args: [req],
        startWorkflowOperation: new WithStartWorkflowOperation<typeof resourceAdmission>(ADMISSION_WORKFLOW_TYPE, { workflowId, taskQueue: ctx.taskQueue, args: [{ resource, limits }], workflowIdConflictPolicy: 'USE_EXISTING' }),
      });
      await worker.runUntil(async () => {
        // The reply's two answers: the first holder granted at once, and a deployment slot by its key; then the second
        // holder told its position (the head of the queue is never overtaken, so the deployment slot asks first).
        const first = await join(request(holders[0]!));
        const deployment = await join(request(holders[0]!, { key: 'deployment:recorded', deployment: { profile: EMULATOR_PROFILE, name: 'recorded' }, amounts: { jobs: 0, files: 0, fileBytes: 0, deployments: 1 } }));
        const second = await join(request(holders[1]!));
        expect(first.state === 'granted' && second.state === 'waiting' && second.position === 1 && deployment.state === 'granted' && deployment.key === 'deployment:recorded',
          'the first join granted in the reply, the second told position 1, the deployment slot granted', { first, second, deployment });
        // A join run again (a retried local activity) is answered again, the same way.
        const again = await join(request(holders[0]!));
        expect(again.state === 'granted', 'a repeated join answered granted again', again);
        const queue = ctx.client.workflow.getHandle(workflowId);
        // The first holder gives its job slot back: the waiting one's grant goes out as a notice.
        await queue.signal(releaseSlotsSignal, { holder: holders[0]!.workflowId });
        let last = await queue.query(admissionQuery);
        for (let i = 0; i < 1200 && !(last.queue.length === 0 && last.holders.some((h) => h.holder === holders[1]!.workflowId)); i++) {
          await sleep(100);
          last = await queue.query(admissionQuery);
        }
        expect(last.queue.length === 0 && last.granted === 3 && last.holders.map((h) => h.key ?? h.holder).sort().join() === ['deployment:recorded', holders[1]!.workflowId].sort().join(),
          'the released slot granted to the waiting holder, the deployment slot still held', last);
        const notices = (await holders[1]!.fetchHistory()).events?.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === admissionNoticeSignal.name) ?? [];
        expect(notices.length === 1, 'the waiting holder told its grant by one notice (its position came in the reply)', notices.length);
        await Promise.all([queue.terminate('recording: done'), ...holders.map((h) => h.terminate('recording: done'))]);
      });
      return { workflowId };
    },
  },
  {
    name: 'pipeline-waited-for-slot',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      // Another holder takes every job place of the run's resource first, so the run's join is answered with its position.
      const profile = emulatorProfiles(ctx.emulator).profiles.find((p) => p.name === EMULATOR_PROFILE)!;
      const resource = accountResourceId(profile);
      const limits = profile.limits ?? DEFAULT_LIMITS;
      const queueId = admissionWorkflowId(resource, ctx.taskQueue);
      const blocker = await ctx.client.workflow.start(CHECK_WORKER_WORKFLOW_TYPE, { taskQueue: `${ctx.taskQueue}-idle`, workflowId: `record-slot-blocker-${ctx.taskQueue}`, args: [{}] });
      const handle = await worker.runUntil(async () => {
        const taken = await ctx.client.workflow.executeUpdateWithStart(joinQueueUpdate, {
          args: [{ holder: blocker.workflowId, runName: 'recorded-blocker', amounts: { jobs: capacity(limits).jobs, files: 0, fileBytes: 0, deployments: 0 }, priority: 0, limits }],
          startWorkflowOperation: new WithStartWorkflowOperation<typeof resourceAdmission>(ADMISSION_WORKFLOW_TYPE, { workflowId: queueId, taskQueue: admissionTaskQueue(ctx.taskQueue), args: [{ resource, limits }], workflowIdConflictPolicy: 'USE_EXISTING' }),
        });
        expect(taken.state === 'granted', 'the blocker granted every job place', taken);
        // With a deployment: its slot is granted in the join's reply, the run's job slot by notice.
        const run = await startPipeline(ctx, pipelineInput({ deployment: { name: `recorded-waited-${randomUUID().slice(0, 6)}`, type: 'GlobalStandard' } }));
        const waiting = await waitFor(run, (s) => s.stage === 'await_slot' && s.admission?.state === 'waiting', 'stage await_slot, waiting for its slot');
        expect(waiting.admission?.position === 1, 'the run told position 1 in the join\'s reply', waiting.admission);
        await ctx.client.workflow.getHandle(queueId).signal(releaseSlotsSignal, { holder: blocker.workflowId });
        const result = await run.result();
        expect(result.outcome === 'succeeded' && result.deployments.length === 1, 'the run granted by notice, trained and deployed', { outcome: result.outcome, deployments: result.deployments });
        await Promise.all([ctx.client.workflow.getHandle(queueId).terminate('recording: done'), blocker.terminate('recording: done')]);
        return run;
      });
      const signals = (await handle.fetchHistory()).events?.flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []) ?? [];
      expect(signals.filter((n) => n === admissionNoticeSignal.name).length === 1, 'one admission notice (the job slot\'s grant); the position and the deployment slot came in the joins\' replies', signals);
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-stopped-early',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      const handle = await startPipeline(ctx, pipelineInput({ hyperparameters: { nEpochs: 16 }, evaluation: { stopEarly: { patience: 2 } } }));
      // Slow enough that the polls, which list Azure's steps every few polls, see each epoch end.
      const result = await atClockScale(ctx, 100, () => worker.runUntil(handle.result()));
      expect(result.outcome === 'stopped_early', 'evaluation.stopEarly to cancel the job', { outcome: result.outcome, notes: result.notes });
      await expectScheduled(ctx.client, handle.workflowId, undefined, ['readAutomaticEvaluations', 'cancelFineTuningJob']);
      return { workflowId: handle.workflowId };
    },
  },
  {
    name: 'pipeline-stopped-at-budget',
    async run(ctx) {
      const worker = await ctx.createWorker(ctx.taskQueue);
      // Reinforcement fine-tuning bills by the hour: at the recording's 20 s steps a $2 budget is spent after a few steps.
      const grader = { type: 'string_check' as const, name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' as const };
      const handle = await startPipeline(ctx, pipelineInput({
        baseModel: 'o4-mini', method: { type: 'reinforcement', grader }, hyperparameters: { nEpochs: 2, batchSize: 1 },
        training: { path: rftDataset(SAMPLE_TRAINING, 'train') }, validation: { path: rftDataset(SAMPLE_VALIDATION, 'valid') }, budget: { maxTrainingUsd: 2 },
      }));
      const result = await worker.runUntil(handle.result());
      expect(result.outcome === 'stopped_at_budget', 'the budget to pause the job', { outcome: result.outcome, notes: result.notes });
      await expectScheduled(ctx.client, handle.workflowId, undefined, ['pauseFineTuningJob']);
      return { workflowId: handle.workflowId };
    },
  },
];
