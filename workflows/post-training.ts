/**
 * After training: collect -> evaluate -> (await_approval) -> deploy, with checkpoint copies to other regions beside
 * the deployment. Every deployment this part creates is recorded in the run's compensation list before it is created,
 * so that cleanup (on failure and cancellation) deletes what it should and nothing it did not create. Workflow-safe.
 */
import { ActivityFailure, ApplicationFailure, allHandlersFinished, condition, upsertSearchAttributes } from '@temporalio/workflow';
import { patched } from './patches';
import { DEPLOYMENT_NAME_MAX_CHARS } from '../src/azure/limits';
import { baselineDeployment, EVALUATION_DEPLOYMENT, type EvaluationDeployment } from '../src/catalog/models';
import { INACTIVE_DEPLOYMENT_DELETION_DAYS } from '../src/pipeline/cost';
import { KEEP_ALIVE_DEFAULT_HOURS, type CopyRequest } from '../src/pipeline/input';
import {
  DEPLOYMENT_GONE,
  type ApprovalRecord,
  type CheckpointSummary,
  type CopyStatus,
  type DeploymentInfo,
  type EvalScore,
  type EvaluationOutcome,
  type IdleDeployment,
  type JobResults,
  type JobSnapshot,
} from '../src/pipeline/types';
import { approvalEvidence } from '../src/pipeline/approval';
import { FINE_TUNED_MODEL } from '../src/temporal/search-attributes';
import { describeFailure, nowIso, type PipelineRun } from './run';
import { deploymentSlotsOn, localBookkeepingOn } from './slots';

/** What training produced and what post-training decided: the cleanup stage and the result read it. */
export interface PostTrainingOutcome {
  job: JobSnapshot;
  results: JobResults;
  evaluation: EvaluationOutcome;
  chosen: CheckpointSummary;
  promoted: boolean;
  /** Older versions deleted by the deployment (retired beyond `keepVersions`). */
  deletedDeployments: string[];
  /** Earlier versions kept live beside the new one (not created by this run). */
  keptVersions: string[];
}

/** Seconds between checks of deployments and copies. */
function intervalOf(run: PipelineRun): number {
  return run.input.polling.deploymentIntervalSeconds;
}

/**
 * Whether collect's reads run as local activities, and the fine-tuned and promoted model's search attributes go with
 * the next stage change (one patch: each patch asked ahead costs every run two events). Asked ahead (run.ts).
 */
function localResultsOn(): boolean {
  return patched('ftpipe-local-results');
}

/** Collects the job's results, evaluates them, asks for approval when required, deploys, and runs the copies. */
export async function postTraining(run: PipelineRun, job: JobSnapshot): Promise<PostTrainingOutcome> {
  const { input, status, acts } = run;
  run.setStage('collect');
  // Collect's reads (the checkpoints, then results.csv in evaluate) are short: local, each costs no task of its own;
  // the model's search attribute goes with the next stage change, in its upsert (run.ts batchedUpserts).
  run.resultUpserts = localResultsOn();
  const reads = run.resultUpserts ? run.localActs : acts;
  // The last poll saw the job succeed: its snapshot spares collect a second read of the job.
  const succeeded = { status: job.status, fineTunedModel: job.fineTunedModel, trainedTokens: job.trainedTokens, resultFiles: job.resultFiles };
  const results = await reads.collectJobResults({ profile: input.profile, jobId: job.id, succeeded });
  status.results = results;
  if (run.resultUpserts) run.setSearchAttributes([{ key: FINE_TUNED_MODEL, value: results.fineTunedModel }]);
  else upsertSearchAttributes([{ key: FINE_TUNED_MODEL, value: results.fineTunedModel }]);

  const evaluation = await evaluate(run, job.id, results);
  status.evaluation = evaluation;
  const chosen = evaluation.analysis.chosen;

  // Copies run beside the deployment: those asked for in the input now, later ones (copyToRegion) as they come.
  let copiesStarted = 0;
  const copyWork: Promise<void>[] = [];
  const startPendingCopies = (): void => {
    for (; copiesStarted < run.copyRequests.length; copiesStarted++) {
      const record = status.copies[copiesStarted]!;
      record.checkpoint = chosen.id;
      copyWork.push(copyCheckpoint(run, job.id, run.copyRequests[copiesStarted]!, chosen, record));
    }
  };
  if (run.copyRequests.length > 0) run.setStage('copy');
  startPendingCopies();

  let deletedDeployments: string[] = [];
  let keptVersions: string[] = [];
  let promoted = evaluation.decision.promoted;
  if (input.deployment && promoted) {
    if (input.deployment.requireApproval) {
      void run.notify('awaiting_approval');
      const decision = await awaitApproval(run);
      if (decision.decision === 'rejected') {
        promoted = false;
        evaluation.decision = { promoted: false, reason: `rejected by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}` };
      }
    }
    if (promoted) {
      const deployed = await deploy(run, chosen.deployAs ?? chosen.id);
      status.deployments = deployed.live;
      deletedDeployments = deployed.retired;
      keptVersions = deployed.live.slice(1).map((d) => d.name);
    }
  }
  // Until no copy asked for meanwhile is left unstarted; then later requests are refused (nothing would start them).
  for (;;) {
    startPendingCopies();
    await Promise.all(copyWork);
    if (copiesStarted === run.copyRequests.length) break;
  }
  run.closeCopies();
  status.deployments.push(...status.copies.flatMap((c) => (c.deployment ? [c.deployment] : [])));
  return { job, results, evaluation, chosen, promoted, deletedDeployments, keptVersions };
}

