/**
 * Before training: preflight -> validate -> await_slot -> upload -> create_job. Every check that can run before an
 * Azure write runs here first; the job is created last. Workflow-safe.
 */
import { ApplicationFailure, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import { patched } from './patches';
import { credentialNeeds } from '../src/azure/credentials';
import type { JobPlan } from '../src/azure/requests';
import { budgetRefusal, estimateTrainingCost } from '../src/pipeline/cost';
import type { PreflightInput } from '../activities/preflight';
import type { DataSource, PipelineInput } from '../src/pipeline/input';
import type { FileRole, UploadedFile } from '../src/pipeline/types';
import { BASE_MODEL, DATA_HASH, JOB_ID, LINEAGE, PROFILE, RUN_NAME } from '../src/temporal/search-attributes';
import { askPatchesAhead, nowMs, type PipelineRun } from './run';
import { slotAmounts } from './slots';

/** Azure's seed range is 0..2147483647. */
const MAX_SEED = 2_147_483_647;

/** What preflight checks of a run (also what `planPipeline` shows): `baseModel` is the one the catalogue knows. */
export function preflightInput(input: PipelineInput, baseModel: string): PreflightInput {
  return {
    profile: input.profile, baseModel, trainingType: input.trainingType, method: input.method, deployment: input.deployment,
    evalSetPath: input.evaluation.evalSet?.path, graders: input.evaluation.graders, copies: input.copies,
    // A run that carries on from a job creates none: the create's own checks do not apply (absent, as before it existed).
    ...(input.fromJob ? { fromJob: input.fromJob } : {}),
    // A baseline is deployed only to score the eval set; absent otherwise (so is the field, as before it existed).
    ...(input.evaluation.evalSet && input.evaluation.baseline && 'model' in input.evaluation.baseline ? { baselineModel: input.evaluation.baseline.model } : {}),
  };
}

/** Prepares and creates the job; returns false when a lineage run finds no new data (nothing is created then). */
export async function prepare(run: PipelineRun): Promise<boolean> {
  const { input, status, acts } = run;
  // Preflight's reads (the plan against the catalogue and ARM's capacity, one read per credential) run as local
  // activities: in the run's first workflow task, one marker each, instead of an activity task and a workflow task
  // each. They only read, so running one again (a retried workflow task) is harmless. Runs from before: activities.
  const localReads = patched('ftpipe-local-preflight');
  // Taken before the local activities, so that every patch decision of this task precedes their markers.
  const adoptsJob = localReads && input.fromJob !== undefined && patched('ftpipe-from-job');
  if (localReads) askPatchesAhead();
  run.setSearchAttributes([
    { key: RUN_NAME, value: input.runName },
    { key: PROFILE, value: input.profile },
    ...(input.lineage ? [{ key: LINEAGE, value: input.lineage.name }] : []),
    // For runs started without ftpipe's client (Web UI, temporal CLI), which sets it at the start.
    ...(run.batchedUpserts ? [{ key: BASE_MODEL, value: status.baseModel }] : []),
  ]);
  run.setStage('preflight');
  const lineage = input.lineage ? await acts.lineageState({ lineage: input.lineage.name }) : undefined;
  const trainedFrom = input.lineage?.continueFromLatest && lineage?.promotedModel ? lineage.promotedModel : input.baseModel;
  status.trainedFrom = trainedFrom;
  if (!run.batchedUpserts) upsertSearchAttributes([{ key: BASE_MODEL, value: status.baseModel }]);
  // A promoted earlier checkpoint is named by its ftchkpt- id (how Azure takes it); the catalogue knows the lineage's base.
  const catalogModel = trainedFrom.startsWith('ftchkpt-') ? input.baseModel : trainedFrom;
  const reads = localReads ? run.localActs : acts;
  const pre = await reads.preflight(preflightInput(input, catalogModel));
  run.preflight = pre;
  if (pre.warnings?.length) status.warnings = pre.warnings;
  await reads.proveCredentials(credentialNeeds(input));
  if (input.fromJob && (localReads ? adoptsJob : patched('ftpipe-from-job'))) {
    await adoptJob(run, input.fromJob, [input.baseModel, trainedFrom, pre.catalogModel], pre.accountResourceId);
    return true;
  }

  // The input's schema requires training data unless fromJob is given (and runs from before fromJob had it).
  const trainingData = input.training;
  if (!trainingData) throw ApplicationFailure.nonRetryable('training: required unless fromJob names an Azure job to carry on from', 'InvalidPipelineInput');
  const trainingPath = 'path' in trainingData ? trainingData.path : undefined;
  const validationPath = input.validation && 'path' in input.validation ? input.validation.path : undefined;
  if (trainingPath || validationPath) {
    run.setStage('validate');
    const nEpochs = input.hyperparameters.nEpochs;
    status.validation = await acts.validateTrainingData({
      ...(trainingPath ? { trainingPath } : {}),
      ...(validationPath ? { validationPath } : {}),
      model: catalogModel,
      method: input.method.type,
      ...(typeof nEpochs === 'number' ? { nEpochs } : {}),
      profile: input.profile,
    });
  }
  const hash = run.dataHash();
  run.setSearchAttributes([{ key: DATA_HASH, value: hash }]);
  if (input.lineage?.skipUnchangedData && lineage?.lastDataHash === hash) return false;

  status.cost = estimateTrainingCost({ catalogModel: pre.catalogModel, method: input.method.type, trainingType: input.trainingType, validation: status.validation });
  const overBudget = budgetRefusal(input.budget.maxTrainingUsd, status.cost);
  if (overBudget) throw ApplicationFailure.nonRetryable(overBudget, 'BudgetExceeded', { estimate: status.cost });

  run.setStage('await_slot');
  run.createdSlots();
  await run.slots.acquire(pre.accountResourceId, slotAmounts(input, status.validation));
  run.setStage('upload');
  const sources: [FileRole, DataSource][] = [['training', trainingData]];
  if (input.validation) sources.push(['validation', input.validation]);
  status.files = await uploadAll(run, sources);
  run.createdFiles();
  status.files = await awaitProcessed(run, status.files);

  run.setStage('create_job');
  const training = status.files.find((f) => f.role === 'training')!.fileId;
  const validation = status.files.find((f) => f.role === 'validation')?.fileId;
  // The dated API documents no metadata: there the seed (drawn here, replay-safe, and recorded when the input has
  // none) with model, files, suffix and creation time is what identifies this run's job on a retried create.
  status.seed = input.seed ?? status.seed ?? Number.parseInt(uuid4().slice(0, 8), 16) % (MAX_SEED + 1);
  const plan: JobPlan = {
    baseModel: trainedFrom, method: input.method, hyperparameters: input.hyperparameters, seed: status.seed, suffix: input.suffix,
    trainingType: input.trainingType, metadata: input.metadata, files: { training, validation }, identity: run.identity,
  };
  const mayExist = workflowInfo().attempt > 1 || workflowInfo().continuedFromExecutionRunId !== undefined;
  const job = await acts.createFineTuningJob({ profile: input.profile, plan, notBefore: Math.floor(nowMs() / 1000), mayExist });
  run.createdJob(job);
  run.setSearchAttributes([{ key: JOB_ID, value: job.id }]);
  return true;
}

/**
 * Waits until Azure has processed the run's files: one activity checking them all (runs from before: one per file,
 * twice the activity tasks and workflow tasks for the usual training and validation pair).
 */
async function awaitProcessed(run: PipelineRun, files: UploadedFile[]): Promise<UploadedFile[]> {
  const { input, acts } = run;
  const intervalSeconds = input.polling.fileIntervalSeconds;
  if (patched('ftpipe-files-processed-together')) {
    const processed = await acts.awaitFilesProcessed({ profile: input.profile, intervalSeconds, files: files.map((f) => ({ role: f.role, fileId: f.fileId, knownStatus: f.status })) });
    return files.map((file, i) => ({ ...file, status: processed[i]!.status, bytes: processed[i]!.bytes }));
  }
  return Promise.all(
    files.map(async (file) => {
      const processed = await acts.awaitFileProcessed({ profile: input.profile, role: file.role, fileId: file.fileId, intervalSeconds, knownStatus: file.status });
      return { ...file, status: processed.status, bytes: processed.bytes };
    }),
  );
}

/** The admission slot of an adopted job that still trains: its job place on Azure, no files (it uploads none). */
const ADOPTED_JOB_SLOT = { jobs: 1, files: 0, fileBytes: 0, deployments: 0 };

/**
 * Carries on from an existing Azure job (`fromJob`) instead of validating, uploading and creating one: preflight's
 * check of it on Azure, then the run follows it. It is not in the compensation list (the run did not create it, so
 * cleanup never cancels it). A job that still trains holds one of the resource's job places on Azure, so the run
 * holds that place in the resource's admission queue until the job ends (a succeeded one holds none); runs from
 * before (the patch) took none.
 */
async function adoptJob(run: PipelineRun, jobId: string, models: string[], resource: string): Promise<void> {
  const { input } = run;
  const job = await run.acts.adoptFineTuningJob({ profile: input.profile, jobId, models, method: input.method.type });
  run.applyJob(job);
  upsertSearchAttributes([{ key: JOB_ID, value: job.id }]);
  if (job.status !== 'succeeded' && patched('ftpipe-from-job-slot')) {
    run.createdSlots();
    // Not waiting for the grant: the job trains on Azure whatever the queue says, and the monitor must watch it
    // meanwhile (status.admission says where the place stands until it is granted).
    await run.slots.acquire(resource, ADOPTED_JOB_SLOT, { waitForGrant: false });
  }
}

/** A failed upload leaves the run's other uploads to its cleanup (runs from before left them on the account). */
const PARTIAL_UPLOADS_PATCH = 'ftpipe-partial-uploads-undone';

/**
 * The run's files, uploaded side by side. When one fails (or the run is cancelled meanwhile), the others are waited
 * for and those that landed are recorded as the run's, so that the cleanup policy deletes them with the run's failure:
 * a training file uploaded beside a validation import Azure refused was left on the account for good.
 */
async function uploadAll(run: PipelineRun, sources: [FileRole, DataSource][]): Promise<UploadedFile[]> {
  const uploads = sources.map(([role, source]) => uploadSource(run, role, source));
  try {
    return await Promise.all(uploads);
  } catch (err) {
    if (patched(PARTIAL_UPLOADS_PATCH)) {
      const landed = (await Promise.allSettled(uploads)).flatMap((u) => (u.status === 'fulfilled' ? [u.value] : []));
      run.status.files = landed;
      run.createdFiles();
    }
    throw err;
  }
}

async function uploadSource(run: PipelineRun, role: FileRole, source: DataSource): Promise<UploadedFile> {
  const { input, status, acts } = run;
  if ('fileId' in source) return acts.describeFile({ profile: input.profile, role, fileId: source.fileId });
  if ('url' in source) return acts.importFile({ profile: input.profile, role, url: source.url });
  const report = status.validation?.files.find((f) => f.role === role);
  if (!report) throw ApplicationFailure.nonRetryable(`no validation report for the ${role} file`, 'InternalError');
  return acts.uploadFile({ profile: input.profile, role, path: report.path, uploadSha256: report.uploadSha256, uploadBytes: report.uploadBytes });
}
