/**
 * Runs the ftpipe CLI in a child process, as a user would run `ftpipe ...`: from dist/ as `bin/ftpipe.js` when
 * scripts/run-tests.mjs found dist/ built from the current sources (FTPIPE_TEST_CLI_FROM_DIST=1), else from the
 * TypeScript sources through tsx. tsx doubles a CLI process's start-up: `ftpipe worker --help` 3.4 CPU-s through tsx,
 * 1.7 from dist (load ~25); the suite starts about a hundred.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const BIN = join(ROOT, 'bin', 'ftpipe.js');
const CLI_ARGS = process.env.FTPIPE_TEST_CLI_FROM_DIST === '1' ? [BIN] : ['--import', 'tsx', MAIN];

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the output once `pattern` appears in stdout or stderr (a generous bound: a cold start on a loaded 2-core machine takes a minute). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The test run's workflow bundle for the workers a CLI process starts (`ftpipe worker`, `dev`): from sources each would
 * webpack the workflows itself (10 s of CPU each; the crash tests start 13).
 */
function runBundle(): NodeJS.ProcessEnv {
  const bundle = process.env.FTPIPE_TEST_WORKFLOW_BUNDLE;
  return bundle ? { FTPIPE_WORKFLOW_BUNDLE: bundle } : {};
}

/**
 * CLI processes still running: killed when the test file's process exits, so that a test that fails before it stops
 * its `ftpipe worker` does not leave the worker polling the shared server (a child outlives its parent otherwise).
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  return spawnFtpipe(CLI_ARGS, args, { ...process.env, ...runBundle(), ...env });
}

/**
 * `bin/ftpipe.js worker ...` from dist/ whatever FTPIPE_TEST_CLI_FROM_DIST says, with `env` as its whole environment:
 * only the built entry point has the launcher (workers/launcher.ts) that runs the worker in a child of its own.
 */
export function spawnBuiltWorker(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  return spawnFtpipe([BIN], ['worker', ...args], env);
}

/** The worker's "started" log line: the pid of the process that runs the worker and its MALLOC_ARENA_MAX. */
export async function workerStarted(worker: CliProcess): Promise<{ pid: number; mallocArenaMax: string | null }> {
  const [line] = await worker.waitFor(/^.*"msg":"ftpipe worker started".*$/m);
  return JSON.parse(line) as { pid: number; mallocArenaMax: string | null };
}

/**
 * A command that runs ftpipe's entry point its own way (the Dockerfile's ENTRYPOINT under `unshare`, say) with `args`
 * after it, in spawnCli's environment.
 */
export function spawnCommand(command: readonly [string, ...string[]], args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const [program, ...entry] = command;
  return spawnFtpipe(entry, args, { ...process.env, ...runBundle(), ...env }, program);
}

function spawnFtpipe(entry: readonly string[], args: string[], env: NodeJS.ProcessEnv, program = process.execPath): CliProcess {
  const child = spawn(program, [...entry, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    out += chunk.toString();
    listeners.forEach((l) => l());
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 240_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = out.match(pattern);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${String(pattern)}; output so far:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`ftpipe ${args.join(' ')} exited before printing ${String(pattern)}; output:\n${out}`));
          }
        });
        check();
      });
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const cli = spawnCli(args, env);
  const { code } = await cli.exited;
  return { code, output: cli.output() };
}
