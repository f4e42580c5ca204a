import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { pathToFileURL } from 'node:url';
import { createOpenAIClient } from '../../src/azure/clients';
import { FtpipeClient, PipelineAlreadyRunningError } from '../../src/client';
import { BASE_MODEL, FINE_TUNED_MODEL, JOB_ID, STAGE } from '../../src/temporal/search-attributes';
import { PipelineInputError } from '../../src/pipeline/input';
import { SAMPLE_TRAINING, usePipelineStack } from '../helpers/pipeline';
import { countRequests, jobsOfRun } from '../helpers/emulator-state';

function failureOf(err: unknown): ApplicationFailure | undefined {
  if (!(err instanceof WorkflowFailedError)) return undefined;
  return err.cause instanceof ApplicationFailure ? err.cause : undefined;
}

describe('pipeline outcomes and guarantees', () => {
  const env = usePipelineStack();

  it('rejects an invalid dataset at once, naming file, line and field, and uploads nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-bad-'));
    const lines = readFileSync(SAMPLE_TRAINING, 'utf8').trimEnd().split('\n');
    lines[4] = lines[4]!.replace('"role": "user"', '"role": "customer"');
    writeFileSync(join(dir, 'train.jsonl'), `${lines.join('\n')}\n`);
    const uploadsBefore = countRequests(env.emulator, 'files.upload');

    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const err = await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ training: { path: join(dir, 'train.jsonl') } }));
      return handle.result().then(() => undefined, (e: unknown) => e);
    });
    const failure = failureOf(err);
    assert.equal(failure?.type, 'InvalidDataset');
    assert.equal(failure?.nonRetryable, true);
    assert.match(failure?.message ?? '', /train\.jsonl:5: messages\[1\]\.role: /);
    assert.match(failure?.message ?? '', /nothing was uploaded/);
    assert.equal(countRequests(env.emulator, 'files.upload'), uploadsBefore);
  });

  it('refuses bad input with errors naming the field, in the client and in the workflow', async () => {
    const client = new FtpipeClient(env.temporal.client);
    await assert.rejects(
      client.startPipeline(env.input({ suffix: 'has spaces and is far too long for azure limits' })),
      (err: Error) => err instanceof PipelineInputError && err.issues.some((i) => i.startsWith('suffix: ')),
    );
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const err = await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, { ...env.input(), seed: -1 });
      return handle.result().then(() => undefined, (e: unknown) => e);
    });
    assert.equal(failureOf(err)?.type, 'InvalidPipelineInput');
    assert.match(failureOf(err)?.message ?? '', /seed: /);
  });

  it('checks the training type against the catalogue for the profile\'s region before any upload', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const err = await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ profile: 'ftpipe-eus2', trainingType: 'Standard' }));
      return handle.result().then(() => undefined, (e: unknown) => e);
    });
    assert.equal(failureOf(err)?.type, 'TrainingTypeNotAvailable');
    assert.match(failureOf(err)?.message ?? '', /gpt-4\.1-mini from eastus2 .*available there: Global, Developer/);
  });

  it('creates one job even when the create\'s response is lost, and survives throttling and 5xx', async () => {
    env.emulator.control.addFault({ route: 'jobs.create', action: 'lostResponse', status: 500, times: 1 });
    env.emulator.control.addFault({ route: 'jobs.get', action: 'error', status: 429, retryAfterMs: 200, times: 3 });
    env.emulator.control.addFault({ route: 'files.upload', action: 'error', status: 503, times: 1 });
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const workflowId = `lost-response-${taskQueue}`;
    const result = await worker.runUntil(async () => (await env.start(taskQueue, env.input(), workflowId)).result());
    assert.equal(result.outcome, 'succeeded');
    assert.equal(jobsOfRun(env.emulator, workflowId).length, 1, 'exactly one Azure job for the run');
    assert.deepEqual(env.emulator.control.faults(), [], 'every scripted fault fired');
  });

  it('fine-tunes an earlier fine-tuned model (continuous fine-tuning) and reuses files already on the account', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const first = await (await env.start(taskQueue, env.input({ suffix: 'gen1' }))).result();
      assert.ok(first.fineTunedModel);
      const second = await (await env.start(taskQueue, env.input({ baseModel: first.fineTunedModel, suffix: 'gen2' }))).result();
      assert.equal(second.outcome, 'succeeded');
      assert.match(second.fineTunedModel ?? '', /^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}-gen2$/);
      assert.notEqual(second.fineTunedModel, first.fineTunedModel);
      assert.deepEqual(second.files.map((f) => f.origin), ['reused', 'reused']);
      assert.deepEqual(second.files.map((f) => f.fileId), first.files.map((f) => f.fileId));
    });
  });
});

