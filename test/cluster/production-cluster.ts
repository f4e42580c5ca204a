/**
 * The cluster path (npm run test:cluster): ftpipe on a production-style Temporal instead of the dev server.
 * temporal-server 1.29.1 on PostgreSQL (persistence and visibility, schemas by temporal-sql-tool), the namespace and
 * search attributes set up by scripts/temporal-setup.sh (as docker-compose.yml does), the standalone Web UI server,
 * the Azure emulator and two `ftpipe worker` processes. Ten runs go through a worker killed with SIGKILL and a server
 * restart; each must finish with one Azure job, and visibility and the Web UI's API must find them all.
 * Not part of `npm test`: it needs the binaries of scripts/install-cluster-tools (a cold Go build takes many minutes).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { stringify } from 'yaml';
import { freePort } from '../../src/devserver/free-port';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import type { PipelineInputDraft } from '../../src/pipeline/input';
import type { PipelineStatus } from '../../src/pipeline/types';
import { emulatorProfiles, EMULATOR_PROFILE } from '../../src/stack/emulator-profiles';
import { JOB_ID, SEARCH_ATTRIBUTES, STAGE, searchAttributeSpec, searchAttributeTypeName } from '../../src/temporal/search-attributes';
import type { fineTunePipeline } from '../../workflows';
import { ROOT, spawnCli, type CliProcess } from '../helpers/cli';
import { jobsOfRun } from '../helpers/emulator-state';
import { FAST_POLLING, SAMPLE_VALIDATION, uniqueTrainingFile } from '../helpers/pipeline';
import { PIPELINE_WORKFLOW_TYPE, statusQuery } from '../../workflows/messages';

const run = promisify(execFile);
const RUNS = 10;
const NAMESPACE = 'default';
const TEMPORAL_CLI = join(ROOT, '.tools', 'bin', 'temporal');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'cluster');
/** Short timeouts, so that the work of the killed worker moves to the other one within seconds. */
const TIMEOUTS = { azureCallSeconds: 3, heartbeatSeconds: 3 };

interface Service {
  child: ChildProcess;
  exited: Promise<void>;
}

const services: Service[] = [];

/** A long-running process of the cluster, its output in test-artifacts/cluster/<name>.log. */
function startService(name: string, command: string, args: string[], cwd?: string): Service {
  const log = createWriteStream(join(ARTIFACTS, `${name}.log`), { flags: 'a' });
  const child = spawn(command, args, { cwd: cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const service = { child, exited };
  services.push(service);
  return service;
}

async function stop(service: Service): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill('SIGTERM');
  await service.exited;
}

/** Ends `until` at once: waiting longer cannot help. */
class FatalError extends Error {}

/** Polls `probe` until it returns a value (not undefined), at most `attempts` times `intervalMs` apart. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, attempts = 240, intervalMs = 500): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof FatalError) throw err;
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/**
 * Free ports below 32768 for the services' membership (ringpop): PostgreSQL's cluster_membership table keeps the port
 * in a smallint, and the kernel's ephemeral ports (what freePort gives) are above it.
 */
async function membershipPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let port = 30000 + (process.pid % 2000); ports.length < count && port < 32768; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) ports.push(port);
  }
  assert.equal(ports.length, count, 'no free ports below 32768 for the Temporal services\' membership');
  return ports;
}

function tools(): Record<string, string> {
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'install-cluster-tools')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return Object.fromEntries(out.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
}

