import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createOpenAIClient } from '../../src/azure/clients';
import { FtpipeClient, PipelineAlreadyRunningError } from '../../src/client';
import { BASE_MODEL, FINE_TUNED_MODEL, JOB_ID, STAGE } from '../../src/temporal/search-attributes';
import { PipelineInputError } from '../../src/pipeline/input';
import { SAMPLE_TRAINING, SAMPLE_VALIDATION, usePipelineStack, type PipelineTestEnv } from '../helpers/pipeline';
import { countRequests, jobsOfRun } from '../helpers/emulator-state';
import { keepHistoryOnFailure } from '../helpers/history-evidence';
import { statusQuery } from '../../workflows/messages';

/** An https URL Azure (the emulator's blob store) can import `path` from: Azure fetches neither file:// nor http://. */
function importUrl(env: PipelineTestEnv, path: string, name: string): string {
  return env.emulator.control.putBlob(`${name}-${Math.random().toString(36).slice(2)}.jsonl`, readFileSync(path));
}

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

  it('warns about a training type its dated catalogue does not list and lets Azure judge; a strict profile refuses it before any upload', async () => {
    const taskQueue = env.temporal.taskQueue();
    const eus2 = env.config.profiles.find((p) => p.name === 'ftpipe-eus2')!;
    const config = { profiles: [...env.config.profiles, { ...eus2, name: 'strict-eus2', catalog: { strict: true } }] };
    const worker = await env.temporal.createWorker({ taskQueue, config, env: env.workerEnv });
    const [lenient, strict] = await worker.runUntil(async () => {
      const warned = await env.start(taskQueue, env.input({ profile: 'ftpipe-eus2', trainingType: 'Standard' }));
      const refused = await env.start(taskQueue, env.input({ profile: 'strict-eus2', trainingType: 'Standard' }));
      const outcome = (h: typeof warned) => h.result().then(() => undefined, (e: unknown) => e);
      const both = await Promise.all([outcome(warned), outcome(refused)]);
      const status = await warned.query(statusQuery);
      assert.match(status.warnings?.join('\n') ?? '', /trainingType "Standard" is not listed for gpt-4\.1-mini from eastus2 in the model catalogue of \d{4}-\d{2}-\d{2}/);
      const strictStages = (await refused.query(statusQuery)).timeline.map((t) => t.stage);
      assert.ok(!strictStages.includes('upload'), `the strict run stopped before any upload: ${strictStages.join(', ')}`);
      return both;
    });
    // Not refused by ftpipe: the job create reached Azure (the emulator), which is the judge here.
    assert.match(failureOf(lenient)?.message ?? '', /create the fine-tuning job .*Azure answered HTTP 400/);
    assert.equal(failureOf(strict)?.type, 'TrainingTypeNotAvailable');
    assert.match(failureOf(strict)?.message ?? '', /not listed for gpt-4\.1-mini from eastus2 .*listed there: Global, Developer.*strict catalogue checks/);
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
      const imported = await (await env.start(taskQueue, env.input({ training: { url: importUrl(env, SAMPLE_TRAINING, 'imported') }, validation: undefined }))).result();
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

  it('runs every combination of training and validation source kinds (path, url, fileId), validating the local ones', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const client = createOpenAIClient(env.config.profiles[0]!, env.workerEnv);
    const onAccount = async (path: string, name: string): Promise<string> => {
      const file = await client.files.create({ file: new File([readFileSync(path)], name, { type: 'application/jsonl' }), purpose: 'fine-tune' });
      return file.id;
    };
    const sources = {
      training: { path: { path: SAMPLE_TRAINING }, url: { url: importUrl(env, SAMPLE_TRAINING, 'train') }, fileId: { fileId: await onAccount(SAMPLE_TRAINING, 'kinds-train.jsonl') } },
      validation: { path: { path: SAMPLE_VALIDATION }, url: { url: importUrl(env, SAMPLE_VALIDATION, 'valid') }, fileId: { fileId: await onAccount(SAMPLE_VALIDATION, 'kinds-valid.jsonl') } },
    };
    const kinds = ['path', 'url', 'fileId'] as const;
    const combinations = kinds.flatMap((t) => kinds.map((v) => [t, v] as const));
    const results = await worker.runUntil(() =>
      Promise.all(
        combinations.map(async ([t, v]) => {
          const handle = await env.start(taskQueue, env.input({ runName: `kinds-${t}-${v}`, training: sources.training[t], validation: sources.validation[v] }));
          return handle.result().then((r) => ({ t, v, r, err: undefined }), (err: unknown) => ({ t, v, r: undefined, err }));
        }),
      ),
    );
    for (const { t, v, r, err } of results) {
      assert.equal(r?.outcome, 'succeeded', `training ${t}, validation ${v}: ${failureOf(err)?.message ?? String(err)}`);
      const validated = r.validation?.files.map((f) => f.role) ?? [];
      assert.deepEqual(validated, [...(t === 'path' ? ['training'] : []), ...(v === 'path' ? ['validation'] : [])], `training ${t}, validation ${v}: the local files are validated`);
      assert.deepEqual(r.files.map((f) => f.role).sort(), ['training', 'validation']);
    }
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
      // A query that replays the run fails on a history that cannot replay (session 20's CI): keep that history.
      await keepHistoryOnFailure(run.workflow, async () => {
        for await (const status of run.watch({ intervalMs: 100 })) if (stages.at(-1) !== status.stage) stages.push(status.stage);
      });
      assert.equal(stages.at(-1), 'completed');
      assert.ok(stages.includes('train'), stages.join(','));
      const result = await run.result();
      assert.ok(result.fineTunedModel);
      const fineTuned = (await run.workflow.describe()).typedSearchAttributes.get(FINE_TUNED_MODEL);
      assert.equal(fineTuned, result.fineTunedModel);
    });
  });
});
