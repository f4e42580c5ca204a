/** What CLI commands print, checked without a server. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinCommand, outcomeLine } from '../../src/cli/commands/runs';

describe('ftpipe status: the outcome line', () => {
  it('says a plain success once, and keeps the headline that says more', () => {
    assert.equal(outcomeLine('succeeded'), 'outcome: succeeded');
    assert.equal(outcomeLine('not_promoted'), 'outcome: not_promoted (trained, not promoted)');
    assert.equal(outcomeLine('skipped_no_new_data'), 'outcome: skipped_no_new_data (skipped: no new data)');
  });
});

describe('ftpipe run: the command that follows the run', () => {
  it('repeats the workflow id and task queue the run was started with (else --join follows ftpipe-<runName>)', () => {
    assert.equal(joinCommand('p.yaml', {}), 'ftpipe run p.yaml --join --wait');
    assert.equal(joinCommand('p.yaml', { workflowId: 'walk-pause', taskQueue: 'q2' }), 'ftpipe run p.yaml --workflow-id walk-pause --task-queue q2 --join --wait');
  });
});
