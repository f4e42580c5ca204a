/**
 * Builds a RunReport from what a run shows: its `status` (any stage, open or closed), plus the outcome and the
 * failure once it has ended. The workflow builds its result's report with it, and `ftpipe report` builds reports of
 * running, failed and cancelled runs with it. Pure and workflow-safe.
 */
import { costLedger } from '../pipeline/cost';
import type { AutomaticEvaluation, CostLedger, DatasetFacts, PipelineStatus, ReportQueue, ReportState, RunReport, StageSpan } from '../pipeline/types';

/** The evaluate stage deploys each candidate on the Developer tier (workflows/post-training.ts). */
const EVALUATION_SKU = 'DeveloperTier';

export interface ReportSources {
  status: PipelineStatus;
  /** Said after the state's summary: e.g. that the status query could not be answered and the report is partial. */
  caveat?: string;
  /** The job and model known from elsewhere (search attributes) when the status has no job. */
  known?: { jobId: string | null; fineTunedModel: string | null };
  /** Temporal's status of the run: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT. */
  execution: string;
  /** The result's outcome, once the run completed. */
  outcome?: string | null;
  /** Why it failed or was cancelled. */
  failure?: string | null;
  /** What the run deleted (the result lists it). */
  deleted?: string[];
  /** Live deployments the run kept from earlier runs (keepVersions); when not given, read from the status (see keptVersions). */
  keptFromBefore?: string[];
  generatedAt: string;
}

const FINAL_STAGES = new Set(['completed', 'failed', 'cancelled']);

/** The stage the run was in before it went to cleanup and its end (where it failed or was cancelled). */
function workingStage(status: PipelineStatus): string {
  const stages = status.timeline.map((t) => t.stage).filter((s) => !FINAL_STAGES.has(s) && s !== 'cleanup');
  return status.errors[status.errors.length - 1]?.stage ?? stages[stages.length - 1] ?? status.stage;
}

function stateOf(src: ReportSources): ReportState {
  const { status, execution } = src;
  const outcome = src.outcome ?? null;
  const failure = src.failure ?? null;
  const base = { execution, stage: status.stage, outcome, failure };
  // PAUSED: the Temporal workflow itself is paused (an operator's act); it goes on when unpaused.
  if (execution === 'RUNNING' || execution === 'PAUSED') {
    const after = status.evaluation
      ? 'Training and its evaluation are final; the deployment, copies and cleanup are not.'
      : 'The curves, stages and everything after training will change until it ends.';
    // A job Azure paused by itself (preemption, the RFT billing limit) is its own state, not a user's pause.
    const hold = status.azureHold && status.job?.status === 'paused' ? ` ${status.azureHold.explanation}.` : '';
    const summary = status.stage === 'await_approval'
      ? `Awaiting approval: training and evaluation are final; whether the chosen checkpoint is deployed is not decided yet (approve or reject the run).`
      : `Running (stage ${status.stage}): this is the run as of ${src.generatedAt}.${hold} ${after}`;
    return { ...base, final: false, summary };
  }
  if (execution === 'COMPLETED') return { ...base, final: true, summary: `Final: the run completed${outcome ? ` (${outcome.replace(/_/g, ' ')})` : ''}.` };
  const where = workingStage(status);
  if (execution === 'FAILED') {
    return { ...base, final: true, summary: `Final: the run failed in stage ${where}${failure ? `: ${failure}` : ''}. What it did before is below; its cleanup deleted its temporary deployments and, per its policy, its uploads.` };
  }
  if (execution === 'CANCELLED') return { ...base, final: true, summary: `Final: the run was cancelled in stage ${where}; its cleanup cancelled the Azure job and deleted what it had created (per its policy).` };
  return { ...base, final: true, summary: `Final: the run ended ${execution.toLowerCase().replace(/_/g, ' ')} in stage ${where}; no cleanup ran, so what it created may still exist.` };
}

function seconds(from: string, to: string): number {
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
}