/** Recreating an evaluation deployment Azure deleted mid-eval (activities/evaluation.ts `DeploymentGone`). */
const EVAL_LIFETIME_PATCH = 'ftpipe-eval-deployment-lifetime';
/** An evaluation deployment's smoke test is the eval's first answer (activities/evaluation.ts `firstAnswerIsSmokeTest`). */
const EVAL_FIRST_ANSWER_PATCH = 'ftpipe-eval-first-answer-smoke';
/** How many times one candidate's evaluation deployment is recreated before the run fails: each goes on from the last. */
const EVAL_DEPLOYMENT_RECREATIONS = 2;

/** The eval's progress when runEvalSet failed because Azure no longer has its deployment; undefined for other failures. */
function deploymentGone(err: unknown): { progress: unknown; scored: number | null } | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure) || err.cause.type !== DEPLOYMENT_GONE) return undefined;
  const progress: unknown = err.cause.details?.[0] ?? undefined;
  const done = (progress as { done?: unknown } | undefined)?.done;
  return { progress, scored: typeof done === 'number' ? done : null };
}

async function evaluateCandidates(run: PipelineRun, candidates: CheckpointSummary[]): Promise<EvalScore[]> {
  const { input, acts } = run;
  const interval = intervalOf(run);
  const evaluation = input.evaluation;
  if (!evaluation.evalSet) return [];
  const scores: EvalScore[] = [];
  const scoreOn = async (deployment: string, candidate: string, kind: EvalScore['kind'], servedModel?: string, resumeFrom?: unknown, firstAnswerIsSmokeTest?: boolean): Promise<EvalScore> =>
    acts.runEvalSet({
      profile: input.profile,
      deployment,
      candidate,
      kind,
      ...(servedModel ? { servedModel } : {}),
      evalSetPath: evaluation.evalSet!.path,
      concurrency: evaluation.concurrency,
      ...(evaluation.graders ? { graders: evaluation.graders as never } : {}),
      ...(resumeFrom !== undefined ? { resumeFrom } : {}),
      ...(firstAnswerIsSmokeTest ? { firstAnswerIsSmokeTest: { intervalSeconds: interval } } : {}),
    });
  // Deployed as src/catalog/models.ts says (what preflight checked), and deleted as soon as they are scored (and by
  // cleanup if the run stops first).
  // What the run is at, for the current details and `ftpipe status`: model k of all to score, and its step.
  const total = candidates.length + (evaluation.baseline ? 1 : 0);
  const at = (what: string, doing: string, scoringOn?: string): void => {
    run.setTask(doing, { subject: what, done: scores.length, total, unit: 'models evaluated', ...(scoringOn ? { scoringOn } : {}) });
  };
  const scoreTemporary = async (model: { deploy: string; label: string; how: EvaluationDeployment }, label: string, kind: EvalScore['kind'], what: string): Promise<EvalScore> => {
    const name = `ftpipe-eval-${run.runTag}-${label}`.slice(0, DEPLOYMENT_NAME_MAX_CHARS);
    run.createdDeployment(name);
    at(what, `deploying ${name} (${model.how.type})`);
    if (deploymentSlotsOn()) await run.slots.acquireDeployment({ profile: input.profile, name });
    let score: EvalScore | undefined;
    let resumeFrom: unknown;
    // A Developer-tier deployment lives 24 hours: when Azure deletes it before the eval set is scored, it is
    // recreated (same name, same slot) and the eval goes on from the items already scored, a bounded number of times.
    for (let recreations = 0; score === undefined; recreations++) {
      await acts.createDeployment({
        profile: input.profile, name, model: model.deploy, ...(model.how.base ? { base: true } : {}),
        type: model.how.type, capacity: model.how.capacity, pollIntervalSeconds: interval, newName: true,
      });
      // The eval's first answer is the deployment's smoke test (waited for by Temporal as smokeTestDeployment's is):
      // a separate smoke test asked one more chat completion per deployment. Runs from before keep it (the patch).
      const firstAnswerIsSmokeTest = patched(EVAL_FIRST_ANSWER_PATCH);
      if (!firstAnswerIsSmokeTest) {
        at(what, `smoke test of ${name}`);
        await acts.smokeTestDeployment({ profile: input.profile, deployment: name, intervalSeconds: interval });
      }
      at(what, 'scoring the eval set', name);
      try {
        score = await scoreOn(name, model.label, kind, model.label, resumeFrom, firstAnswerIsSmokeTest);
        if (recreations > 0) score.deploymentRecreations = recreations;
      } catch (err) {
        const gone = deploymentGone(err);
        if (!gone || !patched(EVAL_LIFETIME_PATCH)) throw err;
        if (recreations >= EVAL_DEPLOYMENT_RECREATIONS) {
          throw ApplicationFailure.nonRetryable(
            `the evaluation of ${model.label} outlived its deployment ${name} ${recreations + 1} times: Azure deleted it before the eval set was scored (a ${model.how.type} deployment${model.how.type === 'DeveloperTier' ? ' is deleted 24 hours after it was created' : ''}); ${gone.scored ?? 'an unknown number of'} items were scored. Use a smaller eval set or a higher evaluation.concurrency`,
            'EvaluationOutlivedDeployment',
          );
        }
        resumeFrom = gone.progress;
        at(what, `recreating ${name}: Azure deleted it before the eval set was scored`);
      }
    }
    at(what, `deleting ${name}`);
    await acts.deleteDeployment({ profile: input.profile, name, pollIntervalSeconds: interval });
    run.forgetDeployment(name);
    if (deploymentSlotsOn()) await run.slots.releaseDeployment({ profile: input.profile, name });
    return score;
  };
  for (const [i, candidate] of candidates.entries()) {
    const what = `checkpoint ${i + 1} of ${candidates.length} (step ${candidate.step})`;
    scores.push(await scoreTemporary({ deploy: candidate.deployAs ?? candidate.id, label: candidate.model, how: EVALUATION_DEPLOYMENT }, `s${candidate.step}`, 'candidate', what));
  }
  const baseline = evaluation.baseline;
  if (baseline && 'deployment' in baseline) {
    at(`baseline ${baseline.deployment}`, 'scoring the eval set', baseline.deployment);
    scores.push(await scoreOn(baseline.deployment, baseline.deployment, 'baseline'));
  }
  if (baseline && 'model' in baseline) scores.push(await scoreTemporary({ deploy: baseline.model, label: baseline.model, how: baselineDeployment(baseline.model) }, 'baseline', 'baseline', `baseline ${baseline.model}`));
  return scores;
}

