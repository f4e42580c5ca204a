/**
 * The job create per plan (src/azure/requests.ts) against what Azure was recorded taking, and the job's progress
 * reading (`snapshot`) of what it answers: reinforcement fine-tuning on a Global or Developer tier goes to the dated
 * family at 2025-11-15-preview with `method.reinforcement` whole and `trainingType`, and no top-level hyperparameters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FineTuningJob } from 'openai/resources/fine-tuning/jobs/jobs';
import { snapshot, totalSteps } from '../../activities/jobs';
import { JobPlanError, RFT_DATED_API_VERSION, jobCreateRequest, type AzureGrader, type JobPlan } from '../../src/azure/requests';

/** The grader of the recorded RFT creates (azure-ai-projects, score_model judging with o3-mini). */
const GRADER: AzureGrader = {
  type: 'score_model', name: 'Response Quality Grader', model: 'o3-mini', range: [0, 10],
  input: [{ role: 'user', content: 'Evaluate the model\'s response based on correctness and quality. Rate from 0 to 10.' }],
};

/**
 * Transcribed from Azure/azure-sdk-assets python/sdk/ai/azure-ai-projects/tests/recordings/finetuning/
 * test_finetuning.pyTestFineTuningtest_create_job[rft-openai-developerTier].json (commit 28ff9148, 2026-02-03, East US 2):
 * `POST .../openai/fine_tuning/jobs?api-version=2025-11-15-preview` answered 201 with this body (ids sanitized there).
 */
const RECORDED_DEVELOPER_RFT_JOB = {
  additionalParameters: { completionOverride: 'True' },
  seed: 1641444030,
  method: {
    type: 'reinforcement',
    reinforcement: {
      hyperparameters: { eval_interval: 5, eval_samples: 2, compute_multiplier: 1, reasoning_effort: 'medium', n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 },
      grader: { ...GRADER, pass_threshold: 0 },
    },
  },
  trainingType: 'developerTier',
  status: 'pending',
  model: 'o4-mini-2025-04-16',
  training_file: 'sanitized-file-id',
  validation_file: 'sanitized-file-id',
  estimated_finish: 1770128667,
  id: 'sanitized-ftjob-id',
  created_at: 1770125907,
  object: 'fine_tuning.job',
};

function plan(overrides: Partial<JobPlan> = {}): JobPlan {
  return {
    baseModel: 'o4-mini', method: { type: 'reinforcement', grader: GRADER }, hyperparameters: { nEpochs: 1, batchSize: 1, learningRateMultiplier: 1 },
    seed: 1641444030, trainingType: 'Developer', metadata: {}, files: { training: 'file-train', validation: 'file-valid' },
    identity: { workflowId: 'wf', firstRunId: 'run', runName: 'rft' },
    ...overrides,
  };
}

