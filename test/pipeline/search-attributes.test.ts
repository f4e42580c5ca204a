/**
 * Search attributes are the one part of a run's record no codec encrypts (the server indexes them): each holds an
 * enum, a number, an id Azure assigned, a hash, or a name restricted to identifier characters, never a value a
 * caller could fill with a credential or training text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipelineInput, PipelineInputError } from '../../src/pipeline/input';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';

/** Where each attribute's value comes from; a new attribute must be added here with its reason. */
const SOURCES: Record<string, string> = {
  FtpipeRunName: 'input runName (identifier characters)',
  FtpipeStage: 'a stage name (enum)',
  FtpipeBaseModel: 'input baseModel (identifier characters), or the lineage\'s promoted model id',
  FtpipeJobId: 'Azure\'s job id',
  FtpipeFineTunedModel: 'Azure\'s model id',
  FtpipeProfile: 'input profile (identifier characters)',
  FtpipeLineage: 'input lineage.name (identifier characters)',
  FtpipePromotedModel: 'Azure\'s checkpoint or model id',
  FtpipeDataHash: 'a SHA-256 of the data',
  FtpipeQueuePosition: 'an Int',
};

const base = { runName: 'r', profile: 'emulator', baseModel: 'gpt-4.1-mini', training: { path: 'train.jsonl' } };

function issuesOf(raw: unknown): string[] {
  try {
    parsePipelineInput(raw);
  } catch (err) {
    if (err instanceof PipelineInputError) return err.issues;
    throw err;
  }
  return [];
}

describe('search attributes carry no secret and no data', () => {
  it('every attribute has a known, non-secret source', () => {
    assert.deepEqual(SEARCH_ATTRIBUTES.map((k) => k.name).sort(), Object.keys(SOURCES).sort());
  });

  it('the input fields that become attributes refuse anything but a name', () => {
    const bad = ['https://user:pw@example.com/x', 'key=abc123', 'Is my bike ready? Yes.', 'a/b', '', 'x'.repeat(257)];
    for (const field of ['profile', 'baseModel', 'runName'] as const) {
      for (const value of bad) {
        const issues = issuesOf({ ...base, [field]: value });
        assert.ok(issues.some((i) => i.startsWith(`${field}: `)), `${field} = ${JSON.stringify(value).slice(0, 40)}: ${issues.join('; ')}`);
      }
    }
    assert.ok(issuesOf({ ...base, lineage: { name: 'my lineage?' } }).some((i) => i.startsWith('lineage.name: ')));
    for (const model of ['gpt-4.1-mini-2025-04-14', 'gpt-4.1-mini-2025-04-14.ft-0123456789abcdef0123456789abcdef-bikes', 'ftchkpt-0123456789abcdef0123456789abcdef', 'Ministral-3B']) {
      assert.deepEqual(issuesOf({ ...base, baseModel: model }), [], model);
    }
  });
});
