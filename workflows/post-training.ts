/**
 * After training: evaluate -> (await_approval) -> deploy, plus checkpoint copies to other regions.
 * Everything this part creates in Azure is recorded in `created` before it is created, so that the run's cleanup
 * (on success, failure and cancellation) deletes what it should and nothing it did not create.
 */
import { ApplicationFailure, condition } from '@temporalio/workflow';
import { BASE_MODEL_DEPLOYMENT_TYPE } from '../src/catalog/models';
import type { CopyRequest, PipelineInput } from '../src/pipeline/input';
import type {
  ApprovalRecord,
  CheckpointSummary,
  CopyStatus,
  DeploymentInfo,
  EvalScore,
  EvaluationOutcome,
  JobResults,
  PipelineStatus,
  Stage,
} from '../src/pipeline/types';
import type { PipelineActivities } from './activity-stubs';

export interface PostTrainingContext {
  input: PipelineInput;
  status: PipelineStatus;
  acts: PipelineActivities;
  jobId: string;
  results: JobResults;
  /** Seconds between checks of deployments and copies (the run's `polling.deploymentIntervalSeconds`). */
  interval: number;
  /** A short id unique to the run, for naming its temporary deployments. */
  runTag: string;
  setStage(stage: Stage): void;
  now(): string;
  /** Deployments created by this run that are temporary (evaluation) or not yet promoted: deleted by cleanup. */
  temporary: Set<string>;
  /** Approval decisions arrive here (signals and updates). */
  approval(): ApprovalRecord | null;
  setApproval(record: ApprovalRecord): void;
}

/** A baseline given as a fine-tuned model (an earlier run's) deploys as a fine-tune; anything else as a base model. */
function resolvesFineTuned(model: string): boolean {
  return /\.ft-[0-9a-f]{32}/.test(model) || model.startsWith('ftchkpt-');
}

async function evaluateCandidates(ctx: PostTrainingContext, candidates: CheckpointSummary[]): Promise<EvalScore[]> {
  const { input, acts } = ctx;
  const evaluation = input.evaluation;
  if (!evaluation.evalSet) return [];
  const scores: EvalScore[] = [];
  const scoreOn = async (deployment: string, candidate: string, kind: EvalScore['kind'], servedModel?: string): Promise<EvalScore> =>
    acts.runEvalSet({
      profile: input.profile,
      deployment,
      candidate,
      kind,
      ...(servedModel ? { servedModel } : {}),
      evalSetPath: evaluation.evalSet!.path,
      concurrency: evaluation.concurrency,
      ...(evaluation.graders ? { graders: evaluation.graders as never } : {}),
    });
  // Candidates on the Developer tier (no hosting fee; a fine-tuned-model type), a base-model baseline on a base-model
  // type with its own version. Deleted as soon as they are scored (and by cleanup if the run stops first).
  const scoreTemporary = async (model: { deploy: string; label: string; base: boolean }, label: string, kind: EvalScore['kind']): Promise<EvalScore> => {
    const name = `ftpipe-eval-${ctx.runTag}-${label}`.slice(0, 64);
    ctx.temporary.add(name);
    await acts.createDeployment({
      profile: input.profile, name, model: model.deploy, ...(model.base ? { base: true } : {}),
      type: model.base ? BASE_MODEL_DEPLOYMENT_TYPE : 'DeveloperTier', capacity: 1, pollIntervalSeconds: ctx.interval,
    });
    await acts.smokeTestDeployment({ profile: input.profile, deployment: name, intervalSeconds: ctx.interval });
    const score = await scoreOn(name, model.label, kind, model.label);
    await acts.deleteDeployment({ profile: input.profile, name, pollIntervalSeconds: ctx.interval });
    ctx.temporary.delete(name);
    return score;
  };
  for (const candidate of candidates) {
    scores.push(await scoreTemporary({ deploy: candidate.deployAs ?? candidate.id, label: candidate.model, base: false }, `s${candidate.step}`, 'candidate'));
  }
  const baseline = evaluation.baseline;
  if (baseline && 'deployment' in baseline) scores.push(await scoreOn(baseline.deployment, baseline.deployment, 'baseline'));
  if (baseline && 'model' in baseline) scores.push(await scoreTemporary({ deploy: baseline.model, label: baseline.model, base: !resolvesFineTuned(baseline.model) }, 'baseline', 'baseline'));
  return scores;
}

