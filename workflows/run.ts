/**
 * One pipeline run's state and every transition of it: the status the `status` query shows, stage changes, the
 * requests callers sent, copies, what the run created in Azure (its compensation list) and its notifications.
 * The handlers (handlers.ts) and the stages (prepare, training, post-training, cleanup) change the run only through
 * this class. Workflow-safe.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { patched } from './patches';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { RunIdentity } from '../src/azure/requests';
import type { RunNotice } from '../src/notify/message';
import type { NotifyEvent } from '../src/notify/schema';
import { approvalEvidenceLines } from '../src/pipeline/approval';
import { addCurvePoint } from '../src/pipeline/curve';
import type { CopyRequest, DataSource, PipelineInput, PipelineInputDraft } from '../src/pipeline/input';
import { accrueTrainingTime, costLedger } from '../src/pipeline/cost';
import { azureHold } from '../src/pipeline/outcomes';
import { EVENTS_EVERY_POLLS, nextProgress, stageTaskText } from '../src/pipeline/progress';
import {
  isTerminalJobStatus,
  type ApprovalRecord,
  type ControlKind,
  type ControlRequest,
  type CopyStatus,
  type FileRole,
  type JobPoll,
  type JobSnapshot,
  type PipelineResult,
  type PipelineStatus,
  type PreflightResult,
  type RequestKind,
  type Stage,
} from '../src/pipeline/types';
import { buildRunReport } from '../src/report/build';
import { liveSummary } from '../src/report/notes';
import { recordStageEntered } from '../src/telemetry/workflow-metrics';
import { STAGE } from '../src/temporal/search-attributes';
import { activitiesFor, localActivitiesFor, type PipelineActivities, type PipelineLocalActivities } from './activity-stubs';
import type { PipelineContinuation } from './boundary';
import type { fineTunePipeline } from './pipeline';
import { runSlots, type RunSlots } from './slots';

const RECENT_EVENTS_KEPT = 20;
const REQUESTS_KEPT = 20;
const ERRORS_KEPT = 20;
/** A pause or resume sent while the run stops at its budget is refused (controlRefusal). */
const BUDGET_HOLD_PATCH = 'ftpipe-budget-hold-refusal';

/**
 * Patches that code can ask for the first time right after a local activity resolves: on the way from the monitor's
 * last poll to the run's end (notify, handlers settled), from preflight's local reads into the admission join or a
 * failure, from an adopted job's join into the monitor, from a poll into a copy's deployment, from a poll or a
 * local release of slots into the next step (local bookkeeping), and from the release after training into collect
 * (local results). When the SDK core
 * answers a query while a local activity's result waits for the workflow code, it records the result in one workflow
 * task and the code after it in the next; on replay it resolves the activity within the first task, before it
 * announces the second's patch markers, so such a patch would replay as false (docs/how-a-run-works.md,
 * "History and polling").
 * Asking them ahead, before the execution's first local activity, puts their markers before it. Replay stays
 * unchanged for histories that recorded them later: a patch asked during replay before its marker is announced is
 * false without a decision being kept, and true where its marker was recorded.
 */
export const PATCHES_ASKED_AHEAD = [
  'ftpipe-notify',
  'ftpipe-handlers-settled',
  'ftpipe-deployment-slots',
  'ftpipe-local-join',
  'ftpipe-copy-deploy-check',
  'ftpipe-monitor-flags',
  'ftpipe-history-budget',
  'ftpipe-local-poll',
  'ftpipe-local-bookkeeping',
  'ftpipe-local-results',
  'ftpipe-lean-spans',
] as const;

/** Asks PATCHES_ASKED_AHEAD; called before an execution's first local activity (prepare, the monitor's entry). */
export function askPatchesAhead(): void {
  for (const id of PATCHES_ASKED_AHEAD) patched(id);
}

/**
 * Runs from here on poll the job with a local activity (one workflow task per poll) and list its events only when
 * they can have changed (see EVENTS_EVERY_POLLS); runs and histories from before poll with an activity, events every time.
 */
