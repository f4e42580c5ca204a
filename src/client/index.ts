/**
 * The typed client for backend services: start, watch and steer fine-tuning runs.
 *
 *   const ftpipe = await FtpipeClient.connect();              // TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...
 *   const run = await ftpipe.startPipeline({ runName: 'support-v7', profile: 'prod-swc', baseModel: 'gpt-4.1-mini',
 *                                            training: { path: '/data/train.jsonl' } });
 *   for await (const status of run.watch()) console.log(status.stage, status.progress.percent);
 *   const result = await run.result();
 *
 * A run's workflow id is `ftpipe-<runName>` unless given. While a run with that id is open, starting it again is
 * refused (`PipelineAlreadyRunningError`), or joined with `ifRunning: 'join'`; once it has closed, the name may be used
 * for a new run (the new run gets its own Azure job: jobs are keyed by the run's first run id).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/common';
import { decodeArrayFromPayloads, decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import { ftpipeDataConverter, payloadCodecFromEnv } from '../codec';
import { isRunName, parseCopyRequest, parsePipelineInput, type CopyRequest, type PipelineInputDraft } from '../pipeline/input';
import { NOT_DONE_YET_FAILURE, progressView, type ActivityNews, type ProgressView } from '../pipeline/progress';
import type { ApprovalRecord, CopyStatus, PipelineResult, PipelineStatus } from '../pipeline/types';
import { TASK_QUEUE } from '../temporal/constants';
import { temporalTargetFromEnv, temporalUnreachable, type TemporalTargetOverrides } from '../temporal/connection';
import { clientInterceptors } from '../telemetry/client';
import { BASE_MODEL, RUN_NAME, STAGE, startingSearchAttributes } from '../temporal/search-attributes';
import type { fineTunePipeline } from '../../workflows';
import {
  PIPELINE_WORKFLOW_TYPE, approveUpdate, copyToRegionUpdate, pauseUpdate, rejectUpdate, resumeUpdate, statusQuery, type ApprovalInput, type ControlInput, type ControlOutcome,
} from '../../workflows/messages';

// What another project needs to call ftpipe: the client, its errors (to tell bad input from a run that is already
// open), the input as written (PipelineInput) and as parsed with defaults (ParsedPipelineInput), and what runs return.
export { CopyRequestError, PipelineInputError, parseCopyRequest, parsePipelineInput } from '../pipeline/input';
export type { PipelineInputDraft as PipelineInput, PipelineInput as ParsedPipelineInput, CopyRequest, DataSource, Hyperparameters, Method, Polling, Timeouts } from '../pipeline/input';
export type {
  ApprovalRecord, CheckpointSummary, CopyStatus, DeploymentInfo, EvalScore, EvaluationOutcome, JobSnapshot, MetricsAnalysis, PipelineResult, PipelineStatus, RunReport, Stage, TrainingMetrics,
} from '../pipeline/types';
export type { ActivityNews, ProgressView } from '../pipeline/progress';
export type { ApprovalInput, ControlInput, ControlOutcome } from '../../workflows/messages';
export { PIPELINE_WORKFLOW_TYPE } from '../../workflows/messages';
export * from './schedules';

export function defaultWorkflowId(runName: string): string {
  return `ftpipe-${runName}`;
}

/** How many runs of a name the error of `findPipeline` lists when the name's default id has none. */
const NAMED_RUNS_SHOWN = 3;

export class PipelineAlreadyRunningError extends Error {
  constructor(readonly workflowId: string) {
    super(`a run with workflow id "${workflowId}" is already open; wait for it, cancel it, or join it (ifRunning: 'join'; on the command line --join)`);
    this.name = 'PipelineAlreadyRunningError';
  }
}

/** What `cancel()` did: asked for the cancellation, found it asked for already, or found the run closed. */
export interface CancelOutcome {
  state: 'requested' | 'already_cancelling' | 'closed';
  /** Temporal's status of the execution when it looked, e.g. RUNNING, COMPLETED, CANCELLED. */
  execution: string;
}

export interface StartPipelineOptions {
  workflowId?: string;
  /** What to do when a run with this workflow id is open: refuse (default) or return a handle to it. */
  ifRunning?: 'fail' | 'join';
  taskQueue?: string;
}

export interface PipelineSummary {
  workflowId: string;
  runId: string;
  status: string;
  runName: string | undefined;
  stage: string | undefined;
  baseModel: string | undefined;
  startTime: Date;
  closeTime: Date | undefined;
}

/** One look at a run: its status, what its running activities report, and the two as a progress view. */
export interface RunProgress {
  status: PipelineStatus;
  activities: ActivityNews[];
  view: ProgressView;
  /** Temporal's status of the execution, e.g. RUNNING, COMPLETED. */
  execution: string;
}

export class PipelineHandle {
  constructor(readonly workflow: WorkflowHandle<typeof fineTunePipeline>) {}

  get workflowId(): string {
    return this.workflow.workflowId;
  }

  status(): Promise<PipelineStatus> {
    return this.workflow.query(statusQuery, {});
  }

