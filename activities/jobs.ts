import { ApplicationFailure } from '@temporalio/common';
import type { FineTuningJob, FineTuningJobEvent, JobCreateParams } from 'openai/resources/fine-tuning/jobs/jobs';
import type { FineTuningJobCheckpoint } from 'openai/resources/fine-tuning/jobs/checkpoints';
import { callAzure } from '../src/azure/errors';
import { RUN_METADATA, jobBelongsToRun, type FineTuningJobCreateBody, type RunIdentity } from '../src/azure/requests';
import type { CheckpointSummary, JobEventSummary, JobPoll, JobResults, JobSnapshot, TrainingMetrics } from '../src/pipeline/types';
import type { AzureAccess } from './deps';

export interface JobRef {
  profile: string;
  jobId: string;
}

export interface CreateJobInput {
  profile: string;
  body: FineTuningJobCreateBody;
  identity: RunIdentity;
  /** Unix seconds: jobs created before this cannot be this run's, so the search for an earlier create stops there. */
  notBefore: number;
}

/** Azure's event messages can be long; status keeps a readable prefix. */
const EVENT_MESSAGE_CHARS = 300;
const EVENTS_PAGE = 50;
/** Clock skew tolerated between the worker and Azure when deciding a job is too old to be this run's. */
const CREATE_LOOKBACK_SECONDS = 600;

export function snapshot(job: FineTuningJob): JobSnapshot {
  const raw = job as FineTuningJob & { estimated_finish?: number | null };
  return {
    id: job.id,
    status: job.status,
    model: job.model,
    fineTunedModel: job.fine_tuned_model ?? null,
    createdAt: job.created_at,
    finishedAt: job.finished_at ?? null,
    estimatedFinish: raw.estimated_finish ?? null,
    trainedTokens: job.trained_tokens ?? null,
    resultFiles: job.result_files ?? [],
    error: job.error ? { code: job.error.code ?? null, message: job.error.message, param: job.error.param ?? null } : null,
    hyperparameters: resolvedHyperparameters(job),
  };
}

