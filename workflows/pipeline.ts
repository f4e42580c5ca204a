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
  isCancellation,
  setCurrentDetails,
  setHandler,
  patched,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { activitiesFor } from './activity-stubs';
import {
  DESCRIPTIONS, approveSignal, approveUpdate, copyToRegionSignal, copyToRegionUpdate, pauseSignal, pauseUpdate, rejectSignal, rejectUpdate,
  resumeSignal, resumeUpdate, statusQuery, type ControlOutcome,
} from './messages';
import { runSlots, slotAmounts } from './slots';
import { budgetRefusal, estimateTrainingCost } from '../src/pipeline/cost';
import { awaitApproval, copyCheckpoint, deploy, evaluate, type PostTrainingContext } from './post-training';
import { addCurvePoint } from '../src/pipeline/curve';
import { buildRunReport } from '../src/report/build';
import { liveSummary, remainingNotes } from '../src/report/notes';
import { recordStageEntered } from '../src/telemetry/workflow-metrics';
import type { RunNotice } from '../src/notify/message';
import type { NotifyEvent } from '../src/notify/schema';
import { credentialNeeds } from '../src/azure/credentials';
import type { JobPlan, RunIdentity } from '../src/azure/requests';
import { nextProgress, pollIntervalSeconds } from '../src/pipeline/progress';
import type { CopyRequest, DataSource } from '../src/pipeline/input';
import {
  ApprovalInputSchema, ControlInputSchema, checkQueryArg, messageOrFail, parseMessage, parseWorkflowArgs,
  type ApprovalInput, type PipelineContinuation, type PipelineWorkflowInput,
} from './boundary';
import { CopyRequestSchema, type PipelineInput } from '../src/pipeline/input';
import {
  isTerminalJobStatus,
  type ApprovalRecord,
  type ControlKind,
  type RequestKind,
  type CopyStatus,
  type ControlRequest,
  type FileRole,
  type JobPoll,
  type JobSnapshot,
  type PipelineResult,
  type PipelineStatus,
  type PreflightResult,
  type Stage,
  type UploadedFile,
} from '../src/pipeline/types';
import { BASE_MODEL, DATA_HASH, FINE_TUNED_MODEL, JOB_ID, LINEAGE, PROFILE, PROMOTED_MODEL, RUN_NAME, STAGE } from '../src/temporal/search-attributes';

/** Continue as new once this many events are in history: keeps every run's history far below Temporal's limits. */
export const HISTORY_EVENT_BUDGET = 150;
const RECENT_EVENTS_KEPT = 20;
const REQUESTS_KEPT = 20;
const ERRORS_KEPT = 20;
/** Azure's seed range is 0..2147483647. */
const MAX_SEED = 2_147_483_647;

export type { ApprovalInput, ControlInput, PipelineContinuation, PipelineWorkflowInput } from './boundary';

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
    evaluation: null,
    approval: null,
    deployments: [],
    copies: [],
    curve: [],
    results: null,
    admission: null,
    cost: null,
  };
}

