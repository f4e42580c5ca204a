/**
 * `planPipeline`: what a run would do, without doing it (`ftpipe run --dry-run`). It runs the read-only steps a run
 * starts with - the run's preflight (profile, catalogue, capacity reads), validation of local files - and adds the
 * cost estimate, the budget's verdict, the resource's free slots now, and what would be deployed where at what hourly
 * cost. No activity it calls writes to Azure: nothing is uploaded, created or deployed. With `fromJob` it plans no
 * training (no validation, no training cost): it reads the job as the run's preflight would and shows what follows.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { activitiesFor } from './activity-stubs';
import type { SlotAmounts } from '../src/admission/limits';
import type { DeploymentType } from '../src/catalog/models';
import { budgetRefusal, estimateTrainingCost, hostingUsdPerHour, type TrainingCostEstimate } from '../src/pipeline/cost';
import { PipelineInputError, parsePipelineInput, type PipelineInputDraft } from '../src/pipeline/input';
import type { JobSnapshot, PreflightResult, ValidationSummary } from '../src/pipeline/types';
import { preflightInput } from './prepare';
import { slotAmounts } from './slots';

export interface PlannedDeployment {
  purpose: 'promotion' | 'evaluation' | 'copy';
  profile: string;
  region: string | null;
  name: string;
  type: DeploymentType;
  capacity: number;
  /** USD per hour while it exists (null: billed in PTU-hours); evaluation deployments live only while scored. */
  usdPerHour: number | null;
  /** Why the catalogue refuses it, when it does. */
  problem: string | null;
}

export interface RunPlan {
  runName: string;
  profile: string;
  /** Its `warnings` are what the run's status.warnings would be (the training plan's, the catalogue's, capacity's). */
  preflight: PreflightResult;
  /** Why the run's preflight would fail it (the plan then comes from the training plan alone), or null. */
  preflightRefusal: string | null;
  validation: ValidationSummary | null;
  /** With `fromJob`: the job the run would carry on from, as Azure reports it, or why the run's preflight would refuse it. */
  adoptedJob: AdoptedJobPlan | null;
  /** The training cost estimate; null with `fromJob` (nothing is trained). */
  cost: TrainingCostEstimate | null;
  /** Why the budget would refuse the run, or null. */
  budgetRefusal: string | null;
  slots: { resource: string; needs: SlotAmounts; capacity: SlotAmounts; free: SlotAmounts; queued: number; queue: string };
  deployments: PlannedDeployment[];
  /** USD per hour of what the run would leave live (promotion and copies). */
  hourlyAfterRun: number | null;
}

export interface AdoptedJobPlan {
  id: string;
  /** Azure's status of the job, null when the run would refuse it. */
  status: JobSnapshot['status'] | null;
  model: string | null;
  fineTunedModel: string | null;
  /** What the run would do from it: monitor a job that still trains, or go on from collect. */
  next: string;
  refusal: string | null;
}