async function evaluate(run: PipelineRun, jobId: string, results: JobResults): Promise<EvaluationOutcome> {
  const { input, acts } = run;
  run.setStage('evaluate');
  const analysis = await (localResultsOn() ? run.localActs : acts).analyzeJobMetrics({
    profile: input.profile,
    jobId,
    resultFileId: results.resultFileId,
    checkpoints: results.checkpoints,
    policy: input.evaluation.checkpointPolicy,
  });
  const outcome: EvaluationOutcome = { analysis, scores: [], decision: { promoted: true, reason: analysis.reason } };
  if (!input.evaluation.evalSet) return outcome;

  outcome.scores = await evaluateCandidates(run, results.checkpoints);
  const candidates = outcome.scores.filter((s) => s.kind === 'candidate');
  const best = candidates.reduce<EvalScore | undefined>((top, s) => (!top || s.score > top.score ? s : top), undefined);
  const chosen = results.checkpoints.find((c) => c.model === best?.candidate);
  if (best && chosen) {
    outcome.analysis = { ...analysis, chosen, reason: `highest eval score ${best.score.toFixed(3)} of ${candidates.length} checkpoints (step ${chosen.step})` };
  }
  const baseline = outcome.scores.find((s) => s.kind === 'baseline');
  if (best && baseline) {
    const lift = best.score - baseline.score;
    const minLift = input.evaluation.minLift;
 outcome.decision = lift >= minLift
      ? { promoted: true, reason: `best checkpoint scores ${best.score.toFixed(3)} vs baseline ${baseline.score.toFixed(3)} (lift ${lift.toFixed(3)} >= ${minLift})` }
      : { promoted: false, reason: `not promoted: best checkpoint scores ${best.score.toFixed(3)} vs baseline ${baseline.score.toFixed(3)} (lift ${lift.toFixed(3)} < required ${minLift})` };
  }
  return outcome;
}