/** PostgreSQL refuses to run as root: as root, its commands run as Debian's `postgres` user. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', command, ...args]] : [command, args];
}

describe('ftpipe on a Temporal cluster (temporal-server + PostgreSQL + Web UI server)', { timeout: 30 * 60_000 }, () => {
  const cluster = {} as {
    bin: Record<string, string>;
    serverRoot: string;
    address: string;
    uiUrl: string;
    server: Service;
    emulator: RunningEmulator;
    connection: Connection;
    client: Client;
    workerConfig: string;
    workerEnv: Record<string, string>;
    taskQueue: string;
    workers: CliProcess[];
  };
  const scratch = mkdtempSync(join(tmpdir(), 'ftpipe-cluster-'));

  const startServer = async (): Promise<void> => {
    cluster.server = startService('temporal-server', cluster.bin['temporal-server']!, ['--root', cluster.serverRoot, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start']);
    const server = cluster.server;
    await until('the Temporal server to serve', async () => {
      if (server.child.exitCode !== null) throw new FatalError(`temporal-server exited with ${server.child.exitCode}; see test-artifacts/cluster/temporal-server.log`);
      await run(TEMPORAL_CLI, ['operator', 'cluster', 'health', '--address', cluster.address]);
      return true;
    });
  };

  const startWorker = async (): Promise<CliProcess> => {
    const worker = spawnCli(['worker', '--address', cluster.address, '--namespace', NAMESPACE, '--task-queue', cluster.taskQueue, '--config', cluster.workerConfig, '--shutdown-grace', '1s'], cluster.workerEnv);
    cluster.workers.push(worker);
    await worker.waitFor(/"msg":"ftpipe worker started"/);
    return worker;
  };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    cluster.bin = tools();
    cluster.workers = [];

    // PostgreSQL in a data directory of its own, on a free port.
    const pgData = join(scratch, 'postgresql');
    mkdirSync(pgData);
    if (process.getuid?.() === 0) {
      chmodSync(scratch, 0o755);
      chownSync(pgData, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    }
    const pgBin = cluster.bin['postgres-bin']!;
    execFileSync(...asPostgres(join(pgBin, 'initdb'), ['-D', pgData, '-U', 'temporal', '--auth=trust', '-E', 'UTF8', '--no-sync']), { stdio: 'ignore' });
    const pgPort = await freePort();
    // fsync off: the test never crashes PostgreSQL itself, and a busy 2-core machine would spend its time syncing.
    startService('postgresql', ...asPostgres(join(pgBin, 'postgres'), ['-D', pgData, '-p', String(pgPort), '-k', pgData, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']));
    await until('PostgreSQL to accept connections', async () => {
      await run(join(pgBin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(pgPort)]);
      return true;
    });

    // Temporal's schemas, embedded in temporal-sql-tool.
    for (const [database, schema] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
      const sql = (...args: string[]): Promise<unknown> => run(cluster.bin['temporal-sql-tool']!, ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(pgPort), '-u', 'temporal', '--db', database, ...args]);
      await sql('create-database');
      await sql('setup-schema', '-v', '0.0');
      await sql('update-schema', '--schema-name', `postgresql/v12/${schema}`);
    }

    // temporal-server: every service in one process, on free ports.
    const [frontend, frontendHttp, history, matching, worker] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const [frontendMembership, historyMembership, matchingMembership, workerMembership] = (await membershipPorts(4)) as [number, number, number, number];
    cluster.address = `127.0.0.1:${frontend}`;
    cluster.serverRoot = join(scratch, 'temporal-server');
    mkdirSync(join(cluster.serverRoot, 'config'), { recursive: true });
    const datastore = (databaseName: string, maxConns: number): unknown => ({
      sql: { pluginName: 'postgres12', databaseName, connectAddr: `127.0.0.1:${pgPort}`, connectProtocol: 'tcp', user: 'temporal', password: '', maxConns, maxIdleConns: maxConns, maxConnLifetime: '1h' },
    });
    const rpc = (grpcPort: number, membershipPort: number, extra: Record<string, number> = {}): unknown => ({ rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra } });
    writeFileSync(
      join(cluster.serverRoot, 'config', 'cluster.yaml'),
      stringify({
        log: { stdout: true, level: 'warn' },
        persistence: { defaultStore: 'default', visibilityStore: 'visibility', numHistoryShards: 4, datastores: { default: datastore('temporal', 20), visibility: datastore('temporal_visibility', 10) } },
        global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
        services: {
          frontend: rpc(frontend, frontendMembership, { httpPort: frontendHttp }),
          history: rpc(history, historyMembership),
          matching: rpc(matching, matchingMembership),
          worker: rpc(worker, workerMembership),
        },
        clusterMetadata: {
          enableGlobalNamespace: false,
          failoverVersionIncrement: 10,
          masterClusterName: 'active',
          currentClusterName: 'active',
          clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: cluster.address } },
        },
        dcRedirectionPolicy: { policy: 'noop' },
      }),
    );
    await startServer();

    // The namespace, then ftpipe's search attributes by the script docker-compose.yml runs.
    await run(TEMPORAL_CLI, ['operator', 'namespace', 'create', '--address', cluster.address, '--namespace', NAMESPACE, '--retention', '24h']);
    const setup = await run('sh', [join(ROOT, 'scripts', 'temporal-setup.sh'), ...SEARCH_ATTRIBUTES.map(searchAttributeSpec)], {
      env: { ...process.env, TEMPORAL_ADDRESS: cluster.address, TEMPORAL_NAMESPACE: NAMESPACE, TEMPORAL_CLI },
    });
    assert.match(setup.stdout, /temporal-setup: namespace default has ftpipe's search attributes/);

    // The standalone Web UI server.
    const uiPort = await freePort();
    cluster.uiUrl = `http://127.0.0.1:${uiPort}`;
    const uiRoot = join(scratch, 'ui-server');
    mkdirSync(join(uiRoot, 'config'), { recursive: true });
    writeFileSync(join(uiRoot, 'config', 'cluster.yaml'), stringify({ temporalGrpcAddress: cluster.address, host: '127.0.0.1', port: uiPort, enableUi: true, defaultNamespace: NAMESPACE, cors: { allowOrigins: [cluster.uiUrl] } }));
    startService('ui-server', cluster.bin['ui-server']!, ['--root', uiRoot, '--config', 'config', '--env', 'cluster', 'start']);
    await until('the Web UI server', async () => ((await fetch(`${cluster.uiUrl}/api/v1/settings`)).ok ? true : undefined));

    // The emulator on a slow clock while the failures happen, ftpipe's client and two workers.
    cluster.emulator = await startEmulator({ clockScale: 20 });
    const { profiles, env } = emulatorProfiles(cluster.emulator);
    cluster.workerConfig = join(scratch, 'ftpipe.config.json');
    // The runs' training files are unique copies under the temporary directory.
    writeFileSync(cluster.workerConfig, JSON.stringify({ profiles, dataRoots: [ROOT, tmpdir()] }));
    cluster.workerEnv = env;
    cluster.taskQueue = `cluster-${process.pid}`;
    cluster.connection = await Connection.connect({ address: cluster.address });
    cluster.client = new Client({ connection: cluster.connection, namespace: NAMESPACE });
    await Promise.all([startWorker(), startWorker()]);
  });

  after(async () => {
    await cluster.connection?.close();
    for (const [i, worker] of (cluster.workers ?? []).entries()) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
      await worker.exited;
      writeFileSync(join(ARTIFACTS, `worker-${i + 1}.log`), worker.output());
    }
    await cluster.emulator?.stop();
    for (const service of services.reverse()) await stop(service);
    rmSync(scratch, { recursive: true, force: true });
  });

  it(`${RUNS} runs survive a worker SIGKILL and a server restart with one Azure job each; visibility and the Web UI find them`, async () => {
    const { client } = cluster;
    const suffix = Date.now().toString(36);
    const names = Array.from({ length: RUNS }, (_, i) => `cluster-${suffix}-${i}`);
    const handles: WorkflowHandle<typeof fineTunePipeline>[] = [];
    for (const [i, runName] of names.entries()) {
      const input: PipelineInputDraft = {
        runName,
        profile: EMULATOR_PROFILE,
        baseModel: 'gpt-4.1-mini',
        training: { path: uniqueTrainingFile() },
        validation: { path: SAMPLE_VALIDATION },
        seed: 100 + i,
        polling: FAST_POLLING,
        timeouts: TIMEOUTS,
      };
      handles.push(await client.workflow.start<typeof fineTunePipeline>(PIPELINE_WORKFLOW_TYPE, { taskQueue: cluster.taskQueue, workflowId: runName, args: [input] }));
    }

    // Every run has created its Azure job: kill one worker as a crashed machine would die, start a replacement.
    const status = (handle: WorkflowHandle): Promise<PipelineStatus> => handle.query(statusQuery);
    let stages: string[] = [];
    await until('every run to create its Azure job', async () => {
      const statuses = await Promise.all(handles.map(status));
      stages = statuses.map((s) => `${s.stage}${s.job?.id ? ` (${s.job.id})` : ''}`);
      const failed = statuses.find((s) => s.stage === 'failed');
      if (failed) throw new FatalError(`a run failed: ${JSON.stringify(failed.errors)}`);
      return statuses.every((s) => s.job?.id) ? true : undefined;
    }, 600).catch((err: Error) => {
      throw new Error(`${err.message}; stages: ${stages.join(', ')}`);
    });
    const [killed] = cluster.workers;
    killed!.child.kill('SIGKILL');
    await killed!.exited;
    await startWorker();

    // Restart the Temporal server while the runs train; workers and the client reconnect by themselves.
    await stop(cluster.server);
    await startServer();
    cluster.emulator.control.setClockScale(1000);

    const results = await Promise.all(handles.map((handle) => handle.result()));
    for (const [i, result] of results.entries()) {
      assert.equal(result.outcome, 'succeeded', `${names[i]}: ${JSON.stringify(result)}`);
      const jobs = jobsOfRun(cluster.emulator, names[i]!);
      assert.equal(jobs.length, 1, `${names[i]}: one Azure job, got ${jobs.length}`);
    }

    // Visibility on PostgreSQL: ftpipe's search attributes find the runs (visibility lags a moment behind the runs).
    // Completed: a run's earlier executions, continued as new, match the run name too.
    const query = `FtpipeRunName IN (${names.map((n) => `'${n}'`).join(', ')}) AND ExecutionStatus = 'Completed'`;
    const listed = await until('visibility to list the completed runs', async () => {
      const executions = [];
      for await (const execution of client.workflow.list({ query })) executions.push(execution);
      return executions.length === RUNS ? executions : undefined;
    }, 60, 1000);
    for (const execution of listed) {
      const name = execution.workflowId;
      assert.equal(execution.typedSearchAttributes.get(STAGE), 'completed', name);
      assert.equal(execution.typedSearchAttributes.get(JOB_ID), jobsOfRun(cluster.emulator, name)[0]!.id, name);
    }
    const completed = await client.workflow.count(`FtpipeProfile = '${EMULATOR_PROFILE}' AND TaskQueue = '${cluster.taskQueue}' AND ExecutionStatus = 'Completed'`);
    assert.equal(completed.count, RUNS);

    // The Web UI server's API answers from the same visibility store.
    const ui = (await (await fetch(`${cluster.uiUrl}/api/v1/namespaces/${NAMESPACE}/workflows?query=${encodeURIComponent(query)}`)).json()) as { executions?: { execution: { workflowId: string } }[] };
    assert.deepEqual(ui.executions?.map((e) => e.execution.workflowId).sort(), [...names].sort());
    const attributes = (await (await fetch(`${cluster.uiUrl}/api/v1/namespaces/${NAMESPACE}/search-attributes`)).json()) as { customAttributes: Record<string, string> };
    for (const key of SEARCH_ATTRIBUTES) assert.equal(attributes.customAttributes[key.name], `INDEXED_VALUE_TYPE_${searchAttributeTypeName(key).toUpperCase()}`, key.name);
  });
});
