import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { azureErrorInfo, azureFailure, isAzureNotFound } from '../src/azure/errors';
import { CHECKPOINT_COPY_HEADERS, checkpointCopyBody, checkpointCopyPath, type CheckpointCopyAnswer } from '../src/azure/requests';
import type { CopyStatus } from '../src/pipeline/types';
import type { AzureAccess } from './deps';
import { throwIfCancelled } from './deployments';
import { backoffMs, checkAgainLater } from './waiting';

export interface CheckpointCopyInput {
  /** The source account's profile (where the job ran). */
  profile: string;
  jobId: string;
  /** Checkpoint id (`ftchkpt-...`) of the job. */
  checkpoint: string;
  /** Full ARM id of the destination Azure OpenAI account. */
  destinationResourceId: string;
  /** The destination account's region, e.g. `northcentralus`. */
  region: string;
}

export interface AwaitCheckpointCopyInput extends CheckpointCopyInput {
  intervalSeconds: number;
}

/** Azure's documented prerequisites; a Failed copy gives no reason, so the failure names them. */
const COPY_PREREQUISITES =
  'the destination account must already have at least one fine-tuning job, allow public network access, and be in the same tenant; fix that and request the copy again';

const sameResource = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function copyStatus(input: CheckpointCopyInput, status: CopyStatus['status'], error: string | null = null): CopyStatus {
  return { destinationResourceId: input.destinationResourceId, region: input.region, checkpoint: input.checkpoint, status, deployment: null, error };
}

function destinationStatus(answer: CheckpointCopyAnswer, input: CheckpointCopyInput): string | undefined {
  return answer.copiedAccountDetails.find((d) => sameResource(d.destinationResourceId, input.destinationResourceId))?.status;
}

/** The copy in words, for messages: `copy of checkpoint ... (job ...) to <destination>`. */
function copyText(input: CheckpointCopyInput): string {
  return `copy of checkpoint ${input.checkpoint} (job ${input.jobId}) to ${input.destinationResourceId}`;
}

/** Checkpoint copy across accounts/regions (Azure preview, v1 family only, with the preview header on every call). */
export function copyActivities(azure: AzureAccess) {
  /** The copy's current answer, or undefined when Azure has no copy of this checkpoint (404). */
  const readStatus = async (input: CheckpointCopyInput): Promise<CheckpointCopyAnswer | undefined> => {
    try {
      return await azure.openaiV1(input.profile).get<CheckpointCopyAnswer>(checkpointCopyPath(input.jobId, input.checkpoint), { headers: CHECKPOINT_COPY_HEADERS });
    } catch (err) {
      if (isAzureNotFound(err)) return undefined;
      throw azureFailure(err, `read the status of the ${copyText(input)}`);
    }
  };

  return {
    /**
     * Starts the copy unless it is already under way or done (the status is read first, so a retry starts nothing
     * twice). A copy that failed earlier is requested again. Azure refusing the request is final, with the reason.
     */
    async startCheckpointCopy(input: CheckpointCopyInput): Promise<CopyStatus> {
      const current = await readStatus(input);
      const status = current && destinationStatus(current, input);
      if (status === 'InProgress' || status === 'Completed') return copyStatus(input, status);
      let answer: CheckpointCopyAnswer;
      try {
        answer = await azure.openaiV1(input.profile).post<CheckpointCopyAnswer>(checkpointCopyPath(input.jobId, input.checkpoint), {
          body: checkpointCopyBody(input.destinationResourceId, input.region),
          headers: CHECKPOINT_COPY_HEADERS,
          // The activity's retry reads the status before asking again.
          maxRetries: 0,
          signal: Context.current().cancellationSignal,
        });
      } catch (err) {
        throwIfCancelled();
        const info = azureErrorInfo(err);
        if (info?.status !== undefined && info.status >= 400 && info.status < 500 && info.status !== 408 && info.status !== 409 && info.status !== 429) {
          throw ApplicationFailure.nonRetryable(`Azure refused the ${copyText(input)}: ${info.code ? `${info.code}: ` : ''}${info.message} (${COPY_PREREQUISITES})`, 'CheckpointCopyRejected');
        }
        throw azureFailure(err, `start the ${copyText(input)}`);
      }
      const started = destinationStatus(answer, input);
      return copyStatus(input, started === 'Completed' || started === 'Failed' ? started : 'InProgress');
    },

    /**
     * One check of the copy. Completed: its status. Failed, or no copy at all: a final failure. In progress: a
     * retryable "not yet" after which Temporal checks again, backing off from `intervalSeconds` (activities/waiting.ts).
     */
    async awaitCheckpointCopy(input: AwaitCheckpointCopyInput): Promise<CopyStatus> {
      const answer = await readStatus(input);
      const status = answer && destinationStatus(answer, input);
      if (status === undefined) {
        throw ApplicationFailure.nonRetryable(`no ${copyText(input)} was requested; start it first`, 'CheckpointCopyNotFound');
      }
      if (status === 'Completed') return copyStatus(input, 'Completed');
      if (status === 'Failed') {
        throw ApplicationFailure.nonRetryable(`Azure reports the ${copyText(input)} Failed: ${COPY_PREREQUISITES}`, 'CheckpointCopyFailed');
      }
      checkAgainLater(`the ${copyText(input)}`, status, backoffMs(input.intervalSeconds, Context.current().info.attempt), 'CheckpointCopyTimedOut');
    },
  };
}