describe('job create requests', () => {
  it('creates reinforcement on the Developer and Global tiers through the dated family at 2025-11-15-preview: method.reinforcement whole, trainingType, no top-level hyperparameters', () => {
    const developer = jobCreateRequest(plan({ hyperparameters: { nEpochs: 1, batchSize: 1, learningRateMultiplier: 1, evalInterval: 5, evalSamples: 2, reasoningEffort: 'medium' } }));
    assert.equal(developer.family, 'dated');
    assert.equal(developer.family === 'dated' && developer.apiVersion, RFT_DATED_API_VERSION);
    assert.equal(RFT_DATED_API_VERSION, '2025-11-15-preview');
    // The recorded request's body (test_create_job[rft-openai-developerTier]; its seed left to the service there).
    assert.deepEqual(developer.body, {
      model: 'o4-mini', training_file: 'file-train', validation_file: 'file-valid', seed: 1641444030,
      method: {
        type: 'reinforcement',
        reinforcement: { grader: GRADER, hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1, eval_interval: 5, eval_samples: 2, reasoning_effort: 'medium' } },
      },
      trainingType: 'developerTier',
    });
    assert.ok(!('hyperparameters' in developer.body), 'no top-level hyperparameters (the recorded RFT creates have none)');
    const global = jobCreateRequest(plan({ trainingType: 'Global', suffix: 'rft' }));
    assert.deepEqual([global.family, global.body.suffix, (global.body as { trainingType?: string }).trainingType], ['dated', 'rft', 'GlobalStandard']);
  });

  it('leaves "auto" out of the dated reinforcement hyperparameters (the dated family types them as numbers), and sends none when none is set', () => {
    const auto = jobCreateRequest(plan({ hyperparameters: { nEpochs: 'auto', batchSize: 4, learningRateMultiplier: 'auto' } }));
    assert.deepEqual((auto.body.method as { reinforcement: { hyperparameters?: unknown } }).reinforcement.hyperparameters, { batch_size: 4 });
    const none = jobCreateRequest(plan({ hyperparameters: {} }));
    assert.deepEqual(none.body.method, { type: 'reinforcement', reinforcement: { grader: GRADER } });
  });

  it('keeps Standard reinforcement on v1 (no trainingType there) and the other methods\' dated creates on the profile\'s api-version', () => {
    const standard = jobCreateRequest(plan({ trainingType: 'Standard' }));
    assert.equal(standard.family, 'v1');
    assert.deepEqual(standard.body.method, { type: 'reinforcement', reinforcement: { grader: GRADER, hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 } } });
    assert.ok(!('trainingType' in standard.body));
    for (const method of [{ type: 'supervised' }, { type: 'dpo' }] as const) {
      const dated = jobCreateRequest(plan({ baseModel: 'gpt-4.1-mini', method }));
      assert.equal(dated.family, 'dated');
      assert.equal(dated.family === 'dated' ? dated.apiVersion : 'v1', undefined, `${method.type}: the profile's apiVersion`);
    }
  });

  it('refuses promptLossWeight on a reinforcement job, naming the input field, on every tier', () => {
    for (const trainingType of ['Standard', 'Global', 'Developer'] as const) {
      assert.throws(() => jobCreateRequest(plan({ trainingType, hyperparameters: { promptLossWeight: 0.1 } })), (err: unknown) => {
        assert.ok(err instanceof JobPlanError);
        assert.match(err.message, /^hyperparameters\.promptLossWeight: not for reinforcement fine-tuning/);
        return true;
      });
    }
  });
});

describe('the job\'s progress reading (snapshot)', () => {
  it('reads epochs and batch size from method.reinforcement.hyperparameters of a recorded 2025-11-15-preview RFT job, which has no top-level ones', () => {
    const read = snapshot(RECORDED_DEVELOPER_RFT_JOB as unknown as FineTuningJob);
    assert.deepEqual([read.epochs, read.batchSize, read.trainingType, read.status, read.seed], [1, 1, 'Developer', 'pending', 1641444030]);
    assert.equal(totalSteps(read, 40), 40, 'the step total: 40 examples, batch 1, 1 epoch');
    assert.equal(read.hyperparameters?.reasoning_effort, 'medium');
    assert.equal(read.hyperparameters?.eval_interval, 5);
  });

  it('prefers settled top-level values, and knows no total while both say -1 (auto, before training)', () => {
    const v1 = { ...RECORDED_DEVELOPER_RFT_JOB, hyperparameters: { n_epochs: 3, batch_size: 2, learning_rate_multiplier: 1 } };
    assert.deepEqual([snapshot(v1 as unknown as FineTuningJob).epochs, snapshot(v1 as unknown as FineTuningJob).batchSize], [3, 2]);
    const unsettled = {
      ...RECORDED_DEVELOPER_RFT_JOB,
      method: { type: 'reinforcement', reinforcement: { grader: GRADER, hyperparameters: { n_epochs: -1, batch_size: -1, learning_rate_multiplier: 1 } } },
    };
    const read = snapshot(unsettled as unknown as FineTuningJob);
    assert.deepEqual([read.epochs, read.batchSize, totalSteps(read, 40)], [null, null, null]);
  });
});
