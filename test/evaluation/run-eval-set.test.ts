/** The evaluation activities against the emulator: real clients, a trained job, checkpoints deployed through ARM. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Deployment } from '@azure/arm-cognitiveservices';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { azureAccess } from '../../activities/azure-access';
import type { ActivityDeps } from '../../activities/deps';
import { evaluationActivities, type AnalyzeJobMetricsInput, type RunEvalSetInput } from '../../activities/evaluation';
import type { CheckpointSummary, EvalScore, MetricsAnalysis } from '../../src/pipeline/types';
import { NOT_DONE_YET } from '../../activities/waiting';
import { activityEnvironment } from '../activities/helpers';
import { advanceUntil, chatJsonl, startTestEmulator, uploadProcessed, type TestEmulator } from '../emulator/helpers';

const SWC = 'ftpipe-swc';
const EVAL_ITEMS = 60;

describe('evaluation activities on the emulator', () => {
  let t: TestEmulator;
  let activities: ReturnType<typeof evaluationActivities>;
  let profile: string;
  let jobId: string;
  let resultFileId: string;
  let checkpoints: CheckpointSummary[];
  let evalSetPath: string;
  const deployed = new Map<number, string>();

  /** A fine-tune or checkpoint deploys with version "1"; a base model with its own version. */
  async function deploy(name: string, model: string, version = '1'): Promise<void> {
    const p = t.profile(SWC);
    const body: Deployment = { sku: { name: 'GlobalStandard', capacity: 1 }, properties: { model: { format: 'OpenAI', name: model, version } } };
    const poller = await t.arm(SWC).deployments.beginCreateOrUpdate(p.resourceGroup, p.account, name, body, { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(600);
    await poller.pollUntilDone();
    t.emu.control.advanceClock(120); // past DeploymentNotReady
  }

  async function evaluate(overrides: Partial<RunEvalSetInput> & { deployment: string }, heartbeatDetails?: unknown): Promise<{ score: EvalScore; heartbeats: unknown[] }> {
    const env = new MockActivityEnvironment(heartbeatDetails === undefined ? {} : { heartbeatDetails });
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    const input: RunEvalSetInput = { profile, candidate: overrides.deployment, kind: 'candidate', evalSetPath, concurrency: 4, ...overrides };
    const running: Promise<EvalScore> = env.run((i: RunEvalSetInput) => activities.runEvalSet(i), input);
    const score = await running;
    return { score, heartbeats };
  }

  const analyze = (): Promise<MetricsAnalysis> =>
    new MockActivityEnvironment().run((i: AnalyzeJobMetricsInput) => activities.analyzeJobMetrics(i), { profile, jobId, resultFileId, checkpoints });

  before(async () => {
    t = await startTestEmulator();
    profile = t.profile(SWC).name;
    const deps = { config: { profiles: [t.profile(SWC)], dataRoots: [tmpdir()] }, env: t.env } as unknown as ActivityDeps;
    activities = evaluationActivities(deps, azureAccess(deps));
    const client = t.openai(SWC);
    const training = await uploadProcessed(t, SWC, chatJsonl(20, 'train'));
    const validation = await uploadProcessed(t, SWC, chatJsonl(EVAL_ITEMS, 'valid'), 'valid.jsonl');
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: training, validation_file: validation, seed: 11, hyperparameters: { n_epochs: 5, batch_size: 4 } });
    jobId = job.id;
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
    resultFileId = (await client.fineTuning.jobs.retrieve(job.id)).result_files[0]!;
    checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id)).data.map((c) => ({
      id: c.id,
      model: c.fine_tuned_model_checkpoint,
      step: c.step_number,
      metrics: { step: c.step_number, trainLoss: c.metrics.train_loss ?? null, trainMeanTokenAccuracy: null, validLoss: null, validMeanTokenAccuracy: null, fullValidLoss: null, fullValidMeanTokenAccuracy: null },
    })).sort((a, b) => a.step - b.step);
    // The eval set: the validation prompts with their references (the emulator recognises them by the last user message).
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-eval-'));
    evalSetPath = join(dir, 'eval.jsonl');
    writeFileSync(evalSetPath, Array.from({ length: EVAL_ITEMS }, (_, i) => JSON.stringify({ messages: [{ role: 'system', content: 'You answer briefly.' }, { role: 'user', content: `valid question ${i}` }], reference: `valid answer ${i}` })).join('\n'));
    for (const c of checkpoints) {
      deployed.set(c.step, `eval-step-${c.step}`);
      await deploy(`eval-step-${c.step}`, c.id);
    }
    await deploy('baseline', 'gpt-4.1-mini', '2025-04-14');
    await deploy('reasoner', 'o4-mini', '2025-04-16');
  });
  after(() => t.emu.stop());

  it('analyzeJobMetrics downloads results.csv, fills the checkpoints\' validation loss from it and picks the lowest', async () => {
    const analysis = await analyze();
    assert.equal(checkpoints.length, 3);
    const losses = checkpoints.map((c) => ({ step: c.step, loss: analysis.curve.find((r) => r.step === c.step)!.fullValidLoss! }));
    const lowest = losses.reduce((a, b) => (b.loss < a.loss ? b : a));
    assert.equal(analysis.chosen.step, lowest.step);
    assert.equal(analysis.chosen.metrics.fullValidLoss, lowest.loss);
    assert.notEqual(analysis.chosen.step, checkpoints[checkpoints.length - 1]!.step, `seed 11 overfits: ${JSON.stringify(losses)}`);
    assert.equal(analysis.overfitting.detected, true, analysis.overfitting.detail);
    assert.ok(analysis.curve.length > 0 && analysis.curve.length <= 200);
  });

  it('scores a better checkpoint higher than a worse one, and the base model at 0; only scores come back', async () => {
    const analysis = await analyze();
    const best = analysis.chosen.step;
    const final = checkpoints[checkpoints.length - 1]!.step;
    const graders = [{ type: 'exact_match' as const }, { type: 'contains' as const }];
    const bestRun = await evaluate({ deployment: deployed.get(best)!, candidate: analysis.chosen.model, graders });
    const finalRun = await evaluate({ deployment: deployed.get(final)!, graders });
    const baseline = await evaluate({ deployment: 'baseline', kind: 'baseline', graders });
    assert.ok(bestRun.score.score > finalRun.score.score, `best ${bestRun.score.score} > final ${finalRun.score.score}`);
    assert.ok(bestRun.score.score < 1, 'no checkpoint is perfect');
    assert.equal(baseline.score.score, 0);
    assert.deepEqual(Object.keys(bestRun.score.perGrader), ['exact_match', 'contains']);
    assert.deepEqual(bestRun.score, { candidate: analysis.chosen.model, kind: 'candidate', items: EVAL_ITEMS, score: bestRun.score.score, perGrader: bestRun.score.perGrader });
    assert.doesNotMatch(JSON.stringify([bestRun.score, finalRun.score, baseline.score]), /valid (question|answer)/, 'no item text in the result');
    assert.deepEqual(bestRun.heartbeats[bestRun.heartbeats.length - 1], { done: EVAL_ITEMS, total: EVAL_ITEMS, prefix: EVAL_ITEMS, prefixSums: { perGrader: { exact_match: bestRun.score.perGrader.exact_match! * EVAL_ITEMS, contains: bestRun.score.perGrader.contains! * EVAL_ITEMS }, items: bestRun.score.score * EVAL_ITEMS, unscoredByJudge: 0, judgeCalls: 0 } });
    assert.equal(t.emu.control.requests({ route: 'chat.completions' }).filter((r) => r.path.includes(deployed.get(best)!)).length, EVAL_ITEMS);
  });

  it('with firstAnswerIsSmokeTest, a deployment not serving yet costs one call per attempt and Temporal waits; then the set is scored', async () => {
    const deployment = 'eval-not-ready';
    const p = t.profile(SWC);
    const body: Deployment = { sku: { name: 'GlobalStandard', capacity: 1 }, properties: { model: { format: 'OpenAI', name: checkpoints[0]!.id, version: '1' } } };
    const poller = await t.arm(SWC).deployments.beginCreateOrUpdate(p.resourceGroup, p.account, deployment, body, { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(600);
    await poller.pollUntilDone(); // Succeeded in ARM, and inside Azure's DeploymentNotReady window
    const input: RunEvalSetInput = { profile, deployment, candidate: checkpoints[0]!.model, kind: 'candidate', evalSetPath, concurrency: 4, firstAnswerIsSmokeTest: { intervalSeconds: 7 } };
    const answers = (status?: number): number => t.emu.control.requests({ route: 'chat.completions' }).filter((r) => r.path.includes(`/${deployment}/`) && (status === undefined || r.status === status)).length;
    const scheduledTimestampMs = Date.now();
    for (const attempt of [1, 2]) {
      await assert.rejects(
        activityEnvironment({ attempt, scheduledTimestampMs }).run((i: RunEvalSetInput) => activities.runEvalSet(i), input),
        (err: unknown) => err instanceof ApplicationFailure && err.type === NOT_DONE_YET && err.nextRetryDelay === 7000 && /^smoke test of deployment eval-not-ready: answered 404 DeploymentNotReady: .*; checking again in 7 s$/.test(err.message),
      );
      assert.equal(answers(), attempt, 'one call per attempt, however many items and lanes');
    }
    t.emu.control.advanceClock(120);
    const score: EvalScore = await activityEnvironment({ attempt: 3, scheduledTimestampMs }).run((i: RunEvalSetInput) => activities.runEvalSet(i), input);
    assert.equal(score.items, EVAL_ITEMS);
    assert.equal(answers(200), EVAL_ITEMS, 'each item answered once: the first answer was the smoke test');
    assert.deepEqual(score, (await evaluate({ deployment: deployed.get(checkpoints[0]!.step)!, candidate: checkpoints[0]!.model })).score, 'the same score as on a smoke-tested deployment');
  });

  it('a retried attempt resumes after the items its predecessor heartbeated as scored', async () => {
    const deployment = deployed.get(checkpoints[1]!.step)!;
    const first = await evaluate({ deployment, concurrency: 2 });
    const midway = first.heartbeats.find((h) => (h as { prefix: number }).prefix === 25);
    assert.ok(midway, 'a heartbeat with 25 items scored');
    t.emu.control.clearRequests();
    const retried = await evaluate({ deployment, concurrency: 2 }, midway);
    assert.deepEqual(retried.score, first.score);
    assert.equal(t.emu.control.requests({ route: 'chat.completions' }).length, EVAL_ITEMS - 25);
  });

  it('rides out 429s with Retry-After and gets the same score', async () => {
    const deployment = deployed.get(checkpoints[0]!.step)!;
    const clean = await evaluate({ deployment });
    t.emu.control.clearRequests();
    t.emu.control.addFault({ route: 'chat.completions', action: 'error', status: 429, rate: 0.4, retryAfterMs: 20 });
    try {
      const throttled = await evaluate({ deployment, concurrency: 8, backoff: { attempts: 8, initialMs: 5, maxMs: 200 } });
      assert.equal(throttled.score.score, clean.score.score);
      const answered = t.emu.control.requests({ route: 'chat.completions' });
      assert.ok(answered.filter((r) => r.status === 429).length > 5, 'throttling happened');
      assert.equal(answered.filter((r) => r.status === 200).length, EVAL_ITEMS);
    } finally {
      t.emu.control.clearFaults();
    }
  });

  it('asks a reasoning model (o4-mini) without temperature, which it refuses; the served model is read from ARM when not given', async () => {
    t.emu.control.clearRequests();
    const { score } = await evaluate({ deployment: 'reasoner', kind: 'baseline' });
    assert.equal(score.items, EVAL_ITEMS);
    assert.equal(t.emu.control.requests({ route: 'arm.deployments.get' }).length, 1, 'one ARM read for the served model');
    const viaName = await evaluate({ deployment: 'reasoner', kind: 'baseline', servedModel: 'o4-mini-2025-04-16' });
    assert.equal(viaName.score.items, EVAL_ITEMS);
  });

  it('fails without retry on a bad eval set (line numbers), bad graders and an unknown deployment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-eval-bad-'));
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"messages":[{"role":"user","content":"q"}],"reference":"a"}\n{"messages":[{"role":"user"}]}\nnope\n');
    const nonRetryable = (pattern: RegExp) => (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, pattern);
      return true;
    };
    const deployment = deployed.get(checkpoints[0]!.step)!;
    await assert.rejects(evaluate({ deployment, evalSetPath: bad }), nonRetryable(/bad\.jsonl: line 2: messages\[0\]\.content must be a string; line 3: not valid JSON/));
    await assert.rejects(evaluate({ deployment, evalSetPath: join(dir, 'missing.jsonl') }), nonRetryable(/missing\.jsonl: no such file/));
    await assert.rejects(evaluate({ deployment, graders: [{ type: 'regex', pattern: '[' }] }), nonRetryable(/graders\.0\.pattern: not a valid regular expression/));
    await assert.rejects(evaluate({ deployment, graders: [{ type: 'json_schema', schema: { type: 'no-such-type' } }] }), nonRetryable(/invalid graders: graders\.0\.schema: not a valid JSON Schema/));
    await assert.rejects(evaluate({ deployment: 'no-such-deployment', servedModel: 'gpt-4.1-mini' }), nonRetryable(/HTTP 404 DeploymentNotFound/));
    // Without the served model, it is read from ARM first, which knows no such deployment either.
    await assert.rejects(evaluate({ deployment: 'no-such-deployment' }), nonRetryable(/get deployment no-such-deployment: .*HTTP 404/));
    await assert.rejects(evaluate({ deployment, graders: [{ type: 'model', deployment: 'no-such-judge', rubric: 'r' }] }), nonRetryable(/deployment no-such-judge: Azure answered HTTP 404/));
  });

  it('asks the judge deployment of a model grader, and fails when the judge never answers with a score', async () => {
    const deployment = deployed.get(checkpoints[0]!.step)!;
    t.emu.control.clearRequests();
    // A base model is a useless judge on the emulator: it answers with a generic sentence, never "SCORE: n".
    await assert.rejects(
      evaluate({ deployment, graders: [{ type: 'exact_match' }, { type: 'model', deployment: 'baseline', rubric: 'Correct and brief.' }] }),
      (err: unknown) => err instanceof ApplicationFailure && err.type === 'JudgeUnusable' && /no judge answer held a score \(60 asked\)/.test(err.message),
    );
    const calls = t.emu.control.requests({ route: 'chat.completions' });
    assert.equal(calls.filter((r) => r.path.includes('/deployments/baseline/')).length, EVAL_ITEMS);
    assert.equal(calls.filter((r) => r.path.includes(`/deployments/${deployment}/`)).length, EVAL_ITEMS);
  });
});
