import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PipelineResult } from '../../src/pipeline/types';
import { validationTaskQueue } from '../../src/temporal/constants';
import { usePipelineStack } from '../helpers/pipeline';

interface WorkflowMetadata {
  currentDetails?: string;
  definition?: Record<'signalDefinitions' | 'updateDefinitions' | 'queryDefinitions', { name?: string; description?: string }[] | undefined>;
}

describe('fineTunePipeline end to end on the emulator', () => {
  const env = usePipelineStack();

  it('validates, uploads, trains and reports the fine-tuned model with its checkpoints', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const input = env.input({ suffix: 'bikes' });
    let metadata: WorkflowMetadata | undefined;
    let validationQueues: Array<string | null | undefined> = [];
    const result: PipelineResult = await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, input);
      const finished = await handle.result();
      validationQueues = ((await handle.fetchHistory()).events ?? [])
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'validateTrainingData')
        .map((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name);
      // What the Web UI reads: the handlers with their descriptions, and the run's current details.
      metadata = await handle.query<WorkflowMetadata, []>('__temporal_workflow_metadata');
      return finished;
    });
    const described = (list: { name?: string; description?: string }[] | undefined): Record<string, string> =>
      Object.fromEntries((list ?? []).map((d): [string, string] => [d.name ?? '', d.description ?? '']));
    const signals = described(metadata?.definition?.signalDefinitions);
    for (const name of ['pause', 'resume', 'approve', 'reject', 'copyToRegion']) assert.ok((signals[name] ?? '').length > 20, `signal ${name} has a description`);
    const updates = described(metadata?.definition?.updateDefinitions);
    for (const name of ['pauseRun', 'resumeRun', 'approveRun', 'rejectRun', 'copyToRegionRun']) assert.ok((updates[name] ?? '').length > 20, `update ${name} has a description`);
    assert.ok(described(metadata?.definition?.queryDefinitions).status, 'the status query has a description');
    assert.match(metadata?.currentDetails ?? '', /^stage: completed\nrun: test-\w+\nbase model: gpt-4\.1-mini\njob: ftjob-\w+ \(succeeded\), step 96\/96 \(100%\)/);
    assert.equal(result.outcome, 'succeeded');
    assert.deepEqual(validationQueues, [validationTaskQueue(taskQueue)], 'the validation waits for a slot on its own task queue');
    assert.match(result.fineTunedModel ?? '', /^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}-bikes$/);
    assert.equal(result.checkpoints.length, 3);
    assert.ok(result.checkpoints.every((c) => c.metrics.fullValidLoss !== null));
    assert.match(result.resultFileId ?? '', /^file-/);
    assert.ok((result.trainedTokens ?? 0) > 0);
    assert.deepEqual(result.files.map((f) => [f.role, f.origin]), [['training', 'uploaded'], ['validation', 'uploaded']]);
    assert.deepEqual(result.timeline.map((t) => t.stage), ['preflight', 'validate', 'await_slot', 'upload', 'create_job', 'train', 'collect', 'evaluate', 'cleanup', 'completed']);

    const creates = env.emulator.control.requests().filter((r) => r.method === 'POST' && /\/fine_tuning\/jobs$/.test(r.path.split('?')[0]!));
    assert.equal(creates.length, 1, 'exactly one job create');
  });
});