/** Waits for `approve` or `reject` (or the timeout, which rejects). */
async function awaitApproval(run: PipelineRun): Promise<ApprovalRecord> {
  const { status } = run;
  const deployment = run.input.deployment!;
  status.approvalEvidence = approvalEvidence(status.evaluation!, deployment, run.input.evaluation.minLift);
  run.setStage('await_approval');
  const timeout = deployment.approvalTimeoutSeconds;
  const decided = timeout === undefined
    ? (await condition(() => status.approval !== null), true)
    : await condition(() => status.approval !== null, `${timeout} seconds`);
  if (!decided) status.approval = { decision: 'rejected', by: 'timeout', at: nowIso(), comment: `no decision within ${timeout} s` };
  // The update that decided (approveRun, rejectRun) answers before the run goes on: otherwise whether its answer is
  // recorded before or after the next stages' commands depends on how many awaits lie between here and them, and a
  // refactor there would make recorded histories fail replay. Runs from before keep their order (the patch).
  if (patched('ftpipe-approval-settled')) await condition(allHandlersFinished);
  return status.approval!;
}

function versionOf(name: string, base: string): number | undefined {
  const match = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-v(\\d+)$`).exec(name);
  return match ? Number(match[1]) : undefined;
}

interface DeployOutcome {
  live: DeploymentInfo[];
  retired: string[];
}

/**
 * Deploys the chosen checkpoint under a new version name, smoke-tests it, then retires older versions beyond
 * `keepVersions`. If the new version fails, it is deleted and the previous versions stay as they were.
 */
async function deploy(run: PipelineRun, model: string): Promise<DeployOutcome> {
  const { input, acts } = run;
  const interval = intervalOf(run);
  const plan = input.deployment!;
  run.setStage('deploy');
  // A check of the plan against the catalogue (no Azure call): local, so it costs no task of its own (the patch).
  const checkPlan = localBookkeepingOn() ? run.localActs.checkDeploymentPlan : acts.checkDeploymentPlan;
  await checkPlan({ profile: input.profile, baseModel: input.baseModel, type: plan.type, capacity: plan.capacity });
  const existing = await acts.listDeployments({ profile: input.profile, prefix: `${plan.name}-v` });
  const versions = existing.map((d) => ({ info: d, version: versionOf(d.name, plan.name) })).filter((d): d is { info: DeploymentInfo; version: number } => d.version !== undefined);
  const next = Math.max(0, ...versions.map((v) => v.version)) + 1;
  const name = `${plan.name}-v${next}`;

  run.createdDeployment(name);
  // One of the resource's fine-tuned deployment places (admission): held by the deployment until it is deleted.
  if (deploymentSlotsOn()) await run.slots.acquireDeployment({ profile: input.profile, name });
  let created: DeploymentInfo;
  try {
    run.setTask(`${name}: provisioning (${plan.type} x${plan.capacity}; Azure's provisioning state in the pending createDeployment activity)`);
    created = await acts.createDeployment({ profile: input.profile, name, model, type: plan.type, capacity: plan.capacity, pollIntervalSeconds: interval, newName: true });
    run.setTask(`${name}: smoke test (one chat completion)`);
    await acts.smokeTestDeployment({ profile: input.profile, deployment: name, timeoutSeconds: plan.smokeTestTimeoutSeconds, intervalSeconds: interval });
  } catch (err) {
    // A create that made nothing of this run's (Azure refused it, or the name holds another run's deployment, which two
    // runs of one deployment.name at once can both pick) leaves that name alone. Runs from before deleted it anyway.
    const madeNothing = createdNothing(err) && patched(DEPLOY_NOTHING_MADE_PATCH);
    if (!madeNothing) await acts.deleteDeployment({ profile: input.profile, name, pollIntervalSeconds: interval });
    run.forgetDeployment(name);
    if (deploymentSlotsOn()) await run.slots.releaseDeployment({ profile: input.profile, name });
    throw ApplicationFailure.nonRetryable(
      `deployment ${name} failed (${describeFailure(err)}); ${madeNothing ? 'the run made none to delete' : 'it was deleted'} and the previous versions stay live`,
      'DeploymentFailed',
    );
  }
  // Live and kept: the run's result, not something to undo.
  run.forgetDeployment(name);
  if (plan.idle && patched(IDLE_PATCH)) run.status.idle = await applyIdlePolicy(run, name);

  const older = versions.sort((a, b) => b.version - a.version);
  const kept = older.slice(0, plan.keepVersions).map((v) => v.info);
  const retired: string[] = [];
  if (input.cleanup.retiredDeployments === 'delete') {
    for (const old of older.slice(plan.keepVersions)) {
      run.setTask(`retiring ${old.info.name} (beyond keepVersions ${plan.keepVersions})`);
      // An earlier run may have scheduled calls to it (deployment.idle keepAlive): nothing keeps calling a retired version.
      if (patched(IDLE_PATCH)) await acts.removeKeepAlive({ profile: input.profile, deployment: old.info.name });
      await acts.deleteDeployment({ profile: input.profile, name: old.info.name, pollIntervalSeconds: interval });
      if (deploymentSlotsOn()) await run.slots.releaseDeployment({ profile: input.profile, name: old.info.name });
      retired.push(old.info.name);
    }
  } else {
    kept.push(...older.slice(plan.keepVersions).map((v) => v.info));
  }
  return { live: [created, ...kept], retired };
}

