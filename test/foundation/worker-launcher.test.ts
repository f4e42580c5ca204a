/**
 * `ftpipe worker` (bin/ftpipe.js, the built code) gives itself the worker's process settings (workers/launcher.ts):
 * without MALLOC_ARENA_MAX it runs the worker in a child process that has it, passes SIGTERM on once and exits as the
 * worker does, and the worker stops when its launcher is killed; with the variable set it runs the worker itself.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { spawnBuiltWorker, workerStarted } from '../helpers/cli';
import { useTemporal } from '../helpers/temporal';
import { until } from '../helpers/until';

/** Whether the process runs (an exited orphan may stay a zombie until its new parent reaps it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('ftpipe worker: process settings', () => {
  const env = useTemporal();
  const args = (): string[] => ['--address', env.server.address, '--task-queue', env.taskQueue(), '--shutdown-grace', '1s'];
  const withoutArenaSetting = (): NodeJS.ProcessEnv => {
    const childEnv = { ...process.env };
    delete childEnv.MALLOC_ARENA_MAX;
    return childEnv;
  };

  it('runs the worker in a child with MALLOC_ARENA_MAX=2 and stops it gracefully on SIGTERM', async () => {
    const worker = spawnBuiltWorker(args(), withoutArenaSetting());
    const { pid, mallocArenaMax } = await workerStarted(worker);
    assert.equal(mallocArenaMax, '2', worker.output());
    assert.notEqual(pid, worker.child.pid, 'the worker runs in a process of its own');
    worker.child.kill('SIGTERM');
    assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output());
    assert.match(worker.output(), /"msg":"ftpipe worker stopped"/);
    assert.equal(alive(pid), false, 'the worker process is gone');
  });

  it('stops the worker when its launcher is killed', async () => {
    const worker = spawnBuiltWorker(args(), withoutArenaSetting());
    const { pid } = await workerStarted(worker);
    worker.child.kill('SIGKILL');
    await worker.exited;
    await until(async () => (!alive(pid) && /"msg":"ftpipe worker stopped"/.test(worker.output())) || undefined, 'the worker to stop after its launcher was killed');
  });

  it('runs the worker itself when MALLOC_ARENA_MAX is already set', async () => {
    const worker = spawnBuiltWorker(args(), { ...process.env, MALLOC_ARENA_MAX: '4' });
    const { pid, mallocArenaMax } = await workerStarted(worker);
    assert.equal(mallocArenaMax, '4');
    assert.equal(pid, worker.child.pid);
    worker.child.kill('SIGTERM');
    assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output());
  });
});
