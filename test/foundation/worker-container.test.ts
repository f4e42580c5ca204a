/**
 * The Docker image's first process (the Dockerfile's ENTRYPOINT: tini, then `node bin/ftpipe.js`) as `docker stop`
 * meets it: PID 1 of a PID namespace of its own, sent SIGTERM from outside. No Docker engine runs on ftpipe's machines,
 * so the namespace is made with util-linux's `unshare` (root only) and tini is the host's (Debian's `tini`, the image's
 * package); the file skips without them. The kernel drops a signal sent to a namespace's PID 1 when that process has
 * no handler for it: node as PID 1 lost a SIGTERM that came before the SDK listened (during start-up) and ran on
 * until SIGKILL. Events are ordered by the processes' own state and log lines, never by time.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, spawnCommand, workerStarted, type CliProcess } from '../helpers/cli';
import { useTemporal } from '../helpers/temporal';
import { until } from '../helpers/until';

const ENTRYPOINT = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1] ?? '[]') as string[];

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function canRun(): string | false {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root on Linux (unshare --pid)';
  if (spawnSync('unshare', ['--pid', '--fork', 'true']).status !== 0) return 'unshare --pid does not work here';
  if (!existsSync(ENTRYPOINT[0] ?? '')) return `${ENTRYPOINT[0]} is not installed (Debian: apt-get install tini)`;
  return false;
}

describe('the image\'s entry point as PID 1 under docker stop', { skip: canRun() }, () => {
  const env = useTemporal();

  /** The entry point as a container runs it, PID 1 of a new PID namespace; resolves once its first process is tini with node as its child. */
  async function container(): Promise<{ pid1: number; cli: CliProcess }> {
    const args = ['--address', env.server.address, '--task-queue', env.taskQueue(), '--shutdown-grace', '1s'];
    // --kill-child: the namespace's processes go with unshare, which the helper kills when the test file's process exits.
    const cli = spawnCommand(['unshare', '--pid', '--fork', '--kill-child', '--mount-proc', ...ENTRYPOINT] as [string, ...string[]], ['worker', ...args], { MALLOC_ARENA_MAX: '2' });
    // tini blocks every signal before it starts its child, so once node runs, a signal to PID 1 reaches tini.
    const pid1 = await until(async () => {
      const [first] = childrenOf(cli.child.pid!);
      if (first === undefined) return undefined;
      let exe = '';
      try {
        exe = readlinkSync(`/proc/${first}/exe`);
      } catch {
        return undefined;
      }
      return exe === ENTRYPOINT[0] && childrenOf(first).length > 0 ? first : undefined;
    }, 'the container\'s first process to be tini, running node');
    const status = readFileSync(`/proc/${pid1}/status`, 'utf8');
    assert.match(status, /^NSpid:\s+\d+\s+1$/m, 'tini is PID 1 of its namespace');
    return { pid1, cli };
  }

  it('a SIGTERM during start-up, before the worker listens for it, stops the container (node as PID 1 ignored it)', async () => {
    const { pid1, cli } = await container();
    process.kill(pid1, 'SIGTERM');
    // Without tini the worker would start, and run on: its "started" line coming first is the failure.
    let ended = false;
    void cli.exited.then(() => (ended = true));
    const first = await until(async () => (ended ? 'exited' : /"msg":"ftpipe worker started"/.test(cli.output()) ? 'started' : undefined), 'the worker to start or the container to exit', 240_000);
    assert.equal(first, 'exited', `the worker started after the SIGTERM:\n${cli.output()}`);
    // tini's code for a child ended by SIGTERM (128 + 15).
    assert.deepEqual(await cli.exited, { code: 143, signal: null }, cli.output());
  });

  it('a SIGTERM once the worker runs shuts it down gracefully, and the container exits 0', async () => {
    const { pid1, cli } = await container();
    await workerStarted(cli);
    process.kill(pid1, 'SIGTERM');
    assert.deepEqual(await cli.exited, { code: 0, signal: null }, cli.output());
    assert.match(cli.output(), /"msg":"ftpipe worker shutting down/);
    assert.match(cli.output(), /"msg":"ftpipe worker stopped"/);
  });
});