/** `deployment.idle` (keep-alive schedule, expiry note) and the removal of retired versions' schedules. */
const IDLE_PATCH = 'ftpipe-deployment-idle';
const DAY_MS = 86_400_000;

/**
 * What happens to the new version when nothing calls it: Azure deletes it 15 days after its last call (the smoke
 * test's, just now). keepAlive schedules calls before then; letExpire records the date.
 */
async function applyIdlePolicy(run: PipelineRun, name: string): Promise<IdleDeployment> {
  const { input, acts } = run;
  const idle = input.deployment!.idle!;
  const lastCalledAt = nowIso();
  const record: IdleDeployment = {
    profile: input.profile, deployment: name, policy: idle.policy, lastCalledAt,
    deletedIfUnusedAt: new Date(Date.parse(lastCalledAt) + INACTIVE_DEPLOYMENT_DELETION_DAYS * DAY_MS).toISOString(), schedule: null,
  };
  if (idle.policy === 'keepAlive') {
    const everyHours = idle.everyHours ?? KEEP_ALIVE_DEFAULT_HOURS;
    const { scheduleId } = await acts.scheduleKeepAlive({ profile: input.profile, deployment: name, everyHours, runName: input.runName });
    record.schedule = { id: scheduleId, everyHours };
  }
  return record;
}

