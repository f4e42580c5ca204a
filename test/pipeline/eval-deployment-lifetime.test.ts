/**
 * Developer-tier evaluation deployments live 24 hours (Azure deletes them; the emulator does on its clock): an eval
 * that outlives its deployment recreates it and goes on from the items already scored, on the dev server and emulator;
 * a third deletion fails the run as EvaluationOutlivedDeployment once its cleanup has run.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { statusQuery } from '../../workflows/messages';
import { ROOT } from '../helpers/cli';
import { liveFiles } from '../helpers/emulator-state';
import { usePipelineStack } from '../helpers/pipeline';
import { until } from '../helpers/until';

const EVAL_SET = join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl');
const EVAL_ITEMS = 10;

describe('evaluation deployment lifetime', () => {
  const env = usePipelineStack();

  it('recreates a Developer-tier eval deployment Azure deleted after 24 hours mid-eval, and scores each item once', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    // Chat answers take 3 s each until the clock moves: the test has the 8 remaining items' 24 s to move it while the
    // first candidate is scored, and it only waits for states, however loaded the machine.
    const slow = env.emulator.control.addFault({ route: 'chat.completions', action: 'latency', latencyMs: 3000 });
    const onDeployment = (name: string, status?: number) =>
      env.emulator.control.requests({ route: 'chat.completions' }).filter((r) => r.path.includes(`/deployments/${name}/`) && (status === undefined || r.status === status));
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ evaluation: { evalSet: { path: EVAL_SET }, concurrency: 1 } }));
      const first = await until(async () => {
        const d = (env.emulator.control.dumpState().deployments as { name: string; state: string }[]).find((x) => x.name.startsWith('ftpipe-eval-') && x.state === 'Succeeded');
        return d?.name;
      }, 'the first evaluation deployment', 300_000);
      // Two eval items answered (the first is the deployment's smoke test): the eval is under way on `first`.
      await until(async () => (onDeployment(first, 200).length >= 2 ? true : undefined), 'two answers from the first evaluation deployment', 300_000);
      env.emulator.control.advanceClock(25 * 3600);
      env.emulator.control.removeFault(slow.id);

      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      const scores = result.evaluation!.scores;
      const recreated = scores.filter((s) => s.deploymentRecreations !== undefined);
      assert.equal(recreated.length, 1, JSON.stringify(scores));
      assert.equal(recreated[0]!.deploymentRecreations, 1);
      assert.ok(scores.every((s) => s.items === EVAL_ITEMS), 'every candidate scored on the whole eval set');
      assert.ok(onDeployment(first, 404).length >= 1, 'Azure answered DeploymentNotFound after the 24 hours');
      const puts = env.emulator.control.requests({ route: 'arm.deployments.put' }).filter((r) => r.path.endsWith(`/deployments/${first}`));
      assert.equal(puts.length, 2, 'created, then recreated once');
      // No smoke test apart (ftpipe-eval-first-answer-smoke): each creation's first answer is an eval item's.
      assert.equal(onDeployment(first, 200).length, EVAL_ITEMS, 'each item once: the eval went on from the items already scored');
    });
  });
});

describe('evaluation deployment lifetime, outlived', () => {
  const env = usePipelineStack();

  it('fails the run as EvaluationOutlivedDeployment, naming the deployment, when Azure deletes it a third time mid-eval, after cleaning up', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    // Slow answers (see above): each deletion lands while the eval set is being scored on the deployment.
    const slow = env.emulator.control.addFault({ route: 'chat.completions', action: 'latency', latencyMs: 3000 });
    const answers = (name: string, status: number) =>
      env.emulator.control.requests({ route: 'chat.completions' }).filter((r) => r.path.includes(`/deployments/${name}/`) && r.status === status).length;
    const puts = (name: string) => env.emulator.control.requests({ route: 'arm.deployments.put' }).filter((r) => r.path.endsWith(`/deployments/${name}`)).length;
    const deployments = () => env.emulator.control.dumpState().deployments as { name: string; state: string }[];
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ evaluation: { evalSet: { path: EVAL_SET }, concurrency: 1 } }));
      const name = await until(async () => deployments().find((d) => d.name.startsWith('ftpipe-eval-') && d.state === 'Succeeded')?.name, 'the first evaluation deployment', 300_000);
      let answeredBefore = 0;
      for (let deletion = 1; deletion <= 3; deletion++) {
        // The deployment's `deletion`-th creation answered two eval items (the first is its smoke test): the eval is under way on it.
        await until(async () => (puts(name) === deletion && answers(name, 200) >= answeredBefore + 2 ? true : undefined), `creation ${deletion} of ${name} scoring the eval set`, 300_000);
        env.emulator.control.advanceClock(25 * 3600);
        // Counted in the same tick as the clock moved: every later answer comes from the next creation.
        answeredBefore = answers(name, 200);
      }
      env.emulator.control.removeFault(slow.id);

      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
        assert.equal(err.cause.type, 'EvaluationOutlivedDeployment');
        assert.match(err.cause.message, new RegExp(`outlived its deployment ${name} 3 times: Azure deleted it before the eval set was scored \\(a DeveloperTier deployment is deleted 24 hours after it was created\\); \\d+ items were scored`));
        return true;
      });
      assert.equal(puts(name), 3, 'created, then recreated twice; no fourth creation');
      assert.ok(answers(name, 404) >= 3, 'Azure answered DeploymentNotFound after each 24 hours');
      // The cleanup ran: nothing of the run is left on Azure, and its slots are back.
      const status = await handle.query(statusQuery);
      assert.equal(status.stage, 'failed');
      assert.equal(deployments().filter((d) => d.name === name).length, 0, 'no evaluation deployment left');
      assert.deepEqual(liveFiles(env.emulator, status.files.map((f) => f.fileId)), [], 'the uploads were deleted');
      assert.equal(status.admission?.state, 'released');
      assert.ok((status.deploymentSlots ?? []).every((s) => s.state === 'released'), JSON.stringify(status.deploymentSlots));
      assert.ok(status.errors.some((e) => e.message.includes(`outlived its deployment ${name}`)), JSON.stringify(status.errors));
    });
  });
});
