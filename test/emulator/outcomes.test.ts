/** Azure's own outcomes in the emulator (src/emulator/outcomes.ts): safety verdict, RFT billing cap, preemption. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import type { AzureOpenAI } from 'openai';
import { advanceUntil, chatJsonl, startTestEmulator, uploadProcessed, type TestEmulator } from './helpers';

const ACCOUNT = 'ftpipe-swc';

async function adminPut(t: TestEmulator, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${t.emu.adminUrl}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.status;
}

describe('emulator: Azure\'s own outcomes', () => {
  let t: TestEmulator;
  let dated: AzureOpenAI;
  let v1: OpenAI;
  let trainingFile: string;

  before(async () => {
    // One training step bills an hour (RFT: $100), so the $5,000 cap falls at step 50.
    t = await startTestEmulator({ timings: { stepBaseSeconds: 3600, stepSecondsPer1kTokens: 0 } });
    dated = t.openai(ACCOUNT);
    v1 = t.v1(ACCOUNT);
    trainingFile = await uploadProcessed(t, ACCOUNT, chatJsonl(10, 'safety'));
  });
  after(() => t.emu.stop());

  /** Statuses as Azure sends them (the openai types lack `paused`, `resuming`). */
  const status = async (id: string): Promise<string> => (await v1.fineTuning.jobs.retrieve(id)).status;
  const finished = (id: string) => async () => ['succeeded', 'failed', 'cancelled'].includes(await status(id));

  it('fails a job whose safety evaluation finds the model not deployable, with Azure\'s message, leaving nothing deployable', async () => {
    const job = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 5 } } } });
    assert.equal(await adminPut(t, `/jobs/${job.id}/safety`, { deployable: false, categories: ['Violence', 'Self Harm'] }), 204);
    await advanceUntil(t, 600, finished(job.id));
    const failed = await v1.fineTuning.jobs.retrieve(job.id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.fine_tuned_model, null);
    assert.equal(failed.trained_tokens, null, 'a model that fails the safety evaluation is not billed');
    assert.equal(failed.error?.code, 'modelNotDeployable');
    assert.equal(
      failed.error?.message,
      'This model is unable to be deployed. Model evaluation identified that this fine tuned model scores above acceptable thresholds for [Violence, Self Harm]. Please review your training data set and resubmit the job.',
    );
    assert.equal((await v1.fineTuning.jobs.checkpoints.list(job.id)).data.length, 0);
    const events = (await v1.fineTuning.jobs.listEvents(job.id, { limit: 5 })).data;
    assert.equal(events[0]?.level, 'error');
    assert.match(events[0]?.message ?? '', /unable to be deployed/);
    assert.ok(!events.some((e) => /Training (tokens|hours) billed/.test(e.message)));
    // The dated family shows the same error.
    assert.equal((await dated.fineTuning.jobs.retrieve(job.id)).error?.code, 'modelNotDeployable');
    // Too late for a verdict once the job has ended.
    assert.equal(await adminPut(t, `/jobs/${job.id}/safety`, { deployable: true }), 400);
  });

  it('applies an account\'s verdict to its jobs without one, and a deployable verdict lets a job succeed', async () => {
    assert.equal(await adminPut(t, '/accounts/ftpipe-swc/safety', { deployable: 'no' }), 400);
    t.emu.control.setSafetyVerdict({ account: ACCOUNT }, { deployable: false });
    const blocked = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 5 } } } });
    const passed = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 5 } } } });
    t.emu.control.setSafetyVerdict({ jobId: passed.id }, { deployable: true });
    await advanceUntil(t, 600, async () => (await finished(blocked.id)()) && (await finished(passed.id)()));
    t.emu.control.setSafetyVerdict({ account: ACCOUNT }, { deployable: true });
    const b = await v1.fineTuning.jobs.retrieve(blocked.id);
    assert.equal(b.status, 'failed');
    assert.match(b.error?.message ?? '', /\[Violence, Self Harm\]/, 'the default categories are the docs\' sample');
    assert.equal((await v1.fineTuning.jobs.retrieve(passed.id)).status, 'succeeded');
  });

  it('pauses a reinforcement job when its billed training reaches $5,000, with a deployable checkpoint, until it is resumed', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `rft question ${i}` }], reference_answer: `${i}` }));
    const rftFile = await uploadProcessed(t, ACCOUNT, lines.join('\n'), 'rft.jsonl');
    const grader = { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.reference_answer}}', operation: 'eq' } as const;
    const job = await v1.fineTuning.jobs.create({
      model: 'o4-mini',
      training_file: rftFile,
      method: { type: 'reinforcement', reinforcement: { grader, hyperparameters: { n_epochs: 6, batch_size: 1 } } },
    });
    await advanceUntil(t, 3600, async () => (await status(job.id)) === 'paused');
    // Long after the cap, it is still paused: only a resume continues it.
    t.emu.control.advanceClock(10 * 24 * 3600);
    assert.equal(await status(job.id), 'paused');
    const state = t.emu.control.dumpState().jobs.find((j) => j.id === job.id)!;
    assert.equal(state.steps_done, 50, '50 billed hours at $100');
    const checkpoints = (await v1.fineTuning.jobs.checkpoints.list(job.id)).data;
    assert.equal(checkpoints[0]?.step_number, 50, 'the pause left a checkpoint at the step it stopped');
    const events = (await v1.fineTuning.jobs.listEvents(job.id, { limit: 3 })).data;
    assert.equal(events[0]?.level, 'warn');
    assert.match(events[0]?.message ?? '', /reached the \$5,000 billing limit/);
    await v1.fineTuning.jobs.resume(job.id);
    await advanceUntil(t, 3600, finished(job.id));
    const done = await v1.fineTuning.jobs.retrieve(job.id);
    assert.equal(done.status, 'succeeded', 'after a resume, billing continues without a limit');
    // Reinforcement bills time: the billed event is in hours (the 2024 recording's wording), 60 steps of an hour each.
    const billed = (await v1.fineTuning.jobs.listEvents(job.id, { limit: 4 })).data.map((e) => e.message);
    assert.equal(billed[0], 'Training hours billed: 60.000');
    assert.ok(!billed.some((m) => /Training tokens billed/.test(m)), JSON.stringify(billed));
  });

  it('preempts a running Developer-tier job and resumes it by itself', async () => {
    const job = await dated.fineTuning.jobs.create({
      model: 'gpt-4.1-mini', training_file: trainingFile, hyperparameters: { n_epochs: 2, batch_size: 1 }, trainingType: 'developerTier',
    } as Parameters<AzureOpenAI['fineTuning']['jobs']['create']>[0]);
    await advanceUntil(t, 600, async () => (await v1.fineTuning.jobs.retrieve(job.id)).status === 'running');
    t.emu.control.advanceClock(3600 * 3);
    const res = await fetch(`${t.emu.adminUrl}/jobs/${job.id}/preempt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resumeAfterSeconds: 7200 }) });
    assert.equal(res.status, 204);
    assert.equal(await status(job.id), 'paused');
    const stepsAtPreemption = t.emu.control.dumpState().jobs.find((j) => j.id === job.id)!.steps_done as number;
    assert.ok(stepsAtPreemption >= 1);
    const [preempted] = (await v1.fineTuning.jobs.listEvents(job.id, { limit: 1 })).data;
    assert.match(preempted?.message ?? '', /preempted/);
    // A warning's level per family spec: v1 `warn`, dated `warning` (its LogLevel enum: info, warning, error).
    assert.equal(preempted?.level, 'warn');
    assert.equal((await dated.fineTuning.jobs.listEvents(job.id, { limit: 1 })).data[0]?.level, 'warning');
    t.emu.control.advanceClock(7199);
    assert.equal(await status(job.id), 'paused');
    assert.equal(t.emu.control.dumpState().jobs.find((j) => j.id === job.id)!.steps_done, stepsAtPreemption, 'no training while preempted');
    t.emu.control.advanceClock(1);
    assert.equal(await status(job.id), 'resuming');
    assert.match((await v1.fineTuning.jobs.listEvents(job.id, { limit: 1 })).data[0]?.message ?? '', /resumed automatically after preemption/);
    await advanceUntil(t, 3600, finished(job.id));
    assert.equal((await v1.fineTuning.jobs.retrieve(job.id)).status, 'succeeded');
  });

  it('preempts only running Developer-tier jobs', async () => {
    const standard = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    await advanceUntil(t, 600, async () => (await v1.fineTuning.jobs.retrieve(standard.id)).status === 'running');
    assert.throws(() => t.emu.control.preemptJob(standard.id), /only a running Developer-tier job/);
    assert.throws(() => t.emu.control.preemptJob('ftjob-doesnotexist'));
    await v1.fineTuning.jobs.cancel(standard.id);
  });
});