function stagesOf(status: PipelineStatus, open: boolean, now: string): StageSpan[] {
  const timeline = status.timeline;
  return timeline.map((t, i) => {
    const next = timeline[i + 1];
    if (next) return { stage: t.stage, startedAt: t.at, seconds: seconds(t.at, next.at), ongoing: false };
    return { stage: t.stage, startedAt: t.at, seconds: open ? seconds(t.at, now) : 0, ongoing: open };
  });
}

/** The run's wait for its resource's slots: how long it waited for the grant, or, still waiting, so far and where. */
function queueOf(status: PipelineStatus, now: string): ReportQueue | null {
  const a = status.admission;
  if (!a) return null;
  const waiting = a.state === 'requested' || a.state === 'waiting';
  return {
    resource: a.resource, state: a.state, position: waiting ? a.position : null, reason: a.reason, requestedAt: a.requestedAt, grantedAt: a.grantedAt,
    waitedSeconds: a.waitedSeconds ?? (waiting ? seconds(a.requestedAt, now) : null),
  };
}

function datasetOf(status: PipelineStatus): DatasetFacts | null {
  const v = status.validation;
  const trainedTokens = status.results?.trainedTokens ?? status.job?.trainedTokens ?? null;
  if (!v && trainedTokens === null) return null;
  return {
    trainingExamples: v?.examples.training ?? null,
    validationExamples: v?.examples.validation ?? null,
    trainingTokens: v?.tokens.training ?? null,
    trainableTokens: v?.tokens.trainable ?? null,
    validationTokens: v?.tokens.validation ?? null,
    epochs: v?.epochs.count ?? null,
    billedTokensEstimate: v?.billedTokensEstimate ?? null,
    trainedTokens,
  };
}

function decisionOf(src: ReportSources, state: ReportState): RunReport['decision'] {
  const decided = src.status.evaluation?.decision;
  if (state.execution === 'COMPLETED' && decided) return decided;
  if (!state.final) {
    const recommendation = decided ? ` (the evaluation recommends: ${decided.reason})` : '';
    return { promoted: false, reason: `not decided yet: the run is in stage ${src.status.stage}${recommendation}` };
  }
  if (state.outcome === 'skipped_no_new_data') return { promoted: false, reason: 'skipped: the data did not change since the lineage\'s last run, so nothing was trained' };
  if (state.outcome === 'cancelled_in_azure') return { promoted: false, reason: 'the job was cancelled in Azure: no model' };
  if (state.outcome === 'not_deployable') return { promoted: false, reason: `Azure's safety evaluation found the model not deployable: ${src.status.job?.notDeployable?.reason ?? 'no reason given'}` };
  if (state.outcome === 'stopped_at_budget') return { promoted: false, reason: `the training spend passed budget.maxTrainingUsd, so ftpipe paused the job (its checkpoint is deployable): not deployed` };
  if (state.outcome === 'stopped_early') return { promoted: false, reason: `evaluation.stopEarly cancelled the job because its automatic evaluation stayed flat: not deployed` };
  if (state.outcome === 'stopped_at_billing_limit') return { promoted: false, reason: 'Azure paused the job at its billing limit and budget.maxTrainingUsd allows no more: not deployed' };
  return { promoted: false, reason: `not promoted: the run ${state.execution === 'FAILED' ? 'failed' : 'ended'} in stage ${workingStage(src.status)}${state.failure ? ` (${state.failure})` : ''}` };
}

/** The automatic evaluations the run read while training, with those of the collected checkpoints (Azure keeps the newest few). */
export function automaticEvaluationsOf(status: Pick<PipelineStatus, 'automaticEvaluations' | 'results'>): AutomaticEvaluation[] {
  const byId = new Map((status.automaticEvaluations ?? []).map((e) => [e.checkpointId, e]));
  for (const c of status.results?.checkpoints ?? []) {
    if (c.metrics.fullValidLoss === null && c.metrics.fullValidMeanTokenAccuracy === null) continue;
    byId.set(c.id, { checkpointId: c.id, step: c.step, fullValidLoss: c.metrics.fullValidLoss, fullValidMeanTokenAccuracy: c.metrics.fullValidMeanTokenAccuracy });
  }
  return [...byId.values()].sort((a, b) => a.step - b.step);
}

