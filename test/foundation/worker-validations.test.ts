/**
 * `ftpipe worker --max-concurrent-validations` and the configuration's `maxConcurrentValidations`: the slots of the
 * worker's validation task queue, read from the SDK's own slot gauge on the worker's Prometheus endpoint.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../../src/devserver/free-port';
import { spawnCli } from '../helpers/cli';
import { useTemporal } from '../helpers/temporal';

/** The validation queue's free activity slots, as the worker exports them (an idle worker: all its slots). */
async function validationSlots(args: string[], address: string): Promise<number> {
  const metricsPort = await freePort();
  const taskQueue = `slots-${metricsPort}`;
  const worker = spawnCli(['worker', '--address', address, '--task-queue', taskQueue, '--metrics', `127.0.0.1:${metricsPort}`, '--shutdown-grace', '1s', ...args]);
  try {
    await worker.waitFor(/"msg":"ftpipe worker started"/);
    const gauge = new RegExp(`^temporal_worker_task_slots_available\\{[^}]*task_queue="${taskQueue}-validation"[^}]*worker_type="ActivityWorker"[^}]*\\} (\\d+)$`, 'm');
    const deadline = Date.now() + 60_000;
    for (;;) {
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const found = gauge.exec(metrics);
      if (found) return Number(found[1]);
      if (Date.now() > deadline) throw new Error(`no slot gauge for ${taskQueue}-validation:\n${metrics.split('\n').filter((l) => l.includes('slots')).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
}

describe('ftpipe worker: concurrent validations', () => {
  const env = useTemporal();

  it('takes the flag over the configuration', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'ftpipe-validations-')), 'worker.yaml');
    writeFileSync(config, 'maxConcurrentValidations: 5\n');
    // Two workers at once (each on its own task queue and metrics port): a worker's start is most of this test's time.
    const [fromConfig, fromFlag] = await Promise.all([
      validationSlots(['--config', config], env.server.address),
      validationSlots(['--config', config, '--max-concurrent-validations', '3'], env.server.address),
    ]);
    assert.equal(fromConfig, 5);
    assert.equal(fromFlag, 3);
  });
});