export async function evaluate(ctx: PostTrainingContext): Promise<EvaluationOutcome> {
  const { input, acts, results } = ctx;
  ctx.setStage('evaluate');
  const analysis = await acts.analyzeJobMetrics({
    profile: input.profile,
    jobId: ctx.jobId,
    resultFileId: results.resultFileId,
    checkpoints: results.checkpoints,
    policy: input.evaluation.checkpointPolicy,
  });
  const outcome: EvaluationOutcome = { analysis, scores: [], decision: { promoted: true, reason: analysis.reason } };
  if (!input.evaluation.evalSet) return outcome;

  outcome.scores = await evaluateCandidates(ctx, results.checkpoints);
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
export async function awaitApproval(ctx: PostTrainingContext): Promise<ApprovalRecord> {
  const deployment = ctx.input.deployment!;
  ctx.setStage('await_approval');
  const timeout = deployment.approvalTimeoutSeconds;
  const decided = timeout === undefined
    ? (await condition(() => ctx.approval() !== null), true)
    : await condition(() => ctx.approval() !== null, `${timeout} seconds`);
  if (!decided) ctx.setApproval({ decision: 'rejected', by: 'timeout', at: ctx.now(), comment: `no decision within ${timeout} s` });
  return ctx.approval()!;
}

function versionOf(name: string, base: string): number | undefined {
  const match = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-v(\\d+)$`).exec(name);
  return match ? Number(match[1]) : undefined;
}

export interface DeployOutcome {
  live: DeploymentInfo[];
  retired: string[];
}

/**
 * Deploys the chosen checkpoint under a new version name, smoke-tests it, then retires older versions beyond
 * `keepVersions`. If the new version fails, it is deleted and the previous versions stay as they were.
 */
export async function deploy(ctx: PostTrainingContext, model: string): Promise<DeployOutcome> {
  const { input, acts } = ctx;
  const plan = input.deployment!;
  ctx.setStage('deploy');
  await acts.checkDeploymentPlan({ profile: input.profile, baseModel: input.baseModel, type: plan.type, capacity: plan.capacity });
  const existing = await acts.listDeployments({ profile: input.profile, prefix: `${plan.name}-v` });
  const versions = existing.map((d) => ({ info: d, version: versionOf(d.name, plan.name) })).filter((d): d is { info: DeploymentInfo; version: number } => d.version !== undefined);
  const next = Math.max(0, ...versions.map((v) => v.version)) + 1;
  const name = `${plan.name}-v${next}`;

  ctx.temporary.add(name);
  let created: DeploymentInfo;
  try {
    created = await acts.createDeployment({ profile: input.profile, name, model, type: plan.type, capacity: plan.capacity, pollIntervalSeconds: ctx.interval });
    await acts.smokeTestDeployment({ profile: input.profile, deployment: name, timeoutSeconds: plan.smokeTestTimeoutSeconds, intervalSeconds: ctx.interval });
  } catch (err) {
    await acts.deleteDeployment({ profile: input.profile, name, pollIntervalSeconds: ctx.interval });
    ctx.temporary.delete(name);
    throw ApplicationFailure.nonRetryable(
      `deployment ${name} failed (${err instanceof Error ? err.message : String(err)}); it was deleted and the previous versions stay live`,
      'DeploymentFailed',
    );
  }
  ctx.temporary.delete(name);

  const older = versions.sort((a, b) => b.version - a.version);
  const kept = older.slice(0, plan.keepVersions).map((v) => v.info);
  const retired: string[] = [];
  if (input.cleanup.retiredDeployments === 'delete') {
    for (const old of older.slice(plan.keepVersions)) {
      await acts.deleteDeployment({ profile: input.profile, name: old.info.name, pollIntervalSeconds: ctx.interval });
      retired.push(old.info.name);
    }
  } else {
    kept.push(...older.slice(plan.keepVersions).map((v) => v.info));
  }
  return { live: [created, ...kept], retired };
}

/** Copies the chosen checkpoint to another account's region, then deploys it there when asked. */
export async function copyCheckpoint(ctx: PostTrainingContext, request: CopyRequest, checkpoint: CheckpointSummary, record: CopyStatus): Promise<void> {
  const { input, acts } = ctx;
  const ref = { profile: input.profile, jobId: ctx.jobId, checkpoint: checkpoint.id, destinationResourceId: request.destinationResourceId, region: request.region };
  try {
    Object.assign(record, await acts.startCheckpointCopy(ref));
    Object.assign(record, await acts.awaitCheckpointCopy({ ...ref, intervalSeconds: ctx.interval }));
    if (request.deploy) {
      // The copy keeps the checkpoint's name in the destination account: deploy that copy there, not the origin's model.
      record.deployment = await acts.createDeployment({
        profile: request.deploy.profile,
        name: request.deploy.name,
        model: checkpoint.id,
        type: request.deploy.type,
        capacity: request.deploy.capacity,
        pollIntervalSeconds: ctx.interval,
      });
    }
  } catch (err) {
    record.status = 'Failed';
    record.error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  }
}
