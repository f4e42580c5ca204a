/**
 * The Docker image's first process (the Dockerfile's ENTRYPOINT: tini, then `node bin/ftpipe.js`) as `docker stop`
 * meets it: PID 1 of a PID namespace of its own, sent SIGTERM from outside. No Docker engine runs on ftpipe's machines,
 * so the namespace is made with util-linux's `unshare` (root only) and tini is the host's (Debian's `tini`, the image's
 * package); the file skips without them. The kernel drops a signal sent to a namespace's PID 1 when that process has
 * no handler for it: node as PID 1 lost a SIGTERM that came before the SDK listened (during start-up) and ran on
 * until SIGKILL. Events are ordered by the processes' own state and log lines, never by time.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli';
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
  async function container(): Promise<{ pid1: number; output: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
    const args = ['--address', env.server.address, '--task-queue', env.taskQueue(), '--shutdown-grace', '1s'];
    const childEnv: NodeJS.ProcessEnv = { ...process.env, MALLOC_ARENA_MAX: '2' };
    if (process.env.FTPIPE_TEST_WORKFLOW_BUNDLE) childEnv.FTPIPE_WORKFLOW_BUNDLE = process.env.FTPIPE_TEST_WORKFLOW_BUNDLE;
    const unshare = spawn('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', ...ENTRYPOINT, 'worker', ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    unshare.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    unshare.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => unshare.once('exit', (code, signal) => resolve({ code, signal })));
    // --kill-child: the namespace's processes go with unshare when a failed test leaves it running.
    process.once('exit', () => unshare.kill('SIGKILL'));
    // tini blocks every signal before it starts its child, so once node runs, a signal to PID 1 reaches tini.
    const pid1 = await until(async () => {
      const [first] = childrenOf(unshare.pid!);
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
    return { pid1, output: () => out, exited };
  }

  it('a SIGTERM during start-up, before the worker listens for it, stops the container (node as PID 1 ignored it)', async () => {
    const { pid1, output, exited } = await container();
    process.kill(pid1, 'SIGTERM');
    // Without tini the worker would start, and run on: its "started" line coming first is the failure.
    let ended = false;
    void exited.then(() => (ended = true));
    const first = await until(async () => (ended ? 'exited' : /"msg":"ftpipe worker started"/.test(output()) ? 'started' : undefined), 'the worker to start or the container to exit', 240_000);
    assert.equal(first, 'exited', `the worker started after the SIGTERM:\n${output()}`);
    // tini's code for a child ended by SIGTERM (128 + 15).
    assert.deepEqual(await exited, { code: 143, signal: null }, output());
  });

  it('a SIGTERM once the worker runs shuts it down gracefully, and the container exits 0', async () => {
    const { pid1, output, exited } = await container();
    await until(async () => (/"msg":"ftpipe worker started"/.test(output()) ? true : undefined), `the worker to start\n${output()}`, 240_000);
    process.kill(pid1, 'SIGTERM');
    assert.deepEqual(await exited, { code: 0, signal: null }, output());
    assert.match(output(), /"msg":"ftpipe worker shutting down/);
    assert.match(output(), /"msg":"ftpipe worker stopped"/);
  });
});
