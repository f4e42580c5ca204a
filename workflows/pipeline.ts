/**
 * `fineTunePipeline`: one run from a dataset to a trained model.
 *
 *   preflight -> validate -> upload -> create_job -> train (monitor) -> collect -> completed
 *
 * Durable: every step is an idempotent activity (a retried upload or create finds what an earlier attempt made).
 * Bounded history: monitoring polls Azure on a timer that signals and updates can cut short, and the run continues as
 * new (carrying its state) before its history grows past HISTORY_EVENT_BUDGET, however long training takes.
 * Controllable: pause/resume as signals (Web UI) and validated updates (client, CLI), a `status` query, and
 * cancellation that cancels the Azure job and cleans up what this run created, even while being cancelled.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { fineTuningJobCreateBody, type RunIdentity } from '../src/azure/requests';
import { PipelineInputError, parsePipelineInput, type DataSource, type PipelineInput, type PipelineInputDraft, type Timeouts } from '../src/pipeline/input';
import {
  WAITING_JOB_STATUSES,
  isTerminalJobStatus,
  type ControlKind,
  type ControlRequest,
  type FileRole,
  type JobPoll,
  type JobSnapshot,
  type JobStatus,
  type PipelineResult,
  type PipelineStatus,
  type PreflightResult,
  type Stage,
  type UploadedFile,
} from '../src/pipeline/types';
import { BASE_MODEL, FINE_TUNED_MODEL, JOB_ID, PROFILE, RUN_NAME, STAGE } from '../src/temporal/search-attributes';

/** Continue as new once this many events are in history: keeps every run's history far below Temporal's limits. */
export const HISTORY_EVENT_BUDGET = 150;
const RECENT_EVENTS_KEPT = 20;
const REQUESTS_KEPT = 20;
const ERRORS_KEPT = 20;

export interface ControlInput {
  /** Who asks, for the record (e.g. a user name). */
  by?: string;
}

export interface ControlOutcome {
  jobStatus: JobStatus;
  message: string;
}

export const pauseSignal = defineSignal<[ControlInput]>('pause');
export const resumeSignal = defineSignal<[ControlInput]>('resume');
export const pauseUpdate = defineUpdate<ControlOutcome, [ControlInput]>('pauseRun');
export const resumeUpdate = defineUpdate<ControlOutcome, [ControlInput]>('resumeRun');
export const statusQuery = defineQuery<PipelineStatus, [Record<string, never>?]>('status');

/** State a run hands to its continuation (continue-as-new). Internal: callers never set it. */
export interface PipelineContinuation {
  status: PipelineStatus;
  preflight: PreflightResult;
  lastEventId: string | null;
  startedAtSeconds: number;
}

export type PipelineWorkflowInput = PipelineInputDraft & { continuation?: PipelineContinuation };

/** Transient Azure errors are retried without limit (a run waits out an outage); client errors fail fast (not retryable). */
const AZURE_RETRY: ActivityOptions['retry'] = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' };

/** Activity stubs with this run's timeouts. (proxyActivities returns a Proxy: take its members by name, never spread it.) */
function activitiesFor(timeouts: Timeouts, polling: PipelineInput['polling']) {
  const heartbeatTimeout = `${timeouts.heartbeatSeconds} seconds` as const;
  const azure = proxyActivities<Activities>({ startToCloseTimeout: `${timeouts.azureCallSeconds} seconds`, retry: AZURE_RETRY });
  const validation = proxyActivities<Activities>({ startToCloseTimeout: '2 hours', heartbeatTimeout, retry: { maximumAttempts: 3 } });
  const transfer = proxyActivities<Activities>({ startToCloseTimeout: '6 hours', heartbeatTimeout, retry: AZURE_RETRY });
  const fileWait = proxyActivities<Activities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: `${Math.max(timeouts.heartbeatSeconds, Math.ceil(polling.fileIntervalSeconds * 3))} seconds`,
    retry: AZURE_RETRY,
  });
  return {
    preflight: azure.preflight,
    describeFile: azure.describeFile,
    importFile: azure.importFile,
    deleteFiles: azure.deleteFiles,
    createFineTuningJob: azure.createFineTuningJob,
    pollFineTuningJob: azure.pollFineTuningJob,
    pauseFineTuningJob: azure.pauseFineTuningJob,
    resumeFineTuningJob: azure.resumeFineTuningJob,
    cancelFineTuningJob: azure.cancelFineTuningJob,
    collectJobResults: azure.collectJobResults,
    validateTrainingData: validation.validateTrainingData,
    uploadFile: transfer.uploadFile,
    awaitFileProcessed: fileWait.awaitFileProcessed,
  };
}

