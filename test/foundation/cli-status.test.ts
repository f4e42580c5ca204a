/** `ftpipe status`'s outcome line, without a server: the headline only where it adds to the outcome's word. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeLine } from '../../src/cli/commands/runs';

describe('ftpipe status: the outcome line', () => {
  it('says a plain success once, and keeps the headline that says more', () => {
    assert.equal(outcomeLine('succeeded'), 'outcome: succeeded');
    assert.equal(outcomeLine('not_promoted'), 'outcome: not_promoted (trained, not promoted)');
    assert.equal(outcomeLine('skipped_no_new_data'), 'outcome: skipped_no_new_data (skipped: no new data)');
  });
});
