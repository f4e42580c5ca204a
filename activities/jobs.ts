import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { FineTuningJob, FineTuningJobEvent } from 'openai/resources/fine-tuning/jobs/jobs';
import type { FineTuningJobCheckpoint } from 'openai/resources/fine-tuning/jobs/checkpoints';
import { azureFailure, callAzure, isAzureNotFound } from '../src/azure/errors';
import { CREATE_CLOCK_SKEW_SECONDS, JobPlanError, checkpointDeployName, isRunsJob, jobCreateRequest, type JobCreateRequest, type JobPlan } from '../src/azure/requests';
import type { TrainingType } from '../src/catalog';
import { billedHoursFrom, billedTokensFrom, notDeployableFrom, pauseCauseFrom } from '../src/pipeline/outcomes';
import type { CheckpointSummary, JobEventSummary, JobPoll, JobResults, JobSnapshot, JobStatus, TrainingMetrics } from '../src/pipeline/types';
import type { AzureAccess } from './deps';

export interface JobRef {
  profile: string;
  jobId: string;
}

export interface CollectJobInput extends JobRef {
  /**
   * The last poll's snapshot of the job, when it saw it succeed: what collecting needs from the job itself (its model,
   * trained tokens, result files), so that Azure is not asked for the job a second time. Without it, the job is read.
   */
  succeeded?: Pick<JobSnapshot, 'status' | 'fineTunedModel' | 'trainedTokens' | 'resultFiles'>;
}

export interface CreateJobInput {
  profile: string;
  plan: JobPlan;
  /** Unix seconds (workflow time when it first asked for the create): jobs created before it cannot be this run's. */
  notBefore: number;
  /** An earlier execution of this run may have created the job already (a continuation, a retried workflow). */
  mayExist?: boolean;
}

export interface AdoptJobInput extends JobRef {
  /** The names the input's model goes by (as given, as the lineage resolved it, and the catalogue's versioned id). */
  models: string[];
  method: string;
}

export interface PollJobInput extends JobRef {
  afterEventId: string | null;
  /** Training examples in the training file, when ftpipe validated it: with Azure's epochs and batch size, the step count. */
  trainingExamples?: number | null;
  /**
   * `ifStatusChanged`: list the job's events only when Azure's status differs from `knownStatus` (what the events
   * tell - steps, metrics, why a job paused, billed tokens - comes with a change of status or is read on the caller's
   * schedule). Absent (runs recorded before): always.
   */
  events?: 'always' | 'ifStatusChanged';
  knownStatus?: JobStatus | null;
}

/** Azure's event messages can be long; status keeps a readable prefix. */
const EVENT_MESSAGE_CHARS = 300;
const EVENTS_PAGE = 50;
/** Pages read back to the last seen event: more new events than this (10,000) between two listings are not read. */
const EVENT_PAGES_MAX = 200;
/** Metrics rows a poll returns for the live curve (spread over its new events, the newest always in). */
export const CURVE_ROWS_PER_POLL = 8;

/** Azure's spellings of the training tier in a job (`standard`, `globalStandard`, `developerTier`; the seed's `globalstandard`). */
const TRAINING_TYPES: Record<string, TrainingType> = { standard: 'Standard', globalstandard: 'Global', developertier: 'Developer' };

/** Fields Azure's job object documents beyond the openai package's `FineTuningJob`. */
type AzureJob = FineTuningJob & { estimated_finish?: number | null; trainingType?: string | null; suffix?: string | null };

/** A hyperparameter Azure has settled: a positive number (it answers -1 or "auto" until training starts). */
function settled(value: unknown): number | null {
  return typeof value === 'number' && value > 0 ? value : null;
}

export function snapshot(job: FineTuningJob): JobSnapshot {
  const raw: AzureJob = job;
  const top = job.hyperparameters as Record<string, unknown> | undefined;
  // A dated 2025-11-15-preview DPO or reinforcement job has its hyperparameters only inside its method (recorded).
  const own = methodHyperparameters(job);
  const error = job.error ? { code: job.error.code ?? null, message: job.error.message, param: job.error.param ?? null } : null;
  return {
    id: job.id,
    status: job.status,
    model: job.model,
    fineTunedModel: job.fine_tuned_model ?? null,
    createdAt: job.created_at,
    finishedAt: job.finished_at ?? null,
    estimatedFinish: raw.estimated_finish ?? null,
    seed: typeof job.seed === 'number' ? job.seed : null,
    trainingType: raw.trainingType ? (TRAINING_TYPES[raw.trainingType.toLowerCase()] ?? null) : null,
    epochs: settled(top?.n_epochs) ?? settled(own?.n_epochs),
    batchSize: settled(top?.batch_size) ?? settled(own?.batch_size),
    trainedTokens: job.trained_tokens ?? null,
    resultFiles: job.result_files ?? [],
    error,
    hyperparameters: resolvedHyperparameters(job),
    notDeployable: job.status === 'failed' ? notDeployableFrom(error) : null,
  };
}