/** Workflow time: replay-safe because the SDK makes `Date` deterministic inside workflows. */
function nowMs(): number {
  return new Date().getTime();
}
function nowIso(): string {
  return new Date().toISOString();
}

function emptyStatus(input: PipelineInput): PipelineStatus {
  return {
    runName: input.runName,
    profile: input.profile,
    baseModel: input.baseModel,
    stage: 'preflight',
    job: null,
    progress: { step: null, totalSteps: null, percent: null, etaSeconds: null },
    latestMetrics: null,
    recentEvents: [],
    files: [],
    validation: null,
    timeline: [],
    requests: [],
    errors: [],
    continuations: 0,
  };
}

function describeFailure(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/**
 * The failure the run ends with: an activity's own failure (Azure's error, the dataset report) lifted out of its
 * ActivityFailure wrapper, so the Web UI and clients show the reason in plain words, not "Activity task failed".
 */
function runFailure(err: unknown): unknown {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    const cause = err.cause;
    return ApplicationFailure.create({ message: cause.message, type: cause.type ?? 'ActivityFailed', nonRetryable: true, details: cause.details ?? [] });
  }
  return err;
}

export async function fineTunePipeline(args: PipelineWorkflowInput): Promise<PipelineResult> {
  const { continuation, ...draft } = args;
  let input: PipelineInput;
  try {
    input = parsePipelineInput(draft);
  } catch (err) {
    if (err instanceof PipelineInputError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidPipelineInput', { issues: err.issues });
    throw err;
  }

  const status: PipelineStatus = continuation ? continuation.status : emptyStatus(input);
  let pre: PreflightResult | undefined = continuation?.preflight;
  let lastEventId: string | null = continuation?.lastEventId ?? null;
  const startedAtSeconds = continuation?.startedAtSeconds ?? Math.floor(nowMs() / 1000);
  const identity: RunIdentity = { workflowId: workflowInfo().workflowId, firstRunId: workflowInfo().firstExecutionRunId, runName: input.runName };
  let wakeUp = false;

  const {
    preflight, validateTrainingData, uploadFile, describeFile, importFile, awaitFileProcessed, deleteFiles,
    createFineTuningJob, pollFineTuningJob, pauseFineTuningJob, resumeFineTuningJob, cancelFineTuningJob, collectJobResults,
  } = activitiesFor(input.timeouts, input.polling);

  function setStage(stage: Stage): void {
    if (status.stage === stage && status.timeline.length > 0) return;
    status.stage = stage;
    status.timeline.push({ stage, at: nowIso() });
    upsertSearchAttributes([{ key: STAGE, value: stage }]);
  }

  function recordError(message: string): void {
    status.errors.push({ at: nowIso(), stage: status.stage, message });
    status.errors.splice(0, Math.max(0, status.errors.length - ERRORS_KEPT));
  }

  function recordRequest(request: ControlRequest): ControlRequest {
    status.requests.push(request);
    status.requests.splice(0, Math.max(0, status.requests.length - REQUESTS_KEPT));
    return request;
  }

  function applyJob(job: JobSnapshot): void {
    status.job = job;
    const nowSeconds = nowMs() / 1000;
    status.progress.etaSeconds = job.estimatedFinish !== null ? Math.max(0, Math.round(job.estimatedFinish - nowSeconds)) : null;
  }

  function applyPoll(poll: JobPoll): void {
    applyJob(poll.job);
    if (poll.latestMetrics) {
      status.latestMetrics = poll.latestMetrics;
      status.progress.step = poll.latestMetrics.step;
    }
    if (poll.totalSteps !== null) status.progress.totalSteps = poll.totalSteps;
    if (poll.job.status === 'succeeded' && status.progress.totalSteps !== null) status.progress.step = status.progress.totalSteps;
    const { step, totalSteps } = status.progress;
    status.progress.percent = step !== null && totalSteps ? Math.min(100, Math.round((step / totalSteps) * 1000) / 10) : null;
    if (poll.newEvents.length > 0) {
      lastEventId = poll.newEvents[poll.newEvents.length - 1]!.id;
      status.recentEvents.push(...poll.newEvents);
      status.recentEvents.splice(0, Math.max(0, status.recentEvents.length - RECENT_EVENTS_KEPT));
    }
  }

  /** Why Azure would refuse `kind` now, or undefined when it allows it (pause: running with >= 1 step; resume: paused). */
  function refusal(kind: ControlKind): string | undefined {
    const job = status.job;
    if (!job) return `there is no Azure job yet (stage ${status.stage})`;
    if (kind === 'pause') {
      if (job.status !== 'running') return `Azure pauses only running jobs; job ${job.id} is ${job.status}`;
      if (!status.progress.step || status.progress.step < 1) return `Azure pauses a job only after it trained at least one step; job ${job.id} has not yet`;
      return undefined;
    }
    return job.status === 'paused' ? undefined : `only a paused job can be resumed; job ${job.id} is ${job.status}`;
  }

  async function control(kind: ControlKind): Promise<JobSnapshot> {
    const ref = { profile: input.profile, jobId: status.job!.id };
    const job = kind === 'pause' ? await pauseFineTuningJob(ref) : await resumeFineTuningJob(ref);
    applyJob(job);
    return job;
  }

  async function processSignalledRequests(): Promise<void> {
    for (const request of status.requests) {
      if (request.state !== 'pending') continue;
      const reason = refusal(request.kind);
      if (reason) {
        request.state = 'refused';
        request.reason = reason;
        continue;
      }
      try {
        await control(request.kind);
        request.state = 'done';
      } catch (err) {
        if (isCancellation(err)) throw err;
        request.state = 'refused';
        request.reason = describeFailure(err);
      }
    }
  }

  const onSignal = (kind: ControlKind) => (request: ControlInput = {}): void => {
    recordRequest({ kind, via: 'signal', requestedAt: nowIso(), state: 'pending', ...(request.by ? { by: request.by } : {}) });
    wakeUp = true;
  };
  const onUpdate = (kind: ControlKind) => async (request: ControlInput = {}): Promise<ControlOutcome> => {
    const record = recordRequest({ kind, via: 'update', requestedAt: nowIso(), state: 'pending', ...(request.by ? { by: request.by } : {}) });
    const job = await control(kind);
    record.state = 'done';
    wakeUp = true;
    return { jobStatus: job.status, message: `${kind === 'pause' ? 'pause' : 'resume'} sent to Azure; job ${job.id} is ${job.status}` };
  };
  const validator = (kind: ControlKind) => (_request: ControlInput = {}): void => {
    const reason = refusal(kind);
    if (reason) throw new Error(`cannot ${kind}: ${reason}`);
  };

  setHandler(pauseSignal, onSignal('pause'), { description: 'Pause the Azure fine-tuning job (allowed once it runs and has trained a step); a deployable checkpoint is kept. Input: {"by": "name"} or {}.' });
  setHandler(resumeSignal, onSignal('resume'), { description: 'Resume a paused Azure fine-tuning job. Input: {"by": "name"} or {}.' });
  setHandler(pauseUpdate, onUpdate('pause'), { validator: validator('pause'), description: 'Pause the Azure job now and answer with its status, or refuse with the reason.' });
  setHandler(resumeUpdate, onUpdate('resume'), { validator: validator('resume'), description: 'Resume the paused Azure job now and answer with its status, or refuse with the reason.' });
  setHandler(statusQuery, () => status, { description: 'Stage, job status, progress and ETA, latest metrics, recent events, files, timeline, requests and errors.' });

  function pollIntervalSeconds(): number {
    const job = status.job;
    const { queuedIntervalSeconds, runningIntervalSeconds, nearFinishIntervalSeconds } = input.polling;
    if (!job || (WAITING_JOB_STATUSES as readonly string[]).includes(job.status) || job.status === 'paused') return queuedIntervalSeconds;
    if (job.estimatedFinish !== null && job.estimatedFinish - nowMs() / 1000 <= 2 * runningIntervalSeconds) return nearFinishIntervalSeconds;
    return runningIntervalSeconds;
  }

  async function uploadSource(role: FileRole, source: DataSource): Promise<UploadedFile> {
    if ('fileId' in source) return describeFile({ profile: input.profile, role, fileId: source.fileId });
    if ('url' in source) return importFile({ profile: input.profile, role, url: source.url });
    const report = status.validation?.files.find((f) => f.role === role);
    if (!report) throw ApplicationFailure.nonRetryable(`no validation report for the ${role} file`, 'InternalError');
    return uploadFile({ profile: input.profile, role, path: source.path, uploadSha256: report.uploadSha256, uploadBytes: report.uploadBytes });
  }

  async function prepareAndCreateJob(): Promise<void> {
    upsertSearchAttributes([
      { key: RUN_NAME, value: input.runName },
      { key: PROFILE, value: input.profile },
      { key: BASE_MODEL, value: input.baseModel },
    ]);
    setStage('preflight');
    pre = await preflight({ profile: input.profile, baseModel: input.baseModel, trainingType: input.trainingType, method: input.method });

    const trainingPath = 'path' in input.training ? input.training.path : undefined;
    const validationPath = input.validation && 'path' in input.validation ? input.validation.path : undefined;
    if (trainingPath) {
      setStage('validate');
      const nEpochs = input.hyperparameters.nEpochs;
      status.validation = await validateTrainingData({
        trainingPath,
        ...(validationPath ? { validationPath } : {}),
        model: input.baseModel,
        method: input.method.type,
        ...(typeof nEpochs === 'number' ? { nEpochs } : {}),
      });
    }

    setStage('upload');
    const sources: [FileRole, DataSource][] = [['training', input.training]];
    if (input.validation) sources.push(['validation', input.validation]);
    status.files = await Promise.all(sources.map(([role, source]) => uploadSource(role, source)));
    status.files = await Promise.all(
      status.files.map(async (file) => {
        const processed = await awaitFileProcessed({ profile: input.profile, role: file.role, fileId: file.fileId, intervalSeconds: input.polling.fileIntervalSeconds });
        return { ...file, status: processed.status, bytes: processed.bytes };
      }),
    );

    setStage('create_job');
    const training = status.files.find((f) => f.role === 'training')!.fileId;
    const validation = status.files.find((f) => f.role === 'validation')?.fileId;
    const body = fineTuningJobCreateBody(input, { training, validation }, identity);
    const job = await createFineTuningJob({ profile: input.profile, body, identity, notBefore: startedAtSeconds });
    applyJob(job);
    upsertSearchAttributes([{ key: JOB_ID, value: job.id }]);
  }

  /** Polls until the job ends; continues as new when history reaches its budget. */
  async function monitor(): Promise<JobSnapshot> {
    setStage('train');
    for (;;) {
      const info = workflowInfo();
      if (info.historyLength >= HISTORY_EVENT_BUDGET || info.continueAsNewSuggested) {
        await condition(allHandlersFinished);
        const next: PipelineContinuation = { status: { ...status, continuations: status.continuations + 1 }, preflight: pre!, lastEventId, startedAtSeconds };
        return continueAsNew<typeof fineTunePipeline>({ ...draft, continuation: next });
      }
      applyPoll(await pollFineTuningJob({ profile: input.profile, jobId: status.job!.id, afterEventId: lastEventId }));
      if (isTerminalJobStatus(status.job!.status)) return status.job!;
      await processSignalledRequests();
      wakeUp = false;
      await condition(() => wakeUp, `${pollIntervalSeconds()} seconds`);
      await processSignalledRequests();
    }
  }

  /** Undoes what this run started: the Azure job if it still runs, and the files it uploaded (per the cleanup policy). */
  async function compensate(outcome: 'failed' | 'cancelled'): Promise<string[]> {
    setStage('cleanup');
    if (status.job && !isTerminalJobStatus(status.job.status)) {
      try {
        applyJob(await cancelFineTuningJob({ profile: input.profile, jobId: status.job.id }));
      } catch (err) {
        recordError(`could not cancel Azure job ${status.job.id}: ${describeFailure(err)}`);
      }
    }
    const policy = input.cleanup.uploadedFiles;
    const ours = status.files.filter((f) => f.origin === 'uploaded' || f.origin === 'imported').map((f) => f.fileId);
    let deleted: string[] = [];
    if (ours.length > 0 && policy !== 'never') {
      try {
        deleted = await deleteFiles({ profile: input.profile, fileIds: ours });
      } catch (err) {
        recordError(`could not delete uploaded files ${ours.join(', ')}: ${describeFailure(err)}`);
      }
    }
    setStage(outcome);
    return deleted;
  }

  try {
    if (!continuation) await prepareAndCreateJob();
    const job = await monitor();

    if (job.status === 'failed') {
      const code = job.error?.code ?? 'unknown';
      throw ApplicationFailure.nonRetryable(
        `Azure fine-tuning job ${job.id} failed: ${code}: ${job.error?.message ?? 'no message'}`,
        'AzureJobFailed',
        { jobId: job.id, code, message: job.error?.message ?? null, param: job.error?.param ?? null },
      );
    }
    if (job.status === 'cancelled') {
      setStage('completed');
      return { outcome: 'cancelled_in_azure', runName: input.runName, jobId: job.id, fineTunedModel: null, trainedTokens: null, resultFileId: null, checkpoints: [], files: status.files, validation: status.validation, timeline: status.timeline, deletedFiles: [] };
    }

    setStage('collect');
    const results = await collectJobResults({ profile: input.profile, jobId: job.id });
    upsertSearchAttributes([{ key: FINE_TUNED_MODEL, value: results.fineTunedModel }]);
    let deletedFiles: string[] = [];
    if (input.cleanup.uploadedFiles === 'always') {
      setStage('cleanup');
      deletedFiles = await deleteFiles({ profile: input.profile, fileIds: status.files.filter((f) => f.origin === 'uploaded' || f.origin === 'imported').map((f) => f.fileId) });
    }
    setStage('completed');
    return {
      outcome: 'succeeded',
      runName: input.runName,
      jobId: job.id,
      fineTunedModel: results.fineTunedModel,
      trainedTokens: results.trainedTokens,
      resultFileId: results.resultFileId,
      checkpoints: results.checkpoints,
      files: status.files,
      validation: status.validation,
      timeline: status.timeline,
      deletedFiles,
    };
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => compensate('cancelled'));
      throw err;
    }
    recordError(describeFailure(err));
    await CancellationScope.nonCancellable(() => compensate('failed'));
    throw runFailure(err);
  }
}
