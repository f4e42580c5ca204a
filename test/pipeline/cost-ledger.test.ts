/** The run's cost ledger (src/pipeline/cost.ts `costLedger`): a pure function of the status, for the report. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { costLedger, estimateTrainingCost } from '../../src/pipeline/cost';
import type { DeploymentInfo, JobSnapshot, PipelineStatus } from '../../src/pipeline/types';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (hours: number): string => new Date(T0 + hours * 3_600_000).toISOString();

function job(overrides: Partial<JobSnapshot> = {}): JobSnapshot {
  return {
    id: 'ftjob-1', status: 'succeeded', model: 'gpt-4.1-mini-2025-04-14', fineTunedModel: 'm', createdAt: 0, finishedAt: 1, estimatedFinish: null, seed: 1,
    trainingType: null, epochs: 2, batchSize: 1, trainedTokens: 2_000_000, resultFiles: [], error: null, ...overrides,
  };
}

function deployment(name: string, sku: string, profile = 'swc'): DeploymentInfo {
  return { profile, name, model: 'm', sku, capacity: 1, provisioningState: 'Succeeded' };
}

function status(overrides: Partial<PipelineStatus> = {}): PipelineStatus {
  return {
    runName: 'r', profile: 'swc', baseModel: 'gpt-4.1-mini', stage: 'completed', job: job(),
    progress: { step: null, totalSteps: null, percent: null, etaSeconds: null }, latestMetrics: null, recentEvents: [], files: [], validation: null,
    timeline: [{ stage: 'train', at: at(0) }, { stage: 'evaluate', at: at(2) }, { stage: 'deploy', at: at(3) }, { stage: 'cleanup', at: at(3.5) }, { stage: 'completed', at: at(3.5) }],
    requests: [], errors: [], continuations: 0, evaluation: null, approval: null, deployments: [], copies: [], curve: [], results: null, admission: null,
    cost: estimateTrainingCost({ catalogModel: 'gpt-4.1-mini-2025-04-14', method: 'supervised', trainingType: 'Global', validation: { billedTokensEstimate: 2_000_000, epochs: { count: 2, source: 'explicit' } } }),
    ...overrides,
  };
}

describe('cost ledger', () => {
  it('bills training by Azure\'s billed tokens, accrues hosting from the deploy stage and gives the hourly cost of what stays', () => {
    const s = status({ job: job({ billedTokens: 1_000_000 }), deployments: [deployment('prod-v2', 'Standard'), deployment('prod-v1', 'Standard')] });
    const ledger = costLedger(s, { now: at(13), keptFromBefore: ['prod-v1'] });
    assert.equal(ledger.training.estimatedUsd, 10);
    assert.equal(ledger.training.billedTokens, 1_000_000, 'Azure\'s billed figure wins over the estimate');
    assert.equal(ledger.training.billedUsd, 5);
    assert.deepEqual(ledger.hosting.map((h) => [h.name, h.since, h.hours, h.usd]), [['prod-v2', at(3), 10, 17], ['prod-v1', null, null, null]]);
    assert.equal(ledger.hourlyUsdWhileLive, 3.4);
    assert.equal(ledger.totalUsd, 22, '5 training + 17 hosting (the kept version\'s hosting is an earlier run\'s)');
    assert.deepEqual(ledger.hosting[0]!.expiry, { kind: 'inactivity', afterDaysWithoutCalls: 15 });
    assert.ok(ledger.notes.some((n) => /prod-v1: kept from an earlier run/.test(n)));
  });

  it('bills time-billed training by Azure\'s "Training hours billed", and a per-token job that Azure reported in hours by its tokens', () => {
    const rftCost = estimateTrainingCost({ catalogModel: 'o4-mini', method: 'reinforcement', trainingType: 'Standard', validation: null });
    const rft = costLedger(status({ cost: rftCost, job: job({ model: 'o4-mini', billedHours: 3.25, trainedTokens: 9_000 }) }), { now: at(4) });
    assert.deepEqual([rft.training.billedHours, rft.training.billedUsd, rft.training.basis], [3.25, 357.5, 'Azure billed 3.25 training hours x $110 per hour']);
    assert.equal(rft.totalUsd, 357.5);
    const unbilled = costLedger(status({ cost: rftCost, job: job({ model: 'o4-mini', trainedTokens: 9_000 }) }), { now: at(4) });
    assert.equal(unbilled.training.billedUsd, null, 'no billed hours seen: not priced by tokens');
    const older = costLedger(status({ job: job({ billedHours: 0.5 }) }), { now: at(4) });
    assert.deepEqual([older.training.billedHours, older.training.billedTokens, older.training.billedUsd], [0.5, 2_000_000, 10]);
  });

  it('counts the evaluation\'s deployments by the evaluate stage\'s hours, and a Developer-tier deployment\'s end', () => {
    const s = status({
      evaluation: { analysis: {} as never, scores: [{ candidate: 'a', kind: 'candidate', items: 1, score: 1, perGrader: {} }, { candidate: 'b', kind: 'baseline', items: 1, score: 0, perGrader: {} }], decision: { promoted: true, reason: '' } },
      deployments: [deployment('dev', 'developertier')],
    });
    const paid = costLedger(s, { now: at(4), evaluationSku: 'GlobalStandard' });
    assert.deepEqual(paid.evaluation, { deployments: 2, sku: 'GlobalStandard', hours: 1, usdPerHour: 1.7, usd: 3.4 });
    const free = costLedger(s, { now: at(4), evaluationSku: 'DeveloperTier' });
    assert.equal(free.evaluation?.usd, 0);
    assert.deepEqual(free.hosting[0]!.expiry, { kind: 'lifetime', at: at(27) });
    assert.equal(free.hosting[0]!.usd, 0);
    assert.equal(free.totalUsd, 10, 'trained tokens of the ended job at the Global price; nothing hourly');
    assert.ok(free.notes.some((n) => n.includes(`deletes this Developer-tier deployment at ${at(27)}`)));
  });

  it('bills nothing for a model the safety evaluation refused, or a failed job; counts the estimate while unbilled', () => {
    const refused = costLedger(status({ job: job({ status: 'failed', trainedTokens: null, notDeployable: { reason: 'This model is unable to be deployed.', categories: ['Violence'] } }) }), { now: at(4) });
    assert.equal(refused.training.billedUsd, 0);
    assert.match(refused.training.basis, /safety evaluation/);
    assert.equal(refused.totalUsd, 0);
    assert.equal(costLedger(status({ job: job({ status: 'failed', trainedTokens: null }) }), { now: at(4) }).training.billedUsd, 0);
    const training = costLedger(status({ stage: 'train', job: job({ status: 'running', trainedTokens: null }), timeline: [{ stage: 'train', at: at(0) }] }), { now: at(1) });
    assert.equal(training.training.billedUsd, null);
    assert.equal(training.totalUsd, 10);
    assert.ok(training.notes.some((n) => /counted at its estimate/.test(n)));
    const rft = costLedger(status({ cost: estimateTrainingCost({ catalogModel: 'o4-mini', method: 'reinforcement', trainingType: 'Global', validation: null }), job: job({ trainedTokens: 5000 }) }), { now: at(4) });
    assert.equal(rft.training.billedUsd, null);
    assert.equal(rft.totalUsd, null, 'hourly-billed training has no figure');
  });
});