/** `method.<type>.hyperparameters` of the job, when it shows them. */
function methodHyperparameters(job: FineTuningJob): Record<string, unknown> | undefined {
  const method = job.method as (Record<string, { hyperparameters?: Record<string, unknown> } | string | undefined> & { type?: string }) | undefined;
  const own = method?.type ? method[method.type] : undefined;
  return typeof own === 'object' ? own.hyperparameters : undefined;
}

/** The job's hyperparameters (top level, with the method's own over them), scalar values only. */
function resolvedHyperparameters(job: FineTuningJob): Record<string, number | string> {
  const merged = { ...(job.hyperparameters as Record<string, unknown> | undefined), ...methodHyperparameters(job) };
  return Object.fromEntries(Object.entries(merged).filter((e): e is [string, number | string] => typeof e[1] === 'number' || typeof e[1] === 'string'));
}

/** A metric as Azure reports it: a finite number, else null (missing, NaN, or not a number). */
export function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * The job's step count, from what Azure provides: its settled epochs and batch size (once training starts) and the
 * training file's example count (Azure's metrics events carry no `total_steps`). Null when not derivable.
 */
export function totalSteps(job: Pick<JobSnapshot, 'epochs' | 'batchSize'>, trainingExamples: number | null): number | null {
  if (!job.epochs || !job.batchSize || !trainingExamples) return null;
  return Math.ceil(trainingExamples / job.batchSize) * job.epochs;
}

export function metricsFrom(data: Record<string, unknown>): TrainingMetrics {
  return {
    step: finiteOrNull(data.step) ?? 0,
    trainLoss: finiteOrNull(data.train_loss),
    trainMeanTokenAccuracy: finiteOrNull(data.train_mean_token_accuracy),
    validLoss: finiteOrNull(data.valid_loss),
    validMeanTokenAccuracy: finiteOrNull(data.valid_mean_token_accuracy ?? data.validation_mean_token_accuracy),
    fullValidLoss: finiteOrNull(data.full_valid_loss),
    fullValidMeanTokenAccuracy: finiteOrNull(data.full_valid_mean_token_accuracy),
  };
}

function eventSummary(event: FineTuningJobEvent): JobEventSummary {
  return { id: event.id, createdAt: event.created_at, level: event.level, message: event.message.slice(0, EVENT_MESSAGE_CHARS) };
}

function checkpointSummary(checkpoint: FineTuningJobCheckpoint, fineTunedModel: string, finalStep: number): CheckpointSummary {
  const model = checkpoint.fine_tuned_model_checkpoint;
  return {
    id: checkpoint.id,
    model,
    deployAs: checkpointDeployName({ id: checkpoint.id, fineTunedModelCheckpoint: model, step: checkpoint.step_number }, fineTunedModel, finalStep),
    step: checkpoint.step_number,
    metrics: { ...metricsFrom(checkpoint.metrics as Record<string, unknown>), step: checkpoint.step_number },
  };
}

function isMetricsEvent(event: FineTuningJobEvent): boolean {
  return event.type === 'metrics' && !!event.data && typeof event.data === 'object';
}

/**
 * The job's events newer than `afterEventId` (newest first), read page by page back to it, so that no event between
 * two listings is skipped however many polls apart they are (the newest page only on the first look); and every
 * event read, older ones of the first page included (what tells why a job paused may be older than the last look).
 */
async function eventsSince(client: ReturnType<AzureAccess['openaiV1']>, jobId: string, afterEventId: string | null): Promise<{ newestFirst: FineTuningJobEvent[]; read: FineTuningJobEvent[] }> {
  const newestFirst: FineTuningJobEvent[] = [];
  const read: FineTuningJobEvent[] = [];
  let seen = false;
  let page = await client.fineTuning.jobs.listEvents(jobId, { limit: EVENTS_PAGE });
  for (let pages = 1; ; pages++) {
    for (const event of page.data) {
      read.push(event);
      seen ||= event.id === afterEventId;
      if (!seen) newestFirst.push(event);
    }
    if (seen || afterEventId === null || !page.hasNextPage() || pages >= EVENT_PAGES_MAX) return { newestFirst, read };
    page = await page.getNextPage();
  }
}

