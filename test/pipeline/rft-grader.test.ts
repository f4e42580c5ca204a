/**
 * The RFT grader in the pipeline input is checked as Azure's v1 spec defines it (`AzureFineTuneReinforcementMethod.
 * grader`: string_check, text_similarity, score_model or multi, each with its required fields), so a grader Azure
 * refuses fails the run's input at once, not the job create after the upload.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PipelineInputError, parsePipelineInput } from '../../src/pipeline/input';

describe('the RFT grader in the pipeline input', () => {
  const base = { runName: 'r', profile: 'p', baseModel: 'o4-mini', training: { path: 'train.jsonl' }, validation: { path: 'valid.jsonl' } };
  const issues = (grader: unknown): string[] => {
    try {
      parsePipelineInput({ ...base, method: { type: 'reinforcement', grader } });
      return [];
    } catch (err) {
      assert.ok(err instanceof PipelineInputError);
      return err.issues;
    }
  };

  it('takes the four grader types of Azure\'s spec with their required fields, and passes other fields through', () => {
    assert.deepEqual(issues({ type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' }), []);
    assert.deepEqual(issues({ type: 'text_similarity', name: 'sim', input: '{{sample.output_text}}', reference: '{{item.answer}}', evaluation_metric: 'bleu', pass_threshold: 0.5 }), []);
    assert.deepEqual(issues({ type: 'score_model', name: 'judge', model: 'o3-mini', input: [{ role: 'user', content: 'Score it.' }], range: [0, 1] }), []);
    assert.deepEqual(issues({ type: 'multi', name: 'both', graders: { a: { type: 'string_check' } }, calculate_output: 'a' }), []);
    const parsed = parsePipelineInput({ ...base, method: { type: 'reinforcement', grader: { type: 'text_similarity', name: 's', input: 'i', reference: 'r', evaluation_metric: 'bleu', pass_threshold: 0.5 } } });
    assert.equal((parsed.method as { grader: { pass_threshold?: number } }).grader.pass_threshold, 0.5);
  });

  it('refuses what Azure refuses, naming the field: a Python grader (OpenAI has one, Azure\'s spec does not), a missing or unknown required value', () => {
    assert.match(issues({ type: 'python', name: 'p', source: 'def grade(s, i): return 1' }).join('\n'), /^method\.grader\.type: /);
    assert.match(issues({ type: 'string_check', name: 'exact', input: 'i', reference: 'r' }).join('\n'), /^method\.grader\.operation: /);
    assert.match(issues({ type: 'string_check', name: 'exact', input: 'i', reference: 'r', operation: 'equals' }).join('\n'), /^method\.grader\.operation: /);
    assert.match(issues({ type: 'text_similarity', name: 's', input: 'i', reference: 'r', evaluation_metric: 'cosine' }).join('\n'), /^method\.grader\.evaluation_metric: /);
    assert.match(issues({ type: 'score_model', name: 'judge', input: [] }).join('\n'), /^method\.grader\.model: /);
    assert.match(issues({ type: 'multi', name: 'both', graders: {} }).join('\n'), /^method\.grader\.calculate_output: /);
  });
});