export function localPollOn(): boolean {
  return patched('ftpipe-local-poll');
}

/** Workflow time: replay-safe because the SDK makes `Date` deterministic inside workflows. */
export function nowMs(): number {
  return new Date().getTime();
}
export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * The run ends (completes, fails or is cancelled) only once every accepted update has answered: a pause or resume
 * update may still be waiting on Azure, and a run that ended under it would cut its caller off with "workflow execution
 * already completed". No handler waits on the run's own progress (each awaits only its Azure call, which a
 * cancellation cuts short), so this cannot deadlock. Runs and histories from before end without waiting (the patch).
 */
export async function handlersSettled(): Promise<void> {
  if (patched('ftpipe-handlers-settled')) await condition(allHandlersFinished);
}

export function describeFailure(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
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

/**
 * The training ETA as a time of day (the current details are not redrawn between polls, so a countdown would go
 * stale): from Azure's estimated_finish when credible, else the step rate (src/pipeline/progress.ts).
 */
function finishText(progress: PipelineStatus['progress']): string {
  const { etaSeconds, measuredAtSeconds, etaBasis } = progress;
  if (etaSeconds === null || measuredAtSeconds === undefined) return 'ETA unknown';
  const at = new Date((measuredAtSeconds + etaSeconds) * 1000).toISOString().slice(0, 16).replace('T', ' ');
  return `ETA ${at} UTC (${etaBasis === 'estimated_finish' ? 'Azure\'s estimated_finish' : 'step rate'})`;
}

function requestedCopy(request: CopyRequest): CopyStatus {
  return { destinationResourceId: request.destinationResourceId, region: request.region, checkpoint: '', status: 'requested', deployment: null, error: null };
}

/**
 * What this run created and must undo if it fails or is cancelled. Walked once, in teardown order: deployments
 * (newest first), then the job is cancelled, then the run's slots go back (after the job: the next run's job must not
 * start beside this one), then the uploaded files (after the job that reads them).
 */
export type Created = { kind: 'deployment'; name: string } | { kind: 'job'; jobId: string } | { kind: 'slots' } | { kind: 'files'; fileIds: string[] };
export const TEARDOWN_ORDER: Created['kind'][] = ['deployment', 'job', 'slots', 'files'];

export class PipelineRun {
  readonly input: PipelineInput;
  readonly status: PipelineStatus;
  readonly acts: PipelineActivities;
  readonly localActs: PipelineLocalActivities;
  readonly slots: RunSlots;
  readonly identity: RunIdentity;
  /** True when this execution continues an earlier one (continue-as-new): preparation is done, training goes on. */
  readonly continued: boolean;
  /** Copy requests, index-aligned with status.copies. */
  readonly copyRequests: CopyRequest[];
  /** What this run created, in the order it did (see Created). */
  readonly created: Created[] = [];
  /** Set by a signal, an update or a copy request: cuts the training monitor's wait short. */
  wakeUp = false;
  /**
   * The training monitor's patch decisions, taken at its entry (`ftpipe-monitor-flags`, workflows/training.ts): with
   * them, what a patch after a job read would decide is on without asking `patched()` right after the read.
   */
  monitorFlags = false;
  /**
   * Search attributes go with the next stage change, in its one upsert command, and only those whose value the run
   * does not have yet (ftpipe's client starts a run with its name, profile, base model and first stage): each upsert is
   * a history event and a command, and at hundreds of runs the visibility store's write. Runs from before, and
   * continued executions (they carry their attributes and rarely change stage), upsert each at once.
   */
  readonly batchedUpserts: boolean;
  private pendingAttributes: SearchAttributeUpdatePair[] = [];
  /**
   * The fine-tuned and the promoted model's search attributes go with the next stage change (with `ftpipe-local-results`,
   * decided as collect starts): each was an upsert of its own.
   */
  resultUpserts = false;
  private trainingOver = false;
  /** A signal's refusal, shown in the current details while the run is in the stage it was refused in. */
  private shownRefusal: { text: string; stage: Stage } | null = null;
  private copiesClosed = false;
  private preflightResult: PreflightResult | undefined;
  private lastEventId: string | null;
  /** Polls since the monitor last listed the job's events (local polls: see pollJob). */
  private pollsWithoutEvents = 0;
  private readonly startedAtSeconds: number;
  private readonly draft: PipelineInputDraft;
  /** Notifications (webhooks) in flight: awaited before the run ends, so the last one is delivered before it closes. */
  private readonly notices: Promise<void>[] = [];

  constructor(parsed: { input: PipelineInput; draft: PipelineInputDraft; continuation: PipelineContinuation | undefined }) {
    const { input, draft, continuation } = parsed;
    this.input = input;
    this.draft = draft;
    this.continued = continuation !== undefined;
    this.batchedUpserts = !continuation && patched('ftpipe-batched-upserts');
    // A continuation from an older version may lack newer fields: the empty status fills them in.
    this.status = continuation ? { ...emptyStatus(input), ...continuation.status } : emptyStatus(input);
    if (!continuation) {
      for (const request of input.copies) this.status.copies.push(requestedCopy(request));
    }
    this.preflightResult = continuation?.preflight;
    this.lastEventId = continuation?.lastEventId ?? null;
    this.startedAtSeconds = continuation?.startedAtSeconds ?? Math.floor(nowMs() / 1000);
    this.identity = { workflowId: workflowInfo().workflowId, firstRunId: workflowInfo().firstExecutionRunId, runName: input.runName };
    this.acts = activitiesFor(input.timeouts, input.polling);
    this.localActs = localActivitiesFor(input.timeouts);
    this.slots = runSlots({ input, status: this.status, acts: this.acts, localActs: this.localActs, now: nowIso, changed: () => this.showDetails(), batchedUpserts: this.batchedUpserts });
    this.copyRequests = continuation ? [...continuation.copyRequests] : [...input.copies];
    // A continuation happens only while training: what the run created by then is in its status.
    if (continuation) {
      this.created.push({ kind: 'slots' });
      this.createdFiles();
      if (this.status.job && !this.adopted) this.created.push({ kind: 'job', jobId: this.status.job.id });
    }
  }

  get preflight(): PreflightResult {
    if (!this.preflightResult) throw ApplicationFailure.nonRetryable('the run has no preflight result', 'InternalError');
    return this.preflightResult;
  }
  set preflight(result: PreflightResult) {
    this.preflightResult = result;
  }

  /** The Azure job (it exists from create_job on). */
  get job(): JobSnapshot {
    if (!this.status.job) throw ApplicationFailure.nonRetryable(`the run has no Azure job (stage ${this.status.stage})`, 'InternalError');
    return this.status.job;
  }

  /** The run carries on from an Azure job it did not create (`fromJob`): it neither trains it again nor cancels it. */
  get adopted(): boolean {
    return this.input.fromJob !== undefined && this.status.job?.id === this.input.fromJob;
  }

  /** A short id unique to the run, for naming its temporary deployments. */
  get runTag(): string {
    return workflowInfo().firstExecutionRunId.slice(-8);
  }

  /* ---- Stages and what the Web UI shows ---- */

  /** What the Web UI shows as the run's current details (metadata, not history). */
  showDetails(): void {
    const { status } = this;
    const job = status.job;
    const { step, totalSteps, percent } = status.progress;
    const parts = [`stage: ${status.stage}`, `run: ${this.input.runName}`, `base model: ${status.baseModel}`];
    if (status.trainedFrom && status.trainedFrom !== status.baseModel) parts.push(`trained from: ${status.trainedFrom}`);
    if (job) parts.push(`job: ${job.id} (${job.status})${totalSteps ? `, step ${step ?? 0}/${totalSteps}${percent !== null ? ` (${percent}%)` : ''}` : ''}${job.status === 'running' ? `, ${finishText(status.progress)}` : ''}`);
    if (job?.fineTunedModel) parts.push(`model: ${job.fineTunedModel}`);
    if (status.admission && status.admission.state !== 'released' && status.admission.state !== 'granted') parts.push(status.admission.reason);
    if (status.azureHold) parts.push(status.azureHold.explanation);
    if (status.budgetHold) parts.push(status.budgetHold.explanation);
    if (status.stoppedEarly) parts.push(status.stoppedEarly.explanation);
    if (this.shownRefusal?.stage === status.stage) parts.push(this.shownRefusal.text);
    parts.push(...this.postTrainingDetails());
    setCurrentDetails(parts.join('\n'));
  }

  /**
   * After training: the step it is at (checkpoint k of K and its eval items n/N, a deployment's provisioning or smoke
   * test), the copies, and while it awaits approval the evidence and how to decide.
   */
  private postTrainingDetails(): string[] {
    const { status } = this;
    const lines: string[] = [];
    const task = status.task;
    if (task) lines.push(`now: ${stageTaskText(task)}${task.items ? `: ${task.items.done}/${task.items.total ?? '?'} items` : ''}${task.total !== null ? ` (${task.done ?? 0}/${task.total} ${task.unit ?? 'done'})` : ''}`);
    if (status.stage === 'await_approval' && status.approvalEvidence) {
      lines.push('awaiting approval: send the approveRun or rejectRun update ({"by": "name", "comment": "why"})', ...approvalEvidenceLines(status.approvalEvidence));
    }
    // A copy has a checkpoint once it started (after the evaluation).
    for (const copy of status.copies.filter((c) => c.checkpoint)) lines.push(`copy to ${copy.region}: ${copy.status}${copy.error ? `: ${copy.error}` : ''}`);
    return lines;
  }

  /** What the stage does now (shown in the current details and by `ftpipe status`); cleared by the next stage. */
  setTask(doing: string, count?: { subject: string; done: number; total: number; unit: 'models evaluated'; scoringOn?: string }): void {
    this.status.task = {
      subject: count?.subject ?? null, doing, done: count?.done ?? null, total: count?.total ?? null, unit: count?.unit ?? null,
      ...(count?.scoringOn ? { items: { deployment: count.scoringOn, done: 0, total: null } } : {}),
    };
    this.showDetails();
  }

  /** The eval items scored so far on `deployment` (the runEvalSet activity's evalProgress notice), while the run scores on it. */
  noteEvalItems(notice: { deployment: string; done: number; total: number }): void {
    const items = this.status.task?.items;
    if (!items || items.deployment !== notice.deployment || notice.done < items.done) return;
    items.done = notice.done;
    items.total = notice.total;
    this.showDetails();
  }

  setStage(stage: Stage): void {
    const { status } = this;
    if (status.stage === stage && status.timeline.length > 0) return;
    status.stage = stage;
    status.task = null;
    status.timeline.push({ stage, at: nowIso() });
    if (this.batchedUpserts) this.upsertWithStage(stage);
    else upsertSearchAttributes([{ key: STAGE, value: stage }]);
    recordStageEntered(stage);
    this.showDetails();
  }

  /** Search attributes for the Web UI and `ftpipe list`: set with the next stage change (see batchedUpserts). */
  setSearchAttributes(pairs: SearchAttributeUpdatePair[]): void {
    if (!this.batchedUpserts) return upsertSearchAttributes(pairs);
    this.pendingAttributes = [...this.pendingAttributes.filter((p) => !pairs.some((n) => n.key.name === p.key.name)), ...pairs];
  }

  private upsertWithStage(stage: Stage): void {
    const known = workflowInfo().typedSearchAttributes;
    const changed = [...this.pendingAttributes, { key: STAGE, value: stage }].filter((p) => (known.get(p.key) ?? null) !== (p.value ?? null));
    this.pendingAttributes = [];
    if (changed.length > 0) upsertSearchAttributes(changed);
  }

  recordError(message: string): void {
    const { errors } = this.status;
    errors.push({ at: nowIso(), stage: this.status.stage, message });
    errors.splice(0, Math.max(0, errors.length - ERRORS_KEPT));
  }

  /* ---- The Azure job ---- */

  applyJob(job: JobSnapshot): void {
    this.status.job = job;
  }

  /**
   * Progress from what Azure sends (see src/pipeline/progress.ts). A poll that read only the job (`eventsListed:
   * false`) changes neither progress nor metrics, and keeps what the last listing of events said: why the job is
   * paused and the billed tokens or hours (Azure's billed event may also have scrolled off a later listing's page).
   */
  applyPoll(poll: JobPoll): void {
    const { status } = this;
    const eventsListed = poll.eventsListed !== false;
    const before = status.job;
    if (!eventsListed && before?.pausedBy !== undefined) poll.job.pausedBy = before.pausedBy;
    if (poll.eventsListed !== undefined && poll.job.billedTokens == null && before?.billedTokens != null) poll.job.billedTokens = before.billedTokens;
    if (poll.job.billedHours == null && before?.billedHours != null) poll.job.billedHours = before.billedHours;
    this.applyJob(poll.job);
    // A pause Azure made by itself (RFT billing limit, Developer-tier preemption) is its own state, not a user pause.
    status.azureHold = azureHold(poll.job, this.input.budget);
    if (status.azureHold?.cause === 'billingLimit') status.passedBillingLimit = true;
    if (!eventsListed) return;
    for (const row of poll.curveRows ?? []) addCurvePoint(status.curve, row);
    if (poll.latestMetrics) {
      status.latestMetrics = poll.latestMetrics;
      addCurvePoint(status.curve, poll.latestMetrics);
    }
    status.progress = nextProgress(status.progress, poll, nowMs() / 1000);
    // A refresh for a pause or resume may overlap the monitor's own poll: keep each event once.
    const newEvents = poll.newEvents.filter((e) => !status.recentEvents.some((known) => known.id === e.id));
    if (newEvents.length > 0) {
      status.trainingTime = accrueTrainingTime(status.trainingTime, newEvents);
      this.lastEventId = newEvents[newEvents.length - 1]!.id;
      status.recentEvents.push(...newEvents);
      status.recentEvents.splice(0, Math.max(0, status.recentEvents.length - RECENT_EVENTS_KEPT));
    }
  }

  /**
   * Polls the job once (the monitor's poll, with the example count that turns steps into epochs). Local polls list
   * the job's events only when they can have changed: its status moved, every EVENTS_EVERY_POLLS-th poll, or `fresh`
   * (a decision on the job's step, such as a pause, is about to be made).
   */
  async pollJob(trainingExamples?: number | null, fresh = false): Promise<void> {
    const ref = { profile: this.input.profile, jobId: this.job.id, afterEventId: this.lastEventId, ...(trainingExamples !== undefined ? { trainingExamples } : {}) };
    if (!localPollOn()) return this.applyPoll(await this.acts.pollFineTuningJob(ref));
    const eventsDue = fresh || this.pollsWithoutEvents + 1 >= EVENTS_EVERY_POLLS;
    const poll = await this.localActs.pollFineTuningJob({ ...ref, events: eventsDue ? 'always' : 'ifStatusChanged', knownStatus: this.job.status });
    this.pollsWithoutEvents = poll.eventsListed === false ? this.pollsWithoutEvents + 1 : 0;
    this.applyPoll(poll);
  }

  /** Reads the job from Azure before a decision that depends on its state: the last poll may be an interval old. */
  async refreshJob(): Promise<void> {
    if (!this.status.job || isTerminalJobStatus(this.status.job.status)) return;
    await this.pollJob(undefined, true);
  }

  /** Why Azure would refuse `kind` given the job's state (read fresh by refreshJob first), or undefined when it allows it. */
  controlRefusal(kind: ControlKind): string | undefined {
    const { job, progress, stage } = this.status;
    if (!job) return `there is no Azure job yet (stage ${stage})`;
    // The run paused the job at its budget and stops: the job stays paused (a resume would train on past the budget).
    // Runs from before carried out a control sent then (the patch: refusing it schedules no pause or resume). This
    // follows a fresh job read (a local activity), so runs with the monitor flags decide it at the monitor's entry.
    if (this.status.budgetHold && (job.status === 'pausing' || job.status === 'paused') && (this.monitorFlags || patched(BUDGET_HOLD_PATCH))) return this.budgetHeldReason();
    if (kind === 'pause') {
      if (job.status !== 'running') return `Azure pauses only running jobs; Azure reports job ${job.id} is ${job.status}`;
      // Azure pauses a running job before its first step too (docs/emulator.md); ftpipe still waits for that step, since
      // carrying out a pause it refused before would change what replays of such runs do (a patch marker in every run).
      if (!progress.step || progress.step < 1) return `ftpipe pauses a job once it has trained its first step; Azure reports job ${job.id} has not yet (send the pause again then)`;
      return undefined;
    }
    return job.status === 'paused' ? undefined : `only a paused job can be resumed; Azure reports job ${job.id} is ${job.status}`;
  }

  /** Sends a pause or resume to Azure. */
  async control(kind: ControlKind): Promise<JobSnapshot> {
    const ref = { profile: this.input.profile, jobId: this.job.id };
    const job = kind === 'pause' ? await this.acts.pauseFineTuningJob(ref) : await this.acts.resumeFineTuningJob(ref);
    this.applyJob(job);
    return job;
  }

  /* ---- Requests callers sent ---- */

  recordRequest(request: ControlRequest): ControlRequest {
    const { requests } = this.status;
    requests.push(request);
    requests.splice(0, Math.max(0, requests.length - REQUESTS_KEPT));
    return request;
  }

  /**
   * Every refusal, of a signal or an update, whatever its kind, goes through here: `status.requests` keeps it with the
   * reason. A signal has no answer for its sender, so its refusal also shows in the run's current details (the Web UI)
   * until the next stage.
   */
  refuse(request: ControlRequest, reason: string): void {
    request.state = 'refused';
    request.reason = reason;
    if (request.via === 'signal') {
      this.shownRefusal = { text: `refused: ${request.kind} signal: ${reason}`, stage: this.status.stage };
      this.showDetails();
    }
  }

  /** A signal that cannot be carried out. */
  refuseSignal(kind: RequestKind, reason: string): void {
    this.refuse(this.recordRequest({ kind, via: 'signal', requestedAt: nowIso(), state: 'pending' }), reason);
  }

  /** A pause or resume signal: queued for the training monitor, which decides on fresh job state; refused once training is over. */
  queueControlSignal(kind: ControlKind, by: string | undefined): void {
    if (this.trainingOver) return this.refuseSignal(kind, this.trainingOverReason());
    this.recordRequest({ kind, via: 'signal', requestedAt: nowIso(), state: 'pending', ...(by ? { by } : {}) });
    this.wakeUp = true;
  }

  /** Training ended (or the run is being undone): no monitor will carry out a signal any more, so none stays pending. */
  endTraining(): void {
    if (this.trainingOver) return;
    this.trainingOver = true;
    const reason = this.trainingOverReason();
    for (const request of this.pendingSignals()) this.refuse(request, reason);
  }

  /** Why a pause or resume can no longer be carried out (training is over), or undefined while it goes on. */
  trainingOverRefusal(): string | undefined {
    return this.trainingOver ? this.trainingOverReason() : undefined;
  }

  private trainingOverReason(): string {
    const { job, stage, budgetHold } = this.status;
    if (budgetHold && (job?.status === 'pausing' || job?.status === 'paused')) return this.budgetHeldReason();
    return job ? `training is over: Azure reports job ${job.id} is ${job.status}` : `the run is ending without a job (stage ${stage})`;
  }

  private budgetHeldReason(): string {
    const { job, budgetHold } = this.status;
    return `the run stops at budget.maxTrainingUsd $${budgetHold!.maxTrainingUsd.toFixed(2)} (spent $${budgetHold!.spentUsd.toFixed(2)}) and leaves job ${job!.id} paused (Azure reports it ${job!.status}); resume it in Azure to train on`;
  }

  /** A pause or resume update, after its validator: Azure is asked now; a refusal fails the update with the reason. */
  async controlNow(kind: ControlKind, by: string | undefined): Promise<JobSnapshot> {
    await this.refreshJob();
    const record = this.recordRequest({ kind, via: 'update', requestedAt: nowIso(), state: 'pending', ...(by ? { by } : {}) });
    const reason = this.controlRefusal(kind);
    if (reason) {
      this.refuse(record, reason);
      throw ApplicationFailure.nonRetryable(`cannot ${kind}: ${reason}`, 'RequestRefused');
    }
    try {
      const job = await this.control(kind);
      record.state = 'done';
      this.wakeUp = true;
      return job;
    } catch (err) {
      this.refuse(record, describeFailure(err));
      throw err;
    }
  }

  /** The pause and resume signals not yet carried out (an update's request is its own handler's to carry out). */
  private pendingSignals(): ControlRequest[] {
    return this.status.requests.filter((r) => r.via === 'signal' && r.state === 'pending');
  }

  hasPendingSignals(): boolean {
    return this.pendingSignals().length > 0;
  }

  /** Carries out the pause and resume signals queued since the last poll (each on fresh job state). */
  async processSignalledRequests(): Promise<void> {
    if (!this.hasPendingSignals()) return;
    await this.refreshJob();
    // The live list: a signal that arrives while one is carried out is carried out in this round too.
    for (const request of this.status.requests) {
      if (request.via !== 'signal' || request.state !== 'pending') continue;
      const reason = this.controlRefusal(request.kind as ControlKind);
      if (reason) {
        this.refuse(request, reason);
        continue;
      }
      try {
        await this.control(request.kind as ControlKind);
        request.state = 'done';
      } catch (err) {
        if (isCancellation(err)) throw err;
        this.refuse(request, describeFailure(err));
      }
    }
  }

  /** The first approval decision wins; later ones answer with it. */
  decide(decision: ApprovalRecord['decision'], request: { by?: string; comment?: string }): ApprovalRecord {
    this.status.approval ??= { decision, by: request.by ?? 'unknown', at: nowIso(), ...(request.comment ? { comment: request.comment } : {}) };
    return this.status.approval;
  }

  /** Why a copy asked for now would not run, or undefined when it will. */
  copyRefusal(): string | undefined {
    const { stage } = this.status;
    if (['failed', 'cancelled', 'completed'].includes(stage)) return `the run has ended (stage ${stage})`;
    if (this.copiesClosed) return `copies are closed: the run has awaited its copies or is ending (stage ${stage})`;
    return undefined;
  }

  /** From here on a copy request is refused: nothing would start it. */
  closeCopies(): void {
    this.copiesClosed = true;
  }

  queueCopy(request: CopyRequest): CopyStatus {
    const record = requestedCopy(request);
    this.status.copies.push(record);
    this.copyRequests.push(request);
    this.wakeUp = true;
    return record;
  }

  /* ---- What the run created (compensation) ---- */

  /** Recorded before the create call: a create cut short by cancellation is still undone. */
  createdDeployment(name: string): void {
    this.created.push({ kind: 'deployment', name });
  }
  /** The deployment is gone (deleted, or kept on purpose): nothing to undo. */
  forgetDeployment(name: string): void {
    const at = this.created.findIndex((c) => c.kind === 'deployment' && c.name === name);
    if (at >= 0) this.created.splice(at, 1);
  }
  createdJob(job: JobSnapshot): void {
    this.applyJob(job);
    this.created.push({ kind: 'job', jobId: job.id });
  }
  createdSlots(): void {
    this.created.push({ kind: 'slots' });
  }
  /** The files of status.files this run uploaded or imported (a given file id is not the run's to delete). */
  createdFiles(): void {
    const fileIds = this.ownFileIds();
    if (fileIds.length > 0) this.created.push({ kind: 'files', fileIds });
  }
  ownFileIds(): string[] {
    return this.status.files.filter((f) => f.origin === 'uploaded' || f.origin === 'imported').map((f) => f.fileId);
  }
  /** What is left to undo, in teardown order (see Created). */
  toUndo(): Created[] {
    const newestFirst = [...this.created].reverse();
    return TEARDOWN_ORDER.flatMap((kind) => newestFirst.filter((c) => c.kind === kind));
  }

  /* ---- Lineage data identity ---- */

  /** The data's identity for a lineage: upload hashes of local files, else the URL or file id. */
  dataHash(): string {
    const { input, status } = this;
    const key = (role: FileRole, source: DataSource | undefined): string => {
      if (!source) return '-';
      if ('path' in source) return status.validation?.files.find((f) => f.role === role)?.uploadSha256.slice(0, 32) ?? '-';
      return 'url' in source ? `url:${source.url}` : `id:${source.fileId}`;
    };
    return `${key('training', input.training)}.${key('validation', input.validation)}`.slice(0, 1000);
  }

  /* ---- Continuing as new, notifying, ending ---- */

  continueAsNew(): Promise<never> {
    const next: PipelineContinuation = {
      fromRunId: workflowInfo().runId,
      status: { ...this.status, continuations: this.status.continuations + 1 },
      preflight: this.preflight,
      lastEventId: this.lastEventId,
      startedAtSeconds: this.startedAtSeconds,
      copyRequests: this.copyRequests,
    };
    return continueAsNew<typeof fineTunePipeline>({ ...this.draft, continuation: next });
  }

  /**
   * Tells the run's webhooks through an activity with bounded retries; a failure is recorded in `status.errors`,
   * never fails or holds up a stage. Runs that started before notifications existed skip them (the patch).
   */
  notify(event: NotifyEvent, outcome: string | null = null, reason: string | null = null): Promise<void> {
    if (!patched('ftpipe-notify')) return Promise.resolve();
    const { status, input } = this;
    const info = workflowInfo();
    const evaluation = status.evaluation;
    const notice: RunNotice = {
      event, runName: input.runName, workflowId: info.workflowId, runId: info.runId, namespace: info.namespace, stage: status.stage, at: nowIso(), outcome,
      jobId: status.job?.id ?? null, fineTunedModel: status.job?.fineTunedModel ?? null, reason: reason ?? evaluation?.decision.reason ?? null,
      chosenCheckpoint: evaluation ? { step: evaluation.analysis.chosen.step, model: evaluation.analysis.chosen.model } : null,
      scores: (evaluation?.scores ?? []).map((s) => ({ candidate: s.candidate, kind: s.kind, score: s.score })),
      deployments: status.deployments.map((d) => d.name),
    };
    const sent = this.acts.notifyRun({ notice, targets: input.notify }).then(
      () => undefined,
      (err: unknown) => {
        if (isCancellation(err)) return;
        this.recordError(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.message : `notification ${event} not delivered: ${describeFailure(err)}`);
      },
    );
    this.notices.push(sent);
    return sent;
  }

  /** Ends the run: enters `completed`, builds the result (its report sees the run completed), delivers the notifications. */
  async finish(build: () => PipelineResult): Promise<PipelineResult> {
    this.closeCopies();
    this.setStage('completed');
    const result = build();
    await Promise.all(this.notices);
    await this.notify(result.outcome === 'cancelled_in_azure' ? 'cancelled' : 'succeeded', result.outcome);
    await handlersSettled();
    return result;
  }

  /** The result of a run that ends without a model: skipped before any job, or its job cancelled in Azure. */
  withoutModel(outcome: 'skipped_no_new_data' | 'cancelled_in_azure' | 'not_deployable' | 'stopped_at_billing_limit' | 'stopped_at_budget' | 'stopped_early', jobId: string | null, notes: string[]): PipelineResult {
    const { status } = this;
    return {
      outcome, runName: this.input.runName, jobId, fineTunedModel: null, trainedTokens: null, resultFileId: null, checkpoints: [],
      files: status.files, validation: status.validation, timeline: status.timeline, deletedFiles: [], evaluation: null, approval: null, deployments: [],
      deletedDeployments: [], copies: status.copies, notes: [...notes, liveSummary([], [])],
      report: buildRunReport({ status, execution: 'COMPLETED', outcome, generatedAt: nowIso() }),
      cost: status.cost,
      ledger: costLedger(status, { now: nowIso() }),
    };
  }
}
