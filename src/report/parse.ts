/** Reading a RunReport from JSON (`ftpipe report --from-json`, or a workflow result): errors name the field. */
import { z } from 'zod';
import type { RunReport } from '../pipeline/types';

const n = z.number().nullable();
const metrics = z.object({ step: z.number(), trainLoss: n, trainMeanTokenAccuracy: n, validLoss: n, validMeanTokenAccuracy: n, fullValidLoss: n, fullValidMeanTokenAccuracy: n });
const checkpoint = z.object({ id: z.string(), model: z.string(), step: z.number(), metrics });

const deployment = z.object({ profile: z.string(), name: z.string(), model: z.string(), sku: z.string(), capacity: z.number(), provisioningState: z.string() });
const nn = z.number().nullable();

const RunReportSchema = z.object({
  runName: z.string(),
  jobId: z.string().nullable(),
  state: z.object({ execution: z.string(), stage: z.string(), outcome: z.string().nullable(), final: z.boolean(), failure: z.string().nullable(), summary: z.string() }).optional(),
  hyperparameters: z.record(z.string(), z.union([z.number(), z.string()])).nullable().optional(),
  dataset: z
    .object({ trainingExamples: nn, validationExamples: nn, trainingTokens: nn, trainableTokens: nn, validationTokens: nn, epochs: nn, billedTokensEstimate: nn, trainedTokens: nn })
    .nullable()
    .optional(),
  stages: z.array(z.object({ stage: z.string(), startedAt: z.string(), seconds: z.number(), ongoing: z.boolean() })).optional(),
  queue: z
    .object({ resource: z.string(), state: z.enum(['requested', 'waiting', 'granted', 'released']), position: nn, reason: z.string(), requestedAt: z.string(), grantedAt: z.string().nullable(), waitedSeconds: nn })
    .nullable()
    .optional(),
  requests: z
    .array(z.object({ kind: z.enum(['pause', 'resume', 'approve', 'reject', 'copyToRegion']), via: z.enum(['signal', 'update']), requestedAt: z.string(), state: z.enum(['pending', 'done', 'refused']), reason: z.string().optional(), by: z.string().optional() }))
    .optional(),
  copies: z
    .array(z.object({ destinationResourceId: z.string(), region: z.string(), checkpoint: z.string(), status: z.enum(['requested', 'InProgress', 'Completed', 'Failed']), deployment: deployment.nullable(), error: z.string().nullable() }))
    .optional(),
  liveCurve: z.array(metrics).optional(),
  baseModel: z.string(),
  trainedFrom: z.string().optional(),
  fineTunedModel: z.string().nullable(),
  checkpoints: z.array(checkpoint),
  metrics: z
    .object({
      policy: z.enum(['lowest_valid_loss', 'final', 'best_valid_accuracy']),
      chosen: checkpoint,
      reason: z.string(),
      overfitting: z.object({ detected: z.boolean(), detail: z.string() }),
      curve: z.array(metrics),
    })
    .nullable(),
  evalScores: z.array(z.object({ candidate: z.string(), kind: z.enum(['candidate', 'baseline']), items: z.number(), score: z.number(), perGrader: z.record(z.string(), z.number()) })),
  decision: z.object({ promoted: z.boolean(), reason: z.string() }),
  deployments: z.array(deployment),
  cost: z
    .object({
      asOf: z.string(),
      training: z.object({ estimatedUsd: nn, billedTokens: nn, billedHours: nn.optional(), billedUsd: nn, countedUsd: nn.optional(), basis: z.string() }),
      evaluation: z.object({ deployments: z.number(), sku: z.string(), hours: nn, usdPerHour: nn, usd: nn }).nullable(),
      hosting: z.array(
        z.object({
          profile: z.string(), name: z.string(), sku: z.string(), usdPerHour: nn, since: z.string().nullable(), hours: nn, usd: nn,
          expiry: z.union([z.object({ kind: z.literal('lifetime'), at: z.string().nullable() }), z.object({ kind: z.literal('inactivity'), afterDaysWithoutCalls: z.number() })]),
        }),
      ),
      totalUsd: nn,
      hourlyUsdWhileLive: nn,
      notes: z.array(z.string()),
    })
    .optional(),
  automaticEvaluations: z.array(z.object({ checkpointId: z.string(), step: z.number(), fullValidLoss: nn, fullValidMeanTokenAccuracy: nn })).optional(),
  stoppedBy: z.object({ kind: z.enum(['budget', 'stopEarly']), explanation: z.string() }).nullable().optional(),
  deleted: z.array(z.string()),
  approval: z.object({ decision: z.enum(['approved', 'rejected']), by: z.string(), at: z.string(), comment: z.string().optional() }).nullable(),
  generatedAt: z.string(),
});

export class RunReportError extends Error {}

/** Checks that `value` is a RunReport; `source` names it in the error. */
export function parseRunReport(value: unknown, source: string): RunReport {
  const parsed = RunReportSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 8).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
  throw new RunReportError(`${source}: not a run report: ${problems.join('; ')}`);
}
