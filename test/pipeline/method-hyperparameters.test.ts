/**
 * Hyperparameters that belong to one method. The reinforcement-only ones (`reasoningEffort`, `computeMultiplier`,
 * `evalInterval`, `evalSamples`): the pipeline input takes them only with `method.type: "reinforcement"`, in the ranges
 * of Azure's RFT guide, and the job create carries them in `method.reinforcement.hyperparameters` as each family takes
 * them (v1: the vendored v1 spec, checked strictly; dated 2025-11-15-preview: numbers only, "auto" left out).
 * `promptLossWeight`: supervised only, as the top-level `prompt_loss_weight` of a dated create without a method.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobPlanError, jobCreateRequest, type AzureGrader, type JobPlan } from '../../src/azure/requests';
import { PipelineInputError, parsePipelineInput, type Hyperparameters } from '../../src/pipeline/input';
import { validateExchange } from '../conformance/validate';

const GRADER: AzureGrader = { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' };
const base = { runName: 'r', profile: 'p', baseModel: 'o4-mini', training: { path: 'train.jsonl' }, validation: { path: 'valid.jsonl' } };
const rft = { type: 'reinforcement', grader: GRADER };

function issues(input: Record<string, unknown>): string[] {
  try {
    parsePipelineInput({ ...base, ...input });
    return [];
  } catch (err) {
    assert.ok(err instanceof PipelineInputError, String(err));
    return err.issues;
  }
}

function plan(hyperparameters: Hyperparameters, trainingType: JobPlan['trainingType']): JobPlan {
  return {
    baseModel: 'o4-mini', method: { type: 'reinforcement', grader: GRADER }, hyperparameters, seed: 7, trainingType, metadata: {},
    files: { training: 'file-train', validation: 'file-valid' }, identity: { workflowId: 'wf', firstRunId: 'run', runName: 'rft' },
  };
}

/** What a v1 create with `body` is against the vendored v1 spec (strict: an undefined property or enum value is a violation). */
function v1Violations(body: unknown): string[] {
  return validateExchange({
    plane: 'data', family: 'v1', route: 'jobs.create', method: 'POST', path: '/openai/v1/fine_tuning/jobs', query: {}, requestHeaders: {},
    requestBody: Buffer.from(JSON.stringify(body)), status: 400, responseHeaders: { 'apim-request-id': 'test' }, responseBody: undefined,
  });
}

