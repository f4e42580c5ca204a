/**
 * The job activities against the emulator: which API family a create goes to, the body shape per family, and
 * exactly-once creation on documented behaviour only (metadata on v1; seed, model, files, suffix and creation time on
 * the dated family, which documents no metadata) after a lost response and after a crash following the create.
 */
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { after, before, describe, it } from 'node:test';
import { jobActivities, totalSteps } from '../../activities/jobs';
import type { JobPlan } from '../../src/azure/requests';
import { failure, runActivity, startActivityTestEnv, trainedJob, type ActivityTestEnv } from './helpers';

const SWC = 'ftpipe-swc';

interface EmulatedJob {
  id: string;
  account: string;
  seed: number;
  trainingFile: string;
  trainingType: string;
  metadata: Record<string, string> | null;
  hyperparameters: { n_epochs: number; batch_size: number };
}

function chatJsonl(count: number, prefix: string): string {
  return `${Array.from({ length: count }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `${prefix} q${i}` }, { role: 'assistant', content: `${prefix} a${i}` }] })).join('\n')}\n`;
}

/** A retried attempt of the activity (Temporal's attempt counter is what tells the activity a create may have happened). */
function attempt(n: number): MockActivityEnvironment {
  return new MockActivityEnvironment({ attempt: n }, { logger: new DefaultLogger('ERROR') });
}