/** Copies the chosen checkpoint to another account's region, then deploys it there when asked. */
async function copyCheckpoint(run: PipelineRun, jobId: string, request: CopyRequest, checkpoint: CheckpointSummary, record: CopyStatus): Promise<void> {
  const { input, acts } = run;
  const interval = intervalOf(run);
  const ref = { profile: input.profile, jobId, checkpoint: checkpoint.id, destinationResourceId: request.destinationResourceId, region: request.region };
  try {
    // A copy asked for during the run skipped preflight: its deploy (profile, account, region, type) is checked before
    // the checkpoint is copied, which is an Azure write. (Copies of the input were checked by preflight already.)
    if (request.deploy && patched('ftpipe-copy-deploy-check')) {
      const { profile, type, capacity } = request.deploy;
      const checkPlan = localBookkeepingOn() ? run.localActs.checkDeploymentPlan : acts.checkDeploymentPlan;
      await checkPlan({ profile, baseModel: input.baseModel, type, capacity, copy: { destinationResourceId: request.destinationResourceId, region: request.region } });
    }
    Object.assign(record, await acts.startCheckpointCopy(ref));
    run.showDetails();
    Object.assign(record, await acts.awaitCheckpointCopy({ ...ref, intervalSeconds: interval }));
    run.showDetails();
    if (request.deploy) {
      // The copy keeps the checkpoint's name in the destination account: deploy that copy there, not the origin's model.
      if (deploymentSlotsOn()) await run.slots.acquireDeployment({ profile: request.deploy.profile, name: request.deploy.name });
      record.deployment = await acts.createDeployment({
        profile: request.deploy.profile,
        name: request.deploy.name,
        model: checkpoint.id,
        type: request.deploy.type,
        capacity: request.deploy.capacity,
        pollIntervalSeconds: interval,
      });
    }
  } catch (err) {
    record.status = 'Failed';
    record.error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    run.showDetails();
    // A deploy there that failed after its create was sent: delete what it made, as deploy() deletes a failed new
    // version (the deployment and its slot stayed, a Failed deployment under the copy's name). Runs from before left it.
    if (request.deploy && sentDeployment(err) && patched(COPY_DEPLOY_UNDO_PATCH)) {
      const { profile, name } = request.deploy;
      try {
        await acts.deleteDeployment({ profile, name, pollIntervalSeconds: interval });
        if (deploymentSlotsOn()) await run.slots.releaseDeployment({ profile, name });
        record.error = `${record.error}; deployment ${name} was deleted`;
      } catch (deleteErr) {
        run.recordError(`could not delete deployment ${name} (profile ${profile}) of the failed copy: ${describeFailure(deleteErr)}`);
      }
      run.showDetails();
    }
  }
}

const COPY_DEPLOY_UNDO_PATCH = 'ftpipe-copy-deploy-undone';
const DEPLOY_NOTHING_MADE_PATCH = 'ftpipe-deploy-nothing-made';

/**
 * A createDeployment that failed for good without making a deployment of the run's: Azure refused it (a 4xx), the name
 * holds a deployment of another model (never the run's), or it found the name taken and never sent its own create.
 */
function createdNothing(err: unknown): boolean {
  if (!(err instanceof ActivityFailure) || err.activityType !== 'createDeployment' || !(err.cause instanceof ApplicationFailure)) return false;
  const { type, details } = err.cause;
  if (type === 'ModelUpgradeNotSupported' || /^Azure4\d\d$/.test(type ?? '')) return true;
  return (type === 'DeploymentFailed' || type === 'DeploymentTimedOut') && (details?.[0] as { sent?: unknown } | undefined)?.sent === false;
}

/** A createDeployment that failed for good after it had sent its create (its failure's details say `{sent: true}`). */
function sentDeployment(err: unknown): boolean {
  if (!(err instanceof ActivityFailure) || err.activityType !== 'createDeployment' || !(err.cause instanceof ApplicationFailure)) return false;
  return (err.cause.details?.[0] as { sent?: unknown } | undefined)?.sent === true;
}
