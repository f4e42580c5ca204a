/** A realistic RunReport: 4 epochs that overfit after the second, three kept checkpoints, evals, deployments. */
import { analyzeMetrics } from '../../src/evaluation/metrics';
import type { CheckpointSummary, ResultsRow } from '../../src/pipeline/types';
import type { RunReport } from '../../src/pipeline/types';

const MODEL = 'gpt-4.1-mini-2025-04-14.ft-0123456789abcdef0123456789abcdef-bikes';
const EPOCH_VALID = [1.1, 0.62, 0.7, 0.93];
const EPOCH_ACCURACY = [0.55, 0.79, 0.77, 0.71];
const STEPS_PER_EPOCH = 25;

export function sampleRows(): ResultsRow[] {
  return Array.from({ length: STEPS_PER_EPOCH * EPOCH_VALID.length }, (_, i) => {
    const step = i + 1;
    const epoch = Math.floor(i / STEPS_PER_EPOCH);
    const noise = 1 + 0.05 * Math.sin(step * 1.7);
    const end = step % STEPS_PER_EPOCH === 0;
    return {
      step,
      trainLoss: (2.2 / (1 + step / 12)) * noise,
      trainMeanTokenAccuracy: Math.min(0.98, 0.45 + step / 180) * (2 - noise),
      validLoss: EPOCH_VALID[epoch]! * noise,
      validMeanTokenAccuracy: EPOCH_ACCURACY[epoch]! * (2 - noise),
      fullValidLoss: end ? EPOCH_VALID[epoch]! : null,
      fullValidMeanTokenAccuracy: end ? EPOCH_ACCURACY[epoch]! : null,
    };
  });
}

export function sampleReport(overrides: Partial<RunReport> = {}): RunReport {
  const rows = sampleRows();
  const checkpoints: CheckpointSummary[] = [50, 75, 100].map((step) => ({ id: `ftchkpt-${step}`, model: `${MODEL}:ckpt-step-${step}`, step, metrics: { ...rows[step - 1]! } }));
  return {
    runName: 'bike-shop-weekly',
    jobId: 'ftjob-0123456789abcdef0123456789abcdef',
    baseModel: 'gpt-4.1-mini',
    fineTunedModel: MODEL,
    checkpoints,
    metrics: analyzeMetrics({ checkpoints, rows }),
    evalScores: [
      { candidate: checkpoints[0]!.model, kind: 'candidate', items: 60, score: 0.82, perGrader: { exact_match: 0.75, contains: 0.89 } },
      { candidate: checkpoints[2]!.model, kind: 'candidate', items: 60, score: 0.64, perGrader: { exact_match: 0.55, contains: 0.73 } },
      { candidate: 'prod-bikes-v3', kind: 'baseline', items: 60, score: 0.7, perGrader: { exact_match: 0.6, contains: 0.8 } },
    ],
    decision: { promoted: true, reason: 'step 50 scored 82.0% against the baseline\'s 70.0%: +12.0 points, above the minimum lift of 2.0' },
    deployments: [
      { profile: 'prod-swc', name: 'bikes-v4', model: checkpoints[0]!.model, sku: 'GlobalStandard', capacity: 10, provisioningState: 'Succeeded' },
      { profile: 'prod-swc', name: 'bikes-v3', model: `${MODEL.replace('0123', '9999')}`, sku: 'GlobalStandard', capacity: 10, provisioningState: 'Succeeded' },
    ],
    deleted: ['eval-bikes-step-50', 'eval-bikes-step-100', 'bikes-v2', 'file-0123456789abcdef0123456789abcdef'],
    approval: { decision: 'approved', by: 'maria', at: '2026-11-22T00:10:00.000Z' },
    generatedAt: '2026-11-22T00:12:00.000Z',
    state: { execution: 'COMPLETED', stage: 'completed', outcome: 'succeeded', final: true, failure: null, summary: 'Final: the run completed (succeeded).' },
    hyperparameters: { n_epochs: 4, batch_size: 2, learning_rate_multiplier: 0.1 },
    dataset: { trainingExamples: 50, validationExamples: 12, trainingTokens: 6_210, trainableTokens: 2_480, validationTokens: 1_530, epochs: 4, billedTokensEstimate: 9_920, trainedTokens: 9_920 },
    queue: {
      resource: '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/prod-swc', state: 'released', position: null,
      reason: 'slots given back', requestedAt: '2026-11-21T22:00:03.000Z', grantedAt: '2026-11-21T22:04:47.000Z', waitedSeconds: 284,
    },
    stages: [
      { stage: 'preflight', startedAt: '2026-11-21T22:00:00.000Z', seconds: 1, ongoing: false },
      { stage: 'validate', startedAt: '2026-11-21T22:00:01.000Z', seconds: 2, ongoing: false },
      { stage: 'train', startedAt: '2026-11-21T22:00:03.000Z', seconds: 5_400, ongoing: false },
      { stage: 'evaluate', startedAt: '2026-11-21T23:30:03.000Z', seconds: 1_800, ongoing: false },
      { stage: 'completed', startedAt: '2026-11-22T00:12:00.000Z', seconds: 0, ongoing: false },
    ],
    requests: [
      { kind: 'pause', via: 'update', requestedAt: '2026-11-21T22:40:00.000Z', state: 'done', by: 'alice' },
      { kind: 'resume', via: 'signal', requestedAt: '2026-11-21T22:55:00.000Z', state: 'done', by: 'alice' },
    ],
    copies: [
      { destinationResourceId: '/subscriptions/0000/resourceGroups/ml/providers/Microsoft.CognitiveServices/accounts/bikes-ncus', region: 'northcentralus', checkpoint: 'ftchkpt-50', status: 'Completed', deployment: null, error: null },
      { destinationResourceId: '/subscriptions/0000/resourceGroups/ml/providers/Microsoft.CognitiveServices/accounts/bikes-eus2', region: 'eastus2', checkpoint: 'ftchkpt-50', status: 'Failed', deployment: null, error: 'The destination account has no fine-tuning job yet' },
    ],
    cost: {
      asOf: '2026-11-22T00:12:00.000Z',
      training: { estimatedUsd: 0.05, billedTokens: 9_920, billedUsd: 0.05, basis: '9920 billed tokens x $5.5 per 1M' },
      evaluation: { deployments: 3, sku: 'DeveloperTier', hours: 0.5, usdPerHour: 0, usd: 0 },
      hosting: [
        { profile: 'prod-swc', name: 'bikes-v4', sku: 'GlobalStandard', usdPerHour: 1.7, since: '2026-11-22T00:10:00.000Z', hours: 0.03, usd: 0.05, expiry: { kind: 'inactivity', afterDaysWithoutCalls: 15 } },
        { profile: 'prod-swc', name: 'bikes-v3', sku: 'GlobalStandard', usdPerHour: 1.7, since: null, hours: null, usd: null, expiry: { kind: 'inactivity', afterDaysWithoutCalls: 15 } },
      ],
      totalUsd: 0.1,
      hourlyUsdWhileLive: 3.4,
      notes: ['bikes-v3: kept from an earlier run; its hosting so far is billed to that run.'],
    },
    ...overrides,
  };
}