describe('job activities (emulator)', () => {
  let t: ActivityTestEnv;
  let jobs: ReturnType<typeof jobActivities>;
  let trainingFile: string;
  let run = 0;

  const emulatedJobs = (): EmulatedJob[] => (t.emu.control.dumpState().jobs as unknown as EmulatedJob[]).filter((j) => j.account === SWC);
  const plan = (overrides: Partial<JobPlan> = {}): JobPlan => {
    run++;
    return {
      baseModel: 'gpt-4.1-mini', method: { type: 'supervised' }, hyperparameters: { nEpochs: 2, batchSize: 2 }, seed: 1000 + run, trainingType: 'Standard',
      metadata: {}, files: { training: trainingFile }, identity: { workflowId: `wf-${run}`, firstRunId: `run-${run}`, runName: `jobs-${run}` },
      ...overrides,
    };
  };
  const nowSeconds = (): number => Math.floor(Date.now() / 1000);

  before(async () => {
    t = await startActivityTestEnv();
    jobs = jobActivities(t.azure);
    const client = t.azure.openaiV1(SWC);
    const file = await client.files.create({ file: new File([chatJsonl(12, 'jobs')], 'jobs.jsonl', { type: 'application/jsonl' }), purpose: 'fine-tune' });
    for (let i = 0; i < 50 && (await client.files.retrieve(file.id)).status !== 'processed'; i++) t.emu.control.advanceClock(60);
    trainingFile = file.id;
  });
  after(() => t.emu.stop());

  it('creates a Standard job through v1, hyperparameters inside method.supervised, with the run metadata; a first attempt lists nothing', async () => {
    t.emu.control.clearRequests();
    const p = plan();
    const job = await runActivity(() => jobs.createFineTuningJob({ profile: SWC, plan: p, notBefore: nowSeconds() }));
    const [create, ...others] = t.emu.control.requests({ route: 'jobs.create' });
    assert.equal(others.length, 0);
    assert.equal(create?.family, 'v1');
    assert.equal(t.emu.control.requests({ route: 'jobs.list' }).length, 0, 'no duplicate check before a first attempt');
    const emulated = emulatedJobs().find((j) => j.id === job.id)!;
    assert.equal(emulated.hyperparameters.n_epochs, 2);
    assert.equal(emulated.hyperparameters.batch_size, 2);
    assert.equal(emulated.metadata?.ftpipe_first_run_id, p.identity.firstRunId);
    assert.equal(job.seed, p.seed);
  });

  it('creates a Global job through the dated 2025-04-01-preview API, hyperparameters at the top level, trainingType as Azure spells it', async () => {
    t.emu.control.clearRequests();
    const job = await runActivity(() => jobs.createFineTuningJob({ profile: SWC, plan: plan({ trainingType: 'Global', hyperparameters: { nEpochs: 4 } }), notBefore: nowSeconds() }));
    const [create] = t.emu.control.requests({ route: 'jobs.create' });
    assert.equal(create?.family, 'dated');
    const emulated = emulatedJobs().find((j) => j.id === job.id)!;
    assert.equal(emulated.hyperparameters.n_epochs, 4, 'the dated family reads hyperparameters at the top level');
    assert.equal(job.trainingType, 'Global', 'read from Azure\'s own spelling (globalStandard)');
  });

  for (const trainingType of ['Standard', 'Global'] as const) {
    const family = trainingType === 'Standard' ? 'v1' : 'dated';
    it(`${family}: a lost create response, then the retried attempt, leaves exactly one job`, async () => {
      const p = plan({ trainingType });
      const notBefore = nowSeconds();
      // A job of another run on the same files (another seed) must not be taken for this run's.
      await runActivity(() => jobs.createFineTuningJob({ profile: SWC, plan: { ...p, seed: p.seed + 500_000, identity: { ...p.identity, firstRunId: 'other', workflowId: 'other' } }, notBefore }));
      t.emu.control.addFault({ route: 'jobs.create', action: 'lostResponse', status: 500, times: 1 });
      await assert.rejects(runActivity(() => jobs.createFineTuningJob({ profile: SWC, plan: p, notBefore })));
      const retried = await runActivity(() => jobs.createFineTuningJob({ profile: SWC, plan: p, notBefore }), [], attempt(2));
      const mine = emulatedJobs().filter((j) => j.seed === p.seed);
      assert.equal(mine.length, 1, 'exactly one job for the run');
      assert.equal(retried.id, mine[0]!.id);
    });

    it(`${family}: a crash after the create (the activity never reported), then the retried attempt, leaves exactly one job`, async () => {
      const p = plan({ trainingType, suffix: 'crash' });
      const notBefore = nowSeconds();
      const first = await runActivity(() => jobs.createFineTuningJob({ profile: SWC, plan: p, notBefore }));
      const second = await runActivity(() => jobs.createFineTuningJob({ profile: SWC, plan: p, notBefore }), [], attempt(3));
      assert.equal(second.id, first.id);
      assert.equal(emulatedJobs().filter((j) => j.seed === p.seed).length, 1);
    });
  }

  it('creates reinforcement fine-tuning on the Developer tier through the dated 2025-11-15-preview API (method.reinforcement whole, trainingType), and reads its step total from the method', async () => {
    const client = t.azure.openaiV1(SWC);
    const rftLines = Array.from({ length: 12 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `rft q${i}` }], answer: `a${i}` })).join('\n');
    const [training, validation] = await Promise.all(['rft-train', 'rft-valid'].map((name) => client.files.create({ file: new File([`${rftLines}\n`], `${name}.jsonl`, { type: 'application/jsonl' }), purpose: 'fine-tune' })));
    for (let i = 0; i < 50 && (await Promise.all([training!, validation!].map((f) => client.files.retrieve(f.id)))).some((f) => f.status !== 'processed'); i++) t.emu.control.advanceClock(60);
    t.emu.control.clearRequests();
    const grader = { type: 'string_check' as const, name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' as const };
    const rft = plan({ baseModel: 'o4-mini', method: { type: 'reinforcement', grader }, trainingType: 'Developer', hyperparameters: { nEpochs: 2, batchSize: 3 }, files: { training: training!.id, validation: validation!.id } });
    const job = await runActivity(() => jobs.createFineTuningJob({ profile: SWC, plan: rft, notBefore: nowSeconds() }));
    const [create, ...others] = t.emu.control.requests({ route: 'jobs.create' });
    assert.deepEqual([create?.family, create?.status, others.length], ['dated', 201, 0]);
    const emulated = t.emu.control.dumpState().jobs.find((j) => j.id === job.id) as unknown as EmulatedJob & { method: { type: string; reinforcement?: { grader?: unknown } } };
    assert.deepEqual([emulated.method.type, emulated.trainingType, emulated.hyperparameters.n_epochs, emulated.hyperparameters.batch_size], ['reinforcement', 'developerTier', 2, 3]);
    assert.deepEqual(emulated.method.reinforcement?.grader, grader, 'the grader reached Azure whole');
    // The create's answer (2025-11-15-preview) has no top-level hyperparameters: epochs and batch size come from the method's.
    assert.deepEqual([job.trainingType, job.epochs, job.batchSize, totalSteps(job, 12)], ['Developer', 2, 3, 8]);
  });

  it('refuses promptLossWeight on reinforcement fine-tuning before any Azure call, naming the field', async () => {
    t.emu.control.clearRequests();
    const rft = plan({ baseModel: 'o4-mini', method: { type: 'reinforcement', grader: { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' } }, trainingType: 'Global', hyperparameters: { promptLossWeight: 0.1 } });
    await assert.rejects(runActivity(() => jobs.createFineTuningJob({ profile: SWC, plan: rft, notBefore: nowSeconds() })), failure('JobPlanNotSupported', true, /^hyperparameters\.promptLossWeight: /));
    assert.equal(t.emu.control.requests().length, 0);
  });

  it('derives total steps from Azure\'s settled epochs and batch size, and knows none while they are -1 (auto)', () => {
    assert.equal(totalSteps({ epochs: 3, batchSize: 2 }, 11), 18);
    assert.equal(totalSteps({ epochs: null, batchSize: null }, 11), null);
    assert.equal(totalSteps({ epochs: 3, batchSize: 2 }, null), null);
  });

  it('polls with one call when the job\'s status has not moved, and lists every event since the last one seen, page by page', async () => {
    // A job of more steps than one page of events holds (one metrics event a step).
    const client = t.azure.openai(SWC);
    const file = await client.files.create({ file: new File([chatJsonl(40, 'paged')], 'paged.jsonl', { type: 'application/jsonl' }), purpose: 'fine-tune' });
    for (let i = 0; i < 50 && (await client.files.retrieve(file.id)).status !== 'processed'; i++) t.emu.control.advanceClock(60);
    const { id: jobId } = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: file.id, seed: 3, hyperparameters: { n_epochs: 3, batch_size: 1 }, trainingType: 'GlobalStandard' } as never);
    for (let i = 0; i < 400 && (await client.fineTuning.jobs.retrieve(jobId)).status !== 'succeeded'; i++) t.emu.control.advanceClock(600);
    const oldestFirst: string[] = [];
    for await (const event of t.azure.openaiV1(SWC).fineTuning.jobs.listEvents(jobId, { limit: 100 })) oldestFirst.unshift(event.id);
    assert.ok(oldestFirst.length > 50, `more events than one page (${oldestFirst.length})`);

    t.emu.control.clearRequests();
    const unchanged = await runActivity(() => jobs.pollFineTuningJob({ profile: SWC, jobId, afterEventId: oldestFirst[0]!, events: 'ifStatusChanged', knownStatus: 'succeeded' }));
    assert.deepEqual(t.emu.control.requests().map((r) => r.route), ['jobs.get'], 'the job only');
    assert.deepEqual([unchanged.eventsListed, unchanged.newEvents, unchanged.latestMetrics, unchanged.job.status], [false, [], null, 'succeeded']);

    t.emu.control.clearRequests();
    const moved = await runActivity(() => jobs.pollFineTuningJob({ profile: SWC, jobId, afterEventId: oldestFirst[0]!, events: 'ifStatusChanged', knownStatus: 'running' }));
    assert.equal(moved.eventsListed, true);
    assert.deepEqual(moved.newEvents.map((e) => e.id), oldestFirst.slice(1), 'every event after the last one seen, oldest first, none skipped');
    assert.equal(t.emu.control.requests({ route: 'jobs.events' }).length, Math.ceil(oldestFirst.length / 50), 'pages of 50 back to the last event seen');
    assert.ok((moved.job.billedTokens ?? 0) > 0, 'the billed tokens read from the events');
    const rows = moved.curveRows ?? [];
    assert.ok(rows.length > 1 && rows.length <= 8 && rows.every((r, i) => i === 0 || r.step > rows[i - 1]!.step), `a few curve rows, oldest first: ${rows.map((r) => r.step).join(',')}`);
    assert.equal(rows.at(-1)?.step, moved.latestMetrics?.step, 'the newest metrics row among them');

    t.emu.control.clearRequests();
    const asked = await runActivity(() => jobs.pollFineTuningJob({ profile: SWC, jobId, afterEventId: oldestFirst.at(-1)!, events: 'always', knownStatus: 'succeeded' }));
    assert.deepEqual([asked.eventsListed, asked.newEvents.length, t.emu.control.requests().map((r) => r.route)], [true, 0, ['jobs.get', 'jobs.events']]);
  });

  it('collects a succeeded job\'s results, reading the job only when the last poll\'s snapshot is not given', async () => {
    const { jobId } = await trainedJob(t, SWC);
    t.emu.control.clearRequests();
    const read = await runActivity(() => jobs.collectJobResults({ profile: SWC, jobId }));
    assert.equal(t.emu.control.requests({ route: 'jobs.get' }).length, 1);
    assert.ok(read.checkpoints.length > 0);
    const polled = await runActivity(() => jobs.pollFineTuningJob({ profile: SWC, jobId, afterEventId: null }));
    t.emu.control.clearRequests();
    const given = await runActivity(() => jobs.collectJobResults({ profile: SWC, jobId, succeeded: polled.job }));
    assert.deepEqual(given, read);
    assert.deepEqual(t.emu.control.requests().map((r) => r.route), ['jobs.checkpoints'], 'only the checkpoints are read');
    // A snapshot that did not see the job succeed is not trusted: the job is read.
    t.emu.control.clearRequests();
    assert.deepEqual(await runActivity(() => jobs.collectJobResults({ profile: SWC, jobId, succeeded: { ...polled.job, status: 'running', fineTunedModel: null } })), read);
    assert.equal(t.emu.control.requests({ route: 'jobs.get' }).length, 1);
  });
});
