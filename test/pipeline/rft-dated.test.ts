/**
 * Reinforcement fine-tuning on the Developer tier through a whole pipeline run on the shared dev server and the
 * emulator: the job is created on the dated family at 2025-11-15-preview (`method.reinforcement` whole and
 * `trainingType`, as recorded) and trains to success; an RFT input that cannot work fails naming its field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { PipelineInputError, parsePipelineInput } from '../../src/pipeline/input';
import type { PipelineResult } from '../../src/pipeline/types';
import { statusQuery } from '../../workflows/messages';
import { SAMPLE_TRAINING, SAMPLE_VALIDATION, usePipelineStack } from '../helpers/pipeline';

/** The sample conversations as reinforcement data (the last answer becomes the graded reference). */
function rftDataset(source: string, tag: string): { path: string; examples: number } {
  const lines = readFileSync(source, 'utf8').trim().split('\n').map((l, i) => {
    const example = JSON.parse(l) as { messages: { role: string; content: string }[] };
    return JSON.stringify({ messages: example.messages.slice(0, -1), answer: `${example.messages.at(-1)!.content} (${tag} ${i})` });
  });
  const path = join(mkdtempSync(join(tmpdir(), 'ftpipe-rft-dated-')), `${tag}.jsonl`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { path, examples: lines.length };
}

const GRADER = { type: 'string_check' as const, name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' as const };

describe('pipeline: reinforcement fine-tuning on the Developer tier (dated 2025-11-15-preview)', () => {
  const env = usePipelineStack();

  it('creates the RFT job on the dated family with trainingType developerTier and its RFT hyperparameters, and trains it to success, its step total known', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const training = rftDataset(SAMPLE_TRAINING, `train-${Date.now()}`);
    const input = env.input({
      baseModel: 'o4-mini', method: { type: 'reinforcement', grader: GRADER }, trainingType: 'Developer',
      hyperparameters: { nEpochs: 1, batchSize: 2, reasoningEffort: 'low', computeMultiplier: 'auto', evalInterval: 2, evalSamples: 3 },
      training: { path: training.path }, validation: { path: rftDataset(SAMPLE_VALIDATION, `valid-${Date.now()}`).path },
    });
    let details = '';
    let warnings: string[] | undefined;
    const result: PipelineResult = await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, input);
      const finished = await handle.result();
      details = (await handle.query<{ currentDetails?: string }, []>('__temporal_workflow_metadata')).currentDetails ?? '';
      warnings = (await handle.query(statusQuery)).warnings;
      return finished;
    });
    assert.equal(result.outcome, 'succeeded', result.notes.join('; '));
    assert.deepEqual(warnings ?? [], [], 'the catalogue lists RFT on o4-mini on the Developer tier');
    assert.match(result.fineTunedModel ?? '', /^o4-mini-2025-04-16\.ft-[0-9a-f]{32}/);
    const steps = Math.ceil(training.examples / 2);
    assert.match(details, new RegExp(`job: ftjob-\\w+ \\(succeeded\\), step ${steps}/${steps} \\(100%\\)`));

    const creates = env.emulator.control.requests({ route: 'jobs.create' }).filter((r) => r.account !== null);
    type DumpedJob = { method: { type: string; reinforcement?: { grader?: unknown; hyperparameters?: Record<string, unknown> } }; trainingType: string | null; status: string };
    const job = env.emulator.control.dumpState().jobs.find((j) => j.id === result.jobId) as DumpedJob;
    assert.deepEqual([job.method.type, job.trainingType, job.status], ['reinforcement', 'developerTier', 'succeeded']);
    assert.deepEqual(job.method.reinforcement?.grader, GRADER, 'the grader reached Azure whole');
    // As the job answers: what the run set, and compute_multiplier left to Azure ("auto" is not sent on the dated family) as its default 1.
    assert.deepEqual(job.method.reinforcement?.hyperparameters, { reasoning_effort: 'low', eval_interval: 2, eval_samples: 3, compute_multiplier: 1, n_epochs: 1, batch_size: 2, learning_rate_multiplier: 1 });
    assert.ok(creates.some((r) => r.family === 'dated' && r.status === 201), `a dated create answered 201: ${JSON.stringify(creates)}`);
  });

  it('fails RFT on a model the catalogue marks without it (gpt-4.1-mini) in preflight, naming the method, with nothing uploaded', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const uploadsBefore = env.emulator.control.requests({ route: 'files.upload' }).length;
    const input = env.input({
      baseModel: 'gpt-4.1-mini', method: { type: 'reinforcement', grader: GRADER }, trainingType: 'Developer',
      training: { path: rftDataset(SAMPLE_TRAINING, `gpt-${Date.now()}`).path }, validation: { path: rftDataset(SAMPLE_VALIDATION, `gpt-valid-${Date.now()}`).path },
    });
    const err = await worker.runUntil(async () => (await env.start(taskQueue, input)).result().then(() => undefined, (e: unknown) => e));
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
    assert.equal(err.cause.type, 'MethodNotSupported', err.cause.message);
    assert.match(err.cause.message, /^method "reinforcement" is not available for gpt-4\.1-mini: .*"only o4-mini supports RFT".*\(profile "[^"]+"\)$/);
    assert.equal(env.emulator.control.requests({ route: 'files.upload' }).length, uploadsBefore, 'nothing was uploaded');
  });

  it('fails an RFT input with promptLossWeight at once, naming the field (no family takes it with method.reinforcement)', () => {
    const draft = env.input({ baseModel: 'o4-mini', method: { type: 'reinforcement', grader: GRADER }, trainingType: 'Developer', hyperparameters: { promptLossWeight: 0.1 } });
    assert.throws(() => parsePipelineInput(draft), (err: unknown) => {
      assert.ok(err instanceof PipelineInputError);
      assert.match(err.issues.join('\n'), /^hyperparameters\.promptLossWeight: not for reinforcement fine-tuning/m);
      return true;
    });
  });
});
