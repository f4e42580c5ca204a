/**
 * The job poll reads Azure's own outcomes (src/pipeline/outcomes.ts) from the emulator: the safety evaluation's "not
 * deployable", why a job is paused (a request, the RFT billing cap, a Developer-tier preemption), the billed tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import { jobActivities } from '../../activities/jobs';
import { azureHold, notDeployableFrom, pauseCauseFrom } from '../../src/pipeline/outcomes';
import { runActivity, startActivityTestEnv, type ActivityTestEnv } from './helpers';

const SWC = 'ftpipe-swc';

function lines(count: number, rft = false): string {
  return `${Array.from({ length: count }, (_, i) =>
    JSON.stringify(rft ? { messages: [{ role: 'user', content: `o q${i}` }], reference_answer: `${i}` } : { messages: [{ role: 'user', content: `o q${i}` }, { role: 'assistant', content: `o a${i}` }] }),
  ).join('\n')}\n`;
}

describe('job poll: Azure\'s own outcomes (emulator)', () => {
  let t: ActivityTestEnv;
  let jobs: ReturnType<typeof jobActivities>;
  let v1: OpenAI;
  let chatFile: string;
  let rftFile: string;

  const upload = async (content: string, name: string): Promise<string> => {
    const file = await v1.files.create({ file: new File([content], name, { type: 'application/jsonl' }), purpose: 'fine-tune' });
    t.emu.control.advanceClock(120);
    return file.id;
  };
  const poll = (jobId: string) => runActivity(() => jobs.pollFineTuningJob({ profile: SWC, jobId, afterEventId: null }));
  /** Advances the frozen clock until the job's status (as Azure sends it) is one of `statuses`. */
  const until = async (jobId: string, statuses: string[], seconds = 600): Promise<void> => {
    for (let i = 0; i < 500; i++) {
      if (statuses.includes((await v1.fineTuning.jobs.retrieve(jobId)).status)) return;
      t.emu.control.advanceClock(seconds);
    }
    throw new Error(`job ${jobId} never reached ${statuses.join('/')}`);
  };

  before(async () => {
    t = await startActivityTestEnv({ clockScale: 0, timings: { stepBaseSeconds: 3600, stepSecondsPer1kTokens: 0 } });
    jobs = jobActivities(t.azure);
    v1 = t.azure.openaiV1(SWC);
    chatFile = await upload(lines(10), 'chat.jsonl');
    rftFile = await upload(lines(10, true), 'rft.jsonl');
  });
  after(() => t.emu.stop());

  it('reads a not-deployable verdict as its own outcome, with Azure\'s reason and categories', async () => {
    const job = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: chatFile, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 5 } } } });
    t.emu.control.setSafetyVerdict({ jobId: job.id }, { deployable: false, categories: ['Hate and Fairness'] });
    await until(job.id, ['failed', 'succeeded']);
    const { job: snap } = await poll(job.id);
    assert.equal(snap.status, 'failed');
    assert.deepEqual(snap.notDeployable?.categories, ['Hate and Fairness']);
    assert.match(snap.notDeployable?.reason ?? '', /^This model is unable to be deployed\./);
    assert.equal(snap.billedTokens, null, 'not billed');
  });

  it('an ordinary failure is not a safety verdict; a success reads the billed tokens', async () => {
    const failing = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: chatFile });
    t.emu.control.failJob(failing.id, { code: 'internal_error', message: 'The fine-tuning job failed due to an internal error.' });
    assert.equal((await poll(failing.id)).job.notDeployable, null);
    const ok = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: chatFile, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 5 } } } });
    await until(ok.id, ['succeeded']);
    const { job: snap } = await poll(ok.id);
    assert.equal(snap.notDeployable, null);
    assert.ok(typeof snap.billedTokens === 'number' && snap.billedTokens > 0);
    assert.equal(snap.billedTokens, snap.trainedTokens);
  });

  it('tells the RFT billing-cap pause, a preemption and a requested pause apart', async () => {
    const grader = { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.reference_answer}}', operation: 'eq' } as const;
    const rft = await v1.fineTuning.jobs.create({ model: 'o4-mini', training_file: rftFile, method: { type: 'reinforcement', reinforcement: { grader, hyperparameters: { n_epochs: 6, batch_size: 1 } } } });
    await until(rft.id, ['paused'], 3600);
    const capped = await poll(rft.id);
    assert.equal(capped.job.pausedBy, 'billingLimit');

    const dated = t.azure.openai(SWC);
    const dev = await dated.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: chatFile, hyperparameters: { n_epochs: 3, batch_size: 1 }, trainingType: 'developerTier' } as Parameters<typeof dated.fineTuning.jobs.create>[0]);
    await until(dev.id, ['running']);
    t.emu.control.advanceClock(3600);
    t.emu.control.preemptJob(dev.id, { resumeAfterSeconds: 600 });
    assert.equal((await poll(dev.id)).job.pausedBy, 'preemption');
    t.emu.control.advanceClock(600 + 180 + 3600);
    const resumed = await poll(dev.id);
    assert.equal(resumed.job.status, 'running');
    assert.equal(resumed.job.pausedBy, null);

    await runActivity(() => jobs.pauseFineTuningJob({ profile: SWC, jobId: dev.id }));
    t.emu.control.advanceClock(300);
    const paused = await poll(dev.id);
    assert.equal(paused.job.status, 'paused');
    assert.equal(paused.job.pausedBy, 'user');
  });

  it('reads the documented wording without the emulator\'s code, and nothing from unrelated errors', () => {
    assert.deepEqual(notDeployableFrom({ code: null, message: 'This model is unable to be deployed. Model evaluation identified that this fine tuned model scores above acceptable thresholds for [Violence, Self Harm]. Please review your training data set and resubmit the job.', param: null })?.categories, ['Violence', 'Self Harm']);
    assert.equal(notDeployableFrom({ code: 'invalidTrainingFile', message: 'The provided training data failed RAI checks for harm types: [hate_fairness].', param: null }), null);
    assert.equal(pauseCauseFrom([{ message: 'Step 3: training loss=0.5' }]), 'unknown');
    assert.equal(pauseCauseFrom([{ message: 'Job paused at step 4; a deployable checkpoint was created.' }, { message: 'Job preempted at step 2' }]), 'user');
  });

  it('says what a run does about a job Azure holds: wait for Azure, wait for a resume, or stop by the budget', () => {
    assert.equal(azureHold({ status: 'paused', pausedBy: 'preemption' }, {})?.action, 'wait_for_azure');
    assert.equal(azureHold({ status: 'paused', pausedBy: 'billingLimit' }, {})?.action, 'wait_for_resume');
    assert.equal(azureHold({ status: 'paused', pausedBy: 'billingLimit' }, { maxTrainingUsd: 8000 })?.action, 'wait_for_resume');
    const stop = azureHold({ status: 'paused', pausedBy: 'billingLimit' }, { maxTrainingUsd: 5000 });
    assert.equal(stop?.action, 'stop');
    assert.match(stop?.explanation ?? '', /budget\.maxTrainingUsd \$5000\.00/);
    assert.equal(azureHold({ status: 'paused', pausedBy: 'user' }, {}), null, 'a requested pause is the user\'s, not Azure\'s');
    assert.equal(azureHold({ status: 'running', pausedBy: null }, {}), null);
  });
});
