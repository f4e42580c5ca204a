/** Reading a RunReport from JSON (`ftpipe report --from-json`, or a workflow result): errors name the field. */
import { z } from 'zod';
import type { RunReport } from './types';

const n = z.number().nullable();
const metrics = z.object({ step: z.number(), trainLoss: n, trainMeanTokenAccuracy: n, validLoss: n, validMeanTokenAccuracy: n, fullValidLoss: n, fullValidMeanTokenAccuracy: n });
const checkpoint = z.object({ id: z.string(), model: z.string(), step: z.number(), metrics });

const RunReportSchema = z.object({
  runName: z.string(),
  jobId: z.string(),
  baseModel: z.string(),
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
  deployments: z.array(z.object({ profile: z.string(), name: z.string(), model: z.string(), sku: z.string(), capacity: z.number(), provisioningState: z.string() })),
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