/** At most `max` rows of `rows` (oldest first), evenly spread, the newest always kept. */
function spread<T>(rows: T[], max: number): T[] {
  if (rows.length <= max) return rows;
  return Array.from({ length: max }, (_, i) => rows[Math.round(((i + 1) * (rows.length - 1)) / max)]!);
}

export function jobActivities(azure: AzureAccess) {
  return {
    /**
     * Creates the fine-tuning job exactly once per run, in the family its plan needs. Only when an earlier attempt may
     * have created it (a retried activity: lost response, crashed worker; or `mayExist`) are the account's jobs read
     * first, newest first back to `notBefore`, for one that is this run's (see `isRunsJob`: metadata on v1, the
     * documented seed/model/files/suffix/creation time on the dated family).
     */
    async createFineTuningJob(input: CreateJobInput): Promise<JobSnapshot> {
      let request: JobCreateRequest;
      try {
        request = jobCreateRequest(input.plan);
      } catch (err) {
        if (err instanceof JobPlanError) throw ApplicationFailure.nonRetryable(err.message, 'JobPlanNotSupported');
        throw err;
      }
      if (Context.current().info.attempt > 1 || input.mayExist) {
        const client = azure.openaiV1(input.profile);
        const existing = await callAzure('list fine-tuning jobs', async () => {
          for await (const job of client.fineTuning.jobs.list({ limit: 100 })) {
            if (isRunsJob(job, request, input.plan.identity, input.notBefore)) return job;
            if (job.created_at < input.notBefore - CREATE_CLOCK_SKEW_SECONDS) return undefined;
          }
          return undefined;
        });
        if (existing) return snapshot(existing);
      }
      // No SDK retry: a blind re-POST after a lost response would create a second job. The activity's retry looks first.
      const created = await callAzure(`create the fine-tuning job (${request.family} API${request.family === 'dated' && request.apiVersion ? ` ${request.apiVersion}` : ''})`, () =>
        request.family === 'v1'
          ? // The route jobs.create posts to, with Azure's v1 body (its RFT grader is Azure's, not openai's type).
            azure.openaiV1(input.profile).post<FineTuningJob>('/fine_tuning/jobs', { body: request.body, maxRetries: 0 })
          : // The request's api-version, when it needs its own, replaces the profile's in the query.
            azure.openai(input.profile).post<FineTuningJob>('/fine_tuning/jobs', { body: request.body, maxRetries: 0, ...(request.apiVersion ? { query: { 'api-version': request.apiVersion } } : {}) }),
        { quotaRetrySeconds: azure.profile(input.profile).limits?.quotaRetrySeconds },
      );
      return snapshot(created);
    },

    /**
     * One look at a job: its state (one call), and unless the caller asks only on a change of status and there was
     * none, its events since the last look (one more call, a page of 50 each): the latest metrics and curve rows, and
     * what only the events tell: why a paused job is paused (a request, Azure's RFT billing cap, a Developer-tier
     * preemption) and the billed tokens. `eventsListed` says which; the workflow keeps what it knew when false.
     */
    async pollFineTuningJob(input: PollJobInput): Promise<JobPoll> {
      const client = azure.openaiV1(input.profile);
      const job = await callAzure(`get fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.retrieve(input.jobId));
      const current = snapshot(job);
      const totalStepsNow = totalSteps(current, input.trainingExamples ?? null);
      if (input.events === 'ifStatusChanged' && input.knownStatus === job.status) {
        return { job: current, newEvents: [], latestMetrics: null, totalSteps: totalStepsNow, eventsListed: false };
      }
      const { newestFirst, read } = await callAzure(`list events of ${input.jobId}`, () => eventsSince(client, input.jobId, input.afterEventId));
      const metrics = newestFirst.filter(isMetricsEvent).map((e) => metricsFrom(e.data as Record<string, unknown>));
      const latestMetricsEvent = read.find(isMetricsEvent);
      current.pausedBy = job.status === ('paused' as string) || job.status === ('pausing' as string) ? pauseCauseFrom(read) : null;
      current.billedTokens = read.map((e) => billedTokensFrom(e.message)).find((n) => n !== null) ?? null;
      current.billedHours = read.map((e) => billedHoursFrom(e.message)).find((n) => n !== null) ?? null;
      return {
        job: current,
        newEvents: newestFirst.reverse().map(eventSummary),
        latestMetrics: latestMetricsEvent ? metricsFrom(latestMetricsEvent.data as Record<string, unknown>) : null,
        curveRows: spread(metrics.reverse(), CURVE_ROWS_PER_POLL),
        totalSteps: totalStepsNow,
        eventsListed: true,
      };
    },

    async pauseFineTuningJob(input: JobRef): Promise<JobSnapshot> {
      const client = azure.openaiV1(input.profile);
      const current = await callAzure(`get fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.retrieve(input.jobId));
      if (current.status === ('pausing' as string) || current.status === ('paused' as string)) return snapshot(current);
      return snapshot(await callAzure(`pause fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.pause(input.jobId)));
    },

    async resumeFineTuningJob(input: JobRef): Promise<JobSnapshot> {
      const client = azure.openaiV1(input.profile);
      const current = await callAzure(`get fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.retrieve(input.jobId));
      if (current.status === ('resuming' as string) || current.status === 'running') return snapshot(current);
      return snapshot(await callAzure(`resume fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.resume(input.jobId)));
    },

    /**
     * The job a run carries on from (`fromJob`): it must exist in the profile's account, train the input's model by the
     * input's method, and be running or succeeded. A refusal names the field and what Azure reports; read-only.
     */
    async adoptFineTuningJob(input: AdoptJobInput): Promise<JobSnapshot> {
      const refuse = (why: string): ApplicationFailure => ApplicationFailure.nonRetryable(`fromJob: ${why}`, 'FromJobRefused', { jobId: input.jobId });
      const client = azure.openaiV1(input.profile);
      let job: FineTuningJob;
      try {
        job = await client.fineTuning.jobs.retrieve(input.jobId);
      } catch (err) {
        if (isAzureNotFound(err)) throw refuse(`Azure has no fine-tuning job ${input.jobId} in the account of profile "${input.profile}"`);
        throw azureFailure(err, `get fine-tuning job ${input.jobId}`);
      }
      if (job.status === 'failed' || job.status === 'cancelled') {
        throw refuse(`Azure reports job ${job.id} is ${job.status}${job.error?.message ? ` (${job.error.message})` : ''}: there is nothing to carry on from; start a run without fromJob to train again`);
      }
      if (!input.models.includes(job.model)) {
        throw refuse(`job ${job.id} fine-tunes ${job.model}, not the input's baseModel (${[...new Set(input.models)].join(' / ')})`);
      }
      // A job created without `method` (the dated API's older shape) is supervised.
      const method = (job.method as { type?: string } | undefined)?.type ?? 'supervised';
      if (method !== input.method) throw refuse(`job ${job.id} uses the ${method} method, not the input's method.type (${input.method})`);
      return snapshot(job);
    },

    /** Cancels a job unless it already ended. */
    async cancelFineTuningJob(input: JobRef): Promise<JobSnapshot> {
      const client = azure.openaiV1(input.profile);
      const current = await callAzure(`get fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.retrieve(input.jobId));
      if (['succeeded', 'failed', 'cancelled'].includes(current.status)) return snapshot(current);
      return snapshot(await callAzure(`cancel fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.cancel(input.jobId)));
    },

    /** What a succeeded job produced: the model, its deployable checkpoints with metrics, the result file. */
    async collectJobResults(input: CollectJobInput): Promise<JobResults> {
      const client = azure.openaiV1(input.profile);
      const job = input.succeeded?.status === 'succeeded' && input.succeeded.fineTunedModel
        ? input.succeeded
        : snapshot(await callAzure(`get fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.retrieve(input.jobId)));
      if (job.status !== 'succeeded' || !job.fineTunedModel) {
        throw ApplicationFailure.nonRetryable(`job ${input.jobId} has no results: status ${job.status}`, 'JobNotSucceeded');
      }
      const fineTunedModel = job.fineTunedModel;
      const checkpoints = await callAzure(`list checkpoints of ${input.jobId}`, async () => {
        const all: FineTuningJobCheckpoint[] = [];
        for await (const checkpoint of client.fineTuning.jobs.checkpoints.list(input.jobId, { limit: 100 })) all.push(checkpoint);
        const finalStep = Math.max(0, ...all.map((c) => c.step_number));
        return all.map((c) => checkpointSummary(c, fineTunedModel, finalStep)).sort((a, b) => a.step - b.step);
      });
      return { fineTunedModel, trainedTokens: job.trainedTokens, resultFileId: job.resultFiles[0] ?? null, checkpoints };
    },
  };
}