  /** Pauses the Azure job now; refused (WorkflowUpdateFailedError) with the reason when Azure would not allow it. */
  pause(request: ControlInput = {}): Promise<ControlOutcome> {
    return this.workflow.executeUpdate(pauseUpdate, { args: [request] });
  }

  resume(request: ControlInput = {}): Promise<ControlOutcome> {
    return this.workflow.executeUpdate(resumeUpdate, { args: [request] });
  }

  /** Approves the deployment of a run that awaits approval (refused otherwise, with the stage); answers with the record. */
  approve(request: ApprovalInput = {}): Promise<ApprovalRecord> {
    return this.workflow.executeUpdate(approveUpdate, { args: [request] });
  }

  /** Rejects the deployment of a run that awaits approval: the run ends `not_promoted`. */
  reject(request: ApprovalInput = {}): Promise<ApprovalRecord> {
    return this.workflow.executeUpdate(rejectUpdate, { args: [request] });
  }

  /**
   * Copies the run's chosen checkpoint to another account/region (and deploys it there with `deploy`); answers with the
   * copy's record as queued. The request is checked first as the `copyToRegionRun` validator checks it
   * (`CopyRequestError`, naming each field); the run refuses it (WorkflowUpdateFailedError) once it has ended.
   */
  async copy(request: CopyRequest): Promise<CopyStatus> {
    return this.workflow.executeUpdate(copyToRegionUpdate, { args: [parseCopyRequest(request)] });
  }

  /**
   * Cancels the run: the Azure job is cancelled and what the run created is cleaned up. Says whether this call asked
   * for it, or why not: the run is already being cancelled (an earlier request) or has closed.
   */
  async cancel(): Promise<CancelOutcome> {
    const { status } = await this.workflow.describe();
    if (status.name !== 'RUNNING') return { state: 'closed', execution: status.name };
    // The run's current execution records an earlier request in its history (at most one execution's worth).
    const history = await this.workflow.fetchHistory();
    if (history.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes)) return { state: 'already_cancelling', execution: status.name };
    try {
      await this.workflow.cancel();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      return { state: 'closed', execution: (await this.workflow.describe()).status.name };
    }
    return { state: 'requested', execution: status.name };
  }

  result(): Promise<PipelineResult> {
    return this.workflow.result();
  }

  /**
   * What the run's running activities report in their heartbeats (evaluation items n/N, a deployment's ARM state),
   * read from Temporal's description of the run and decoded with the client's data converter. An activity whose
   * details cannot be decoded is listed with null details.
   */
  async activityNews(): Promise<{ activities: ActivityNews[]; execution: string }> {
    const description = await this.workflow.describe();
    const converter = this.workflow.client.options.loadedDataConverter;
    const activities = await Promise.all(
      (description.raw.pendingActivities ?? []).map(async (a): Promise<ActivityNews> => {
        const details = await decodeArrayFromPayloads(converter, a.heartbeatDetails?.payloads).then((values) => values[0] ?? null, () => null);
        const failure = await decodeOptionalFailureToOptionalError(converter, a.lastFailure).catch(() => undefined);
        const waiting = failure instanceof ApplicationFailure && failure.type === NOT_DONE_YET_FAILURE ? failure.message : null;
        return { type: a.activityType?.name ?? 'unknown', attempt: a.attempt ?? 1, details, waiting };
      }),
    );
    return { activities, execution: description.status.name };
  }

  /** The run's status with its activities' news, and what the two say the run is doing now. */
  async progress(): Promise<RunProgress> {
    const status = await this.status();
    const { activities, execution } = await this.activityNews();
    return { status, activities, view: progressView(status, Date.now() / 1000, activities), execution };
  }

  /**
   * Yields the run's progress each time what it shows changes (the stage, the task, a count, the ETA as it counts
   * down), until the run closes (the last one is yielded too).
   */
  async *watchProgress(options: { intervalMs?: number } = {}): AsyncGenerator<RunProgress> {
    const intervalMs = options.intervalMs ?? 2_000;
    let previous = '';
    for (;;) {
      const progress = await this.progress();
      const shown = JSON.stringify([progress.view, progress.status]);
      if (shown !== previous || progress.execution !== 'RUNNING') {
        previous = shown;
        yield progress;
      }
      if (progress.execution !== 'RUNNING') return;
      await sleep(intervalMs);
    }
  }

  /** Yields the status each time it changes, until the run closes (the last status is yielded too). */
  async *watch(options: { intervalMs?: number } = {}): AsyncGenerator<PipelineStatus> {
    const intervalMs = options.intervalMs ?? 2_000;
    let previous = '';
    for (;;) {
      const status = await this.status();
      const serialized = JSON.stringify(status);
      if (serialized !== previous) {
        previous = serialized;
        yield status;
      }
      const { status: execution } = await this.workflow.describe();
      if (execution.name !== 'RUNNING') {
        const final = await this.status();
        if (JSON.stringify(final) !== previous) yield final;
        return;
      }
      await sleep(intervalMs);
    }
  }
}

export class FtpipeClient {
  constructor(
    readonly client: Client,
    private readonly defaults: { taskQueue: string } = { taskQueue: TASK_QUEUE },
    private readonly ownedConnection?: Connection,
  ) {}

