/**
 * Conformance test A on the pipeline itself: the end-to-end scenarios run as `fineTunePipeline` workflows on the real
 * Temporal dev server and the strict emulator, and every HTTP exchange ftpipe's own code makes is validated against the
 * vendored spec of its family (validate.ts). Four runs cover the scenarios:
 * - the demo (preflight, validate, upload, create the job on v1, train, collect, clean up);
 * - cancel, on North Central US (it also gives that account the fine-tuning job a checkpoint copy needs there);
 * - RFT on o4-mini from an imported training file (files/import on the dated family), paused and resumed on v1;
 * - DPO on the Global tier (dated family) whose create response is lost, evaluated against a deployed base model
 *   (chat completions), deployed with a smoke test, copied to North Central US and deployed there under the same name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { Exchange } from '../../src/emulator';
import type { PipelineStatus } from '../../src/pipeline/types';
import { ROOT } from '../helpers/cli';
import { holdClockOnceTraining } from '../helpers/emulator-state';
import { SAMPLE_TRAINING, SAMPLE_VALIDATION, uniqueTrainingFile, usePipelineStack } from '../helpers/pipeline';
import { validateExchanges } from './validate';
import { pauseUpdate, resumeUpdate, statusQuery } from '../../workflows/messages';

const EVAL_SET = join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl');
/** Emulated ARM waits made short, so deployments finish in real milliseconds at the test clock. */
const FAST_DEPLOYMENTS = { deploymentCreateSeconds: 30, deploymentDeleteSeconds: 10, deploymentNotReadySeconds: 20, copySeconds: 60 };

type ChatExample = { messages: { role: string; content: string }[] };
const samples = (path: string): ChatExample[] => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ChatExample);

/** The sample conversations as `method`'s format, written to a file of their own (unique content: a fresh upload). */
function dataset(method: 'dpo' | 'reinforcement', source: string, tag: string): string {
  const lines = samples(source).map((example, i) => {
    const prompt = example.messages.slice(0, -1);
    const answer = example.messages.at(-1)!.content;
    if (method === 'dpo') return { input: { messages: prompt }, preferred_output: [{ role: 'assistant', content: answer }], non_preferred_output: [{ role: 'assistant', content: `Not sure (${tag} ${i}).` }] };
    return { messages: prompt, answer };
  });
  const dir = mkdtempSync(join(tmpdir(), `ftpipe-${method}-`));
  const path = join(dir, `${tag}.jsonl`);
  writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return path;
}