describe('data sources, Azure-side cancellation, the client', () => {
  const env = usePipelineStack();

  it('imports from a URL and uses a given file id', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const imported = await (await env.start(taskQueue, env.input({ training: { url: pathToFileURL(SAMPLE_TRAINING).href }, validation: undefined }))).result();
      assert.equal(imported.outcome, 'succeeded');
      assert.deepEqual(imported.files.map((f) => [f.role, f.origin]), [['training', 'imported']]);
      assert.equal(countRequests(env.emulator, 'files.import'), 1);

      const given = await (await env.start(taskQueue, env.input({ training: { fileId: imported.files[0]!.fileId }, validation: undefined }))).result();
      assert.deepEqual(given.files.map((f) => [f.fileId, f.origin]), [[imported.files[0]!.fileId, 'given']]);
    });
    await assert.rejects(
      new FtpipeClient(env.temporal.client).startPipeline(env.input({ training: { url: 'https://acct.blob.core.windows.net/d/train.jsonl?sv=2024&sig=abc' } })),
      (err: Error) => err instanceof PipelineInputError && err.issues.some((i) => i.startsWith('training.url: the URL carries a SAS signature (sig=)')),
    );
  });

  it('reports a job cancelled outside ftpipe, and sets the search attributes users filter by', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input());
      const running = await env.waitForStatus(handle, (s) => s.job?.status === 'running');
      const profile = env.config.profiles.find((p) => p.name === 'emulator')!;
      await createOpenAIClient(profile, env.workerEnv).fineTuning.jobs.cancel(running.job!.id);
      const result = await handle.result();
      assert.equal(result.outcome, 'cancelled_in_azure');
      const attributes = (await handle.describe()).typedSearchAttributes;
      assert.equal(attributes.get(JOB_ID), running.job!.id);
      assert.equal(attributes.get(STAGE), 'completed');
      assert.equal(attributes.get(BASE_MODEL), 'gpt-4.1-mini');
    });
  });

  it('refuses a second start of an open run, joins it on request, and watches it to the end', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const client = new FtpipeClient(env.temporal.client, { taskQueue });
    await worker.runUntil(async () => {
      const input = env.input();
      const run = await client.startPipeline(input);
      assert.equal(run.workflowId, `ftpipe-${input.runName}`);
      await assert.rejects(client.startPipeline(input), PipelineAlreadyRunningError);
      const joined = await client.startPipeline(input, { ifRunning: 'join' });
      assert.equal((await joined.workflow.describe()).runId, (await run.workflow.describe()).runId);
      const stages: string[] = [];
      for await (const status of run.watch({ intervalMs: 100 })) if (stages.at(-1) !== status.stage) stages.push(status.stage);
      assert.equal(stages.at(-1), 'completed');
      assert.ok(stages.includes('train'), stages.join(','));
      const result = await run.result();
      assert.ok(result.fineTunedModel);
      const fineTuned = (await run.workflow.describe()).typedSearchAttributes.get(FINE_TUNED_MODEL);
      assert.equal(fineTuned, result.fineTunedModel);
    });
  });
});