  /** Connects with the TEMPORAL_* environment (see the README), overridable per call. */
  static async connect(overrides: TemporalTargetOverrides & { taskQueue?: string } = {}, env: NodeJS.ProcessEnv = process.env): Promise<FtpipeClient> {
    const target = temporalTargetFromEnv(env, overrides);
    const connection = await Connection.connect(target.connectionOptions).catch((err: unknown) => {
      throw temporalUnreachable(target, err);
    });
    const codec = payloadCodecFromEnv(env);
    return new FtpipeClient(new Client({ connection, namespace: target.namespace, interceptors: clientInterceptors(), dataConverter: ftpipeDataConverter(codec) }), { taskQueue: overrides.taskQueue ?? TASK_QUEUE }, connection);
  }

  /** Validates the input (errors name the field), then starts the run. */
  async startPipeline(input: PipelineInputDraft, options: StartPipelineOptions = {}): Promise<PipelineHandle> {
    const parsed = parsePipelineInput(input);
    const workflowId = options.workflowId ?? defaultWorkflowId(parsed.runName);
    const source = (s: NonNullable<typeof parsed.training>): string => ('path' in s ? s.path : 'url' in s ? 'a URL' : s.fileId);
    try {
      const handle = await this.client.workflow.start<typeof fineTunePipeline>(PIPELINE_WORKFLOW_TYPE, {
        taskQueue: options.taskQueue ?? this.defaults.taskQueue,
        workflowId,
        args: [input],
        workflowIdConflictPolicy: options.ifRunning === 'join' ? 'USE_EXISTING' : 'FAIL',
        typedSearchAttributes: startingSearchAttributes(parsed),
        staticSummary: parsed.fromJob
          ? `Carry on from Azure job ${parsed.fromJob} (${parsed.baseModel}, profile ${parsed.profile})`
          : `Fine-tune ${parsed.baseModel} on ${parsed.training ? source(parsed.training) : 'no data'} (profile ${parsed.profile})`,
        staticDetails: `ftpipe run "${parsed.runName}": ${parsed.method.type} fine-tuning of ${parsed.baseModel}, ${parsed.trainingType} training, profile ${parsed.profile}.`,
      });
      return new PipelineHandle(handle);
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new PipelineAlreadyRunningError(workflowId);
      throw err;
    }
  }

  getPipeline(workflowId: string): PipelineHandle {
    return new PipelineHandle(this.client.workflow.getHandle<typeof fineTunePipeline>(workflowId));
  }

  /**
   * Finds a run by workflow id or by run name (`ftpipe-<runName>`); `execution` is Temporal's status, e.g. RUNNING.
   * Neither found, the error names the newest runs of that name under other ids, if any.
   */
  async findPipeline(idOrRunName: string): Promise<{ handle: PipelineHandle; execution: string }> {
    for (const id of [idOrRunName, defaultWorkflowId(idOrRunName)]) {
      const handle = this.getPipeline(id);
      try {
        return { handle, execution: (await handle.workflow.describe()).status.name };
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    // Runs of that name under other ids (a schedule's, or started with --workflow-id): the ids to give instead.
    const named = isRunName(idOrRunName) ? await this.listPipelines({ query: `${RUN_NAME.name} = '${idOrRunName}'`, limit: NAMED_RUNS_SHOWN + 1 }) : [];
    if (named.length > 0) {
      const ids = named.slice(0, NAMED_RUNS_SHOWN).map((run) => run.workflowId).join(', ');
      throw new Error(`no run with workflow id "${idOrRunName}" or "${defaultWorkflowId(idOrRunName)}"; runs named "${idOrRunName}" have workflow ids ${ids}${named.length > NAMED_RUNS_SHOWN ? ', ...' : ''} (newest first): give one of those instead of the name`);
    }
    throw new Error(`no run with workflow id or run name "${idOrRunName}" in namespace ${this.client.options.namespace} (ftpipe list, or listPipelines, shows the recent runs)`);
  }

  /**
   * Recent runs from Temporal's visibility store, newest first; `query` adds a visibility filter. One entry per run:
   * the executions a run continued as new from are left out (the latest execution of each chain stands for the run).
   */
  async listPipelines(options: { query?: string; limit?: number } = {}): Promise<PipelineSummary[]> {
    const filter = `WorkflowType = '${PIPELINE_WORKFLOW_TYPE}' AND ExecutionStatus != 'ContinuedAsNew'${options.query ? ` AND (${options.query})` : ''}`;
    const runs: PipelineSummary[] = [];
    for await (const run of this.client.workflow.list({ query: filter })) {
      const attrs = run.typedSearchAttributes;
      runs.push({
        workflowId: run.workflowId,
        runId: run.runId,
        status: run.status.name,
        runName: attrs.get(RUN_NAME),
        stage: attrs.get(STAGE),
        baseModel: attrs.get(BASE_MODEL),
        startTime: run.startTime,
        closeTime: run.closeTime,
      });
      if (runs.length >= (options.limit ?? 20)) break;
    }
    return runs;
  }

  async close(): Promise<void> {
    await this.ownedConnection?.close();
  }
}
