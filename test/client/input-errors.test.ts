/**
 * The typed client's bad-input errors say what the CLI says for a pipeline file (without the file and line):
 * `field: reason`, a mistyped key with the key it likely meant, a missing field as missing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyRequestError, PipelineInputError, parseCopyRequest, parsePipelineInput } from '../../src/client';

const base = { runName: 'errors-demo', profile: 'emulator', baseModel: 'gpt-4.1-mini', training: { path: 'train.jsonl' } };

function errorOf<E extends PipelineInputError | CopyRequestError>(fn: () => unknown, kind: new (issues: string[]) => E): E {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof kind, `expected ${kind.name}, got ${String(err)}`);
    return err;
  }
  assert.fail('the input was accepted');
}

const issuesOf = (fn: () => unknown, kind: typeof PipelineInputError | typeof CopyRequestError): string[] => errorOf(fn, kind).issues;

describe('typed client input errors', () => {
  it('names a mistyped key with the key it likely meant', () => {
    const issues = issuesOf(() => parsePipelineInput({ ...base, hyperparameters: { nEpoch: 3 } }), PipelineInputError);
    assert.deepEqual(issues, ['hyperparameters.nEpoch: unknown key; did you mean "nEpochs"?']);
  });

  it('says missing for a missing field, and the error message carries each issue', () => {
    const { profile: _profile, ...noProfile } = base;
    const err = errorOf(() => parsePipelineInput(noProfile), PipelineInputError);
    assert.deepEqual(err.issues, ['profile: missing (a string is required here)']);
    assert.equal(err.message, 'invalid pipeline input: profile: missing (a string is required here)');
  });

  it('names a top-level mistyped key', () => {
    assert.deepEqual(issuesOf(() => parsePipelineInput({ ...base, sufix: 'x' }), PipelineInputError), ['sufix: unknown key; did you mean "suffix"?']);
  });

  it('a training source matching none of its forms gets the closest form\'s fault, not "Invalid input"', () => {
    const issues = issuesOf(() => parsePipelineInput({ ...base, training: { pth: 'train.jsonl' } }), PipelineInputError);
    assert.ok(issues.length > 0 && issues.every((i) => i.startsWith('training.') && !/Invalid input$/.test(i)), issues.join('\n'));
  });

  it('a copy request names its mistyped key too', () => {
    const issues = issuesOf(() => parseCopyRequest({ destinationResourceId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/a', regoin: 'northcentralus' }), CopyRequestError);
    assert.ok(issues.includes('regoin: unknown key; did you mean "region"?'), issues.join('\n'));
  });
});
