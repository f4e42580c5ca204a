import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BadRequestError, NotFoundError, type AzureOpenAI } from 'openai';
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

  it('runs pending -> queued -> running -> pausing -> paused -> resuming -> running -> succeeded, with Azure shapes', async () => {
    const { data: created, response } = await client.fineTuning.jobs
      .create({
        model: 'gpt-4.1-mini',
        training_file: trainingFile,
        validation_file: validationFile,
        seed: 42,
        suffix: 'mysuffix',
        hyperparameters: { n_epochs: 5, batch_size: 2 },
        metadata: { run: 'lifecycle', owner: 'tests' },
      })
      .withResponse();
    assert.equal(response.status, 201);
    assert.match(response.headers.get('location') ?? '', new RegExp(`/openai/fine_tuning/jobs/${created.id}\\?api-version=`));
    assert.match(created.id, /^ftjob-[0-9a-f]{32}$/);
    assert.equal(created.object, 'fine_tuning.job');
    assert.equal(created.status, 'pending');
    assert.equal(created.model, 'gpt-4.1-mini');
    assert.equal(created.fine_tuned_model, null);
    assert.deepEqual(created.metadata, { run: 'lifecycle', owner: 'tests' });
    assert.deepEqual(created.hyperparameters, { batch_size: 2, learning_rate_multiplier: 1, n_epochs: 5 });
    assert.equal((created as unknown as { trainingType: string }).trainingType, 'Standard');

    const status = async (): Promise<string> => (await client.fineTuning.jobs.retrieve(created.id)).status;
    t.emu.control.advanceClock(DEFAULT_TIMINGS.validation);
    assert.equal(await status(), 'queued');
    t.emu.control.advanceClock(DEFAULT_TIMINGS.queue);
    assert.equal(await status(), 'running');
    await assert.rejects(client.fineTuning.jobs.pause(created.id), expectApiError(400, 'unexpectedEntityState'));

    t.emu.control.advanceClock(65); // three steps of ~20 s
    const paused = await client.fineTuning.jobs.pause(created.id);
    assert.equal(paused.status, 'pausing');
    await assert.rejects(client.fineTuning.jobs.resume(created.id), expectApiError(400, 'unexpectedEntityState'));
    t.emu.control.advanceClock(DEFAULT_TIMINGS.pause + 10_000); // no training while paused
    assert.equal(await status(), 'paused');
    const pauseCheckpoints = await client.fineTuning.jobs.checkpoints.list(created.id);
    assert.equal(pauseCheckpoints.data.length, 1);
    assert.equal(pauseCheckpoints.data[0]!.step_number, 3);

    assert.equal((await client.fineTuning.jobs.resume(created.id)).status, 'resuming');
    t.emu.control.advanceClock(DEFAULT_TIMINGS.resume);
    assert.equal(await status(), 'running');
    await advanceUntil(t, 300, async () => (await status()) === 'succeeded');

    const done = await client.fineTuning.jobs.retrieve(created.id);
    assert.match(done.fine_tuned_model ?? '', /^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}-mysuffix$/);
    assert.equal(done.fine_tuned_model, `gpt-4.1-mini-2025-04-14.ft-${created.id.slice(6)}-mysuffix`);
    assert.ok(done.finished_at! >= done.created_at);
    assert.ok((done.trained_tokens ?? 0) > 0);
    assert.equal(done.result_files.length, 1);

    // 20 examples, batch 2: 10 steps per epoch, 50 in all; one checkpoint per epoch, the newest three kept.
    const checkpoints = await client.fineTuning.jobs.checkpoints.list(created.id);
    assert.deepEqual(
      checkpoints.data.map((c) => c.step_number),
      [50, 40, 30],
    );
    for (const c of checkpoints.data) {
      assert.match(c.id, /^ftchkpt-[0-9a-f]{32}$/);
      assert.equal(c.object, 'fine_tuning.job.checkpoint');
      assert.equal(c.fine_tuned_model_checkpoint, `${done.fine_tuned_model}:ckpt-step-${c.step_number}`);
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

  it('pages events newest first with after/limit; metrics events carry the step metrics', async () => {
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, seed: 1, hyperparameters: { n_epochs: 1 } });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
    const first = await client.fineTuning.jobs.listEvents(job.id, { limit: 5 });
    assert.equal(first.data.length, 5);
    assert.equal(first.has_more, true);
    assert.equal(first.data[0]!.message, 'The job has successfully completed');
    const second = await client.fineTuning.jobs.listEvents(job.id, { limit: 5, after: first.data[4]!.id });
    assert.equal(second.data.length, 5);
    assert.ok(!second.data.some((e) => first.data.some((f) => f.id === e.id)));
    const all: Awaited<ReturnType<typeof client.fineTuning.jobs.listEvents>>["data"] = [];
    for await (const e of client.fineTuning.jobs.listEvents(job.id, { limit: 7 })) all.push(e);
    const metrics = all.filter((e) => e.type === 'metrics');
    assert.equal(metrics.length, 20);
    assert.match(all[0]!.id, /^ftevent-/);
    const data = metrics[0]!.data as Record<string, number>;
    assert.equal(data.step, 20);
    assert.equal(typeof data.train_loss, 'number');
    assert.equal(typeof data.train_mean_token_accuracy, 'number');
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

  it('finds jobs by metadata through list, and pages the list', async () => {
    const ids: string[] = [];
    for (const run of ['meta-a', 'meta-b', 'meta-b']) {
      ids.push((await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, metadata: { run } })).id);
      t.emu.control.advanceClock(1);
    }
    const onlyA = await client.fineTuning.jobs.list({ metadata: { run: 'meta-a' } });
    assert.deepEqual(
      onlyA.data.map((j) => j.id),
      [ids[0]],
    );
    const bs: string[] = [];
    for await (const job of client.fineTuning.jobs.list({ metadata: { run: 'meta-b' }, limit: 1 })) bs.push(job.id);
    assert.deepEqual(bs, [ids[2], ids[1]]);
    for (const id of ids) await client.fineTuning.jobs.cancel(id);
  });

  it('cancels, refuses a second cancel with 400, deletes a finished job on the dated family', async () => {
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    await assert.rejects(client.delete(`/fine_tuning/jobs/${job.id}`), expectApiError(400, 'unexpectedEntityState'));
    const cancelled = await client.fineTuning.jobs.cancel(job.id);
    assert.equal(cancelled.status, 'cancelled');
    await assert.rejects(client.fineTuning.jobs.cancel(job.id), (err) => err instanceof BadRequestError && expectApiError(400, 'unexpectedEntityState')(err));
    const { response } = await client.delete(`/fine_tuning/jobs/${job.id}`).withResponse();
    assert.equal(response.status, 204);
    await assert.rejects(client.fineTuning.jobs.retrieve(job.id), NotFoundError);
  });

  it('reports a job failed through the control API with its error, and keeps it failed', async () => {
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    t.emu.control.advanceClock(DEFAULT_TIMINGS.validation + DEFAULT_TIMINGS.queue + 30);
    t.emu.control.failJob(job.id, { code: 'TrainingFailed', message: 'The training run hit an internal error.' });
    t.emu.control.advanceClock(24 * 3600);
    const failed = await client.fineTuning.jobs.retrieve(job.id);
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.error, { code: 'TrainingFailed', message: 'The training run hit an internal error.', param: null });
    assert.equal(failed.fine_tuned_model, null);
    const events = await client.fineTuning.jobs.listEvents(job.id, { limit: 1 });
    assert.equal(events.data[0]!.level, 'error');
    assert.throws(() => t.emu.control.failJob(job.id), /already failed/);
  });

  it('rejects invalid creates with Azure codes and params', async () => {
    const create = (body: Record<string, unknown>, account = ACCOUNT) =>
      t.openai(account).post('/fine_tuning/jobs', { body: { model: 'gpt-4.1-mini', training_file: trainingFile, ...body } });
    await assert.rejects(create({ model: 'gpt-99' }), expectApiError(400, 'invalidPayload', 'model'));
    await assert.rejects(create({ model: `gpt-4.1-mini-2025-04-14.ft-${'0'.repeat(32)}` }), expectApiError(400, 'invalidPayload', 'model'));
    await assert.rejects(create({ suffix: 'has spaces' }), expectApiError(400, 'invalidPayload', 'suffix'));
    await assert.rejects(create({ seed: -1 }), expectApiError(400, 'invalidPayload', 'seed'));
    await assert.rejects(create({ hyperparameters: { n_epochs: 0 } }), expectApiError(400, 'invalidPayload', 'hyperparameters.n_epochs'));
    await assert.rejects(create({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }), expectApiError(400, 'invalidPayload', 'metadata'));
    await assert.rejects(create({ training_file: 'file-doesnotexist' }), expectApiError(400, 'invalidPayload', 'training_file'));
    await assert.rejects(create({ trainingType: 'turbo' }), expectApiError(400, 'invalidPayload', 'trainingType'));
    await assert.rejects(create({ method: { type: 'dpo' } }), expectApiError(400, 'invalidPayload', 'training_file'));
    await assert.rejects(create({ model: 'o4-mini' }), expectApiError(400, 'invalidPayload', 'method'));

    const pending = await client.files.create({ file: new File([chatJsonl(10)], 'fresh.jsonl'), purpose: 'fine-tune' });
    await assert.rejects(create({ training_file: pending.id }), expectApiError(400, 'invalidPayload', 'training_file'));

    // East US2 has no Standard training for gpt-4.1: without trainingType Azure calls the model not fine-tunable.
    const eus2File = await uploadProcessed(t, 'ftpipe-eus2', chatJsonl(10));
    const eus2 = (body: Record<string, unknown>) => create({ model: 'gpt-4.1', training_file: eus2File, ...body }, 'ftpipe-eus2');
    await assert.rejects(eus2({}), (err: Error) => expectApiError(400, 'invalidPayload', 'model')(err) && /does not support fine-tuning/.test(err.message));
    await assert.rejects(eus2({ trainingType: 'Standard' }), expectApiError(400, 'invalidPayload', 'trainingType'));
    const global = await eus2({ trainingType: 'globalstandard' });
    assert.equal((global as { trainingType: string }).trainingType, 'globalstandard');
    const developer = await eus2({ trainingType: 'developerTier' });
    assert.equal((developer as { status: string }).status, 'pending');
  });

  it('takes DPO and reinforcement jobs with files in their formats', async () => {
    const dpoLines = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({
        input: { messages: [{ role: 'user', content: `dpo question ${i}` }] },
        preferred_output: [{ role: 'assistant', content: `good answer ${i}` }],
        non_preferred_output: [{ role: 'assistant', content: `bad answer ${i}` }],
      }),
    );
    const dpoFile = await uploadProcessed(t, ACCOUNT, dpoLines.join('\n'), 'dpo.jsonl');
    const dpo = await client.fineTuning.jobs.create({
      model: 'gpt-4.1-mini',
      training_file: dpoFile,
      hyperparameters: { n_epochs: 5, prompt_loss_weight: 0.1 } as Record<string, number>,
      method: { type: 'dpo', dpo: { hyperparameters: { n_epochs: 2, beta: 0.1 } } },
    });
    assert.equal(dpo.method?.type, 'dpo');
    assert.deepEqual(dpo.method?.dpo?.hyperparameters, { n_epochs: 2, beta: 0.1, prompt_loss_weight: 0.1, batch_size: 1, learning_rate_multiplier: 1 });
    await assert.rejects(
      client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: dpoFile }),
      expectApiError(400, 'invalidPayload', 'training_file'),
    );

    const rftLines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `rft question ${i}` }], reference_answer: `${i}` }));
    const rftFile = await uploadProcessed(t, ACCOUNT, rftLines.join('\n'), 'rft.jsonl');
    const grader = { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.reference_answer}}', operation: 'eq' } as const;
    const rft = await client.fineTuning.jobs.create({ model: 'o4-mini', training_file: rftFile, method: { type: 'reinforcement', reinforcement: { grader } } });
    assert.equal(rft.method?.type, 'reinforcement');
    assert.deepEqual(rft.method?.reinforcement?.grader, grader);
    await assert.rejects(
      client.post('/fine_tuning/jobs', { body: { model: 'o4-mini', training_file: rftFile, method: { type: 'reinforcement', reinforcement: {} } } }),
      expectApiError(400, 'invalidPayload', 'method.reinforcement.grader'),
    );
    await client.fineTuning.jobs.cancel(dpo.id);
    await client.fineTuning.jobs.cancel(rft.id);
  });

  it('serves the v1 family: create answers 200, lists carry first_id/last_id/has_more', async () => {
    const v1 = t.v1(ACCOUNT);
    const { data: job, response } = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile }).withResponse();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('location'), null);
    assert.equal((await v1.fineTuning.jobs.retrieve(job.id)).id, job.id);
    const raw = await v1.get<Record<string, unknown>>('/fine_tuning/jobs', { query: { limit: 1 } });
    assert.deepEqual(Object.keys(raw).sort(), ['data', 'first_id', 'has_more', 'last_id', 'object']);
    const datedRaw = await client.get<Record<string, unknown>>('/fine_tuning/jobs', { query: { limit: 1 } });
    assert.deepEqual(Object.keys(datedRaw).sort(), ['data', 'has_more', 'object']);
    await v1.fineTuning.jobs.cancel(job.id);
  });

  it('continues fine-tuning from a fine-tuned model and from a checkpoint', async () => {
    const parent = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini-2025-04-14', training_file: trainingFile, validation_file: validationFile, seed: 3 });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(parent.id)).status === 'succeeded');
    const done = await client.fineTuning.jobs.retrieve(parent.id);
    const fromModel = await client.fineTuning.jobs.create({ model: done.fine_tuned_model!, training_file: trainingFile, suffix: 'round2' });
    assert.equal(fromModel.model, done.fine_tuned_model);
    const checkpoint = (await client.fineTuning.jobs.checkpoints.list(parent.id)).data[1]!;
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