function reason(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

export async function planPipeline(draft: PipelineInputDraft): Promise<RunPlan> {
  let input;
  try {
    input = parsePipelineInput(draft);
  } catch (err) {
    if (err instanceof PipelineInputError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidPipelineInput', { issues: err.issues });
    throw err;
  }
  const { preflight, validateTrainingData, admissionView, checkDeploymentPlan, adoptFineTuningJob } = activitiesFor(input.timeouts, input.polling);
  // The run's own preflight, so the plan shows the warnings its status would (catalogue and capacity); when that
  // refuses the run, the plan says so and goes on from the training plan alone.
  let pre: PreflightResult;
  let preflightRefusal: string | null = null;
  try {
    pre = await preflight(preflightInput(input, input.baseModel));
  } catch (err) {
    preflightRefusal = reason(err);
    pre = await preflight({ profile: input.profile, baseModel: input.baseModel, trainingType: input.trainingType, method: input.method });
  }
  let validation: ValidationSummary | null = null;
  let adoptedJob: AdoptedJobPlan | null = null;
  if (input.fromJob) {
    // The run's own check of the job (a read): it is adopted, not trained, so nothing is validated or estimated.
    try {
      const job = await adoptFineTuningJob({ profile: input.profile, jobId: input.fromJob, models: [input.baseModel, pre.catalogModel], method: input.method.type });
      const next = job.status === 'succeeded' ? 'goes on from collect (the job has succeeded)' : `monitors it until it ends (it holds one of the resource's job places meanwhile), then collect`;
      adoptedJob = { id: job.id, status: job.status, model: job.model, fineTunedModel: job.fineTunedModel, next, refusal: null };
    } catch (err) {
      adoptedJob = { id: input.fromJob, status: null, model: null, fineTunedModel: null, next: 'the run would fail in preflight', refusal: reason(err) };
    }
  } else if (input.training && 'path' in input.training) {
    const nEpochs = input.hyperparameters.nEpochs;
    validation = await validateTrainingData({
      trainingPath: input.training.path,
      ...(input.validation && 'path' in input.validation ? { validationPath: input.validation.path } : {}),
      model: input.baseModel,
      method: input.method.type,
      ...(typeof nEpochs === 'number' ? { nEpochs } : {}),
      profile: input.profile,
    });
  }
  const cost = adoptedJob ? null : estimateTrainingCost({ catalogModel: pre.catalogModel, method: input.method.type, trainingType: input.trainingType, validation });
  const queue = await admissionView({ profile: input.profile });
  const capacity: SlotAmounts = {
    jobs: queue.target.limits.runningJobs + queue.target.limits.queuedJobs, files: queue.target.limits.files,
    fileBytes: queue.target.limits.fileBytes, deployments: queue.target.limits.fineTunedDeployments,
  };

  const deployments: PlannedDeployment[] = [];
  const plan = async (purpose: PlannedDeployment['purpose'], profile: string, region: string | null, name: string, type: DeploymentType, capacityUnits: number): Promise<void> => {
    let problem: string | null = null;
    try {
      await checkDeploymentPlan({ profile, baseModel: input.baseModel, type, capacity: capacityUnits });
    } catch (err) {
      problem = reason(err);
    }
    deployments.push({ purpose, profile, region, name, type, capacity: capacityUnits, usdPerHour: hostingUsdPerHour(type), problem });
  };
  if (input.evaluation.evalSet) await plan('evaluation', input.profile, pre.region, 'one per checkpoint, deleted once scored', 'DeveloperTier', 1);
  if (input.deployment) await plan('promotion', input.profile, pre.region, `${input.deployment.name}-v<next>`, input.deployment.type, input.deployment.capacity);
  for (const copy of input.copies) {
    if (copy.deploy) await plan('copy', copy.deploy.profile, copy.region, copy.deploy.name, copy.deploy.type, copy.deploy.capacity);
  }
  const lasting = deployments.filter((d) => d.purpose !== 'evaluation');
  const hourlyAfterRun = lasting.some((d) => d.usdPerHour === null) ? null : lasting.reduce((sum, d) => sum + (d.usdPerHour ?? 0), 0);

  return {
    runName: input.runName,
    profile: input.profile,
    preflight: pre,
    preflightRefusal,
    validation,
    adoptedJob,
    cost,
    budgetRefusal: cost ? (budgetRefusal(input.budget.maxTrainingUsd, cost) ?? null) : null,
    slots: {
      resource: queue.target.resource,
      needs: adoptedJob ? { jobs: adoptedJob.status === null || adoptedJob.status === 'succeeded' ? 0 : 1, files: 0, fileBytes: 0, deployments: 0 } : slotAmounts(input, validation),
      capacity,
      free: queue.view?.free ?? capacity,
      queued: queue.view?.queue.length ?? 0,
      queue: queue.target.queue,
    },
    deployments,
    hourlyAfterRun,
  };
}