describe('reinforcement-only hyperparameters', () => {
  it('are taken with the reinforcement method, as numbers in Azure\'s ranges or "auto"', () => {
    const parsed = parsePipelineInput({ ...base, method: rft, hyperparameters: { reasoningEffort: 'high', computeMultiplier: 0.5, evalInterval: 25, evalSamples: 10 } });
    assert.deepEqual(parsed.hyperparameters, { reasoningEffort: 'high', computeMultiplier: 0.5, evalInterval: 25, evalSamples: 10 });
    assert.deepEqual(issues({ method: rft, hyperparameters: { reasoningEffort: 'auto', computeMultiplier: 'auto', evalInterval: 'auto', evalSamples: 'auto' } }), []);
    assert.deepEqual(issues({ method: rft, hyperparameters: { computeMultiplier: 3, evalInterval: 1, evalSamples: 1 } }), []);
  });

  it('refuse a bad value naming the field', () => {
    const fault = (hyperparameters: Record<string, unknown>): string => issues({ method: rft, hyperparameters }).join('\n');
    assert.match(fault({ reasoningEffort: 'extreme' }), /^hyperparameters\.reasoningEffort: /);
    assert.match(fault({ reasoningEffort: 'Medium' }), /^hyperparameters\.reasoningEffort: /, 'the spec\'s lowercase spelling only');
    assert.match(fault({ computeMultiplier: 0.4 }), /^hyperparameters\.computeMultiplier: /);
    assert.match(fault({ computeMultiplier: 3.5 }), /^hyperparameters\.computeMultiplier: /);
    assert.match(fault({ evalInterval: 0 }), /^hyperparameters\.evalInterval: /);
    assert.match(fault({ evalInterval: 26 }), /^hyperparameters\.evalInterval: /);
    assert.equal(fault({ evalInterval: 2.5 }), 'hyperparameters.evalInterval: "auto" or an integer from 1 to 25', 'the whole rule, not only the "auto" alternative');
    assert.equal(fault({ computeMultiplier: 'high' }), 'hyperparameters.computeMultiplier: "auto" or a number from 0.5 to 3');
    assert.equal(fault({ nEpochs: 'many' }), 'hyperparameters.nEpochs: "auto" or an integer from 1 to 50', 'the common ones say it the same way');
    assert.match(fault({ evalSamples: 11 }), /^hyperparameters\.evalSamples: /);
    assert.match(fault({ evalSamples: '5' }), /^hyperparameters\.evalSamples: /);
  });

  it('are refused with any other method, naming each field and the method', () => {
    const all = { reasoningEffort: 'low', computeMultiplier: 1, evalInterval: 2, evalSamples: 3 };
    for (const method of [undefined, { type: 'supervised' }, { type: 'dpo' }]) {
      const found = issues({ ...(method ? { method } : {}), baseModel: 'gpt-4.1-mini', hyperparameters: all });
      const type = method?.type ?? 'supervised';
      assert.deepEqual(found.sort(), Object.keys(all).sort().map((field) => `hyperparameters.${field}: applies to the reinforcement method only (method.type is "${type}")`));
    }
  });

  it('go into v1\'s method.reinforcement.hyperparameters ("auto" as "auto", reasoning effort "auto" left out), conforming to the v1 spec', () => {
    const set = jobCreateRequest(plan({ nEpochs: 2, reasoningEffort: 'low', computeMultiplier: 1.5, evalInterval: 4, evalSamples: 3 }, 'Standard'));
    assert.equal(set.family, 'v1');
    assert.deepEqual(set.body.method, {
      type: 'reinforcement',
      reinforcement: { grader: GRADER, hyperparameters: { n_epochs: 2, reasoning_effort: 'low', compute_multiplier: 1.5, eval_interval: 4, eval_samples: 3 } },
    });
    assert.deepEqual(v1Violations(set.body), []);
    const auto = jobCreateRequest(plan({ reasoningEffort: 'auto', computeMultiplier: 'auto', evalInterval: 'auto', evalSamples: 'auto' }, 'Standard'));
    assert.deepEqual(auto.body.method, { type: 'reinforcement', reinforcement: { grader: GRADER, hyperparameters: { compute_multiplier: 'auto', eval_interval: 'auto', eval_samples: 'auto' } } });
    assert.deepEqual(v1Violations(auto.body), []);
    // The check can fail: an RFT-only field in supervised hyperparameters is outside the v1 spec.
    assert.notDeepEqual(v1Violations({ model: 'gpt-4.1-mini', training_file: 'file-train', method: { type: 'supervised', supervised: { hyperparameters: { eval_samples: 3 } } } }), []);
  });

  it('go into the dated 2025-11-15-preview method.reinforcement.hyperparameters as numbers, "auto" left out', () => {
    const set = jobCreateRequest(plan({ reasoningEffort: 'medium', computeMultiplier: 2, evalInterval: 5, evalSamples: 2 }, 'Global'));
    assert.equal(set.family, 'dated');
    assert.deepEqual(set.body.method, { type: 'reinforcement', reinforcement: { grader: GRADER, hyperparameters: { reasoning_effort: 'medium', compute_multiplier: 2, eval_interval: 5, eval_samples: 2 } } });
    const auto = jobCreateRequest(plan({ reasoningEffort: 'auto', computeMultiplier: 'auto', evalInterval: 'auto', evalSamples: 4 }, 'Developer'));
    assert.deepEqual(auto.body.method, { type: 'reinforcement', reinforcement: { grader: GRADER, hyperparameters: { eval_samples: 4 } } });
  });
});

