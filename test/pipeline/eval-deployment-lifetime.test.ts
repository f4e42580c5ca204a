/**
 * Developer-tier evaluation deployments live 24 hours (Azure deletes them; the emulator does on its clock): an eval
 * that outlives its deployment recreates it and goes on from the items already scored, on the dev server and emulator.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli';
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
      // The smoke test and one eval item answered: the eval is under way on `first`.
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
      assert.equal(onDeployment(first, 200).length, EVAL_ITEMS + 2, 'two smoke tests and each item once: the eval went on from the items already scored');
    });
  });
});
