import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { usePipelineStack } from '../helpers/pipeline';
import { until } from '../helpers/until';
import { CRASH_TIMEOUTS, killWorker, startWorkerProcess } from '../helpers/worker-process';

describe('worker crashes (kill -9) during one validation', () => {
  const env = usePipelineStack({ clockScale: 40 });

  it('survives five kills of the worker during one validation (a lost worker never spends the run\'s retries)', async () => {
    const configPath = join(mkdtempSync(join(tmpdir(), 'ftpipe-crash-')), 'ftpipe.config.json');
    writeFileSync(configPath, JSON.stringify(env.config));
    // Large enough that each validation attempt runs for a while: long examples, few of them (few training steps).
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-crash-data-'));
    const filler = 'The chain wants a drop of oil on every link after a wet ride. '.repeat(60);
    const lines = Array.from({ length: 6_000 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `Ticket ${i}: ${filler}` }, { role: 'assistant', content: `Noted ${i}.` }] }));
    writeFileSync(join(dir, 'train.jsonl'), `${lines.join('\n')}\n`);
    const taskQueue = env.temporal.taskQueue();
    const handle = await env.start(taskQueue, env.input({ training: { path: join(dir, 'train.jsonl') }, validation: undefined, timeouts: CRASH_TIMEOUTS, hyperparameters: { nEpochs: 1, batchSize: 256 } }));
    const validationAttempt = async (): Promise<number> => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const started = pending.find((a) => a.activityType?.name === 'validateTrainingData' && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED);
      return started?.attempt ?? 0;
    };
    for (let kill = 1; kill <= 5; kill++) {
      const worker = await startWorkerProcess(env, taskQueue, configPath);
      await until(async () => ((await validationAttempt()) === kill ? true : undefined), `validation attempt ${kill} to run on worker ${kill}`, 180_000)
        .catch((err: unknown) => { throw new Error(`${(err as Error).message}\n${worker.output()}`); });
      await killWorker(worker);
    }
    env.emulator.control.setClockScale(20_000);
    const last = await startWorkerProcess(env, taskQueue, configPath);
    try {
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(result.validation?.examples.training, 6_000);
    } finally {
      last.child.kill('SIGTERM');
      await last.exited;
    }
  });
});
