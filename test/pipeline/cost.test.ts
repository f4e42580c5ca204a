import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { HOSTING_PRICES, TRAINING_PRICES } from '../../src/catalog/prices';
import { budgetRefusal, estimateTrainingCost } from '../../src/pipeline/cost';
import { uniqueTrainingFile, usePipelineStack } from '../helpers/pipeline';
import { statusQuery } from '../../workflows/messages';

describe('training cost estimate', () => {
  it('is billed tokens x the catalogue\'s price for the model, method and training type', () => {
    const validation = { billedTokensEstimate: 2_000_000, epochs: { count: 2, source: 'explicit' as const } };
    const standard = estimateTrainingCost({ catalogModel: 'gpt-4.1-mini-2025-04-14', method: 'supervised', trainingType: 'Standard', validation });
    const global = estimateTrainingCost({ catalogModel: 'gpt-4.1-mini-2025-04-14', method: 'supervised', trainingType: 'Global', validation });
    const developer = estimateTrainingCost({ catalogModel: 'gpt-4.1-mini', method: 'dpo', trainingType: 'Developer', validation });
    assert.equal(standard.usd, 2 * TRAINING_PRICES['gpt-4.1-mini']!.supervised!.usd.Standard);
    assert.equal(global.usd, 10);
    assert.equal(developer.usd, 5);
    assert.ok(standard.usd > global.usd && global.usd > developer.usd);
    assert.match(standard.basis, /^2000000 billed tokens \(2 epochs\) x \$5\.5 per 1M \(Standard\)$/);
  });

  it('has no figure for hourly-billed reinforcement, unpriced models or unvalidated data, and says why', () => {
    const rft = estimateTrainingCost({ catalogModel: 'o4-mini-2025-04-16', method: 'reinforcement', trainingType: 'Global', validation: null });
    assert.equal(rft.usd, null);
    assert.equal(rft.price?.unit, 'perHour');
    assert.match(rft.basis, /\$100 per hour/);
    assert.match(estimateTrainingCost({ catalogModel: 'Qwen-32B-1', method: 'supervised', trainingType: 'Global', validation: null }).basis, /no supervised training price for Qwen-32B/);
    assert.match(estimateTrainingCost({ catalogModel: 'gpt-4.1-2025-04-14', method: 'supervised', trainingType: 'Global', validation: null }).basis, /billed tokens are unknown/);
  });

  it('prices every deployment type with a source, and refuses only an estimate over the budget', () => {
    for (const price of Object.values(HOSTING_PRICES)) assert.match(price.source.date, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(HOSTING_PRICES.GlobalStandard.usdPerHour, 1.7);
    const estimate = estimateTrainingCost({ catalogModel: 'gpt-4.1', method: 'supervised', trainingType: 'Global', validation: { billedTokensEstimate: 1_000_000, epochs: { count: 1, source: 'auto' } } });
    assert.equal(budgetRefusal(25, estimate), undefined);
    assert.equal(budgetRefusal(undefined, estimate), undefined);
    assert.match(budgetRefusal(24.99, estimate)!, /estimated training cost \$25\.00 exceeds budget\.maxTrainingUsd \$24\.99/);
  });
});

describe('budget.maxTrainingUsd in a run', () => {
  const env = usePipelineStack();

  it('refuses a run whose estimate exceeds the budget before anything is uploaded; a run within it carries the estimate in status and result', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const uploadsBefore = env.emulator.control.requests({ route: 'files.upload' }).length;
      const refused = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() }, budget: { maxTrainingUsd: 0.0001 } }));
      const err = await refused.result().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError);
      const failure = err.cause as ApplicationFailure;
      assert.equal(failure.type, 'BudgetExceeded');
      assert.match(failure.message, /estimated training cost \$\d+\.\d\d exceeds budget\.maxTrainingUsd \$0\.00 .* nothing was uploaded/);
      assert.equal(env.emulator.control.requests({ route: 'files.upload' }).length, uploadsBefore, 'no upload');
      const status = await refused.query(statusQuery);
      assert.ok((status.cost?.usd ?? 0) > 0);
      assert.equal(status.admission, null, 'never queued for slots');
      assert.equal(status.ledger?.training.estimatedUsd, status.cost?.usd, 'the status query carries the ledger: the estimate, nothing billed');
      assert.equal(status.ledger?.training.billedUsd, null);

      const within = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() }, budget: { maxTrainingUsd: 1000 }, hyperparameters: { nEpochs: 1 } }));
      const result = await within.result();
      assert.equal(result.outcome, 'succeeded');
      assert.ok(result.cost && result.cost.usd !== null && result.cost.usd > 0, JSON.stringify(result.cost));
      assert.equal(result.cost.billedTokens, result.validation?.billedTokensEstimate);
      const ledger = (await within.query(statusQuery)).ledger;
      assert.deepEqual(ledger?.training, result.ledger?.training, 'the status query\'s ledger bills what the result does');
      assert.ok(ledger && ledger.asOf >= result.ledger!.asOf, 'and is as of the query');
    });
  });
});