function stoppedBy(status: PipelineStatus): RunReport['stoppedBy'] {
  if (status.stoppedEarly) return { kind: 'stopEarly', explanation: status.stoppedEarly.explanation };
  if (status.budgetHold) return { kind: 'budget', explanation: status.budgetHold.explanation };
  return null;
}

/** What the search attributes tell of a run, as a status, when its `status` query cannot be answered. */
export interface VisibleRun {
  runName: string;
  profile: string;
  baseModel: string;
  stage: string;
  startedAt: string;
}

export function statusFromVisibility(run: VisibleRun): PipelineStatus {
  return {
    runName: run.runName, profile: run.profile, baseModel: run.baseModel, stage: run.stage as PipelineStatus['stage'], job: null,
    progress: { step: null, totalSteps: null, percent: null, etaSeconds: null }, latestMetrics: null, recentEvents: [], files: [], validation: null,
    timeline: [{ stage: run.stage as PipelineStatus['stage'], at: run.startedAt }], requests: [], errors: [], continuations: 0, evaluation: null, approval: null,
    deployments: [], copies: [], curve: [], results: null, admission: null, cost: null,
  };
}

/** The run's cost ledger as of `now`, as its report and its status query show it. */
export function ledgerOf(status: PipelineStatus, now: string, keptFromBefore?: string[]): CostLedger {
  return costLedger(status, { now, evaluationSku: EVALUATION_SKU, keptFromBefore: keptFromBefore ?? keptVersions(status) });
}

/**
 * The earlier versions a run kept live: the deploy stage leaves `status.deployments` as the new version first, then the
 * versions it kept, then the copies' deployments (workflows/pipeline.ts).
 */
export function keptVersions(status: Pick<PipelineStatus, 'deployments' | 'copies'>): string[] {
  const copied = new Set(status.copies.flatMap((c) => (c.deployment ? [`${c.deployment.profile}/${c.deployment.name}`] : [])));
  return status.deployments.slice(1).filter((d) => !copied.has(`${d.profile}/${d.name}`)).map((d) => d.name);
}

export function buildRunReport(src: ReportSources): RunReport {
  const { status } = src;
  const computed = stateOf(src);
  const state = src.caveat ? { ...computed, summary: `${computed.summary} ${src.caveat}` } : computed;
  const metrics = status.evaluation?.analysis ?? null;
  return {
    runName: status.runName,
    jobId: status.job?.id ?? src.known?.jobId ?? null,
    baseModel: status.baseModel,
    ...(status.trainedFrom && status.trainedFrom !== status.baseModel ? { trainedFrom: status.trainedFrom } : {}),
    fineTunedModel: status.results?.fineTunedModel ?? status.job?.fineTunedModel ?? src.known?.fineTunedModel ?? null,
    state,
    hyperparameters: status.job?.hyperparameters ?? null,
    dataset: datasetOf(status),
    stages: stagesOf(status, !state.final, src.generatedAt),
    queue: queueOf(status, src.generatedAt),
    requests: status.requests,
    copies: status.copies,
    // results.csv, once read, gives the full curve (metrics.curve); until then, what the polls saw.
    ...(metrics ? {} : { liveCurve: status.curve }),
    checkpoints: status.results?.checkpoints ?? [],
    metrics,
    evalScores: status.evaluation?.scores ?? [],
    decision: decisionOf(src, state),
    deployments: status.deployments,
    cost: ledgerOf(status, src.generatedAt, src.keptFromBefore),
    automaticEvaluations: automaticEvaluationsOf(status),
    stoppedBy: stoppedBy(status),
    deleted: src.deleted ?? [],
    approval: status.approval,
    ...(status.approvalEvidence ? { approvalEvidence: status.approvalEvidence } : {}),
    generatedAt: src.generatedAt,
  };
}
