/** Azure's field limits (src/azure/limits.ts) as the input's schema and the request shapes apply them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JOB_METADATA_LIMITS, JOB_SUFFIX_MAX_CHARS, RUN_METADATA_PAIRS } from '../../src/azure/limits';
import { RUN_METADATA, runMetadata } from '../../src/azure/requests';
import { PipelineInputError, parsePipelineInput } from '../../src/pipeline/input';

const BASE = { runName: 'limits', profile: 'emulator', baseModel: 'gpt-4.1-mini', training: { path: 'a.jsonl' } };
const issues = (input: Record<string, unknown>): string[] => {
  try {
    parsePipelineInput({ ...BASE, ...input });
    return [];
  } catch (err) {
    assert.ok(err instanceof PipelineInputError, String(err));
    return err.issues;
  }
};

describe('Azure field limits', () => {
  it('leaves an input the metadata pairs ftpipe does not set itself, and bounds keys, values and suffix', () => {
    assert.equal(Object.keys(RUN_METADATA).length, RUN_METADATA_PAIRS, 'RUN_METADATA_PAIRS counts the pairs ftpipe sets');
    const pairs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    assert.deepEqual(issues({ metadata: pairs(13) }), []);
    assert.deepEqual(issues({ metadata: pairs(14) }), ['metadata: at most 13 pairs (Azure allows 16; ftpipe uses 3)']);
    assert.deepEqual(issues({ metadata: { ['k'.repeat(JOB_METADATA_LIMITS.keyChars)]: 'y'.repeat(JOB_METADATA_LIMITS.valueChars) } }), []);
    assert.deepEqual(issues({ metadata: { ['k'.repeat(65)]: 'v', 'team name': 'x', ftpipe_run: 'y' } }).map((i) => i.replace(/k{65}/, 'k*65')), [
      'metadata.k*65: a key is 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" and "-"',
      'metadata.team name: a key is 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" and "-"',
      'metadata.ftpipe_run: the ftpipe_ prefix is reserved for the keys ftpipe sets',
    ]);
    assert.equal(issues({ metadata: { k: 'v'.repeat(513) } }).length, 1);
    assert.deepEqual(issues({ suffix: 's'.repeat(JOB_SUFFIX_MAX_CHARS) }), []);
    assert.deepEqual(issues({ suffix: 's'.repeat(41) }), ['suffix: at most 40 characters of A-Z, a-z, 0-9, "-" and "_"']);
  });

  it('cuts ftpipe\'s own metadata values to Azure\'s length', () => {
    const values = Object.values(runMetadata({ workflowId: 'w'.repeat(600), firstRunId: 'r', runName: 'n'.repeat(600) }));
    assert.deepEqual(values.map((v) => v.length), [512, 1, 512]);
  });
});