function requestedCopy(request: CopyRequest): CopyStatus {
  return { destinationResourceId: request.destinationResourceId, region: request.region, checkpoint: '', status: 'requested', deployment: null, error: null };
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
  const { input, draft, continuation } = parseWorkflowArgs(args);

  // A continuation from an older version may lack newer fields: the empty status fills them in.
  const status: PipelineStatus = continuation ? { ...emptyStatus(input), ...continuation.status } : emptyStatus(input);
  if (!continuation) {
    for (const request of input.copies) status.copies.push(requestedCopy(request));
  }
  let pre: PreflightResult | undefined = continuation?.preflight;
  let lastEventId: string | null = continuation?.lastEventId ?? null;
  const startedAtSeconds = continuation?.startedAtSeconds ?? Math.floor(nowMs() / 1000);
  const identity: RunIdentity = { workflowId: workflowInfo().workflowId, firstRunId: workflowInfo().firstExecutionRunId, runName: input.runName };
  let wakeUp = false;

  const acts = activitiesFor(input.timeouts, input.polling);
  const {
    preflight, proveCredentials, validateTrainingData, uploadFile, describeFile, importFile, awaitFileProcessed, deleteFiles,
    createFineTuningJob, pollFineTuningJob, pauseFineTuningJob, resumeFineTuningJob, cancelFineTuningJob, collectJobResults, deleteDeployment, lineageState,
  } = acts;

  const slots = runSlots({ input, status, acts, now: nowIso, changed: () => showDetails() });

  /** What the Web UI shows as the run's current details (metadata, not history). */
  function showDetails(): void {
    const job = status.job;
    const { step, totalSteps, percent } = status.progress;
    const parts = [`stage: ${status.stage}`, `run: ${input.runName}`, `base model: ${status.baseModel}`];
    if (job) parts.push(`job: ${job.id} (${job.status})${totalSteps ? `, step ${step ?? 0}/${totalSteps}${percent !== null ? ` (${percent}%)` : ''}` : ''}`);
    if (job?.fineTunedModel) parts.push(`model: ${job.fineTunedModel}`);
    if (status.admission && status.admission.state !== 'released' && status.admission.state !== 'granted') parts.push(status.admission.reason);
    setCurrentDetails(parts.join('\n'));
  }

  function setStage(stage: Stage): void {
    if (status.stage === stage && status.timeline.length > 0) return;
    status.stage = stage;
    status.timeline.push({ stage, at: nowIso() });
    upsertSearchAttributes([{ key: STAGE, value: stage }]);
    recordStageEntered(stage);
    showDetails();
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
  }

  /** Progress from what Azure sends (see src/pipeline/progress.ts). */
  function applyPoll(poll: JobPoll): void {
    applyJob(poll.job);
    if (poll.latestMetrics) {
      status.latestMetrics = poll.latestMetrics;
      addCurvePoint(status.curve, poll.latestMetrics);
    }
    status.progress = nextProgress(status.progress, poll, nowMs() / 1000);
    // A refresh for a pause or resume may overlap the monitor's own poll: keep each event once.
    const newEvents = poll.newEvents.filter((e) => !status.recentEvents.some((known) => known.id === e.id));
    if (newEvents.length > 0) {
      lastEventId = newEvents[newEvents.length - 1]!.id;
      status.recentEvents.push(...newEvents);
      status.recentEvents.splice(0, Math.max(0, status.recentEvents.length - RECENT_EVENTS_KEPT));
    }
  }

  /** Why Azure would refuse `kind` given the job's state (read fresh by refreshJob first), or undefined when it allows it. */
  function refusal(kind: ControlKind): string | undefined {
    const job = status.job;
    if (!job) return `there is no Azure job yet (stage ${status.stage})`;
    if (kind === 'pause') {
      if (job.status !== 'running') return `Azure pauses only running jobs; Azure reports job ${job.id} is ${job.status}`;
      if (!status.progress.step || status.progress.step < 1) return `Azure pauses a job only after it trained at least one step; Azure reports job ${job.id} has not yet`;
      return undefined;
    }
    return job.status === 'paused' ? undefined : `only a paused job can be resumed; Azure reports job ${job.id} is ${job.status}`;
  }

  /** Reads the job from Azure before a decision that depends on its state: the last poll may be an interval old. */
  async function refreshJob(): Promise<void> {
    if (!status.job || isTerminalJobStatus(status.job.status)) return;
    applyPoll(await pollFineTuningJob({ profile: input.profile, jobId: status.job.id, afterEventId: lastEventId }));
  }

  async function control(kind: ControlKind): Promise<JobSnapshot> {
    const ref = { profile: input.profile, jobId: status.job!.id };
    const job = kind === 'pause' ? await pauseFineTuningJob(ref) : await resumeFineTuningJob(ref);
    applyJob(job);
    return job;
  }

  async function processSignalledRequests(): Promise<void> {
    if (!status.requests.some((r) => r.state === 'pending')) return;
    await refreshJob();
    for (const request of status.requests) {
      if (request.state !== 'pending') continue;
      const reason = refusal(request.kind as ControlKind);
      if (reason) {
        request.state = 'refused';
        request.reason = reason;
        continue;
      }
      try {
        await control(request.kind as ControlKind);
        request.state = 'done';
      } catch (err) {
        if (isCancellation(err)) throw err;
        request.state = 'refused';
        request.reason = describeFailure(err);
      }
    }
  }

  const refuse = (kind: RequestKind, reason: string): void => {
    recordRequest({ kind, via: 'signal', requestedAt: nowIso(), state: 'refused', reason });
  };
  const onSignal = (kind: ControlKind) => (raw?: unknown): void => {
    const parsed = parseMessage(ControlInputSchema, raw, {});
    if (!parsed.ok) return refuse(kind, parsed.reason);
    recordRequest({ kind, via: 'signal', requestedAt: nowIso(), state: 'pending', ...(parsed.value.by ? { by: parsed.value.by } : {}) });
    wakeUp = true;
  };
  const onUpdate = (kind: ControlKind) => async (raw?: unknown): Promise<ControlOutcome> => {
    const request = messageOrFail(ControlInputSchema, raw, kind, {});
    await refreshJob();
    const reason = refusal(kind);
    if (reason) throw ApplicationFailure.nonRetryable(`cannot ${kind}: ${reason}`, 'RequestRefused');
    const record = recordRequest({ kind, via: 'update', requestedAt: nowIso(), state: 'pending', ...(request.by ? { by: request.by } : {}) });
    try {
      const job = await control(kind);
      record.state = 'done';
      wakeUp = true;
      return { jobStatus: job.status, message: `${kind === 'pause' ? 'pause' : 'resume'} sent to Azure; job ${job.id} is ${job.status}` };
    } catch (err) {
      record.state = 'refused';
      record.reason = describeFailure(err);
      throw err;
    }
  };
  /** Refuses only what cannot be stale (bad input, no job yet, a job that ended); the job's state is read from Azure by the handler. */
  const validator = (kind: ControlKind) => (raw?: unknown): void => {
    messageOrFail(ControlInputSchema, raw, kind, {});
    const job = status.job;
    if (!job) throw new Error(`cannot ${kind}: there is no Azure job yet (stage ${status.stage})`);
    if (isTerminalJobStatus(job.status)) throw new Error(`cannot ${kind}: job ${job.id} has ended (${job.status})`);
  };

  setHandler(pauseSignal, onSignal('pause'), { description: DESCRIPTIONS.pause });
  setHandler(resumeSignal, onSignal('resume'), { description: DESCRIPTIONS.resume });
  setHandler(pauseUpdate, onUpdate('pause'), { validator: validator('pause'), description: DESCRIPTIONS.pauseRun });
  setHandler(resumeUpdate, onUpdate('resume'), { validator: validator('resume'), description: DESCRIPTIONS.resumeRun });
  setHandler(statusQuery, (raw?: unknown) => {
    checkQueryArg(raw);
    return status;
  }, { description: DESCRIPTIONS.status });

  const decide = (decision: ApprovalRecord['decision'], request: ApprovalInput): ApprovalRecord => {
    status.approval ??= { decision, by: request.by ?? 'unknown', at: nowIso(), ...(request.comment ? { comment: request.comment } : {}) };
    return status.approval;
  };
  const onApprovalSignal = (decision: ApprovalRecord['decision']) => (raw?: unknown): void => {
    const parsed = parseMessage(ApprovalInputSchema, raw, {});
    if (parsed.ok) decide(decision, parsed.value);
    else refuse(decision === 'approved' ? 'approve' : 'reject', parsed.reason);
  };
  const approvalValidator = (raw?: unknown): void => {
    messageOrFail(ApprovalInputSchema, raw, 'approval', {});
    if (status.stage !== 'await_approval') throw new Error(`the run is not awaiting approval (stage ${status.stage})`);
  };
  setHandler(approveSignal, onApprovalSignal('approved'), { description: DESCRIPTIONS.approve });
  setHandler(rejectSignal, onApprovalSignal('rejected'), { description: DESCRIPTIONS.reject });
  setHandler(approveUpdate, async (raw?: unknown) => decide('approved', messageOrFail(ApprovalInputSchema, raw, 'approve', {})), { validator: approvalValidator, description: DESCRIPTIONS.approveRun });
  setHandler(rejectUpdate, async (raw?: unknown) => decide('rejected', messageOrFail(ApprovalInputSchema, raw, 'reject', {})), { validator: approvalValidator, description: DESCRIPTIONS.rejectRun });

  /** Copy requests, index-aligned with status.copies. */
  const copyRequests: CopyRequest[] = continuation ? [...continuation.copyRequests] : [...input.copies];
  const queueCopy = (request: CopyRequest): CopyStatus => {
    const record = requestedCopy(request);
    status.copies.push(record);
    copyRequests.push(request);
    wakeUp = true;
    return record;
  };
  const copyValidator = (raw?: unknown): void => {
    messageOrFail(CopyRequestSchema, raw, 'copy');
    if (['failed', 'cancelled', 'completed'].includes(status.stage)) throw new Error(`the run has ended (stage ${status.stage})`);
  };
  setHandler(copyToRegionSignal, (raw?: unknown) => {
    const parsed = parseMessage(CopyRequestSchema, raw);
    if (parsed.ok) queueCopy(parsed.value);
    else refuse('copyToRegion', parsed.reason);
  }, { description: DESCRIPTIONS.copyToRegion });
  setHandler(copyToRegionUpdate, async (raw?: unknown) => queueCopy(messageOrFail(CopyRequestSchema, raw, 'copy')), { validator: copyValidator, description: DESCRIPTIONS.copyToRegionRun });

  async function uploadSource(role: FileRole, source: DataSource): Promise<UploadedFile> {
    if ('fileId' in source) return describeFile({ profile: input.profile, role, fileId: source.fileId });
    if ('url' in source) return importFile({ profile: input.profile, role, url: source.url });
    const report = status.validation?.files.find((f) => f.role === role);
    if (!report) throw ApplicationFailure.nonRetryable(`no validation report for the ${role} file`, 'InternalError');
    return uploadFile({ profile: input.profile, role, path: report.path, uploadSha256: report.uploadSha256, uploadBytes: report.uploadBytes });
  }

  /** The result of a run that ends without a model: skipped before any job, or its job cancelled in Azure. */
  function withoutModel(outcome: 'skipped_no_new_data' | 'cancelled_in_azure', jobId: string | null, notes: string[]): PipelineResult {
    return {
      outcome, runName: input.runName, jobId, fineTunedModel: null, trainedTokens: null, resultFileId: null, checkpoints: [],
      files: status.files, validation: status.validation, timeline: status.timeline, deletedFiles: [], evaluation: null, approval: null, deployments: [],
      deletedDeployments: [], copies: status.copies, notes: [...notes, liveSummary([], [])],
      report: buildRunReport({ status, execution: 'COMPLETED', outcome, generatedAt: nowIso() }),
      cost: status.cost,
    };
  }

  /** The data's identity for a lineage: upload hashes of local files, else the URL or file id. */
  function dataHash(): string {
    const key = (role: FileRole, source: DataSource | undefined): string => {
      if (!source) return '-';
      if ('path' in source) return status.validation?.files.find((f) => f.role === role)?.uploadSha256.slice(0, 32) ?? '-';
      return 'url' in source ? `url:${source.url}` : `id:${source.fileId}`;
    };
    return `${key('training', input.training)}.${key('validation', input.validation)}`.slice(0, 1000);
  }

  /** Prepares the job; returns false when a lineage run finds no new data (nothing is created then). */
  async function prepareAndCreateJob(): Promise<boolean> {
    upsertSearchAttributes([
      { key: RUN_NAME, value: input.runName },
      { key: PROFILE, value: input.profile },
      ...(input.lineage ? [{ key: LINEAGE, value: input.lineage.name }] : []),
    ]);
    setStage('preflight');
    const lineage = input.lineage ? await lineageState({ lineage: input.lineage.name }) : undefined;
    if (input.lineage?.continueFromLatest && lineage?.promotedModel) status.baseModel = lineage.promotedModel;
    upsertSearchAttributes([{ key: BASE_MODEL, value: status.baseModel }]);
    // A promoted earlier checkpoint is named by its ftchkpt- id (how Azure takes it); the catalogue knows the lineage's base.
    const catalogModel = status.baseModel.startsWith('ftchkpt-') ? input.baseModel : status.baseModel;
    pre = await preflight({
      profile: input.profile, baseModel: catalogModel, trainingType: input.trainingType, method: input.method, deployment: input.deployment,
      evalSetPath: input.evaluation.evalSet?.path, graders: input.evaluation.graders, copies: input.copies,
    });
    if (pre.warnings?.length) status.warnings = pre.warnings;
    await proveCredentials(credentialNeeds(input));

    const trainingPath = 'path' in input.training ? input.training.path : undefined;
    const validationPath = input.validation && 'path' in input.validation ? input.validation.path : undefined;
    if (trainingPath || validationPath) {
      setStage('validate');
      const nEpochs = input.hyperparameters.nEpochs;
      status.validation = await validateTrainingData({
        ...(trainingPath ? { trainingPath } : {}),
        ...(validationPath ? { validationPath } : {}),
        model: catalogModel,
        method: input.method.type,
        ...(typeof nEpochs === 'number' ? { nEpochs } : {}),
      });
    }
    const hash = dataHash();
    upsertSearchAttributes([{ key: DATA_HASH, value: hash }]);
    if (input.lineage?.skipUnchangedData && lineage?.lastDataHash === hash) return false;

    status.cost = estimateTrainingCost({ catalogModel: pre.catalogModel, method: input.method.type, trainingType: input.trainingType, validation: status.validation });
    const overBudget = budgetRefusal(input.budget.maxTrainingUsd, status.cost);
    if (overBudget) throw ApplicationFailure.nonRetryable(overBudget, 'BudgetExceeded', { estimate: status.cost });

    setStage('await_slot');
    await slots.acquire(pre.accountResourceId, slotAmounts(input, status.validation));
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
    // The dated API documents no metadata: there the seed (drawn here, replay-safe, and recorded when the input has
    // none) with model, files, suffix and creation time is what identifies this run's job on a retried create.
    status.seed = input.seed ?? status.seed ?? Number.parseInt(uuid4().slice(0, 8), 16) % (MAX_SEED + 1);
    const plan: JobPlan = {
      baseModel: status.baseModel, method: input.method, hyperparameters: input.hyperparameters, seed: status.seed, suffix: input.suffix,
      trainingType: input.trainingType, metadata: input.metadata, files: { training, validation }, identity,
    };
    const mayExist = workflowInfo().attempt > 1 || workflowInfo().continuedFromExecutionRunId !== undefined;
    const job = await createFineTuningJob({ profile: input.profile, plan, notBefore: Math.floor(nowMs() / 1000), mayExist });
    applyJob(job);
    upsertSearchAttributes([{ key: JOB_ID, value: job.id }]);
    return true;
  }

  /** Polls until the job ends; continues as new when history reaches its budget. */
  async function monitor(): Promise<JobSnapshot> {
    setStage('train');
    for (;;) {
      const info = workflowInfo();
      if (info.historyLength >= HISTORY_EVENT_BUDGET || info.continueAsNewSuggested) {
        await condition(allHandlersFinished);
        const next: PipelineContinuation = { fromRunId: workflowInfo().runId, status: { ...status, continuations: status.continuations + 1 }, preflight: pre!, lastEventId, startedAtSeconds, copyRequests };
        return continueAsNew<typeof fineTunePipeline>({ ...draft, continuation: next });
      }
      const trainingExamples = status.validation?.files.some((f) => f.role === 'training') ? status.validation.examples.training : null;
      applyPoll(await pollFineTuningJob({ profile: input.profile, jobId: status.job!.id, afterEventId: lastEventId, trainingExamples }));
      showDetails();
      if (isTerminalJobStatus(status.job!.status)) return status.job!;
      await processSignalledRequests();
      wakeUp = false;
      await condition(() => wakeUp, `${pollIntervalSeconds(status.job, status.progress, input.polling)} seconds`);
      await processSignalledRequests();
    }
  }

  /** Undoes what this run started: the Azure job if it still runs, and the files it uploaded (per the cleanup policy). */
  /** Deployments this run created that must not outlive it (evaluation ones, a version not yet promoted). */
  const temporaryDeployments = new Set<string>();

  async function compensate(outcome: 'failed' | 'cancelled'): Promise<string[]> {
    setStage('cleanup');
    for (const name of [...temporaryDeployments].reverse()) {
      try {
        await deleteDeployment({ profile: input.profile, name, pollIntervalSeconds: input.polling.deploymentIntervalSeconds });
        temporaryDeployments.delete(name);
      } catch (err) {
        recordError(`could not delete deployment ${name}: ${describeFailure(err)}`);
      }
    }
    if (status.job && !isTerminalJobStatus(status.job.status)) {
      try {
        applyJob(await cancelFineTuningJob({ profile: input.profile, jobId: status.job.id }));
      } catch (err) {
        recordError(`could not cancel Azure job ${status.job.id}: ${describeFailure(err)}`);
      }
    }
    // After the job is cancelled: the next run's job must not start beside this one.
    await slots.release();
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

  /** Notifications (webhooks) in flight: awaited before the run ends, so the last one is delivered before it closes. */
  const notices: Promise<void>[] = [];
  /**
   * Tells the run's webhooks through an activity with bounded retries; a failure is recorded in `status.errors`,
   * never fails or holds up a stage. Runs that started before notifications existed skip them (the patch).
   */
  function notify(event: NotifyEvent, outcome: string | null = null, reason: string | null = null): Promise<void> {
    if (!patched('ftpipe-notify')) return Promise.resolve();
    const info = workflowInfo();
    const evaluation = status.evaluation;
    const notice: RunNotice = {
      event, runName: input.runName, workflowId: info.workflowId, runId: info.runId, namespace: info.namespace, stage: status.stage, at: nowIso(), outcome,
      jobId: status.job?.id ?? null, fineTunedModel: status.job?.fineTunedModel ?? null, reason: reason ?? evaluation?.decision.reason ?? null,
      chosenCheckpoint: evaluation ? { step: evaluation.analysis.chosen.step, model: evaluation.analysis.chosen.model } : null,
      scores: (evaluation?.scores ?? []).map((s) => ({ candidate: s.candidate, kind: s.kind, score: s.score })),
      deployments: status.deployments.map((d) => d.name),
    };
    const sent = acts.notifyRun({ notice, targets: input.notify }).then(
      () => undefined,
      (err: unknown) => {
        if (isCancellation(err)) return;
        recordError(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.message : `notification ${event} not delivered: ${describeFailure(err)}`);
      },
    );
    notices.push(sent);
    return sent;
  }
  async function finish(result: PipelineResult): Promise<PipelineResult> {
    await Promise.all(notices);
    await notify(result.outcome === 'cancelled_in_azure' ? 'cancelled' : 'succeeded', result.outcome);
    return result;
  }

  try {
    if (!continuation && !(await prepareAndCreateJob())) {
      setStage('completed');
      return await finish(withoutModel('skipped_no_new_data', null, [`skipped: no new data since the lineage's last run (data ${dataHash()})`]));
    }
    const job = await monitor();
    await slots.release();

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
      return await finish(withoutModel('cancelled_in_azure', job.id, []));
    }

    setStage('collect');
    const results = await collectJobResults({ profile: input.profile, jobId: job.id });
    status.results = results;
    upsertSearchAttributes([{ key: FINE_TUNED_MODEL, value: results.fineTunedModel }]);

    const post: PostTrainingContext = {
      input, status, acts, jobId: job.id, results, interval: input.polling.deploymentIntervalSeconds, runTag: workflowInfo().firstExecutionRunId.slice(-8),
      setStage, now: nowIso, temporary: temporaryDeployments,
      approval: () => status.approval,
      setApproval: (record) => { status.approval = record; },
    };
    const evaluation = await evaluate(post);
    status.evaluation = evaluation;
    const chosen = evaluation.analysis.chosen;

    // Copies run beside the deployment: those asked for in the input now, later ones (copyToRegion) as they come.
    let copiesStarted = 0;
    const copyWork: Promise<void>[] = [];
    const startPendingCopies = (): void => {
      for (; copiesStarted < copyRequests.length; copiesStarted++) {
        const record = status.copies[copiesStarted]!;
        record.checkpoint = chosen.id;
        copyWork.push(copyCheckpoint(post, copyRequests[copiesStarted]!, chosen, record));
      }
    };
    if (copyRequests.length > 0) setStage('copy');
    startPendingCopies();

    let deletedDeployments: string[] = [];
    let keptVersions: string[] = [];
    let promoted = evaluation.decision.promoted;
    if (input.deployment && promoted) {
      if (input.deployment.requireApproval) {
        void notify('awaiting_approval');
        const decision = await awaitApproval(post);
        if (decision.decision === 'rejected') {
          promoted = false;
          evaluation.decision = { promoted: false, reason: `rejected by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}` };
        }
      }
      if (promoted) {
        const deployed = await deploy(post, chosen.deployAs ?? chosen.id);
        status.deployments = deployed.live;
        deletedDeployments = deployed.retired;
        keptVersions = deployed.live.slice(1).map((d) => d.name);
      }
    }
    startPendingCopies();
    await Promise.all(copyWork);
    startPendingCopies();
    await Promise.all(copyWork);
    status.deployments.push(...status.copies.flatMap((c) => (c.deployment ? [c.deployment] : [])));

    setStage('cleanup');
    const ours = status.files.filter((f) => f.origin === 'uploaded' || f.origin === 'imported').map((f) => f.fileId);
    let deletedFiles: string[] = [];
    if (input.cleanup.uploadedFiles === 'always' && ours.length > 0) deletedFiles = await deleteFiles({ profile: input.profile, fileIds: ours });
    if (input.cleanup.resultFiles === 'delete' && results.resultFileId) deletedFiles.push(...(await deleteFiles({ profile: input.profile, fileIds: [results.resultFileId] })));

    const createdByRun = status.deployments.filter((d) => !keptVersions.includes(d.name)).map((d) => d.name);
    const notes = [liveSummary(status.deployments, createdByRun), ...remainingNotes(status.deployments)];
    const keptFiles = [...ours.filter((id) => !deletedFiles.includes(id)), ...(results.resultFileId && !deletedFiles.includes(results.resultFileId) ? [results.resultFileId] : [])];
    if (keptFiles.length > 0) notes.push(`Files kept on the account: ${keptFiles.join(', ')}.`);
    if (!promoted) notes.push(`Not deployed: ${evaluation.decision.reason}.`);

    const outcome = input.deployment && !promoted ? 'not_promoted' : 'succeeded';
    // The promoted model as Azure takes it for deployment and further fine-tuning: fine_tuned_model or an ftchkpt- id.
    if (outcome === 'succeeded') upsertSearchAttributes([{ key: PROMOTED_MODEL, value: chosen.deployAs ?? chosen.id }]);
    setStage('completed');
    return await finish({
      outcome,
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
      evaluation,
      approval: status.approval,
      deployments: status.deployments,
      deletedDeployments,
      copies: status.copies,
      notes,
      cost: status.cost,
      report: buildRunReport({ status, execution: 'COMPLETED', outcome, deleted: [...deletedDeployments, ...deletedFiles], generatedAt: nowIso() }),
    });
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        await compensate('cancelled');
        await notify('cancelled');
      });
      throw err;
    }
    recordError(describeFailure(err));
    await CancellationScope.nonCancellable(async () => {
      await compensate('failed');
      await notify('failed', null, describeFailure(err));
    });
    throw runFailure(err);
  }
}