describe('conformance A: the pipeline\'s end-to-end scenarios, every exchange against its family spec', () => {
  const env = usePipelineStack({ timings: FAST_DEPLOYMENTS });
  const exchanges: Exchange[] = [];
  before(() => {
    env.emulator.control.tapExchanges((e) => exchanges.push(e));
  });

  /** Runs `scenario` and validates the exchanges it caused; returns them. */
  async function conforming(scenario: () => Promise<void>): Promise<Exchange[]> {
    const from = exchanges.length;
    await scenario();
    const seen = exchanges.slice(from);
    const violations = validateExchanges(seen);
    assert.deepEqual(violations, [], `${violations.length} spec violations:\n${violations.join('\n')}`);
    return seen;
  }
  const routesOf = (seen: Exchange[]): Set<string> => new Set(seen.map((e) => `${e.plane === 'arm' ? 'arm' : e.family}:${e.route}`));
  const jobsWithTrainingFile = (fileId: string): { id: string; status: string }[] =>
    (env.emulator.control.dumpState().jobs as { id: string; status: string; training_file: string }[]).filter((j) => j.training_file === fileId);
  const uploaded = (status: PipelineStatus, role: string): string => status.files.find((f) => f.role === role)!.fileId;

  it('the demo run', async () => {
    const seen = await conforming(async () => {
      const taskQueue = env.temporal.taskQueue();
      const worker = await env.createWorker(taskQueue);
      const result = await worker.runUntil(async () => (await env.start(taskQueue, env.input({ suffix: 'conformance' }))).result());
      assert.equal(result.outcome, 'succeeded');
    });
    const routes = routesOf(seen);
    for (const route of ['v1:files.upload', 'v1:files.get', 'v1:jobs.create', 'v1:jobs.get', 'v1:jobs.events', 'v1:jobs.checkpoints', 'v1:files.content']) assert.ok(routes.has(route), `the demo used ${route}`);
  });

  it('a run cancelled while its job trains', async () => {
    const seen = await conforming(async () => {
      const taskQueue = env.temporal.taskQueue();
      const worker = await env.createWorker(taskQueue);
      await worker.runUntil(async () => {
        const handle = await env.start(taskQueue, env.input({ profile: 'ftpipe-ncus', training: { path: uniqueTrainingFile() }, validation: undefined }));
        // The clock stands still from the job's first step (read from the emulator's own state, in the same tick) until the
        // cancel has ended the run, so that the job still trains when the cancel reaches Azure however loaded the machine
        // is (at load 50, and again at load 29 when the clock stopped once the run's status said running, it had finished first).
        const scale = env.emulator.control.clockScale();
        await holdClockOnceTraining(env.emulator, handle.workflowId, 120_000);
        const running = await env.waitForStatus(handle, (s) => s.job?.status === 'running', 60_000);
        await handle.cancel();
        await assert.rejects(handle.result(), (err: Error) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
        env.emulator.control.setClockScale(scale);
        assert.deepEqual(jobsWithTrainingFile(uploaded(running, 'training')).map((j) => j.status), ['cancelled']);
      });
    });
    const routes = routesOf(seen);
    for (const route of ['v1:jobs.cancel', 'v1:files.delete']) assert.ok(routes.has(route), `the cancelled run used ${route}`);
  });

  it('RFT from an imported training file, paused and resumed', async () => {
    const training = env.emulator.control.putBlob(`rft-train-${Date.now()}.jsonl`, readFileSync(dataset('reinforcement', SAMPLE_TRAINING, 'rft-train')));
    const grader = { type: 'string_check' as const, name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' as const };
    const seen = await conforming(async () => {
      const taskQueue = env.temporal.taskQueue();
      const worker = await env.createWorker(taskQueue);
      await worker.runUntil(async () => {
        const handle = await env.start(taskQueue, env.input({
          baseModel: 'o4-mini', method: { type: 'reinforcement', grader }, hyperparameters: { nEpochs: 2 },
          training: { url: training }, validation: { path: dataset('reinforcement', SAMPLE_VALIDATION, 'rft-valid') },
        }));
        await env.waitForStatus(handle, (s) => s.job !== null, 60_000);
        // A slow clock until the job has trained a step, then a stopped one (from the emulator's own state, in the same tick:
        // stopped once the run's status showed the step, the job had finished first at load 29), so that it still runs when
        // the pause reaches Azure however loaded the machine is; fast again once asked.
        env.emulator.control.setClockScale(10);
        try {
          await holdClockOnceTraining(env.emulator, handle.workflowId, 120_000);
          await env.waitForStatus(handle, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1, 120_000);
          await handle.executeUpdate(pauseUpdate, { args: [{ by: 'conformance' }] });
        } finally {
          env.emulator.control.setClockScale(1000);
        }
        await env.waitForStatus(handle, (s) => s.job?.status === 'paused', 60_000);
        await handle.executeUpdate(resumeUpdate, { args: [{}] });
        const result = await handle.result();
        assert.equal(result.outcome, 'succeeded');
      });
    });
    const routes = routesOf(seen);
    for (const route of ['dated:files.import', 'v1:files.upload', 'v1:jobs.create', 'v1:jobs.pause', 'v1:jobs.resume']) assert.ok(routes.has(route), `the RFT run used ${route}`);
  });

  it('DPO on the Global tier (dated family) with a lost create response: one job; evaluated, deployed, copied and deployed in the destination', async () => {
    const ncus = env.emulator.account('ftpipe-ncus');
    env.emulator.control.addFault({ route: 'jobs.create', action: 'lostResponse', status: 500, times: 1 });
    let status: PipelineStatus | undefined;
    const seen = await conforming(async () => {
      const taskQueue = env.temporal.taskQueue();
      const worker = await env.createWorker(taskQueue);
      await worker.runUntil(async () => {
        const handle = await env.start(taskQueue, env.input({
          method: { type: 'dpo' }, trainingType: 'Global', hyperparameters: { beta: 0.2 },
          training: { path: dataset('dpo', SAMPLE_TRAINING, 'dpo-train') }, validation: { path: dataset('dpo', SAMPLE_VALIDATION, 'dpo-valid') },
          evaluation: { evalSet: { path: EVAL_SET }, baseline: { model: 'gpt-4.1-mini' }, minLift: -1 },
          deployment: { name: 'conformance-dpo', type: 'GlobalStandard' },
          copies: [{ destinationResourceId: ncus.armId, region: 'northcentralus', deploy: { profile: 'ftpipe-ncus', name: 'conformance-dpo-ncus', type: 'GlobalStandard' } }],
        }));
        const result = await handle.result();
        assert.equal(result.outcome, 'succeeded');
        assert.deepEqual(result.copies.map((c) => [c.status, c.deployment?.name]), [['Completed', 'conformance-dpo-ncus']]);
        status = await handle.query(statusQuery);
      });
    });
    assert.deepEqual(env.emulator.control.faults(), [], 'the lost response fired');
    const creates = seen.filter((e) => e.route === 'jobs.create');
    assert.deepEqual(creates.map((e) => [e.family, e.status]), [['dated', 500]], 'one create, on the dated family, whose answer was lost');
    assert.equal(jobsWithTrainingFile(uploaded(status!, 'training')).length, 1, 'exactly one Azure job for the run');
    const routes = routesOf(seen);
    for (const route of ['dated:jobs.create', 'v1:jobs.list', 'dated:chat.completions', 'v1:checkpoints.copy', 'v1:checkpoints.copyStatus', 'arm:arm.deployments.put', 'arm:arm.deployments.get', 'arm:arm.deployments.list', 'arm:arm.deployments.delete']) {
      assert.ok(routes.has(route), `the DPO run used ${route}`);
    }
    // ftpipe follows a deployment by its own provisioningState (issue 13), never the operation URL.
    assert.ok(!routes.has('arm:arm.operationResults.get'), 'no ARM operation-status read');
    // Chat bodies were validated, not skipped: the smoke test and the evaluation both asked.
    assert.ok(seen.filter((e) => e.route === 'chat.completions' && e.status === 200).length >= 2);
  });
});
