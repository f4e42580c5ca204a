/** What CLI commands print, checked without a server (the last test runs the CLI itself, without one). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approvalLine, copyLine, joinCommand, outcomeLine, trainingLine } from '../../src/cli/commands/runs';
import { spawnCli } from '../helpers/cli';

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

describe('ftpipe status: the training line', () => {
  it('gives the ETA while the job trains, none while it is paused or has ended', () => {
    const progress = { step: 12, totalSteps: 96, percent: 12.5, etaSeconds: 40, measuredAtSeconds: 1_000, etaBasis: 'step_rate' as const };
    assert.equal(trainingLine({ status: 'running', createdAt: 900 }, progress, 1_010), 'training: step 12/96 (12.5%), ETA 30s');
    assert.equal(trainingLine({ status: 'pausing', createdAt: 900 }, progress, 1_010), 'training: step 12/96 (12.5%)');
    assert.equal(trainingLine({ status: 'paused', createdAt: 900 }, { ...progress, etaSeconds: null }, 1_010), 'training: step 12/96 (12.5%)');
    assert.equal(trainingLine({ status: 'succeeded', createdAt: 900 }, { ...progress, step: 96, percent: 100 }, 1_010), 'training: step 96/96 (100%)');
  });
});

describe('ftpipe status and run: a copy\'s line', () => {
  it('names the region and state, where it deployed, and why it failed', () => {
    const copy = { destinationResourceId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/ft-ncus', region: 'northcentralus', checkpoint: 'ftchkpt-1', deployment: null, error: null };
    assert.equal(copyLine({ ...copy, status: 'InProgress' }), 'copy to northcentralus: InProgress');
    const deployment = { profile: 'ncus', name: 'bikes-ncus', model: 'ftchkpt-1', sku: 'GlobalStandard', capacity: 1, provisioningState: 'Succeeded' };
    assert.equal(copyLine({ ...copy, status: 'Completed', deployment }), 'copy to northcentralus: Completed (deployed as bikes-ncus, profile ncus)');
    assert.equal(copyLine({ ...copy, status: 'Failed', error: 'the destination account must already have at least one fine-tuning job' }), 'copy to northcentralus: Failed: the destination account must already have at least one fine-tuning job');
  });
});

describe('ftpipe status and run: the approval line', () => {
  it('says who decided, when, and their comment', () => {
    assert.equal(approvalLine({ decision: 'approved', by: 'maria', at: '2026-12-03T15:23:29.663Z', comment: 'scores look right' }), 'approval: approved by maria at 2026-12-03T15:23:29.663Z ("scores look right")');
    assert.equal(approvalLine({ decision: 'rejected', by: 'timeout', at: '2026-12-03T15:24:00.000Z' }), 'approval: rejected by timeout at 2026-12-03T15:24:00.000Z');
  });
});

describe('ftpipe output into a pipe its reader has closed (ftpipe list | head)', () => {
  it('ends quietly with exit 0, not with an unhandled EPIPE', async () => {
    const cli = spawnCli(['validate', 'examples/data/bike-shop-train.jsonl', '--model', 'gpt-4.1-mini']);
    // Closed before the process has started: its first write meets a pipe without a reader.
    cli.child.stdout!.destroy();
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.output());
    assert.doesNotMatch(cli.output(), /EPIPE/);
  });
});