/** The job's hyperparameters (top level, with the method's own over them), scalar values only. */
function resolvedHyperparameters(job: FineTuningJob): Record<string, number | string> {
  const method = job.method as (Record<string, { hyperparameters?: Record<string, unknown> } | string | undefined> & { type?: string }) | undefined;
  const own = method?.type ? method[method.type] : undefined;
  const merged = { ...(job.hyperparameters as Record<string, unknown> | undefined), ...(typeof own === 'object' ? own.hyperparameters : undefined) };
  return Object.fromEntries(Object.entries(merged).filter((e): e is [string, number | string] => typeof e[1] === 'number' || typeof e[1] === 'string'));
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function metricsFrom(data: Record<string, unknown>): TrainingMetrics {
  return {
    step: num(data.step) ?? 0,
    trainLoss: num(data.train_loss),
    trainMeanTokenAccuracy: num(data.train_mean_token_accuracy),
    validLoss: num(data.valid_loss),
    validMeanTokenAccuracy: num(data.valid_mean_token_accuracy ?? data.validation_mean_token_accuracy),
    fullValidLoss: num(data.full_valid_loss),
    fullValidMeanTokenAccuracy: num(data.full_valid_mean_token_accuracy),
  };
}

function eventSummary(event: FineTuningJobEvent): JobEventSummary {
  return { id: event.id, createdAt: event.created_at, level: event.level, message: event.message.slice(0, EVENT_MESSAGE_CHARS) };
}

function checkpointSummary(checkpoint: FineTuningJobCheckpoint): CheckpointSummary {
  return {
    id: checkpoint.id,
    model: checkpoint.fine_tuned_model_checkpoint,
    step: checkpoint.step_number,
    metrics: { ...metricsFrom(checkpoint.metrics as Record<string, unknown>), step: checkpoint.step_number },
  };
}

export function jobActivities(azure: AzureAccess) {
  return {
    /**
     * Creates the fine-tuning job exactly once per run. The job carries the run's identity in its metadata; before
     * creating, the account's recent jobs are searched for it, so a retried activity, a worker killed mid-call or a
     * create whose response was lost finds the job instead of creating a second one.
     */
    async createFineTuningJob(input: CreateJobInput): Promise<JobSnapshot> {
      const client = azure.openai(input.profile);
      const existing = await callAzure('list fine-tuning jobs', async () => {
        // Ask for the run's own jobs first. A service that honours the metadata filter answers with those only, and
        // its answer is final; one that ignores it answers with other jobs too, and then the recent jobs are scanned.
        const filtered = await client.fineTuning.jobs.list({ limit: 100, metadata: { [RUN_METADATA.firstRunId]: input.identity.firstRunId } });
        const own = filtered.data.find((job) => jobBelongsToRun(job.metadata, input.identity));
        if (own || filtered.data.every((job) => job.metadata?.[RUN_METADATA.firstRunId] === input.identity.firstRunId)) return own;
        for await (const job of client.fineTuning.jobs.list({ limit: 100 })) {
          if (jobBelongsToRun(job.metadata, input.identity)) return job;
          if (job.created_at < input.notBefore - CREATE_LOOKBACK_SECONDS) return undefined;
        }
        return undefined;
      });
      if (existing) return snapshot(existing);
      const created = await callAzure('create the fine-tuning job', () =>
        // Azure's `trainingType` and DPO/RFT shapes are not in the OpenAI SDK's types; the SDK sends the body as given.
        // No SDK retry: a blind re-POST after a lost response would create a second job. The activity's retry
        // searches for the job first.
        client.fineTuning.jobs.create(input.body as unknown as JobCreateParams, { maxRetries: 0 }),
      );
      return snapshot(created);
    },

    /** One look at a job: its state, the events since the last look, the latest metrics. */
    async pollFineTuningJob(input: JobRef & { afterEventId: string | null }): Promise<JobPoll> {
      const client = azure.openai(input.profile);
      const job = await callAzure(`get fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.retrieve(input.jobId));
      const page = await callAzure(`list events of ${input.jobId}`, () => client.fineTuning.jobs.listEvents(input.jobId, { limit: EVENTS_PAGE }));
      const newestFirst: FineTuningJobEvent[] = [];
      for (const event of page.data) {
        if (event.id === input.afterEventId) break;
        newestFirst.push(event);
      }
      const latestMetricsEvent = page.data.find((e) => e.type === 'metrics' && e.data && typeof e.data === 'object');
      const data = latestMetricsEvent?.data as Record<string, unknown> | undefined;
      return {
        job: snapshot(job),
        newEvents: newestFirst.reverse().map(eventSummary),
        latestMetrics: data ? metricsFrom(data) : null,
        totalSteps: data ? num(data.total_steps) : null,
      };
    },

    async pauseFineTuningJob(input: JobRef): Promise<JobSnapshot> {
      const client = azure.openai(input.profile);
      const current = await callAzure(`get fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.retrieve(input.jobId));
      if (current.status === ('pausing' as string) || current.status === ('paused' as string)) return snapshot(current);
      return snapshot(await callAzure(`pause fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.pause(input.jobId)));
    },

    async resumeFineTuningJob(input: JobRef): Promise<JobSnapshot> {
      const client = azure.openai(input.profile);
      const current = await callAzure(`get fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.retrieve(input.jobId));
      if (current.status === ('resuming' as string) || current.status === 'running') return snapshot(current);
      return snapshot(await callAzure(`resume fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.resume(input.jobId)));
    },

    /** Cancels a job unless it already ended. */
    async cancelFineTuningJob(input: JobRef): Promise<JobSnapshot> {
      const client = azure.openai(input.profile);
      const current = await callAzure(`get fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.retrieve(input.jobId));
      if (['succeeded', 'failed', 'cancelled'].includes(current.status)) return snapshot(current);
      return snapshot(await callAzure(`cancel fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.cancel(input.jobId)));
    },

    /** What a succeeded job produced: the model, its deployable checkpoints with metrics, the result file. */
    async collectJobResults(input: JobRef): Promise<JobResults> {
      const client = azure.openai(input.profile);
      const job = await callAzure(`get fine-tuning job ${input.jobId}`, () => client.fineTuning.jobs.retrieve(input.jobId));
      if (job.status !== 'succeeded' || !job.fine_tuned_model) {
        throw ApplicationFailure.nonRetryable(`job ${input.jobId} has no results: status ${job.status}`, 'JobNotSucceeded');
      }
      const checkpoints = await callAzure(`list checkpoints of ${input.jobId}`, async () => {
        const all: CheckpointSummary[] = [];
        for await (const checkpoint of client.fineTuning.jobs.checkpoints.list(input.jobId, { limit: 100 })) all.push(checkpointSummary(checkpoint));
        return all.sort((a, b) => a.step - b.step);
      });
      return { fineTunedModel: job.fine_tuned_model, trainedTokens: job.trained_tokens ?? null, resultFileId: job.result_files?.[0] ?? null, checkpoints };
    },
  };
}