describe('promptLossWeight: supervised only', () => {
  const dpoPlan = (trainingType: JobPlan['trainingType']): JobPlan => ({ ...plan({ promptLossWeight: 0.1 }, trainingType), baseModel: 'gpt-4.1-mini', method: { type: 'dpo' } });

  it('is refused with dpo and reinforcement, naming the field: no DPO or RFT hyperparameters have it, and top-level ones beside a method are ignored', () => {
    assert.match(issues({ baseModel: 'gpt-4.1-mini', method: { type: 'dpo' }, hyperparameters: { promptLossWeight: 0.1 } }).join('\n'), /^hyperparameters\.promptLossWeight: not for dpo: /);
    assert.match(issues({ method: rft, hyperparameters: { promptLossWeight: 0.1 } }).join('\n'), /^hyperparameters\.promptLossWeight: not for reinforcement fine-tuning/);
    for (const trainingType of ['Standard', 'Global', 'Developer'] as const) {
      assert.throws(() => jobCreateRequest(dpoPlan(trainingType)), (err: unknown) => err instanceof JobPlanError && /^hyperparameters\.promptLossWeight: not for dpo /.test(err.message), trainingType);
    }
  });

  it('never goes, nor does any hyperparameter, at the top level of a create that has a method (Azure ignores those), for any method and tier', () => {
    const methods = [{ type: 'supervised' }, { type: 'dpo' }, { type: 'reinforcement', grader: GRADER }] as const;
    const sets: Hyperparameters[] = [{}, { nEpochs: 2, batchSize: 'auto', learningRateMultiplier: 0.5 }, { nEpochs: 'auto', beta: 0.2 }, { evalSamples: 3, reasoningEffort: 'low' }, { nEpochs: 1, promptLossWeight: 0.1 }];
    let creates = 0;
    for (const method of methods) {
      for (const trainingType of ['Standard', 'Global', 'Developer'] as const) {
        for (const hyperparameters of sets) {
          const input = { method, hyperparameters, ...(method.type === 'reinforcement' ? {} : { baseModel: 'gpt-4.1-mini' }) };
          if (issues(input).length > 0) continue; // refused at input: never planned
          const request = jobCreateRequest({ ...plan(hyperparameters, trainingType), method, baseModel: input.baseModel ?? 'o4-mini' });
          creates++;
          const body = request.body as { method?: unknown; hyperparameters?: unknown };
          if (body.method !== undefined) assert.equal(body.hyperparameters, undefined, `${method.type} ${trainingType} ${JSON.stringify(hyperparameters)}: top-level hyperparameters beside method`);
        }
      }
    }
    assert.ok(creates >= 20, `${creates} creates checked`);
  });

  it('goes with supervised as the dated create\'s top-level prompt_loss_weight, with no method (the seed\'s example)', () => {
    assert.deepEqual(issues({ baseModel: 'gpt-4.1-mini', hyperparameters: { promptLossWeight: 0.1 } }), []);
    const sft = jobCreateRequest({ ...plan({ nEpochs: 2, promptLossWeight: 0.1 }, 'Developer'), baseModel: 'gpt-4.1', method: { type: 'supervised' } });
    assert.equal(sft.family, 'dated');
    assert.deepEqual(sft.body.hyperparameters, { n_epochs: 2, prompt_loss_weight: 0.1 });
    assert.equal('method' in sft.body, false);
    const dpo = jobCreateRequest({ ...plan({ nEpochs: 2, beta: 0.2 }, 'Global'), baseModel: 'gpt-4.1-mini', method: { type: 'dpo' } });
    assert.equal('hyperparameters' in dpo.body, false, 'a DPO create has no top-level hyperparameters');
    assert.deepEqual(dpo.body.method, { type: 'dpo', dpo: { hyperparameters: { n_epochs: 2, beta: 0.2 } } });
  });
});
