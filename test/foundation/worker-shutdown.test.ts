/**
 * A launched `ftpipe worker` (bin/ftpipe.js without MALLOC_ARENA_MAX: a launcher with the worker as its child,
 * workers/launcher.ts) shuts down gracefully when a shutdown signal comes twice: from a service manager that signals
 * every process of the service (systemd's default KillMode=control-group) and passed on by its launcher, in either
 * order. The worker is held in its shutdown by an in-flight activity (a run's notice to a webhook that answers only
 * when the test lets it), so each signal lands while the worker is shutting down: the order is set by the worker's
 * own log lines, never by time. And the launcher ends as its worker does (its exit code, or the signal that ended it).
 * In the worker's process, the same held notice shows the order its three Temporal workers stop in.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnBuiltWorker, workerStarted, type CliProcess } from '../helpers/cli';
import { usePipelineStack } from '../helpers/pipeline';
import { useTemporal } from '../helpers/temporal';
import { until } from '../helpers/until';

/** A webhook that keeps each request open until `release()`. */
interface HeldWebhook {
  url: string;
  held: ServerResponse[];
  release(): void;
  close(): Promise<void>;
}

async function holdingWebhook(): Promise<HeldWebhook> {
  const held: ServerResponse[] = [];
  let released = false;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (released) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else held.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    held,
    release() {
      released = true;
      for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('ftpipe worker: a shutdown signal that comes twice', () => {
  const env = usePipelineStack();
  let configPath: string;
  before(() => {
    configPath = join(mkdtempSync(join(tmpdir(), 'ftpipe-shutdown-')), 'ftpipe.config.json');
    writeFileSync(configPath, JSON.stringify(env.config));
  });

  function launch(taskQueue: string): CliProcess {
    const childEnv: NodeJS.ProcessEnv = { ...env.workerEnv };
    delete childEnv.MALLOC_ARENA_MAX;
    if (process.env.FTPIPE_TEST_WORKFLOW_BUNDLE) childEnv.FTPIPE_WORKFLOW_BUNDLE = process.env.FTPIPE_TEST_WORKFLOW_BUNDLE;
    const worker = spawnBuiltWorker(['--address', env.temporal.server.address, '--task-queue', taskQueue, '--config', configPath, '--shutdown-grace', '10m'], childEnv);
    after(() => {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    });
    return worker;
  }

  /** A launched worker with a run's notice held in flight gets `signal` first from `first`, then from the other. */
  async function twice(first: 'direct' | 'launcher', signal: NodeJS.Signals): Promise<void> {
    const hook = await holdingWebhook();
    const taskQueue = env.temporal.taskQueue();
    const worker = launch(taskQueue);
    try {
      const { pid } = await workerStarted(worker);
      assert.notEqual(pid, worker.child.pid, 'the worker runs in a child of its launcher');
      // A run that fails at once (its dataset is missing) and tells the held webhook so.
      const handle = await env.start(taskQueue, env.input({ training: { path: join(tmpdir(), `missing-${randomUUID()}.jsonl`) }, notify: [{ url: hook.url }] }));
      try {
        await until(async () => (hook.held.length > 0 ? true : undefined), `the run's notice to reach the webhook\n${worker.output()}`, 240_000);
        const toWorker = (): void => void process.kill(pid, signal);
        const toLauncher = (): void => void worker.child.kill(signal);
        (first === 'direct' ? toWorker : toLauncher)();
        await worker.waitFor(/"msg":"ftpipe worker shutting down/);
        (first === 'direct' ? toLauncher : toWorker)();
        await worker.waitFor(/"msg":"ftpipe worker: shutdown signal again/);
        assert.equal(hook.held.length, 1, 'the notice is still in flight');
        hook.release();
        assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output());
        assert.match(worker.output(), /"msg":"ftpipe worker stopped"/);
        assert.doesNotMatch(worker.output(), /notifyRun[^\n]*(cancel|fail)/i, 'the in-flight activity finished');
      } finally {
        await handle.terminate('test over').catch(() => undefined);
      }
    } finally {
      hook.release();
      await hook.close();
    }
  }

  it('the admission worker stops only after the main worker: a run\'s join of its queue waits for the queue\'s answer', async () => {
    const hook = await holdingWebhook();
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const running = worker.run();
    try {
      const handle = await env.start(taskQueue, env.input({ training: { path: join(tmpdir(), `missing-${randomUUID()}.jsonl`) }, notify: [{ url: hook.url }] }));
      try {
        await until(async () => (hook.held.length > 0 ? true : undefined), 'the run\'s notice to reach the webhook', 240_000);
        // The main worker is held in its shutdown by the notice in flight; the admission worker still answers.
        worker.shutdown();
        assert.notEqual(worker.main.getState(), 'RUNNING');
        assert.notEqual(worker.validation.getState(), 'RUNNING');
        assert.equal(worker.admission.getState(), 'RUNNING');
        hook.release();
        await running;
        assert.equal(worker.main.getState(), 'STOPPED');
        assert.equal(worker.admission.getState(), 'STOPPED');
      } finally {
        await handle.terminate('test over').catch(() => undefined);
      }
    } finally {
      hook.release();
      worker.shutdown();
      await running.catch(() => undefined);
      await hook.close();
    }
  });

  it('SIGTERM to the worker, then to its launcher (systemd first, then the launcher passing it on)', () => twice('direct', 'SIGTERM'));
  it('SIGTERM to the launcher, then to the worker', () => twice('launcher', 'SIGTERM'));
  it('SIGINT to the launcher, then to the worker', () => twice('launcher', 'SIGINT'));
  it('SIGINT to the worker, then to its launcher (a terminal\'s Ctrl-C and a service manager\'s SIGINT)', () => twice('direct', 'SIGINT'));
});

/**
 * The launcher is what a service manager or `docker stop` sees, so it ends as its worker did: with the worker's exit
 * code, or by the signal that ended the worker. Each case waits for the worker's own log lines, never for a time.
 */
describe('ftpipe worker: the launcher ends as its worker does', () => {
  const env = useTemporal();
  const withoutArenaSetting = (): NodeJS.ProcessEnv => {
    const childEnv = { ...process.env };
    delete childEnv.MALLOC_ARENA_MAX;
    return childEnv;
  };
  const launch = (extra: string[] = []): CliProcess => spawnBuiltWorker(['--address', env.server.address, '--task-queue', env.taskQueue(), '--shutdown-grace', '1s', ...extra], withoutArenaSetting());

  it('a worker that fails at start: the launcher exits with its code (1 for a failure, 2 for bad usage)', async () => {
    const missing = launch(['--config', join(tmpdir(), `missing-${randomUUID()}.yaml`)]);
    assert.deepEqual(await missing.exited, { code: 1, signal: null }, missing.output());
    assert.match(missing.output(), /ftpipe: .*missing-.*\.yaml/);
    const badUsage = launch(['--max-concurrent-activities', '0']);
    assert.deepEqual(await badUsage.exited, { code: 2, signal: null }, badUsage.output());
    assert.match(badUsage.output(), /--max-concurrent-activities.*not a positive integer: 0/);
  });

  it('a worker that shuts down cleanly (SIGTERM to the worker alone): the launcher exits 0', async () => {
    const worker = launch();
    const { pid } = await workerStarted(worker);
    assert.notEqual(pid, worker.child.pid, 'the worker runs in a child of its launcher');
    process.kill(pid, 'SIGTERM');
    assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output());
    assert.match(worker.output(), /"msg":"ftpipe worker stopped"/);
  });

  for (const signal of ['SIGKILL', 'SIGHUP'] as const) {
    it(`a worker ended by ${signal}: the launcher ends by ${signal}${signal === 'SIGHUP' ? ' (a signal it passes on itself)' : ''}`, async () => {
      const worker = launch();
      const { pid } = await workerStarted(worker);
      assert.notEqual(pid, worker.child.pid, 'the worker runs in a child of its launcher');
      process.kill(pid, signal);
      assert.deepEqual(await worker.exited, { code: null, signal }, worker.output());
      assert.doesNotMatch(worker.output(), /"msg":"ftpipe worker stopped"/, 'the worker did not shut down gracefully');
    });
  }
});
