import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { checkDevPorts, DevUsageError } from '../../src/dev/ports';
import { freePort } from '../../src/devserver/free-port';
import { TASK_QUEUE } from '../../src/temporal/constants';
import { ROOT, runCli, spawnCli } from '../helpers/cli';
import { ownServer, useTemporal } from '../helpers/temporal';
import { until } from '../helpers/until';
import { CHECK_WORKER_WORKFLOW_TYPE } from '../../workflows/messages';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function childPidsOf(pid: number): number[] {
  const path = `/proc/${pid}/task/${pid}/children`;
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

describe('ftpipe dev', () => {
  it('serves the Web UI and a worker, persists to .ftpipe/dev, and stops everything on Ctrl-C', async (t) => {
    const home = mkdtempSync(join(tmpdir(), 'ftpipe-home-'));
    const [port, uiPort, emulatorPort, armPort, codecPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const dev = spawnCli(['dev', '--port', String(port), '--ui-port', String(uiPort), '--emulator-port', String(emulatorPort), '--emulator-arm-port', String(armPort), '--codec-port', String(codecPort)], { FTPIPE_HOME: home });
    // A failed assertion must not leave the dev stack running: it would keep this test file from ever ending.
    t.after(() => {
      if (dev.child.exitCode === null && dev.child.signalCode === null) dev.child.kill('SIGINT');
    });
    await dev.waitFor(/Ctrl-C stops/);
    assert.match(dev.output(), new RegExp(`Web UI: +http://127\\.0\\.0\\.1:${uiPort}`));
    assert.ok(dev.output().includes(encodeURIComponent(`TaskQueue="${TASK_QUEUE}"`)), 'prints the runs list filtered to ftpipe');
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    assert.equal(ui.status, 200);
    // Every server of the stack listens where it was told, so that a second stack can run beside it.
    assert.match(dev.output(), new RegExp(`emulator: +http://127\\.0\\.0\\.1:${emulatorPort} \\(ARM https://127\\.0\\.0\\.1:${armPort}\\)`));
    assert.match(dev.output(), new RegExp(`Web UI codec http://127\\.0\\.0\\.1:${codecPort};`));
    const decoded = await fetch(`http://127.0.0.1:${codecPort}/decode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"payloads":[]}' });
    assert.equal(decoded.status, 200, 'the codec server answers on --codec-port');

    // A second stack on the same state folder is refused before it starts anything; on another folder, a port the
    // first one holds is refused, naming the flag.
    const sameHome = await runCli(['dev', '--port', '0', '--ui-port', '0'], { FTPIPE_HOME: home });
    assert.equal(sameHome.code, 2, sameHome.output);
    assert.match(sameHome.output, new RegExp(`ftpipe dev: ${join(home, 'dev')} is in use by another ftpipe dev \\(pid ${dev.child.pid}\\); .*FTPIPE_HOME`));
    const takenPort = await runCli(['dev', '--port', '0', '--ui-port', '0', '--emulator-port', String(emulatorPort)], { FTPIPE_HOME: mkdtempSync(join(tmpdir(), 'ftpipe-home-')) });
    assert.equal(takenPort.code, 2, takenPort.output);
    assert.match(takenPort.output, new RegExp(`ftpipe dev: --emulator-port ${emulatorPort}: port ${emulatorPort} is in use on 127\\.0\\.0\\.1`));

    // ftpipe dev encrypts payloads and prints the key file other commands need.
    const keyFile = join(home, 'dev', 'codec-keys.json');
    assert.ok(dev.output().includes(`export FTPIPE_CODEC_KEY_FILE=${keyFile} TEMPORAL_ADDRESS=127.0.0.1:${port}\n`), 'tells other commands where the codec keys and the server (not on 7233) are');
    const withoutKeys = await runCli(['doctor', '--address', `127.0.0.1:${port}`]);
    assert.equal(withoutKeys.code, 1, withoutKeys.output);
    assert.match(withoutKeys.output, /payloads are encrypted: set FTPIPE_CODEC_KEY_FILE/);
    const doctor = await runCli(['doctor', '--address', `127.0.0.1:${port}`], { FTPIPE_CODEC_KEY_FILE: keyFile });
    assert.equal(doctor.code, 0, doctor.output);
    assert.match(doctor.output, /^ok: a worker \(ftpipe \d+\.\d+\.\d+, Node v20/m);
    assert.ok(existsSync(join(home, 'dev', 'temporal.sqlite')), 'the dev server keeps state in .ftpipe/dev/temporal.sqlite');

    const serverPids = childPidsOf(dev.child.pid!);
    assert.equal(serverPids.length, 1, 'one child process: the Temporal dev server');
    dev.child.kill('SIGINT');
    const { code } = await dev.exited;
    assert.equal(code, 0, dev.output());
    assert.match(dev.output(), /ftpipe dev: stopped/);
    assert.ok(!processAlive(serverPids[0]!), 'the dev server process is gone');
  });
});

describe('the dev stack\'s ports', () => {
  it('refuses a port given to two flags, and one another process listens on', async (t) => {
    await assert.rejects(checkDevPorts([{ flag: '--port', port: 23456 }, { flag: '--ui-port', port: 0 }, { flag: '--codec-port', port: 23456 }]), (err: Error) => {
      assert.ok(err instanceof DevUsageError);
      assert.equal(err.message, '--codec-port 23456: the same port as --port; each server needs its own port (or 0 for a free one)');
      return true;
    });
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    t.after(() => holder.close());
    const held = (holder.address() as AddressInfo).port;
    await assert.rejects(checkDevPorts([{ flag: '--ui-port', port: held }]), new RegExp(`^DevUsageError: --ui-port ${held}: port ${held} is in use on 127\\.0\\.0\\.1`));
    const free = await freePort();
    await checkDevPorts([{ flag: '--port', port: free }, { flag: '--ui-port', port: 0 }, { flag: '--codec-port', port: 0 }]);

    // ftpipe codec-server says the same in words, naming its flag (it printed "listen EADDRINUSE ..." and exit 1).
    const codec = await runCli(['codec-server', '--port', String(held)], { FTPIPE_CODEC_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`, FTPIPE_CODEC_KEY_FILE: '' });
    assert.equal(codec.code, 2, codec.output);
    assert.equal(codec.output.trim(), `ftpipe codec-server: --port ${held}: port ${held} is in use on 127.0.0.1 (another ftpipe server or another program listens there); choose another port, or 0 for a free one`);

    // ftpipe demo and ftpipe emulator refuse their ports as ftpipe dev does, before they start anything.
    const demoTaken = await runCli(['demo', '--emulator-arm-port', String(held)]);
    assert.equal(demoTaken.code, 2, demoTaken.output);
    assert.equal(demoTaken.output.trim(), `ftpipe demo: --emulator-arm-port ${held}: port ${held} is in use on 127.0.0.1 (another ftpipe server or another program listens there); choose another port, or 0 for a free one`);
    const emulator = await runCli(['emulator', '--port', String(held)]);
    assert.equal(emulator.code, 2, emulator.output);
    assert.equal(emulator.output.trim(), `ftpipe emulator: --port ${held}: port ${held} is in use on 127.0.0.1 (another ftpipe server or another program listens there); choose another port, or 0 for a free one`);
    const demoTwice = await runCli(['demo', '--port', String(free), '--emulator-port', String(free)]);
    assert.equal(demoTwice.code, 2, demoTwice.output);
    assert.equal(demoTwice.output.trim(), `ftpipe demo: --emulator-port ${free}: the same port as --port; each server needs its own port (or 0 for a free one)`);
  });
});

describe('ftpipe worker', () => {
  const env = useTemporal(ownServer('the worker serves the default task queue'));

  it('serves the fine-tuning queue of any Temporal address, exposes Prometheus metrics, logs JSON, stops on SIGTERM', async () => {
    const metricsPort = await freePort();
    const worker = spawnCli(['worker', '--address', env.server.address, '--metrics', `127.0.0.1:${metricsPort}`, '--max-cached-workflows', '50', '--max-concurrent-activities', '8']);
    await worker.waitFor(/"msg":"ftpipe worker started"/);

    const result = await env.client.workflow.execute(CHECK_WORKER_WORKFLOW_TYPE, { taskQueue: TASK_QUEUE, workflowId: `worker-cli-${metricsPort}`, args: [{}] });
    assert.equal((result as { worker: { taskQueue: string } }).worker.taskQueue, TASK_QUEUE);

    // The worker counts the completion once its task's completion is answered, which can be after the client hears
    // of it: the endpoint is read until it shows the count (it listed the activity's metrics without it once).
    const metrics = await until(async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return /temporal_workflow_completed/.test(text) ? text : undefined;
    }, 'the worker\'s Prometheus endpoint to count the completed workflow');
    assert.match(metrics, /temporal_activity_execution_latency_count\{activity_type="describeWorker"/);

    worker.child.kill('SIGTERM');
    const { code } = await worker.exited;
    assert.equal(code, 0, worker.output());
    const lines = worker.output().split('\n').filter((l) => l.startsWith('{'));
    assert.ok(lines.length > 0 && lines.every((l) => typeof (JSON.parse(l) as { level: unknown }).level === 'string'), 'structured JSON logs');
    assert.match(worker.output(), /"msg":"ftpipe worker stopped"/);
  });
});

describe('ftpipe demo', () => {
  it('stops everything on Ctrl-C and says so in one line, exit 130', async (t) => {
    const home = mkdtempSync(join(tmpdir(), 'ftpipe-demo-'));
    const demo = spawnCli(['demo'], { FTPIPE_HOME: home });
    t.after(() => {
      if (demo.child.exitCode === null && demo.child.signalCode === null) demo.child.kill('SIGKILL');
    });
    await demo.waitFor(/^demo: started /m);
    const serverPids = childPidsOf(demo.child.pid!);
    assert.equal(serverPids.length, 1, 'one child process: the Temporal dev server');
    demo.child.kill('SIGINT');
    const { code } = await demo.exited;
    assert.equal(code, 130, demo.output());
    assert.match(demo.output(), /^demo: stopped by SIGINT before the run finished; its dev server and emulator have stopped too/m);
    assert.doesNotMatch(demo.output(), /Channel has been shut down|the worker stopped before/);
    assert.ok(!processAlive(serverPids[0]!), 'the dev server process is gone');
  });
});

describe('the built package', () => {
  it('runs the demo from dist/ with the prebuilt workflow bundle (npm install builds it)', async () => {
    const compiledWorker = join(ROOT, 'dist', 'workers', 'worker.js');
    assert.ok(existsSync(compiledWorker), 'dist/ is missing: npm install (prepare) runs the build');
    const { builtWorkflowBundlePath } = (await import(compiledWorker)) as typeof import('../../workers/worker');
    assert.ok(builtWorkflowBundlePath()?.endsWith(join('dist', 'workflow-bundle.js')));

    const home = mkdtempSync(join(tmpdir(), 'ftpipe-demo-'));
    const [port, emulatorPort, armPort] = [await freePort(), await freePort(), await freePort()];
    const demo = spawn(process.execPath, [join(ROOT, 'bin', 'ftpipe.js'), 'demo', '--port', String(port), '--emulator-port', String(emulatorPort), '--emulator-arm-port', String(armPort)], { env: { ...process.env, FTPIPE_HOME: home } });
    let output = '';
    demo.stdout.on('data', (c: Buffer) => (output += c.toString()));
    demo.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => demo.once('exit', resolve));
    assert.equal(code, 0, output);
    assert.match(output, /demo: succeeded/);
    assert.ok(output.includes(`demo: Temporal dev server 127.0.0.1:${port}, Azure emulator http://127.0.0.1:${emulatorPort} (ARM https://127.0.0.1:${armPort}, clock x200)`), output);
  });
});
