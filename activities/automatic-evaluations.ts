/**
 * The job's automatic evaluations: Azure evaluates the whole validation file at each epoch's checkpoint and reports it
 * in the checkpoint's metrics (`full_valid_loss`, `full_valid_mean_token_accuracy`; GET
 * /fine_tuning/jobs/{id}/checkpoints, see docs/emulator.md "Automatic evaluations"). Read-only, so a retry is harmless.
 */
import type { FineTuningJobCheckpoint } from 'openai/resources/fine-tuning/jobs/checkpoints';
import { callAzure } from '../src/azure/errors';
import type { AutomaticEvaluation } from '../src/pipeline/types';
import type { AzureAccess } from './deps';
import { finiteOrNull, type JobRef } from './jobs';

export function automaticEvaluationActivities(azure: AzureAccess) {
  return {
    /** The job's checkpoints' full-validation metrics, oldest first (Azure keeps the newest few; the run keeps what it read before). */
    async readAutomaticEvaluations(input: JobRef): Promise<AutomaticEvaluation[]> {
      const client = azure.openaiV1(input.profile);
      return callAzure(`list checkpoints of ${input.jobId}`, async () => {
        const all: FineTuningJobCheckpoint[] = [];
        for await (const checkpoint of client.fineTuning.jobs.checkpoints.list(input.jobId, { limit: 100 })) all.push(checkpoint);
        return all
          .map((c) => ({ checkpointId: c.id, step: c.step_number, fullValidLoss: finiteOrNull(c.metrics.full_valid_loss), fullValidMeanTokenAccuracy: finiteOrNull(c.metrics.full_valid_mean_token_accuracy) }))
          .sort((a, b) => a.step - b.step);
      });
    },
  };
}
