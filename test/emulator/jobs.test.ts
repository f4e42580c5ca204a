import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BadRequestError, NotFoundError, type AzureOpenAI } from 'openai';
import { createOpenAIClient } from '../../src/azure/clients';
import { advanceUntil, chatJsonl, startTestEmulator, uploadProcessed, type TestEmulator } from './helpers';

const ACCOUNT = 'ftpipe-swc';
const DEFAULT_TIMINGS = { validation: 120, queue: 300, pause: 300, resume: 180 };

function expectApiError(status: number, code: string, param?: string) {
  return (err: unknown): boolean => {
    const e = err as { status?: number; code?: string; param?: string | null };
    assert.equal(e.status, status, `status of ${String(err)}`);
    assert.equal(e.code, code);
    if (param !== undefined) assert.equal(e.param, param);
    return true;
  };
}

async function resultsCsv(client: AzureOpenAI, fileId: string): Promise<string[][]> {
  const text = await (await client.files.content(fileId)).text();
  return text
    .trim()
    .split('\n')
    .map((line) => line.split(','));
}

describe('emulator fine-tuning jobs', () => {
  let t: TestEmulator;
  let client: AzureOpenAI;
  let trainingFile: string;
  let validationFile: string;

  before(async () => {
    t = await startTestEmulator();
    client = t.openai(ACCOUNT);
    trainingFile = await uploadProcessed(t, ACCOUNT, chatJsonl(20, 'train'));
    validationFile = await uploadProcessed(t, ACCOUNT, chatJsonl(10, 'valid'), 'valid.jsonl');
  });
  after(() => t.emu.stop());

  it('corrects estimated_finish at the first step: created_at + 900 s until then, then the end of an uninterrupted training', async () => {
    const created = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, hyperparameters: { n_epochs: 2, batch_size: 4 } });
    const estimate = async (): Promise<number> => (await client.fineTuning.jobs.retrieve(created.id) as unknown as { estimated_finish: number }).estimated_finish;
    t.emu.control.advanceClock(DEFAULT_TIMINGS.validation + DEFAULT_TIMINGS.queue - 1);
    assert.equal(await estimate(), created.created_at + 900, 'pending: the creation-time figure (recorded)');
    t.emu.control.advanceClock(1);
    assert.equal((await client.fineTuning.jobs.retrieve(created.id)).status, 'running');
    assert.equal(await estimate(), created.created_at + 900, 'running, no step trained yet: still the creation-time figure (recorded, test_finetuning_pause_job)');
    t.emu.control.advanceClock(30); // the first step (~20 s)
    const corrected = await estimate();
    const startedAt = created.created_at + DEFAULT_TIMINGS.validation + DEFAULT_TIMINGS.queue;
    assert.ok(corrected > startedAt + 30, 'corrected once a step is trained (recorded later than created_at + 900 s)');
    t.emu.control.advanceClock(corrected - startedAt - 30 - 1);
    assert.equal((await client.fineTuning.jobs.retrieve(created.id)).status, 'running');
    t.emu.control.advanceClock(2); // the estimate is whole seconds, the clock is not
    const done = await client.fineTuning.jobs.retrieve(created.id);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.finished_at, corrected, 'an uninterrupted job finishes at the corrected estimate');
  });

  it('pauses a running job before its first step: the job trains that step while pausing and pauses there (recorded: pausing with the hyperparameters still -1)', async () => {
    const created = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    t.emu.control.advanceClock(DEFAULT_TIMINGS.validation + DEFAULT_TIMINGS.queue);
    const running = await client.fineTuning.jobs.retrieve(created.id);
    assert.equal(running.status, 'running');
    assert.deepEqual(running.hyperparameters, { n_epochs: -1, batch_size: -1, learning_rate_multiplier: 1 }, 'no step trained: the auto ones still -1');
    const pausing = await client.fineTuning.jobs.pause(created.id);
    assert.equal(pausing.status, 'pausing');
    assert.deepEqual(pausing.hyperparameters, running.hyperparameters);
    t.emu.control.advanceClock(DEFAULT_TIMINGS.pause - 1);
    assert.equal((await client.fineTuning.jobs.retrieve(created.id)).status, 'pausing');
    t.emu.control.advanceClock(1);
    const paused = await client.fineTuning.jobs.retrieve(created.id);
    assert.equal(paused.status, 'paused');
    assert.equal(paused.hyperparameters.n_epochs, 5, 'settled by the step trained (20 examples: 5 epochs)');
    assert.equal(paused.result_files.length, 1);
    assert.deepEqual((await client.fineTuning.jobs.checkpoints.list(created.id)).data.map((c) => c.step_number), [1], 'a pause checkpoint at step 1, as recorded');
    const steps = (await client.fineTuning.jobs.listEvents(created.id, { limit: 100 })).data.filter((e) => e.type === 'metrics');
    assert.equal(steps.length, 1, 'one step trained while pausing, none after');
    t.emu.control.advanceClock(10_000);
    assert.equal((await client.fineTuning.jobs.retrieve(created.id)).status, 'paused', 'no training while paused');
    assert.equal((await client.fineTuning.jobs.resume(created.id)).status, 'resuming');
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(created.id)).status === 'succeeded');
    const checkpoints = (await client.fineTuning.jobs.checkpoints.list(created.id)).data.map((c) => c.step_number);
    assert.equal(checkpoints[checkpoints.length - 1], 1, 'the pause checkpoint stays beside the epoch ones');
  });

  it('pauses a job before its first step when that step outlasts the pause: paused when the step ends', async () => {
    const slow = await startTestEmulator({ timings: { stepBaseSeconds: 1_000 } });
    try {
      const slowClient = slow.openai(ACCOUNT);
      const file = await uploadProcessed(slow, ACCOUNT, chatJsonl(10, 'slow'));
      const created = await slowClient.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: file });
      slow.emu.control.advanceClock(DEFAULT_TIMINGS.validation + DEFAULT_TIMINGS.queue + 100);
      assert.equal((await slowClient.fineTuning.jobs.pause(created.id)).status, 'pausing');
      slow.emu.control.advanceClock(DEFAULT_TIMINGS.pause + 100);
      assert.equal((await slowClient.fineTuning.jobs.retrieve(created.id)).status, 'pausing', 'the first step (~1,000 s) is still training');
      slow.emu.control.advanceClock(1_000);
      assert.equal((await slowClient.fineTuning.jobs.retrieve(created.id)).status, 'paused');
      assert.deepEqual((await slowClient.fineTuning.jobs.checkpoints.list(created.id)).data.map((c) => c.step_number), [1]);
    } finally {
      await slow.emu.stop();
    }
  });

  it('runs pending -> running -> pausing -> paused -> resuming -> running -> succeeded, with the recordings\' shapes', async () => {
    const { data: created, response } = await client.fineTuning.jobs
      .create({
        model: 'gpt-4.1-mini',
        training_file: trainingFile,
        validation_file: validationFile,
        seed: 42,
        suffix: 'mysuffix',
        hyperparameters: { n_epochs: 5, batch_size: 2 },
      })
      .withResponse();
    assert.equal(response.status, 201);
    // Recorded: the job's Location has no /jobs/ segment.
    assert.match(response.headers.get('location') ?? '', new RegExp(`/openai/fine_tuning/${created.id}\\?api-version=`));
    assert.match(response.headers.get('apim-request-id') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(response.headers.get('x-ms-region'), 'Sweden Central');
    assert.match(created.id, /^ftjob-[0-9a-f]{32}$/);
    assert.equal(created.object, 'fine_tuning.job');
    assert.equal(created.status, 'pending');
    assert.equal(created.model, 'gpt-4.1-mini-2025-04-14');
    const raw = created as unknown as Record<string, unknown>;
    for (const absent of ['fine_tuned_model', 'finished_at', 'result_files', 'trained_tokens', 'metadata', 'error', 'trainingType', 'organization_id']) {
      assert.equal(absent in raw, false, `${absent} is absent, not null, on the dated family`);
    }
    assert.deepEqual(created.method, { type: 'supervised' });
    assert.deepEqual(created.hyperparameters, { n_epochs: 5, batch_size: 2, learning_rate_multiplier: 1 });
    assert.equal(raw.estimated_finish, created.created_at + 900, 'estimated_finish is sent from creation');

    const status = async (): Promise<string> => (await client.fineTuning.jobs.retrieve(created.id)).status;
    t.emu.control.advanceClock(DEFAULT_TIMINGS.validation);
    assert.equal(await status(), 'pending', 'validation and queueing are both pending (never queued)');
    t.emu.control.advanceClock(DEFAULT_TIMINGS.queue);
    assert.equal(await status(), 'running');

    t.emu.control.advanceClock(65); // three steps of ~20 s
    const paused = await client.fineTuning.jobs.pause(created.id);
    assert.equal(paused.status, 'pausing');
    await assert.rejects(client.fineTuning.jobs.resume(created.id), expectApiError(400, 'unexpectedEntityState'));
    t.emu.control.advanceClock(DEFAULT_TIMINGS.pause + 10_000); // no training while paused
    const pausedJob = await client.fineTuning.jobs.retrieve(created.id);
    assert.equal(pausedJob.status, 'paused');
    assert.equal(pausedJob.result_files.length, 1, 'a paused job lists a results file');
    const pauseCheckpoints = await client.fineTuning.jobs.checkpoints.list(created.id);
    assert.equal(pauseCheckpoints.data.length, 1);
    assert.equal(pauseCheckpoints.data[0]!.step_number, 3);

    assert.equal((await client.fineTuning.jobs.resume(created.id)).status, 'resuming');
    t.emu.control.advanceClock(DEFAULT_TIMINGS.resume);
    assert.equal(await status(), 'running');
    await advanceUntil(t, 300, async () => (await status()) === 'succeeded');

    const done = await client.fineTuning.jobs.retrieve(created.id);
    assert.equal(done.fine_tuned_model, `gpt-4.1-mini-2025-04-14.ft-${created.id.slice(6)}-mysuffix`);
    assert.ok(done.finished_at! >= done.created_at);
    assert.ok((done.trained_tokens ?? 0) > 0);
    assert.equal(done.result_files.length, 1);
    const estimate = (done as unknown as Record<string, unknown>).estimated_finish as number;
    assert.ok(estimate > created.created_at + 900 && estimate < done.finished_at!, 'corrected when training started, not moved by the pause (recorded: estimated_finish < finished_at)');

    // 20 examples, batch 2: 10 steps per epoch, 50 in all; the newest three epoch checkpoints stay, plus the pause's.
    const checkpoints = await client.fineTuning.jobs.checkpoints.list(created.id);
    assert.deepEqual(
      checkpoints.data.map((c) => c.step_number),
      [50, 40, 30, 3],
    );
    assert.equal(checkpoints.data[0]!.fine_tuned_model_checkpoint, done.fine_tuned_model, "the final checkpoint's name is the fine-tuned model");
    for (const c of checkpoints.data.slice(1)) assert.equal(c.fine_tuned_model_checkpoint, `${done.fine_tuned_model}:ckpt-step-${c.step_number}`);
    for (const c of checkpoints.data) {
      assert.match(c.id, /^ftchkpt-[0-9a-f]{32}$/);
      assert.equal(c.object, 'fine_tuning.job.checkpoint');
      assert.equal(c.fine_tuning_job_id, created.id);
      assert.equal(typeof c.metrics.full_valid_loss, 'number');
    }

    const rows = await resultsCsv(client, done.result_files[0]!);
    assert.deepEqual(rows[0], ['step', 'train_loss', 'train_mean_token_accuracy', 'valid_loss', 'valid_mean_token_accuracy', 'full_valid_loss', 'full_valid_mean_token_accuracy']);
    assert.equal(rows.length, 51);
    const fullValid = [10, 20, 30, 40, 50].map((step) => Number(rows[step]![5]));
    const best = fullValid.indexOf(Math.min(...fullValid));
    assert.ok(best >= 1 && best <= 2, `validation loss is lowest at epoch 2 or 3, got ${fullValid.join(', ')}`);
    assert.ok(fullValid[4]! > fullValid[best]!, 'validation loss turns up after the best epoch');
    assert.ok(Number(rows[50]![1]) < Number(rows[1]![1]), 'training loss falls');

    const resultFile = await client.files.retrieve(done.result_files[0]!);
    assert.equal(resultFile.purpose, 'fine-tune-results');
    assert.equal(resultFile.filename, 'results.csv');
  });

  it('shows auto hyperparameters as -1 until the first step is trained, and checkpoint metrics without validation as recorded', async () => {
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, seed: 5 });
    assert.deepEqual(job.hyperparameters, { n_epochs: -1, batch_size: -1, learning_rate_multiplier: 1 });
    t.emu.control.advanceClock(DEFAULT_TIMINGS.validation + DEFAULT_TIMINGS.queue);
    const running = await client.fineTuning.jobs.retrieve(job.id);
    assert.equal(running.status, 'running');
    assert.deepEqual(running.hyperparameters, job.hyperparameters, 'running before the first step: still -1 (recorded, test_finetuning_pause_job)');
    t.emu.control.advanceClock(30); // the first step (~20 s)
    assert.deepEqual((await client.fineTuning.jobs.retrieve(job.id)).hyperparameters, { n_epochs: 5, batch_size: 1, learning_rate_multiplier: 1 });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
    const [last] = (await client.fineTuning.jobs.checkpoints.list(job.id)).data;
    assert.deepEqual(Object.keys(last!.metrics).sort(), ['step', 'train_loss', 'train_mean_token_accuracy']);
    const cancelledEarly = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    assert.deepEqual((await client.fineTuning.jobs.cancel(cancelledEarly.id)).hyperparameters, { n_epochs: -1, batch_size: -1, learning_rate_multiplier: 1 });
  });

  it('pages events newest first with after/limit; metrics events carry the step metrics and no total', async () => {
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, seed: 1, hyperparameters: { n_epochs: 1 } });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
    const first = await client.fineTuning.jobs.listEvents(job.id, { limit: 5 });
    assert.equal(first.data.length, 5);
    assert.equal(first.has_more, true);
    assert.match(first.data[0]!.message, /^Training tokens billed: \d+$/);
    assert.deepEqual(
      first.data.slice(1, 4).map((e) => e.message.replace(/file-[0-9a-f]{32}/, 'file-x')),
      ['Completed results file: file-x', 'Postprocessing started.', 'Job succeeded.'],
    );
    assert.equal('data' in first.data[0]!, false, 'message events carry no data');
    const second = await client.fineTuning.jobs.listEvents(job.id, { limit: 5, after: first.data[4]!.id });
    assert.equal(second.data.length, 5);
    assert.ok(!second.data.some((e) => first.data.some((f) => f.id === e.id)));
    const all: Awaited<ReturnType<typeof client.fineTuning.jobs.listEvents>>['data'] = [];
    for await (const e of client.fineTuning.jobs.listEvents(job.id, { limit: 7 })) all.push(e);
    const metrics = all.filter((e) => e.type === 'metrics');
    assert.equal(metrics.length, 20);
    assert.match(all[0]!.id, /^ftevent-[0-9a-f]{32}$/);
    const data = metrics[0]!.data as Record<string, number>;
    assert.deepEqual(Object.keys(data).sort(), ['step', 'train_loss', 'train_mean_token_accuracy']);
    assert.equal(data.step, 20);
    assert.equal(metrics[0]!.message, `Step 20: training loss=${data.train_loss}`);
    assert.ok(all.every((e, i) => i === 0 || e.created_at <= all[i - 1]!.created_at));
  });

  it('is deterministic per seed', async () => {
    const run = async (seed: number): Promise<string> => {
      const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, validation_file: validationFile, seed, hyperparameters: { n_epochs: 2 } });
      await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
      const done = await client.fineTuning.jobs.retrieve(job.id);
      return (await resultsCsv(client, done.result_files[0]!)).join('\n');
    };
    const a = await run(7);
    assert.equal(await run(7), a);
    assert.notEqual(await run(8), a);
  });

  it('drops what the dated family does not define: metadata, method.supervised; the list ignores metadata filters', async () => {
    const v1 = t.v1(ACCOUNT);
    const dated = await client.fineTuning.jobs.create({
      model: 'gpt-4.1-mini',
      training_file: trainingFile,
      metadata: { run: 'meta-a' },
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 7 } } },
    });
    assert.equal('metadata' in dated, false);
    assert.deepEqual(dated.method, { type: 'supervised' });
    t.emu.control.advanceClock(DEFAULT_TIMINGS.validation + DEFAULT_TIMINGS.queue + 30); // past the first step
    assert.equal((await client.fineTuning.jobs.retrieve(dated.id)).hyperparameters.n_epochs, 5, 'method.supervised.hyperparameters is dropped: defaults apply (20 examples: 5 epochs)');
    assert.equal((await v1.fineTuning.jobs.retrieve(dated.id)).metadata, null);
    t.emu.control.advanceClock(1);
    const withMetadata = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, metadata: { run: 'meta-b' } });
    assert.deepEqual(withMetadata.metadata, { run: 'meta-b' });
    // Neither family documents a metadata filter: the list answers every job, newest first.
    const filtered = await client.fineTuning.jobs.list({ metadata: { run: 'meta-a' }, limit: 2 });
    assert.deepEqual(
      filtered.data.map((j) => j.id),
      [withMetadata.id, dated.id],
    );
    const paged: string[] = [];
    for await (const job of v1.fineTuning.jobs.list({ limit: 1 })) paged.push(job.id);
    assert.deepEqual(paged.slice(0, 2), [withMetadata.id, dated.id]);
    await client.fineTuning.jobs.cancel(dated.id);
    await client.fineTuning.jobs.cancel(withMetadata.id);
  });

  it('cancels, refuses a second cancel with 400, deletes a finished job on the dated family (204, also for an unknown id)', async () => {
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    await assert.rejects(client.delete(`/fine_tuning/jobs/${job.id}`), expectApiError(400, 'unexpectedEntityState'));
    const cancelled = await client.fineTuning.jobs.cancel(job.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.finished_at, cancelled.created_at);
    // Recorded (2025-11-15-preview, test_finetuning_list_events): the cancel adds no event.
    assert.deepEqual((await client.fineTuning.jobs.listEvents(job.id)).data.map((e) => e.message), ['Job enqueued. Waiting for jobs ahead to complete.']);
    await assert.rejects(client.fineTuning.jobs.cancel(job.id), (err) => err instanceof BadRequestError && expectApiError(400, 'unexpectedEntityState')(err));
    const { response } = await client.delete(`/fine_tuning/jobs/${job.id}`).withResponse();
    assert.equal(response.status, 204);
    await assert.rejects(client.fineTuning.jobs.retrieve(job.id), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.deepEqual(err.error, { code: 'notFound', message: 'The specified entity cannot be found.' });
      return true;
    });
    assert.equal((await client.delete('/fine_tuning/jobs/does-not-exist').withResponse()).response.status, 204);
  });

  it('reports a job failed through the control API with its error and a results file, and keeps it failed', async () => {
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    t.emu.control.advanceClock(DEFAULT_TIMINGS.validation + DEFAULT_TIMINGS.queue + 30);
    t.emu.control.failJob(job.id, { code: 'TrainingFailed', message: 'The training run hit an internal error.' });
    t.emu.control.advanceClock(24 * 3600);
    const failed = await client.fineTuning.jobs.retrieve(job.id);
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.error, { code: 'TrainingFailed', message: 'The training run hit an internal error.' });
    assert.equal('fine_tuned_model' in failed, false);
    assert.equal(failed.result_files.length, 1, 'a failed job lists a results file');
    assert.deepEqual((await t.v1(ACCOUNT).fineTuning.jobs.retrieve(job.id)).error, { code: 'TrainingFailed', message: 'The training run hit an internal error.', param: null });
    const events = await client.fineTuning.jobs.listEvents(job.id, { limit: 1 });
    assert.equal(events.data[0]!.level, 'error');
    assert.throws(() => t.emu.control.failJob(job.id), /already failed/);
  });

  it('takes and echoes method.<type> whole with 2025-11-15-preview (recorded), {type} only with 2025-04-01-preview', async () => {
    const newer = createOpenAIClient({ ...t.profile(ACCOUNT), apiVersion: '2025-11-15-preview' }, t.env, { maxRetries: 0 });
    const sft = (await newer.post('/fine_tuning/jobs', {
      body: { model: 'gpt-4.1-mini', training_file: trainingFile, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1.0 } } }, trainingType: 'Standard' },
    })) as Record<string, unknown>;
    const settled = { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 };
    assert.deepEqual(sft.hyperparameters, settled, "the method's hyperparameters are the job's (recorded: not -1)");
    assert.deepEqual(sft.method, { type: 'supervised', supervised: { hyperparameters: settled } });
    assert.deepEqual((await client.fineTuning.jobs.retrieve(sft.id as string)).method, { type: 'supervised' }, '2025-04-01-preview answers {type} for the same job');
    await newer.fineTuning.jobs.cancel(sft.id as string);

    const bare = await newer.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, hyperparameters: { learning_rate_multiplier: 2 } });
    assert.equal('method' in bare, false, 'no method for a job created without one (recorded)');
    assert.deepEqual(bare.hyperparameters, { n_epochs: -1, batch_size: -1, learning_rate_multiplier: 2 });
    await newer.fineTuning.jobs.cancel(bare.id);

    const rftLines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `dated rft question ${i}` }], reference_answer: `${i}` }));
    const rftFile = await uploadProcessed(t, ACCOUNT, rftLines.join('\n'), 'dated-rft.jsonl');
    const grader = { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.reference_answer}}', operation: 'eq' };
    const reinforcement = { hyperparameters: { eval_interval: 5, eval_samples: 2, compute_multiplier: 1, reasoning_effort: 'medium', n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 }, grader };
    const body = { model: 'o4-mini', training_file: rftFile, method: { type: 'reinforcement', reinforcement } };
    await assert.rejects(client.post('/fine_tuning/jobs', { body }), expectApiError(400, 'invalidPayload', 'method.type'), "2025-04-01-preview's enum is supervised|dpo");
    const rft = (await newer.post('/fine_tuning/jobs', { body })) as Record<string, unknown>;
    assert.deepEqual(rft.method, { type: 'reinforcement', reinforcement }, 'echoed as sent');
    assert.equal('hyperparameters' in rft, false, 'a reinforcement job has no top-level hyperparameters (recorded)');
    await assert.rejects(newer.post('/fine_tuning/jobs', { body: { ...body, method: { type: 'reinforcement', reinforcement: {} } } }), expectApiError(400, 'invalidPayload', 'method.reinforcement.grader'));
    await assert.rejects(
      newer.post('/fine_tuning/jobs', { body: { ...body, method: { type: 'reinforcement', reinforcement: { ...reinforcement, hyperparameters: { n_epochs: 'auto' } } } } }),
      expectApiError(400, 'invalidPayload', 'method.reinforcement.hyperparameters.n_epochs'),
    );
    await newer.fineTuning.jobs.cancel(rft.id as string);

    // A score_model grader comes back with pass_threshold 0 (recorded on both families); a reinforcement job read with
    // this version carries its eval id once training has started (recorded on a succeeded one; none while pending).
    const judge = { type: 'score_model', name: 'Response Quality Grader', model: 'o3-mini', range: [0, 10], input: [{ role: 'user', content: 'Rate from 0 to 10.' }] };
    const judged = (await newer.post('/fine_tuning/jobs', { body: { ...body, method: { type: 'reinforcement', reinforcement: { grader: judge } } } })) as { id: string; method: { reinforcement: { grader: unknown } } };
    assert.deepEqual(judged.method.reinforcement.grader, { ...judge, pass_threshold: 0 });
    assert.equal('eval' in judged, false, 'no eval while pending (recorded)');
    t.emu.control.advanceClock(DEFAULT_TIMINGS.validation + DEFAULT_TIMINGS.queue + 30);
    const training = (await newer.fineTuning.jobs.retrieve(judged.id)) as unknown as { status: string; eval?: string };
    assert.equal(training.status, 'running');
    assert.match(training.eval ?? '', /^eval_[0-9a-f]{32}$/);
    assert.equal(((await newer.fineTuning.jobs.retrieve(judged.id)) as unknown as { eval?: string }).eval, training.eval, 'the same eval on every read');
    assert.equal('eval' in (await t.v1(ACCOUNT).fineTuning.jobs.retrieve(judged.id)), false, 'no spec defines it: not on v1');
    assert.equal('eval' in (await client.fineTuning.jobs.retrieve(judged.id)), false, 'nor with 2025-04-01-preview');
    await newer.fineTuning.jobs.cancel(judged.id);

    const dpoLines = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ input: { messages: [{ role: 'user', content: `dated dpo question ${i}` }] }, preferred_output: [{ role: 'assistant', content: `good ${i}` }], non_preferred_output: [{ role: 'assistant', content: `bad ${i}` }] }),
    );
    const dpoFile = await uploadProcessed(t, ACCOUNT, dpoLines.join('\n'), 'dated-dpo.jsonl');
    const dpoHyper = { beta: 0.1, l2_multiplier: 0, n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 };
    const dpo = (await newer.post('/fine_tuning/jobs', { body: { model: 'gpt-4o-mini', training_file: dpoFile, method: { type: 'dpo', dpo: { hyperparameters: dpoHyper } } } })) as Record<string, unknown>;
    assert.deepEqual(dpo.method, { type: 'dpo', dpo: { hyperparameters: dpoHyper } });
    assert.equal('hyperparameters' in dpo, false, 'nor has a DPO job (recorded)');
    await newer.fineTuning.jobs.cancel(dpo.id as string);
  });

  it('rejects invalid creates with Azure codes and params', async () => {
    const create = (body: Record<string, unknown>, account = ACCOUNT) =>
      t.openai(account).post('/fine_tuning/jobs', { body: { model: 'gpt-4.1-mini', training_file: trainingFile, ...body } });
    await assert.rejects(create({ model: 'gpt-99' }), expectApiError(400, 'invalidPayload', 'model'));
    await assert.rejects(create({ model: `gpt-4.1-mini-2025-04-14.ft-${'0'.repeat(32)}` }), expectApiError(400, 'invalidPayload', 'model'));
    await assert.rejects(create({ suffix: 'has spaces' }), expectApiError(400, 'invalidPayload', 'suffix'));
    await assert.rejects(create({ seed: -1 }), expectApiError(400, 'invalidPayload', 'seed'));
    await assert.rejects(create({ hyperparameters: { n_epochs: 0 } }), expectApiError(400, 'invalidPayload', 'hyperparameters.n_epochs'));
    // The dated spec types hyperparameters as integers/numbers, its method.type as supervised|dpo.
    await assert.rejects(create({ hyperparameters: { n_epochs: 'auto' } }), expectApiError(400, 'invalidPayload', 'hyperparameters.n_epochs'));
    await assert.rejects(create({ method: { type: 'reinforcement', reinforcement: { grader: { type: 'string_check' } } } }), expectApiError(400, 'invalidPayload', 'method.type'));
    await assert.rejects(
      t.v1(ACCOUNT).post('/fine_tuning/jobs', { body: { model: 'gpt-4.1-mini', training_file: trainingFile, metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) } }),
      expectApiError(400, 'invalidPayload', 'metadata'),
    );
    await assert.rejects(create({ training_file: 'file-doesnotexist' }), expectApiError(400, 'invalidPayload', 'training_file'));
    await assert.rejects(create({ trainingType: 'turbo' }), expectApiError(400, 'invalidPayload', 'trainingType'));
    // `integrations` is defined by both families: the dated spec's WandBIntegrationRequestWrapper[] (type "wandb",
    // wandb.project required), v1's array of objects; a malformed one is refused, a valid one taken (not emulated).
    await assert.rejects(create({ integrations: { type: 'wandb' } }), expectApiError(400, 'invalidPayload', 'integrations'));
    await assert.rejects(create({ integrations: [{ type: 'mlflow', wandb: { project: 'p' } }] }), expectApiError(400, 'invalidPayload', 'integrations.0.type'));
    await assert.rejects(create({ integrations: [{ type: 'wandb', wandb: {} }] }), expectApiError(400, 'invalidPayload', 'integrations.0.wandb.project'));
    const withWandb = (await create({ integrations: [{ type: 'wandb', wandb: { project: 'ftpipe' } }] })) as { id: string };
    await client.fineTuning.jobs.cancel(withWandb.id);
    await assert.rejects(
      t.v1(ACCOUNT).post('/fine_tuning/jobs', { body: { model: 'gpt-4.1-mini', training_file: trainingFile, integrations: ['wandb'] } }),
      expectApiError(400, 'invalidPayload', 'integrations.0'),
    );
    // v1's suffix has minLength 1; the dated spec's is a plain string (an empty one means none).
    await assert.rejects(
      t.v1(ACCOUNT).post('/fine_tuning/jobs', { body: { model: 'gpt-4.1-mini', training_file: trainingFile, suffix: '' } }),
      expectApiError(400, 'invalidPayload', 'suffix'),
    );
    await assert.rejects(create({ method: { type: 'dpo' } }), expectApiError(400, 'invalidPayload', 'training_file'));
    await assert.rejects(create({ model: 'o4-mini' }), expectApiError(400, 'invalidPayload', 'method'));

    const pending = await client.files.create({ file: new File([chatJsonl(10)], 'fresh.jsonl'), purpose: 'fine-tune' });
    await assert.rejects(create({ training_file: pending.id }), expectApiError(400, 'invalidPayload', 'training_file'));

    // East US2 has no Standard training for gpt-4.1-mini: without trainingType Azure calls the model not fine-tunable.
    const eus2File = await uploadProcessed(t, 'ftpipe-eus2', chatJsonl(10));
    const eus2 = (body: Record<string, unknown>) => create({ model: 'gpt-4.1-mini', training_file: eus2File, ...body }, 'ftpipe-eus2');
    await assert.rejects(eus2({}), (err: Error) => expectApiError(400, 'invalidPayload', 'model')(err) && /does not support fine-tuning/.test(err.message));
    await assert.rejects(eus2({ trainingType: 'Standard' }), expectApiError(400, 'invalidPayload', 'trainingType'));
    const global = await eus2({ trainingType: 'globalstandard' });
    assert.equal((global as { trainingType: string }).trainingType, 'globalStandard', 'echoed in the spelling Azure answers with');
    const developer = await eus2({ trainingType: 'developerTier' });
    assert.equal((developer as { status: string }).status, 'pending');
    // Recorded acceptances beyond the docs' tables: gpt-4.1 Standard training from East US2.
    assert.equal(((await create({ model: 'gpt-4.1', training_file: eus2File }, 'ftpipe-eus2')) as { status: string }).status, 'pending');
    // v1 does not define trainingType: dropped, so East US2 without Standard training refuses the job.
    await assert.rejects(
      t.v1('ftpipe-eus2').post('/fine_tuning/jobs', { body: { model: 'gpt-4.1-mini', training_file: eus2File, trainingType: 'globalstandard' } }),
      expectApiError(400, 'invalidPayload', 'model'),
    );
  });

  it('serves only the api-versions Azure serves, answering others as Azure does', async () => {
    const datedWith = (apiVersion: string) => createOpenAIClient({ ...t.profile(ACCOUNT), apiVersion }, t.env, { maxRetries: 0 });
    await assert.rejects(datedWith('2099-01-01-preview').fineTuning.jobs.list(), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.deepEqual(err.error, { code: '404', message: 'Resource not found' });
      assert.equal(err.headers.get('x-ms-region'), null);
      return true;
    });
    // An unknown version on the dated family is the gateway's 404 (ballerina-platform/ballerina-library#8373: the ARM
    // version 2025-09-01 there); the 400 "API version not supported" is the v1 route's (openai/codex#3725).
    await assert.rejects(datedWith('2025-09-01').fineTuning.jobs.list(), (err: unknown) => err instanceof NotFoundError && err.status === 404);
    assert.ok((await datedWith('2024-10-21').fineTuning.jobs.list()).data.length > 0);
    await assert.rejects(t.v1(ACCOUNT).get('/fine_tuning/jobs', { query: { 'api-version': 'latest' } }), expectApiError(400, 'BadRequest'));
    await assert.rejects(t.v1(ACCOUNT).get('/fine_tuning/jobs', { query: { 'api-version': '2025-01-01-preview' } }), (err: unknown) => {
      assert.deepEqual((err as { error?: unknown }).error, { code: 'BadRequest', message: 'API version not supported' });
      return true;
    });
    assert.ok((await t.v1(ACCOUNT).get<{ data: unknown[] }>('/fine_tuning/jobs', { query: { 'api-version': 'preview' } })).data.length > 0);
  });

  it('takes DPO on the dated family and reinforcement on v1, with files in their formats', async () => {
    const dpoLines = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({
        input: { messages: [{ role: 'user', content: `dpo question ${i}` }] },
        preferred_output: [{ role: 'assistant', content: `good answer ${i}` }],
        non_preferred_output: [{ role: 'assistant', content: `bad answer ${i}` }],
      }),
    );
    const dpoFile = await uploadProcessed(t, ACCOUNT, dpoLines.join('\n'), 'dpo.jsonl');
    // Azure ignores top-level hyperparameters beside a method (its RFT guide): taken, and the job trains with the
    // method's hyperparameters or the defaults (n_epochs left to the service: -1 before the first step).
    const beside = await client.fineTuning.jobs.create({
      model: 'gpt-4o-mini', training_file: dpoFile,
      hyperparameters: { n_epochs: 2, prompt_loss_weight: 0.1 } as Record<string, number>,
      method: { type: 'dpo', dpo: { hyperparameters: { beta: 0.1 } } },
    });
    assert.deepEqual(beside.hyperparameters, { n_epochs: -1, batch_size: -1, learning_rate_multiplier: 1 }, 'n_epochs 2 beside the method is ignored');
    assert.deepEqual((await t.v1(ACCOUNT).fineTuning.jobs.retrieve(beside.id)).method?.dpo?.hyperparameters, { n_epochs: -1, batch_size: -1, learning_rate_multiplier: 1, beta: 0.1 });
    await client.fineTuning.jobs.cancel(beside.id);
    const besideV1 = await t.v1(ACCOUNT).fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, hyperparameters: { n_epochs: 2 }, method: { type: 'supervised', supervised: {} } });
    assert.equal(besideV1.hyperparameters.n_epochs, -1, 'v1 too');
    await client.fineTuning.jobs.cancel(besideV1.id);
    await assert.rejects(
      client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: dpoFile, hyperparameters: { n_epochs: 'many' } as unknown as Record<string, number>, method: { type: 'dpo', dpo: {} } }),
      expectApiError(400, 'invalidPayload', 'hyperparameters.n_epochs'),
      'still a defined field: a wrong type is refused',
    );
    const dpo = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: dpoFile, method: { type: 'dpo', dpo: { hyperparameters: { n_epochs: 2, beta: 0.1 } } } });
    assert.deepEqual(dpo.method, { type: 'dpo' });
    assert.equal(dpo.model, 'gpt-4o-mini-2024-07-18');
    assert.deepEqual(dpo.hyperparameters, { n_epochs: 2, batch_size: -1, learning_rate_multiplier: 1 });
    const dpoV1 = await t.v1(ACCOUNT).fineTuning.jobs.retrieve(dpo.id);
    assert.deepEqual(dpoV1.method?.dpo?.hyperparameters, { n_epochs: 2, batch_size: -1, learning_rate_multiplier: 1, beta: 0.1 });
    await assert.rejects(
      client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: dpoFile }),
      expectApiError(400, 'invalidPayload', 'training_file'),
    );
    // Before 2025-01-01-preview the dated spec has no `method` (2024-10-21, 2024-12-01-preview): it is dropped, so the
    // DPO file meets a supervised job; 2025-01-01-preview, the first to define it, takes the same create.
    const dpoBody = { model: 'gpt-4o-mini', training_file: dpoFile, method: { type: 'dpo', dpo: { hyperparameters: { beta: 0.1 } } } };
    for (const apiVersion of ['2024-10-21', '2024-12-01-preview']) {
      const older = createOpenAIClient({ ...t.profile(ACCOUNT), apiVersion }, t.env, { maxRetries: 0 });
      await assert.rejects(older.post('/fine_tuning/jobs', { body: dpoBody }), expectApiError(400, 'invalidPayload', 'training_file'), apiVersion);
    }
    const first = createOpenAIClient({ ...t.profile(ACCOUNT), apiVersion: '2025-01-01-preview' }, t.env, { maxRetries: 0 });
    const dpoJan = (await first.post('/fine_tuning/jobs', { body: dpoBody })) as { id: string; method: unknown };
    assert.deepEqual(dpoJan.method, { type: 'dpo' });
    await client.fineTuning.jobs.cancel(dpoJan.id);

    const rftLines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `rft question ${i}` }], reference_answer: `${i}` }));
    const rftFile = await uploadProcessed(t, ACCOUNT, rftLines.join('\n'), 'rft.jsonl');
    const grader = { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.reference_answer}}', operation: 'eq' } as const;
    const v1 = t.v1(ACCOUNT);
    const rft = await v1.fineTuning.jobs.create({ model: 'o4-mini', training_file: rftFile, method: { type: 'reinforcement', reinforcement: { grader } } });
    assert.equal(rft.method?.type, 'reinforcement');
    assert.deepEqual(rft.method?.reinforcement?.grader, grader);
    await assert.rejects(
      v1.post('/fine_tuning/jobs', { body: { model: 'o4-mini', training_file: rftFile, method: { type: 'reinforcement', reinforcement: {} } } }),
      expectApiError(400, 'invalidPayload', 'method.reinforcement.grader'),
    );
    // Azure's grader union (AzureFineTuneReinforcementMethod) has no Python grader, and each type its required fields.
    const refusedGrader = (g: object, param: string) =>
      assert.rejects(v1.post('/fine_tuning/jobs', { body: { model: 'o4-mini', training_file: rftFile, method: { type: 'reinforcement', reinforcement: { grader: g } } } }), expectApiError(400, 'invalidPayload', param));
    await refusedGrader({ type: 'python', name: 'p', source: 'def grade(s, i): return 1' }, 'method.reinforcement.grader');
    await refusedGrader({ type: 'string_check', name: 'exact', input: 'i', reference: 'r' }, 'method.reinforcement.grader.operation');
    await refusedGrader({ ...grader, operation: 'equals' }, 'method.reinforcement.grader.operation');
    await refusedGrader({ type: 'text_similarity', name: 's', input: 'i', reference: 'r', evaluation_metric: 'cosine' }, 'method.reinforcement.grader.evaluation_metric');
    await refusedGrader({ type: 'score_model', name: 'judge', input: [] }, 'method.reinforcement.grader.model');
    await refusedGrader({ type: 'multi', name: 'both', graders: {} }, 'method.reinforcement.grader.calculate_output');
    // The v1 spec types eval_interval and eval_samples as "auto" or int32: a fraction is refused.
    const rftHyper = (hyperparameters: object) => ({ body: { model: 'o4-mini', training_file: rftFile, method: { type: 'reinforcement', reinforcement: { grader, hyperparameters } } } });
    await assert.rejects(v1.post('/fine_tuning/jobs', rftHyper({ eval_interval: 2.5 })), expectApiError(400, 'invalidPayload', 'method.reinforcement.hyperparameters.eval_interval'));
    await assert.rejects(v1.post('/fine_tuning/jobs', rftHyper({ eval_samples: 0.5 })), expectApiError(400, 'invalidPayload', 'method.reinforcement.hyperparameters.eval_samples'));
    // Azure's RFT guide gives each RFT-only value a range, which the spec leaves open: the emulator refuses outside it.
    for (const [name, value] of [['eval_samples', 0], ['eval_samples', 11], ['eval_interval', 26], ['compute_multiplier', 0.4], ['compute_multiplier', 3.5]] as const) {
      await assert.rejects(v1.post('/fine_tuning/jobs', rftHyper({ [name]: value })), expectApiError(400, 'invalidPayload', `method.reinforcement.hyperparameters.${name}`), `${name} ${value}`);
    }
    await assert.rejects(v1.post('/fine_tuning/jobs', rftHyper({ reasoning_effort: 'auto' })), expectApiError(400, 'invalidPayload', 'method.reinforcement.hyperparameters.reasoning_effort'), 'no "auto" in its enum');
    const rftAuto = await v1.fineTuning.jobs.create({ model: 'o4-mini', training_file: rftFile, method: { type: 'reinforcement', reinforcement: { grader, hyperparameters: { eval_interval: 'auto', eval_samples: 10, reasoning_effort: 'high' } } } });
    assert.deepEqual(
      rftAuto.method?.reinforcement?.hyperparameters,
      { eval_interval: 'auto', eval_samples: 10, reasoning_effort: 'high', compute_multiplier: 1, n_epochs: -1, batch_size: -1, learning_rate_multiplier: 1 },
      'v1 echoes the RFT-only ones as sent; compute_multiplier left out is 1 (recorded on 2025-11-15-preview)',
    );
    assert.equal(rft.method?.reinforcement?.hyperparameters?.compute_multiplier, 1);
    await client.fineTuning.jobs.cancel(rftAuto.id);
    await client.fineTuning.jobs.cancel(dpo.id);
    await client.fineTuning.jobs.cancel(rft.id);
  });

  it('serves the v1 family: create answers 200 in the v1 spec shape; list envelopes per family', async () => {
    const v1 = t.v1(ACCOUNT);
    const { data: job, response } = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, suffix: 'v1s' }).withResponse();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('location'), null);
    const raw = job as unknown as Record<string, unknown>;
    for (const nullable of ['fine_tuned_model', 'finished_at', 'trained_tokens', 'validation_file', 'error', 'metadata']) assert.equal(raw[nullable], null, nullable);
    assert.equal(raw.user_provided_suffix, 'v1s');
    assert.equal((await v1.fineTuning.jobs.retrieve(job.id)).id, job.id);
    const list = await v1.get<Record<string, unknown>>('/fine_tuning/jobs', { query: { limit: 1 } });
    assert.deepEqual(Object.keys(list).sort(), ['data', 'has_more', 'object']);
    const datedRaw = await client.get<Record<string, unknown>>('/fine_tuning/jobs', { query: { limit: 1 } });
    assert.deepEqual(Object.keys(datedRaw).sort(), ['data', 'has_more', 'object']);
    const checkpoints = await v1.get<Record<string, unknown>>(`/fine_tuning/jobs/${job.id}/checkpoints`);
    assert.deepEqual(Object.keys(checkpoints).sort(), ['data', 'first_id', 'has_more', 'last_id', 'object']);
    await v1.fineTuning.jobs.cancel(job.id);
  });

  it('continues fine-tuning from a fine-tuned model and from a checkpoint id (not its ckpt-step name)', async () => {
    const parent = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini-2025-04-14', training_file: trainingFile, validation_file: validationFile, seed: 3 });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(parent.id)).status === 'succeeded');
    const done = await client.fineTuning.jobs.retrieve(parent.id);
    const fromModel = await client.fineTuning.jobs.create({ model: done.fine_tuned_model!, training_file: trainingFile, suffix: 'round2' });
    assert.equal(fromModel.model, done.fine_tuned_model);
    const checkpoint = (await client.fineTuning.jobs.checkpoints.list(parent.id)).data[1]!;
    await assert.rejects(client.fineTuning.jobs.create({ model: checkpoint.fine_tuned_model_checkpoint, training_file: trainingFile }), expectApiError(400, 'invalidPayload', 'model'));
    const fromCheckpoint = await client.fineTuning.jobs.create({ model: checkpoint.id, training_file: trainingFile });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(fromCheckpoint.id)).status === 'succeeded');
    const continued = await client.fineTuning.jobs.retrieve(fromCheckpoint.id);
    assert.match(continued.fine_tuned_model ?? '', /^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}$/);
    // Fine-tuned models live in their account: another account does not know them.
    const ncusFile = await uploadProcessed(t, 'ftpipe-ncus', chatJsonl(10));
    await assert.rejects(
      t.openai('ftpipe-ncus').fineTuning.jobs.create({ model: done.fine_tuned_model!, training_file: ncusFile }),
      expectApiError(400, 'invalidPayload', 'model'),
    );
    assert.match((await client.fineTuning.jobs.retrieve(fromModel.id)).fine_tuned_model ?? '', /^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}-round2$/);
  });
});
